// The IPv6 control-plane codec for a session's link: the IPv6 header
// (RFC 8200), UDP over IPv6 (RFC 768 with RFC 8200 §8.1's checksum), and the
// ICMPv6 messages a router sends and answers on a PPP link: Router
// Solicitation and Advertisement with the Prefix Information, MTU and RDNSS
// options (RFC 4861, 8106), Neighbor Solicitation and Advertisement, and
// Echo (RFC 4443). DHCPv6 (dhcp6.go) rides on the UDP helpers.
//
// As the PPPoE codec: parsers alias the caller's buffer and check every
// length once; builders append to a buffer the caller passes, with 0 in the
// length and checksum fields, and finishIPv6 patches both once the payload
// is known. Nothing here allocates or keeps state: whoever owns the buffer
// (the event loop, for a session's packets) owns everything these touch.
//
// PPP has no link-layer addresses (RFC 5072 §5), so nothing built here
// carries a link-layer address option, and received ones are skipped.

package main

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Header lengths, next-header values and ports.
const (
	ip6HdrLen   = 40
	udpHdrLen   = 8
	icmp6HdrLen = 4 // type, code, checksum

	ipProtoHopByHop = 0
	ipProtoUDP      = 17
	ipProtoICMPv6   = 58

	// ndHopLimit: RFC 4861 §6.1, §7.1: Neighbor Discovery messages are sent
	// with hop limit 255 and a receiver drops any with less, which proves
	// they were not forwarded by a router.
	ndHopLimit = 255

	dhcp6ClientPort = 546
	dhcp6ServerPort = 547
)

// ICMPv6 message types (RFC 4443 §2.1, RFC 4861 §4).
const (
	icmp6EchoRequest = 128
	icmp6EchoReply   = 129
	icmp6RS          = 133 // Router Solicitation
	icmp6RA          = 134 // Router Advertisement
	icmp6NS          = 135 // Neighbor Solicitation
	icmp6NA          = 136 // Neighbor Advertisement
	icmp6Redirect    = 137
)

// Neighbor Discovery option types (RFC 4861 §4.6, RFC 8106 §5.1).
const (
	ndOptSourceLL   = 1
	ndOptTargetLL   = 2
	ndOptPrefixInfo = 3
	ndOptMTU        = 5
	ndOptRDNSS      = 25

	ndOptPrefixInfoLen = 32 // 4 units of 8 bytes
	ndOptMTULen        = 8
	raHdrLen           = 12 // RA after type, code, checksum: hop limit .. retrans timer
	nsBodyLen          = 20 // NS/NA after type, code, checksum: flags/reserved, target
)

// RA and NA flag bits (RFC 4861 §4.2, §4.4, §4.6.2).
const (
	raFlagManaged   = 0x80
	raFlagOther     = 0x40
	naFlagRouter    = 0x80
	naFlagSolicited = 0x40
	naFlagOverride  = 0x20
	pioFlagOnLink   = 0x80
	pioFlagAuto     = 0x40
)

// Link-scope multicast groups (RFC 4291 §2.7.1, RFC 8415 §7.1).
var (
	ip6AllNodes       = [16]byte{0xff, 0x02, 15: 1}
	ip6AllRouters     = [16]byte{0xff, 0x02, 15: 2}
	ip6AllDHCPServers = [16]byte{0xff, 0x02, 13: 1, 15: 2} // All_DHCP_Relay_Agents_and_Servers
)

var (
	errIP6Short      = errors.New("pppoe: IPv6 packet shorter than its header")
	errIP6Version    = errors.New("pppoe: IP version is not 6")
	errIP6Length     = errors.New("pppoe: IPv6 payload length runs past the packet")
	errIP6HopByHop   = errors.New("pppoe: IPv6 Hop-by-Hop header is malformed")
	errIP6HopOption  = errors.New("pppoe: IPv6 Hop-by-Hop option that must not be skipped")
	errNotUDP        = errors.New("pppoe: IPv6 packet is not UDP")
	errUDPLength     = errors.New("pppoe: UDP length is invalid")
	errUDPChecksum   = errors.New("pppoe: UDP checksum is wrong")
	errNotICMPv6     = errors.New("pppoe: IPv6 packet is not ICMPv6")
	errICMP6Short    = errors.New("pppoe: ICMPv6 message too short")
	errICMP6Checksum = errors.New("pppoe: ICMPv6 checksum is wrong")
	errNDHopLimit    = errors.New("pppoe: Neighbor Discovery message with a hop limit below 255 or a nonzero code")
	errNDShort       = errors.New("pppoe: Neighbor Discovery message too short")
	errNDOption      = errors.New("pppoe: Neighbor Discovery option length is zero or runs past the message")
	errNSTarget      = errors.New("pppoe: Neighbor Solicitation for a multicast target")
)

// ip6Packet is a parsed IPv6 packet. payload aliases the buffer given to
// parseIPv6.
type ip6Packet struct {
	src, dst [16]byte
	// next and payload describe the upper layer: a Hop-by-Hop header has
	// been stepped over. Any other extension header is left as next, for
	// the caller to ignore.
	next     uint8
	hopLimit uint8
	payload  []byte
}

// parseIPv6 reads an IPv6 packet. Bytes past the Payload Length (PPP
// padding) are trimmed off; a length past the end is an error. A Hop-by-Hop
// header (MLD reports carry one, RFC 3810 §5) is skipped after checking that
// each of its options may be skipped: RFC 8200 §4.2, an unknown option whose
// top two type bits are not 00 means the packet must be discarded, and we
// know none but the padding and Router Alert, which are 00. Fragments are not
// reassembled: a fragment shows as next = 44 and control messages never need
// one.
func parseIPv6(b []byte) (ip6Packet, error) {
	var p ip6Packet
	if len(b) < ip6HdrLen {
		return p, errIP6Short
	}
	if b[0]>>4 != 6 {
		return p, errIP6Version
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if ip6HdrLen+n > len(b) {
		return p, errIP6Length
	}
	p.next, p.hopLimit = b[6], b[7]
	copy(p.src[:], b[8:24])
	copy(p.dst[:], b[24:40])
	p.payload = b[ip6HdrLen : ip6HdrLen+n]
	if p.next != ipProtoHopByHop {
		return p, nil
	}
	h := p.payload
	if len(h) < 8 || 8+8*int(h[1]) > len(h) {
		return p, errIP6HopByHop
	}
	hl := 8 + 8*int(h[1])
	for opts := h[2:hl]; len(opts) > 0; {
		if opts[0] == 0 { // Pad1
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || 2+int(opts[1]) > len(opts) {
			return p, errIP6HopByHop
		}
		if opts[0]>>6 != 0 {
			return p, errIP6HopOption
		}
		opts = opts[2+int(opts[1]):]
	}
	// RFC 8200 §4.1: Hop-by-Hop may only come first.
	if h[0] == ipProtoHopByHop {
		return p, errIP6HopByHop
	}
	p.next, p.payload = h[0], h[hl:]
	return p, nil
}

// appendIPv6 appends an IPv6 header with a zero Payload Length and returns
// where it starts. The caller appends the upper-layer message (starting it
// with appendUDPHeader for UDP) and then calls finishIPv6(out, start).
func appendIPv6(b []byte, src, dst [16]byte, next, hopLimit uint8) (out []byte, start int) {
	start = len(b)
	b = append(b, 0x60, 0, 0, 0, 0, 0, next, hopLimit)
	b = append(b, src[:]...)
	return append(b, dst[:]...), start
}

// finishIPv6 patches the packet that starts at b[start:] and runs to the
// end of b: its Payload Length and, for UDP and ICMPv6, the upper-layer
// checksum over RFC 8200 §8.1's pseudo-header, and the UDP Length. A UDP
// checksum that comes out 0 is sent as 0xffff (RFC 8200 §8.1: zero means
// "none", which IPv6 does not allow).
func finishIPv6(b []byte, start int) {
	h := b[start:]
	msg := h[ip6HdrLen:]
	binary.BigEndian.PutUint16(h[4:], uint16(len(msg)))
	src, dst := (*[16]byte)(h[8:24]), (*[16]byte)(h[24:40])
	switch h[6] {
	case ipProtoUDP:
		binary.BigEndian.PutUint16(msg[4:], uint16(len(msg)))
		msg[6], msg[7] = 0, 0
		c := checksum6(src, dst, ipProtoUDP, msg)
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(msg[6:], c)
	case ipProtoICMPv6:
		msg[2], msg[3] = 0, 0
		binary.BigEndian.PutUint16(msg[2:], checksum6(src, dst, ipProtoICMPv6, msg))
	}
}

// checksum6 is the Internet checksum (RFC 1071) of msg under the IPv6
// pseudo-header (RFC 8200 §8.1): source, destination, upper-layer length
// and next header. Over a message whose checksum field is filled in, a
// correct one gives 0.
func checksum6(src, dst *[16]byte, next uint8, msg []byte) uint16 {
	// The 32-bit length and the next header go in as plain numbers: the
	// folding below is arithmetic mod 0xffff, where 0x10000 is 1, so they
	// sum as their 16-bit words would.
	sum := uint64(len(msg)) + uint64(next)
	sum = sumWords(sum, src[:])
	sum = sumWords(sum, dst[:])
	sum = sumWords(sum, msg)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// sumWords adds b to sum as big-endian 16-bit words, the last odd byte
// padded with a zero.
func sumWords(sum uint64, b []byte) uint64 {
	for len(b) >= 4 {
		sum += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	return sum
}

// parseUDP reads the UDP datagram in pkt and checks its checksum (RFC 8200
// §8.1: mandatory over IPv6, so a zero checksum is an error too). data
// aliases pkt.payload, trimmed to the UDP Length.
//
// It takes the packet rather than the bare UDP bytes because the checksum
// covers the addresses.
func parseUDP(pkt ip6Packet) (srcPort, dstPort uint16, data []byte, err error) {
	if pkt.next != ipProtoUDP {
		return 0, 0, nil, errNotUDP
	}
	p := pkt.payload
	if len(p) < udpHdrLen {
		return 0, 0, nil, errUDPLength
	}
	n := int(binary.BigEndian.Uint16(p[4:]))
	if n < udpHdrLen || n > len(p) {
		return 0, 0, nil, errUDPLength
	}
	p = p[:n]
	if binary.BigEndian.Uint16(p[6:]) == 0 || checksum6(&pkt.src, &pkt.dst, ipProtoUDP, p) != 0 {
		return 0, 0, nil, errUDPChecksum
	}
	return binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), p[udpHdrLen:], nil
}

// appendUDPHeader appends a UDP header with zero length and checksum, which
// finishIPv6 fills in.
func appendUDPHeader(b []byte, src, dst uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, src)
	b = binary.BigEndian.AppendUint16(b, dst)
	return append(b, 0, 0, 0, 0)
}

// parseICMPv6 reads the ICMPv6 message in pkt and checks its checksum.
// body is what follows type, code and checksum, aliasing pkt.payload.
//
// Neighbor Discovery messages (RS, RA, NS, NA, Redirect) with a hop limit
// below 255 or a nonzero code are refused here (RFC 4861 §6.1.1, §6.1.2,
// §7.1.1, §7.1.2, §8.1), so no caller can forget to.
func parseICMPv6(pkt ip6Packet) (typ, code uint8, body []byte, err error) {
	if pkt.next != ipProtoICMPv6 {
		return 0, 0, nil, errNotICMPv6
	}
	m := pkt.payload
	if len(m) < icmp6HdrLen {
		return 0, 0, nil, errICMP6Short
	}
	if checksum6(&pkt.src, &pkt.dst, ipProtoICMPv6, m) != 0 {
		return 0, 0, nil, errICMP6Checksum
	}
	typ, code = m[0], m[1]
	if typ >= icmp6RS && typ <= icmp6Redirect && (pkt.hopLimit != ndHopLimit || code != 0) {
		return 0, 0, nil, errNDHopLimit
	}
	return typ, code, m[icmp6HdrLen:], nil
}

// ndOptIter walks Neighbor Discovery options (RFC 4861 §4.6): typ and val
// (the option after its type and length bytes, aliasing the message). An
// option of length 0 or one that runs past the message stops the walk with
// err set; RFC 4861 says to drop such a message whole.
type ndOptIter struct {
	b   []byte
	typ uint8
	val []byte
	err error
}

func (it *ndOptIter) next() bool {
	if it.err != nil || len(it.b) == 0 {
		return false
	}
	if len(it.b) < 2 || it.b[1] == 0 || 8*int(it.b[1]) > len(it.b) {
		it.err = errNDOption
		return false
	}
	n := 8 * int(it.b[1])
	it.typ, it.val = it.b[0], it.b[2:n]
	it.b = it.b[n:]
	return true
}

// raParams is what a Router Advertisement we send says (RFC 4861 §4.2).
type raParams struct {
	curHopLimit       uint8
	managed, other    bool   // M: addresses from DHCPv6; O: other configuration from DHCPv6
	routerLifetime    uint16 // seconds; 0: not a default router
	reachable         uint32 // milliseconds; 0: unspecified
	retrans           uint32 // milliseconds; 0: unspecified
	prefix            netip.Prefix
	validLifetime     uint32 // seconds, of prefix
	preferredLifetime uint32
	mtu               uint32 // 0: no MTU option
	rdnss             [2]netip.Addr
	rdnssLifetime     uint32 // seconds
}

// appendRA appends a Router Advertisement (type through options) with a
// zero checksum; finishIPv6 fills it in. Options, in this order: Prefix
// Information for p.prefix with L and A set (a /64 on a PPP link: RFC 4862
// §5.5.3 forms addresses only from a prefix as long as the interface ID,
// 64 bits here), if it is a valid IPv6 prefix; MTU, if p.mtu is set; RDNSS
// (RFC 8106 §5.1) with the valid IPv6 entries of p.rdnss, if any.
func appendRA(b []byte, p *raParams) []byte {
	var flags byte
	if p.managed {
		flags |= raFlagManaged
	}
	if p.other {
		flags |= raFlagOther
	}
	b = append(b, icmp6RA, 0, 0, 0, p.curHopLimit, flags)
	b = binary.BigEndian.AppendUint16(b, p.routerLifetime)
	b = binary.BigEndian.AppendUint32(b, p.reachable)
	b = binary.BigEndian.AppendUint32(b, p.retrans)
	if p.prefix.IsValid() && p.prefix.Addr().Is6() {
		b = append(b, ndOptPrefixInfo, ndOptPrefixInfoLen/8, byte(p.prefix.Bits()), pioFlagOnLink|pioFlagAuto)
		b = binary.BigEndian.AppendUint32(b, p.validLifetime)
		b = binary.BigEndian.AppendUint32(b, p.preferredLifetime)
		b = append(b, 0, 0, 0, 0)
		a := p.prefix.Masked().Addr().As16()
		b = append(b, a[:]...)
	}
	if p.mtu != 0 {
		b = append(b, ndOptMTU, ndOptMTULen/8, 0, 0)
		b = binary.BigEndian.AppendUint32(b, p.mtu)
	}
	n := 0
	for _, a := range p.rdnss {
		if a.IsValid() && a.Is6() {
			n++
		}
	}
	if n > 0 {
		b = append(b, ndOptRDNSS, byte(1+2*n), 0, 0)
		b = binary.BigEndian.AppendUint32(b, p.rdnssLifetime)
		for _, a := range p.rdnss {
			if a.IsValid() && a.Is6() {
				a16 := a.As16()
				b = append(b, a16[:]...)
			}
		}
	}
	return b
}

// appendRS appends a Router Solicitation with a zero checksum and no
// options (RFC 4861 §4.1: no source link-layer address on PPP).
func appendRS(b []byte) []byte {
	return append(b, icmp6RS, 0, 0, 0, 0, 0, 0, 0)
}

// raMaxPrefixes and raMaxRDNSS bound what parseRA keeps; further prefixes
// and servers are checked and skipped.
const (
	raMaxPrefixes = 4
	raMaxRDNSS    = 4
)

// raPrefix is one Prefix Information option.
type raPrefix struct {
	prefix            netip.Prefix
	onLink, auto      bool
	validLifetime     uint32
	preferredLifetime uint32
}

// raInfo is a parsed Router Advertisement, for the client side. Nothing in
// it aliases the message.
type raInfo struct {
	curHopLimit    uint8
	managed, other bool
	routerLifetime uint16
	reachable      uint32
	retrans        uint32
	prefixes       [raMaxPrefixes]raPrefix
	nprefixes      int
	mtu            uint32 // 0: no MTU option
	rdnss          [raMaxRDNSS]netip.Addr
	nrdnss         int
	rdnssLifetime  uint32 // of the first RDNSS option
}

// parseRA reads the body of a Router Advertisement (after type, code and
// checksum). Options of a known type but the wrong length are skipped
// (RFC 4861 §4.6.2 and RFC 8106 §5.1 give their lengths; RFC 4861 §6.1.2
// only drops the message for a zero or overlong one).
func parseRA(body []byte) (raInfo, error) {
	var r raInfo
	if len(body) < raHdrLen {
		return r, errNDShort
	}
	r.curHopLimit = body[0]
	r.managed, r.other = body[1]&raFlagManaged != 0, body[1]&raFlagOther != 0
	r.routerLifetime = binary.BigEndian.Uint16(body[2:])
	r.reachable = binary.BigEndian.Uint32(body[4:])
	r.retrans = binary.BigEndian.Uint32(body[8:])
	it := ndOptIter{b: body[raHdrLen:]}
	for it.next() {
		v := it.val
		switch it.typ {
		case ndOptPrefixInfo:
			if len(v) != ndOptPrefixInfoLen-2 || v[0] > 128 || r.nprefixes == raMaxPrefixes {
				continue
			}
			r.prefixes[r.nprefixes] = raPrefix{
				prefix:            netip.PrefixFrom(netip.AddrFrom16([16]byte(v[14:30])), int(v[0])),
				onLink:            v[1]&pioFlagOnLink != 0,
				auto:              v[1]&pioFlagAuto != 0,
				validLifetime:     binary.BigEndian.Uint32(v[2:]),
				preferredLifetime: binary.BigEndian.Uint32(v[6:]),
			}
			r.nprefixes++
		case ndOptMTU:
			if len(v) == ndOptMTULen-2 {
				r.mtu = binary.BigEndian.Uint32(v[2:])
			}
		case ndOptRDNSS:
			if len(v) < 6+16 || (len(v)-6)%16 != 0 {
				continue
			}
			if r.nrdnss == 0 {
				r.rdnssLifetime = binary.BigEndian.Uint32(v[2:])
			}
			for a := v[6:]; len(a) >= 16 && r.nrdnss < raMaxRDNSS; a = a[16:] {
				r.rdnss[r.nrdnss] = netip.AddrFrom16([16]byte(a[:16]))
				r.nrdnss++
			}
		}
	}
	return r, it.err
}

// slaacPrefix returns the first prefix a host forms addresses from: the A
// flag set, 64 bits long and a valid lifetime (RFC 4862 §5.5.3).
func (r *raInfo) slaacPrefix() (raPrefix, bool) {
	for _, p := range r.prefixes[:r.nprefixes] {
		if p.auto && p.prefix.Bits() == 64 && p.validLifetime != 0 && p.preferredLifetime <= p.validLifetime {
			return p, true
		}
	}
	return raPrefix{}, false
}

// parseNS reads the body of a Neighbor Solicitation (after type, code and
// checksum) and returns its target (RFC 4861 §4.3, §7.1.1). The caller
// answers only for addresses of its own; a solicitation from the
// unspecified address (duplicate address detection, RFC 4861 §7.2.4) is
// answered to all-nodes with S clear.
func parseNS(body []byte) (target [16]byte, err error) {
	if len(body) < nsBodyLen {
		return target, errNDShort
	}
	if body[4] == 0xff {
		return target, errNSTarget
	}
	it := ndOptIter{b: body[nsBodyLen:]}
	for it.next() {
	}
	if it.err != nil {
		return target, it.err
	}
	return [16]byte(body[4:20]), nil
}

// appendNA appends a Neighbor Advertisement for target with a zero
// checksum and no target link-layer address option (RFC 4861 §4.4).
func appendNA(b []byte, target [16]byte, router, solicited, override bool) []byte {
	var flags byte
	if router {
		flags |= naFlagRouter
	}
	if solicited {
		flags |= naFlagSolicited
	}
	if override {
		flags |= naFlagOverride
	}
	b = append(b, icmp6NA, 0, 0, 0, flags, 0, 0, 0)
	return append(b, target[:]...)
}

// appendEchoReply appends the Echo Reply to an Echo Request whose body
// (identifier, sequence number and data, after type, code and checksum) is
// request, with a zero checksum (RFC 4443 §4.2: the data comes back whole).
func appendEchoReply(b []byte, request []byte) []byte {
	b = append(b, icmp6EchoReply, 0, 0, 0)
	return append(b, request...)
}

// solicitedNode is the solicited-node multicast group of a (RFC 4291
// §2.7.1): ff02::1:ff00:0/104 and a's low 24 bits.
func solicitedNode(a [16]byte) [16]byte {
	return [16]byte{0xff, 0x02, 11: 0x01, 12: 0xff, 13: a[13], 14: a[14], 15: a[15]}
}
