// LCP (RFC 1661): the options we negotiate and the LCP-only codes.
//
// lcpLayer plugs into the shared automaton (fsm.go). The same layer serves
// both roles: as the access concentrator it asks the peer to authenticate
// and refuses to authenticate itself; as the test client (client.go) it
// accepts an authentication method it supports. Values the peer asks for are
// committed only when we Configure-Ack them.
//
// Options: MRU and Magic-Number are negotiated, Auth-Protocol by role.
// ACCM, PFC and ACFC are rejected: RFC 2516 §7 forbids ACCM on PPPoE and
// says ACFC and PFC should not be used, and Windows, CPEs and pppd all cope.
// Everything else is rejected too.

package main

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
)

type lcpLayer struct {
	h      pppHost
	f      *fsm // this layer's automaton, whose state decides the echo replies
	client bool
	// maxPayload is the RFC 4638 PPP-Max-Payload agreed in discovery, 0
	// if none.
	maxPayload uint16

	// Our Configure-Request.
	mru       uint16
	sendMRU   bool
	magic     uint32
	sendMagic bool
	auth      authMethod // server: the method we ask for

	// Server: methods we accept, strongest first. Client: methods we will
	// answer, in our order of preference.
	methods []authMethod

	// authRefused is set when the peer rejected authentication or no
	// method both sides accept is left.
	authRefused bool

	// What the peer asked for and we acknowledged.
	peerMRU   uint16
	peerMagic uint32
	peerAuth  authMethod // client: the method the server demands

	magicBuf [4]byte // scratch for Echo-Reply, so it does not escape
}

// maxMRU is the largest MRU this session may carry: RFC 2516 §7 limits it
// to 1492 unless RFC 4638 agreed on more in discovery.
func (l *lcpLayer) maxMRU() uint16 {
	if l.maxPayload > ethPPPoEMTU {
		return l.maxPayload
	}
	return ethPPPoEMTU
}

func (l *lcpLayer) reset(h pppHost, f *fsm, client bool, methods []authMethod, mru, maxPayload uint16) {
	*l = lcpLayer{h: h, f: f, client: client, maxPayload: maxPayload, methods: methods, sendMRU: true, sendMagic: true}
	l.mru = l.maxMRU()
	if mru != 0 && mru < l.mru {
		l.mru = mru
	}
	l.magic = newMagic()
	if !client && len(methods) > 0 {
		l.auth = methods[0]
	}
	l.peerMRU = defaultMRU
}

func newMagic() uint32 {
	for {
		if m := rand.Uint32(); m != 0 {
			return m
		}
	}
}

func (l *lcpLayer) appendConfReq(b []byte) []byte {
	if l.sendMRU {
		b = appendOpt16(b, lcpOptMRU, l.mru)
	}
	if l.auth != authNone {
		b = l.auth.appendOpt(b)
	}
	if l.sendMagic {
		b = appendOpt32(b, lcpOptMagic, l.magic)
	}
	return b
}

// checkConfReq judges the peer's request in two passes: anything we reject
// makes a Configure-Reject of just those options; otherwise anything we
// would change makes a Configure-Nak; otherwise we Ack and commit.
func (l *lcpLayer) checkConfReq(opts, resp []byte, rejectNaks bool) (cpCode, []byte) {
	start := len(resp)
	if resp, rejected := appendRejects(resp, opts, l.rejects); rejected {
		return cpConfRej, resp
	}
	it := optIter{b: opts}
	for it.next() {
		switch it.typ {
		case lcpOptMRU:
			v := binary.BigEndian.Uint16(it.val)
			if v < minMRU || v > l.maxMRU() {
				resp = l.nak(resp, it.raw, rejectNaks, func(b []byte) []byte { return appendOpt16(b, lcpOptMRU, l.maxMRU()) })
			}
		case lcpOptMagic:
			// RFC 1661 §6.4: zero is illegal, and our own number
			// coming back means the link is looped back.
			v := binary.BigEndian.Uint32(it.val)
			if v == 0 || (l.sendMagic && v == l.magic) {
				resp = l.nak(resp, it.raw, rejectNaks, func(b []byte) []byte { return appendOpt32(b, lcpOptMagic, newMagic()) })
			}
		case lcpOptAuth:
			if _, ok := l.acceptableAuth(it.val); !ok {
				resp = l.nak(resp, it.raw, rejectNaks, func(b []byte) []byte { return l.methods[0].appendOpt(b) })
			}
		}
	}
	if len(resp) > start {
		if rejectNaks {
			return cpConfRej, resp
		}
		return cpConfNak, resp
	}

	l.peerMRU, l.peerMagic, l.peerAuth = defaultMRU, 0, authNone
	it = optIter{b: opts}
	for it.next() {
		switch it.typ {
		case lcpOptMRU:
			l.peerMRU = binary.BigEndian.Uint16(it.val)
		case lcpOptMagic:
			l.peerMagic = binary.BigEndian.Uint32(it.val)
		case lcpOptAuth:
			l.peerAuth, _ = l.acceptableAuth(it.val)
		}
	}
	return cpConfAck, append(resp, opts...)
}

// appendRejects appends the options of a request that rejects says we
// Configure-Reject outright, and reports whether there were any. A
// malformed option list rejects what cannot be parsed. Shared by LCP and
// IPCP: the first pass of RFC 1661 §5.4's order, Reject before Nak.
func appendRejects(resp, opts []byte, rejects func(typ uint8, val []byte) bool) ([]byte, bool) {
	start := len(resp)
	it := optIter{b: opts}
	for it.next() {
		if rejects(it.typ, it.val) {
			resp = append(resp, it.raw...)
		}
	}
	if it.err != nil {
		return append(resp, it.b...), true
	}
	return resp, len(resp) > start
}

// rejects reports whether we Configure-Reject an option outright.
func (l *lcpLayer) rejects(typ uint8, val []byte) bool {
	switch typ {
	case lcpOptMRU:
		return len(val) != 2
	case lcpOptMagic:
		return len(val) != 4
	case lcpOptAuth:
		// The access concentrator does not authenticate itself to
		// clients; a client without any method cannot comply.
		return !l.client || len(l.methods) == 0 || len(val) < 2
	default:
		return true
	}
}

// nak appends our suggestion, or with rejectNaks the option itself for a
// Configure-Reject (RFC 1661 §4.6, Max-Failure).
func (l *lcpLayer) nak(resp, raw []byte, rejectNaks bool, suggest func([]byte) []byte) []byte {
	if rejectNaks {
		return append(resp, raw...)
	}
	return suggest(resp)
}

// acceptableAuth is the client's check of the server's Auth-Protocol.
func (l *lcpLayer) acceptableAuth(val []byte) (authMethod, bool) {
	m := parseAuthOpt(val)
	for _, a := range l.methods {
		if a == m && m != authNone {
			return m, true
		}
	}
	return authNone, false
}

func (l *lcpLayer) ackReceived(opts []byte) bool {
	var buf [32]byte
	return bytes.Equal(opts, l.appendConfReq(buf[:0]))
}

func (l *lcpLayer) nakReceived(opts []byte) {
	it := optIter{b: opts}
	for it.next() {
		switch it.typ {
		case lcpOptMRU:
			if len(it.val) == 2 {
				if v := binary.BigEndian.Uint16(it.val); v >= minMRU && v <= l.maxMRU() {
					l.mru = v
				}
			}
		case lcpOptMagic:
			l.magic = newMagic()
		case lcpOptAuth:
			if l.client || l.auth == authNone {
				continue
			}
			// The peer suggests another method: take it if we allow
			// it, else the next one of ours (pppd does the same).
			if m := parseAuthOpt(it.val); m != authNone && l.allows(m) {
				l.auth = m
			} else if next := l.after(l.auth); next != authNone {
				l.auth = next
			} else {
				l.authRefused = true
			}
		}
	}
}

func (l *lcpLayer) rejReceived(opts []byte) {
	it := optIter{b: opts}
	for it.next() {
		switch it.typ {
		case lcpOptMRU:
			l.sendMRU = false
		case lcpOptMagic:
			l.sendMagic = false
		case lcpOptAuth:
			if l.auth != authNone {
				l.authRefused = true
			}
		}
	}
}

func (l *lcpLayer) allows(m authMethod) bool {
	for _, a := range l.methods {
		if a == m {
			return true
		}
	}
	return false
}

// after returns the allowed method that follows m, or authNone.
func (l *lcpLayer) after(m authMethod) authMethod {
	for i, a := range l.methods {
		if a == m && i+1 < len(l.methods) {
			return l.methods[i+1]
		}
	}
	return authNone
}

// otherCode handles the LCP-only codes (RFC 1661 §5.7-5.9).
func (l *lcpLayer) otherCode(code cpCode, id uint8, data []byte) bool {
	switch code {
	case cpEchoReq:
		// Only answered in the Opened state (RFC 1661 §4.1, RXR).
		if l.f.state == stOpened {
			l.magicBuf = [4]byte{}
			if l.sendMagic {
				binary.BigEndian.PutUint32(l.magicBuf[:], l.magic)
			}
			var rest []byte
			if len(data) > 4 {
				rest = data[4:]
			}
			l.h.sendCP(protoLCP, uint8(cpEchoReply), id, l.magicBuf[:], rest, nil)
		}
	case cpEchoReply:
	case cpDiscardReq:
	case cpProtoRej:
		if len(data) >= 2 {
			l.h.onProtocolReject(binary.BigEndian.Uint16(data))
		}
	default:
		return false
	}
	return true
}

func (l *lcpLayer) up()       { l.h.onLCPUp() }
func (l *lcpLayer) down()     { l.h.onLCPDown() }
func (l *lcpLayer) started()  {}
func (l *lcpLayer) finished() { l.h.onLCPFinished() }
