#!/bin/bash
# Runs inside the VM: issue 5's NAT scenario in kernel mode. pppoed -k with
# --nat-out in srv, Debian's pppd (kernel mode, defaultroute) in cli, and a
# WAN host at 192.0.2.2 in wan with no route back to the pool. For each
# backend (nft, iptables): the client fetches a file over HTTP through NAT,
# the WAN host sees srv's WAN address and an MSS that fits the PPP MTU, and
# after pppoed exits none of its rules remain and ip_forward is restored.
# The source check of kernel mode: pings from the client's own IPv4 and
# IPv6 (its /64) reach the WAN host, pings from another pool address it
# added to ppp0 do not, and the drop counter of pppoed's reverse-path rule
# grows.
# Prints PASS/FAIL <backend>/<check>; exits non-zero on any FAIL.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }

modprobe pppoe 2>/dev/null
for n in srv cli wan; do ip netns add $n; ip -n $n link set lo up; done
ip link add vs netns srv type veth peer name vc netns cli
ip link add ws netns srv type veth peer name w0 netns wan
ip -n srv link set vs up; ip -n cli link set vc up
ip -n srv addr add 192.0.2.1/24 dev ws; ip -n srv link set ws up
ip -n wan addr add 192.0.2.2/24 dev w0; ip -n wan link set w0 up
ip -n srv addr add 2001:db8:ff::1/64 dev ws nodad
ip -n wan addr add 2001:db8:ff::2/64 dev w0 nodad
ip -n wan route add 2001:db8:100::/48 via 2001:db8:ff::1
mkdir -p /tmp/www; head -c 1048576 /dev/urandom >/tmp/www/blob
ip netns exec wan busybox httpd -p 192.0.2.2:80 -h /tmp/www
printf 'require-chap\nms-dns 192.0.2.53\nlcp-echo-interval 2\nlcp-echo-failure 2\n' >/tmp/nat-options
printf 'alice * s3cret *\n' >/tmp/nat-secrets

# drops prints the packets pppoed's reverse-path rules dropped so far.
drops() {
	if [[ $b == nft ]]; then
		ip netns exec srv nft list chain inet pppoed prerouting | grep -o 'packets [0-9]*' | awk '{s += $2} END {print s + 0}'
	else
		{ ip netns exec srv iptables -w -t raw -vxnL PPPOED-RPF; ip netns exec srv ip6tables -w -t raw -vxnL PPPOED-RPF; } |
			awk '$3 == "DROP" {s += $1} END {print s + 0}'
	fi
}

# echoes counts the echo requests the WAN host gets while "$@" runs in cli.
echoes() {
	local f=/tmp/echo-$b.txt
	ip netns exec wan tcpdump -i w0 -n -l 'icmp[icmptype] == 8 or (icmp6 and ip6[40] == 128)' >$f 2>/dev/null &
	local d=$!
	sleep 0.5
	ip netns exec cli "$@" >/dev/null 2>&1
	sleep 0.5; kill $d; wait $d 2>/dev/null
	grep -c 'echo request' $f
}

rpf_check() {
	local n p64 dev
	if [[ $b == nft ]]; then
		ip netns exec srv nft list chain inet pppoed prerouting 2>/dev/null | grep -q 'fib saddr . iif oif missing' &&
			pass "$b/rpf-rule" || fail "$b/rpf-rule" "no fib rule: $(ip netns exec srv nft list table inet pppoed 2>&1 | tr '\n' ' ')"
	else
		for t in iptables ip6tables; do
			ip netns exec srv $t -w -t raw -S PPPOED-RPF 2>/dev/null | grep -q 'rpfilter --invert' &&
				ip netns exec srv $t -w -t raw -S PREROUTING | grep -q -- '-j PPPOED-RPF' &&
				pass "$b/rpf-rule-$t" || fail "$b/rpf-rule-$t" "$(ip netns exec srv $t -w -t raw -S 2>&1 | tr '\n' ' ')"
		done
	fi
	n=$(echoes busybox ping -c 2 -W 1 -I 10.0.0.2 192.0.2.2)
	((n >= 2)) && pass "$b/rpf-own-ipv4" || fail "$b/rpf-own-ipv4" "$n echo requests reached the WAN host"
	ip -n cli addr add 10.0.0.3/32 dev ppp0
	local before=$(drops)
	n=$(echoes busybox ping -c 2 -W 1 -I 10.0.0.3 192.0.2.2)
	local after=$(drops)
	((n == 0 && after >= before + 2)) && pass "$b/rpf-spoofed-ipv4" ||
		fail "$b/rpf-spoofed-ipv4" "$n echo requests reached the WAN host; drops $before -> $after; $(tr '\n' ';' </tmp/echo-$b.txt)"
	# IPv6: the client numbers itself from its /64 and pings; then from
	# another /64 of the pool.
	dev=$(ip -n srv -o link show type ppp 2>/dev/null | awk -F': ' '{print $2}' | head -1)
	[[ -n $dev ]] || dev=$(ip -n srv -o link | grep -o 'ppp[0-9]*' | head -1)
	for _ in $(seq 50); do
		p64=$(ip -n srv -6 route show dev "$dev" 2>/dev/null | grep -oE '^2001:db8:100:[0-9a-f:]*/64')
		[[ -n $p64 ]] && break; sleep 0.2
	done
	if [[ -z $p64 ]]; then
		fail "$b/rpf-ipv6" "no /64 routed to $dev"
		return
	fi
	ip -n cli addr add "${p64%/64}5/128" dev ppp0 nodad
	ip -n cli addr add 2001:db8:100:ffff::5/128 dev ppp0 nodad
	ip -n cli -6 route add 2001:db8:ff::/64 dev ppp0
	n=$(echoes busybox ping -6 -c 2 -W 1 -I "${p64%/64}5" 2001:db8:ff::2)
	((n >= 2)) && pass "$b/rpf-own-ipv6" || fail "$b/rpf-own-ipv6" "$n echo requests from ${p64%/64}5 reached the WAN host"
	before=$(drops)
	n=$(echoes busybox ping -6 -c 2 -W 1 -I 2001:db8:100:ffff::5 2001:db8:ff::2)
	after=$(drops)
	((n == 0 && after >= before + 2)) && pass "$b/rpf-spoofed-ipv6" ||
		fail "$b/rpf-spoofed-ipv6" "$n echo requests reached the WAN host; drops $before -> $after; $(tr '\n' ';' </tmp/echo-$b.txt)"
}

for backend in nft iptables; do
	b=$backend
	fwd_before=$(ip netns exec srv cat /proc/sys/net/ipv4/ip_forward)
	ip netns exec srv /mnt/host/pppoed -k -I vs -L 10.0.0.1 -R 10.0.0.2 -N 8 -O /tmp/nat-options \
		--chap-secrets /tmp/nat-secrets --ipv6-prefix-pool 2001:db8:100::/48 --nat-out ws --nat-backend $b --nat-state-file /tmp/nat-$b.state >/tmp/ac-$b.log 2>&1 &
	ac=$!
	for _ in $(seq 50); do grep -q msg=listening /tmp/ac-$b.log && break; sleep 0.1; done
	ip netns exec wan tcpdump -i w0 -n -l -v -c 1 'tcp[tcpflags] & tcp-syn != 0 and tcp dst port 80' >/tmp/syn-$b.txt 2>/dev/null &
	dump=$!
	ip netns exec cli pppd plugin rp-pppoe.so vc user alice password s3cret noauth defaultroute +ipv6 nodetach \
		lcp-echo-interval 2 lcp-echo-failure 2 >/tmp/pppd-$b.log 2>&1 &
	cli=$!
	up=
	for _ in $(seq 100); do ip -n cli -4 addr show ppp0 2>/dev/null | grep -q 'inet 10.0.0.2' && up=1 && break; sleep 0.2; done
	[[ -n $up ]] && pass "$b/session-up" || fail "$b/session-up" "ppp0 has no 10.0.0.2"
	sleep 1
	sum=$(ip netns exec cli busybox wget -q -O - http://192.0.2.2/blob | sha256sum | cut -d' ' -f1)
	[[ $sum == $(sha256sum /tmp/www/blob | cut -d' ' -f1) ]] && pass "$b/fetch-intact" || fail "$b/fetch-intact" "wrong or no content"
	sleep 0.5; kill $dump 2>/dev/null; wait $dump 2>/dev/null
	grep -q '192.0.2.1\.[0-9]* > 192.0.2.2\.80' /tmp/syn-$b.txt && pass "$b/wan-sees-ac-address" || fail "$b/wan-sees-ac-address" "$(head -3 /tmp/syn-$b.txt)"
	mss=$(grep -o 'mss [0-9]*' /tmp/syn-$b.txt | head -1 | cut -d' ' -f2)
	[[ -n $mss && $mss -le 1452 ]] && pass "$b/mss-fits" || fail "$b/mss-fits" "mss '$mss'"
	rpf_check
	kill $cli; wait $cli 2>/dev/null
	kill $ac; wait $ac; rc=$?
	[[ $rc == 0 ]] && pass "$b/ac-exit" || fail "$b/ac-exit" "status $rc"
	left=$( { ip netns exec srv nft list ruleset; ip netns exec srv iptables-save; ip netns exec srv ip6tables-save; } 2>/dev/null | grep -ci pppoed)
	[[ $left == 0 ]] && pass "$b/no-rules-left" || fail "$b/no-rules-left" "$left lines"
	fwd=$(ip netns exec srv cat /proc/sys/net/ipv4/ip_forward)
	[[ $fwd == "$fwd_before" ]] && pass "$b/ip-forward-restored" || fail "$b/ip-forward-restored" "$fwd, was $fwd_before"
	[[ $fails == 0 ]] || { echo "---- pppoed log"; cat /tmp/ac-$b.log; echo "---- pppd log"; tail -20 /tmp/pppd-$b.log; }
done
exit $((fails > 0))
