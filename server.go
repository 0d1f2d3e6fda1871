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
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// link is one socket: a packetLink, or a fake in tests.
type link interface {
	readFrame(b []byte) (int, error)
	writeFrame(b []byte) error
	close() error
}

// iface is an interface we serve.
type iface struct {
	name string
	mac  hwAddr
	mtu  int
	disc link // discovery ethertype
}

// rxFrame hands a received frame from a reader to the loop. The loop owns f
// from then on and puts it back.
type rxFrame struct {
	ifc *iface
	f   *frame
	n   int
}

const rxQueueLen = 256

type server struct {
	cfg      *config
	log      *slog.Logger
	now      func() time.Time
	ifaces   []*iface
	cookies  *cookieJar
	sessions *sessionTable
	rx       chan rxFrame
	stats    stats
	wg       sync.WaitGroup
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
}

func newServer(cfg *config, log *slog.Logger, ifaces []*iface, now func() time.Time) *server {
	s := &server{
		cfg:      cfg,
		log:      log,
		now:      now,
		ifaces:   ifaces,
		cookies:  newCookieJar(cfg.CookieLifetime),
		sessions: newSessionTable(cfg.MaxSessions, cfg.SessionOffset, cfg.RandomSessionIDs),
		rx:       make(chan rxFrame, rxQueueLen),
		acName:   []byte(cfg.ACName),
	}
	for _, n := range cfg.ServiceNames {
		s.services = append(s.services, []byte(n))
	}
	return s
}

// run serves until ctx is cancelled, then ends every session and returns.
func (s *server) run(ctx context.Context) {
	for _, ifc := range s.ifaces {
		s.wg.Add(1)
		go s.runReader(ifc, ifc.disc)
	}
	s.runLoop(ctx)
	s.closing.Store(true)
	for _, ifc := range s.ifaces {
		ifc.disc.close()
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

// runReader reads frames from one socket and posts them to the loop.
func (s *server) runReader(ifc *iface, l link) {
	defer s.wg.Done()
	s.log.Debug("reader started", "iface", ifc.name)
	defer s.log.Debug("reader stopped", "iface", ifc.name)
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
		select {
		case s.rx <- rxFrame{ifc, f, n}:
		default:
			s.stats.add(statQueueFull)
			putFrame(f)
		}
	}
}

// runLoop is the event loop. It returns once ctx is cancelled and every
// session has been ended.
func (s *server) runLoop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.shutdown()
			return
		case fr := <-s.rx:
			s.stats.add(statRxFrames)
			s.handleDiscovery(fr.ifc, fr.f[:fr.n])
			putFrame(fr.f)
		case <-tick.C:
			s.onTick(s.now())
		}
	}
}

// onTick ends sessions whose deadline has passed.
func (s *server) onTick(now time.Time) {
	for i := range s.sessions.slots {
		sess := &s.sessions.slots[i]
		if sess.state == stateFree || now.Before(sess.deadline) {
			continue
		}
		reason := "PPP setup timed out"
		if sess.state == stateUp {
			reason = "idle timeout"
		}
		s.endSession(sess, reason, true)
	}
}

// endSession is the one way a session ends, whatever the cause. It tells the
// peer with a PADT unless the peer is the one who ended it, logs the end and
// frees everything the session held.
func (s *server) endSession(sess *session, reason string, notifyPeer bool) {
	if notifyPeer {
		s.sendPADT(sess)
	}
	sess.log.Info("session ended", "reason", reason, "duration", s.now().Sub(sess.started).Round(time.Millisecond))
	s.stats.add(statSessionsEnded)
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
	numStats
)

var statNames = [numStats]string{"rx_frames", "tx_frames", "tx_errors", "rx_queue_full", "pado_sent",
	"duplicate_padr", "padr_refused", "sessions_started", "sessions_ended"}

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
