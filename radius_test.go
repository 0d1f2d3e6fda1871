package main

import (
	"bytes"
	"context"
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
	res := radiusResult(&p, nil) // an Access-Request carries nothing for the session
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
	res := radiusResult(&p, nil)
	want := netip.MustParseAddr("10.0.0.9")
	if !res.ok || res.addr != want || res.sessionTimeout != time.Minute || res.idleTimeout != 30*time.Second || res.acctInterim != 2*time.Minute ||
		len(res.class) != 1 || string(res.class[0]) != "gold" || res.rate() != (rateLimit{2048, 512}) || res.pool != "vip" || res.message != "hi" ||
		res.chapSuccess != "S=0123456789ABCDEF0123456789ABCDEF01234567" || res.source != "radius" {
		t.Errorf("result %+v", res)
	}
	// 255.255.255.254: from the pool.
	p.attrs = appendAttr(nil, attrFramedIPAddress, []byte{255, 255, 255, 254})
	p.code = radAccessAccept
	if res := radiusResult(&p, nil); res.addr.IsValid() {
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
	one := radiusAccountingRecord(t)
	for range 100 {
		one() // warm the pools and slices
	}
	if n := testing.AllocsPerRun(1000, one); n != 0 {
		t.Errorf("an accounting record: %v allocs, want 0", n)
	}
}

// BenchmarkRadiusAccounting: one Interim-Update built, signed, sent and
// answered.
func BenchmarkRadiusAccounting(b *testing.B) {
	one := radiusAccountingRecord(b)
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
// and plays its answer.
func radiusAccountingRecord(tb testing.TB) func() {
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
	// NAS-Port is the session ID; our own NAS-Identifier is fine; a
	// proxy's Proxy-State comes back.
	disc := request(radDisconnectRequest, 3, asid, appendAttr32(nil, attrNASPort, uint32(sess.id)),
		appendAttrString(nil, attrNASIdentifier, "nas"), appendAttrString(nil, attrProxyState, "px"))
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
// Acct-Interim-Interval of 0 leaves ours, Class is bounded, and the
// accounting queue does not grow when it never quite empties.
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
	res := radiusResult(&p, nil)
	if res.acctInterim != 0 {
		t.Errorf("Acct-Interim-Interval 0 gave %v", res.acctInterim)
	}
	if n := classLen(res.class); n > maxClassTotal || len(res.class) != 5 {
		t.Errorf("kept %d Class attributes, %d bytes", len(res.class), n)
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
