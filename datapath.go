// The data-path seam: how a session's frames move once discovery is done.
//
// Two implementations: tunPath (dataplane.go) moves IPv4 between the
// sessions and one TUN device in userspace; kernelPath (pppox_linux.go)
// hands each session to the kernel's PPPoE driver and pppN units. main
// picks one and passes it to the server; tests pass a fake. The server and
// the session never ask which one they have.
//
// Every method of dataPath and sessionPath runs on the loop goroutine,
// except dataPath.forward, which the session sockets' readers call. A
// path's own goroutines only post frames to the loop's queue.

package main

import (
	"net/netip"
	"sync/atomic"
	"time"
)

type dataPath interface {
	// mode names the path for logs: "tun" or "kernel".
	mode() string
	// start launches the path's goroutines. They post the control frames
	// they receive to srv's queue and stop when close is called.
	start(srv *server)
	// forward is offered every frame a session socket reads, on that
	// reader's goroutine. It reports whether the path took the frame (data
	// of a session that is up); the loop sees the frame otherwise. The
	// caller keeps b.
	forward(ifc *iface, b []byte) bool
	// tick tells the path the loop's clock, every tick.
	tick(now time.Time)
	// open readies the path of a session whose PADR was accepted, before
	// the PADS goes out.
	open(sess *session) (sessionPath, error)
	// close stops the path's goroutines and releases what it holds.
	close() error
}

// sessionPath is one session's side of the data path, from open to close.
type sessionPath interface {
	// sendControl sends a PPP control packet of the session. b is a frame
	// buffer holding the packet at b[headroom:]; the path fills the
	// headers in front of it in place. The caller keeps b.
	sendControl(proto uint16, b []byte) error
	// enterNetwork readies the session for its NCPs once it is
	// authenticated (kernel mode: the pppN unit). It is a no-op the second
	// time, as after an LCP renegotiation.
	enterNetwork(mru int) error
	// up starts forwarding IPv4 with the addresses IPCP agreed; down
	// stops it. down after down, or without up, is a no-op.
	up(local, peer netip.Addr, mtu int) error
	down()
	// up6 starts forwarding the session's IPv6 once IPv6CP is open: from
	// the peer, packets whose source is in prefix (its /64) or in a
	// delegated prefix route6 added; to the peer, packets for those
	// prefixes. local and peer are the IPv6CP interface identifiers (in
	// kernel mode pppN's link-local addresses are made of them). down6
	// stops it; down6 after down6, or without up6, is a no-op.
	up6(local, peer [ifaceIDLen]byte, prefix netip.Prefix, mtu int) error
	// route6 routes a prefix delegated to the session (DHCPv6 IA_PD) to
	// it, and takes it as a source it may send from; an invalid prefix
	// withdraws it. It is called only between up6 and down6; down6
	// withdraws it too.
	route6(pfx netip.Prefix) error
	down6()
	// setRate limits the session's traffic (ratelimit.go); a zero limit
	// lifts it. It may be called before up, and again at any time.
	setRate(r rateLimit)
	// ifname is the interface the session's traffic uses: pppN, or the
	// TUN device.
	ifname() string
	// counters are the session's traffic so far: IP packets and their
	// bytes in each direction, control frames not included.
	counters() trafficCounts
	// lastData is when data last moved from the peer (rx) and to it (tx);
	// zero when never.
	lastData() (rx, tx time.Time)
	// close releases the session's path. It is the last call.
	close() error
}

// trafficCounts is a session's traffic as the data path counted it. rx is
// from the peer (upstream), tx to the peer.
type trafficCounts struct {
	rxBytes, rxPackets, txBytes, txPackets uint64
}

// trafficCounters is trafficCounts kept by the data-path goroutines, plus
// when data last moved, in the loop's coarse Unix nanoseconds.
type trafficCounters struct {
	rxBytes, rxPackets, txBytes, txPackets atomic.Uint64
	lastRx, lastTx                         atomic.Int64
}

func (c *trafficCounters) load() trafficCounts {
	return trafficCounts{c.rxBytes.Load(), c.rxPackets.Load(), c.txBytes.Load(), c.txPackets.Load()}
}

func (c *trafficCounters) last() (rx, tx time.Time) {
	return unixNanoTime(c.lastRx.Load()), unixNanoTime(c.lastTx.Load())
}

func unixNanoTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}
