// Kernel mode's IPv6: pppN's link-local address and routes, and the peer's
// IPv6 control packets, which the kernel would otherwise keep to itself.
//
// up6 (IPv6CP open) makes pppN a router's interface: IPv6 on, no RAs or
// SLAAC accepted, forwarding as net.ipv6.conf.all.forwarding says; the
// link-local pair fe80::<our id> peer fe80::<peer id>, as pppd's sif6addr
// sets it; NPMODE_PASS for IPv6; the session's /64 routed to pppN. route6
// routes the delegated prefix via the peer's link-local address. down6
// undoes it all.
//
// Once NPMODE passes IPv6, the peer's IPv6 goes to pppN's stack, never to
// /dev/ppp, but the loop has to answer the peer's Router Solicitations and
// DHCPv6. One AF_PACKET socket (SOCK_DGRAM, ETH_P_IPV6, every interface of
// the namespace) takes a copy of those with a classic BPF filter that keeps
// only ICMPv6 type 133 and UDP to port 547, right behind the IPv6 header,
// on ARPHRD_PPP devices. The kernel poller reads it (its entry in the
// descriptor table is marked ctl6), finds the session by the index of the
// interface the packet came in on, and posts the packet as a PPP frame of
// protocol 0x0057, as it posts what it reads from a unit fd: the loop's
// handlePPP cannot tell the two apart. A packet from an interface that is
// no session's (the WAN, a pppN of pppd's) stops there. The loop's answers
// go out the way LCP does: sendControl writes them to the channel fd, and
// the PPPoE channel sends whatever protocol it is given.
//
// Echo requests and Neighbor Solicitations for our link-local address are
// left to the kernel on purpose: pppN holds the address, so the kernel
// answers them, and an answer from the loop too would be a duplicate.
//
// Limits: a Router Solicitation or DHCPv6 message behind an extension
// header (hop-by-hop options, say) is not seen; clients send neither that
// way. A DHCPv6 message unicast to our link-local address (clients do that
// only after a Server Unicast option, which we never send) reaches the loop
// too, and the kernel, with no socket on port 547, answers it with a Port
// Unreachable as well. The filter runs for every IPv6 packet in the
// namespace, as any packet tap does; its first two instructions turn away
// the packets of other device types.
//
// Ownership: kernelSession6 is the loop's. The table of interface indexes
// is the poller's, under its mutex: up6 publishes pppN's index before
// NPMODE lets the first packet through, down6 and close withdraw it. The
// control packets count as pppN's traffic, as any IPv6 that came through
// the netdev does.

package main

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelSession6 is a kernel-mode session's IPv6 while IPv6CP is open.
type kernelSession6 struct {
	up          bool
	ifindex     int32
	local, peer netip.Addr   // pppN's link-local pair
	prefix      netip.Prefix // the /64, routed to pppN
	pd          netip.Prefix // the delegated prefix, routed via peer; invalid: none
}

// confIPv6 is where the per-interface IPv6 settings live.
const confIPv6 = "/proc/sys/net/ipv6/conf/"

func (ks *kernelSession) up6(local, peer [ifaceIDLen]byte, prefix netip.Prefix, mtu int) error {
	k := ks.k
	if ks.unit < 0 || k.ctl6 < 0 {
		return errors.New("pppoe: IPv6 up without a unit or an IPv6 control socket")
	}
	if ks.v6.up {
		ks.down6()
	}
	ifr, err := unix.NewIfreq(ks.name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(k.ctl, unix.SIOCGIFINDEX, ifr); err != nil {
		return os.NewSyscallError("SIOCGIFINDEX", err)
	}
	if err := k.sysctl6(ks.name); err != nil {
		return err
	}
	// Up already when IPCP is; an IPv6-only session brings it up here.
	if err := (&tunDevice{ctl: k.ctl, ifname: ks.name}).up(mtu); err != nil {
		return err
	}
	v := kernelSession6{up: true, ifindex: int32(ifr.Uint32()), prefix: prefix,
		local: netip.AddrFrom16(linkLocal(local)), peer: netip.AddrFrom16(linkLocal(peer))}
	if err := addAddr6(ks.name, v.local, v.peer); err != nil {
		return err
	}
	ks.v6 = v
	k.poll.watch6(v.ifindex, ks)
	err = ks.setNPMode(pppProtoIPv6, true)
	if err == nil {
		err = addRoute(ks.name, prefix)
	}
	if err != nil {
		ks.down6()
		return err
	}
	return nil
}

// sysctl6 makes dev a router's interface: the settings a new pppN took
// from net.ipv6.conf.default may say otherwise.
func (k *kernelPath) sysctl6(dev string) error {
	fwd, err := os.ReadFile(confIPv6 + "all/forwarding")
	if err != nil {
		return err // the kernel has no IPv6
	}
	on := "0"
	if len(fwd) > 0 && fwd[0] != '0' {
		on = "1"
	} else if !k.warnedFwd {
		k.warnedFwd = true
		k.srv.log.Warn("IPv6 forwarding is off (net.ipv6.conf.all.forwarding = 0): subscribers' IPv6 reaches this host only")
	}
	for _, kv := range [...][2]string{
		{"accept_ra", "0"}, // we are the router
		{"autoconf", "0"},
		{"forwarding", on},
		{"disable_ipv6", "0"},
	} {
		if err := os.WriteFile(confIPv6+dev+"/"+kv[0], []byte(kv[1]), 0); err != nil {
			return err
		}
	}
	return nil
}

func (ks *kernelSession) route6(pfx netip.Prefix) error {
	v := &ks.v6
	if !v.up {
		return errors.New("pppoe: delegated prefix without IPv6 up")
	}
	if pfx == v.pd {
		return nil
	}
	if pfx.IsValid() {
		if err := addRouteVia(ks.name, pfx, v.peer); err != nil {
			return err
		}
	}
	old := v.pd
	v.pd = pfx
	if old.IsValid() {
		ks.unroute6(old)
	}
	return nil
}

func (ks *kernelSession) down6() {
	v := ks.v6
	if !v.up {
		return
	}
	ks.v6 = kernelSession6{}
	ks.k.poll.unwatch6(v.ifindex)
	if ks.unit < 0 {
		return
	}
	if err := ks.setNPMode(pppProtoIPv6, false); err != nil {
		ks.warn(err)
	}
	if v.pd.IsValid() {
		ks.unroute6(v.pd)
	}
	ks.unroute6(v.prefix)
	if err := delAddr6(ks.name, v.local, v.peer); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		ks.warn(err)
	}
}

// unroute6 removes a route of the session's; one the kernel removed already
// is not an error.
func (ks *kernelSession) unroute6(pfx netip.Prefix) {
	if err := delRoute(ks.name, pfx); err != nil && !errors.Is(err, unix.ESRCH) {
		ks.warn(err)
	}
}

// warn logs a failure to take the session's IPv6 down: the error says
// which step.
func (ks *kernelSession) warn(err error) {
	ks.k.srv.log.Warn("stopping the session's IPv6 failed", "sid", ks.sid, "ifname", ks.name, "err", err)
}

// openIPv6Control opens the IPv6 control socket: a non-blocking AF_PACKET
// socket that reads the ipv6ControlFilter packets of every device of type
// hatype (ARPHRD_PPP; the tests use another) in the namespace.
func openIPv6Control(hatype uint16) (int, error) {
	// Protocol 0 receives nothing until bind, so no packet is queued
	// before the filter is in place.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket AF_PACKET", err)
	}
	prog := ipv6ControlFilter(hatype)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("setsockopt SO_ATTACH_FILTER", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IPV6)}); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("bind AF_PACKET", err)
	}
	return fd, nil
}

// ipv6ControlFilter is the classic BPF program of the IPv6 control socket:
// it keeps, whole, the ICMPv6 Router Solicitations (RFC 4861 §4.1) and the
// UDP datagrams to the DHCPv6 server port (RFC 8415 §7.2) that arrive on a
// device of type hatype. Offsets are from the IPv6 header, where a
// SOCK_DGRAM packet socket's data starts; a load past the end of a packet
// drops it.
func ipv6ControlFilter(hatype uint16) []unix.SockFilter {
	const (
		ldW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		ldH = unix.BPF_LD | unix.BPF_H | unix.BPF_ABS
		ldB = unix.BPF_LD | unix.BPF_B | unix.BPF_ABS
		jeq = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret = unix.BPF_RET | unix.BPF_K

		adHatype    = 0xfffff000 + 28 // SKF_AD_OFF + SKF_AD_HATYPE: skb->dev->type
		offNext     = 6               // the IPv6 header's Next Header
		offHopLimit = 7
		offDst      = 24 // the destination address's first byte
		offICMP     = 40 // the ICMPv6 type, behind a bare IPv6 header
		offUDPDst   = 42 // the UDP destination port
		nextICMPv6  = 58
		nextUDP     = 17
		typeRS      = 133
		portServer  = 547
		whole       = 0x40000 // more than any packet: keep it all
	)
	return []unix.SockFilter{
		{Code: ldW, K: adHatype},               // 0
		{Code: jeq, K: uint32(hatype), Jf: 13}, // 1: else 15
		{Code: ldB, K: offNext},                // 2
		{Code: jeq, K: nextICMPv6, Jf: 4},      // 3: else 8
		{Code: ldB, K: offICMP},                // 4
		{Code: jeq, K: typeRS, Jf: 9},          // 5: else 15
		{Code: ldB, K: offHopLimit},            // 6
		{Code: jeq, K: 255, Jt: 6, Jf: 7},      // 7: 14 or 15 (RFC 4861 §6.1.1)
		{Code: jeq, K: nextUDP, Jf: 6},         // 8: else 15
		{Code: ldH, K: offUDPDst},              // 9
		{Code: jeq, K: portServer, Jf: 4},      // 10: else 15
		{Code: ldB, K: offDst},                 // 11: to ff02::1:2 or link-local,
		{Code: jeq, K: 0xff, Jt: 1},            // 12: 14, else 13
		{Code: jeq, K: 0xfe, Jt: 0, Jf: 1},     // 13: 14 or 15 (not transit traffic)
		{Code: ret, K: whole},                  // 14: keep
		{Code: ret, K: 0},                      // 15: drop
	}
}

// recvIPv6Control reads one packet of the IPv6 control socket into b and
// returns its length, which is more than len(b) when it did not fit, and
// the index of the interface it came in on. It does not allocate (unlike
// unix.Recvfrom, whose Sockaddr is on the heap).
func recvIPv6Control(fd int, b []byte) (n int, ifindex int32, err error) {
	var sa unix.RawSockaddrLinklayer
	salen := uint32(unix.SizeofSockaddrLinklayer)
	r, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
		unix.MSG_TRUNC, uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&salen)))
	if e != 0 {
		return 0, 0, e
	}
	return int(r), sa.Ifindex, nil
}

// watch6 sends the IPv6 control packets that come in on the interface
// ifindex (ks's pppN) to ks's session.
func (p *kernelPoller) watch6(ifindex int32, ks *kernelSession) {
	p.mu.Lock()
	p.byIndex[ifindex] = pollEntry{ks: ks, sid: ks.sid, gen: ks.gen}
	p.mu.Unlock()
}

func (p *kernelPoller) unwatch6(ifindex int32) {
	p.mu.Lock()
	delete(p.byIndex, ifindex)
	p.mu.Unlock()
}

// readIPv6Locked posts what the IPv6 control socket fd holds, up to
// pollReads packets, each as a PPP frame of protocol 0x0057 of the session
// whose pppN it came in on. Caller must hold p.mu.
func (p *kernelPoller) readIPv6Locked(srv *server, fd int32) {
	for range pollReads {
		fr := getFrame()
		pkt := fr[pppProtoLen:]
		n, ifindex, err := recvIPv6Control(int(fd), pkt)
		if err != nil {
			putFrame(fr)
			if err != unix.EAGAIN && err != unix.EINTR {
				srv.log.Debug("IPv6 control socket read failed", "err", os.NewSyscallError("recvfrom", err))
			}
			return
		}
		e, ok := p.byIndex[ifindex]
		if !ok || n > len(pkt) {
			putFrame(fr)
			continue
		}
		if srv.log.enabled(levelDebug) {
			what := "DHCPv6"
			if pkt[6] == 58 {
				what = "RS"
			}
			srv.log.Debug("IPv6 control packet from the peer", "sid", e.sid, "ifname", e.ks.name, "what", what, "len", n)
		}
		binary.BigEndian.PutUint16(fr[:], protoIPv6)
		srv.post(rxFrame{f: fr, n: pppProtoLen + n, kind: rxPPP, sid: e.sid, gen: e.gen})
	}
}

// htons puts v in network byte order, for sll_protocol.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
