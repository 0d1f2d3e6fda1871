// PPP pieces both ends share: the host a session gives its LCP and IPCP
// layers, the per-session automata, the session header, and the framing
// helpers (the option iterator and the option and control-packet encoders).
//
// Like the discovery codec, parsing aliases the caller's buffer and encoding
// appends, so none of this allocates.

package main

import (
	"encoding/binary"
	"errors"
)

// fsmHost is what an automaton needs from the session it belongs to.
type fsmHost interface {
	// sendPPP sends pkt, which the automaton built at tx[headroom:], as a
	// frame of protocol proto. pkt is reused once it returns.
	sendPPP(proto uint16, pkt []byte)
	// logger is the session's logger.
	logger() *logger
}

// pppHost is the session a pair of LCP and IPCP layers belongs to: the
// server's session, or the test client's. The layers call back into it
// without naming a session: each session is its own host.
type pppHost interface {
	fsmHost
	sendCP(proto uint16, code, id uint8, a, b, c []byte)
	onLCPUp()
	onLCPDown()
	onLCPFinished()
	onIPCPUp()
	onIPCPDown()
	onIPCPFinished()
	onIPv6CPUp()
	onIPv6CPDown()
	onIPv6CPFinished()
	onProtocolReject(proto uint16)
}

// phase is RFC 1661 §3.2's link phase.
type phase uint8

const (
	phaseEstablish phase = iota
	phaseAuthenticate
	phaseNetwork
	phaseTerminate
)

// pppConn is the PPP state of one session, on either end: its phase and
// the LCP and IPCP automata with their layers.
type pppConn struct {
	phase phase
	lcp   fsm
	lcpL  lcpLayer
	ipcp  fsm
	ipcpL ipcpLayer
	// IPv6CP runs only where IPv6 is on; otherwise it stays Initial.
	ipv6cp  fsm
	ipv6cpL ipv6cpLayer
}

// initPPP binds the automata to their layers and to h, the session they
// belong to. tx is the owner's shared transmit buffer.
func (c *pppConn) initPPP(h pppHost, lcp, ipcp fsmConfig, tx *frame) {
	c.lcp.init(protoLCP, &c.lcpL, h, lcp, tx)
	c.ipcp.init(protoIPCP, &c.ipcpL, h, ipcp, tx)
	c.ipv6cp.init(protoIPv6CP, &c.ipv6cpL, h, ipcp, tx)
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

var errBadOption = errors.New("pppoe: configuration option length is invalid")

// optIter walks the configuration options of a Configure-Request, -Ack,
// -Nak or -Reject (RFC 1661 §6): type, length (counting both header bytes),
// value. raw is the whole option, as a Configure-Reject must echo it.
type optIter struct {
	b   []byte
	typ uint8
	val []byte
	raw []byte
	err error
}

func (it *optIter) next() bool {
	if it.err != nil || len(it.b) == 0 {
		return false
	}
	if len(it.b) < optHdrLen || int(it.b[1]) < optHdrLen || int(it.b[1]) > len(it.b) {
		it.err = errBadOption
		return false
	}
	n := int(it.b[1])
	it.typ, it.raw, it.val = it.b[0], it.b[:n], it.b[optHdrLen:n]
	it.b = it.b[n:]
	return true
}

func appendOpt(b []byte, typ uint8, val []byte) []byte {
	b = append(b, typ, byte(optHdrLen+len(val)))
	return append(b, val...)
}

func appendOpt16(b []byte, typ uint8, v uint16) []byte {
	b = append(b, typ, optHdrLen+2)
	return binary.BigEndian.AppendUint16(b, v)
}

func appendOpt32(b []byte, typ uint8, v uint32) []byte {
	b = append(b, typ, optHdrLen+4)
	return binary.BigEndian.AppendUint32(b, v)
}

// appendCP appends a control packet header (code, identifier, length) and
// body. Used for packets the automaton does not build itself: echoes,
// Protocol-Reject, PAP and CHAP.
func appendCP(b []byte, code uint8, id uint8, body ...[]byte) []byte {
	n := cpHdrLen
	for _, p := range body {
		n += len(p)
	}
	b = append(b, code, id)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

// parseCP splits a control packet into code, identifier and data, trimming
// it to its Length field (RFC 1661 §5: octets past Length are padding).
func parseCP(b []byte) (code, id uint8, data []byte, ok bool) {
	if len(b) < cpHdrLen {
		return 0, 0, nil, false
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n < cpHdrLen || n > len(b) {
		return 0, 0, nil, false
	}
	return b[0], b[1], b[cpHdrLen:n], true
}
