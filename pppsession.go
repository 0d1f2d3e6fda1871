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
	"encoding/binary"
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
	default:
		// RFC 1661 §5.7: reject an unknown protocol without taking the
		// link down. IPv6CP, CCP and friends land here.
		if sess.lcp.state == stOpened {
			sess.sendProtocolReject(proto, pkt)
		} else {
			s.drop(sess.iface, dropBadPPP, pkt)
		}
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
	s.upAt = srv.clock
	s.logger().Info("session up", "ip", s.ipcpL.peer.String(), "local_ip", s.ipcpL.local.String(),
		"ifname", s.path.ifname(), "mru", s.lcpL.peerMRU, "setup", srv.clock.Sub(s.started).Round(time.Millisecond))
	srv.stats.add(statSessionsUp)
}

func (s *session) onIPCPDown() {
	s.path.down()
	s.upAt = time.Time{}
}

func (s *session) onIPCPFinished() {
	if s.lcp.state == stOpened {
		s.closeLCP("IPCP did not converge")
	}
}

func (s *session) onProtocolReject(proto uint16) {
	if proto == protoIPCP {
		s.ipcp.protocolRejected(s.srv.clock)
	}
}
