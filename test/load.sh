#!/usr/bin/env bash
# sudo make load: the setup rate pppoed achieves against the rate offered.
#
# For each offered rate, a fresh lab of two network namespaces joined by a
# veth pair: pppoed (TUN mode, PAP against chap-secrets) in one, `pppoed
# client -n COUNT --rate RATE -q` in the other. The client paces its PADIs
# at the rate, retransmits with exponential backoff and prints its load
# report; this prints one table row per rate, with the server's queue drops
# from `pppoed show stat`. Nothing leaves the lab; it is removed after each
# row. Not a timed test: the figures depend on the machine.
#
#   RATES   offered sessions/s (default "1000 2000 5000 10000 20000")
#   COUNT   sessions per run (default 10000)
#   SERVER  the pppoed binary to measure (default: the client's binary), so
#           an older build can be compared with the same client
set -euo pipefail

bin=$(readlink -f "${1:-./pppoed}")
server=$(readlink -f "${SERVER:-$bin}")
rates=${RATES:-1000 2000 5000 10000 20000}
count=${COUNT:-10000}

if [[ $(id -u) != 0 ]]; then
	echo "load: run it as root (sudo make load): it creates network namespaces" >&2
	exit 1
fi
PATH=$PATH:/usr/sbin:/sbin
command -v ip >/dev/null || { echo "load: ip is missing" >&2; exit 1; }

id=$$
ac=load-ac-$id
cl=load-cl-$id
tmp=$(mktemp -d)
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
	ip netns del "$cl" 2>/dev/null || true
	ip netns del "$ac" 2>/dev/null || true
}
trap 'cleanup; rm -rf "$tmp"' EXIT

# No ip-up or ip-down: Debian's /etc/ppp/ip-up forks run-parts per
# session, which would measure fork and exec, not pppoed.
printf 'require-pap\nip-up-script /nonexistent\nip-down-script /nonexistent\n' >"$tmp/options"
printf 'load * pw *\n' >"$tmp/chap-secrets"
chmod 600 "$tmp/chap-secrets"

echo "server: $server, client: $bin, $count sessions per run, $(nproc) CPUs"
echo
echo "| offered/s | achieved/s | up | failed | retransmitted PADI/PADR/LCP+IPCP/auth | client rx dropped | server queue drops | server CPU per session |"
echo "|---:|---:|---:|---:|---|---:|---:|---:|"
for rate in $rates; do
	cleanup
	ip netns add "$ac"
	ip netns add "$cl"
	ip link add eth0 netns "$ac" type veth peer name eth0 netns "$cl"
	ip -n "$ac" link set eth0 up
	ip -n "$cl" link set eth0 up
	ip -n "$ac" link set lo up
	ip -n "$cl" link set lo up
	sock=$tmp/pppoed.sock
	ip netns exec "$ac" "$server" -I eth0 -L 10.0.0.1 -R 10.1.0.0 -N "$((count + 10))" \
		-O "$tmp/options" --chap-secrets "$tmp/chap-secrets" --pap-secrets "$tmp/none" \
		--ctl-socket "$sock" --tun-name load0 >"$tmp/server.log" 2>&1 &
	spid=$!
	pids+=("$spid")
	for _ in $(seq 100); do grep -q 'msg=listening' "$tmp/server.log" && break; sleep 0.1; done
	grep -q 'msg=listening' "$tmp/server.log" || { echo "load: pppoed did not start:" >&2; cat "$tmp/server.log" >&2; exit 1; }
	# The daemon's own pid (ip netns exec execs it).
	cpu0=$(awk '{print $14 + $15}' "/proc/$spid/stat")
	# The client keeps its sessions until told: the server's CPU time and
	# counters are read once all are up (or failed), before the hang-up.
	ip netns exec "$cl" timeout 150 "$bin" client -I eth0 -u load -p pw --auth pap -n "$count" --rate "$rate" -q \
		--timeout 90s >"$tmp/client.log" 2>&1 &
	cpid=$!
	pids+=("$cpid")
	for _ in $(seq 1200); do grep -q '^load: offered' "$tmp/client.log" && break; sleep 0.1; done
	cpu1=$(awk '{print $14 + $15}' "/proc/$spid/stat")
	qfull=$(ip netns exec "$ac" "$bin" show stat --json --ctl-socket "$sock" 2>/dev/null |
		tr ',{}' '\n\n\n' | sed -n 's/.*"rx_queue_full": *\([0-9]*\).*/\1/p' | head -1)
	kill "$cpid" 2>/dev/null || true
	wait "$cpid" 2>/dev/null || true
	load=$(grep '^load: offered' "$tmp/client.log" || true)
	if [[ -z $load ]]; then
		echo "load: the client printed no report:" >&2
		cat "$tmp/client.log" >&2
		exit 1
	fi
	# load: offered R sessions/s, achieved A sessions/s, U up, F failed; retransmitted: PADI a, PADR b, LCP/IPCP c, auth d; rx dropped: queue q, socket s
	read -r achieved up failed pa pr cp au q s < <(sed -E 's/.*achieved ([0-9.]+) sessions\/s, ([0-9]+) up, ([0-9]+) failed; retransmitted: PADI ([0-9]+), PADR ([0-9]+), LCP\/IPCP ([0-9]+), auth ([0-9]+); rx dropped: queue ([0-9]+), socket ([0-9]+).*/\1 \2 \3 \4 \5 \6 \7 \8 \9/' <<<"$load")
	cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" -v n="$up" 'BEGIN{if (n > 0) printf "%.0f µs", (b-a)/hz/n*1e6; else print "-"}')
	echo "| $rate | $achieved | $up | $failed | $pa/$pr/$cp/$au | $((q + s)) | ${qfull:-?} | $cpu |"
	grep '^load: failed' "$tmp/client.log" | sed 's/^/    /' >&2 || true
	cp "$tmp/server.log" "$tmp/client.log" "${KEEP:-/nonexistent}/" 2>/dev/null || true
done
