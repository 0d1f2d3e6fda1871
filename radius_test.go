package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRadiusAgainstRadclient checks the codec against FreeRADIUS's own
// client: radclient's Access-Request parses, its User-Password and
// Message-Authenticator check out under the secret, and radclient takes
// the Access-Accept we build (response authenticator, Message-Authenticator,
// attributes) as valid and prints what we put in.
func TestRadiusAgainstRadclient(t *testing.T) {
	rc, err := exec.LookPath("radclient")
	if err != nil {
		skipf(t, "radclient is not installed (make test installs Debian's freeradius-utils)")
	}
	ln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const sec = "testing123"
	h := newRadiusHasher()
	done := make(chan []byte, 1)
	go func() {
		// A hasher is owned by one goroutine; the responder has its own.
		h := newRadiusHasher()
		buf := make([]byte, radMaxLen)
		n, from, err := ln.ReadFromUDPAddrPort(buf)
		if err != nil {
			done <- nil
			return
		}
		req := buf[:n]
		done <- bytes.Clone(req)
		var p radiusPacket
		if p.parse(req) != nil {
			return
		}
		b := appendRadiusHeader(nil, radAccessAccept, p.id, &p.auth)
		b = appendAttrString(b, attrReplyMessage, "hello from pppoed")
		b = appendAttr(b, attrFramedIPAddress, []byte{10, 9, 8, 7})
		b = appendVendorAttr(b, vendorWISPr, wisprMaxDown, []byte{0, 0x1f, 0x40, 0}) // 2048000 bit/s
		b, off := appendMessageAuthenticator(b)
		patchRadiusLength(b)
		h.signMessageAuthenticator(b, off, sec)
		h.responseAuthenticator(b, &p.auth, sec)
		ln.WriteToUDPAddrPort(b, from)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, rc, "-x", "-r", "1", "-t", "3", "127.0.0.1:"+strconv.Itoa(ln.LocalAddr().(*net.UDPAddr).Port), "auth", sec)
	cmd.Stdin = strings.NewReader("User-Name = \"alice\"\nUser-Password = \"a long secret of 23 b\"\nNAS-Port = 5\nCalling-Station-Id = \"02:cc:00:00:00:02\"\nMessage-Authenticator = 0x00\n")
	out, err := cmd.CombinedOutput()
	req := <-done
	if err != nil {
		t.Fatalf("radclient: %v\n%s", err, out)
	}
	var p radiusPacket
	if err := p.parse(req); err != nil || p.code != radAccessRequest {
		t.Fatalf("radclient's request: %v, code %d", err, p.code)
	}
	if present, ok := h.checkMessageAuthenticator(&p, nil, sec); !present || !ok {
		t.Errorf("radclient's Message-Authenticator: present %v, valid %v", present, ok)
	}
	hidden, _ := p.find(attrUserPassword)
	if pw := h.revealUserPassword(nil, hidden, sec, &p.auth); string(pw) != "a long secret of 23 b" {
		t.Errorf("User-Password revealed as %q", pw)
	}
	// And ours hides it as radclient does: same input, same bytes.
	ours := h.appendUserPassword(nil, []byte("a long secret of 23 b"), sec, &p.auth)
	if !bytes.Equal(ours[2:], hidden) {
		t.Errorf("our User-Password %x, radclient's %x", ours[2:], hidden)
	}
	if v, _ := p.find(attrNASPort); !bytes.Equal(v, []byte{0, 0, 0, 5}) {
		t.Errorf("NAS-Port %x", v)
	}
	if v, _ := p.find(attrCallingStationID); string(v) != "02:cc:00:00:00:02" {
		t.Errorf("Calling-Station-Id %q", v)
	}
	for _, want := range []string{"Received Access-Accept", `Reply-Message = "hello from pppoed"`, "Framed-IP-Address = 10.9.8.7", "WISPr-Bandwidth-Max-Down = 2048000"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("radclient did not print %q:\n%s", want, out)
		}
	}
	res := radiusResult(&p, nil, nil) // an Access-Request carries nothing for the session
	if res.ok {
		t.Error("an Access-Request read as an Accept")
	}
}

// TestRadiusCodec: parse refuses what is malformed; vendor attributes,
// the request authenticator and the reply's attributes round-trip.
func TestRadiusCodec(t *testing.T) {
	for _, b := range [][]byte{
		nil,
		make([]byte, 19),
		{1, 1, 0, 19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},         // length below 20
		append([]byte{1, 1, 0, 23}, append(make([]byte, 16), 1, 1, 0)...),     // attribute length 1
		append([]byte{1, 1, 0, 24}, append(make([]byte, 16), 1, 5, 0, 0)...),  // attribute past the end
		append([]byte{1, 1, 0x10, 0x01}, make([]byte, 4097)...),               // longer than 4096
		append([]byte{1, 1, 0, 30}, append(make([]byte, 16), 26, 8, 0, 0)...), // length past the packet
	} {
		var p radiusPacket
		if p.parse(b) == nil {
			t.Errorf("parsed % x", b)
		}
	}
	h := newRadiusHasher()
	var auth [16]byte
	b := appendRadiusHeader(nil, radAccountingRequest, 7, &auth)
	b = appendAttr32(b, attrAcctStatusType, acctStatusStart)
	b = appendVendorAttr(b, vendorADSLForum, adslAgentCircuit, []byte("eth0:1"))
	patchRadiusLength(b)
	h.requestAuthenticator(b, "s")
	var p radiusPacket
	if err := p.parse(b); err != nil {
		t.Fatal(err)
	}
	if !h.checkRequestAuthenticator(&p, "s") || h.checkRequestAuthenticator(&p, "t") {
		t.Error("request authenticator")
	}
	if v, ok := p.findVendor(vendorADSLForum, adslAgentCircuit); !ok || string(v) != "eth0:1" {
		t.Errorf("vendor attribute %q %v", v, ok)
	}

	reply := appendRadiusHeader(nil, radAccessAccept, 1, &auth)
	for _, a := range []struct {
		t radiusAttr
		v []byte
	}{
		{attrFramedIPAddress, []byte{10, 0, 0, 9}}, {attrSessionTimeout, []byte{0, 0, 0, 60}}, {attrIdleTimeout, []byte{0, 0, 0, 30}},
		{attrAcctInterimInterval, []byte{0, 0, 0, 120}}, {attrClass, []byte("gold")}, {attrFilterID, []byte("2048/512")},
		{attrFramedPool, []byte("vip")}, {attrReplyMessage, []byte("hi")},
	} {
		reply = appendAttr(reply, a.t, a.v)
	}
	reply = appendVendorAttr(reply, vendorMicrosoft, msCHAP2Success, []byte("\x01S=0123456789ABCDEF0123456789ABCDEF01234567"))
	patchRadiusLength(reply)
	if err := p.parse(reply); err != nil {
		t.Fatal(err)
	}
	res := radiusResult(&p, nil, nil)
	want := netip.MustParseAddr("10.0.0.9")
	if !res.ok || res.addr != want || res.sessionTimeout != time.Minute || res.idleTimeout != 30*time.Second || res.acctInterim != 2*time.Minute ||
		len(res.class) != 1 || string(res.class[0]) != "gold" || res.rate() != (rateLimit{2048, 512}) || res.pool != "vip" || res.message != "hi" ||
		res.chapSuccess != "S=0123456789ABCDEF0123456789ABCDEF01234567" || res.source != "radius" {
		t.Errorf("result %+v", res)
	}
	// 255.255.255.254: from the pool.
	p.attrs = appendAttr(nil, attrFramedIPAddress, []byte{255, 255, 255, 254})
	p.code = radAccessAccept
	if res := radiusResult(&p, nil, nil); res.addr.IsValid() {
		t.Errorf("255.255.255.254 read as the address %v", res.addr)
	}
}

// TestRadiusManyOutstanding: 600 requests at once go out on more than one
// socket, since one has 256 identifiers, and every one is answered. The
// server holds its answers until 300 requests have arrived, so more than
// 256 are in flight together.
func TestRadiusManyOutstanding(t *testing.T) {
	srvConn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srvConn.Close()
	const n, sec = 600, "s3"
	srvConn.SetReadBuffer(4 << 20)
	go func() {
		h := newRadiusHasher()
		type held struct {
			from netip.AddrPort
			p    []byte
		}
		var all []held
		buf := make([]byte, radMaxLen)
		for {
			m, from, err := srvConn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			all = append(all, held{from, bytes.Clone(buf[:m])})
			if len(all) < 300 {
				continue
			}
			for _, x := range all {
				var p radiusPacket
				p.parse(x.p)
				b := appendRadiusHeader(nil, radAccessAccept, p.id, &p.auth)
				b, off := appendMessageAuthenticator(b)
				patchRadiusLength(b)
				h.signMessageAuthenticator(b, off, sec)
				h.responseAuthenticator(b, &p.auth, sec)
				srvConn.WriteToUDPAddrPort(b, x.from)
			}
			all = all[:0]
		}
	}()
	port := srvConn.LocalAddr().(*net.UDPAddr).Port
	rc := &radiusConfig{Server: []radiusServerConfig{{Address: "127.0.0.1", Secret: sec, AuthPort: port, AcctPort: port,
		Timeout: duration(time.Second), Retries: 5}}, DeadTime: duration(time.Second)}
	rc.AcctServer = rc.Server
	c, err := newRadiusClient(rc, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	c.start()
	defer c.close()
	answers := make(chan error, n)
	for range n {
		c.submit(&radReq{code: radAccessRequest, attrs: appendAttrString(nil, attrUserName, "u"),
			done: func(p *radiusPacket, _ *radiusServer, err error) {
				if err == nil && p.code != radAccessAccept {
					err = fmt.Errorf("code %d", p.code)
				}
				answers <- err
			}})
	}
	for range n {
		select {
		case err := <-answers:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("not every request was answered")
		}
	}
	if st := c.servers[0].stats.requests.Load(); st != n {
		t.Errorf("%d requests sent, want %d", st, n)
	}
	// 300 in flight at once take two sockets at least.
	if len(c.socks) < 2 {
		t.Errorf("%d sockets for 300 requests in flight", len(c.socks))
	}
}

// TestRadiusAccountingAllocs: once warm, an accounting record costs no
// allocation from the loop's encoding through the packet on the wire to
// its answer.
func TestRadiusAccountingAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test runs this without it")
	}
	for _, ipv6 := range []bool{false, true} {
		one := radiusAccountingRecord(t, ipv6)
		for range 100 {
			one() // warm the pools and slices
		}
		if n := testing.AllocsPerRun(1000, one); n != 0 {
			t.Errorf("an accounting record (IPv6 %v): %v allocs, want 0", ipv6, n)
		}
	}
}

// BenchmarkRadiusAccounting: one Interim-Update built, signed, sent and
// answered.
func BenchmarkRadiusAccounting(b *testing.B) {
	one := radiusAccountingRecord(b, true)
	for range 100 {
		one()
	}
	b.ReportAllocs()
	for b.Loop() {
		one()
	}
}

// radiusAccountingRecord sets up accounting towards a server that never
// answers and returns a function that queues one Interim-Update, sends it
// and plays its answer. With ipv6 the session has a /64, a delegated
// prefix and the peer's interface identifier, and we a NAS-IPv6-Address.
func radiusAccountingRecord(tb testing.TB, ipv6 bool) func() {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sink.Close() })
	port := sink.LocalAddr().(*net.UDPAddr).Port
	go func() {
		b := make([]byte, radMaxLen)
		for {
			if _, _, err := sink.ReadFromUDPAddrPort(b); err != nil {
				return
			}
		}
	}()
	rc := &radiusConfig{Server: []radiusServerConfig{{Address: "127.0.0.1", Secret: "s", AuthPort: port, AcctPort: port,
		Timeout: duration(time.Minute), Retries: 1}}, NASIdentifier: "nas", AcctSpool: tb.TempDir() + "/spool"}
	rc.AcctServer = rc.Server
	if ipv6 {
		rc.nasIP6 = netip.MustParseAddr("2001:db8::a")
	}
	c, err := newRadiusClient(rc, testLogger(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		for _, s := range c.socks {
			s.conn.Close()
		}
	})
	a, err := newRadiusAccounting(c, rc, "ac", testLogger(tb))
	if err != nil {
		tb.Fatal(err)
	}
	h := newFakeHarness(tb, "noauth\n", nil, nil)
	h.openIPCP(h.openLCP())
	sess := h.sess()
	sess.acctSessionID = a.sessionID(1)
	if ipv6 {
		setTestIPv6(sess)
	}
	now := time.Now()
	return func() {
		a.record(acctInterim, sess, now, trafficCounts{1 << 40, 1 << 30, 1 << 41, 1 << 31})
		a.pump(now)
		// The answer: the record in flight is done.
		for _, r := range a.sending {
			if r != nil {
				c.release(&r.req)
				r.req.done(nil, nil, nil)
			}
		}
	}
}

// setTestIPv6 gives a session the IPv6 of TestIntegrationRadiusIPv6's
// user by hand: the /64, the delegated /56 and the peer's interface ID.
func setTestIPv6(s *session) {
	s.v6.prefix = netip.MustParsePrefix("2001:db8:77:1::/64")
	s.v6.delegated = netip.MustParsePrefix("2001:db8:88:100::/56")
	s.v6.acctPrefix, s.v6.acctDelegated = s.v6.prefix, s.v6.delegated
	s.ipv6cpL.peer = [ifaceIDLen]byte{0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55}
}

// TestRadiusIPv6Prefix: the IPv6 prefix attributes of RFC 3162 §2.3 and
// RFC 4818: what is refused, short and long prefix fields, host bits
// cleared, and the encoding, which carries only the octets the length
// needs, round-trips at every length without allocating.
func TestRadiusIPv6Prefix(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    []byte
		want string // "": refused
	}{
		{"empty", nil, ""},
		{"Reserved alone", []byte{0}, ""},
		{"a /64 in 8 octets", []byte{0, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0x77, 0, 1}, "2001:db8:77:1::/64"},
		{"a /64 in all 16", []byte{0, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0x77, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, "2001:db8:77:1::/64"},
		{"a /64 in 4: the rest is zero", []byte{0, 64, 0x20, 0x01, 0x0d, 0xb8}, "2001:db8::/64"},
		{"host bits cleared", []byte{0, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0x77, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, "2001:db8:77:1::/64"},
		{"an odd length, bits past it cleared", []byte{0, 61, 0x20, 0x01, 0x0d, 0xb8, 0, 0x88, 0x01, 0xff}, "2001:db8:88:1f8::/61"},
		{"Reserved not looked at", []byte{5, 56, 0x20, 0x01, 0x0d, 0xb8, 0, 0x88, 0x01}, "2001:db8:88:100::/56"},
		{"::/0", []byte{0, 0}, "::/0"},
		{"a /128", append([]byte{0, 128}, netip.MustParseAddr("2001:db8::1").AsSlice()...), "2001:db8::1/128"},
		{"Prefix-Length 129", []byte{0, 129}, ""},
		{"Prefix-Length 255", []byte{0, 255, 1}, ""},
		{"17 prefix octets", append([]byte{0, 64}, make([]byte, 17)...), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := radIPv6Prefix(tt.v)
			if tt.want == "" {
				if err == nil {
					t.Errorf("% x read as %v", tt.v, got)
				}
				return
			}
			if err != nil || got != netip.MustParsePrefix(tt.want) {
				t.Errorf("% x: %v %v, want %s", tt.v, got, err, tt.want)
			}
		})
	}
	// Every length, from an address with every bit set: the attribute is
	// 4 octets and the ones the length needs, and reads back masked.
	full := netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
	buf := make([]byte, 0, 32)
	for bits := 0; bits <= 128; bits++ {
		pfx := netip.PrefixFrom(full, bits)
		b := appendAttrIPv6Prefix(buf[:0], attrDelegatedIPv6Prefix, pfx)
		if want := 4 + (bits+7)/8; len(b) != want || int(b[1]) != want || b[0] != byte(attrDelegatedIPv6Prefix) || b[2] != 0 {
			t.Fatalf("/%d encoded as % x, want %d octets", bits, b, want)
		}
		got, err := radIPv6Prefix(b[2:])
		if err != nil || got != pfx.Masked() {
			t.Fatalf("/%d: % x read back as %v %v", bits, b, got, err)
		}
	}
	pfx := netip.MustParsePrefix("2001:db8:88:100::/56")
	if n := testing.AllocsPerRun(100, func() { buf = appendAttrIPv6Prefix(buf[:0], attrDelegatedIPv6Prefix, pfx) }); n != 0 && !raceEnabled {
		t.Errorf("appendAttrIPv6Prefix: %v allocs, want 0", n)
	}
}

// TestRadiusIPv6AgainstRadclient: FreeRADIUS's radclient as the other
// implementation. The IPv6 attributes it sends (an odd prefix length among
// them) read as it meant them, and ours encode them to its bytes but for
// its trailing zeros; the ones we send in an Access-Accept, with only the
// octets each length needs, it prints as we meant them.
func TestRadiusIPv6AgainstRadclient(t *testing.T) {
	rc, err := exec.LookPath("radclient")
	if err != nil {
		skipf(t, "radclient is not installed (make test installs Debian's freeradius-utils)")
	}
	ln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const sec = "testing123"
	ours := []struct {
		t    radiusAttr
		pfx  string
		prin string // as radclient prints it
	}{
		{attrFramedIPv6Prefix, "2001:db8:77:1::/64", "Framed-IPv6-Prefix = 2001:db8:77:1::/64"},
		{attrDelegatedIPv6Prefix, "2001:db8:88:100::/56", "Delegated-IPv6-Prefix = 2001:db8:88:100::/56"},
		{attrDelegatedIPv6Prefix, "2001:db8:88:1f8::/61", "Delegated-IPv6-Prefix = 2001:db8:88:1f8::/61"},
		{attrFramedIPv6Prefix, "::/0", "Framed-IPv6-Prefix = ::/0"},
		{attrFramedIPv6Prefix, "2001:db8::1/128", "Framed-IPv6-Prefix = 2001:db8::1/128"},
	}
	done := make(chan []byte, 1)
	go func() {
		h := newRadiusHasher()
		buf := make([]byte, radMaxLen)
		n, from, err := ln.ReadFromUDPAddrPort(buf)
		if err != nil {
			done <- nil
			return
		}
		done <- bytes.Clone(buf[:n])
		var p radiusPacket
		if p.parse(buf[:n]) != nil {
			return
		}
		b := appendRadiusHeader(nil, radAccessAccept, p.id, &p.auth)
		for _, a := range ours {
			b = appendAttrIPv6Prefix(b, a.t, netip.MustParsePrefix(a.pfx))
		}
		b = appendAttrString(b, attrFramedIPv6Pool, "v6pool")
		b = appendAttrString(b, attrDelegatedIPv6PrefixPool, "pdpool")
		patchRadiusLength(b)
		h.responseAuthenticator(b, &p.auth, sec)
		ln.WriteToUDPAddrPort(b, from)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, rc, "-x", "-r", "1", "-t", "3", "127.0.0.1:"+strconv.Itoa(ln.LocalAddr().(*net.UDPAddr).Port), "auth", sec)
	cmd.Stdin = strings.NewReader("User-Name = \"alice\"\nUser-Password = \"pw\"\nNAS-IPv6-Address = 2001:db8::a\n" +
		"Framed-IPv6-Prefix = 2001:db8:77:1::/64\nDelegated-IPv6-Prefix = 2001:db8:88:100::/56\nDelegated-IPv6-Prefix = 2001:db8:88:1f8::/61\n" +
		"Framed-IPv6-Prefix = ::/0\nFramed-Interface-Id = 0211:22ff:fe33:4455\n")
	out, err := cmd.CombinedOutput()
	req := <-done
	if err != nil {
		t.Fatalf("radclient: %v\n%s", err, out)
	}
	var p radiusPacket
	if err := p.parse(req); err != nil {
		t.Fatal(err)
	}
	// radclient's prefixes, in its order, and our encoding of each is its.
	var got []string
	it := radAttrIter{b: p.attrs}
	for it.next() {
		if it.typ != attrFramedIPv6Prefix && it.typ != attrDelegatedIPv6Prefix {
			continue
		}
		pfx, err := radIPv6Prefix(it.val)
		if err != nil {
			t.Fatalf("radclient's % x: %v", it.val, err)
		}
		got = append(got, pfx.String())
		// radclient (3.2.1) sends all 16 prefix octets, we the ones the
		// length needs: the same value, then zeros.
		enc := appendAttrIPv6Prefix(nil, it.typ, pfx)
		if theirs := it.val; !bytes.HasPrefix(theirs, enc[2:]) || bytes.ContainsFunc(theirs[len(enc)-2:], func(r rune) bool { return r != 0 }) {
			t.Errorf("%v: ours % x, radclient's % x", pfx, enc[2:], theirs)
		}
	}
	if want := "2001:db8:77:1::/64 2001:db8:88:100::/56 2001:db8:88:1f8::/61 ::/0"; strings.Join(got, " ") != want {
		t.Errorf("radclient's prefixes read as %q, want %q", got, want)
	}
	if v, _ := p.find(attrNASIPv6Address); !bytes.Equal(v, netip.MustParseAddr("2001:db8::a").AsSlice()) {
		t.Errorf("NAS-IPv6-Address % x", v)
	}
	if v, _ := p.find(attrFramedInterfaceID); !bytes.Equal(v, []byte{0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55}) {
		t.Errorf("Framed-Interface-Id % x", v)
	}
	for _, a := range ours {
		if !strings.Contains(string(out), a.prin) {
			t.Errorf("radclient did not print %q:\n%s", a.prin, out)
		}
	}
	for _, want := range []string{`Framed-IPv6-Pool = "v6pool"`, `Delegated-IPv6-Prefix-Pool = "pdpool"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("radclient did not print %q:\n%s", want, out)
		}
	}
}

// TestRadiusIPv6Accept: what an Access-Accept's IPv6 attributes give the
// session. Framed-IPv6-Prefix is used only as a /64 and
// Delegated-IPv6-Prefix only as /1 to /64, the first usable one each;
// what is not used is said in the log.
func TestRadiusIPv6Accept(t *testing.T) {
	pfx := netip.MustParsePrefix
	for _, tt := range []struct {
		name             string
		attrs            [][]byte
		prefix, delegate string // "": none
		pool, pdPool     string
		warned           []string
	}{
		{
			name: "both prefixes and both pools",
			attrs: [][]byte{appendAttrIPv6Prefix(nil, attrFramedIPv6Prefix, pfx("2001:db8:77:1::/64")),
				appendAttrIPv6Prefix(nil, attrDelegatedIPv6Prefix, pfx("2001:db8:88:100::/56")),
				appendAttrString(nil, attrFramedIPv6Pool, "v6"), appendAttrString(nil, attrDelegatedIPv6PrefixPool, "pd")},
			prefix: "2001:db8:77:1::/64", delegate: "2001:db8:88:100::/56", pool: "v6", pdPool: "pd",
		},
		{
			name: "a /48 as Framed-IPv6-Prefix, then a /64",
			attrs: [][]byte{appendAttrIPv6Prefix(nil, attrFramedIPv6Prefix, pfx("2001:db8:77::/48")),
				appendAttrIPv6Prefix(nil, attrFramedIPv6Prefix, pfx("2001:db8:77:2::/64"))},
			prefix: "2001:db8:77:2::/64", warned: []string{"Framed-IPv6-Prefix ignored: want a /64"},
		},
		{
			name: "a second /64 is not looked at",
			attrs: [][]byte{appendAttrIPv6Prefix(nil, attrFramedIPv6Prefix, pfx("2001:db8:77:1::/64")),
				appendAttrIPv6Prefix(nil, attrFramedIPv6Prefix, pfx("2001:db8:77:2::/64"))},
			prefix: "2001:db8:77:1::/64",
		},
		{
			name:   "host bits",
			attrs:  [][]byte{appendAttr(nil, attrFramedIPv6Prefix, append([]byte{0, 64}, netip.MustParseAddr("2001:db8:77:1::1").AsSlice()...))},
			prefix: "2001:db8:77:1::/64",
		},
		{
			name: "malformed ones",
			attrs: [][]byte{appendAttr(nil, attrFramedIPv6Prefix, []byte{0, 200}),
				appendAttr(nil, attrDelegatedIPv6Prefix, []byte{0})},
			warned: []string{"Framed-IPv6-Prefix ignored", "Delegated-IPv6-Prefix ignored"},
		},
		{
			name: "delegated /0 and /72, then a /48",
			attrs: [][]byte{appendAttrIPv6Prefix(nil, attrDelegatedIPv6Prefix, pfx("::/0")),
				appendAttrIPv6Prefix(nil, attrDelegatedIPv6Prefix, pfx("2001:db8:88::/72")),
				appendAttrIPv6Prefix(nil, attrDelegatedIPv6Prefix, pfx("2001:db8:88::/48"))},
			delegate: "2001:db8:88::/48", warned: []string{"Delegated-IPv6-Prefix ignored: want /1 to /64", "want /1 to /64"},
		},
		{
			name: "Framed-IPv6-Route, Framed-Interface-Id and Login-IPv6-Host are not used",
			attrs: [][]byte{appendAttrString(nil, attrFramedIPv6Route, "2001:db8:99::/48 :: 1"),
				appendAttr(nil, attrFramedInterfaceID, make([]byte, 8)), appendAttr(nil, attrLoginIPv6Host, make([]byte, 16))},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var auth [radAuthLen]byte
			b := appendRadiusHeader(nil, radAccessAccept, 1, &auth)
			for _, a := range tt.attrs {
				b = append(b, a...)
			}
			patchRadiusLength(b)
			var p radiusPacket
			if err := p.parse(b); err != nil {
				t.Fatal(err)
			}
			var warned []string
			res := radiusResult(&p, nil, func(msg string, _ ...any) { warned = append(warned, msg) })
			str := func(p netip.Prefix) string {
				if !p.IsValid() {
					return ""
				}
				return p.String()
			}
			if !res.ok || str(res.ipv6Prefix) != tt.prefix || str(res.delegated) != tt.delegate || res.ipv6Pool != tt.pool || res.delegatedPool != tt.pdPool {
				t.Errorf("prefix %v delegated %v pools %q %q; want %q %q %q %q", res.ipv6Prefix, res.delegated, res.ipv6Pool, res.delegatedPool,
					tt.prefix, tt.delegate, tt.pool, tt.pdPool)
			}
			if len(warned) != len(tt.warned) {
				t.Fatalf("warned %q, want %q", warned, tt.warned)
			}
			for i, w := range tt.warned {
				if !strings.Contains(warned[i], w) {
					t.Errorf("warning %q, want one with %q", warned[i], w)
				}
			}
		})
	}
}

// TestRadiusAccountingIPv6: a record carries the session's /64,
// delegated prefix and interface ID, and NAS-IPv6-Address; a session
// without IPv6 carries none of them. The accounting file's records say
// the prefixes too, and encode them without allocating.
func TestRadiusAccountingIPv6(t *testing.T) {
	rc := &radiusConfig{Server: []radiusServerConfig{{Address: "127.0.0.1", Secret: "s", AuthPort: 9, AcctPort: 9}},
		NASIdentifier: "nas", AcctSpool: t.TempDir() + "/spool"}
	rc.AcctServer = rc.Server
	rc.nasIP, rc.nasIP6 = netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::a")
	c, err := newRadiusClient(rc, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	a, err := newRadiusAccounting(c, rc, "ac", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	h := newFakeHarness(t, "noauth\n", nil, nil)
	h.openIPCP(h.openLCP())
	sess := h.sess()
	// attrs records one Stop and returns its attributes by type.
	attrs := func() map[radiusAttr][]byte {
		a.record(acctStop, sess, time.Now(), trafficCounts{})
		a.mu.Lock()
		r := a.in[len(a.in)-1]
		a.mu.Unlock()
		m := map[radiusAttr][]byte{}
		it := radAttrIter{b: r.b}
		for it.next() {
			m[it.typ] = it.val
		}
		if it.err != nil {
			t.Fatal(it.err)
		}
		return m
	}
	m := attrs()
	for _, typ := range []radiusAttr{attrFramedIPv6Prefix, attrDelegatedIPv6Prefix, attrFramedInterfaceID} {
		if v, ok := m[typ]; ok {
			t.Errorf("a session without IPv6: attribute %d % x", typ, v)
		}
	}
	if v := m[attrNASIPv6Address]; !bytes.Equal(v, rc.nasIP6.AsSlice()) {
		t.Errorf("NAS-IPv6-Address % x", v)
	}
	if v := m[attrNASIPAddress]; !bytes.Equal(v, []byte{192, 0, 2, 1}) {
		t.Errorf("NAS-IP-Address % x", v)
	}
	setTestIPv6(sess)
	// Given back to the pools: the Stop still says what the session had.
	sess.v6.prefix, sess.v6.delegated = netip.Prefix{}, netip.Prefix{}
	m = attrs()
	for typ, want := range map[radiusAttr]string{attrFramedIPv6Prefix: "2001:db8:77:1::/64", attrDelegatedIPv6Prefix: "2001:db8:88:100::/56"} {
		if got, err := radIPv6Prefix(m[typ]); err != nil || got.String() != want {
			t.Errorf("attribute %d: %v %v, want %s", typ, got, err, want)
		}
	}
	if v := m[attrFramedInterfaceID]; !bytes.Equal(v, sess.ipv6cpL.peer[:]) {
		t.Errorf("Framed-Interface-Id % x", v)
	}

	line := appendAcctRecord(nil, acctStop, sess, time.Now(), trafficCounts{})
	var rec struct {
		IP        string `json:"ip"`
		Prefix    string `json:"ipv6_prefix"`
		Delegated string `json:"ipv6_delegated"`
	}
	if err := json.Unmarshal(line, &rec); err != nil || rec.Prefix != "2001:db8:77:1::/64" || rec.Delegated != "2001:db8:88:100::/56" || rec.IP != "10.0.0.2" {
		t.Errorf("the accounting file's record: %v %+v\n%s", err, rec, line)
	}
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = appendAcctRecord(buf[:0], acctInterim, sess, h.s.clock, trafficCounts{}) }); n != 0 && !raceEnabled {
		t.Errorf("an accounting file record with IPv6: %v allocs, want 0", n)
	}
	sess.v6 = sessionV6{}
	if line := appendAcctRecord(nil, acctStop, sess, time.Now(), trafficCounts{}); bytes.Contains(line, []byte("ipv6")) {
		t.Errorf("a session without IPv6: %s", line)
	}
}

// TestRadiusCHAPValueLength: the peer picks the length of its CHAP value.
// Only MD5's 16 bytes (and MS-CHAPv2's 49) go into an Access-Request; a
// longer value would otherwise carry attributes of the peer's choosing.
func TestRadiusCHAPValueLength(t *testing.T) {
	srvConn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srvConn.Close()
	got := make(chan []byte, 4)
	go func() {
		buf := make([]byte, radMaxLen)
		for {
			n, _, err := srvConn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			got <- bytes.Clone(buf[:n])
		}
	}()
	port := srvConn.LocalAddr().(*net.UDPAddr).Port
	rc := &radiusConfig{Server: []radiusServerConfig{{Address: "127.0.0.1", Secret: "s", AuthPort: port, AcctPort: port,
		Timeout: duration(time.Minute), Retries: 1}}, NASIdentifier: "nas"}
	c, err := newRadiusClient(rc, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	c.start()
	defer c.close()
	a := &radiusAuthenticator{c: c, nasID: "nas", acName: "ac"}
	answers := make(chan authResult, 4)
	answer := func(_ *authRequest, r authResult) { answers <- r }
	injected := append(bytes.Repeat([]byte{1}, 16), byte(attrFramedPool), 6, 'e', 'v', 'i', 'l')
	for _, tt := range []struct {
		method authMethod
		resp   []byte
	}{{authCHAP, injected}, {authCHAP, []byte{1, 2, 3}}, {authMSCHAPv2, bytes.Repeat([]byte{0}, 60)}} {
		a.authenticate(&authRequest{method: tt.method, user: "eve", challenge: make([]byte, 16), response: tt.resp}, answer)
		select {
		case r := <-answers:
			if r.ok || !strings.Contains(r.reason, "malformed") {
				t.Errorf("%v with a %d-byte value: %+v", tt.method, len(tt.resp), r)
			}
		case <-time.After(time.Second):
			t.Errorf("%v with a %d-byte value: no answer at once", tt.method, len(tt.resp))
		}
	}
	// A well-formed one goes out with a 19-byte CHAP-Password and nothing
	// else of the peer's.
	a.authenticate(&authRequest{method: authCHAP, user: "eve", challenge: make([]byte, 16), response: injected[:16]}, answer)
	select {
	case b := <-got:
		var p radiusPacket
		if err := p.parse(b); err != nil {
			t.Fatal(err)
		}
		if v, ok := p.find(attrCHAPPassword); !ok || len(v) != 17 {
			t.Errorf("CHAP-Password %x", v)
		}
		if _, ok := p.find(attrFramedPool); ok {
			t.Error("the peer's Framed-Pool is in the request")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no Access-Request")
	}
	select {
	case b := <-got:
		t.Errorf("a malformed request went out too: %x", b)
	default:
	}
}

// TestAcctSpoolTornLine: a crash in the middle of an append leaves half a
// line. It is cut at the next start (and counted as lost), so the records
// after it are read back whole and the spool empties again.
func TestAcctSpoolTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	rec := func(ns int64, b ...byte) *acctRec { return &acctRec{event: time.Unix(0, ns), b: b} }
	line := func(r *acctRec) string { return spoolLine(r) }
	writeTestFile(t, path, line(rec(1, 1, 2))+line(rec(2, 3))+"3 0a0")
	s, err := openAcctSpool(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.pending() != 2 || s.torn != 5 {
		t.Fatalf("pending %d, torn %d; want 2 and 5", s.pending(), s.torn)
	}
	if err := s.append(rec(4, 4, 5)); err != nil {
		t.Fatal(err)
	}
	rs, err := s.read(-1)
	if err != nil || len(rs) != 3 || s.pending() != 0 {
		t.Fatalf("read %d records (%v), %d pending; want 3 and 0", len(rs), err, s.pending())
	}
	for i, want := range []struct {
		ns int64
		b  []byte
	}{{1, []byte{1, 2}}, {2, []byte{3}}, {4, []byte{4, 5}}} {
		if rs[i].event.UnixNano() != want.ns || !bytes.Equal(rs[i].b, want.b) {
			t.Errorf("record %d: %v %x, want %d %x", i, rs[i].event.UnixNano(), rs[i].b, want.ns, want.b)
		}
	}
	// A line longer than bufio's buffer is still one record.
	long := rec(5, bytes.Repeat([]byte{7}, 3000)...)
	writeTestFile(t, path, line(long))
	if s, err = openAcctSpool(path); err != nil || s.pending() != 1 || s.torn != 0 {
		t.Fatalf("a long line: %v, pending %d, torn %d", err, s.pending(), s.torn)
	}
}

// TestDAERequests: what a Disconnect- or CoA-Request may ask, and the
// answers RFC 5176 gives for what cannot be honoured. The loop is played
// by a goroutine that handles the posted events.
func TestDAERequests(t *testing.T) {
	h := newFakeHarness(t, "noauth\n", nil, nil)
	h.openIPCP(h.openLCP())
	sess := h.sess()
	sess.acctSessionID = "S1"
	sess.applyRate(rateLimit{down: 100, up: 512})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-h.s.events.notify:
				for ev, ok := h.s.events.pop(); ok; ev, ok = h.s.events.pop() {
					ev.handle(h.s)
				}
			case <-stop:
				return
			}
		}
	}()
	const sec = "daesecret"
	from := netip.MustParseAddr("192.0.2.10")
	d := &daeServer{clients: map[netip.Addr]string{from: sec}, nasID: "nas", hasher: newRadiusHasher(), done: make(chan struct{}),
		srv: h.s, log: testLogger(t)}
	hs := newRadiusHasher()
	request := func(code radiusCode, id uint8, attrs ...[]byte) []byte {
		var zero [radAuthLen]byte
		b := appendRadiusHeader(nil, code, id, &zero)
		for _, a := range attrs {
			b = append(b, a...)
		}
		patchRadiusLength(b)
		hs.requestAuthenticator(b, sec)
		return b
	}
	ask := func(req []byte) (code radiusCode, cause uint32, p radiusPacket) {
		t.Helper()
		out := d.handle(req, from)
		if out == nil {
			t.Fatal("dropped")
		}
		if err := p.parse(out); err != nil {
			t.Fatal(err)
		}
		var q radiusPacket
		q.parse(req)
		if !hs.checkResponseAuthenticator(&p, &q.auth, sec) {
			t.Error("wrong response authenticator")
		}
		if v, ok := p.find(attrErrorCause); ok {
			cause, _ = radUint32(v)
		}
		return p.code, cause, p
	}
	asid := appendAttrString(nil, attrAcctSessionID, "S1")

	// WISPr changes one direction and leaves the other.
	if code, cause, _ := ask(request(radCoARequest, 1, asid, appendVendorAttr(nil, vendorWISPr, wisprMaxDown, []byte{0, 0x1f, 0x40, 0}))); code != radCoAACK {
		t.Fatalf("CoA: code %d cause %d", code, cause)
	}
	if sess.rate != (rateLimit{down: 2048, up: 512}) {
		t.Errorf("rate after a WISPr Max-Down: %+v, want 2048/512", sess.rate)
	}
	for _, tt := range []struct {
		what  string
		attr  []byte
		cause uint32
	}{
		{"NAS-Port-Id, which we do not match on", appendAttrString(nil, attrNASPortID, "eth0"), errorCauseUnsupAttr},
		{"a Calling-Station-Id that is no MAC", appendAttrString(nil, attrCallingStationID, "garbage"), errorCauseInvalidVal},
		{"another NAS's name", appendAttrString(nil, attrNASIdentifier, "other"), errorCauseNASMismatch},
		{"Authorize-Only", appendAttr32(nil, attrServiceType, 17), errorCauseUnsupSvc},
		{"a WISPr attribute we do not apply", appendVendorAttr(nil, vendorWISPr, 5, []byte{0, 0, 0, 1}), errorCauseUnsupAttr},
	} {
		if code, cause, _ := ask(request(radDisconnectRequest, 2, asid, tt.attr)); code != radDisconnectNAK || cause != tt.cause {
			t.Errorf("%s: code %d cause %d, want NAK %d", tt.what, code, cause, tt.cause)
		}
	}
	if sess.ending {
		t.Fatal("a refused request ended the session")
	}
	// IPv6: the session's /64, delegated prefix and interface ID name it,
	// alone or with the rest; one that is not the session's matches
	// nothing; one that does not parse is refused.
	setTestIPv6(sess)
	pfx := func(typ radiusAttr, s string) []byte { return appendAttrIPv6Prefix(nil, typ, netip.MustParsePrefix(s)) }
	framed, delegated := pfx(attrFramedIPv6Prefix, "2001:db8:77:1::/64"), pfx(attrDelegatedIPv6Prefix, "2001:db8:88:100::/56")
	ifid := appendAttr(nil, attrFramedInterfaceID, sess.ipv6cpL.peer[:])
	hostBits := appendAttr(nil, attrFramedIPv6Prefix, append([]byte{0, 64}, netip.MustParseAddr("2001:db8:77:1::9").AsSlice()...))
	for _, tt := range []struct {
		what  string
		attrs [][]byte
		cause uint32 // 0: ACK
	}{
		{"Framed-IPv6-Prefix alone", [][]byte{framed}, 0},
		{"Delegated-IPv6-Prefix alone", [][]byte{delegated}, 0},
		{"Framed-Interface-Id alone", [][]byte{ifid}, 0},
		{"all three with Acct-Session-Id", [][]byte{asid, framed, delegated, ifid}, 0},
		{"a prefix with host bits", [][]byte{hostBits}, 0},
		{"another /64", [][]byte{pfx(attrFramedIPv6Prefix, "2001:db8:77:2::/64")}, errorCauseNoSession},
		{"the /64 as the delegated prefix", [][]byte{pfx(attrDelegatedIPv6Prefix, "2001:db8:77:1::/64")}, errorCauseNoSession},
		{"a shorter prefix holding the session's", [][]byte{pfx(attrDelegatedIPv6Prefix, "2001:db8:88::/48")}, errorCauseNoSession},
		{"the session's /64 with another's Acct-Session-Id", [][]byte{appendAttrString(nil, attrAcctSessionID, "S2"), framed}, errorCauseNoSession},
		{"another interface ID", [][]byte{appendAttr(nil, attrFramedInterfaceID, []byte{1, 2, 3, 4, 5, 6, 7, 8})}, errorCauseNoSession},
		{"Prefix-Length 129", [][]byte{appendAttr(nil, attrFramedIPv6Prefix, []byte{0, 129})}, errorCauseInvalidVal},
		{"a zero interface ID", [][]byte{appendAttr(nil, attrFramedInterfaceID, make([]byte, 8))}, errorCauseInvalidVal},
		{"Framed-IPv6-Address, which we do not match on", [][]byte{appendAttr(nil, attrFramedIPv6Address, netip.MustParseAddr("2001:db8:77:1::9").AsSlice())}, errorCauseUnsupAttr},
	} {
		code, cause, _ := ask(request(radCoARequest, 5, tt.attrs...))
		if want := map[bool]radiusCode{true: radCoAACK, false: radCoANAK}[tt.cause == 0]; code != want || cause != tt.cause {
			t.Errorf("CoA by %s: code %d cause %d, want %d cause %d", tt.what, code, cause, want, tt.cause)
		}
	}
	// Once the prefixes went back to the pools they name the session no
	// more, though its accounting still carries them.
	live := sess.v6
	sess.v6.prefix, sess.v6.delegated = netip.Prefix{}, netip.Prefix{}
	if code, cause, _ := ask(request(radDisconnectRequest, 6, framed)); code != radDisconnectNAK || cause != errorCauseNoSession {
		t.Errorf("Disconnect by a /64 given back: code %d cause %d, want NAK 503", code, cause)
	}
	sess.v6 = live
	if sess.ending {
		t.Fatal("a CoA or a refused request ended the session")
	}
	// NAS-Port is the session ID; our own NAS-Identifier is fine; a
	// proxy's Proxy-State comes back; the delegated prefix is the
	// session's.
	disc := request(radDisconnectRequest, 3, asid, appendAttr32(nil, attrNASPort, uint32(sess.id)),
		appendAttrString(nil, attrNASIdentifier, "nas"), appendAttrString(nil, attrProxyState, "px"), delegated)
	code, cause, p := ask(disc)
	if code != radDisconnectACK || !sess.ending {
		t.Fatalf("Disconnect: code %d cause %d, ending %v", code, cause, sess.ending)
	}
	if v, ok := p.find(attrProxyState); !ok || string(v) != "px" {
		t.Errorf("Proxy-State %q", v)
	}
	// The server sends it again (our ACK was lost): the same ACK, not a NAK
	// for a session that is gone.
	again := d.handle(disc, from)
	if first := d.handle(disc, from); !bytes.Equal(again, first) || radiusCode(again[0]) != radDisconnectACK {
		t.Errorf("a resent request: %x, then %x", again, first)
	}
	if code, cause, _ := ask(request(radDisconnectRequest, 4, asid)); code != radDisconnectNAK || cause != errorCauseNoSession {
		t.Errorf("a new request for the ended session: code %d cause %d, want NAK 503", code, cause)
	}
}

// TestRadiusSmallRules: fail-over passes dead servers by, an
// Acct-Interim-Interval of 0 leaves ours, Class is bounded, our address
// towards the first server is the NAS-IP-Address or NAS-IPv6-Address that
// is not configured, and the accounting queue does not grow when it never
// quite empties.
func TestRadiusSmallRules(t *testing.T) {
	now := time.Now()
	alive, dead := &radiusServer{}, &radiusServer{deadUntil: now.Add(time.Minute)}
	for _, tt := range []struct {
		srvs    []*radiusServer
		from    int
		want    int
		comment string
	}{
		{[]*radiusServer{alive, dead, alive}, 0, 2, "past the dead one"},
		{[]*radiusServer{alive, dead, dead}, 0, 1, "all the rest dead: the next anyway"},
		{[]*radiusServer{alive, alive}, 1, 2, "none left"},
	} {
		if got := nextServer(tt.srvs, tt.from, now); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.comment, got, tt.want)
		}
	}

	var auth [radAuthLen]byte
	b := appendRadiusHeader(nil, radAccessAccept, 1, &auth)
	b = appendAttr32(b, attrAcctInterimInterval, 0)
	for range 10 {
		b = appendAttr(b, attrClass, bytes.Repeat([]byte{'c'}, 200))
	}
	patchRadiusLength(b)
	var p radiusPacket
	if err := p.parse(b); err != nil {
		t.Fatal(err)
	}
	res := radiusResult(&p, nil, nil)
	if res.acctInterim != 0 {
		t.Errorf("Acct-Interim-Interval 0 gave %v", res.acctInterim)
	}
	if n := classLen(res.class); n > maxClassTotal || len(res.class) != 5 {
		t.Errorf("kept %d Class attributes, %d bytes", len(res.class), n)
	}

	// Towards a server on IPv6, our address there is NAS-IPv6-Address.
	if conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv6loopback, Port: 1812}); err == nil {
		conn.Close()
		c, err := newRadiusClient(&radiusConfig{Server: []radiusServerConfig{{Address: "::1", Secret: "s", AuthPort: 1812, AcctPort: 1813}}}, testLogger(t))
		if err != nil || c.nasIP.IsValid() || c.nasIP6 != netip.IPv6Loopback() {
			t.Errorf("towards ::1: NAS-IP-Address %v, NAS-IPv6-Address %v (%v)", c.nasIP, c.nasIP6, err)
		}
		if b := c.appendNASAddrs(nil); !bytes.Equal(b, append([]byte{byte(attrNASIPv6Address), 18}, netip.IPv6Loopback().AsSlice()...)) {
			t.Errorf("NAS addresses % x", b)
		}
	}
	// A configured NAS-IPv6-Address leaves NAS-IP-Address to be found
	// towards a server on IPv4, and the other way round.
	for _, rc := range []*radiusConfig{{nasIP6: netip.MustParseAddr("2001:db8::a")}, {nasIP: netip.MustParseAddr("192.0.2.99")}} {
		rc.Server = []radiusServerConfig{{Address: "127.0.0.1", Secret: "s", AuthPort: 1812, AcctPort: 1813}}
		c, err := newRadiusClient(rc, testLogger(t))
		if want := cmp.Or(rc.nasIP, netip.MustParseAddr("127.0.0.1")); err != nil || c.nasIP != want || c.nasIP6 != rc.nasIP6 {
			t.Errorf("configured %v and %v: NAS-IP-Address %v, NAS-IPv6-Address %v (%v)", rc.nasIP, rc.nasIP6, c.nasIP, c.nasIP6, err)
		}
	}

	var q acctQueue
	for i := range 100_000 {
		q.push(&acctRec{slot: i})
		if i%10 != 9 {
			q.pop()
		}
	}
	if q.len() != 10_000 || cap(q.b) > 4*q.len() {
		t.Errorf("queue of %d in an array of %d", q.len(), cap(q.b))
	}
	// Oldest first: the last 10,000 pushed, in order.
	for i := 90_000; q.len() > 0; i++ {
		if r := q.pop(); r.slot != i {
			t.Fatalf("popped %d, want %d", r.slot, i)
		}
	}
}
