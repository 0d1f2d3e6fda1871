// The PPP side of a session on the access concentrator: the phases of
// RFC 1661 §3.2 driven by the LCP and IPCP automata and authentication.
//
//	PADS ─> Establish (LCP) ─> Authenticate ─> Network (IPCP) ─> data flows
//	              └──────────── Terminate ─────────────┘ ─> PADT, freed
//
// Everything here runs on the loop goroutine. handlePPP is the one entry
// for a session's PPP frames, whichever way they came: handleSessionFrame
// parses them off the session socket (TUN mode); kernel mode's readers post
// them as they come from /dev/ppp. IPv4 of a session whose IPCP is open
// never reaches the loop: the data path forwards it.
//
// The session is the pppHost of its LCP and IPCP layers: their callbacks
// below are the session's methods.

package main

import (
	"cmp"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
)

// handleSessionFrame parses a session-stage frame a session socket's reader
// passed to the loop and hands its PPP packet to handlePPP.
func (s *server) handleSessionFrame(ifc *iface, b []byte) {
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
	s.handlePPP(sess, binary.BigEndian.Uint16(h.payload), h.payload[pppProtoLen:])
}

// handlePPP handles one PPP packet (protocol proto, then pkt) of sess:
// LCP, authentication, IPCP, or a protocol we reject. pkt aliases a frame
// buffer the caller keeps.
func (s *server) handlePPP(sess *session, proto uint16, pkt []byte) {
	if sess.ending {
		return
	}
	if sess.state == stateStarting {
		s.sessions.markActive(sess)
		sess.openLCP()
	}
	sess.lastHeard = s.clock
	switch proto {
	case protoLCP:
		sess.lcp.input(s.clock, pkt)
		if sess.lcpL.authRefused && sess.phase == phaseEstablish {
			sess.closeLCP("no authentication method both sides accept")
		}
	case protoPAP, protoCHAP:
		if sess.phase == phaseAuthenticate || (sess.phase == phaseNetwork && sess.auth.done) {
			sess.handleAuth(proto, pkt)
		} else {
			s.drop(sess.iface, dropBadPPP, pkt)
		}
	case protoIPCP:
		// RFC 1661 §3.4: NCP packets before the network phase are
		// silently discarded.
		if sess.phase == phaseNetwork {
			sess.ipcp.input(s.clock, pkt)
		} else {
			s.drop(sess.iface, dropBadPPP, pkt)
		}
	case protoIPv4:
		// Only reaches the loop before IPCP is open.
		s.drop(sess.iface, dropBadPPP, pkt)
	case protoIPv6CP:
		switch {
		case !s.cfg.v6.enabled():
			sess.rejectProtocol(proto, pkt)
		case sess.phase == phaseNetwork:
			sess.ipv6cp.input(s.clock, pkt)
		default:
			s.drop(sess.iface, dropBadPPP, pkt)
		}
	case protoIPv6:
		// What the data path does not forward: the peer's Router
		// Solicitations, DHCPv6, Neighbor Discovery.
		if sess.v6.up {
			sess.handleIPv6(pkt)
		} else {
			s.drop(sess.iface, dropBadPPP, pkt)
		}
	default:
		// RFC 1661 §5.7: reject an unknown protocol without taking the
		// link down. CCP and friends land here, and IPv6CP while IPv6 is
		// off.
		sess.rejectProtocol(proto, pkt)
	}
}

func (s *session) rejectProtocol(proto uint16, pkt []byte) {
	if s.lcp.state == stOpened {
		s.sendProtocolReject(proto, pkt)
	} else {
		s.srv.drop(s.iface, dropBadPPP, pkt)
	}
}

func (s *session) sendProtocolReject(proto uint16, pkt []byte) {
	s.protoRejID++
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], proto)
	// Keep the reject within the peer's MRU (RFC 1661 §5.7).
	if max := int(s.lcpL.peerMRU) - cpHdrLen - 2; len(pkt) > max {
		pkt = pkt[:max]
	}
	s.srv.stats.add(statProtocolRejects)
	s.sendCP(protoLCP, uint8(cpProtoRej), s.protoRejID, p[:], pkt, nil)
}

func (s *session) onLCPUp() {
	if s.lcpL.authRefused {
		s.closeLCP("no authentication method both sides accept")
		return
	}
	s.echoAt = s.srv.clock.Add(s.srv.ppp.opts.echoInterval)
	if s.lcpL.auth != authNone {
		s.phase = phaseAuthenticate
		s.startAuth()
		return
	}
	s.enterNetworkPhase()
}

// onLCPDown leaves the network phase. When LCP went down because the peer
// renegotiates (a Configure-Request in Opened), it comes up again and the
// session authenticates and enters the network phase anew, within a fresh
// setup deadline.
func (s *session) onLCPDown() {
	s.leaveNetworkPhase()
	s.auth.pending = false
	s.phase = phaseTerminate
	s.deadline = s.srv.clock.Add(s.srv.cfg.SetupTimeout)
}

func (s *session) onLCPFinished() {
	reason := s.closeReason
	if reason == "" {
		reason = "LCP terminated"
	}
	s.end(reason, true)
}

func (s *session) onIPCPUp() {
	srv := s.srv
	mtu := int(min(s.lcpL.peerMRU, s.lcpL.maxMRU()))
	if err := s.path.up(s.ipcpL.local, s.ipcpL.peer, mtu); err != nil {
		s.logger().Warn("bringing the session's data path up failed", "ifname", s.path.ifname(), "err", err)
		s.closeLCP("data path setup failed")
		return
	}
	attrs := []any{"ip", s.ipcpL.peer.String(), "local_ip", s.ipcpL.local.String(),
		"ifname", s.path.ifname(), "mru", s.lcpL.peerMRU, "setup", srv.clock.Sub(s.started).Round(time.Millisecond)}
	if !s.rate.isZero() {
		attrs = append(attrs, "rate", s.rate.String())
	}
	s.logger().Info("session up", attrs...)
	s.acctIP = s.ipcpL.peer
	s.networkUp()
	s.runIPHook(true)
}

// networkUp is the first NCP coming up, IPCP or IPv6CP: the session is up,
// its rate limit applies, and accounting starts the first time.
func (s *session) networkUp() {
	srv := s.srv
	if !s.upAt.IsZero() {
		return
	}
	s.upAt = srv.clock
	s.path.setRate(s.rate)
	srv.stats.add(statSessionsUp)
	srv.sessions.setUp(s)
	if s.acctStart.IsZero() {
		// Accounting starts the first time the session is up; an LCP
		// renegotiation does not start it again.
		s.acctStart = srv.clock
		if srv.account(acctStart, s, srv.clock, trafficCounts{}) {
			s.acctInterval = cmp.Or(s.auth.result.acctInterim, srv.acctInterval)
			if s.acctInterval > 0 {
				s.acctNext = srv.clock.Add(s.acctInterval)
			}
		}
	}
}

func (s *session) onIPCPDown() {
	s.path.down()
	if s.ipv6cp.state != stOpened {
		s.upAt = time.Time{}
	}
	s.runIPHook(false)
}

// runIPHook runs pppd's ip-up or ip-down script for the session (hooks.go)
// with pppd's argv and environment: interface, device, speed, local and
// remote address, ipparam. ip-down waits for the session's ip-up, and
// runs only if ip-up did.
func (s *session) runIPHook(up bool) {
	srv := s.srv
	o := srv.ppp.opts
	script := o.ipUpScript
	if !up {
		if !s.ipUp {
			return
		}
		script = o.ipDownScript
	}
	s.ipUp = up
	if script == "" {
		return
	}
	ifname := s.path.ifname()
	var dns [2]string
	for i, a := range o.dns {
		dns[i] = a.String()
	}
	env := []string{"IFNAME", ifname, "DEVICE", s.iface.name, "SPEED", "0",
		"IPLOCAL", s.ipcpL.local.String(), "IPREMOTE", s.ipcpL.peer.String(), "PEERNAME", s.auth.user,
		"MACREMOTE", strings.ToUpper(s.peer.String()), "DNS1", dns[0], "DNS2", dns[1], "IPPARAM", o.ipparam,
		"PPPOE_SESSIONID", strconv.Itoa(int(s.id))}
	if !up {
		c := s.path.counters()
		env = append(env, "CONNECT_TIME", strconv.FormatInt(int64(srv.clock.Sub(s.acctStart)/time.Second), 10),
			"BYTES_SENT", strconv.FormatUint(c.txBytes, 10), "BYTES_RCVD", strconv.FormatUint(c.rxBytes, 10))
	}
	argv := []string{script, ifname, s.iface.name, "0", s.ipcpL.local.String(), s.ipcpL.peer.String(), o.ipparam}
	s.hookDone = srv.hooks.run(s.hookDone, []any{"sid", s.id, "user", s.auth.user},
		job{argv: argv, env: hookEnv(env...), script: true})
}

func (s *session) onIPCPFinished() {
	if s.lcp.state == stOpened && !s.ncpAlive(protoIPCP) {
		s.closeLCP("IPCP did not converge")
		return
	}
	if s.v6.up {
		// IPv6 alone: it waited for IPCP to be up the session.
		s.networkUp()
	}
}

func (s *session) onProtocolReject(proto uint16) {
	switch proto {
	case protoIPCP:
		s.ipcp.protocolRejected(s.srv.clock)
	case protoIPv6CP:
		s.ipv6cp.protocolRejected(s.srv.clock)
	}
}
