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
#   IPV6=0   skip the IPv6 checks (pppd +ipv6, SLAAC, dhcp6c, ping6), which
#            run last, for pppoed only
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
		grep -v 'password\|secret\|level=DEBUG' "$f" | tail -40
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

# addr6 NS DEV SCOPE prints DEV's first IPv6 address of SCOPE in NS, and
# its peer address if it has one.
addr6() {
	ip -n "$1" -6 -o addr show dev "$2" scope "$3" 2>/dev/null |
		awk '{for (i = 1; i < NF; i++) {if ($i == "inet6") a = $(i + 1); if ($i == "peer") p = $(i + 1)}}
			a != "" {sub("/.*", "", a); sub("/.*", "", p); print a, p; exit}'
}
has_addr6() { [[ -n $(addr6 "$@") ]]; }
# hex6 ADDR[/LEN] prints ADDR as 32 hex digits, to compare prefixes.
hex6() {
	local a=${1%%/*} head tail out='' g n
	if [[ $a == *::* ]]; then head=${a%%::*} tail=${a#*::}; else head=$a tail=''; fi
	local -a h t
	IFS=: read -ra h <<<"$head"
	IFS=: read -ra t <<<"$tail"
	for g in "${h[@]}"; do out+=$(printf %04x "0x$g"); done
	for ((n = 8 - ${#h[@]} - ${#t[@]}; n > 0; n--)); do out+=0000; done
	for g in "${t[@]}"; do out+=$(printf %04x "0x$g"); done
	echo "$out"
}

# run_ipv6 checks kernel-mode IPv6 (issue 13) against Debian's pppd with
# +ipv6 in cli: IPv6CP; pppN's link-local pair, settings and /64 route; the
# peer's Router Solicitations and DHCPv6 reaching the loop through the IPv6
# control socket; the kernel, not the loop too, answering a ping to our
# link-local address. Then what needs the loop's RAs and DHCPv6 server
# (ipv6.go, dhcp6.go): the kernel's SLAAC on ppp7 (accept_ra; the
# interface identifier is the one IPv6CP negotiated), WIDE-DHCPv6's dhcp6c
# taking a /56 and numbering d0 from it, the /56 routed via the peer on
# srv, and ping6 both ways, to the SLAAC address and into the /56.
run_ipv6() {
	auth=ipv6
	local fails_before=$failed got dev srv_ll cli_ll slaac="" pd="" v
	printf '%s\n' require-chap >/etc/ppp/pppoe-server-options
	# srv routes and has an address of its own to ping; cli is a host
	# that takes RAs on the ppp7 pppd makes (a new interface copies
	# conf/default) and a dummy d0 for the delegated prefix.
	ip netns exec srv bash -c 'echo 1 >/proc/sys/net/ipv6/conf/all/forwarding'
	ip -n srv addr add 2001:db8:ffff::1/128 dev lo
	ip netns exec cli bash -c 'echo 0 >/proc/sys/net/ipv6/conf/all/forwarding; echo 1 >/proc/sys/net/ipv6/conf/default/accept_ra'
	modprobe dummy
	ip -n cli link add d0 type dummy
	ip -n cli link set d0 up
	local ac
	start_pppoed --log-level debug --ipv6-prefix-pool 2001:db8:100::/48 --ipv6-delegated-pool 2001:db8:200::/40 \
		--ipv6-delegated-length 56 --ipv6-dns 2001:db8::53 || return
	auth=chap client v 7 s3cret plugin rp-pppoe.so vc +ipv6
	if ! waitfor "$UP_TIMEOUT" has_addr ppp7; then
		fail session-up "no address on ppp7 within ${UP_TIMEOUT}s"
		dump_logs
		{ kill -9 "$pid_v" $ac && wait; } 2>/dev/null
		return
	fi
	pass session-up

	step "ipv6: IPv6CP, pppN's link-local pair, settings and routes"
	waitfor 10 grep -q 'msg="IPv6 up"' /tmp/ac.log && pass ipv6-up || fail ipv6-up "no msg=\"IPv6 up\" in pppoed's log"
	dev=$(srv_ppp | head -1)
	waitfor 5 has_addr6 cli ppp7 link
	read -r srv_ll v < <(addr6 srv "$dev" link)
	read -r cli_ll _ < <(addr6 cli ppp7 link)
	[[ -n $srv_ll && -n $cli_ll && $v == "$cli_ll" ]] && pass srv-link-local ||
		fail srv-link-local "$dev has '$srv_ll peer $v', ppp7 has '$cli_ll': want fe80::<ours> peer ppp7's"
	got=$(for v in forwarding accept_ra autoconf disable_ipv6; do ip netns exec srv cat /proc/sys/net/ipv6/conf/$dev/$v; done | tr '\n' ' ')
	[[ $got == "1 0 0 0 " ]] && pass srv-sysctl || fail srv-sysctl "$dev: forwarding accept_ra autoconf disable_ipv6 = $got, want 1 0 0 0"
	local p64
	p64=$(ip -n srv -6 route show dev "$dev" | grep -oE '^2001:db8:100:[0-9a-f:]*/64')
	[[ -n $p64 ]] && pass srv-route-64 || fail srv-route-64 "no route to a /64 of 2001:db8:100::/48 on $dev: $(ip -n srv -6 route show dev "$dev" | tr '\n' ';')"
	# ppp7's first RS may cross IPv6CP's last Configure-Ack and reach pppN
	# before IPv6 is up there (the RA sent at IPv6 up stands in for the
	# answer), and the kernel stops soliciting at the first RA; ppp7's
	# link-local address added again makes it send a fresh one.
	local ll_spec
	ll_spec=$(ip -n cli -6 -o addr show dev ppp7 scope link |
		awk '{for (i = 1; i < NF; i++) if ($i == "inet6") {s = $(i + 1); if ($(i + 2) == "peer") s = s " peer " $(i + 3); print s; exit}}')
	# shellcheck disable=SC2086 # ll_spec is "ADDR[ peer PEER]/LEN"
	ip -n cli addr del $ll_spec dev ppp7 && ip -n cli addr add $ll_spec dev ppp7
	waitfor 10 grep -q 'msg="IPv6 control packet from the peer".*what=RS' /tmp/ac.log && pass rs-received ||
		fail rs-received "the loop saw no Router Solicitation from ppp7 (ppp7: $ll_spec)"
	got=$(ip netns exec cli ping -6 -c 3 -i 0.3 -w 5 -I ppp7 "$srv_ll" 2>&1)
	[[ $? == 0 && $got != *DUP* ]] && pass ping-link-local || fail ping-link-local "$(echo "$got" | tail -3 | tr '\n' ' ')"

	step "ipv6: dhcp6c on ppp7 asks for a prefix for d0"
	printf '%s\n' 'interface ppp7 {' '	send ia-pd 0;' '	request domain-name-servers;' '};' \
		'id-assoc pd 0 {' '	prefix-interface d0 {' '		sla-id 1;' '		sla-len 8;' '	};' '};' >/tmp/dhcp6c.conf
	ip netns exec cli dhcp6c -f -D -c /tmp/dhcp6c.conf -p /run/dhcp6c.pid ppp7 >/tmp/dhcp6c.log 2>&1 &
	local dhcp6c=$!
	waitfor 10 grep -q 'msg="IPv6 control packet from the peer".*what=DHCPv6' /tmp/ac.log && pass dhcp6-received ||
		fail dhcp6-received "the loop saw no DHCPv6 message from ppp7"

	# From here on the checks need the loop's RAs and DHCPv6 answers.
	step "ipv6: SLAAC on ppp7 from the RAs, ping6 both ways"
	if waitfor 15 has_addr6 cli ppp7 global; then
		read -r slaac _ < <(addr6 cli ppp7 global)
		got=$(hex6 "$slaac")
		[[ -n $p64 && ${got:0:16} == "$(hex6 "$p64" | cut -c1-16)" && ${got:16} == "$(hex6 "$cli_ll" | cut -c17-)" ]] && pass slaac ||
			fail slaac "ppp7 has $slaac, want $p64 with ppp7's identifier (${cli_ll#fe80::})"
	else
		fail slaac "no global address on ppp7 within 15 s"
	fi
	got=$(ip -n cli -6 route show default)
	[[ $got == *"via $srv_ll dev ppp7"* ]] && pass cli-default-route || fail cli-default-route "cli's default route: '$got', want via $srv_ll dev ppp7"
	ip netns exec cli ping -6 -q -c 2 -w 5 2001:db8:ffff::1 >/dev/null 2>&1 && pass ping6-cli-to-srv || fail ping6-cli-to-srv "no reply from 2001:db8:ffff::1"
	if [[ -n $slaac ]]; then
		ip netns exec srv ping -6 -q -c 2 -w 5 "$slaac" >/dev/null 2>&1 && pass ping6-srv-to-slaac || fail ping6-srv-to-slaac "no reply from $slaac"
	else
		fail ping6-srv-to-slaac "no SLAAC address to ping"
	fi

	step "ipv6: the delegated /56 on d0, routed via ppp7 on srv"
	if waitfor 15 has_addr6 cli d0 global; then
		read -r pd _ < <(addr6 cli d0 global)
		[[ $(hex6 "$pd" | cut -c1-10) == 20010db802 ]] && pass dhcp6-pd || fail dhcp6-pd "d0 has $pd, want one of 2001:db8:200::/40"
	else
		fail dhcp6-pd "no global address on d0 within 15 s: $(grep -iE 'prefix|error|fail' /tmp/dhcp6c.log | grep -v ctl | tail -3 | tr '\n' ' ')"
	fi
	got=$(ip -n srv -6 route show dev "$dev" | grep -E '^2001:db8:2[0-9a-f:]*/56 via ')
	if [[ -n $cli_ll && $got == *"via $cli_ll "* ]] && [[ -z $pd || $(hex6 "$pd" | cut -c1-14) == $(hex6 "${got%% *}" | cut -c1-14) ]]; then
		pass srv-route-pd
	else
		fail srv-route-pd "want the /56 holding d0's ${pd:-address} via $cli_ll on $dev: $(ip -n srv -6 route show dev "$dev" | tr '\n' ';')"
	fi
	grep -q 'msg="prefix delegated"' /tmp/ac.log && pass pd-logged || fail pd-logged "no msg=\"prefix delegated\" in pppoed's log"
	grep -q '2001:db8::53' /tmp/dhcp6c.log && pass dhcp6-dns || fail dhcp6-dns "dhcp6c's log does not mention 2001:db8::53"
	if [[ -n $pd ]]; then
		ip netns exec srv ping -6 -q -c 2 -w 5 "$pd" >/dev/null 2>&1 && pass ping6-srv-to-pd || fail ping6-srv-to-pd "no reply from $pd"
	else
		fail ping6-srv-to-pd "no delegated address to ping"
	fi

	step "ipv6: stop dhcp6c (it releases the prefix), the client and the AC"
	kill $dhcp6c 2>/dev/null
	waitfor 10 dead $dhcp6c || kill -9 $dhcp6c
	if [[ -z $pd ]]; then
		fail pd-route-released "no prefix was delegated"
	else
		waitfor 3 eval '! ip -n srv -6 route show dev "$dev" | grep -q "^2001:db8:2.* via "' && pass pd-route-released ||
			fail pd-route-released "the /56 is still routed after dhcp6c's Release: $(ip -n srv -6 route show dev "$dev" | tr '\n' ';')"
	fi
	stop_pppoed "$pid_v"
	# Taking IPv6 down (routes, address, NPMODE) logs a warning when a step fails.
	got=$(grep -E 'level=(WARN|ERROR)' /tmp/ac.log | head -3)
	[[ -z $got ]] && pass no-warnings || fail no-warnings "$got"
	ip -n cli link del d0
	ip -n srv addr del 2001:db8:ffff::1/128 dev lo
	if ((failed > fails_before)); then
		dump_logs
		echo "--- /tmp/dhcp6c.log"
		tail -30 /tmp/dhcp6c.log
	fi
	return 0
}

for a in $AUTH; do run_auth "$a"; done
[[ -z $rp && ${ACCOUNTING:-1} == 1 ]] && run_accounting
[[ -z $rp && ${RATELIMIT:-1} == 1 ]] && run_ratelimit
[[ -z $rp && ${IPV6:-1} == 1 ]] && run_ipv6
step "done: $failed failed"
((failed == 0))
