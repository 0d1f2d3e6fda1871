// The RADIUS codec (RFC 2865, 2866, 2869, 3579, 5176): packets, attributes
// and vendor attributes, IPv6 prefixes (RFC 3162), the authenticators,
// User-Password hiding and the Message-Authenticator.
//
// As the PPPoE codec: parse aliases the caller's buffer and checks every
// length once; encoding appends to a buffer the caller passes, writes 0 into
// the length field and patches it at the end. Nothing here allocates.
//
// Our own codec rather than layeh.com/radius: the accounting path must not
// allocate per packet, and the library's packets are lists of attribute
// slices it allocates (19 allocations for an Interim-Update of six
// attributes, built and encoded, measured with its version of 2023-12-13);
// pppoed uses some forty attributes of a handful of types, which this file
// covers in a few hundred lines.

package main

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"
	"net/netip"
)

// radiusCode is a packet's Code (RFC 2865 §3, RFC 5176 §3).
type radiusCode uint8

const (
	radAccessRequest      radiusCode = 1
	radAccessAccept       radiusCode = 2
	radAccessReject       radiusCode = 3
	radAccountingRequest  radiusCode = 4
	radAccountingResponse radiusCode = 5
	radAccessChallenge    radiusCode = 11
	radDisconnectRequest  radiusCode = 40
	radDisconnectACK      radiusCode = 41
	radDisconnectNAK      radiusCode = 42
	radCoARequest         radiusCode = 43
	radCoAACK             radiusCode = 44
	radCoANAK             radiusCode = 45
)

// radiusAttr is an attribute Type (RFC 2865 §5 and the RFCs after it).
type radiusAttr uint8

const (
	attrUserName             radiusAttr = 1
	attrUserPassword         radiusAttr = 2
	attrCHAPPassword         radiusAttr = 3
	attrNASIPAddress         radiusAttr = 4
	attrNASPort              radiusAttr = 5
	attrServiceType          radiusAttr = 6
	attrFramedProtocol       radiusAttr = 7
	attrFramedIPAddress      radiusAttr = 8
	attrFilterID             radiusAttr = 11
	attrReplyMessage         radiusAttr = 18
	attrClass                radiusAttr = 25
	attrVendorSpecific       radiusAttr = 26
	attrState                radiusAttr = 24
	attrSessionTimeout       radiusAttr = 27
	attrIdleTimeout          radiusAttr = 28
	attrCalledStationID      radiusAttr = 30
	attrCallingStationID     radiusAttr = 31
	attrNASIdentifier        radiusAttr = 32
	attrProxyState           radiusAttr = 33
	attrAcctStatusType       radiusAttr = 40
	attrAcctDelayTime        radiusAttr = 41
	attrAcctInputOctets      radiusAttr = 42
	attrAcctOutputOctets     radiusAttr = 43
	attrAcctSessionID        radiusAttr = 44
	attrAcctAuthentic        radiusAttr = 45
	attrAcctSessionTime      radiusAttr = 46
	attrAcctInputPackets     radiusAttr = 47
	attrAcctOutputPackets    radiusAttr = 48
	attrAcctTerminateCause   radiusAttr = 49
	attrAcctInputGigawords   radiusAttr = 52
	attrAcctOutputGigawords  radiusAttr = 53
	attrEventTimestamp       radiusAttr = 55
	attrCHAPChallenge        radiusAttr = 60
	attrNASPortType          radiusAttr = 61
	attrMessageAuthenticator radiusAttr = 80
	attrAcctInterimInterval  radiusAttr = 85
	attrNASPortID            radiusAttr = 87
	attrFramedPool           radiusAttr = 88
	attrErrorCause           radiusAttr = 101

	// IPv6: RFC 3162, 4818 (Delegated-IPv6-Prefix), 6911.
	attrNASIPv6Address          radiusAttr = 95
	attrFramedInterfaceID       radiusAttr = 96
	attrFramedIPv6Prefix        radiusAttr = 97
	attrLoginIPv6Host           radiusAttr = 98  // not used: no login service
	attrFramedIPv6Route         radiusAttr = 99  // not used: no routes from RADIUS, as Framed-Route
	attrFramedIPv6Pool          radiusAttr = 100 // a [[pool]] by name
	attrDelegatedIPv6Prefix     radiusAttr = 123
	attrFramedIPv6Address       radiusAttr = 168 // not used yet: IA_NA's address is the /64 and the interface ID
	attrDNSServerIPv6Address    radiusAttr = 169 // not used yet: ipv6_dns is per server
	attrDelegatedIPv6PrefixPool radiusAttr = 171
)

// Vendors and their attributes we use.
const (
	vendorMicrosoft = 311   // RFC 2548
	vendorADSLForum = 3561  // RFC 4679, the Broadband Forum's
	vendorWISPr     = 14122 // the Wi-Fi Alliance's

	msCHAPError       = 2
	msCHAPChallenge   = 11
	msCHAP2Response   = 25
	msCHAP2Success    = 26
	adslAgentCircuit  = 1
	adslAgentRemoteID = 2
	wisprMaxUp        = 7 // bit/s
	wisprMaxDown      = 8 // bit/s
)

// Values.
const (
	serviceFramed         = 2
	framedPPP             = 1
	nasPortTypeEthernet   = 15
	acctStatusStart       = 1
	acctStatusStop        = 2
	acctStatusInterim     = 3
	acctStatusOn          = 7
	acctStatusOff         = 8
	acctAuthenticRADIUS   = 1
	acctAuthenticLocal    = 2
	errorCauseNoSession   = 503 // Session-Context-Not-Found
	errorCauseUnsupAttr   = 401
	errorCauseMissingAtt  = 402
	errorCauseNASMismatch = 403
	errorCauseInvalidReq  = 404
	errorCauseUnsupSvc    = 405
	errorCauseInvalidVal  = 407

	radHdrLen    = 20
	radMaxLen    = 4096
	radAuthLen   = 16
	maxPassword  = 128 // RFC 2865 §5.2
	maxAttrValue = 253
)

var (
	errRadiusShort  = errors.New("pppoe: RADIUS packet too short")
	errRadiusLength = errors.New("pppoe: RADIUS length field is invalid")
	errRadiusAttr   = errors.New("pppoe: RADIUS attribute length is invalid")
	errRadiusPrefix = errors.New("pppoe: RADIUS IPv6 prefix attribute is invalid")
)

// radiusPacket is a parsed packet. attrs aliases the buffer given to
// parse.
type radiusPacket struct {
	code  radiusCode
	id    uint8
	auth  [radAuthLen]byte
	attrs []byte
	raw   []byte // the whole packet, trimmed to its Length
}

// parse reads a packet and checks every attribute's length.
func (p *radiusPacket) parse(b []byte) error {
	if len(b) < radHdrLen {
		return errRadiusShort
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n < radHdrLen || n > len(b) || n > radMaxLen {
		return errRadiusLength
	}
	p.code, p.id = radiusCode(b[0]), b[1]
	copy(p.auth[:], b[4:radHdrLen])
	p.raw, p.attrs = b[:n], b[radHdrLen:n]
	it := radAttrIter{b: p.attrs}
	for it.next() {
	}
	return it.err
}

// radAttrIter walks attributes: for it.next() { it.typ, it.val }.
type radAttrIter struct {
	b   []byte
	off int // of the current attribute in the original slice
	pos int
	typ radiusAttr
	val []byte
	err error
}

func (it *radAttrIter) next() bool {
	if it.err != nil || it.pos >= len(it.b) {
		return false
	}
	r := it.b[it.pos:]
	if len(r) < 2 || r[1] < 2 || int(r[1]) > len(r) {
		it.err = errRadiusAttr
		return false
	}
	it.off, it.typ, it.val = it.pos, radiusAttr(r[0]), r[2:r[1]]
	it.pos += int(r[1])
	return true
}

// vendorAttr splits a Vendor-Specific value into vendor, type and value
// for the usual one-sub-attribute form (RFC 2865 §5.26); ok is false for
// anything else.
func vendorAttr(val []byte) (vendor uint32, typ uint8, v []byte, ok bool) {
	if len(val) < 6 || int(val[5]) < 2 || 4+int(val[5]) > len(val) {
		return 0, 0, nil, false
	}
	return binary.BigEndian.Uint32(val), val[4], val[6 : 4+int(val[5])], true
}

// find returns the first attribute of type t.
func (p *radiusPacket) find(t radiusAttr) ([]byte, bool) {
	it := radAttrIter{b: p.attrs}
	for it.next() {
		if it.typ == t {
			return it.val, true
		}
	}
	return nil, false
}

// findVendor returns the first vendor attribute (vendor, typ).
func (p *radiusPacket) findVendor(vendor uint32, typ uint8) ([]byte, bool) {
	it := radAttrIter{b: p.attrs}
	for it.next() {
		if it.typ != attrVendorSpecific {
			continue
		}
		if v, t, val, ok := vendorAttr(it.val); ok && v == vendor && t == typ {
			return val, true
		}
	}
	return nil, false
}

func radUint32(v []byte) (uint32, bool) {
	if len(v) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(v), true
}

// radIPv6Prefix reads an IPv6 prefix attribute's value (RFC 3162 §2.3,
// RFC 4818 §3): Reserved, Prefix-Length, then the prefix's leading octets,
// 0 to 16 of them. The value must be 2 to 18 octets and Prefix-Length at
// most 128; Reserved is not looked at. Octets left out are zero (a /64
// needs only 8; FreeRADIUS 3.2 reads fewer as zeros too), and bits past
// Prefix-Length are cleared rather than refused: "2001:db8::1/64" in a
// server's users file means 2001:db8::/64, and nothing matches on host
// bits. The result is always Masked.
func radIPv6Prefix(v []byte) (netip.Prefix, error) {
	if len(v) < 2 || len(v) > 2+16 || v[1] > 128 {
		return netip.Prefix{}, errRadiusPrefix
	}
	var a [16]byte
	copy(a[:], v[2:])
	return netip.PrefixFrom(netip.AddrFrom16(a), int(v[1])).Masked(), nil
}

// appendAttrIPv6Prefix appends an IPv6 prefix attribute with as many
// prefix octets as its length needs (RFC 3162 §2.3 allows 0 to 16;
// FreeRADIUS 3.2 sends all 16 and reads either). pfx must be a valid IPv6
// prefix.
func appendAttrIPv6Prefix(b []byte, t radiusAttr, pfx netip.Prefix) []byte {
	bits := pfx.Bits()
	n := (bits + 7) / 8
	a := pfx.Masked().Addr().As16()
	b = append(b, byte(t), byte(4+n), 0, byte(bits))
	return append(b, a[:n]...)
}

// appendRadiusHeader starts a packet; the length is patched by
// finishRadius.
func appendRadiusHeader(b []byte, code radiusCode, id uint8, auth *[radAuthLen]byte) []byte {
	b = append(b, byte(code), id, 0, 0)
	return append(b, auth[:]...)
}

// appendAttr appends one attribute; a value longer than an attribute can
// hold is cut (253 bytes: names and messages from the wire can be long).
func appendAttr(b []byte, t radiusAttr, val []byte) []byte {
	val = val[:min(len(val), maxAttrValue)]
	b = append(b, byte(t), byte(2+len(val)))
	return append(b, val...)
}

func appendAttrString(b []byte, t radiusAttr, s string) []byte {
	s = s[:min(len(s), maxAttrValue)]
	b = append(b, byte(t), byte(2+len(s)))
	return append(b, s...)
}

func appendAttr32(b []byte, t radiusAttr, v uint32) []byte {
	b = append(b, byte(t), 6)
	return binary.BigEndian.AppendUint32(b, v)
}

// appendVendorAttr appends a Vendor-Specific attribute with one
// sub-attribute.
func appendVendorAttr(b []byte, vendor uint32, typ uint8, val []byte) []byte {
	val = val[:min(len(val), maxAttrValue-6)]
	b = append(b, byte(attrVendorSpecific), byte(8+len(val)))
	b = binary.BigEndian.AppendUint32(b, vendor)
	b = append(b, typ, byte(2+len(val)))
	return append(b, val...)
}

// appendMessageAuthenticator appends a zero Message-Authenticator and
// returns where its value is, for signMessageAuthenticator.
func appendMessageAuthenticator(b []byte) ([]byte, int) {
	b = append(b, byte(attrMessageAuthenticator), 2+radAuthLen)
	off := len(b)
	var zero [radAuthLen]byte
	return append(b, zero[:]...), off
}

// patchRadiusLength writes the packet's length; b is the whole packet.
func patchRadiusLength(b []byte) {
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
}

// radiusHasher is the MD5 and HMAC-MD5 state a goroutine reuses, so
// computing authenticators allocates nothing.
type radiusHasher struct {
	md5     hash.Hash
	sum     [md5.Size]byte
	hmac    map[string]hash.Hash // by secret
	secrets map[string][]byte    // each secret as bytes, made once
}

func newRadiusHasher() *radiusHasher {
	return &radiusHasher{md5: md5.New(), hmac: map[string]hash.Hash{}, secrets: map[string][]byte{}}
}

func (h *radiusHasher) secretBytes(s string) []byte {
	b, ok := h.secrets[s]
	if !ok {
		b = []byte(s)
		h.secrets[s] = b
	}
	return b
}

func (h *radiusHasher) mac(secret string) hash.Hash {
	m := h.hmac[secret]
	if m == nil {
		m = hmac.New(md5.New, []byte(secret))
		h.hmac[secret] = m
	}
	m.Reset()
	return m
}

// signMessageAuthenticator fills the Message-Authenticator at off (RFC
// 3579 §3.2): HMAC-MD5 over the packet with that field zero, keyed with
// the secret. For a response, b's authenticator field must hold the
// request's authenticator while this runs.
func (h *radiusHasher) signMessageAuthenticator(b []byte, off int, secret string) {
	clear(b[off : off+radAuthLen])
	m := h.mac(secret)
	m.Write(b)
	m.Sum(b[off:off])
}

// checkMessageAuthenticator verifies a received packet's
// Message-Authenticator. reqAuth replaces the authenticator field for a
// response (nil for a request). ok is false when the attribute is there and
// wrong; present says whether it is there at all.
func (h *radiusHasher) checkMessageAuthenticator(p *radiusPacket, reqAuth *[radAuthLen]byte, secret string) (present, ok bool) {
	it := radAttrIter{b: p.attrs}
	for it.next() {
		if it.typ != attrMessageAuthenticator {
			continue
		}
		if len(it.val) != radAuthLen {
			return true, false
		}
		var got [radAuthLen]byte
		copy(got[:], it.val)
		off := radHdrLen + it.off + 2
		// Compute over a copy of the fields we zero, restoring them after,
		// so the caller's buffer comes back as it went in.
		var saveAuth [radAuthLen]byte
		copy(saveAuth[:], p.raw[4:radHdrLen])
		if reqAuth != nil {
			copy(p.raw[4:radHdrLen], reqAuth[:])
		}
		clear(p.raw[off : off+radAuthLen])
		m := h.mac(secret)
		m.Write(p.raw)
		want := m.Sum(h.sum[:0])
		copy(p.raw[off:], got[:])
		copy(p.raw[4:radHdrLen], saveAuth[:])
		return true, hmac.Equal(want, got[:])
	}
	return false, false
}

// requestAuthenticator computes an Accounting-, Disconnect- or
// CoA-Request's authenticator into b (RFC 2866 §3, RFC 5176 §3.5):
// MD5(Code, Identifier, Length, 16 zero octets, attributes, secret).
func (h *radiusHasher) requestAuthenticator(b []byte, secret string) {
	clear(b[4:radHdrLen])
	h.md5.Reset()
	h.md5.Write(b)
	h.md5.Write(h.secretBytes(secret))
	h.md5.Sum(b[4:4])
}

// checkRequestAuthenticator verifies an Accounting-, Disconnect- or
// CoA-Request received.
func (h *radiusHasher) checkRequestAuthenticator(p *radiusPacket, secret string) bool {
	var zero [radAuthLen]byte
	return h.checkAuthenticator(p, &zero, secret)
}

// checkAuthenticator compares p's authenticator with MD5 over p with that
// field set to in, then the secret; p is left as it was.
func (h *radiusHasher) checkAuthenticator(p *radiusPacket, in *[radAuthLen]byte, secret string) bool {
	var got [radAuthLen]byte
	copy(got[:], p.raw[4:radHdrLen])
	copy(p.raw[4:radHdrLen], in[:])
	h.md5.Reset()
	h.md5.Write(p.raw)
	h.md5.Write(h.secretBytes(secret))
	want := h.md5.Sum(h.sum[:0])
	copy(p.raw[4:radHdrLen], got[:])
	return subtle.ConstantTimeCompare(want, got[:]) == 1
}

// responseAuthenticator computes a response's authenticator into b (RFC
// 2865 §3): MD5(Code, Identifier, Length, the request's authenticator,
// attributes, secret).
func (h *radiusHasher) responseAuthenticator(b []byte, reqAuth *[radAuthLen]byte, secret string) {
	copy(b[4:radHdrLen], reqAuth[:])
	h.md5.Reset()
	h.md5.Write(b)
	h.md5.Write(h.secretBytes(secret))
	h.md5.Sum(b[4:4])
}

// checkResponseAuthenticator verifies a response to a request sent with
// reqAuth.
func (h *radiusHasher) checkResponseAuthenticator(p *radiusPacket, reqAuth *[radAuthLen]byte, secret string) bool {
	return h.checkAuthenticator(p, reqAuth, secret)
}

// appendUserPassword appends the User-Password attribute: the password
// padded to 16 octets and hidden as RFC 2865 §5.2 says.
func (h *radiusHasher) appendUserPassword(b []byte, pw []byte, secret string, reqAuth *[radAuthLen]byte) []byte {
	pw = pw[:min(len(pw), maxPassword)]
	n := max((len(pw)+15)/16*16, 16)
	b = append(b, byte(attrUserPassword), byte(2+n))
	start := len(b)
	b = append(b, pw...)
	for len(b)-start < n {
		b = append(b, 0)
	}
	prev := reqAuth[:]
	for i := start; i < start+n; i += 16 {
		h.md5.Reset()
		h.md5.Write(h.secretBytes(secret))
		h.md5.Write(prev)
		x := h.md5.Sum(h.sum[:0])
		for j := range 16 {
			b[i+j] ^= x[j]
		}
		prev = b[i : i+16]
	}
	return b
}

// revealUserPassword undoes the hiding, for tests and a FreeRADIUS-built
// request; the result aliases dst.
func (h *radiusHasher) revealUserPassword(dst, hidden []byte, secret string, reqAuth *[radAuthLen]byte) []byte {
	if len(hidden) == 0 || len(hidden)%16 != 0 {
		return nil
	}
	dst = dst[:0]
	prev := reqAuth[:]
	for i := 0; i < len(hidden); i += 16 {
		h.md5.Reset()
		h.md5.Write(h.secretBytes(secret))
		h.md5.Write(prev)
		x := h.md5.Sum(h.sum[:0])
		for j := range 16 {
			dst = append(dst, hidden[i+j]^x[j])
		}
		prev = hidden[i : i+16]
	}
	for len(dst) > 0 && dst[len(dst)-1] == 0 {
		dst = dst[:len(dst)-1]
	}
	return dst
}
