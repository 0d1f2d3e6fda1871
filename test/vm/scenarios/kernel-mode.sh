#!/bin/bash
# kernel-mode.sh runs inside the VM (test/vm/run.sh -f): an access
# concentrator in netns srv against Debian's pppd in netns cli, joined by
# the veth pair vs/vc, for each authentication method in AUTH.
#
#   test/vm/run.sh -s DIR_WITH_PPPOED -f test/vm/scenarios/kernel-mode.sh
#   test/vm/run.sh -e AUTH=pap -e IPERF=1 -e AC_CMD='pppoe-server-k -k -F -I vs ...' -f ...
#
# Env:
#   AUTH     methods to run, each with a fresh AC: chap, pap, mschapv2
#            (default all three)
#   AC_CMD   the AC, run in the foreground by bash in srv (default: pppoed
#            -k from /mnt/host). A program named pppoe-server* is taken for
#            rp-pppoe's, whose pppd logs to /tmp/ac-pppd.log; for pppoed
#            the check waits for msg=listening and reads msg="session ended".
#   IPERF=1  iperf3 over the session both ways, printed as
#            "IPERF <auth> upload|download <n> Mbit/s"
#   UP_TIMEOUT  seconds for a session to come up (default 20)
#   POOL     the size of AC_CMD's address pool (default 8)
#   ACCOUNTING=0  skip the accounting checks (counters and -T), which run
#            once after the methods, for pppoed only
#   RATELIMIT=0   skip the rate limit checks (tc on pppN, set rate), which
#            run once after those
#
# Each check prints "PASS <auth>/<name>" or "FAIL <auth>/<name>: <why>";
# the script exits 1 if any failed.
set -u
AUTH=${AUTH:-chap pap mschapv2}
AC_CMD=${AC_CMD:-/mnt/host/pppoed -k -I vs -L 10.67.0.1 -R 10.67.0.100 -N 8 -O /etc/ppp/pppoe-server-options --chap-secrets /etc/ppp/chap-secrets}
UP_TIMEOUT=${UP_TIMEOUT:-20}
POOL=${POOL:-8} # the -N of AC_CMD
LOCAL=10.67.0.1 FIRST=10.67.0.100
# end_limit: seconds from a client's death to the AC's log line; gone_limit:
# from then to its pppN's removal. rp-pppoe's server runs a pppd per
# session, whose echo timer may take an interval more than pppoed's
# interval x failure + 1 and which then sends Terminate-Requests for 6 s.
case ${AC_CMD%% *} in
*pppoe-server*) rp=1 end_re='No response to [0-9]+ echo-requests' end_limit=8 gone_limit=10 ;;
*) rp='' end_re='msg="session ended"' end_limit=5 gone_limit=2 ;;
esac

failed=0 auth=
pass() { echo "PASS $auth/$1"; }
fail() { echo "FAIL $auth/$1: $2"; failed=$((failed + 1)); }
t0=$(cut -d' ' -f1 /proc/uptime)
now() { awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN {printf "%.1f", b - a}'; }
step() { echo "== [+$(now)s] $*"; }
# ms prints the uptime in milliseconds (busybox date has no %N).
ms() {
	local u
	read -r u _ </proc/uptime
	echo $((${u%.*} * 1000 + 10#${u#*.} * 10))
}
# waitfor SECS CMD...: poll CMD every 0.1 s; the status says whether it came true.
waitfor() {
	local end=$(($(ms) + $1 * 1000))
	shift
	until "$@"; do
		(($(ms) < end)) || return 1
		sleep 0.1
	done
}
cli_addr() { ip -n cli -4 -o addr show dev "$1" 2>/dev/null | awk '$3 == "inet" {print $4, $6}'; }
has_addr() { [[ -n $(cli_addr "$1") ]]; }
srv_ppp() { ip -n srv -o link show 2>/dev/null | grep -oE '^[0-9]+: ppp[0-9]+' | cut -d' ' -f2; }
no_srv_ppp() { [[ -z $(srv_ppp) ]]; }
ac_ends() { grep -Ec -- "$end_re" /tmp/ac.log /tmp/ac-pppd.log 2>/dev/null | awk -F: '{n += $2} END {print n + 0}'; }
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }

# client NAME UNIT PASSWORD [pppd options]: start pppd in cli in the
# background; its pid lands in pid_NAME and its log in /tmp/cli-NAME.log.
# The refuse-* options make it do exactly $auth.
client() {
	local name=$1 unit=$2 pw=$3
	shift 3
	local refuse=(refuse-pap refuse-chap refuse-mschap refuse-mschap-v2 refuse-eap)
	case $auth in
	pap) unset 'refuse[0]' ;;
	chap) unset 'refuse[1]' ;;
	mschapv2) unset 'refuse[3]' ;;
	esac
	: >"/tmp/cli-$name.log"
	ip netns exec cli pppd "$@" user "${CLIENT_USER:-alice}" password "$pw" "${refuse[@]}" unit "$unit" \
		noauth noipdefault usepeerdns nodefaultroute nodetach maxfail 1 \
		debug logfile "/tmp/cli-$name.log" >/dev/null 2>&1 &
	printf -v "pid_$name" %s $!
}
kernel_client() { client "$1" "$2" "$3" plugin rp-pppoe.so vc; }

dump_logs() {
	local f
	for f in /tmp/ac.log /tmp/ac-pppd.log /tmp/cli-*.log; do
		[[ -s $f ]] || continue
		echo "--- $f"
		grep -v 'password\|secret' "$f" | tail -40
	done
}

step "kernel $(uname -r); AC: $AC_CMD"
ip netns add srv
ip netns add cli
ip link add vs type veth peer name vc
ip link set vs netns srv
ip link set vc netns cli
for n in srv cli; do ip -n $n link set lo up; done
ip -n srv link set vs up
ip -n cli link set vc up
echo 'alice * s3cret *' >/etc/ppp/chap-secrets
# pppd as a server checks PAP against pap-secrets only; pppoed reads
# chap-secrets too, and that is what it is tested with.
[[ -n $rp ]] && cp /etc/ppp/chap-secrets /etc/ppp/pap-secrets
chmod 600 /etc/ppp/*-secrets

run_auth() {
	auth=$1
	local fails_before=$failed require
	case $auth in
	pap) require='require-pap' ;;
	chap) require='require-chap' ;;
	mschapv2) require='require-mschap-v2' ;;
	*) fail setup "AUTH must be pap, chap or mschapv2"; return ;;
	esac
	printf '%s\n' "$require" 'lcp-echo-interval 2' 'lcp-echo-failure 2' 'ms-dns 192.0.2.53' 'ms-dns 192.0.2.54' \
		>/etc/ppp/pppoe-server-options
	[[ -n $rp ]] && printf 'debug\nlogfile /tmp/ac-pppd.log\n' >>/etc/ppp/pppoe-server-options
	rm -f /tmp/ac.log /tmp/ac-pppd.log /tmp/cli-*.log /etc/ppp/resolv.conf

	step "$auth: start the AC in srv"
	ip netns exec srv bash -c "exec $AC_CMD" >/tmp/ac.log 2>&1 &
	local ac=$!
	if [[ -n $rp ]]; then
		sleep 0.5
		alive $ac
	else
		waitfor 10 grep -q 'msg=listening' /tmp/ac.log
	fi || {
		fail ac-start "the AC is not running or never logged msg=listening"
		dump_logs
		{ kill -9 $ac && wait; } 2>/dev/null
		return
	}

	step "$auth: kernel-mode pppd (rp-pppoe.so) in cli"
	kernel_client a 0 s3cret
	if ! waitfor "$UP_TIMEOUT" has_addr ppp0; then
		fail session-up "no address on ppp0 within ${UP_TIMEOUT}s"
		dump_logs
		{ kill -9 "$pid_a" $ac && wait; } 2>/dev/null
		return
	fi
	pass session-up
	local got
	got=$(cli_addr ppp0)
	[[ $got == "$FIRST $LOCAL/32" ]] && pass address || fail address "ppp0 has '$got', want '$FIRST $LOCAL/32'"
	waitfor 3 grep -q 192.0.2.54 /etc/ppp/resolv.conf
	got=$(awk '/^nameserver/ {printf "%s ", $2}' /etc/ppp/resolv.conf 2>/dev/null)
	[[ $got == "192.0.2.53 192.0.2.54 " ]] && pass dns || fail dns "usepeerdns wrote '$got', want '192.0.2.53 192.0.2.54 '"
	got=$(srv_ppp)
	[[ -n $got ]] && pass srv-ppp-interface || fail srv-ppp-interface "no pppN in srv"
	ip netns exec cli ping -q -c 2 -w 5 $LOCAL >/dev/null && pass ping-cli-to-srv || fail ping-cli-to-srv "no reply from $LOCAL"
	ip netns exec srv ping -q -c 2 -w 5 $FIRST >/dev/null && pass ping-srv-to-cli || fail ping-srv-to-cli "no reply from $FIRST"
	got=$(ip netns exec srv cat /proc/net/pppoe 2>/dev/null | awk 'NR > 1 && $3 == "vs"')
	[[ -n $got ]] && pass proc-net-pppoe || fail proc-net-pppoe "no session on vs in srv's /proc/net/pppoe"

	if [[ ${IPERF:-0} == 1 ]]; then
		step "$auth: iperf3 over the session, 5 s each way"
		ip netns exec srv iperf3 -s -B $LOCAL -D -I /run/iperf3.pid
		sleep 0.5
		local dir flag
		for dir in upload download; do
			flag=
			[[ $dir == download ]] && flag=-R
			got=$(ip netns exec cli iperf3 -c $LOCAL -t 5 -f m $flag | awk '/receiver/ {for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i}')
			if [[ -n $got ]]; then echo "IPERF $auth $dir $got Mbit/s"; else fail "iperf-$dir" "no result"; fi
		done
		kill "$(cat /run/iperf3.pid)" 2>/dev/null
	fi

	# With the pool full, the fresh pppd after the kill can only get the
	# dead client's address, whichever free address the AC hands out first.
	step "$auth: fill the pool: $((POOL - 1)) more kernel-mode pppds"
	local i v fillers=()
	for ((i = 1; i < POOL; i++)); do
		kernel_client "f$i" $((10 + i)) s3cret
		v=pid_f$i
		fillers+=("${!v}")
	done
	all_up() { for ((i = 1; i < POOL; i++)); do has_addr ppp$((10 + i)) || return 1; done; }
	waitfor "$UP_TIMEOUT" all_up && pass pool-full || fail pool-full "not all of ppp11..ppp$((10 + POOL - 1)) have an address"

	step "$auth: kill -9 the first client; the AC must end its session within ${end_limit}s"
	local ends t
	ends=$(ac_ends)
	t=$(ms)
	{ kill -9 "$pid_a" && wait "$pid_a"; } 2>/dev/null
	if waitfor $end_limit eval '(($(ac_ends) > ends))'; then
		pass dead-peer
		echo "   after $(($(ms) - t)) ms: $(grep -Eh -- "$end_re" /tmp/ac.log /tmp/ac-pppd.log 2>/dev/null | tail -1 | grep -oE 'reason=("[^"]*"|[^ ]*)|No response.*')"
	else
		fail dead-peer "no '$end_re' within ${end_limit}s of the kill"
	fi
	waitfor $gone_limit eval '(($(srv_ppp | wc -l) < POOL))' && pass srv-ppp-removed ||
		fail srv-ppp-removed "srv still has $(srv_ppp | wc -l) ppp interfaces"

	step "$auth: a fresh kernel-mode pppd gets $FIRST again"
	kernel_client b 0 s3cret
	if waitfor "$UP_TIMEOUT" has_addr ppp0; then
		got=$(cli_addr ppp0)
		[[ ${got%% *} == "$FIRST" ]] && pass address-reused || fail address-reused "ppp0 has '$got', want $FIRST"
	else
		fail address-reused "no address on ppp0 within ${UP_TIMEOUT}s"
	fi
	kill "${fillers[@]}"
	for v in "${fillers[@]}"; do waitfor 10 dead "$v" || { fail fillers-exit "pppd $v still runs 10 s after SIGTERM"; kill -9 "$v"; }; done

	step "$auth: user-mode rp-pppoe client (pppd pty \"pppoe -I vc\") as a second session"
	client c 1 s3cret pty "pppoe -I vc -T 80" noaccomp nopcomp default-asyncmap novj mtu 1492 mru 1492
	if waitfor "$UP_TIMEOUT" has_addr ppp1; then
		got=$(cli_addr ppp1)
		ip netns exec cli ping -q -c 2 -w 5 -I ppp1 $LOCAL >/dev/null &&
			pass user-mode-client || fail user-mode-client "got '$got' but no ping reply from $LOCAL"
	else
		fail user-mode-client "no address on ppp1 within ${UP_TIMEOUT}s"
	fi

	step "$auth: a wrong password"
	kernel_client d 2 wrong
	if waitfor "$UP_TIMEOUT" dead "$pid_d"; then
		wait "$pid_d"
		got=$?
		if [[ $got == 19 ]]; then pass auth-failure
		else fail auth-failure "pppd exited $got, want 19 (authentication failed)"; fi
	else
		fail auth-failure "pppd still running after ${UP_TIMEOUT}s"
		kill -9 "$pid_d"
	fi
	has_addr ppp2 && fail auth-failure "ppp2 got an address"

	step "$auth: SIGTERM the AC; both clients must see the end"
	kill -TERM $ac
	local p v pid
	for p in b c; do
		v=pid_$p
		pid=${!v}
		if waitfor 5 dead "$pid"; then
			wait "$pid"
			echo "   client $p: pppd exited $?: $(grep -E 'Modem hangup|LCP terminated|PADT|Connection terminated' "/tmp/cli-$p.log" | head -2 | tr '\n' ' ')"
			pass "ac-shutdown-ends-client-$p"
		else
			fail "ac-shutdown-ends-client-$p" "pppd still running 5 s after the AC got SIGTERM"
			kill -9 "$pid"
		fi
	done
	if waitfor 5 dead $ac; then
		wait $ac
		got=$?
		[[ $got == 0 ]] && pass ac-exit || fail ac-exit "the AC exited $got after SIGTERM, want 0"
	else
		fail ac-exit "the AC still runs 5 s after SIGTERM"
		kill -9 $ac
	fi
	waitfor $gone_limit no_srv_ppp && pass srv-ppp-after-exit || fail srv-ppp-after-exit "srv still has $(srv_ppp | tr '\n' ' ') after the AC exited"
	wait
	((failed > fails_before)) && dump_logs
	return 0
}

# start_pppoed ARGS... starts $AC_CMD ARGS... in srv for the checks after
# the methods' (pppoed only); its pid lands in ac. It fails, logged, when
# pppoed never listens.
start_pppoed() {
	rm -f /tmp/ac.log /tmp/cli-*.log
	step "$auth: start the AC in srv with $*"
	ip netns exec srv bash -c "exec $AC_CMD $*" >/tmp/ac.log 2>&1 &
	ac=$!
	waitfor 10 grep -q 'msg=listening' /tmp/ac.log && return 0
	fail ac-start "no msg=listening"
	dump_logs
	kill -9 $ac
	wait
	return 1
}

# stop_pppoed CLIENT_PID ends the client and then the AC.
stop_pppoed() {
	kill "$1" 2>/dev/null
	waitfor 5 dead "$1" || kill -9 "$1"
	kill -TERM $ac
	waitfor 5 dead $ac || kill -9 $ac
	wait
}

# run_accounting checks pppoed's per-session accounting in kernel mode:
# the end line's counters against a known number of bytes through the
# session, and -T as data idleness (LCP echoes every second do not count).
run_accounting() {
	auth=accounting
	local fails_before=$failed got t
	printf '%s\n' require-chap 'lcp-echo-interval 1' 'lcp-echo-failure 10' >/etc/ppp/pppoe-server-options
	local ac
	start_pppoed -T 3 || return
	auth=chap kernel_client g 5 s3cret
	if ! waitfor "$UP_TIMEOUT" has_addr ppp5; then
		fail session-up "no address on ppp5 within ${UP_TIMEOUT}s"
		dump_logs
		{ kill -9 "$pid_g" $ac && wait; } 2>/dev/null
		return
	fi
	step "accounting: 10 pings of 1000 bytes, then 25 of 84 bytes over 5 s (longer than -T 3)"
	ip netns exec cli ping -q -c 10 -s 972 -i 0.2 -w 10 -I ppp5 $LOCAL >/dev/null || fail ping-1000 "no replies"
	ip netns exec cli ping -q -c 25 -i 0.2 -w 10 -I ppp5 $LOCAL >/dev/null || fail ping-84 "no replies"
	if grep -q 'msg="session ended"' /tmp/ac.log; then
		fail idle-busy "the session ended while data flowed"
	else
		pass idle-busy
	fi
	step "accounting: silence; the AC must end the session for idleness in about 3 s"
	t=$(ms)
	if waitfor 8 grep -q 'msg="session ended"' /tmp/ac.log; then
		t=$(($(ms) - t))
		got=$(grep -oE 'reason="[^"]*"' /tmp/ac.log | tail -1)
		if [[ $got == 'reason="idle timeout"' ]] && ((t >= 2000 && t <= 6000)); then
			pass idle-timeout
		else
			fail idle-timeout "$got after $t ms, want idle timeout after 3 s"
		fi
		# 10 x 1000 + 25 x 84 bytes of IP, as many each way: the
		# requests up, the replies down.
		got=$(grep 'msg="session ended"' /tmp/ac.log | grep -oE '(rx|tx)_(bytes|packets)=[0-9]+' | tr '\n' ' ')
		[[ $got == "rx_bytes=12100 rx_packets=35 tx_bytes=12100 tx_packets=35 " ]] && pass counters ||
			fail counters "end line has '$got', want rx_bytes=12100 rx_packets=35 tx_bytes=12100 tx_packets=35"
	else
		fail idle-timeout "no session ended within 8 s of silence"
	fi
	waitfor 5 dead "$pid_g" && pass client-ended || fail client-ended "pppd still runs"
	stop_pppoed "$pid_g"
	((failed > fails_before)) && dump_logs
	return 0
}

# run_ratelimit checks kernel-mode rate limits: a user whose chap-secrets
# line says 2048/512 downloads at 2048 kbit/s (tbf on pppN) within 15 %,
# and `pppoed set rate` changes it on the live session.
run_ratelimit() {
	auth=ratelimit
	local fails_before=$failed got dev
	printf '%s\n' require-chap >/etc/ppp/pppoe-server-options
	echo 'limited * s3cret * 2048/512' >>/etc/ppp/chap-secrets
	local ac
	start_pppoed --ctl-socket /tmp/ctl.sock || return
	CLIENT_USER=limited auth=chap kernel_client r 6 s3cret
	if ! waitfor "$UP_TIMEOUT" has_addr ppp6; then
		fail session-up "no address on ppp6 within ${UP_TIMEOUT}s"
		dump_logs
		{ kill -9 "$pid_r" $ac && wait; } 2>/dev/null
		return
	fi
	dev=$(srv_ppp | head -1)
	waitfor 5 eval 'ip netns exec srv tc qdisc show dev "$dev" | grep -q tbf' && pass tc-tbf ||
		fail tc-tbf "no tbf qdisc on $dev: $(ip netns exec srv tc qdisc show dev "$dev" | tr '\n' ' ')"
	waitfor 5 eval 'ip netns exec srv tc filter show dev "$dev" parent ffff: | grep -q police' && pass tc-police ||
		fail tc-police "no police filter on $dev's ingress"
	ip netns exec srv iperf3 -s -B $LOCAL -D -I /run/iperf3.pid
	sleep 0.5
	# rate DIR WANT: iperf3 for 6 s (the first second left out), within 15 %.
	rate() {
		local flag='' want=$2
		[[ $1 == down ]] && flag=-R
		got=$(ip netns exec cli iperf3 -c $LOCAL -t 7 -O 1 -f k $flag | awk '/receiver/ {for (i = 1; i < NF; i++) if ($(i + 1) == "Kbits/sec") print $i}')
		echo "RATE ratelimit $1 $got kbit/s, limit $want"
		[[ -n $got ]] && awk -v g="$got" -v w="$want" 'BEGIN {exit !(g >= w * 0.85 && g <= w * 1.15)}'
	}
	rate down 2048 && pass rate-down || fail rate-down "$got kbit/s, want 2048 +- 15 %"
	rate up 512 || echo "   (upstream policing gives TCP $got kbit/s against 512)"
	ip netns exec srv /mnt/host/pppoed set rate --user limited 4096/1024 --ctl-socket /tmp/ctl.sock >/dev/null
	sleep 0.5
	rate down 4096 && pass set-rate || fail set-rate "$got kbit/s after set rate 4096, want 4096 +- 15 %"
	grep -q 'msg=failed' /tmp/ac.log && fail tc-commands "$(grep 'msg=failed' /tmp/ac.log | head -2)" || pass tc-commands
	kill "$(cat /run/iperf3.pid)" 2>/dev/null
	stop_pppoed "$pid_r"
	((failed > fails_before)) && dump_logs
	return 0
}

for a in $AUTH; do run_auth "$a"; done
[[ -z $rp && ${ACCOUNTING:-1} == 1 ]] && run_accounting
[[ -z $rp && ${RATELIMIT:-1} == 1 ]] && run_ratelimit
step "done: $failed failed"
((failed == 0))
