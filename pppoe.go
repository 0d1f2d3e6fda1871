// The Ethernet and PPPoE header codec and the discovery tag iterator.
//
// Parsing never allocates: parsed structs alias the caller's buffer, and the
// caller keeps ownership of it. Encoding appends to a caller-provided slice,
// normally buf[:0] of a pooled or loop-owned frame, so it does not allocate
// either as long as the slice has capacity.

package main

import (
	"encoding/binary"
	"errors"
)

var (
	errShortFrame     = errors.New("pppoe: frame shorter than the PPPoE header")
	errBadVerType     = errors.New("pppoe: ver/type is not 1/1")
	errBadLength      = errors.New("pppoe: length field runs past the frame")
	errPayloadTooLong = errors.New("pppoe: discovery payload over 1484 bytes")
	errShortTag       = errors.New("pppoe: tag runs past the end of the payload")
	errTooManyTags    = errors.New("pppoe: too many tags")
)

// hwAddr is an Ethernet MAC address. It is an array, not a net.HardwareAddr,
// so that it compares with == and can key a map without allocating.
type hwAddr [ethAddrLen]byte

var broadcastAddr = hwAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// isUnicast reports whether a is an individual address: the I/G bit is clear
// and it is not all zeros.
func (a hwAddr) isUnicast() bool { return a[0]&1 == 0 && a != hwAddr{} }

func (a hwAddr) String() string { return string(a.appendTo(make([]byte, 0, 17))) }

// appendTo appends the address as six colon-separated hex pairs.
func (a hwAddr) appendTo(b []byte) []byte {
	const hex = "0123456789abcdef"
	for i, c := range a {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return b
}

// pppoeHeader is the Ethernet plus PPPoE header shared by both stages.
type pppoeHeader struct {
	dst, src  hwAddr
	etherType uint16
	code      discoveryCode
	sessionID uint16
	// payload aliases the frame passed to parse. It is trimmed to the PPPoE
	// length field, so Ethernet padding never reaches a payload parser.
	payload []byte
}

// parse decodes the headers of a whole Ethernet frame b. The payload field
// aliases b.
//
// RFC 2516 §4: the LENGTH field counts the PPPoE payload. Ethernet pads short
// frames to 60 bytes, and veth does not, so the frame may be longer than the
// length field says but never shorter.
func (h *pppoeHeader) parse(b []byte) error {
	if len(b) < discoveryHdrLen {
		return errShortFrame
	}
	if b[offVerType] != verType {
		return errBadVerType
	}
	n := int(binary.BigEndian.Uint16(b[offLength:]))
	if discoveryHdrLen+n > len(b) {
		return errBadLength
	}
	copy(h.dst[:], b[0:6])
	copy(h.src[:], b[6:12])
	h.etherType = binary.BigEndian.Uint16(b[offEtherType:])
	h.code = discoveryCode(b[offCode])
	h.sessionID = binary.BigEndian.Uint16(b[offSessionID:])
	h.payload = b[discoveryHdrLen : discoveryHdrLen+n]
	return nil
}

// appendPPPoEHeader appends the Ethernet and PPPoE headers with a zero
// length. The caller fills the payload and then calls patchPPPoELength with
// the offset this function started at.
func appendPPPoEHeader(b []byte, dst, src hwAddr, etherType uint16, code discoveryCode, sid uint16) []byte {
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	b = binary.BigEndian.AppendUint16(b, etherType)
	b = append(b, verType, byte(code))
	b = binary.BigEndian.AppendUint16(b, sid)
	return binary.BigEndian.AppendUint16(b, 0)
}

// patchPPPoELength writes the payload length of the frame that starts at
// b[start:] now that its body is known.
func patchPPPoELength(b []byte, start int) {
	binary.BigEndian.PutUint16(b[start+offLength:], uint16(len(b)-start-discoveryHdrLen))
}

// tagIter walks the TLVs of a discovery payload. Use it as
//
//	it := tagIter{b: payload}
//	for it.next() { switch it.typ { ... } }
//	if err := it.err; err != nil { ... }
//
// val aliases the payload. An End-Of-List tag stops the walk (RFC 2516
// Appendix A) without error.
type tagIter struct {
	b   []byte
	typ tagType
	val []byte
	err error
}

func (it *tagIter) next() bool {
	if it.err != nil || len(it.b) == 0 {
		return false
	}
	if len(it.b) < tagHdrLen {
		it.err = errShortTag
		return false
	}
	t := tagType(binary.BigEndian.Uint16(it.b))
	n := int(binary.BigEndian.Uint16(it.b[2:]))
	if tagHdrLen+n > len(it.b) {
		it.err = errShortTag
		return false
	}
	if t == tagEndOfList {
		it.b = nil
		return false
	}
	it.typ, it.val = t, it.b[tagHdrLen:tagHdrLen+n]
	it.b = it.b[tagHdrLen+n:]
	return true
}

// appendTag appends one TLV.
func appendTag(b []byte, t tagType, val []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(t))
	b = binary.BigEndian.AppendUint16(b, uint16(len(val)))
	return append(b, val...)
}

// maxTags bounds the tags a discoveryPacket keeps. A legitimate discovery
// frame carries a handful; a frame with more is rejected rather than grown
// into, so a hostile frame cannot make us allocate.
const maxTags = 32

type tag struct {
	typ tagType
	val []byte // aliases the parsed frame or a caller-owned buffer
}

// discoveryPacket is a decoded discovery frame: the headers and its tags in
// wire order, unknown ones included, so that appendTo reproduces a parsed
// frame byte for byte.
type discoveryPacket struct {
	pppoeHeader
	ntags int
	tags  [maxTags]tag
}

// parse decodes a whole discovery frame. Tag values alias b.
func (p *discoveryPacket) parse(b []byte) error {
	if err := p.pppoeHeader.parse(b); err != nil {
		return err
	}
	if len(p.payload) > maxDiscoveryPayload {
		return errPayloadTooLong
	}
	p.ntags = 0
	it := tagIter{b: p.payload}
	for it.next() {
		if p.ntags == maxTags {
			return errTooManyTags
		}
		p.tags[p.ntags] = tag{it.typ, it.val}
		p.ntags++
	}
	return it.err
}

// reset prepares p for building a new frame.
func (p *discoveryPacket) reset(dst, src hwAddr, code discoveryCode, sid uint16) {
	p.pppoeHeader = pppoeHeader{dst: dst, src: src, etherType: etherTypeDiscovery, code: code, sessionID: sid}
	p.ntags = 0
}

// add appends a tag. It reports false, and adds nothing, when p is full.
func (p *discoveryPacket) add(t tagType, val []byte) bool {
	if p.ntags == maxTags {
		return false
	}
	p.tags[p.ntags] = tag{t, val}
	p.ntags++
	return true
}

// find returns the value of the first tag of type t.
func (p *discoveryPacket) find(t tagType) ([]byte, bool) {
	for i := range p.ntags {
		if p.tags[i].typ == t {
			return p.tags[i].val, true
		}
	}
	return nil, false
}

// appendTo appends the whole Ethernet frame.
func (p *discoveryPacket) appendTo(b []byte) []byte {
	start := len(b)
	b = appendPPPoEHeader(b, p.dst, p.src, p.etherType, p.code, p.sessionID)
	for i := range p.ntags {
		b = appendTag(b, p.tags[i].typ, p.tags[i].val)
	}
	patchPPPoELength(b, start)
	return b
}

// lineID is the TR-101 line identification an access node inserts into a
// PADI/PADR in a Vendor-Specific tag. Both fields alias the frame.
type lineID struct {
	circuitID []byte
	remoteID  []byte
}

// parseBBFVendorTag decodes the value of a Vendor-Specific tag. It reports
// false when the tag is not the Broadband Forum's or is malformed; a malformed
// one is ignored like any unknown tag.
func parseBBFVendorTag(val []byte) (lineID, bool) {
	var id lineID
	if len(val) < vendorIDLen || binary.BigEndian.Uint32(val) != vendorBBF {
		return id, false
	}
	b := val[vendorIDLen:]
	for len(b) > 0 {
		if len(b) < bbfSubOptionHdrLen || bbfSubOptionHdrLen+int(b[1]) > len(b) {
			return lineID{}, false
		}
		v := b[bbfSubOptionHdrLen : bbfSubOptionHdrLen+int(b[1])]
		switch b[0] {
		case bbfAgentCircuitID:
			id.circuitID = v
		case bbfAgentRemoteID:
			id.remoteID = v
		}
		b = b[bbfSubOptionHdrLen+len(v):]
	}
	return id, true
}
