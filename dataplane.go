// The userspace data path: IPv4 between PPPoE sessions and one TUN device.
//
// One TUN device serves every session: the pool's addresses are routed to
// it, so the kernel hands us each client's downstream packets, and one
// goroutine (runTunReader) wraps them in PPPoE and writes them to the
// client's interface. Upstream, each interface's session-socket reader
// (runSessionReader) unwraps IPv4 frames and writes them to the TUN. One
// device and two goroutines per interface scale to thousands of sessions,
// where a TUN per session would cost a file descriptor, an interface and a
// goroutine each.
//
// The readers never touch loop-owned state. The loop publishes each
// session's forwarding facts as an immutable dataSession in two arrays of
// atomic pointers, one indexed by session ID and one by pool slot, and
// clears them when the session ends. The pool's address-to-slot map is
// built at start and never changes, so readers may use it freely.
//
// Buffers: a reader takes a frame from the pool, reads into it at an offset
// that leaves room for the headers it will prepend, and puts it back when
// done, so forwarding a packet allocates nothing and copies nothing.

package main

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
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
// IPCP is open. It is immutable once published, except for lastRx.
type dataSession struct {
	sid  uint16
	peer hwAddr
	ifc  *iface
	addr uint32 // the client's IPv4 address
	slot poolSlot
	mru  int // the peer's MRU: the largest IP packet we may send it

	lastRx atomic.Int64 // coarse Unix nanoseconds of the last upstream packet
}

type dataPlane struct {
	offset    uint16
	sessType  uint16
	bySID     []atomic.Pointer[dataSession]
	bySlot    []atomic.Pointer[dataSession]
	pool      *ipPool
	localMRU  int // the largest IP packet we accept from a client
	tun       tunDev
	tunW      map[*iface]frameWriter // each interface's writer for runTunReader
	coarseNow atomic.Int64           // set by the loop every tick
	stats     *stats
	closing   atomic.Bool
}

func newDataPlane(sessions, offset int, sessType uint16, pool *ipPool, tun tunDev, st *stats) *dataPlane {
	return &dataPlane{
		offset:   uint16(offset),
		sessType: sessType,
		bySID:    make([]atomic.Pointer[dataSession], sessions),
		bySlot:   make([]atomic.Pointer[dataSession], pool.size()),
		pool:     pool,
		localMRU: ethPPPoEMTU,
		tun:      tun,
		tunW:     map[*iface]frameWriter{},
		stats:    st,
	}
}

// publish makes an IPCP-open session reachable by the readers. Loop only.
func (dp *dataPlane) publish(sess *session) {
	ds := &dataSession{
		sid:  sess.id,
		peer: sess.peer,
		ifc:  sess.iface,
		addr: addrU32(sess.ipcpL.peer),
		slot: sess.slot,
		mru:  int(sess.lcpL.peerMRU),
	}
	if m := int(sess.lcpL.maxMRU()); ds.mru > m {
		ds.mru = m
	}
	ds.lastRx.Store(dp.coarseNow.Load())
	dp.bySID[sess.id-dp.offset-1].Store(ds)
	dp.bySlot[sess.slot].Store(ds)
	sess.data = ds
}

// unpublish stops forwarding for a session. Loop only. A reader that loaded
// the pointer just before may still forward one last packet, which is
// harmless: the peer and address were valid a moment ago.
func (dp *dataPlane) unpublish(sess *session) {
	if sess.data == nil {
		return
	}
	dp.bySID[sess.id-dp.offset-1].CompareAndSwap(sess.data, nil)
	dp.bySlot[sess.data.slot].CompareAndSwap(sess.data, nil)
	sess.data = nil
}

// lastRx is when the session last sent us an IP packet.
func (dp *dataPlane) lastRx(sess *session) time.Time {
	if sess.data == nil {
		return time.Time{}
	}
	return time.Unix(0, sess.data.lastRx.Load())
}

// forwardUp handles a session-stage frame on the reader goroutine. It
// reports false when the frame is not plain IPv4 of a published session,
// and the loop must see it instead. b is the whole frame; the caller keeps
// it.
func (dp *dataPlane) forwardUp(ifc *iface, b []byte) bool {
	// Check the headers once, then index freely (STYLE §3).
	if len(b) < headroom+20 || b[offVerType] != verType || b[offCode] != byte(codeSession) ||
		binary.BigEndian.Uint16(b[discoveryHdrLen:]) != protoIPv4 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[offLength:])) - pppProtoLen
	if n < 20 || headroom+n > len(b) {
		return false
	}
	sid := binary.BigEndian.Uint16(b[offSessionID:])
	i := int(sid) - int(dp.offset) - 1
	if i < 0 || i >= len(dp.bySID) {
		return false
	}
	ds := dp.bySID[i].Load()
	if ds == nil || ds.ifc != ifc || hwAddr(b[6:12]) != ds.peer {
		return false
	}
	pkt := b[headroom : headroom+n]
	switch {
	case pkt[0]>>4 != 4:
		dp.stats.add(statDataDropped)
	case binary.BigEndian.Uint32(pkt[12:]) != ds.addr:
		// Anti-spoofing: a client may only send from its own address.
		dp.stats.add(statSpoofDropped)
	case n > dp.localMRU:
		dp.stats.add(statDataDropped)
	default:
		ds.lastRx.Store(dp.coarseNow.Load())
		if err := dp.tun.writePacket(pkt); err != nil {
			dp.stats.add(statDataDropped)
			return true
		}
		dp.stats.add(statDataUp)
	}
	return true
}

// runTunReader forwards downstream packets from the TUN to the sessions.
func (s *server) runTunReader() {
	defer s.wg.Done()
	s.log.Debug("tun reader started")
	defer s.log.Debug("tun reader stopped")
	dp := s.dp
	f := getFrame()
	defer putFrame(f)
	for {
		n, err := dp.tun.readPacket(f[headroom:])
		if err != nil {
			if dp.closing.Load() || errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
				return
			}
			s.stats.add(statDataDropped)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		dp.forwardDown(f[:headroom+n])
	}
}

// forwardDown wraps one IP packet, at b[headroom:], for its session and
// sends it. The caller keeps b.
func (dp *dataPlane) forwardDown(b []byte) {
	pkt := b[headroom:]
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		dp.stats.add(statDataDropped)
		return
	}
	slot, ok := dp.pool.byAddr[binary.BigEndian.Uint32(pkt[16:])]
	if !ok {
		dp.stats.add(statDataDropped)
		return
	}
	ds := dp.bySlot[slot].Load()
	if ds == nil {
		dp.stats.add(statNoSession)
		return
	}
	if len(pkt) > ds.mru {
		dp.stats.add(statTooBig)
		return
	}
	putSessionHeader(b, ds.peer, ds.ifc.mac, dp.sessType, ds.sid, protoIPv4)
	if err := dp.tunW[ds.ifc].writeFrame(b); err != nil {
		dp.stats.add(statDataDropped)
		return
	}
	dp.stats.add(statDataDown)
}
