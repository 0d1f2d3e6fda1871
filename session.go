// A session on the access concentrator and its life.
//
//	PADS ─> starting ─(peer speaks)─> active: Establish (LCP) ─> Authenticate
//	           │                        ─> Network (IPCP) ─> data flows
//	           └──(PADT, timeout, LCP down, shutdown, ...)──> ending ─> reaped
//
// The session is the unit of PPP behaviour: it is the host of its LCP and
// IPCP layers (pppsession.go), runs its own timers (tick) and holds its side
// of the data path. Everything here runs on the loop goroutine.
//
// Ending is deferred: end records why and queues the session; the loop
// reaps it (finish) once the event or tick that ended it is over. Until
// then the session stays whole, so code further up the same call chain
// never runs on a session that was freed under it. An ending session
// ignores further input.

package main

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"time"
)

// sessionState is where a session is in its life, as the table sees it.
type sessionState uint8

const (
	stateFree     sessionState = iota
	stateStarting              // PADS sent, the peer has not spoken PPP yet
	stateActive                // the peer has spoken PPP
)

type session struct {
	srv   *server
	id    uint16
	gen   uint32 // counts the slot's uses; an answer for an earlier use is stale
	state sessionState
	iface *iface
	peer  hwAddr

	// cookieMAC is the MAC part of the AC-Cookie the PADR carried. A
	// retransmitted PADR with the same cookie gets the same PADS again.
	cookieMAC   [cookieMACLen]byte
	serviceName []byte
	hostUniq    []byte // copied from the PADR, echoed in a repeated PADS
	relayID     []byte
	maxPayload  uint16 // RFC 4638 value agreed in PADS, 0 if none

	started  time.Time
	deadline time.Time // PPP setup must be complete by then
	upAt     time.Time // an NCP (IPCP or IPv6CP) came up; zero while none is
	log      *logger

	pppConn
	path       sessionPath
	auth       authState
	slot       poolSlot  // the client's address, noSlot outside the network phase
	lastHeard  time.Time // any frame from the peer (keepalive)
	openAt     time.Time // when to send our first LCP request, if the peer is silent
	echoAt     time.Time
	statsAt    time.Time // when to read the data path's counters next
	echoID     uint8
	termID     uint8
	protoRejID uint8

	// From the authenticator's answer.
	sessionEnd time.Time     // Session-Timeout; zero for none
	idle       time.Duration // idle timeout for this session; 0: the server's
	rate       rateLimit     // the limit in force; zero: none

	// Accounting: from the first time IPCP came up.
	acctStart     time.Time
	acctIP        netip.Addr
	acctNext      time.Time // the next interim record; zero: none
	acctInterval  time.Duration
	acctSessionID string  // RADIUS's Acct-Session-Id; unique across restarts
	line          *lineID // TR-101 line identification from the PADR, if any

	hookDone <-chan struct{} // the session's last ip-up or ip-down job
	ipUp     bool            // ip-up ran for the IPCP that is up

	setupDone   bool   // IPCP has been up once; see sessionTable.inSetup
	liveAt      int32  // its place in sessionTable.live
	closeReason string // why we began closing LCP
	ending      bool
	endReason   string
	notifyPeer  bool

	v6 sessionV6
}

// logger returns the session's logger, built on first use so a session
// that never logs costs nothing. Once authenticated it carries the user.
func (s *session) logger() *logger {
	if s.log == nil {
		l := s.srv.log.With("iface", s.iface.name, "mac", s.peer.String(), "sid", s.id)
		if s.auth.done {
			l = l.With("user", s.auth.user)
		}
		s.log = l
	}
	return s.log
}

// start begins PPP right after the PADS. We do not send our first
// Configure-Request yet: see firstRequestDelay.
func (s *session) start() {
	srv := s.srv
	s.phase = phaseEstablish
	s.lastHeard = srv.clock
	s.initPPP(s, srv.ppp.opts.lcp, srv.ppp.opts.ipcp, &srv.ctrlTx)
	s.lcpL.reset(s, &s.lcp, false, srv.ppp.methods, uint16(srv.ppp.opts.mru), s.maxPayload)
	s.lcp.up(srv.clock)
	s.openAt = srv.clock.Add(firstRequestDelay)
}

// silentPeerTimeout ends a session whose peer has not sent one PPP frame
// since the PADS. Real clients speak within a second (pppd at once, a
// passive one in answer to our first request after firstRequestDelay or
// its retransmission 3 s later).
const silentPeerTimeout = 5 * time.Second

// firstRequestDelay is how long we wait after the PADS for the client to
// speak before we send our first LCP Configure-Request. A kernel-mode
// client (pppd's rp-pppoe plugin) connects its PPPoX socket only after it
// has the PADS, so a request sent at once is lost and costs a 3-second
// retransmission; sent when the client's first frame arrives, it is not.
// A client that waits for us to speak first waits this long.
const firstRequestDelay = time.Second

// statsEvery is how often a session's traffic counters are read while it
// is up: often enough that 32-bit kernel counters cannot wrap in between
// below 3.4 Gbit/s.
const statsEvery = 10 * time.Second

// openLCP opens LCP if it is not open yet (RFC 1661 Open event), before
// the frame that prompted it is handled: in the Closed state a
// Configure-Request would be answered with a Terminate-Ack.
func (s *session) openLCP() {
	if !s.openAt.IsZero() {
		s.openAt = time.Time{}
		s.lcp.open(s.srv.clock)
	}
}

// closeLCP starts an orderly end: LCP Terminate-Request now, and the
// session ends with a PADT when LCP finishes (Terminate-Ack or timeout).
func (s *session) closeLCP(reason string) {
	if s.closeReason == "" {
		s.closeReason = reason
	}
	s.lcp.close(s.srv.clock)
}

// end ends the session once the current event is handled. notifyPeer sends
// an LCP Terminate-Request (when LCP is open) and a PADT first; it is false
// when the peer is the one who ended it. The first reason given wins.
func (s *session) end(reason string, notifyPeer bool) {
	if s.ending {
		return
	}
	s.ending, s.endReason, s.notifyPeer = true, reason, notifyPeer
	s.srv.reapq = append(s.srv.reapq, s)
}

// finish is the reaper's half of end: it tells the peer, logs the
// session's accounting and frees everything the session held.
func (s *session) finish() {
	srv := s.srv
	if s.notifyPeer {
		if s.lcp.state == stOpened {
			// Tell PPP first, as pppd would, then PPPoE; we do not wait
			// for the Terminate-Ack.
			s.termID++
			s.sendCP(protoLCP, uint8(cpTermReq), s.termID, nil, nil, nil)
		}
		srv.sendPADT(s)
	}
	ip := netip.Addr{}
	if s.slot != noSlot {
		ip = srv.pool.remoteAddr(s.slot)
	}
	s.leaveNetworkPhase()
	var c trafficCounts
	if s.path != nil {
		c = s.path.counters()
		if !s.acctStart.IsZero() {
			srv.account(acctStop, s, srv.clock, c)
		}
		if err := s.path.close(); err != nil {
			s.logger().Warn("closing the session's data path failed", "err", err)
		}
	}
	if s.auth.done {
		srv.removeUserSession(s)
	}
	srv.endReasons[reasonKind(s.endReason)]++
	srv.churnAt = srv.clock
	// pppd's "Connect time" and "Sent N bytes, received M bytes", in one
	// line with who and why.
	attrs := []any{"reason", s.endReason, "user", s.auth.user,
		"duration", srv.clock.Sub(s.started).Round(time.Millisecond),
		"rx_bytes", c.rxBytes, "rx_packets", c.rxPackets, "tx_bytes", c.txBytes, "tx_packets", c.txPackets}
	if ip.IsValid() {
		attrs = append(attrs, "ip", ip.String())
	}
	s.log = nil // the user attribute is in the line already
	srv.log.Info("session ended", append([]any{"iface", s.iface.name, "mac", s.peer.String(), "sid", s.id}, attrs...)...)
	srv.stats.add(statSessionsEnded)
	srv.sessions.release(s)
}

// account writes an accounting record of s to the accounting file and
// RADIUS, whichever there are, and reports whether there was one.
func (srv *server) account(kind acctKind, s *session, now time.Time, c trafficCounts) bool {
	if srv.acct != nil {
		srv.acct.record(kind, s, now, c)
	}
	if srv.radAcct != nil {
		srv.radAcct.record(kind, s, now, c)
	}
	return srv.acct != nil || srv.radAcct != nil
}

// reasonKind is the kind of an end reason, for the counters by reason:
// "authentication failed: wrong password" counts as "authentication failed".
func reasonKind(r string) string {
	k, _, _ := strings.Cut(r, ":")
	return k
}

// applyRate puts a new rate limit on the session, at once.
func (s *session) applyRate(r rateLimit) {
	s.rate = r
	s.path.setRate(r)
}

// enterNetworkPhase gives the session its address, readies the data path
// and starts IPCP. What it takes, leaveNetworkPhase gives back, so a
// session that renegotiates LCP and comes through here again holds one
// address, not two.
func (s *session) enterNetworkPhase() {
	srv := s.srv
	if s.slot == noSlot {
		slot, ok := noSlot, false
		if a := s.auth.result.addr; a.IsValid() {
			if sl, err := srv.pool.allocAddr(a); err == nil {
				slot = sl
			} else {
				s.logger().Info("the authenticator's address is unavailable; using the pool", "ip", a.String(), "err", err)
			}
		}
		g := uint8(0)
		if name := s.auth.result.pool; name != "" {
			if g, ok = srv.pool.groupOf(name); !ok {
				s.logger().Warn("the authenticator named a pool there is no [[pool]] for; using the default one", "pool", name)
			}
		}
		if slot == noSlot {
			sl, err := srv.pool.allocIn(g)
			if err != nil {
				s.logger().Warn("address pool exhausted: refusing the session", "pool_size", srv.pool.size())
				s.closeLCP("address pool exhausted")
				return
			}
			slot = sl
		}
		s.slot = slot
	}
	if err := s.path.enterNetwork(int(s.lcpL.mru)); err != nil {
		s.logger().Warn("data path setup failed", "err", err)
		s.closeLCP("data path setup failed")
		return
	}
	s.phase = phaseNetwork
	if t := s.auth.result.sessionTimeout; t > 0 && s.sessionEnd.IsZero() {
		s.sessionEnd = srv.clock.Add(t)
	}
	s.idle = s.auth.result.idleTimeout
	o := srv.ppp.opts
	s.ipcpL.resetServer(s, srv.pool.localAddr(s.slot, srv.cfg.localIP), srv.pool.remoteAddr(s.slot), o.dns, o.wins)
	s.ipcp.up(srv.clock)
	s.ipcp.open(srv.clock)
	s.openIPv6CP()
}

// leaveNetworkPhase stops IPCP and the data path and frees the address.
func (s *session) leaveNetworkPhase() {
	s.leaveIPv6()
	if s.phase == phaseNetwork {
		s.ipcp.down(s.srv.clock)
	}
	if s.path != nil {
		s.path.down()
	}
	s.upAt = time.Time{}
	if s.slot != noSlot {
		s.srv.pool.free(s.slot)
		s.slot = noSlot
	}
}

// tick runs the session's timers: the automata's restart timers,
// authentication, the setup deadline, the session and idle timeouts and
// the keepalive. It stops as soon as one of them ends the session.
func (s *session) tick(now time.Time) {
	if !s.openAt.IsZero() && !now.Before(s.openAt) {
		s.openLCP()
	}
	if !s.lcp.deadline.IsZero() && !now.Before(s.lcp.deadline) {
		s.lcp.timeout(now)
	}
	if !s.ending && !s.ipcp.deadline.IsZero() && !now.Before(s.ipcp.deadline) {
		s.ipcp.timeout(now)
	}
	if !s.ending && !s.ipv6cp.deadline.IsZero() && !now.Before(s.ipv6cp.deadline) {
		s.ipv6cp.timeout(now)
	}
	if !s.ending && s.phase == phaseAuthenticate {
		s.authTick(now)
	}
	if s.ending {
		return
	}
	if !s.ncpUp() {
		if s.state == stateStarting && now.Sub(s.started) >= silentPeerTimeout {
			// A PADR from a host that never speaks PPP: a flood of
			// them from made-up MACs would hold the slots for the
			// whole setup timeout.
			s.end("peer silent after PADS", true)
			return
		}
		if !now.Before(s.deadline) && s.phase != phaseTerminate {
			s.end("PPP setup timed out", true)
		}
		return
	}
	if !now.Before(s.statsAt) {
		// Read the counters now and then, so the kernel's 32-bit ones
		// cannot wrap unseen between two readings.
		s.path.counters()
		s.statsAt = now.Add(statsEvery)
	}
	if !s.acctNext.IsZero() && !now.Before(s.acctNext) {
		s.srv.account(acctInterim, s, now, s.path.counters())
		s.acctNext = now.Add(s.acctInterval)
	}
	if !s.sessionEnd.IsZero() && !now.Before(s.sessionEnd) {
		s.closeLCP("session timeout")
		return
	}
	if idle := s.idleLimit(); idle > 0 && !s.upAt.IsZero() && now.Sub(s.lastData()) >= idle {
		s.closeLCP("idle timeout")
		return
	}
	s.tick6(now)
	s.keepalive(now)
}

// idleLimit is how long the session may go without data: the
// authenticator's idle timeout, else -T or the options file's idle.
func (s *session) idleLimit() time.Duration {
	if s.idle > 0 {
		return s.idle
	}
	return s.srv.ppp.idle
}

// lastData is when data last moved either way, as pppd's idle option
// counts it; IPCP coming up counts as the start. LCP echoes and other
// control frames are not data.
func (s *session) lastData() time.Time {
	rx, tx := s.path.lastData()
	last := s.upAt
	if rx.After(last) {
		last = rx
	}
	if tx.After(last) {
		last = tx
	}
	return last
}

// keepalive sends LCP Echo-Requests once the peer has been silent for
// lcp-echo-interval, and ends the session after interval × failure seconds
// of silence. Any frame from the peer counts as a sign of life, data
// included, so a dead peer is reaped at most interval × failure after its
// last frame (pppd can take one interval more).
func (s *session) keepalive(now time.Time) {
	o := s.srv.ppp.opts
	i, n := o.echoInterval, o.echoFailure
	if i <= 0 || n <= 0 || s.lcp.state != stOpened {
		return
	}
	last := s.lastHeard
	if rx, _ := s.path.lastData(); rx.After(last) {
		last = rx
	}
	silent := now.Sub(last)
	if silent >= i*time.Duration(n) {
		s.end("no answer to LCP echo requests", true)
		return
	}
	if silent >= i && !now.Before(s.echoAt) {
		s.echoID++
		var magic [4]byte
		if s.lcpL.sendMagic {
			binary.BigEndian.PutUint32(magic[:], s.lcpL.magic)
		}
		s.sendCP(protoLCP, uint8(cpEchoReq), s.echoID, magic[:], nil, nil)
		// Retry at half the interval so one lost echo is not fatal when
		// lcp-echo-failure is small.
		s.echoAt = now.Add(i / 2)
	}
}

// sendPPP sends a PPP packet built at srv.ctrlTx[headroom:] through the
// session's data path, which fills the headers in front of it in place.
func (s *session) sendPPP(proto uint16, pkt []byte) {
	srv := s.srv
	if err := s.path.sendControl(proto, srv.ctrlTx[:headroom+len(pkt)]); err != nil {
		srv.stats.add(statTxErrors)
		if srv.logLimit.allow(logSendFailed, srv.clock) {
			s.logger().Warn("send failed", "proto", proto, "err", err)
		}
		return
	}
	srv.stats.add(statTxFrames)
}

// sendCP builds a control packet from up to three parts and sends it.
func (s *session) sendCP(proto uint16, code, id uint8, a, b, c []byte) {
	s.sendPPP(proto, appendCP(s.srv.ctrlTx[headroom:headroom], code, id, a, b, c))
}
