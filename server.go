// The server: interfaces, reader goroutines, the event loop and dispatch.
//
// One reader goroutine per socket reads frames into pooled buffers and posts
// them to the loop with a non-blocking send; when the loop falls behind,
// frames are dropped and counted rather than queued without bound. There
// are three queues, taken in order of priority: frames of sessions (their
// setup, keepalives and control), then PADRs and PADTs, then PADIs, which
// the loop leaves queued while enough sessions are in setup (takesPADIs).
// So an overloaded loop spends its time finishing the sessions it has
// started rather than offering new ones, and never drops a live session's
// echo for a new arrival. The loop answers a batch of frames, then sends what it
// has to say in one system call per socket (batchWriter). Answers
// that arrive later (an authenticator's, a reload request) come through the
// event queue, which never blocks the goroutine that posts. The loop
// goroutine (runLoop) alone owns the session table, the cookie jar, the
// address pool, the login guard, the PPP policy and the scratch packets, so
// none of them has a lock.
//
// After each frame, event or tick the loop reaps the sessions that ended
// while it was handled (session.finish), so no handler ever finds a session
// freed under it.
//
// Shutdown: the context is cancelled, the loop ends every session (LCP
// Terminate-Request and PADT), stops the data path, closes the sockets
// (which unblocks the readers) and waits for the readers.

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// link is one socket: a packetLink, or a fake in tests. readFrame and
// writeFrame may run concurrently; a goroutine other than the loop that
// writes gets its own writer from newWriter. readFrame returns
// errVLANTagged for a frame that came with a VLAN tag; the socket is fine
// and the next read goes on.
type link interface {
	readFrame(b []byte) (int, error)
	writeFrame(b []byte) error
	newWriter() frameWriter
	close() error
}

// batchLink is a link that can batch the loop's writes (packetLink).
type batchLink interface {
	newBatchWriter() frameFlusher
}

// frameFlusher is a frameWriter that holds frames until flush sends them.
type frameFlusher interface {
	frameWriter
	flush() (failed int, err error)
}

// errVLANTagged is a frame that came with a VLAN tag to an interface we
// serve untagged: a host on another VLAN of a trunk port, which must not
// take sessions from this pool. A VLAN is served by running on its VLAN
// interface (-I eth0.10), where the kernel has taken the tag off.
var errVLANTagged = errors.New("pppoe: VLAN-tagged frame on an untagged interface")

// iface is an interface we serve.
type iface struct {
	name  string
	index int // the kernel's, as of opening
	mac   hwAddr
	mtu   int
	disc  link        // discovery ethertype
	sess  link        // session ethertype; nil in kernel mode
	discW frameWriter // the loop's writer on disc
	sessW frameWriter // the loop's writer on sess
	dataW frameWriter // the TUN reader's writer on sess

	// The loop's: the interface was deleted and its sockets closed
	// (ifacewatch.go); a new iface takes its place when it comes back.
	gone   bool
	goneAt time.Time
}

// rxKind says what an rxFrame holds.
type rxKind uint8

const (
	rxDiscovery rxKind = iota // a discovery frame
	rxSession                 // a session-stage frame off a session socket
	rxPPP                     // a PPP frame (protocol, packet) of session sid, from the kernel
)

// rxFrame hands a received frame from a reader to the loop. The loop owns f
// (or sf) from then on and puts it back.
type rxFrame struct {
	ifc  *iface
	f    *frame
	sf   *smallFrame // instead of f: a PADI queued in a small buffer
	n    int
	kind rxKind
	sid  uint16 // rxPPP: the session it came for
	gen  uint32 // rxPPP: the session slot's generation at open
}

// bytes is the frame.
func (fr *rxFrame) bytes() []byte {
	if fr.sf != nil {
		return fr.sf[:fr.n]
	}
	return fr.f[:fr.n]
}

// release puts the frame's buffer back.
func (fr *rxFrame) release() {
	if fr.sf != nil {
		putSmallFrame(fr.sf)
	} else {
		putFrame(fr.f)
	}
}

const (
	rxQueueLen     = 1024 // the PADR queue
	rxSessQueueLen = 4096
	// rxPADIQueueLen PADIs wait while the loop is busy: at several
	// thousand sessions a second that is most of a second's worth, and
	// one answered late is still answered before the client's retry
	// (clients take a PADO that comes after they sent the PADI again).
	rxPADIQueueLen = 8192
	// Frames wait in small buffers (smallFrameSize); a larger one may
	// only take one of a queue's first rxBigFrames places.
	rxBigFrames = 64
	// rxBatch is how many frames the loop handles before it flushes.
	rxBatch   = 64
	tickEvery = 250 * time.Millisecond
)

// pppPolicy is the PPP behaviour the options file and flags ask for. The
// loop owns it and replaces it whole on reload; sessions read it when they
// need it, so a reload reaches live sessions too.
type pppPolicy struct {
	opts      *pppOptions
	methods   []authMethod // strongest first; empty: no authentication
	name      string       // our name in CHAP challenges and the secrets files
	nameBytes []byte
	idle      time.Duration // -T, else the options file's idle
}

func newPPPPolicy(cfg *config) *pppPolicy {
	p := &pppPolicy{opts: cfg.opts, methods: authMethodsFrom(cfg.opts), name: cfg.opts.name}
	if p.name == "" {
		p.name = cfg.ACName
	}
	p.nameBytes = []byte(p.name)
	p.idle = cfg.IdleTimeout
	if p.idle == 0 {
		p.idle = cfg.opts.idle
	}
	return p
}

type server struct {
	cfg      *config
	log      *logger
	now      func() time.Time
	ifaces   []*iface
	path     dataPath
	auth     authenticator
	guard    *loginGuard
	cookies  *cookieJar
	sessions *sessionTable
	pool     *ipPool
	ppp      *pppPolicy
	rxSess   chan rxFrame // session frames, first
	rxDisc   chan rxFrame // PADR, PADT and other discovery, next
	rxPADI   chan rxFrame // PADIs, last
	events   eventQueue
	stats    stats
	logLimit logLimiters
	wg       sync.WaitGroup
	closing  atomic.Bool // set before the sockets are closed

	// Interfaces that go away and come back (ifacewatch.go). openIface
	// opens a served interface again; nil in tests that do not.
	links     *linkWatch // nil without one
	openIface func(name string) (*iface, error)
	stop      context.CancelFunc // ends run early
	fatal     error              // why run ended early

	ctl     *ctlServer        // nil without a control socket
	dae     *daeServer        // nil without radius.dae
	acct    *acctWriter       // nil without --acct-file
	radAcct *radiusAccounting // nil without RADIUS
	acctSeq uint64            // numbers the sessions for Acct-Session-Id
	// acctInterval is the interim interval without Acct-Interim-Interval
	// from RADIUS: radius.acct_interim with RADIUS, else acct_interim.
	acctInterval time.Duration
	hooks        *hookRunner
	reopen       func() error // on reload: reopen the accounting file

	clock      time.Time  // now, as of the event being handled
	reapq      []*session // ended while the current event was handled
	startedAt  time.Time
	setupRate  rateWindow
	loopLag    lagWindow
	endReasons map[string]uint64     // sessions ended, by the reason's kind
	byUser     map[string][]*session // authenticated sessions of each user

	// Loop-owned scratch space, reused for every frame.
	pkt    discoveryPacket
	tags   discoveryTags
	out    discoveryPacket
	tx     frame
	ctrlTx frame
	// IPv6 (session6ctl.go): the DHCPv6 server every session shares, and
	// a buffer its replies are built in before they get their headers.
	dhcp6     *dhcp6Server
	scratch6  []byte
	cookieBuf [cookieLen]byte
	mpBuf     [2]byte

	acName      []byte
	services    [][]byte
	maxStarting int // sessions in setup at most; see config.maxStarting
	// offered counts the PADOs sent since offeredAt less the PADRs
	// since: sessions about to start, which takesPADIs counts as in
	// setup for offerSpan.
	offered   int
	offeredAt time.Time

	// Memory after a burst (trimMemory): the table's size when it last
	// gave memory back, and when a session last started or ended.
	trimmedAt int
	churnAt   time.Time
}

// newServer builds a server on ifaces with the given data path. auth may be
// nil for the secrets files.
func newServer(cfg *config, log *logger, ifaces []*iface, path dataPath, auth authenticator, now func() time.Time) *server {
	s := &server{
		cfg:        cfg,
		log:        log,
		now:        now,
		ifaces:     ifaces,
		path:       path,
		cookies:    newCookieJar(cfg.CookieLifetime),
		sessions:   newSessionTable(cfg.MaxSessions, cfg.SessionOffset, cfg.RandomSessionIDs),
		pool:       cfg.pool,
		ppp:        newPPPPolicy(cfg),
		rxSess:     make(chan rxFrame, rxSessQueueLen),
		rxDisc:     make(chan rxFrame, rxQueueLen),
		rxPADI:     make(chan rxFrame, rxPADIQueueLen),
		acName:     []byte(cfg.ACName),
		clock:      now(),
		endReasons: map[string]uint64{},
		byUser:     map[string][]*session{},
	}
	s.startedAt = s.clock
	s.acctInterval = cfg.AcctInterim
	if v := cfg.v6; v != nil {
		var dns [2]netip.Addr
		copy(dns[:], v.dns)
		var mac hwAddr
		if len(ifaces) > 0 {
			mac = ifaces[0].mac
		}
		s.dhcp6, s.scratch6 = newDHCP6Server(mac, dns, cfg.IPv6IANA), make([]byte, 0, ethPPPoEMTU)
	}
	s.maxStarting = cfg.maxStarting()
	s.hooks = newHookRunner(log, cfg.HookTimeout)
	s.events.notify = make(chan struct{}, 1)
	s.guard = newLoginGuard(cfg, log, &s.stats)
	s.auth = auth
	if s.auth == nil {
		s.auth = newSecretsAuthenticator(cfg, s.ppp.name, log, now)
	}
	for _, n := range cfg.ServiceNames {
		s.services = append(s.services, []byte(n))
	}
	for _, ifc := range ifaces {
		ifc.discW = ifc.disc
		if ifc.sess != nil {
			ifc.sessW = ifc.sess
		}
	}
	return s
}

// run serves until ctx is cancelled, then ends every session and returns.
// It returns an error if it stopped by itself: an interface it serves went
// away for good.
func (s *server) run(ctx context.Context) error {
	ctx, s.stop = context.WithCancel(ctx)
	defer s.stop()
	for _, ifc := range s.ifaces {
		s.startReaders(ifc)
	}
	s.path.start(s)
	if s.links != nil {
		s.links.start(func(c linkChange) { s.events.post(c) })
		// What changed between opening the sockets and subscribing.
		s.events.post(linkChange{resync: true})
	}
	s.runLoop(ctx)
	s.closing.Store(true)
	if s.links != nil {
		s.links.close()
	}
	if s.ctl != nil {
		s.ctl.close()
	}
	if s.dae != nil {
		s.dae.close()
	}
	if s.radAcct != nil {
		// Before waiting for ip-down scripts: the Stop records must reach
		// the server or the spool before procd's KILL.
		s.radAcct.stop()
	}
	s.hooks.wait()
	if err := s.path.close(); err != nil {
		s.log.Warn("closing the data path failed", "err", err)
	}
	for _, ifc := range s.ifaces {
		if !ifc.gone {
			ifc.closeSockets()
		}
	}
	s.wg.Wait()
	// Frames still queued belong to nobody now.
	for _, q := range []chan rxFrame{s.rxSess, s.rxDisc, s.rxPADI} {
		for len(q) > 0 {
			fr := <-q
			fr.release()
		}
	}
	return s.fatal
}

// runReader reads frames from one socket and posts them to the loop. On a
// session socket, the data path takes the data of sessions that are up
// right here; it never reaches the loop.
func (s *server) runReader(ifc *iface, l link, kind rxKind) {
	defer s.wg.Done()
	s.log.Debug("reader started", "iface", ifc.name, "session", kind == rxSession)
	defer s.log.Debug("reader stopped", "iface", ifc.name, "session", kind == rxSession)
	var lastErr time.Time
	for {
		f := getFrame()
		n, err := l.readFrame(f[:])
		if err != nil {
			putFrame(f)
			if err == errVLANTagged {
				// Dropped before the data path too: a tagged frame
				// must not reach a live session either.
				s.stats.drops[dropVLANTagged].Add(1)
				continue
			}
			if s.closing.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return
			}
			// ENETDOWN and friends while the interface flaps: keep
			// reading, but do not spin or flood the log.
			if time.Since(lastErr) > 10*time.Second {
				s.log.Warn("read failed", "iface", ifc.name, "err", err)
				lastErr = time.Now()
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if kind == rxSession && s.path.forward(ifc, f[:n]) {
			putFrame(f)
			continue
		}
		s.post(rxFrame{ifc: ifc, f: f, n: n, kind: kind})
	}
}

// post hands fr to the loop's queue for its kind, or drops it if the loop
// is behind. It may run on any goroutine.
func (s *server) post(fr rxFrame) {
	q := s.rxSess
	if fr.kind == rxDiscovery {
		q = s.rxDisc
		if fr.n > ethHdrLen+1 && discoveryCode(fr.f[ethHdrLen+1]) == codePADI {
			q = s.rxPADI
		}
	}
	switch {
	case fr.n <= smallFrameSize:
		// Control frames are small; a queue of them costs little.
		sf := getSmallFrame()
		copy(sf[:], fr.f[:fr.n])
		putFrame(fr.f)
		fr.f, fr.sf = nil, sf
	case len(q) >= rxBigFrames:
		s.queueFull(q)
		putFrame(fr.f)
		return
	}
	select {
	case q <- fr:
	default:
		s.queueFull(q)
		fr.release()
	}
}

func (s *server) queueFull(q chan rxFrame) {
	s.stats.add(statQueueFull)
	if q == s.rxPADI {
		s.stats.add(statPADIQueueFull)
	}
}

// runLoop is the event loop. It returns once ctx is cancelled and every
// session has been ended.
func (s *server) runLoop(ctx context.Context) {
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	stop := func() {
		s.clock = s.now()
		s.shutdown()
		s.flush()
	}
	ticked := func(t time.Time) {
		s.onTick(s.now())
		s.loopLag.record(s.clock, s.clock.Sub(t))
	}
	// gate wakes the loop when PADIs held back only by recent offers may
	// be taken again.
	gate := time.NewTimer(time.Hour)
	gate.Stop()
	defer gate.Stop()
	for {
		select {
		case <-ctx.Done():
			stop()
			return
		case t := <-tick.C:
			ticked(t)
		case <-s.events.notify:
		default:
			if s.handleQueued() > 0 {
				break
			}
			// Nothing queued: send what the last batch said, then wait.
			s.flush()
			padi, gateC := s.rxPADI, (<-chan time.Time)(nil)
			s.clock = s.now()
			if !s.takesPADIs() {
				padi = nil
				left := offerSpan - s.clock.Sub(s.offeredAt)
				if len(s.rxPADI) > 0 && left > 0 && s.sessions.inSetup < min(s.maxStarting, setupWindow) {
					// Held back by the offers alone: look again once
					// they no longer count.
					gate.Reset(left)
					gateC = gate.C
				}
			}
			select {
			case <-gateC:
			case <-ctx.Done():
				stop()
				return
			case t := <-tick.C:
				ticked(t)
			case <-s.events.notify:
			case fr := <-s.rxSess:
				s.handleRx(fr)
			case fr := <-s.rxDisc:
				s.handleRx(fr)
			case fr := <-padi:
				s.handleRx(fr)
			}
		}
		s.settle()
		s.flush()
	}
}

// handleQueued handles up to rxBatch queued frames, session frames first,
// then PADRs, then PADIs, settling after each; it returns how many.
func (s *server) handleQueued() int {
	for n := range rxBatch {
		var fr rxFrame
		select {
		case fr = <-s.rxSess:
		default:
			select {
			case fr = <-s.rxDisc:
			default:
				if !s.takesPADIs() {
					return n
				}
				select {
				case fr = <-s.rxPADI:
				default:
					return n
				}
			}
		}
		s.handleRx(fr)
		s.settle()
	}
	return rxBatch
}

func (s *server) handleRx(fr rxFrame) {
	s.handleFrame(fr, fr.bytes())
	fr.release()
}

// setupWindow is how many sessions the loop keeps in setup (or offered) at
// once of its own accord, however high --max-starting is: each sends up to
// two frames at a time, which the session queue must hold, and a thousand
// at once is more than the loop finishes in the time a client waits for
// an answer.
const setupWindow = rxSessQueueLen / 4

// countOffer counts a PADO sent towards takesPADIs' gate.
func (s *server) countOffer() {
	if s.clock.Sub(s.offeredAt) > offerSpan {
		s.offered, s.offeredAt = 0, s.clock
	}
	s.offered++
}

// offerSpan is how long a PADO counts as a session about to start: a
// client answers within a round trip, a flood from made-up MACs never.
const offerSpan = 20 * time.Millisecond

// takesPADIs says whether the loop takes PADIs off their queue: not while
// --max-starting sessions, or setupWindow, are in setup, nor while
// setupWindow are in setup or were offered in the last offerSpan (whose
// PADRs would find no room). They wait there instead of being dropped, so
// their clients do not back off for seconds, and are answered as sessions
// come up. (A full table answers as -i says, as before.)
func (s *server) takesPADIs() bool {
	if s.sessions.full() {
		return true
	}
	offered := s.offered
	if s.clock.Sub(s.offeredAt) > offerSpan {
		offered = 0
	}
	return s.sessions.inSetup < min(s.maxStarting, setupWindow) && s.sessions.inSetup+offered < setupWindow
}

// flush sends the frames the loop's batching writers hold.
func (s *server) flush() {
	for _, ifc := range s.ifaces {
		if ifc.gone {
			continue
		}
		s.flushWriter(ifc, ifc.discW)
		s.flushWriter(ifc, ifc.sessW)
	}
}

func (s *server) flushWriter(ifc *iface, w frameWriter) {
	f, ok := w.(frameFlusher)
	if !ok {
		return
	}
	if failed, err := f.flush(); failed > 0 {
		// They were counted as sent when queued.
		s.stats.c[statTxErrors].Add(uint64(failed))
		s.stats.c[statTxFrames].Add(^uint64(failed - 1))
		if s.logLimit.allow(logSendFailed, s.clock) {
			s.log.Warn("send failed", "iface", ifc.name, "frames", failed, "err", err)
		}
	}
}

// handleFrame dispatches one received frame, b, which fr describes. The
// caller keeps b.
func (s *server) handleFrame(fr rxFrame, b []byte) {
	s.clock = s.now()
	s.stats.add(statRxFrames)
	if fr.ifc != nil && fr.ifc.gone {
		return // read before its interface went away
	}
	switch fr.kind {
	case rxDiscovery:
		s.handleDiscovery(fr.ifc, b)
	case rxSession:
		s.handleSessionFrame(fr.ifc, b)
	case rxPPP:
		sess := s.sessions.lookup(fr.sid)
		if sess == nil || sess.gen != fr.gen || len(b) < pppProtoLen {
			s.stats.drops[dropUnknownSession].Add(1)
			return
		}
		s.handlePPP(sess, uint16(b[0])<<8|uint16(b[1]), b[pppProtoLen:])
	}
}

// settle reaps the sessions that ended, then handles the queued events,
// reaping after each, until none is left.
func (s *server) settle() {
	s.reap()
	for {
		ev, ok := s.events.pop()
		if !ok {
			return
		}
		s.clock = s.now()
		ev.handle(s)
		s.reap()
	}
}

// reap finishes the sessions that ended since the last reap.
func (s *server) reap() {
	for i := 0; i < len(s.reapq); i++ {
		s.reapq[i].finish()
		s.reapq[i] = nil
	}
	s.reapq = s.reapq[:0]
}

// trimCalm and trimChurn: once the sessions have grown or shrunk by
// trimChurn and none has started or ended for trimCalm, the loop has a GC
// run and what it freed given back to the kernel (debug.FreeOSMemory, off
// the loop). Setting up or ending sessions in their thousands leaves
// megabytes of garbage and freed heap that Go's own scavenger returns only
// over minutes; on a 128 MB router that is worth a collection.
const (
	trimCalm  = 5 * time.Second
	trimChurn = 64
)

func (s *server) trimMemory() {
	n := s.sessions.active
	if n-s.trimmedAt < trimChurn && s.trimmedAt-n < trimChurn || s.clock.Sub(s.churnAt) < trimCalm {
		return
	}
	s.trimmedAt = n
	go func() {
		// Two collections: the first moves the frame pools' buffers
		// to their victim caches, the second frees them.
		runtime.GC()
		debug.FreeOSMemory()
	}()
}

// onTick runs every session's timers.
func (s *server) onTick(now time.Time) {
	s.clock = now
	s.path.tick(now)
	s.setupRate.record(now, s.stats.c[statSessionsUp].Load())
	s.trimMemory()
	s.checkIfaceWait()
	s.guard.tick(now)
	s.sessions.each(func(sess *session) {
		if !sess.ending {
			sess.tick(now)
		}
	})
}

func (s *server) shutdown() {
	n := s.sessions.active
	s.sessions.each(func(sess *session) { sess.end("server shutting down", true) })
	s.reap()
	s.log.Info("stopped", append([]any{"sessions_at_stop", n, "pool_size", s.pool.size(), "pool_free", s.pool.available()},
		s.stats.attrs()...)...)
}

// send encodes o into the loop's transmit buffer and writes it.
func (s *server) send(ifc *iface, o *discoveryPacket) {
	if ifc.gone {
		return // a delayed PADO for an interface that went away
	}
	o.etherType = s.cfg.discoveryType
	b := o.appendTo(s.tx[:0])
	if err := ifc.discW.writeFrame(b); err != nil {
		s.stats.add(statTxErrors)
		if s.logLimit.allow(logSendFailed, s.clock) {
			s.log.Warn("send failed", "iface", ifc.name, "code", o.code.String(), "err", err)
		}
		return
	}
	s.stats.add(statTxFrames)
}

// drop counts a frame we will not act on, and logs it at debug level at most
// once a second. b, when not nil, is the frame, for the log.
func (s *server) drop(ifc *iface, r dropReason, b []byte) {
	s.stats.drops[r].Add(1)
	if !s.log.enabled(levelDebug) || !s.logLimit.allow(logDropped, s.clock) {
		return
	}
	s.log.Debug("frame dropped", "iface", ifc.name, "reason", r.String(), "len", len(b))
}

// ifaceInfo looks an interface up and checks that we can serve on it.
func ifaceInfo(name string) (*net.Interface, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("interface %q does not exist", name)
	}
	if len(ifi.HardwareAddr) != ethAddrLen {
		return nil, fmt.Errorf("interface %q is not an Ethernet interface", name)
	}
	return ifi, nil
}

// event is something that happened outside the loop and that the loop
// must act on: an authenticator's answer, a reload request. handle runs on
// the loop goroutine.
type event interface {
	handle(s *server)
}

// eventQueue carries events to the loop. post never blocks, whoever calls
// it, the loop included; the queue is bounded by what can be outstanding
// (at most one authentication per session, a few control requests, DAE
// requests one at a time).
type eventQueue struct {
	mu     sync.Mutex
	q      []event
	n      atomic.Int32  // len(q), so pop need not lock an empty queue
	notify chan struct{} // has a value while q may be non-empty
}

func (e *eventQueue) post(ev event) {
	e.mu.Lock()
	e.q = append(e.q, ev)
	e.n.Store(int32(len(e.q)))
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

func (e *eventQueue) pop() (event, bool) {
	if e.n.Load() == 0 {
		return nil, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.q) == 0 {
		return nil, false
	}
	ev := e.q[0]
	e.q[0] = nil
	e.q = e.q[1:]
	if len(e.q) == 0 {
		e.q = nil
	}
	e.n.Store(int32(len(e.q)))
	return ev, true
}
