package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixture the golden packets in testdata/ipv6 were built with
// (scapy_ipv6_frames.py there says the same): the concentrator is fe80::1
// with MAC 02:00:00:00:00:01, the client fe80::2 with a DUID-LLT.
var (
	fx6ServerMAC  = hwAddr{2, 0, 0, 0, 0, 1}
	fx6Server     = netip.MustParseAddr("fe80::1").As16()
	fx6Client     = netip.MustParseAddr("fe80::2").As16()
	fx6ClientDUID = []byte{0, 1, 0, 1, 0x12, 0x34, 0x56, 0x78, 2, 0, 0, 0, 0, 2}
	fx6NA         = netip.MustParseAddr("2001:db8:0:1::2")
	fx6PD         = netip.MustParsePrefix("2001:db8:1200::/56")
	fx6Link       = netip.MustParsePrefix("2001:db8:0:1::/64")
	fx6DNS        = [2]netip.Addr{netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("2001:db8::54")}
	fx6RA         = raParams{
		curHopLimit: 64, other: true, routerLifetime: 1800,
		prefix: fx6Link, validLifetime: 7200, preferredLifetime: 3600,
		mtu: 1492, rdnss: fx6DNS, rdnssLifetime: 1800,
	}
)

func golden6(t testing.TB, name string) []byte {
	t.Helper()
	return readHexFile(t, filepath.Join("testdata", "ipv6", name+".hex"))
}

// ip6Frame wraps an upper-layer message (checksum field zero) in an IPv6
// header and finishes it.
func ip6Frame(src, dst [16]byte, next, hop uint8, msg []byte) []byte {
	b, start := appendIPv6(nil, src, dst, next, hop)
	b = append(b, msg...)
	finishIPv6(b, start)
	return b
}

func udp6Frame(src, dst [16]byte, hop uint8, sport, dport uint16, data []byte) []byte {
	b, start := appendIPv6(nil, src, dst, ipProtoUDP, hop)
	b = appendUDPHeader(b, sport, dport)
	b = append(b, data...)
	finishIPv6(b, start)
	return b
}

func mustIPv6(t testing.TB, b []byte) ip6Packet {
	t.Helper()
	p, err := parseIPv6(b)
	if err != nil {
		t.Fatalf("parseIPv6: %v%s", err, hexDiff(nil, b))
	}
	return p
}

func mustICMPv6(t testing.TB, b []byte) (uint8, []byte) {
	t.Helper()
	typ, code, body, err := parseICMPv6(mustIPv6(t, b))
	if err != nil || code != 0 {
		t.Fatalf("parseICMPv6: code %d, %v%s", code, err, hexDiff(nil, b))
	}
	return typ, body
}

func TestParseIPv6(t *testing.T) {
	echo := ip6Frame(fx6Client, fx6Server, ipProtoICMPv6, 64, []byte{icmp6EchoRequest, 0, 0, 0, 0, 1, 0, 2})
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(echo)) }
	// hbh puts a Hop-by-Hop header with the given options (padded by the
	// caller to 6+8n bytes) in front of the echo request.
	hbh := func(next byte, opts ...byte) []byte {
		h := append([]byte{next, byte((2 + len(opts) - 8) / 8)}, opts...)
		b := append(bytes.Clone(echo[:ip6HdrLen]), h...)
		b = append(b, echo[ip6HdrLen:]...)
		b[6] = ipProtoHopByHop
		binary.BigEndian.PutUint16(b[4:], uint16(len(b)-ip6HdrLen))
		return b
	}
	tests := []struct {
		name    string
		b       []byte
		err     error
		next    uint8
		payload int
	}{
		{"echo", echo, nil, ipProtoICMPv6, 8},
		{"short", echo[:39], errIP6Short, 0, 0},
		{"version 4", with(func(b []byte) []byte { b[0] = 0x45; return b }), errIP6Version, 0, 0},
		{"length past the end", echo[:len(echo)-1], errIP6Length, 0, 0},
		{"trailing bytes trimmed", append(bytes.Clone(echo), 0, 0, 0), nil, ipProtoICMPv6, 8},
		{"Hop-by-Hop Router Alert skipped", hbh(ipProtoICMPv6, 5, 2, 0, 0, 1, 0), nil, ipProtoICMPv6, 8},
		{"Hop-by-Hop Pad1s", hbh(ipProtoICMPv6, 0, 0, 0, 0, 0, 0), nil, ipProtoICMPv6, 8},
		{"Hop-by-Hop 14 bytes of options", hbh(ipProtoICMPv6, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), nil, ipProtoICMPv6, 8},
		{"Hop-by-Hop option runs past", hbh(ipProtoICMPv6, 5, 5, 0, 0, 0, 0), errIP6HopByHop, 0, 0},
		{"Hop-by-Hop option cut after its type", hbh(ipProtoICMPv6, 0, 0, 0, 0, 0, 1), errIP6HopByHop, 0, 0},
		{"Hop-by-Hop jumbo payload must not be skipped", hbh(ipProtoICMPv6, 0xc2, 4, 0, 0, 0, 0), errIP6HopOption, 0, 0},
		{"Hop-by-Hop unknown discard option", hbh(ipProtoICMPv6, 0x5f, 0, 1, 2, 0, 0), errIP6HopOption, 0, 0},
		{"Hop-by-Hop twice", hbh(ipProtoHopByHop, 1, 4, 0, 0, 0, 0), errIP6HopByHop, 0, 0},
		{"Hop-by-Hop longer than the payload", with(func(b []byte) []byte {
			b[6] = ipProtoHopByHop
			b[ip6HdrLen+1] = 1
			return b
		}), errIP6HopByHop, 0, 0},
		{"Hop-by-Hop shorter than 8 bytes", with(func(b []byte) []byte {
			b[6] = ipProtoHopByHop
			binary.BigEndian.PutUint16(b[4:], 4)
			return b
		}), errIP6HopByHop, 0, 0},
		{"routing header left to the caller", with(func(b []byte) []byte { b[6] = 43; return b }), nil, 43, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseIPv6(tt.b)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v%s", err, tt.err, hexDiff(nil, tt.b))
			}
			if err != nil {
				return
			}
			if p.next != tt.next || len(p.payload) != tt.payload || p.src != fx6Client || p.dst != fx6Server || p.hopLimit != 64 {
				t.Errorf("next %d payload %d src %x dst %x hop %d", p.next, len(p.payload), p.src, p.dst, p.hopLimit)
			}
		})
	}
}

// A UDP checksum that sums to zero goes out as 0xffff (RFC 8200 §8.1), and
// comes back in as valid.
func TestUDPChecksumZeroIsSentAsOnes(t *testing.T) {
	data := []byte{1, 2, 3, 4, 0, 0}
	b := udp6Frame(fx6Client, fx6Server, 64, 546, 547, data)
	// Make the last data word the checksum the packet had with it zero:
	// the sum then comes to 0xffff, whose complement is 0.
	copy(b[len(b)-2:], b[ip6HdrLen+6:ip6HdrLen+8])
	b[ip6HdrLen+6], b[ip6HdrLen+7] = 0, 0
	finishIPv6(b, 0)
	if c := binary.BigEndian.Uint16(b[ip6HdrLen+6:]); c != 0xffff {
		t.Fatalf("checksum %#04x, want 0xffff", c)
	}
	if _, _, _, err := parseUDP(mustIPv6(t, b)); err != nil {
		t.Fatal(err)
	}
}

func TestParseUDP(t *testing.T) {
	good := udp6Frame(fx6Client, fx6Server, 1, 546, 547, []byte("hello"))
	with := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	tests := []struct {
		name string
		b    []byte
		err  error
		data string
	}{
		{"ok", good, nil, "hello"},
		{"zero checksum", with(func(b []byte) { b[ip6HdrLen+6], b[ip6HdrLen+7] = 0, 0 }), errUDPChecksum, ""},
		{"bad checksum", with(func(b []byte) { b[len(b)-1] ^= 1 }), errUDPChecksum, ""},
		{"address changed", with(func(b []byte) { b[23] ^= 1 }), errUDPChecksum, ""},
		{"length below the header", with(func(b []byte) { b[ip6HdrLen+5] = 7 }), errUDPLength, ""},
		{"length past the payload", with(func(b []byte) { b[ip6HdrLen+5]++ }), errUDPLength, ""},
		{"short", with(func(b []byte) { b[5] = 7 })[:ip6HdrLen+7], errUDPLength, ""},
		{"not UDP", with(func(b []byte) { b[6] = 6 }), errNotUDP, ""},
	}
	// A UDP length shorter than the IPv6 payload: the rest is not data.
	short := udp6Frame(fx6Client, fx6Server, 1, 546, 547, []byte("hel"))
	short = append(short, 'l', 'o')
	binary.BigEndian.PutUint16(short[4:], uint16(len(short)-ip6HdrLen))
	tests = append(tests, struct {
		name string
		b    []byte
		err  error
		data string
	}{"UDP length trims", short, nil, "hel"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseIPv6(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			sp, dp, data, err := parseUDP(p)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err == nil && (sp != 546 || dp != 547 || string(data) != tt.data) {
				t.Errorf("ports %d %d data %q", sp, dp, data)
			}
		})
	}
}

func TestParseICMPv6(t *testing.T) {
	rs := ip6Frame(fx6Client, ip6AllRouters, ipProtoICMPv6, 255, appendRS(nil))
	echo := ip6Frame(fx6Client, fx6Server, ipProtoICMPv6, 3, []byte{icmp6EchoRequest, 0, 0, 0, 1, 2, 3, 4, 5})
	// Too short for finishIPv6 to put a checksum in.
	shortICMPv6, _ := appendIPv6(nil, fx6Client, fx6Server, ipProtoICMPv6, 255)
	shortICMPv6 = append(shortICMPv6, icmp6RS, 0, 0)
	shortICMPv6[5] = 3
	refinish := func(b []byte, f func(b []byte)) []byte {
		b = bytes.Clone(b)
		f(b)
		finishIPv6(b, 0)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		err  error
		typ  uint8
		body int
	}{
		{"RS", rs, nil, icmp6RS, 4},
		{"echo at hop limit 3", echo, nil, icmp6EchoRequest, 5},
		{"bad checksum", refinishNot(echo), errICMP6Checksum, 0, 0},
		{"RS with hop limit 254", refinish(rs, func(b []byte) { b[7] = 254 }), errNDHopLimit, 0, 0},
		{"RS with code 1", refinish(rs, func(b []byte) { b[ip6HdrLen+1] = 1 }), errNDHopLimit, 0, 0},
		{"NA with hop limit 64", ip6Frame(fx6Client, fx6Server, ipProtoICMPv6, 64, appendNA(nil, fx6Client, false, true, true)), errNDHopLimit, 0, 0},
		{"short", shortICMPv6, errICMP6Short, 0, 0},
		{"not ICMPv6", ip6Frame(fx6Client, fx6Server, ipProtoUDP, 255, make([]byte, 8)), errNotICMPv6, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, _, body, err := parseICMPv6(mustIPv6(t, tt.b))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v%s", err, tt.err, hexDiff(nil, tt.b))
			}
			if err == nil && (typ != tt.typ || len(body) != tt.body) {
				t.Errorf("type %d body %d bytes", typ, len(body))
			}
		})
	}
}

// refinishNot returns b with its last byte changed and the checksum left.
func refinishNot(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-1] ^= 0x80
	return b
}

func TestAppendRAAndParseRA(t *testing.T) {
	typ, body := mustICMPv6(t, ip6Frame(fx6Server, ip6AllNodes, ipProtoICMPv6, 255, appendRA(nil, &fx6RA)))
	if typ != icmp6RA {
		t.Fatalf("type %d", typ)
	}
	r, err := parseRA(body)
	if err != nil {
		t.Fatal(err)
	}
	if r.curHopLimit != 64 || r.managed || !r.other || r.routerLifetime != 1800 || r.mtu != 1492 ||
		r.nprefixes != 1 || r.nrdnss != 2 || r.rdnss[0] != fx6DNS[0] || r.rdnss[1] != fx6DNS[1] || r.rdnssLifetime != 1800 {
		t.Errorf("parsed %+v", r)
	}
	p, ok := r.slaacPrefix()
	if !ok || p.prefix != fx6Link || !p.onLink || !p.auto || p.validLifetime != 7200 || p.preferredLifetime != 3600 {
		t.Errorf("prefix %+v %v", p, ok)
	}

	// Nothing optional: the 16-byte header alone. One valid RDNSS entry:
	// length 3. A prefix with host bits goes out masked.
	if b := appendRA(nil, &raParams{managed: true}); len(b) != 16 || b[5] != raFlagManaged {
		t.Errorf("bare RA % x", b)
	}
	one := raParams{prefix: netip.MustParsePrefix("2001:db8:0:1::77/64"), rdnss: [2]netip.Addr{{}, fx6DNS[1]}}
	r, err = parseRA(appendRA(nil, &one)[icmp6HdrLen:])
	if err != nil || r.nrdnss != 1 || r.rdnss[0] != fx6DNS[1] || r.prefixes[0].prefix != fx6Link {
		t.Errorf("%+v %v", r, err)
	}
	if b := appendRA(nil, &raParams{rdnss: [2]netip.Addr{netip.MustParseAddr("192.0.2.1")}}); len(b) != 16 {
		t.Errorf("an IPv4 DNS server made it into the RA: % x", b)
	}
}

func TestParseRAOptions(t *testing.T) {
	hdr := make([]byte, raHdrLen)
	pio := func(bits byte, flags byte, prefix string) []byte {
		a := netip.MustParseAddr(prefix).As16()
		o := []byte{ndOptPrefixInfo, 4, bits, flags, 0, 0, 1, 0, 0, 0, 0, 100, 0, 0, 0, 0}
		return append(o, a[:]...)
	}
	rdnss := func(n int) []byte {
		o := []byte{ndOptRDNSS, byte(1 + 2*n), 0, 0, 0, 0, 0, 9}
		for i := range n {
			a := fx6DNS[0].As16()
			a[15] = byte(i)
			o = append(o, a[:]...)
		}
		return o
	}
	cat := func(parts ...[]byte) []byte { return slices.Concat(append([][]byte{hdr}, parts...)...) }
	tests := []struct {
		name      string
		body      []byte
		err       error
		prefixes  int
		rdnss     int
		mtu       uint32
		haveSLAAC bool
	}{
		{"short", hdr[:11], errNDShort, 0, 0, 0, false},
		{"option length 0", cat([]byte{ndOptMTU, 0, 0, 0, 0, 0, 0, 0}), errNDOption, 0, 0, 0, false},
		{"option past the end", cat([]byte{ndOptMTU, 2, 0, 0, 0, 0, 0, 0}), errNDOption, 0, 0, 0, false},
		{"option cut after its type", cat([]byte{ndOptMTU}), errNDOption, 0, 0, 0, false},
		{"source link-layer address skipped", cat([]byte{ndOptSourceLL, 1, 2, 0, 0, 0, 0, 2}), nil, 0, 0, 0, false},
		{"MTU of the wrong length skipped", cat([]byte{ndOptMTU, 2, 0, 0, 0, 0, 5, 0xdc, 0, 0, 0, 0, 0, 0, 0, 0}), nil, 0, 0, 0, false},
		{"MTU", cat([]byte{ndOptMTU, 1, 0, 0, 0, 0, 5, 0xdc}), nil, 0, 0, 1500, false},
		{"prefix without A", cat(pio(64, pioFlagOnLink, "2001:db8::")), nil, 1, 0, 0, false},
		{"prefix /56 with A", cat(pio(56, pioFlagAuto, "2001:db8::")), nil, 1, 0, 0, false},
		{"prefix length 129 skipped", cat(pio(129, pioFlagAuto, "2001:db8::")), nil, 0, 0, 0, false},
		{"prefix /64 with A", cat(pio(64, pioFlagAuto, "2001:db8::")), nil, 1, 0, 0, true},
		{"five prefixes keep four", cat(pio(48, 0, "::"), pio(48, 0, "::"), pio(48, 0, "::"), pio(48, 0, "::"), pio(64, pioFlagAuto, "::")), nil, 4, 0, 0, false},
		{"RDNSS of length 2 skipped", cat([]byte{ndOptRDNSS, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), nil, 0, 0, 0, false},
		{"RDNSS of five keeps four", cat(rdnss(5)), nil, 0, 4, 0, false},
		{"two RDNSS", cat(rdnss(1), rdnss(2)), nil, 0, 3, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseRA(tt.body)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			_, slaac := r.slaacPrefix()
			if r.nprefixes != tt.prefixes || r.nrdnss != tt.rdnss || r.mtu != tt.mtu || slaac != tt.haveSLAAC {
				t.Errorf("prefixes %d rdnss %d mtu %d slaac %v", r.nprefixes, r.nrdnss, r.mtu, slaac)
			}
			if tt.rdnss > 0 && r.rdnssLifetime != 9 {
				t.Errorf("RDNSS lifetime %d", r.rdnssLifetime)
			}
		})
	}
}

func TestParseNSAndAppendNA(t *testing.T) {
	ns := append([]byte{0, 0, 0, 0}, fx6Server[:]...)
	tests := []struct {
		name string
		body []byte
		err  error
	}{
		{"ok", ns, nil},
		{"with an option", append(bytes.Clone(ns), ndOptSourceLL, 1, 2, 0, 0, 0, 0, 2), nil},
		{"short", ns[:19], errNDShort},
		{"multicast target", append([]byte{0, 0, 0, 0}, ip6AllNodes[:]...), errNSTarget},
		{"option length 0", append(bytes.Clone(ns), ndOptSourceLL, 0, 2, 0, 0, 0, 0, 2), errNDOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := parseNS(tt.body)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err == nil && target != fx6Server {
				t.Errorf("target %x", target)
			}
		})
	}
	for _, f := range []struct {
		r, s, o bool
		flags   byte
	}{{true, true, false, 0xc0}, {false, false, true, 0x20}, {true, false, true, 0xa0}, {false, false, false, 0}} {
		b := appendNA(nil, fx6Server, f.r, f.s, f.o)
		want := append([]byte{icmp6NA, 0, 0, 0, f.flags, 0, 0, 0}, fx6Server[:]...)
		if !bytes.Equal(b, want) {
			t.Errorf("R %v S %v O %v (-want +got)%s", f.r, f.s, f.o, hexDiff(want, b))
		}
	}
}

func TestSolicitedNode(t *testing.T) {
	got := solicitedNode(netip.MustParseAddr("2001:db8::1:2345:6789").As16())
	if want := netip.MustParseAddr("ff02::1:ff45:6789").As16(); got != want {
		t.Errorf("%x, want %x", got, want)
	}
}

// TestIPv6GoldenScapy reads the packets scapy built (testdata/ipv6) and
// builds the same ones: the bytes must agree.
func TestIPv6GoldenScapy(t *testing.T) {
	t.Run("RS", func(t *testing.T) {
		g := golden6(t, "rs")
		if typ, _ := mustICMPv6(t, g); typ != icmp6RS {
			t.Fatalf("type %d", typ)
		}
		if b := ip6Frame(fx6Client, ip6AllRouters, ipProtoICMPv6, 255, appendRS(nil)); !bytes.Equal(b, g) {
			t.Errorf("(-scapy +ours)%s", hexDiff(g, b))
		}
	})
	t.Run("RA", func(t *testing.T) {
		g := golden6(t, "ra")
		typ, body := mustICMPv6(t, g)
		r, err := parseRA(body)
		if typ != icmp6RA || err != nil {
			t.Fatalf("type %d: %v", typ, err)
		}
		p, ok := r.slaacPrefix()
		if !ok || r.nprefixes != 1 || r.nrdnss != 2 {
			t.Fatalf("parsed %+v", r)
		}
		params := raParams{
			curHopLimit: r.curHopLimit, managed: r.managed, other: r.other, routerLifetime: r.routerLifetime,
			reachable: r.reachable, retrans: r.retrans, prefix: p.prefix, validLifetime: p.validLifetime,
			preferredLifetime: p.preferredLifetime, mtu: r.mtu, rdnss: [2]netip.Addr(r.rdnss[:2]), rdnssLifetime: r.rdnssLifetime,
		}
		if params != fx6RA {
			t.Errorf("parsed %+v, want %+v", params, fx6RA)
		}
		if b := ip6Frame(fx6Server, ip6AllNodes, ipProtoICMPv6, 255, appendRA(nil, &params)); !bytes.Equal(b, g) {
			t.Errorf("(-scapy +ours)%s", hexDiff(g, b))
		}
	})
	t.Run("NS", func(t *testing.T) {
		g := golden6(t, "ns")
		typ, body := mustICMPv6(t, g)
		target, err := parseNS(body)
		if typ != icmp6NS || err != nil || target != fx6Server {
			t.Fatalf("type %d target %x: %v", typ, target, err)
		}
		if p := mustIPv6(t, g); p.dst != solicitedNode(fx6Server) {
			t.Errorf("sent to %x", p.dst)
		}
	})
	t.Run("echo", func(t *testing.T) {
		typ, body := mustICMPv6(t, golden6(t, "echo_request"))
		if typ != icmp6EchoRequest || string(body[4:]) != "pppoed ping" || binary.BigEndian.Uint16(body) != 0x1234 {
			t.Fatalf("type %d body %q", typ, body)
		}
		r := ip6Frame(fx6Server, fx6NA.As16(), ipProtoICMPv6, 64, appendEchoReply(nil, body))
		if typ, rb := mustICMPv6(t, r); typ != icmp6EchoReply || !bytes.Equal(rb, body) {
			t.Errorf("reply type %d body % x", typ, rb)
		}
	})
	t.Run("MLD behind Hop-by-Hop", func(t *testing.T) {
		g := golden6(t, "mld_report")
		p := mustIPv6(t, g)
		if p.next != ipProtoICMPv6 || len(p.payload) != len(g)-ip6HdrLen-8 {
			t.Fatalf("next %d payload %d", p.next, len(p.payload))
		}
		if typ, code, _, err := parseICMPv6(p); typ != 143 || code != 0 || err != nil {
			t.Errorf("type %d code %d: %v", typ, code, err)
		}
	})
	t.Run("DHCPv6 in UDP", func(t *testing.T) {
		paths, _ := filepath.Glob(filepath.Join("testdata", "ipv6", "dhcp6_*.hex"))
		if len(paths) == 0 {
			t.Fatal("no golden DHCPv6 packets")
		}
		for _, path := range paths {
			p := mustIPv6(t, readHexFile(t, path))
			sp, dp, data, err := parseUDP(p)
			if err != nil || sp != dhcp6ClientPort || dp != dhcp6ServerPort || p.dst != ip6AllDHCPServers {
				t.Errorf("%s: ports %d %d: %v", path, sp, dp, err)
				continue
			}
			var m dhcp6Msg
			if err := parseDHCPv6(data, &m); err != nil || !bytes.Equal(m.clientID, fx6ClientDUID) {
				t.Errorf("%s: client %x: %v", path, m.clientID, err)
			}
		}
	})
}

// scapyFields has scapy decode each packet (IPv6 onward) and returns, per
// name, every field scapy sees as "Layer.field=value" lines (options inside
// options as "Layer.field.Inner.field=value"), and whether scapy, with
// every length and checksum field cleared so that it computes them itself,
// builds the packet back to the same bytes. One python process does all.
func scapyFields(t *testing.T, packets map[string][]byte) map[string]scapyDecoded {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		skipf(t, "%s is missing", py)
	}
	if err := exec.Command(py, "-c", "import scapy.layers.inet6, scapy.layers.dhcp6").Run(); err != nil {
		skipf(t, "python3-scapy is not installed: %v", err)
	}
	const script = `
import json, sys
from scapy.packet import NoPayload, Packet
from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6
import scapy.layers.dhcp6

def fmt(v):
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, list):
        return ",".join(fmt(x) for x in v)
    return str(v)

def flat(p, pre, out):
    while p is not None and not isinstance(p, NoPayload):
        name = pre + type(p).__name__
        out.append(name)
        for f in p.fields_desc:
            v = p.getfieldval(f.name)
            if isinstance(v, Packet):
                flat(v, name + "." + f.name + ".", out)
            elif isinstance(v, list) and v and all(isinstance(x, Packet) for x in v):
                for x in v:
                    flat(x, name + "." + f.name + ".", out)
            else:
                out.append("%s.%s=%s" % (name, f.name, fmt(v)))
        p = p.payload

def packets(p):
    while p is not None and not isinstance(p, NoPayload):
        yield p
        for f in p.fields_desc:
            v = p.getfieldval(f.name)
            for x in (v if isinstance(v, list) else [v]):
                if isinstance(x, Packet):
                    yield from packets(x)
        p = p.payload

def recomputed(raw):
    p = IPv6(raw)
    for l in list(packets(p)):
        names = {f.name for f in l.fields_desc}
        drop = {"cksum", "chksum", "optlen"} & names
        if isinstance(l, IPv6):
            drop.add("plen")
        if "len" in names and (isinstance(l, UDP) or type(l).__name__.startswith(("ICMPv6NDOpt", "IPv6ExtHdr"))):
            drop.add("len")
        for n in drop:
            delattr(l, n)
    p.clear_cache()
    return bytes(p)

res = {}
for line in sys.stdin:
    name, h = line.split()
    raw = bytes.fromhex(h)
    out = []
    flat(IPv6(raw), "", out)
    res[name] = {"fields": out, "same": recomputed(raw) == raw}
print(json.dumps(res))
`
	var in strings.Builder
	for name, b := range packets {
		in.WriteString(name + " " + hex.EncodeToString(b) + "\n")
	}
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(in.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scapy: %v\n%s", err, stderr.Bytes())
	}
	var got map[string]scapyDecoded
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return got
}

type scapyDecoded struct {
	Fields []string
	Same   bool
}

// check reports the lines of want scapy did not see, and whether scapy
// fell back to raw bytes anywhere.
func (d scapyDecoded) check(t *testing.T, name string, want ...string) {
	t.Helper()
	if !d.Same {
		t.Errorf("%s: scapy computes other lengths or checksums", name)
	}
	for _, f := range d.Fields {
		if strings.Contains(f, "Raw") || strings.Contains(f, "Padding") || strings.Contains(f, "Unknown") {
			t.Errorf("%s: scapy could not decode all of it: %s", name, f)
		}
	}
	for _, w := range want {
		if !slices.Contains(d.Fields, w) {
			t.Errorf("%s: scapy did not see %s; it saw\n%s", name, w, strings.Join(d.Fields, "\n"))
		}
	}
}

// TestScapyDecodesOurICMPv6 has scapy decode the RA, NA and echo reply we
// build, recompute their checksums and get ours.
func TestScapyDecodesOurICMPv6(t *testing.T) {
	_, echo := mustICMPv6(t, golden6(t, "echo_request"))
	onlyPrefix := raParams{curHopLimit: 0, managed: true, routerLifetime: 0, prefix: fx6Link, validLifetime: 1, preferredLifetime: 0}
	got := scapyFields(t, map[string][]byte{
		"ra":      ip6Frame(fx6Server, ip6AllNodes, ipProtoICMPv6, 255, appendRA(nil, &fx6RA)),
		"ra_bare": ip6Frame(fx6Server, fx6Client, ipProtoICMPv6, 255, appendRA(nil, &onlyPrefix)),
		"na":      ip6Frame(fx6Server, fx6Client, ipProtoICMPv6, 255, appendNA(nil, fx6Server, true, true, false)),
		"echo":    ip6Frame(fx6Server, fx6NA.As16(), ipProtoICMPv6, 64, appendEchoReply(nil, echo)),
	})
	got["ra"].check(t, "ra",
		"IPv6.hlim=255", "IPv6.nh=58", "IPv6.dst=ff02::1",
		"ICMPv6ND_RA.chlim=64", "ICMPv6ND_RA.M=0", "ICMPv6ND_RA.O=1", "ICMPv6ND_RA.prf=0", "ICMPv6ND_RA.routerlifetime=1800",
		"ICMPv6NDOptPrefixInfo.prefixlen=64", "ICMPv6NDOptPrefixInfo.L=1", "ICMPv6NDOptPrefixInfo.A=1",
		"ICMPv6NDOptPrefixInfo.validlifetime=7200", "ICMPv6NDOptPrefixInfo.preferredlifetime=3600",
		"ICMPv6NDOptPrefixInfo.prefix=2001:db8:0:1::",
		"ICMPv6NDOptMTU.mtu=1492",
		"ICMPv6NDOptRDNSS.lifetime=1800", "ICMPv6NDOptRDNSS.dns=2001:db8::53,2001:db8::54")
	got["ra_bare"].check(t, "ra_bare", "ICMPv6ND_RA.M=1", "ICMPv6ND_RA.routerlifetime=0",
		"ICMPv6NDOptPrefixInfo.validlifetime=1")
	if slices.ContainsFunc(got["ra_bare"].Fields, func(s string) bool { return strings.Contains(s, "MTU") || strings.Contains(s, "RDNSS") }) {
		t.Errorf("ra_bare has options it should not:\n%s", strings.Join(got["ra_bare"].Fields, "\n"))
	}
	got["na"].check(t, "na", "ICMPv6ND_NA.R=1", "ICMPv6ND_NA.S=1", "ICMPv6ND_NA.O=0", "ICMPv6ND_NA.tgt=fe80::1")
	got["echo"].check(t, "echo", "ICMPv6EchoReply.id=4660", "ICMPv6EchoReply.seq=7",
		"ICMPv6EchoReply.data="+hex.EncodeToString([]byte("pppoed ping")), "IPv6.dst=2001:db8:0:1::2")
}

// TestIPv6CodecAllocs fails if parsing or building a control packet
// allocates.
func TestIPv6CodecAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	ra, ns, echo, sol := golden6(t, "ra"), golden6(t, "ns"), golden6(t, "echo_request"), golden6(t, "dhcp6_solicit")
	_, echoBody := mustICMPv6(t, echo)
	buf := make([]byte, 0, 1500)
	var sink int
	for name, fn := range map[string]func(){
		"parseIPv6+parseICMPv6+parseRA": func() {
			p, _ := parseIPv6(ra)
			_, _, body, _ := parseICMPv6(p)
			r, _ := parseRA(body)
			sink += r.nprefixes
		},
		"parseNS": func() {
			p, _ := parseIPv6(ns)
			_, _, body, _ := parseICMPv6(p)
			tg, _ := parseNS(body)
			sink += int(tg[0])
		},
		"parseUDP": func() {
			p, _ := parseIPv6(sol)
			_, _, d, _ := parseUDP(p)
			sink += len(d)
		},
		"build RA": func() {
			b, start := appendIPv6(buf[:0], fx6Server, ip6AllNodes, ipProtoICMPv6, 255)
			b = appendRA(b, &fx6RA)
			finishIPv6(b, start)
		},
		"build NA": func() {
			b, start := appendIPv6(buf[:0], fx6Server, fx6Client, ipProtoICMPv6, 255)
			b = appendNA(b, fx6Server, true, true, false)
			finishIPv6(b, start)
		},
		"build echo reply": func() {
			b, start := appendIPv6(buf[:0], fx6Server, fx6Client, ipProtoICMPv6, 64)
			b = appendEchoReply(b, echoBody)
			finishIPv6(b, start)
		},
	} {
		t.Run(name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, fn); n != 0 {
				t.Errorf("%s: %v allocs/op, want 0", name, n)
			}
		})
	}
	_ = sink
}
