// The userspace data path: IPv4 between PPPoE sessions and one TUN device.
//
// One TUN device serves every session: the pool's addresses are routed to
// it, so the kernel hands us each client's downstream packets, and one
// goroutine (runTunReader) wraps them in PPPoE and writes them to the
// client's interface. Upstream, each interface's session-socket reader
// offers every frame to forward, which unwraps IPv4 of a session that is up
// and writes it to the TUN. One device and two goroutines per interface
// scale to thousands of sessions, where a TUN per session would cost a file
// descriptor, an interface and a goroutine each.
//
// The readers never touch loop-owned state. The loop publishes each up
// session's forwarding facts as an immutable dataSession in two arrays of
// atomic pointers, one indexed by session ID and one by pool slot, and
// clears them when IPCP goes down. The pool's address-to-slot map is built
// at start and never changes, so readers may use it freely. Each session's
// counters live as long as the session, across renegotiations, and only the
// data-path goroutines write them.
//
// Buffers: a reader takes a frame from the pool, reads into it at an offset
// that leaves room for the headers it will prepend, and puts it back when
// done, so forwarding a packet allocates nothing and copies nothing.

package main

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// tunDev is the TUN device, or a fake in tests.
type tunDev interface {
	readPacket(b []byte) (int, error)
	writePacket(b []byte) error
	close() error
}

// frameWriter writes whole frames. A packetLink gives each writing
// goroutine its own.
type frameWriter interface {
	writeFrame(b []byte) error
}

// dataSession is what the data path needs to know about a session whose
// IPCP is open. It is immutable once published; ctr is written by the
// data-path goroutines only.
type dataSession struct {
	dataLink
	addr uint32 // the client's IPv4 address
	slot poolSlot
}

// dataLink is what either address family needs to move a session's
// packets: where the peer is, its MRU, its counters and rate limits.
type dataLink struct {
	sid  uint16
	peer hwAddr
	ifc  *iface
	mru  int // the peer's MRU: the largest IP packet we may send it
	ctr  *trafficCounters
	up   *tokenBucket // from the peer; its tokens are the interface reader's
	down *tokenBucket // to the peer; its tokens are the TUN reader's
}

type tunPath struct {
	offset    uint16
	sessType  uint16
	bySID     []atomic.Pointer[dataSession]
	bySlot    []atomic.Pointer[dataSession]
	pool      *ipPool
	localMRU  int // the largest IP packet we accept from a client
	tun       tunDev
	tunName   string
	coarseNow atomic.Int64 // the loop's clock as of its last tick
	stats     *stats
	log       *logger
	closing   atomic.Bool
	wg        sync.WaitGroup
	// routeMTU, when set, gives a client's host route a smaller MTU than
	// the TUN's (mtu > 0) or removes it (mtu == 0). main sets it; tests
	// leave it nil.
	routeMTU func(addr netip.Addr, mtu int) error
	v6       tunPath6
}

func newTUNPath(cfg *config, tun tunDev, tunName string) *tunPath {
	p := &tunPath{
		offset:   uint16(cfg.SessionOffset),
		sessType: cfg.sessionType,
		bySID:    make([]atomic.Pointer[dataSession], cfg.MaxSessions),
		bySlot:   make([]atomic.Pointer[dataSession], cfg.pool.size()),
		pool:     cfg.pool,
		localMRU: ethPPPoEMTU,
		tun:      tun,
		tunName:  tunName,
	}
	p.v6.init(cfg.MaxSessions)
	return p
}

func (p *tunPath) mode() string { return "tun" }

func (p *tunPath) start(srv *server) {
	p.stats, p.log = &srv.stats, srv.log
	p.coarseNow.Store(srv.clock.UnixNano())
	p.wg.Add(1)
	go p.runTunReader()
}

func (p *tunPath) tick(now time.Time) { p.coarseNow.Store(now.UnixNano()) }

func (p *tunPath) close() error {
	p.closing.Store(true)
	err := p.tun.close()
	p.wg.Wait()
	return err
}

// tunSession is one session's side of the TUN path. The loop owns it.
type tunSession struct {
	p        *tunPath
	sess     *session
	ctr      trafficCounters
	upB      tokenBucket  // from the peer
	downB    tokenBucket  // to the peer
	ds       *dataSession // published while up
	mtuRoute bool         // a host route carries the peer's smaller MRU
	v6       tunSession6
}

// link is the session's dataLink with the peer's MRU mru.
func (t *tunSession) link(mru int) dataLink {
	s := t.sess
	return dataLink{sid: s.id, peer: s.peer, ifc: s.iface, mru: mru, ctr: &t.ctr, up: &t.upB, down: &t.downB}
}

func (p *tunPath) open(sess *session) (sessionPath, error) {
	return &tunSession{p: p, sess: sess}, nil
}

func (t *tunSession) sendControl(proto uint16, b []byte) error {
	s := t.sess
	putSessionHeader(b, s.peer, s.iface.mac, t.p.sessType, s.id, proto)
	return s.iface.sessW.writeFrame(b)
}

func (t *tunSession) enterNetwork(int) error { return nil }

func (t *tunSession) setRate(r rateLimit) {
	t.downB.set(r.down)
	t.upB.set(r.up)
}
func (t *tunSession) ifname() string { return t.p.tunName }
func (t *tunSession) counters() trafficCounts {
	return t.ctr.load()
}
func (t *tunSession) lastData() (rx, tx time.Time) { return t.ctr.last() }

// up publishes the session to the readers.
func (t *tunSession) up(_, peer netip.Addr, mtu int) error {
	t.down()
	p, s := t.p, t.sess
	slot, ok := p.pool.byAddr[addrU32(peer)]
	if !ok {
		return errors.New("pppoe: the peer's address is not in the pool")
	}
	ds := &dataSession{dataLink: t.link(mtu), addr: addrU32(peer), slot: slot}
	p.bySID[s.id-p.offset-1].Store(ds)
	p.bySlot[slot].Store(ds)
	t.ds = ds
	// A client whose MRU is below the TUN's MTU (Windows asks for 1480)
	// gets a host route with that MTU, so the kernel fragments or sends
	// "fragmentation needed" instead of the data path dropping what does
	// not fit.
	if mtu < ethPPPoEMTU && p.routeMTU != nil {
		if err := p.routeMTU(peer, mtu); err != nil {
			s.logger().Warn("cannot set the route MTU for the session", "mtu", mtu, "err", err)
		} else {
			t.mtuRoute = true
		}
	}
	return nil
}

// down stops forwarding. A reader that loaded the pointer just before may
// still forward one last packet, which is harmless: the peer and address
// were valid a moment ago.
func (t *tunSession) down() {
	ds := t.ds
	if ds == nil {
		return
	}
	p := t.p
	p.bySID[ds.sid-p.offset-1].CompareAndSwap(ds, nil)
	p.bySlot[ds.slot].CompareAndSwap(ds, nil)
	t.ds = nil
	if t.mtuRoute {
		t.mtuRoute = false
		if err := p.routeMTU(u32addr(ds.addr), 0); err != nil {
			t.sess.logger().Warn("cannot remove the session's MTU route", "err", err)
		}
	}
}

func (t *tunSession) close() error {
	t.down()
	t.down6()
	return nil
}

// forward handles a session-stage frame on the reader goroutine. It reports
// false when the frame is not plain IPv4 of a published session, and the
// loop must see it instead. b is the whole frame; the caller keeps it.
func (p *tunPath) forward(ifc *iface, b []byte) bool {
	// Check the headers once, then index freely (STYLE §3).
	if len(b) < headroom+20 || b[offVerType] != verType || b[offCode] != byte(codeSession) {
		return false
	}
	proto := binary.BigEndian.Uint16(b[discoveryHdrLen:])
	if proto != protoIPv4 && proto != protoIPv6 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[offLength:])) - pppProtoLen
	if n < 20 || headroom+n > len(b) {
		return false
	}
	sid := binary.BigEndian.Uint16(b[offSessionID:])
	i := int(sid) - int(p.offset) - 1
	if i < 0 || i >= len(p.bySID) {
		return false
	}
	if proto == protoIPv6 {
		return p.forward6(ifc, b, i, n)
	}
	ds := p.bySID[i].Load()
	if ds == nil || ds.ifc != ifc || hwAddr(b[6:12]) != ds.peer {
		return false
	}
	pkt := b[headroom : headroom+n]
	switch {
	case pkt[0]>>4 != 4:
		p.stats.add(statDataDropped)
	case binary.BigEndian.Uint32(pkt[12:]) != ds.addr:
		// Anti-spoofing: a client may only send from its own address.
		p.stats.add(statSpoofDropped)
	default:
		p.sendUp(pkt, &ds.dataLink)
	}
	return true
}

// sendUp writes a packet from the peer of d to the TUN, within our MRU and
// d's rate, and counts it.
func (p *tunPath) sendUp(pkt []byte, d *dataLink) {
	n := len(pkt)
	switch {
	case n > p.localMRU:
		p.stats.add(statDataDropped)
	case !d.up.allow(n):
		p.stats.add(statRateDropped)
	default:
		if err := p.tun.writePacket(pkt); err != nil {
			p.stats.add(statDataDropped)
			return
		}
		d.ctr.rxPackets.Add(1)
		d.ctr.rxBytes.Add(uint64(n))
		touch(&d.ctr.lastRx, p.coarseNow.Load())
		p.stats.add(statDataUp)
	}
}

// runTunReader forwards downstream packets from the TUN to the sessions.
func (p *tunPath) runTunReader() {
	defer p.wg.Done()
	p.log.Debug("tun reader started")
	defer p.log.Debug("tun reader stopped")
	f := getFrame()
	defer putFrame(f)
	for {
		n, err := p.tun.readPacket(f[headroom:])
		if err != nil {
			if p.closing.Load() || errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
				return
			}
			p.stats.add(statDataDropped)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.forwardDown(f[:headroom+n])
	}
}

// forwardDown wraps one IP packet, at b[headroom:], for its session and
// sends it. The caller keeps b.
func (p *tunPath) forwardDown(b []byte) {
	pkt := b[headroom:]
	if len(pkt) > 0 && pkt[0]>>4 == 6 {
		p.forwardDown6(b)
		return
	}
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		p.stats.add(statDataDropped)
		return
	}
	slot, ok := p.pool.byAddr[binary.BigEndian.Uint32(pkt[16:])]
	if !ok {
		p.stats.add(statDataDropped)
		return
	}
	ds := p.bySlot[slot].Load()
	if ds == nil {
		p.stats.add(statNoSession)
		return
	}
	p.sendDown(b, &ds.dataLink, protoIPv4)
}

// sendDown wraps the packet at b[headroom:] for the peer of d as proto,
// within its MRU and rate, sends it and counts it.
func (p *tunPath) sendDown(b []byte, d *dataLink, proto uint16) {
	n := len(b) - headroom
	if n > d.mru {
		p.stats.add(statTooBig)
		return
	}
	if !d.down.allow(n) {
		p.stats.add(statRateDropped)
		return
	}
	putSessionHeader(b, d.peer, d.ifc.mac, p.sessType, d.sid, proto)
	if err := d.ifc.dataW.writeFrame(b); err != nil {
		p.stats.add(statDataDropped)
		return
	}
	d.ctr.txPackets.Add(1)
	d.ctr.txBytes.Add(uint64(n))
	touch(&d.ctr.lastTx, p.coarseNow.Load())
	p.stats.add(statDataDown)
}

// touch records now in t unless it holds it already: the coarse clock
// moves four times a second, and a load costs less than a store.
func touch(t *atomic.Int64, now int64) {
	if t.Load() != now {
		t.Store(now)
	}
}
