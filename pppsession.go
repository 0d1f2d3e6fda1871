// The PPP side of a session on the access concentrator: the phases of
// RFC 1661 §3.2 driven by the LCP and IPCP automata and authentication.
//
//	PADS ─> Establish (LCP) ─> Authenticate ─> Network (IPCP) ─> data flows
//	              └──────────── Terminate ─────────────┘ ─> PADT, freed
//
// Everything here runs on the loop goroutine. Control frames arrive through
// handleSessionFrame; IPv4 frames of a session whose IPCP is open never
// reach the loop: the data path (dataplane.go) forwards them.

package main

import (
	"encoding/binary"
	"os"
	"time"
)

// pppHost is what the LCP and IPCP layers call back into: the server here,
// the dialer in client.go.
type pppHost interface {
	sendCP(sess *session, proto uint16, code, id uint8, a, b, c []byte)
	onLCPUp(sess *session)
	onLCPDown(sess *session)
	onLCPFinished(sess *session)
	onIPCPUp(sess *session)
	onIPCPDown(sess *session)
	onIPCPFinished(sess *session)
	onProtocolReject(sess *session, proto uint16)
}

// phase is RFC 1661 §3.2's link phase.
type phase uint8

const (
	phaseEstablish phase = iota
	phaseAuthenticate
	phaseNetwork
	phaseTerminate
)

// startPPP begins LCP right after the PADS, as pppd does on an rp-pppoe
// server: we send the first Configure-Request.
func (s *server) startPPP(sess *session) {
	sess.phase = phaseEstablish
	sess.lastHeard = s.clock
	sess.lcpL.reset(s, sess, false, s.authMethods, uint16(s.cfg.opts.mru))
	sess.lcp.init(protoLCP, &sess.lcpL, s.fsmCfg, &s.ctrlTx, func(pkt []byte) { s.sendPPP(sess, protoLCP, pkt) })
	sess.ipcp.init(protoIPCP, &sess.ipcpL, s.fsmCfg, &s.ctrlTx, func(pkt []byte) { s.sendPPP(sess, protoIPCP, pkt) })
	sess.lcp.up(s.clock)
	sess.openAt = s.clock.Add(firstRequestDelay)
}

// firstRequestDelay is how long we wait after the PADS for the client to
// speak before we send our first LCP Configure-Request. A kernel-mode
// client (pppd's rp-pppoe plugin) connects its PPPoX socket only after it
// has the PADS, so a request sent at once is lost and costs a 3-second
// retransmission; sent when the client's first frame arrives, it is not.
// A client that waits for us to speak first waits this long.
const firstRequestDelay = time.Second

// openLCP opens LCP if it is not open yet (RFC 1661 Open event), before
// the frame that prompted it is handled: in the Closed state a
// Configure-Request would be answered with a Terminate-Ack.
func (s *server) openLCP(sess *session) {
	if !sess.openAt.IsZero() {
		sess.openAt = time.Time{}
		sess.lcp.open(s.clock)
	}
}

// sendPPP sends a PPP packet built at s.ctrlTx[headroom:], filling the
// Ethernet, PPPoE and PPP headers in front of it in place.
func (s *server) sendPPP(sess *session, proto uint16, pkt []byte) {
	if sess.kern != nil {
		// The kernel adds PPPoE and Ethernet: give it protocol and packet.
		b := s.ctrlTx[headroom-pppProtoLen : headroom+len(pkt)]
		binary.BigEndian.PutUint16(b, proto)
		if err := sess.kern.write(b); err != nil {
			s.stats.add(statTxErrors)
			return
		}
		s.stats.add(statTxFrames)
		return
	}
	b := s.ctrlTx[:headroom+len(pkt)]
	putSessionHeader(b, sess.peer, sess.iface.mac, s.cfg.sessionType, sess.id, proto)
	if err := sess.iface.sessW.writeFrame(b); err != nil {
		s.stats.add(statTxErrors)
		return
	}
	s.stats.add(statTxFrames)
}

// putSessionHeader writes the Ethernet, PPPoE session and PPP protocol
// headers into b[:headroom]; the PPP payload follows at b[headroom:].
func putSessionHeader(b []byte, dst, src hwAddr, etherType, sid, proto uint16) {
	copy(b[0:6], dst[:])
	copy(b[6:12], src[:])
	binary.BigEndian.PutUint16(b[offEtherType:], etherType)
	b[offVerType] = verType
	b[offCode] = byte(codeSession)
	binary.BigEndian.PutUint16(b[offSessionID:], sid)
	binary.BigEndian.PutUint16(b[offLength:], uint16(len(b)-discoveryHdrLen))
	binary.BigEndian.PutUint16(b[discoveryHdrLen:], proto)
}

// sendCP builds a control packet from up to three parts and sends it.
func (s *server) sendCP(sess *session, proto uint16, code, id uint8, a, b, c []byte) {
	pkt := appendCP(s.ctrlTx[headroom:headroom], code, id, a, b, c)
	s.sendPPP(sess, proto, pkt)
}

// handleSessionFrame handles a session-stage frame the data path passed to
// the loop: LCP, authentication, IPCP, or a protocol we reject.
func (s *server) handleSessionFrame(ifc *iface, b []byte) {
	s.clock = s.now()
	var h pppoeHeader
	if err := h.parse(b); err != nil {
		s.drop(ifc, parseDropReason(err), b)
		return
	}
	if h.code != codeSession || len(h.payload) < pppProtoLen {
		s.drop(ifc, dropBadPPP, b)
		return
	}
	sess := s.sessions.lookupPeer(ifc, h.src, h.sessionID)
	if sess == nil {
		s.drop(ifc, dropUnknownSession, b)
		return
	}
	if sess.state == stateStarting {
		s.sessions.markUp(sess)
		s.openLCP(sess)
	}
	sess.heard(s.clock)
	proto := binary.BigEndian.Uint16(h.payload)
	pkt := h.payload[pppProtoLen:]
	switch proto {
	case protoLCP:
		sess.lcp.input(s.clock, pkt)
		if sess.lcpL.authRefused && sess.phase == phaseEstablish {
			s.closeLCP(sess, "no authentication method both sides accept")
		}
	case protoPAP, protoCHAP:
		if sess.phase == phaseAuthenticate || (sess.phase == phaseNetwork && sess.auth.done) {
			s.handleAuth(sess, proto, pkt)
		} else {
			s.drop(ifc, dropBadPPP, b)
		}
	case protoIPCP:
		// RFC 1661 §3.4: NCP packets before the network phase are
		// silently discarded.
		if sess.phase == phaseNetwork {
			sess.ipcp.input(s.clock, pkt)
		} else {
			s.drop(ifc, dropBadPPP, b)
		}
	case protoIPv4:
		// Only reaches the loop before IPCP is open.
		s.drop(ifc, dropBadPPP, b)
	default:
		// RFC 1661 §5.7: reject an unknown protocol without taking the
		// link down. IPv6CP, CCP and friends land here.
		if sess.lcp.state == stOpened {
			s.sendProtocolReject(sess, proto, pkt)
		} else {
			s.drop(ifc, dropBadPPP, b)
		}
	}
}

func (s *server) sendProtocolReject(sess *session, proto uint16, pkt []byte) {
	sess.protoRejID++
	binary.BigEndian.PutUint16(s.protoBuf[:], proto)
	// Keep the reject within the peer's MRU (RFC 1661 §5.7).
	if max := int(sess.lcpL.peerMRU) - cpHdrLen - 2; len(pkt) > max {
		pkt = pkt[:max]
	}
	s.stats.add(statProtocolRejects)
	s.sendCP(sess, protoLCP, uint8(cpProtoRej), sess.protoRejID, s.protoBuf[:2], pkt, nil)
}

func (s *server) onLCPUp(sess *session) {
	if sess.lcpL.authRefused {
		s.closeLCP(sess, "no authentication method both sides accept")
		return
	}
	sess.echoAt = s.clock.Add(s.cfg.opts.echoInterval)
	if sess.lcpL.auth != authNone {
		sess.phase = phaseAuthenticate
		s.startAuth(sess)
		return
	}
	s.enterNetworkPhase(sess)
}

func (s *server) onLCPDown(sess *session) {
	if sess.phase == phaseNetwork {
		sess.ipcp.down(s.clock)
	}
	sess.phase = phaseTerminate
}

func (s *server) onLCPFinished(sess *session) {
	reason := sess.endReason
	if reason == "" {
		reason = "LCP terminated"
	}
	s.endSession(sess, reason, true)
}

// enterNetworkPhase gives the session its address and starts IPCP.
func (s *server) enterNetworkPhase(sess *session) {
	slot := noSlot
	if a, ok := sess.auth.staticAddr(); ok {
		if sl, err := s.pool.allocAddr(a); err == nil {
			slot = sl
		} else {
			sess.log.Info("static address from the secrets file is unavailable; using the pool", "ip", a.String(), "err", err)
		}
	}
	if slot == noSlot {
		sl, err := s.pool.alloc()
		if err != nil {
			sess.log.Warn("address pool exhausted: refusing the session", "pool_size", s.pool.size())
			s.closeLCP(sess, "address pool exhausted")
			return
		}
		slot = sl
	}
	sess.slot = slot
	if sess.kern != nil {
		unit := -1
		if s.cfg.UnitFromSession {
			// rp-pppoe's -u: the unit number follows the session.
			unit = int(sess.id) - 1 - s.cfg.SessionOffset
		}
		if err := sess.kern.newUnit(unit, int(sess.lcpL.mru)); err != nil {
			sess.log.Warn("kernel ppp unit setup failed", "err", err)
			s.closeLCP(sess, "kernel ppp unit setup failed")
			return
		}
		s.startKernelReader(sess, sess.kern.unit)
	}
	sess.phase = phaseNetwork
	sess.ipcpL.resetServer(s, sess, s.pool.localAddr(slot, s.cfg.localIP), s.pool.remoteAddr(slot), s.cfg.opts.dns, s.cfg.opts.wins)
	sess.ipcp.up(s.clock)
	sess.ipcp.open(s.clock)
}

func (s *server) onIPCPUp(sess *session) {
	attrs := []any{"ip", sess.ipcpL.peer.String(), "local_ip", sess.ipcpL.local.String(),
		"mru", sess.lcpL.peerMRU, "setup", s.clock.Sub(sess.started).Round(time.Millisecond)}
	if sess.kern != nil {
		mtu := int(min(sess.lcpL.peerMRU, sess.lcpL.maxMRU()))
		err := sess.kern.configure(sess.ipcpL.local, sess.ipcpL.peer, mtu)
		if err == nil {
			err = sess.kern.setNPMode(true)
		}
		if err != nil {
			sess.log.Warn("configuring the ppp interface failed", "ifname", sess.kern.name, "err", err)
			s.closeLCP(sess, "configuring "+sess.kern.name+" failed")
			return
		}
		attrs = append(attrs, "ifname", sess.kern.name)
	} else {
		s.dp.publish(sess)
		// A client whose MRU is below the TUN's MTU (Windows asks for
		// 1480) gets a host route with that MTU, so the kernel
		// fragments or sends "fragmentation needed" instead of the data
		// path dropping what does not fit.
		if mru := sess.data.mru; mru < ethPPPoEMTU && s.routeMTU != nil {
			if err := s.routeMTU(sess.ipcpL.peer, mru); err != nil {
				sess.log.Warn("cannot set the route MTU for the session", "mtu", mru, "err", err)
			} else {
				sess.mtuRoute = true
			}
		}
	}
	sess.log.Info("session up", attrs...)
	s.stats.add(statSessionsUp)
}

func (s *server) onIPCPDown(sess *session) {
	if sess.kern != nil {
		sess.kern.setNPMode(false)
		return
	}
	s.unrouteMTU(sess)
	s.dp.unpublish(sess)
}

// unrouteMTU removes a session's MTU host route, if it has one.
func (s *server) unrouteMTU(sess *session) {
	if sess.mtuRoute {
		sess.mtuRoute = false
		if err := s.routeMTU(sess.ipcpL.peer, 0); err != nil {
			sess.log.Warn("cannot remove the session's MTU route", "err", err)
		}
	}
}

// startKernelReader reads PPP frames the kernel hands to f (a channel or
// unit fd) and posts them to the loop dressed as the session frames they
// arrived in, so handleSessionFrame treats both modes alike. It stops
// when f is closed.
func (s *server) startKernelReader(sess *session, f *os.File) {
	ifc, peer, sid, etype := sess.iface, sess.peer, sess.id, s.cfg.sessionType
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			fr := getFrame()
			n, err := f.Read(fr[discoveryHdrLen:])
			if err != nil {
				putFrame(fr)
				s.log.Debug("kernel reader stopped", "sid", sid, "err", err)
				return
			}
			b := fr[:discoveryHdrLen+n]
			putSessionHeader(b, ifc.mac, peer, etype, sid, binary.BigEndian.Uint16(b[discoveryHdrLen:]))
			select {
			case s.rx <- rxFrame{ifc, fr, len(b), true}:
			default:
				s.stats.add(statQueueFull)
				putFrame(fr)
			}
		}
	}()
}

func (s *server) onIPCPFinished(sess *session) {
	if sess.lcp.state == stOpened {
		s.closeLCP(sess, "IPCP did not converge")
	}
}

func (s *server) onProtocolReject(sess *session, proto uint16) {
	if proto == protoIPCP {
		sess.ipcp.protocolRejected(s.clock)
	}
}

// closeLCP starts an orderly end: LCP Terminate-Request now, and the
// session ends with a PADT when LCP finishes (Terminate-Ack or timeout).
func (s *server) closeLCP(sess *session, reason string) {
	if sess.endReason == "" {
		sess.endReason = reason
	}
	sess.lcp.close(s.clock)
}

// onSessionTick runs a session's timers: the automata's restart timers,
// authentication, keepalive, the setup deadline and the idle timeout.
func (s *server) onSessionTick(sess *session, now time.Time) {
	if !sess.openAt.IsZero() && !now.Before(sess.openAt) {
		s.openLCP(sess)
	}
	if !sess.lcp.deadline.IsZero() && !now.Before(sess.lcp.deadline) {
		sess.lcp.timeout(now)
	}
	if sess.state == stateFree {
		return
	}
	if !sess.ipcp.deadline.IsZero() && !now.Before(sess.ipcp.deadline) {
		sess.ipcp.timeout(now)
	}
	if sess.state == stateFree {
		return
	}
	if sess.phase == phaseAuthenticate {
		s.onAuthTick(sess, now)
		if sess.state == stateFree {
			return
		}
	}
	if sess.phase != phaseNetwork || sess.ipcp.state != stOpened {
		if !now.Before(sess.deadline) && sess.phase != phaseTerminate {
			s.endSession(sess, "PPP setup timed out", true)
		}
		return
	}
	if last := s.dp.lastRx(sess); s.cfg.IdleTimeout > 0 && now.Sub(last) >= s.cfg.IdleTimeout && now.Sub(sess.lastHeard) >= s.cfg.IdleTimeout {
		s.closeLCP(sess, "idle timeout")
		return
	}
	s.keepalive(sess, now)
}

// keepalive sends LCP Echo-Requests once the peer has been silent for
// lcp-echo-interval, and ends the session after interval × failure seconds
// of silence. Any frame from the peer counts as a sign of life, so a dead
// peer is reaped at most interval × failure after its last frame (pppd can
// take one interval more).
func (s *server) keepalive(sess *session, now time.Time) {
	i, n := s.cfg.opts.echoInterval, s.cfg.opts.echoFailure
	if i <= 0 || n <= 0 || sess.lcp.state != stOpened {
		return
	}
	last := sess.lastHeard
	if rx := s.dp.lastRx(sess); rx.After(last) {
		last = rx
	}
	silent := now.Sub(last)
	if silent >= i*time.Duration(n) {
		s.endSession(sess, "no answer to LCP echo requests", true)
		return
	}
	if silent >= i && !now.Before(sess.echoAt) {
		sess.echoID++
		binary.BigEndian.PutUint32(s.protoBuf[:], sess.lcpL.magic)
		if !sess.lcpL.sendMagic {
			clear(s.protoBuf[:])
		}
		s.sendCP(sess, protoLCP, uint8(cpEchoReq), sess.echoID, s.protoBuf[:4], nil, nil)
		// Retry at half the interval so one lost echo is not fatal when
		// lcp-echo-failure is small.
		sess.echoAt = now.Add(i / 2)
	}
}

func (sess *session) heard(now time.Time) { sess.lastHeard = now }
