#!/usr/bin/env bash
# sudo make demo: a throwaway lab that shows pppoed answering real PPPoE
# clients. It builds nothing itself (make demo builds ./pppoed first),
# creates two network namespaces joined by a veth pair, runs pppoed with the
# classic rp-pppoe command line on one side and Debian's own PPPoE clients
# on the other, and removes everything it made on the way out.
set -euo pipefail

bin=$(readlink -f "${1:-./pppoed}")
here=$(cd "$(dirname "$0")" && pwd)

if [[ $(id -u) != 0 ]]; then
	echo "demo: run it as root (sudo make demo): it creates network namespaces" >&2
	exit 1
fi
"$here/deps.sh" >/dev/null
for t in ip pppoe-discovery pppoe; do
	command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
	command -v "$t" >/dev/null || { echo "demo: $t is missing" >&2; exit 1; }
done

id=$$
ac=demo-ac-$id
cl=demo-client-$id
tmp=$(mktemp -d)
pid=

cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	ip netns del "$ac" 2>/dev/null || true
	ip netns del "$cl" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

bold=$(tput bold 2>/dev/null || true)
dim=$(tput dim 2>/dev/null || true)
reset=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
show() { sed "s/^/    /"; }

step "A lab: namespace $ac (the access concentrator) and $cl (a subscriber), joined by a veth pair"
ip netns add "$ac"
ip netns add "$cl"
ip link add lan0 netns "$ac" type veth peer name wan0 netns "$cl"
ip -n "$ac" link set lan0 up
ip -n "$cl" link set wan0 up

step "The seed's files from the rp-pppoe recipe, in $tmp"
cat >"$tmp/pppoe-server-options" <<EOT
require-pap
require-chap
login
lcp-echo-interval 10
lcp-echo-failure 2
logfile $tmp/pppoe.log
ms-dns 218.108.248.200
ms-dns 8.8.4.4
defaultroute
EOT
printf 'rp-pppoe * rp-pppoe *\n' >"$tmp/chap-secrets"
echo "${dim}pppoe-server-options:${reset}"; show <"$tmp/pppoe-server-options"
echo "${dim}chap-secrets:${reset}"; show <"$tmp/chap-secrets"

cmd=(pppoed -I lan0 -L 10.0.0.1 -R 10.0.0.2 -N 64 -C demo-AC -S internet -O "$tmp/pppoe-server-options")
step "Starting: ${cmd[*]}"
ip netns exec "$ac" "$bin" "${cmd[@]:1}" 2>"$tmp/stderr" &
pid=$!
for _ in $(seq 50); do
	grep -q "msg=listening" "$tmp/stderr" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/stderr"; exit 1; }
	sleep 0.1
done
grep -v "level=DEBUG" "$tmp/stderr" | show

step "The subscriber looks for access concentrators: pppoe-discovery -I wan0"
ip netns exec "$cl" pppoe-discovery -I wan0 -t 1 -a 2 | show

step "rp-pppoe's client asks for the \"internet\" service and opens a session: pppoe -d -S internet"
sess=$(ip netns exec "$cl" pppoe -I wan0 -d -S internet -U | tail -n 1)
echo "    session ID and concentrator MAC: $sess"

step "The subscriber hangs up with a PADT: pppoe -k -e $sess"
ip netns exec "$cl" pppoe -I wan0 -k -e "$sess"
sleep 0.3

step "What pppoed logged (also in the options file's logfile, $tmp/pppoe.log)"
grep -E 'session (started|ended)' "$tmp/stderr" | show

step "Stopping pppoed with SIGTERM"
kill "$pid"
wait "$pid" && echo "    pppoed exited with status 0"
pid=

step "Removing the lab"
cleanup
trap - EXIT
echo "    done: no namespaces, links or files left behind"
echo
echo "${dim}PPP itself (LCP, CHAP, IPCP) and NAT to a WAN join this demo as pppoed grows.${reset}"
