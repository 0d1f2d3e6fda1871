#!/bin/bash
# scale.sh runs inside the VM (test/vm/run.sh -f): COUNT sessions from one
# `pppoed client` (PAP, paced at RATE a second) against pppoed -k in netns
# srv, joined by the veth pair vs/vc. It prints
#
#   SCALE sessions_per_s <setup rate, from the client's load report>
#   SCALE rss_kib_before <pppoed's VmRSS listening> rss_kib_after <COUNT up for HOLD s>
#   SCALE rss_per_session_kib <(after - before) / COUNT>
#   SCALE flaps <sessions that ended while HOLD seconds passed with all up>
#   SCALE teardown_s <from the client's hang-up to no session and no pppN left>
#
# and exits 1 if not all came up, any flapped, or teardown did not finish.
#
# Env: COUNT (1000), RATE (200), HOLD (30), AC (default /mnt/host/pppoed),
# CLIENT (default /mnt/host/pppoed). AC must take pppoed's flags.
set -u
COUNT=${COUNT:-1000}
RATE=${RATE:-200}
HOLD=${HOLD:-30}
AC=${AC:-/mnt/host/pppoed}
CLIENT=${CLIENT:-/mnt/host/pppoed}
t0=$(cut -d' ' -f1 /proc/uptime)
now() { awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN {printf "%.1f", b - a}'; }
secs() { cut -d' ' -f1 /proc/uptime; }
step() { echo "== [+$(now)s] $*"; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
ppp_count() { ip -n srv -o link show 2>/dev/null | grep -cE '^[0-9]+: ppp[0-9]+'; }
ended() { grep -c 'msg="session ended"' /tmp/ac.log; }
heap() { ip netns exec srv "$CLIENT" show stat --json --ctl-socket /tmp/scale.sock | tr ',' '\n' | sed -n 's/.*"go_heap_bytes": *\([0-9]*\).*/\1/p'; }

step "kernel $(uname -r); $COUNT sessions at $RATE/s against $AC -k"
modprobe pppoe
ip netns add srv
ip netns add cli
ip link add vs type veth peer name vc
ip link set vs netns srv
ip link set vc netns cli
for n in srv cli; do ip -n $n link set lo up; done
ip -n srv link set vs up
ip -n cli link set vc up
printf 'require-pap\nlcp-echo-interval 10\nlcp-echo-failure 3\nip-up-script /nonexistent\nip-down-script /nonexistent\n' >/tmp/scale-options
printf 'load * pw *\n' >/tmp/scale-secrets
chmod 600 /tmp/scale-secrets

ip netns exec srv "$AC" -k -I vs -L 10.67.0.1 -R 10.68.0.0 -N $((COUNT + 10)) -O /tmp/scale-options \
	--chap-secrets /tmp/scale-secrets --pap-secrets /tmp/none --ctl-socket /tmp/scale.sock >/tmp/ac.log 2>&1 &
ac=$!
for _ in $(seq 300); do grep -q 'msg=listening' /tmp/ac.log && break; sleep 0.1; done
grep -q 'msg=listening' /tmp/ac.log || { cat /tmp/ac.log; echo "FAIL the AC did not start"; exit 1; }
sleep 1
before=$(rss $ac)
grep -E 'RssAnon|RssFile|Threads' /proc/$ac/status | tr -s ' \t' ' ' | sed 's/^/SCALE before /'
echo "SCALE go_heap_kib_before $(($(heap) / 1024))"

step "dialling"
ip netns exec cli "$CLIENT" client -I vc -u load -p pw --auth pap -n "$COUNT" --rate "$RATE" -q --timeout 1200s >/tmp/cli.log 2>&1 &
cl=$!
until grep -q '^load: offered' /tmp/cli.log; do
	kill -0 $cl 2>/dev/null || break
	sleep 1
done
cat /tmp/cli.log
report() {
	echo "AC: $(grep -c 'msg="session started"' /tmp/ac.log) sessions started from $(grep 'msg="session started"' /tmp/ac.log | grep -o 'mac=[0-9a-f:]*' | sort -u | wc -l) MACs, $(grep -c 'msg="session up"' /tmp/ac.log) up; ended by reason:"
	grep 'msg="session ended"' /tmp/ac.log | grep -o 'reason="[^"]*"' | sort | uniq -c
	grep -v 'msg="session \(started\|up\|ended\)"\|msg=authenticated' /tmp/ac.log | tail -20
}
status=0
up=$(sed -nE 's/^summary: ([0-9]+) of .*/\1/p' /tmp/cli.log)
if [[ $up != "$COUNT" ]]; then
	# Measured all the same, over the sessions that are up.
	echo "FAIL not all sessions came up"
	report
	status=1
	((${up:-0} > 0)) || exit 1
fi
rate=$(sed -nE 's/^load: offered .*, achieved ([0-9.]+) sessions\/s.*/\1/p' /tmp/cli.log)
echo "SCALE sessions_per_s $rate"
step "holding $COUNT sessions for ${HOLD}s"
e0=$(ended)
sleep "$HOLD"
flaps=$(($(ended) - e0))
echo "SCALE flaps $flaps"
# Memory in the steady state, all sessions up for HOLD seconds.
after=$(rss $ac)
echo "SCALE go_heap_kib $(($(heap) / 1024))"
grep -E 'RssAnon|RssFile|Threads' /proc/$ac/status | tr -s ' \t' ' ' | sed 's/^/SCALE /'
echo "SCALE rss_kib_before $before rss_kib_after $after"
awk -v a="$before" -v b="$after" -v n="$up" 'BEGIN {printf "SCALE rss_per_session_kib %.2f\n", (b - a) / n}'

step "hanging up"
start=$(secs)
kill -TERM $cl
done_ok=0
deadline=$(awk -v a="$start" 'BEGIN {print int(a) + 300}')
while (($(cut -d. -f1 /proc/uptime) < deadline)); do
	if (($(ended) >= e0 + up)) && (($(ppp_count) == 0)); then
		done_ok=1
		break
	fi
	sleep 0.1
done
awk -v a="$start" -v b="$(secs)" 'BEGIN {printf "SCALE teardown_s %.1f\n", b - a}'
# The AC's own view: its first and last "session ended" line of the hang-up.
grep 'msg="session ended"' /tmp/ac.log | tail -n "$up" | sed -nE 's/^time=[0-9-]+T([0-9]+):([0-9]+):([0-9.]+)Z.*/\1 \2 \3/p' |
	awk 'NR == 1 {a = $1 * 3600 + $2 * 60 + $3} {b = $1 * 3600 + $2 * 60 + $3} END {printf "SCALE teardown_ac_log_s %.1f\n", b - a}'
wait $cl 2>/dev/null
kill -TERM $ac
wait $ac
((done_ok)) || { echo "FAIL teardown: $(ended) ended, $(ppp_count) pppN left"; status=1; }
((flaps == 0)) || { echo "FAIL $flaps sessions flapped"; status=1; }
exit $status
