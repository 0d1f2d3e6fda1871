// Routes and addresses over rtnetlink: the TUN device's routes, and in
// kernel mode the IPv6 link-local addresses and routes of the pppN units.
//
// Each call opens a NETLINK_ROUTE socket in the calling thread's network
// namespace, sends one RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWADDR or
// RTM_DELADDR with NLM_F_ACK, and returns the errno of the kernel's ACK.
// Routes and addresses change when a session's NCP opens or closes and at
// start and stop, never per packet, so there is no socket to share and no
// lock. Netlink headers are in host byte order (netlink(7)).

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

const (
	rtaHdrLen = 4 // struct rtattr: len, type
	nlaHdrLen = 4 // struct nlattr, in extended ACK attributes
)

// addRoute routes dst to dev, replacing a route to the same prefix in the
// main table. dst is masked to its prefix length.
func addRoute(dev string, dst netip.Prefix) error {
	return routeRequest(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, dev, dst, 0)
}

// addRouteVia routes dst through dev to the next hop gw (an IPv6
// link-local address, for a prefix delegated to a kernel-mode session).
func addRouteVia(dev string, dst netip.Prefix, gw netip.Addr) error {
	return routeRequestVia(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, dev, dst, gw, 0)
}

// addRouteMTU is addRoute with a path MTU on the route (RTAX_MTU), so the
// kernel fragments, or answers "fragmentation needed", for packets that
// would not fit a session whose MRU is below the device's MTU.
func addRouteMTU(dev string, dst netip.Prefix, mtu int) error {
	return routeRequest(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, dev, dst, mtu)
}

// delRoute removes the route to dst through dev; a missing route is ESRCH.
func delRoute(dev string, dst netip.Prefix) error {
	return routeRequest(unix.RTM_DELROUTE, 0, dev, dst, 0)
}

// addDefaultRoute adds a default route through dev. Unlike addRoute it never
// replaces one: taking over a router's existing default route (its WAN
// uplink) must not happen by accident, so that case fails with EEXIST, as
// pppd's defaultroute does.
func addDefaultRoute(dev string) error {
	return routeRequest(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, dev,
		netip.PrefixFrom(netip.IPv4Unspecified(), 0), 0)
}

func routeRequest(typ, flags uint16, dev string, dst netip.Prefix, mtu int) error {
	return routeRequestVia(typ, flags, dev, dst, netip.Addr{}, mtu)
}

func routeRequestVia(typ, flags uint16, dev string, dst netip.Prefix, gw netip.Addr, mtu int) error {
	op := "add"
	if typ == unix.RTM_DELROUTE {
		op = "delete"
	}
	if !dst.IsValid() || dst.Addr().Is4In6() || dst.Addr().Zone() != "" || (gw.IsValid() && gw.Is4() != dst.Addr().Is4()) {
		return fmt.Errorf("%s route %v dev %s: not an IPv4 or IPv6 prefix", op, dst, dev)
	}
	dst = dst.Masked()
	err := rtnetlink(typ, flags, dev, func(b []byte, ifindex uint32) []byte {
		return appendRouteMsg(b, typ, dst, gw, ifindex, mtu)
	})
	if err != nil {
		return fmt.Errorf("%s route %v dev %s: %w", op, dst, dev, err)
	}
	return nil
}

// addAddr6 gives dev the link-local address local/128 with the
// point-to-point peer address peer, as pppd's sif6addr does: the kernel
// also routes peer/128 through dev. It skips duplicate address
// detection: IPv6CP negotiated identifiers that differ on the link
// (RFC 5072 §4.1), and a pppN has no neighbor discovery to run it with.
// Adding it again is not an error.
func addAddr6(dev string, local, peer netip.Addr) error {
	return addrRequest(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, dev, local, peer)
}

// delAddr6 removes local (and its peer route) from dev; a missing address
// is EADDRNOTAVAIL.
func delAddr6(dev string, local, peer netip.Addr) error {
	return addrRequest(unix.RTM_DELADDR, 0, dev, local, peer)
}

func addrRequest(typ, flags uint16, dev string, local, peer netip.Addr) error {
	op := "add"
	if typ == unix.RTM_DELADDR {
		op = "delete"
	}
	if !local.Is6() || !peer.Is6() {
		return fmt.Errorf("%s address %v peer %v dev %s: not IPv6", op, local, peer, dev)
	}
	err := rtnetlink(typ, flags, dev, func(b []byte, ifindex uint32) []byte {
		// struct ifaddrmsg
		b = append(b, unix.AF_INET6, 128, unix.IFA_F_NODAD, unix.RT_SCOPE_LINK)
		b = binary.NativeEndian.AppendUint32(b, ifindex)
		b = appendRTA(b, unix.IFA_LOCAL, local.AsSlice())
		return appendRTA(b, unix.IFA_ADDRESS, peer.AsSlice())
	})
	if err != nil {
		return fmt.Errorf("%s address %v peer %v dev %s: %w", op, local, peer, dev, err)
	}
	return nil
}

func appendRouteMsg(b []byte, typ uint16, dst netip.Prefix, gw netip.Addr, ifindex uint32, mtu int) []byte {
	family := uint8(unix.AF_INET)
	if dst.Addr().Is6() {
		family = unix.AF_INET6
	}
	rtm := unix.RtMsg{
		Family:   family,
		Dst_len:  uint8(dst.Bits()),
		Table:    unix.RT_TABLE_MAIN,
		Protocol: unix.RTPROT_BOOT, // what ip route add uses
		Scope:    unix.RT_SCOPE_LINK,
		Type:     unix.RTN_UNICAST,
	}
	if gw.IsValid() || family == unix.AF_INET6 {
		rtm.Scope = unix.RT_SCOPE_UNIVERSE
	}
	if typ == unix.RTM_DELROUTE {
		// Match any scope and protocol; RTA_OIF still limits the
		// delete to routes through dev.
		rtm.Protocol, rtm.Scope = unix.RTPROT_UNSPEC, unix.RT_SCOPE_NOWHERE
	}
	b = append(b, rtm.Family, rtm.Dst_len, rtm.Src_len, rtm.Tos, rtm.Table, rtm.Protocol, rtm.Scope, rtm.Type)
	b = binary.NativeEndian.AppendUint32(b, rtm.Flags)
	if dst.Bits() > 0 {
		b = appendRTA(b, unix.RTA_DST, dst.Addr().AsSlice())
	}
	if gw.IsValid() {
		b = appendRTA(b, unix.RTA_GATEWAY, gw.WithZone("").AsSlice())
	}
	b = appendRTA(b, unix.RTA_OIF, binary.NativeEndian.AppendUint32(nil, ifindex))
	if mtu > 0 {
		// RTA_METRICS nests the route metrics; RTAX_MTU is one of them.
		inner := appendRTA(nil, unix.RTAX_MTU, binary.NativeEndian.AppendUint32(nil, uint32(mtu)))
		b = appendRTA(b, unix.RTA_METRICS, inner)
	}
	return b
}

// rtnetlink sends one request of type typ about dev and waits for the
// kernel's ACK. body appends the message that follows the netlink header,
// given dev's interface index.
func rtnetlink(typ, flags uint16, dev string, body func(b []byte, ifindex uint32) []byte) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("bind", err)
	}
	// Best effort: a short ACK, with the kernel's reason text when it has one.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	// The kernel queues the ACK before sendto returns; the timeout only
	// guards against a kernel that never answers.
	tv := unix.Timeval{Sec: 5}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)

	ifr, err := unix.NewIfreq(dev)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return os.NewSyscallError("SIOCGIFINDEX", err)
	}

	const seq = 1
	b := make([]byte, 0, unix.NLMSG_HDRLEN+unix.SizeofRtMsg+4*(rtaHdrLen+16))
	b = binary.NativeEndian.AppendUint32(b, 0) // nlmsg_len, patched below
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0) // nlmsg_pid: the kernel fills it in
	b = body(b, ifr.Uint32())
	binary.NativeEndian.PutUint32(b, uint32(len(b)))

	if err := unix.Sendto(fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("sendto", err)
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return os.NewSyscallError("recvfrom", err)
		}
		for msgs := buf[:n]; len(msgs) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(msgs))
			if l < unix.NLMSG_HDRLEN || l > len(msgs) {
				return os.NewSyscallError("rtnetlink", errors.New("truncated message"))
			}
			m := msgs[:l]
			if binary.NativeEndian.Uint16(m[4:]) == unix.NLMSG_ERROR && binary.NativeEndian.Uint32(m[8:]) == seq {
				return ackError(binary.NativeEndian.Uint16(m[6:]), m[unix.NLMSG_HDRLEN:])
			}
			msgs = msgs[min(nlmAlign(l), len(msgs)):]
		}
	}
}

// appendRTA appends one route attribute; every val here is a multiple of 4
// bytes long, so it needs no padding.
func appendRTA(b []byte, typ uint16, val []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(rtaHdrLen+len(val)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	return append(b, val...)
}

// ackError turns the payload of an NLMSG_ERROR into nil (an ACK) or its errno, with the
// kernel's extended-ACK message when there is one.
func ackError(flags uint16, data []byte) error {
	if len(data) < unix.SizeofNlMsgerr {
		return os.NewSyscallError("rtnetlink", errors.New("short NLMSG_ERROR"))
	}
	errno := -int32(binary.NativeEndian.Uint32(data))
	if errno == 0 {
		return nil
	}
	err := os.NewSyscallError("rtnetlink", unix.Errno(errno))
	if flags&unix.NLM_F_ACK_TLVS == 0 {
		return err
	}
	// The TLVs follow struct nlmsgerr, and the echoed request too unless
	// the kernel honoured NETLINK_CAP_ACK.
	off := unix.SizeofNlMsgerr
	if flags&unix.NLM_F_CAPPED == 0 {
		off = 4 + nlmAlign(int(binary.NativeEndian.Uint32(data[4:])))
	}
	if off > len(data) {
		return err
	}
	for tlv := data[off:]; len(tlv) >= nlaHdrLen; {
		l := int(binary.NativeEndian.Uint16(tlv))
		if l < nlaHdrLen || l > len(tlv) {
			break
		}
		if binary.NativeEndian.Uint16(tlv[2:])&^unix.NLA_F_NESTED == unix.NLMSGERR_ATTR_MSG {
			msg := tlv[nlaHdrLen:l]
			for len(msg) > 0 && msg[len(msg)-1] == 0 {
				msg = msg[:len(msg)-1]
			}
			return fmt.Errorf("%w (%s)", err, msg)
		}
		tlv = tlv[min(nlmAlign(l), len(tlv)):]
	}
	return err
}

func nlmAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }
