// IPv6 on the userspace data path: the sessions' /64s and delegated
// prefixes between the PPPoE sessions and the one TUN device.
//
// Upstream, the interface readers forward a session's IPv6 whose source is
// in its /64 or its delegated prefix, and drop and count any other global
// source (anti-spoofing). Packets to a multicast or link-local address
// (Router Solicitations, DHCPv6, Neighbor Discovery) are not forwarded:
// the loop answers them. Downstream, the TUN reader finds the session by
// the destination's upper 64 bits: the /64 first, then each delegated
// prefix length in use.
//
// As for IPv4, the loop publishes each session's facts as an immutable
// dataSession6 in an array of atomic pointers by session ID, for the
// interface readers; the TUN reader's maps are guarded by mu6, which only
// the loop takes for writing, when IPv6CP comes up or goes down or a prefix
// is delegated.

package main

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
)

// dataSession6 is what the data path needs to forward a session's IPv6.
// It is immutable once published.
type dataSession6 struct {
	dataLink
	prefix uint64 // the /64's upper half
	pd     uint64 // the delegated prefix's upper half, masked; pdBits 0: none
	pdBits uint8
}

// pdKey finds a session by a delegated prefix of one length.
type pdKey struct {
	hi   uint64
	bits uint8
}

// tunPath6 is the TUN path's IPv6 state.
type tunPath6 struct {
	bySID  []atomic.Pointer[dataSession6]
	mu     sync.RWMutex
	by64   map[uint64]*dataSession6
	byPD   map[pdKey]*dataSession6
	pdLens []uint8 // the delegated lengths in use, longest first
	pdUse  map[uint8]int
	// routeTUN routes a prefix to the TUN with a path MTU (0: the
	// TUN's) when add is true, or withdraws that route; main sets it,
	// tests leave it nil.
	routeTUN func(pfx netip.Prefix, mtu int, add bool) error
	// pools are the IPv6 pools, whose prefixes main routes to the TUN;
	// nil in tests, where every prefix counts as covered.
	pools *v6Pools
}

func (p *tunPath6) init(n int) {
	p.bySID = make([]atomic.Pointer[dataSession6], n)
	p.by64 = map[uint64]*dataSession6{}
	p.byPD = map[pdKey]*dataSession6{}
	p.pdUse = map[uint8]int{}
}

func mask64(bits uint8) uint64 {
	if bits == 0 {
		return 0
	}
	return ^uint64(0) << (64 - bits)
}

func prefixHi(p netip.Prefix) uint64 {
	a := p.Addr().As16()
	return binary.BigEndian.Uint64(a[:8]) & mask64(uint8(p.Bits()))
}

// lookup is the session whose /64 or delegated prefix holds dst's upper
// half. Only the TUN reader calls it.
func (p *tunPath6) lookup(hi uint64) *dataSession6 {
	p.mu.RLock()
	ds := p.by64[hi]
	if ds == nil {
		for _, l := range p.pdLens {
			if ds = p.byPD[pdKey{hi & mask64(l), l}]; ds != nil {
				break
			}
		}
	}
	p.mu.RUnlock()
	return ds
}

// publish replaces old with ds (either may be nil) in the maps and the
// session-ID array. The loop calls it.
func (p *tunPath6) publish(i int, old, ds *dataSession6) {
	p.mu.Lock()
	if old != nil {
		if p.by64[old.prefix] == old {
			delete(p.by64, old.prefix)
		}
		if old.pdBits > 0 {
			k := pdKey{old.pd, old.pdBits}
			if p.byPD[k] == old {
				delete(p.byPD, k)
			}
			p.pdUse[old.pdBits]--
		}
	}
	if ds != nil {
		p.by64[ds.prefix] = ds
		if ds.pdBits > 0 {
			p.byPD[pdKey{ds.pd, ds.pdBits}] = ds
			p.pdUse[ds.pdBits]++
		}
	}
	p.pdLens = p.pdLens[:0]
	for l, n := range p.pdUse {
		if n > 0 {
			p.pdLens = append(p.pdLens, l)
		}
	}
	// Longest first, so a more specific delegation wins.
	for a := 1; a < len(p.pdLens); a++ {
		for b := a; b > 0 && p.pdLens[b] > p.pdLens[b-1]; b-- {
			p.pdLens[b], p.pdLens[b-1] = p.pdLens[b-1], p.pdLens[b]
		}
	}
	p.mu.Unlock()
	if ds != nil {
		p.bySID[i].Store(ds)
	} else if old != nil {
		p.bySID[i].CompareAndSwap(old, nil)
	}
}

// tunSession6 is one session's IPv6 side of the TUN path; the loop owns it.
type tunSession6 struct {
	ds       *dataSession6
	prefix   netip.Prefix
	pd       netip.Prefix
	mtu      int  // the peer's MRU
	routed64 bool // prefix has a route of its own to the TUN
	routedPD bool
}

func (t *tunSession) up6(_, _ [ifaceIDLen]byte, prefix netip.Prefix, mtu int) error {
	t.down6()
	if prefix.Bits() != 64 || !prefix.Addr().Is6() {
		return errors.New("pppoe: a session's IPv6 prefix must be a /64")
	}
	t.v6.mtu = mtu
	own, err := t.routeOwn(prefix)
	if err != nil {
		return err
	}
	t.v6.prefix, t.v6.routed64 = prefix, own
	t.publish6(mtu)
	return nil
}

func (t *tunSession) route6(pfx netip.Prefix) error {
	if t.v6.ds == nil {
		return errors.New("pppoe: route6 while IPv6 is down")
	}
	if t.v6.pd.IsValid() {
		if t.v6.routedPD {
			t.unroute(t.v6.pd)
		}
		t.v6.pd, t.v6.routedPD = netip.Prefix{}, false
	}
	if pfx.IsValid() {
		own, err := t.routeOwn(pfx)
		if err != nil {
			t.publish6(t.v6.mtu)
			return err
		}
		t.v6.pd, t.v6.routedPD = pfx, own
	}
	t.publish6(t.v6.mtu)
	return nil
}

func (t *tunSession) down6() {
	if t.v6.ds == nil {
		return
	}
	p := t.p
	p.v6.publish(int(t.sess.id-p.offset-1), t.v6.ds, nil)
	t.v6.ds = nil
	if t.v6.routed64 {
		t.unroute(t.v6.prefix)
	}
	if t.v6.routedPD {
		t.unroute(t.v6.pd)
	}
	t.v6 = tunSession6{}
}

// publish6 publishes the session's IPv6 facts as they are now.
func (t *tunSession) publish6(mru int) {
	p, s := t.p, t.sess
	ds := &dataSession6{dataLink: t.link(mru), prefix: prefixHi(t.v6.prefix)}
	if t.v6.pd.IsValid() {
		ds.pd, ds.pdBits = prefixHi(t.v6.pd), uint8(t.v6.pd.Bits())
	}
	p.v6.publish(int(s.id-p.offset-1), t.v6.ds, ds)
	t.v6.ds = ds
}

// routeOwn gives pfx a route of its own to the TUN when the pools' routes
// do not cover it (a prefix from RADIUS), or when the peer's MRU is below
// the TUN's MTU: that route carries the MRU, so the kernel answers a
// packet too big for the peer with ICMPv6 Packet Too Big instead of the
// data path dropping it. It reports whether it added one.
func (t *tunSession) routeOwn(pfx netip.Prefix) (bool, error) {
	p := &t.p.v6
	mtu := t.v6.mtu
	if mtu >= ethPPPoEMTU {
		mtu = 0
	}
	if p.routeTUN == nil || p.pools == nil || (p.pools.covers(pfx) && mtu == 0) || p.pools.isBase(pfx) {
		// A prefix that is a pool's whole prefix keeps the pool's
		// route: one of its own would replace it, and its removal
		// would take the pool's with it.
		return false, nil
	}
	return true, p.routeTUN(pfx, mtu, true)
}

func (t *tunSession) unroute(pfx netip.Prefix) {
	if err := t.p.v6.routeTUN(pfx, 0, false); err != nil {
		t.sess.logger().Warn("cannot remove a session's IPv6 route", "prefix", pfx.String(), "err", err)
	}
}

// forward6 forwards one IPv6 packet of session i from the peer, on an
// interface reader's goroutine. It reports false for what the loop must
// see: a packet to a multicast or link-local address, or one of a session
// whose IPv6 is not up.
func (p *tunPath) forward6(ifc *iface, b []byte, i, n int) bool {
	ds := p.v6.bySID[i].Load()
	if ds == nil || ds.ifc != ifc || hwAddr(b[6:12]) != ds.peer {
		return false
	}
	pkt := b[headroom : headroom+n]
	if n < 40 || pkt[0]>>4 != 6 {
		p.stats.add(statDataDropped)
		return true
	}
	if toLink6(pkt) {
		// To us or the link: the loop answers RS, NS, echo and
		// DHCPv6; anything else (mDNS, SSDP, MLD, ...) is for nobody
		// here and must not fill the loop's queue.
		if forLoop6(pkt) {
			return false
		}
		p.stats.add(statDataDropped)
		return true
	}
	src := binary.BigEndian.Uint64(pkt[8:16])
	switch {
	case src != ds.prefix && (ds.pdBits == 0 || src&mask64(ds.pdBits) != ds.pd):
		// Anti-spoofing: only the session's /64 and delegated prefix.
		p.stats.add(statSpoofDropped)
	default:
		p.sendUp(pkt, &ds.dataLink)
	}
	return true
}

// toLink6 reports whether an IPv6 packet (at least its 40-byte header) is
// for a multicast or link-local address: for whoever is on the link, not
// to be forwarded.
func toLink6(pkt []byte) bool { return pkt[24] == 0xff || (pkt[24] == 0xfe && pkt[25]&0xc0 == 0x80) }

// forLoop6 reports whether an IPv6 packet to a multicast or link-local
// address is one the loop answers: a Router or Neighbor Solicitation, an
// echo request, or DHCPv6 to the server port. pkt holds at least the
// IPv6 header.
func forLoop6(pkt []byte) bool {
	switch pkt[6] {
	case ipProtoICMPv6:
		if len(pkt) < 41 {
			return false
		}
		t := pkt[40]
		return t == icmp6RS || t == icmp6NS || t == icmp6EchoRequest
	case ipProtoUDP:
		return len(pkt) >= 48 && binary.BigEndian.Uint16(pkt[42:]) == dhcp6ServerPort
	}
	return false
}

// forwardDown6 wraps one IPv6 packet from the TUN, at b[headroom:], for its
// session and sends it.
func (p *tunPath) forwardDown6(b []byte) {
	pkt := b[headroom:]
	if len(pkt) < 40 {
		p.stats.add(statDataDropped)
		return
	}
	ds := p.v6.lookup(binary.BigEndian.Uint64(pkt[24:32]))
	if ds == nil {
		p.stats.add(statNoSession)
		return
	}
	p.sendDown(b, &ds.dataLink, protoIPv6)
}
