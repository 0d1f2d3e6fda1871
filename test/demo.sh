#!/usr/bin/env bash
# sudo make demo: the classic rp-pppoe recipe, end to end, in a throwaway
# lab. Three network namespaces: a subscriber, the access concentrator and
# a WAN host at 192.0.2.2 (a documentation address). The seed's options and
# chap-secrets files, verbatim; the seed's command line plus --nat-out;
# a CHAP login as rp-pppoe/rp-pppoe; a page fetched through NAT. Everything
# it creates is removed on the way out, and no traffic leaves the lab.
set -euo pipefail

bin=$(readlink -f "${1:-./pppoed}")
here=$(cd "$(dirname "$0")" && pwd)

if [[ $(id -u) != 0 ]]; then
	echo "demo: run it as root (sudo make demo): it creates network namespaces" >&2
	exit 1
fi
"$here/deps.sh" >/dev/null
PATH=$PATH:/usr/sbin:/sbin
for t in ip curl; do
	command -v "$t" >/dev/null || { echo "demo: $t is missing" >&2; exit 1; }
done
py=/usr/bin/python3

id=$$
ac=demo-ac-$id
cl=demo-client-$id
wan=demo-wan-$id
tmp=$(mktemp -d)
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
	ip netns del "$cl" 2>/dev/null || true
	ip netns del "$ac" 2>/dev/null || true
	ip netns del "$wan" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

bold=$(tput bold 2>/dev/null || true)
dim=$(tput dim 2>/dev/null || true)
reset=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
show() { sed "s/^/    /"; }
wait_for() { # file pattern
	for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "demo: timed out waiting for '$2'" >&2; cat "$1" >&2; return 1
}

step "A lab of three namespaces: $cl (subscriber) -- $ac (access concentrator) -- $wan (the internet)"
ip netns add "$cl"; ip netns add "$ac"; ip netns add "$wan"
ip link add eth0 netns "$ac" type veth peer name wan0 netns "$cl"
ip link add eth1 netns "$ac" type veth peer name eth0 netns "$wan"
ip -n "$ac" link set eth0 up
ip -n "$ac" addr add 192.0.2.1/24 dev eth1
ip -n "$ac" link set eth1 up
ip -n "$cl" link set wan0 up
ip -n "$wan" addr add 192.0.2.2/24 dev eth0
ip -n "$wan" link set eth0 up
for n in "$cl" "$ac" "$wan"; do ip -n "$n" link set lo up; done
echo "    LAN eth0 (PPPoE)  |  WAN eth1 192.0.2.1  |  WAN host 192.0.2.2 (no route back to 10.0.0.0/8)"

step "The seed's files from the rp-pppoe recipe, verbatim (only the logfile lives in $tmp)"
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
echo "${dim}/etc/ppp/pppoe-server-options:${reset}"; show <"$tmp/pppoe-server-options"
echo "${dim}/etc/ppp/chap-secrets:${reset}"; show <"$tmp/chap-secrets"

step "A web server on the WAN host"
mkdir "$tmp/www"
echo "Hello from the WAN host 192.0.2.2: you reached the internet through pppoed." >"$tmp/www/index.html"
ip netns exec "$wan" "$py" -m http.server 80 --bind 192.0.2.2 --directory "$tmp/www" >"$tmp/http.log" 2>&1 &
pids+=($!)
echo "    http://192.0.2.2/"

cmd=(pppoed -I eth0 -L 10.0.0.1 -R 10.0.0.2 -N 64 --nat-out eth1)
step "Starting: ${cmd[*]}"
echo "${dim}    (with -O and --chap-secrets pointing at the files above; no echo > ip_forward, no iptables by hand)${reset}"
ip netns exec "$ac" "$bin" "${cmd[@]:1}" -O "$tmp/pppoe-server-options" --chap-secrets "$tmp/chap-secrets" \
	--pap-secrets "$tmp/pap-secrets" --nat-state-file "$tmp/nat.state" 2>"$tmp/stderr" &
pids+=($!)
acpid=$!
wait_for "$tmp/stderr" "msg=listening"
grep -v "level=DEBUG" "$tmp/stderr" | show
echo "${dim}    ip_forward is now $(ip netns exec "$ac" cat /proc/sys/net/ipv4/ip_forward); the NAT rules pppoed added:${reset}"
ip netns exec "$ac" nft list table inet pppoed 2>/dev/null | show || ip netns exec "$ac" iptables -t nat -S | show

step "The subscriber dials with CHAP as rp-pppoe/rp-pppoe: pppoed client -I wan0 -u rp-pppoe -p rp-pppoe --tun --default-route"
ip netns exec "$cl" "$bin" client -I wan0 -u rp-pppoe -p rp-pppoe --tun --default-route >"$tmp/client.log" 2>&1 &
pids+=($!)
wait_for "$tmp/client.log" "summary:"
sed -E 's/session 0 up: .* ip=([^ ]+) peer=([^ ]+) dns=([^, ]+),?(.*)/address \1, server \2, DNS \3 and \4/' "$tmp/client.log" | show
grep -E 'msg=(authenticated|"session up")' "$tmp/stderr" | show

step "Fetching http://192.0.2.2/ from the subscriber, through the session and NAT"
ip netns exec "$cl" curl -sS --max-time 10 http://192.0.2.2/ | show
echo "${dim}    the WAN host saw the request come from:${reset}"
sleep 0.2
grep "GET /" "$tmp/http.log" | awk '{print "    " $1 "  (the concentrator'"'"'s WAN address, not 10.0.0.2)"}'

step "Tearing down: SIGTERM to pppoed"
kill "$acpid"
wait "$acpid" 2>/dev/null && echo "    pppoed exited with status 0"
grep -E 'session ended|NAT removed' "$tmp/stderr" | show
echo "    ip_forward is back to $(ip netns exec "$ac" cat /proc/sys/net/ipv4/ip_forward); pppoed's rules left: $(ip netns exec "$ac" nft list ruleset | grep -c pppoed || true)"

step "Removing the lab"
cleanup
trap - EXIT
echo "    done: no namespaces, links, processes or files left behind"
