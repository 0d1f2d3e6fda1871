#!/usr/bin/env bash
# Throughput over one PPPoE session in the VM, for pppoed in kernel mode,
# pppoed in TUN mode and rp-pppoe's kernel-mode pppoe-server, in one boot,
# each against Debian's pppd, with iperf3 both ways (CHAP, 5 s each way).
# Prints "IPERF <ac> upload|download <n> Mbit/s" lines and the ratios to
# rp-pppoe. Run as root from the repository: test/vm/throughput.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$dir/pppoed" .
cp test/vm/scenarios/kernel-mode.sh "$dir/"
common='-I vs -L 10.67.0.1 -R 10.67.0.100 -N 8 -O /etc/ppp/pppoe-server-options'
cat >"$dir/driver.sh" <<EOT
set -u
run() { # name ac_cmd
	AUTH=chap IPERF=1 AC_CMD="\$2" bash /mnt/host/kernel-mode.sh 2>&1 | grep '^IPERF' | sed "s/^IPERF chap/IPERF \$1/"
}
run pppoed-kernel "/mnt/host/pppoed -k $common --chap-secrets /etc/ppp/chap-secrets"
run pppoed-tun "/mnt/host/pppoed --tun $common --chap-secrets /etc/ppp/chap-secrets"
run rp-pppoe-kernel "pppoe-server-k -k -F $common"
EOT
test/vm/build.sh >/dev/null
test/vm/run.sh -s "$dir" -t 900 -f "$dir/driver.sh" | tee "$dir/out"
awk '/^IPERF/ {v[$2" "$3] = $4} END {
	for (d in v) split(d, k, " ");
	n = split("upload download", dirs, " ");
	for (i = 1; i <= n; i++) { b = v["rp-pppoe-kernel " dirs[i]]; if (b > 0)
		printf "RATIO %s: pppoed kernel %.2f, pppoed tun %.2f of rp-pppoe kernel mode\n", dirs[i], v["pppoed-kernel " dirs[i]] / b, v["pppoed-tun " dirs[i]] / b }
}' "$dir/out"
