// The IPv6 control traffic a session's peer sends to us rather than
// through us: Router Solicitations, DHCPv6, Neighbor Solicitations and
// echo requests for our link-local address. The data path hands these to
// the loop (TUN mode: what is not forwarded; kernel mode: what the
// AF_PACKET reader picks off pppN), and the answers go back through the
// session's path as PPP frames of protocol 0x0057, built in the loop's
// transmit buffer. Everything here runs on the loop goroutine and
// allocates nothing.

package main

import "time"

var (
	allNodes   = [16]byte{0: 0xff, 1: 0x02, 15: 1}
	allRouters = [16]byte{0: 0xff, 1: 0x02, 15: 2}
	allDHCP    = [16]byte{0: 0xff, 1: 0x02, 13: 1, 15: 2} // ff02::1:2
)

// handleIPv6 answers one IPv6 packet the peer sent to us.
func (s *session) handleIPv6(b []byte) {
	srv := s.srv
	if len(b) > int(s.lcpL.maxMRU()) {
		// Longer than we let the peer send: not a control packet we
		// answer, and its answer could outgrow the transmit buffer.
		srv.drop(s.iface, dropBadPPP, b)
		return
	}
	pkt, err := parseIPv6(b)
	if err != nil {
		srv.drop(s.iface, dropBadPPP, b)
		return
	}
	local := linkLocal(s.ipv6cpL.local)
	switch pkt.next {
	case ipProtoICMPv6:
		typ, code, body, err := parseICMPv6(pkt)
		if err != nil || code != 0 {
			srv.drop(s.iface, dropBadPPP, b)
			return
		}
		switch {
		case typ == icmp6RS && pkt.hopLimit == 255:
			s.solicited()
		case typ == icmp6NS && pkt.hopLimit == 255:
			// Our address, resolved or checked for reachability (RFC
			// 4861 §7.2.4: Solicited set), or probed by DAD from the
			// unspecified address (the answer goes to all nodes,
			// Solicited clear).
			if t, err := parseNS(body); err == nil && t == local {
				dst, solicited := pkt.src, true
				if pkt.src == ([16]byte{}) {
					dst, solicited = allNodes, false
				}
				s.sendIPv6(local, dst, ipProtoICMPv6, 255, func(o []byte) []byte {
					return appendNA(o, local, true, solicited, true)
				})
			}
		case typ == icmp6EchoRequest && pkt.dst == local:
			s.sendIPv6(local, pkt.src, ipProtoICMPv6, 64, func(o []byte) []byte { return appendEchoReply(o, body) })
		}
		// Anything else (MLD reports, our own RAs looped back, DAD) is
		// for nobody here.
	case ipProtoUDP:
		_, dport, data, err := parseUDP(pkt)
		if err != nil || dport != dhcp6ServerPort || (pkt.dst != allDHCP && pkt.dst != local) {
			return
		}
		s.handleDHCPv6(local, pkt.src, data)
	}
}

// handleDHCPv6 answers one DHCPv6 message from the peer at src.
func (s *session) handleDHCPv6(local, src [16]byte, data []byte) {
	srv := s.srv
	var req dhcp6Msg
	if err := parseDHCPv6(data, &req); err != nil {
		if srv.logLimit.allow(logIPv6, srv.clock) {
			s.logger().Debug("DHCPv6 message dropped", "err", err)
		}
		return
	}
	// The reply goes into the loop's receive-side scratch buffer, then
	// into the transmit buffer with its headers.
	reply, ok := srv.dhcp6.handle(srv.scratch6[:0], &req, &s.v6.dhcp, s)
	if !ok {
		return
	}
	s.sendIPv6(local, src, ipProtoUDP, 255, func(o []byte) []byte {
		o = appendUDPHeader(o, dhcp6ServerPort, dhcp6ClientPort)
		return append(o, reply...)
	})
}

// sendRA sends a Router Advertisement to all nodes and schedules the next.
func (s *session) sendRA() {
	srv := s.srv
	v := srv.cfg.v6
	p := raParams{
		curHopLimit:       64,
		other:             true,
		routerLifetime:    raRouterLifetime,
		prefix:            s.v6.prefix,
		validLifetime:     raValidLifetime,
		preferredLifetime: raPreferred,
		mtu:               uint32(min(s.lcpL.peerMRU, s.lcpL.maxMRU())),
		rdnssLifetime:     uint32(2 * raMaxInterval / time.Second),
	}
	if v != nil {
		copy(p.rdnss[:], v.dns)
	}
	local := linkLocal(s.ipv6cpL.local)
	s.sendIPv6(local, allNodes, ipProtoICMPv6, 255, func(o []byte) []byte { return appendRA(o, &p) })
	s.nextRA(srv.clock)
}

// sendIPv6 builds an IPv6 packet from src to dst in the loop's transmit
// buffer, its payload appended by body, and sends it to the peer.
// A packet that would not fit the buffer or the peer's MRU is not sent.
func (s *session) sendIPv6(src, dst [16]byte, next, hop uint8, body func([]byte) []byte) {
	srv := s.srv
	tx := srv.ctrlTx[headroom:headroom]
	b, start := appendIPv6(tx, src, dst, next, hop)
	b = body(b)
	if len(b) > cap(tx) || &b[:1][0] != &srv.ctrlTx[headroom] || len(b) > int(s.lcpL.peerMRU) {
		srv.stats.add(statTxErrors)
		if srv.logLimit.allow(logIPv6, srv.clock) {
			s.logger().Warn("an IPv6 answer larger than the peer's MRU was not sent", "bytes", len(b), "mru", s.lcpL.peerMRU)
		}
		return
	}
	finishIPv6(b, start)
	s.sendPPP(protoIPv6, b)
}
