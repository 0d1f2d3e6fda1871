// The server: interfaces, reader goroutines and the event loop.
//
// One reader goroutine per socket reads frames into pooled buffers and posts
// them to the loop with a non-blocking send; when the loop falls behind,
// frames are dropped and counted rather than queued without bound. The loop
// goroutine (runLoop) alone owns the session table, the cookie jar, the
// address pool and the scratch packets, so none of them has a lock.
//
// Shutdown: the context is cancelled, the loop sends a PADT to every session,
// closes the sockets (which unblocks the readers) and waits for the readers.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// link is one socket: a packetLink, or a fake in tests. readFrame and
// writeFrame may run concurrently; a goroutine other than the loop that
// writes gets its own writer from newWriter.
type link interface {
	readFrame(b []byte) (int, error)
	writeFrame(b []byte) error
	newWriter() frameWriter
	close() error
}

// iface is an interface we serve.
type iface struct {
	name  string
	mac   hwAddr
	mtu   int
	disc  link        // discovery ethertype
	sess  link        // session ethertype
	sessW frameWriter // the loop's writer on sess
}

// rxFrame hands a received frame from a reader to the loop. The loop owns f
// from then on and puts it back.
type rxFrame struct {
	ifc     *iface
	f       *frame
	n       int
	session bool // session stage (else discovery)
}

const (
	rxQueueLen = 1024
	tickEvery  = 250 * time.Millisecond
)

type server struct {
	cfg      *config
	log      *slog.Logger
	now      func() time.Time
	ifaces   []*iface
	cookies  *cookieJar
	sessions *sessionTable
	pool     *ipPool
	dp       *dataPlane
	rx       chan rxFrame
	stats    stats
	wg       sync.WaitGroup
	kernel   bool // sessions go to the kernel's PPPoE driver
	// routeMTU, when set, gives a client's host route a smaller MTU than
	// the TUN's (mtu > 0) or removes it (mtu == 0). main sets it; tests
	// leave it nil.
	routeMTU func(addr netip.Addr, mtu int) error
	closing  atomic.Bool // set before the sockets are closed

	// Loop-owned scratch space, reused for every frame.
	pkt       discoveryPacket
	tags      discoveryTags
	out       discoveryPacket
	tx        frame
	cookieBuf [cookieLen]byte
	mpBuf     [2]byte
	badLog    rateLimiter

	acName   []byte
	services [][]byte

	// PPP, loop-owned.
	clock         time.Time // now, as of the event being handled
	ctrlTx        frame
	lenBuf        [1]byte
	protoBuf      [4]byte
	fsmCfg        fsmConfig
	authMethods   []authMethod
	authName      string
	authNameBytes []byte
	chapSecrets   secretsCache
	papSecrets    secretsCache
}

func newServer(cfg *config, log *slog.Logger, ifaces []*iface, tun tunDev, now func() time.Time) *server {
	s := &server{
		cfg:         cfg,
		log:         log,
		now:         now,
		ifaces:      ifaces,
		cookies:     newCookieJar(cfg.CookieLifetime),
		sessions:    newSessionTable(cfg.MaxSessions, cfg.SessionOffset, cfg.RandomSessionIDs),
		pool:        cfg.pool,
		rx:          make(chan rxFrame, rxQueueLen),
		acName:      []byte(cfg.ACName),
		fsmCfg:      defaultFSMConfig(),
		authMethods: authMethodsFrom(cfg.opts),
		authName:    cfg.opts.name,
		chapSecrets: secretsCache{path: cfg.CHAPSecrets},
		papSecrets:  secretsCache{path: cfg.PAPSecrets},
		clock:       now(),
	}
	if s.authName == "" {
		s.authName = cfg.ACName
	}
	s.authNameBytes = []byte(s.authName)
	for _, n := range cfg.ServiceNames {
		s.services = append(s.services, []byte(n))
	}
	s.dp = newDataPlane(cfg.MaxSessions, cfg.SessionOffset, cfg.sessionType, cfg.pool, tun, &s.stats)
	s.dp.coarseNow.Store(s.clock.UnixNano())
	for _, ifc := range ifaces {
		if ifc.sess != nil {
			ifc.sessW = ifc.sess
			s.dp.tunW[ifc] = ifc.sess.newWriter()
		}
	}
	return s
}

// run serves until ctx is cancelled, then ends every session and returns.
func (s *server) run(ctx context.Context) {
	for _, ifc := range s.ifaces {
		s.wg.Add(1)
		go s.runReader(ifc, ifc.disc, false)
		if ifc.sess != nil {
			s.wg.Add(1)
			go s.runReader(ifc, ifc.sess, true)
		}
	}
	if s.dp.tun != nil {
		s.wg.Add(1)
		go s.runTunReader()
	}
	s.runLoop(ctx)
	s.closing.Store(true)
	s.dp.closing.Store(true)
	for _, ifc := range s.ifaces {
		ifc.disc.close()
		if ifc.sess != nil {
			ifc.sess.close()
		}
	}
	if s.dp.tun != nil {
		s.dp.tun.close()
	}
	s.wg.Wait()
	// Frames still queued belong to nobody now.
	for {
		select {
		case fr := <-s.rx:
			putFrame(fr.f)
		default:
			return
		}
	}
}

// runReader reads frames from one socket and posts them to the loop. On the
// session socket, IPv4 of an established session is forwarded to the TUN
// right here and never reaches the loop.
func (s *server) runReader(ifc *iface, l link, session bool) {
	defer s.wg.Done()
	s.log.Debug("reader started", "iface", ifc.name, "session", session)
	defer s.log.Debug("reader stopped", "iface", ifc.name, "session", session)
	var lastErr time.Time
	for {
		f := getFrame()
		n, err := l.readFrame(f[:])
		if err != nil {
			putFrame(f)
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
		if session && s.dp.forwardUp(ifc, f[:n]) {
			putFrame(f)
			continue
		}
		select {
		case s.rx <- rxFrame{ifc, f, n, session}:
		default:
			s.stats.add(statQueueFull)
			putFrame(f)
		}
	}
}

// runLoop is the event loop. It returns once ctx is cancelled and every
// session has been ended.
func (s *server) runLoop(ctx context.Context) {
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.clock = s.now()
			s.shutdown()
			return
		case fr := <-s.rx:
			s.stats.add(statRxFrames)
			if fr.session {
				s.handleSessionFrame(fr.ifc, fr.f[:fr.n])
			} else {
				s.handleDiscovery(fr.ifc, fr.f[:fr.n])
			}
			putFrame(fr.f)
		case <-tick.C:
			s.clock = s.now()
			s.onTick(s.clock)
		}
	}
}

// onTick runs every session's timers.
func (s *server) onTick(now time.Time) {
	s.clock = now
	s.dp.coarseNow.Store(now.UnixNano())
	for i := range s.sessions.slots {
		if sess := &s.sessions.slots[i]; sess.state != stateFree {
			s.onSessionTick(sess, now)
		}
	}
}

// endSession is the one way a session ends, whatever the cause. It tells the
// peer with a PADT unless the peer is the one who ended it, logs the end and
// frees everything the session held.
func (s *server) endSession(sess *session, reason string, notifyPeer bool) {
	if notifyPeer {
		if sess.lcp.state == stOpened {
			// Tell PPP first, as pppd would, then PPPoE; we do not wait
			// for the Terminate-Ack.
			sess.termID++
			s.sendCP(sess, protoLCP, uint8(cpTermReq), sess.termID, nil, nil, nil)
		}
		s.sendPADT(sess)
	}
	attrs := []any{"reason", reason, "duration", s.clock.Sub(sess.started).Round(time.Millisecond)}
	if sess.slot != noSlot {
		attrs = append(attrs, "ip", s.pool.remoteAddr(sess.slot).String())
	}
	sess.log.Info("session ended", attrs...)
	s.stats.add(statSessionsEnded)
	s.unrouteMTU(sess)
	s.dp.unpublish(sess)
	if sess.kern != nil {
		sess.kern.close()
		sess.kern = nil
	}
	if sess.slot != noSlot {
		s.pool.free(sess.slot)
	}
	s.sessions.release(sess)
}

func (s *server) shutdown() {
	n := s.sessions.active
	for i := range s.sessions.slots {
		if sess := &s.sessions.slots[i]; sess.state != stateFree {
			s.endSession(sess, "server shutting down", true)
		}
	}
	s.log.Info("stopped", append([]any{"sessions_at_stop", n}, s.stats.attrs()...)...)
}

// send encodes o into the loop's transmit buffer and writes it.
func (s *server) send(ifc *iface, o *discoveryPacket) {
	o.etherType = s.cfg.discoveryType
	b := o.appendTo(s.tx[:0])
	if err := ifc.disc.writeFrame(b); err != nil {
		s.stats.add(statTxErrors)
		if s.badLog.allow(s.now()) {
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
	if !s.log.Enabled(context.Background(), slog.LevelDebug) || !s.badLog.allow(s.now()) {
		return
	}
	s.log.Debug("frame dropped", "iface", ifc.name, "reason", r.String(), "len", len(b))
}

// dropReason says why a received frame was not acted on.
type dropReason uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=dropReason -trimprefix=drop

const (
	dropShortFrame dropReason = iota
	dropBadVerType
	dropBadLength
	dropPayloadTooLong
	dropBadTag
	dropTooManyTags
	dropOwnFrame
	dropSourceNotUnicast
	dropNotForUs
	dropUnexpectedCode
	dropPADISessionID
	dropUnknownService
	dropFull
	dropMACLimit
	dropPADRBroadcast
	dropPADRSessionID
	dropNoCookie
	dropBadCookie
	dropPADTUnknown
	dropBadPPP
	dropUnknownSession
	numDropReasons
)

func parseDropReason(err error) dropReason {
	switch err {
	case errShortFrame:
		return dropShortFrame
	case errBadVerType:
		return dropBadVerType
	case errBadLength:
		return dropBadLength
	case errPayloadTooLong:
		return dropPayloadTooLong
	case errTooManyTags:
		return dropTooManyTags
	default:
		return dropBadTag
	}
}

type statCounter uint8

const (
	statRxFrames statCounter = iota
	statTxFrames
	statTxErrors
	statQueueFull
	statPADO
	statDuplicatePADR
	statRefused
	statSessionsStarted
	statSessionsEnded
	statSessionsUp
	statAuthFailures
	statProtocolRejects
	statDataUp
	statDataDown
	statDataDropped
	statSpoofDropped
	statNoSession
	statTooBig
	numStats
)

var statNames = [numStats]string{"rx_frames", "tx_frames", "tx_errors", "rx_queue_full", "pado_sent",
	"duplicate_padr", "padr_refused", "sessions_started", "sessions_ended", "sessions_up", "auth_failures",
	"protocol_rejects", "ip_up", "ip_down", "ip_dropped", "ip_spoofed", "ip_no_session", "ip_too_big"}

// stats are counters shared by the readers and the loop.
type stats struct {
	c     [numStats]atomic.Uint64
	drops [numDropReasons]atomic.Uint64
}

func (st *stats) add(c statCounter) { st.c[c].Add(1) }

// attrs returns the non-zero counters as log attributes.
func (st *stats) attrs() []any {
	var out []any
	for i := range st.c {
		if v := st.c[i].Load(); v != 0 {
			out = append(out, statNames[i], v)
		}
	}
	for i := range st.drops {
		if v := st.drops[i].Load(); v != 0 {
			out = append(out, "drop_"+dropReason(i).String(), v)
		}
	}
	return out
}

// rateLimiter lets one event through per second. Loop-owned.
type rateLimiter struct{ last time.Time }

func (r *rateLimiter) allow(now time.Time) bool {
	if now.Sub(r.last) < time.Second {
		return false
	}
	r.last = now
	return true
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
