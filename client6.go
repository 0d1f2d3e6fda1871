//go:build !noclient

// IPv6 for pppoed client (--ipv6): IPv6CP beside IPCP, a Router
// Solicitation for the server's RA, the address the RA's /64 and our
// interface identifier make (SLAAC), and a prefix delegated over DHCPv6
// (Solicit with Rapid Commit for an IA_PD, or Solicit, Advertise, Request,
// Reply when the server wants the four messages). A session counts as up
// once IPCP is up and IPv6 has its answer, whatever it is: a delegated
// prefix, a status the server gave, or nothing after the retries. The
// dialer's loop owns all of this, as the rest of the session.

package main

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// csess6 is the IPv6 side of a client session.
type csess6 struct {
	up        bool // IPv6CP open
	done      bool // IPv6 has its answer
	raSeen    bool
	prefix    netip.Prefix // the RA's /64
	addr      netip.Addr   // prefix + our interface identifier
	dns       []netip.Addr // the RA's RDNSS
	delegated netip.Prefix
	pdWhy     string // why there is no delegated prefix
	txid      [3]byte
	duid      [10]byte // DUID-LL from the session's MAC
	tries     int
	retryAt   time.Time
}

const (
	clientV6Retry = 2 * time.Second
	clientV6Tries = 8
)

func (d *dialer) startIPv6CP(cs *csess) {
	if !d.cfg.ipv6 {
		return
	}
	cs.ipv6cpL.reset(cs, true, rand64)
	cs.ipv6cp.up(d.clock)
	cs.ipv6cp.open(d.clock)
}

func (cs *csess) onIPv6CPUp() {
	cs.v6.up = true
	if cs.v6.done {
		return
	}
	copy(cs.v6.duid[:], appendDUIDLL(nil, cs.mac))
	fillRandom(cs.v6.txid[:])
	cs.sendRS()
}

func (cs *csess) onIPv6CPDown() { cs.v6.up = false }

func (cs *csess) onIPv6CPFinished() {
	if !cs.v6.done {
		cs.v6.pdWhy = "IPv6CP failed"
		cs.ipv6Done()
	}
}

// ipv6Done records that IPv6 has its answer and lets the session count as
// up if IPCP is.
func (cs *csess) ipv6Done() {
	cs.v6.done = true
	cs.maybeUp()
}

func (cs *csess) sendRS() {
	d := cs.d
	cs.v6.tries++
	cs.v6.retryAt = d.clock.Add(clientV6Retry)
	cs.sendIPv6(allRouters, ipProtoICMPv6, 255, func(b []byte) []byte { return appendRS(b) })
}

func (cs *csess) sendSolicit() {
	d := cs.d
	cs.v6.tries++
	cs.v6.retryAt = d.clock.Add(clientV6Retry)
	cs.sendIPv6(allDHCP, ipProtoUDP, 1, func(b []byte) []byte {
		b = appendUDPHeader(b, dhcp6ClientPort, dhcp6ServerPort)
		return appendDHCP6Solicit(b, cs.v6.txid, cs.v6.duid[:], uint32(cs.idx), true, false, true)
	})
}

func (cs *csess) sendIPv6(dst [16]byte, next, hop uint8, body func([]byte) []byte) {
	b, start := appendIPv6(cs.d.ctrlTx[headroom:headroom], linkLocal(cs.ipv6cpL.local), dst, next, hop)
	b = body(b)
	finishIPv6(b, start)
	cs.sendPPP(protoIPv6, b)
}

// tick6 retransmits the RS or the Solicit, and gives up after a while.
func (cs *csess) tick6() {
	d := cs.d
	if !cs.ipv6cp.deadline.IsZero() && !d.clock.Before(cs.ipv6cp.deadline) {
		d.retxCP++
		cs.ipv6cp.timeout(d.clock)
	}
	if !cs.v6.up || cs.v6.done || d.clock.Before(cs.v6.retryAt) {
		return
	}
	if cs.v6.tries >= clientV6Tries {
		if !cs.v6.raSeen {
			cs.v6.pdWhy = "no Router Advertisement"
		} else {
			cs.v6.pdWhy = "no DHCPv6 reply"
		}
		cs.ipv6Done()
		return
	}
	if !cs.v6.raSeen {
		cs.sendRS()
	} else {
		cs.sendSolicit()
	}
}

// onIPv6 handles an IPv6 packet from the server: its RA or a DHCPv6 reply.
func (cs *csess) onIPv6(b []byte) {
	pkt, err := parseIPv6(b)
	if err != nil {
		return
	}
	switch pkt.next {
	case ipProtoICMPv6:
		typ, _, body, err := parseICMPv6(pkt)
		if err != nil || typ != icmp6RA || pkt.hopLimit != 255 || cs.v6.raSeen {
			return
		}
		ra, err := parseRA(body)
		if err != nil {
			return
		}
		p, ok := ra.slaacPrefix()
		if !ok {
			return
		}
		a := p.prefix.Addr().As16()
		copy(a[8:], cs.ipv6cpL.local[:])
		cs.v6.raSeen, cs.v6.prefix, cs.v6.addr = true, p.prefix, netip.AddrFrom16(a)
		cs.v6.dns = append(cs.v6.dns[:0], ra.rdnss[:ra.nrdnss]...)
		cs.v6.tries = 0
		cs.sendSolicit()
	case ipProtoUDP:
		_, dport, data, err := parseUDP(pkt)
		if err != nil || dport != dhcp6ClientPort || !cs.v6.raSeen || cs.v6.done {
			return
		}
		var m dhcp6Msg
		if parseDHCPv6(data, &m) != nil || m.txid != cs.v6.txid {
			return
		}
		switch m.typ {
		case dhcp6Advertise:
			cs.sendIPv6(allDHCP, ipProtoUDP, 1, func(b []byte) []byte {
				b = appendUDPHeader(b, dhcp6ClientPort, dhcp6ServerPort)
				return appendDHCP6Request(b, cs.v6.txid, cs.v6.duid[:], &m)
			})
		case dhcp6Reply:
			if ia, ok := granted(m.pd[:m.nPD]); ok {
				cs.v6.delegated = ia.prefix
			} else if m.nPD > 0 {
				cs.v6.pdWhy = m.pd[0].status.String()
			} else {
				cs.v6.pdWhy = "no IA_PD in the reply"
			}
			cs.ipv6Done()
		}
	}
}

// ipv6Line is the session's IPv6, as printed once it is up.
func (cs *csess) ipv6Line() string {
	var dns []string
	for _, a := range cs.v6.dns {
		dns = append(dns, a.String())
	}
	pd := "none"
	if cs.v6.delegated.IsValid() {
		pd = cs.v6.delegated.String()
	} else if cs.v6.pdWhy != "" {
		pd = "none (" + cs.v6.pdWhy + ")"
	}
	addr := "none"
	if cs.v6.addr.IsValid() {
		addr = cs.v6.addr.String()
	}
	return fmt.Sprintf("session %d ipv6: addr=%s prefix=%s delegated=%s dns=%s local=%s remote=%s\n", cs.idx, addr,
		cs.v6.prefix, pd, strings.Join(dns, ","), netip.AddrFrom16(linkLocal(cs.ipv6cpL.local)), netip.AddrFrom16(linkLocal(cs.ipv6cpL.peer)))
}

// tunIPv6 puts the session's SLAAC address and the first address of its
// delegated prefix on its TUN device, and with --default-route routes
// IPv6 through it too.
func (cs *csess) tunIPv6(t *tunDevice) error {
	if !cs.v6.addr.IsValid() {
		return nil
	}
	if err := t.addAddr6(cs.v6.addr, 64); err != nil {
		return err
	}
	if p := cs.v6.delegated; p.IsValid() {
		a := p.Addr().As16()
		a[15] |= 1
		if err := t.addAddr6(netip.AddrFrom16(a), 128); err != nil {
			return err
		}
	}
	if cs.d.cfg.defaultRoute && cs.idx == 0 {
		if err := addRoute(t.name(), netip.PrefixFrom(netip.IPv6Unspecified(), 0)); err != nil {
			return fmt.Errorf("IPv6 default route: %w", err)
		}
	}
	return nil
}
