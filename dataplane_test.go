package main

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// sinkTUN is a TUN that keeps the last packet without allocating.
type sinkTUN struct {
	last frame
	n    int
}

func (t *sinkTUN) readPacket([]byte) (int, error) { select {} }
func (t *sinkTUN) writePacket(b []byte) error     { t.n = copy(t.last[:], b); return nil }
func (t *sinkTUN) close() error                   { return nil }

// upSession brings a session all the way up (LCP, no auth, IPCP) through
// the harness and returns it.
func upSession(t testing.TB) (*pppHarness, *session) {
	h := newPPPHarness(t, "noauth\nms-dns 10.9.9.9\n", "")
	sess := h.s.sessions.lookup(h.sid)
	// Ack the server's IPCP request and send ours with the right address.
	var req pppFrame
	for _, p := range h.openLCP() {
		if p.proto == protoIPCP && p.code == uint8(cpConfReq) {
			req = p
		}
	}
	if req.proto == 0 {
		t.Fatal("no IPCP Configure-Request from the server")
	}
	send := func(code uint8, id uint8, data []byte) {
		b := make([]byte, headroom, 64)
		b = appendCP(b, code, id, data)
		putSessionHeader(b, serverMAC, clientMAC, etherTypeSession, h.sid, protoIPCP)
		h.feedFrame(b)
	}
	send(uint8(cpConfAck), req.id, req.data)
	send(uint8(cpConfReq), 1, []byte{ipcpOptAddress, 6, 10, 0, 0, 2})
	if ts := sess.path.(*tunSession); sess.ipcp.state != stOpened || ts.ds == nil {
		t.Fatalf("IPCP %v, data path published %v", sess.ipcp.state, ts.ds != nil)
	}
	return h, sess
}

// ipv6pkt builds a minimal IPv6 packet of n bytes (no next header).
func ipv6pkt(src, dst string, n int) []byte {
	p := make([]byte, n)
	p[0] = 0x60
	binary.BigEndian.PutUint16(p[4:], uint16(n-40))
	p[6], p[7] = 59, 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(p[8:], s[:])
	copy(p[24:], d[:])
	return p
}

// ipv4 builds a minimal IPv4 header (checksums are not our business).
func ipv4(src, dst string, n int) []byte {
	p := make([]byte, n)
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(n))
	p[8], p[9] = 64, 1
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	return p
}

func sessionFrame(sid uint16, src hwAddr, proto uint16, payload []byte) []byte {
	b := make([]byte, headroom+len(payload))
	putSessionHeader(b, serverMAC, src, etherTypeSession, sid, proto)
	copy(b[headroom:], payload)
	return b
}

func TestDataPath(t *testing.T) {
	h, sess := upSession(t)
	dp := h.s.path.(*tunPath)
	tun := dp.tun.(*fakeTUN)
	tests := []struct {
		name    string
		frame   []byte
		wantTUN bool
	}{
		{"from the session", sessionFrame(h.sid, clientMAC, protoIPv4, ipv4("10.0.0.2", "192.0.2.1", 100)), true},
		{"spoofed source address", sessionFrame(h.sid, clientMAC, protoIPv4, ipv4("10.0.0.3", "192.0.2.1", 100)), false},
		{"another MAC with our session ID", sessionFrame(h.sid, otherMAC, protoIPv4, ipv4("10.0.0.2", "192.0.2.1", 100)), false},
		{"larger than our MRU", sessionFrame(h.sid, clientMAC, protoIPv4, ipv4("10.0.0.2", "192.0.2.1", 1493)), false},
		{"unknown session", sessionFrame(h.sid+1, clientMAC, protoIPv4, ipv4("10.0.0.2", "192.0.2.1", 100)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handled := dp.forward(h.ifc, tt.frame)
			if !handled {
				// The loop sees it and must not forward it either.
				inject(h.s, h.ifc, tt.frame)
			}
			select {
			case p := <-tun.out:
				if !tt.wantTUN {
					t.Fatalf("forwarded %x", p)
				}
			default:
				if tt.wantTUN {
					t.Fatal("not forwarded to the TUN")
				}
			}
		})
	}

	// Downstream: to the client's address goes to its MAC and session.
	b := make([]byte, headroom+60)
	copy(b[headroom:], ipv4("192.0.2.1", "10.0.0.2", 60))
	h.sl.sent()
	dp.forwardDown(b)
	out := h.sl.sent()
	if len(out) != 1 {
		t.Fatalf("sent %d frames downstream", len(out))
	}
	f := parsePPPFrame(t, out[0])
	if f.sid != h.sid || f.proto != protoIPv4 || hwAddr(out[0][0:6]) != clientMAC || len(out[0]) != headroom+60 {
		t.Fatalf("downstream frame %x", out[0])
	}
	// Larger than the peer's MRU: dropped, not sent.
	big := make([]byte, headroom+1493)
	copy(big[headroom:], ipv4("192.0.2.1", "10.0.0.2", 1493))
	dp.forwardDown(big)
	if len(h.sl.sent()) != 0 {
		t.Error("sent a packet larger than the peer's MRU")
	}

	// When the session ends, one path frees everything.
	sess.end("test", true)
	h.s.settle()
	if dp.bySID[h.sid-1].Load() != nil || dp.bySlot[0].Load() != nil || h.s.pool.available() != h.s.pool.size() {
		t.Fatal("data path or address not freed")
	}
	dp.forwardDown(b)
	for _, fr := range h.sl.sent() {
		if p := parsePPPFrame(t, fr); p.proto == protoIPv4 {
			t.Fatal("forwarded to an ended session")
		}
	}
}

// TestDataPathAllocs: forwarding a packet either way, and answering an LCP
// Echo-Request, allocate nothing.
func TestDataPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test runs this without it")
	}
	for name, fn := range dataPaths(t) {
		t.Run(name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, fn); n != 0 {
				t.Errorf("%s: %v allocs/op, want 0", name, n)
			}
		})
	}
}

func dataPaths(t testing.TB) map[string]func() {
	h, _ := upSession(t)
	sink := &sinkLink{}
	h.ifc.sess, h.ifc.sessW = sink, sink
	dp := h.s.path.(*tunPath)
	h.ifc.dataW = sink
	dp.tun = &sinkTUN{}
	up := sessionFrame(h.sid, clientMAC, protoIPv4, ipv4("10.0.0.2", "192.0.2.1", 1400))
	down := make([]byte, headroom+1400)
	copy(down[headroom:], ipv4("192.0.2.1", "10.0.0.2", 1400))
	echo := sessionFrame(h.sid, clientMAC, protoLCP, []byte{byte(cpEchoReq), 3, 0, 8, 1, 2, 3, 4})
	// The session rate-limited so far up that nothing is dropped, for the
	// token buckets' cost, and the limit lifted again after.
	sess := h.s.sessions.lookup(h.sid)
	limited := sess.path.(*tunSession)
	high := rateLimit{down: 10_000_000, up: 10_000_000}
	acct := make([]byte, 0, 1024)
	upIPv6(t, h, sess)
	up6 := sessionFrame(h.sid, clientMAC, protoIPv6, ipv6pkt("2001:db8:100::2", "2001:db8:ffff::1", 1400))
	upPD := sessionFrame(h.sid, clientMAC, protoIPv6, ipv6pkt("2001:db8:200:0:1::1", "2001:db8:ffff::1", 1400))
	down6 := make([]byte, headroom+1400)
	copy(down6[headroom:], ipv6pkt("2001:db8:ffff::1", "2001:db8:100::2", 1400))
	downPD := make([]byte, headroom+1400)
	copy(downPD[headroom:], ipv6pkt("2001:db8:ffff::1", "2001:db8:200:0:1::1", 1400))
	rs, _ := appendIPv6(nil, linkLocal(sess.ipv6cpL.peer), allRouters, ipProtoICMPv6, 255)
	rs = appendRS(rs)
	finishIPv6(rs, 0)
	rsFrame := sessionFrame(h.sid, clientMAC, protoIPv6, rs)
	duid := appendDUIDLL(nil, clientMAC)
	sol, _ := appendIPv6(nil, linkLocal(sess.ipv6cpL.peer), allDHCP, ipProtoUDP, 1)
	sol = appendUDPHeader(sol, dhcp6ClientPort, dhcp6ServerPort)
	sol = appendDHCP6Solicit(sol, [3]byte{1, 2, 3}, duid, 1, true, true, true)
	finishIPv6(sol, 0)
	solFrame := sessionFrame(h.sid, clientMAC, protoIPv6, sol)
	return map[string]func(){
		"upstream IPv6 packet":              func() { dp.forward(h.ifc, up6) },
		"upstream IPv6 packet, delegated":   func() { dp.forward(h.ifc, upPD) },
		"downstream IPv6 packet":            func() { dp.forwardDown(down6) },
		"downstream IPv6 packet, delegated": func() { dp.forwardDown(downPD) },
		"Router Solicitation": func() {
			sess.v6.raLast = time.Time{}
			inject(h.s, h.ifc, rsFrame)
		},
		"DHCPv6 Solicit with Rapid Commit": func() { inject(h.s, h.ifc, solFrame) },
		"upstream packet":                  func() { dp.forward(h.ifc, up) },
		"downstream packet":                func() { dp.forwardDown(down) },
		"upstream packet, rate-limited": func() {
			limited.setRate(high)
			dp.forward(h.ifc, up)
			limited.setRate(rateLimit{})
		},
		"downstream packet, rate-limited": func() {
			limited.setRate(high)
			dp.forwardDown(down)
			limited.setRate(rateLimit{})
		},
		"accounting record": func() {
			acct = appendAcctRecord(acct[:0], acctInterim, sess, h.s.clock, trafficCounts{1 << 40, 1 << 30, 1 << 41, 1 << 31})
		},
		"LCP Echo-Request": func() { inject(h.s, h.ifc, echo) },
		"keepalive tick":   func() { h.s.onTick(h.s.clock) },
	}
}

// upIPv6 brings IPv6 up on an up session: 2001:db8:100::/64 and the
// delegated 2001:db8:200::/56, the peer's identifier ::2.
func upIPv6(t testing.TB, h *pppHarness, sess *session) {
	t.Helper()
	v6cfg := testConfig(t, withIPv6("2001:db8:100::/48"))
	h.s.cfg.v6, h.s.cfg.IPv6IANA = v6cfg.v6, true
	h.s.dhcp6, h.s.scratch6 = newDHCP6Server(serverMAC, [2]netip.Addr{netip.MustParseAddr("2001:db8::53")}, true), make([]byte, 0, ethPPPoEMTU)
	if !sess.takePrefix6() {
		t.Fatal("no /64")
	}
	sess.ipv6cpL.reset(sess, false, rand64)
	sess.ipv6cpL.peer = [8]byte{0, 0, 0, 0, 0, 0, 0, 2}
	sess.onIPv6CPUp()
	if pd, ok := sess.delegatedPrefix(); !ok || pd.String() != "2001:db8:200::/56" {
		t.Fatalf("delegated %v %v", pd, ok)
	}
}

// TestTUNPathIPv6: the TUN path forwards a session's IPv6 from its /64 and
// its delegated prefix both ways, drops and counts any other source, and
// leaves packets to link-local and multicast addresses to the loop.
func TestTUNPathIPv6(t *testing.T) {
	h, sess := upSession(t)
	sink := &sinkLink{}
	h.ifc.sess, h.ifc.sessW, h.ifc.dataW = sink, sink, sink
	dp := h.s.path.(*tunPath)
	tun := &sinkTUN{}
	dp.tun = tun
	upIPv6(t, h, sess)
	for _, c := range []struct {
		src, dst string
		fwd      bool // to the TUN
		loop     bool // left to the loop
	}{
		{"2001:db8:100::2", "2001:db8:ffff::1", true, false},
		{"2001:db8:100::abcd", "2001:db8:ffff::1", true, false},
		{"2001:db8:200:ff::1", "2001:db8:ffff::1", true, false},
		{"2001:db8:101::2", "2001:db8:ffff::1", false, false},
		{"2001:db8:200:100::1", "2001:db8:ffff::1", false, false},
		{"fe80::2", "2001:db8:ffff::1", false, false},
		{"fe80::2", "ff02::2", false, true},
		{"fe80::2", "fe80::1", false, true},
		{"fe80::2", "ff02::fb", false, false},
	} {
		tun.n = 0
		spoofed := h.s.stats.c[statSpoofDropped].Load()
		pkt := ipv6pkt(c.src, c.dst, 100)
		if c.loop {
			pkt[6], pkt[40] = ipProtoICMPv6, icmp6RS // what the loop answers
		}
		took := dp.forward(h.ifc, sessionFrame(h.sid, clientMAC, protoIPv6, pkt))
		if took == c.loop || (tun.n == 100) != c.fwd {
			t.Errorf("%s -> %s: taken %v, forwarded %v", c.src, c.dst, took, tun.n == 100)
		}
		if dropped := h.s.stats.c[statSpoofDropped].Load() != spoofed; dropped != (!c.fwd && !c.loop && c.dst[:4] != "ff02") {
			t.Errorf("%s -> %s: counted as spoofed %v", c.src, c.dst, dropped)
		}
	}
	for _, dst := range []string{"2001:db8:100::2", "2001:db8:200:ff::1", "2001:db8:101::2"} {
		sink.n = 0
		b := make([]byte, headroom+100)
		copy(b[headroom:], ipv6pkt("2001:db8:ffff::1", dst, 100))
		dp.forwardDown(b)
		want := dst != "2001:db8:101::2"
		if got := sink.n == headroom+100 && binary.BigEndian.Uint16(sink.last[discoveryHdrLen:]) == protoIPv6 &&
			binary.BigEndian.Uint16(sink.last[offSessionID:]) == h.sid; got != want {
			t.Errorf("down to %s: sent %v, want %v", dst, got, want)
		}
	}
	// IPv6 down: nothing more is forwarded either way.
	sess.path.down6()
	tun.n = 0
	if dp.forward(h.ifc, sessionFrame(h.sid, clientMAC, protoIPv6, ipv6pkt("2001:db8:100::2", "2001:db8:ffff::1", 100))) || tun.n != 0 {
		t.Error("forwarded after down6")
	}
}

func BenchmarkDataPath(b *testing.B) {
	for name, fn := range dataPaths(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fn()
			}
		})
	}
}

// TestDataPathCounters: the TUN path counts every IP packet it forwards
// and its bytes, each direction apart, and nothing it drops.
func TestDataPathCounters(t *testing.T) {
	h, sess := upSession(t)
	dp := h.s.path.(*tunPath)
	tun := dp.tun.(*fakeTUN)
	h.s.path.tick(h.s.clock.Add(time.Minute))
	for i := range 7 {
		dp.forward(h.ifc, sessionFrame(h.sid, clientMAC, protoIPv4, ipv4("10.0.0.2", "192.0.2.1", 100+i)))
		<-tun.out
	}
	dp.forward(h.ifc, sessionFrame(h.sid, clientMAC, protoIPv4, ipv4("10.0.0.3", "192.0.2.1", 500))) // spoofed
	for range 5 {
		b := make([]byte, headroom+1400)
		copy(b[headroom:], ipv4("192.0.2.1", "10.0.0.2", 1400))
		dp.forwardDown(b)
	}
	big := make([]byte, headroom+1493)
	copy(big[headroom:], ipv4("192.0.2.1", "10.0.0.2", 1493))
	dp.forwardDown(big) // larger than the peer's MRU
	want := trafficCounts{rxBytes: 100 + 101 + 102 + 103 + 104 + 105 + 106, rxPackets: 7, txBytes: 5 * 1400, txPackets: 5}
	if got := sess.path.counters(); got != want {
		t.Fatalf("counters %+v, want %+v", got, want)
	}
	rx, tx := sess.path.lastData()
	if !rx.Equal(h.s.clock.Add(time.Minute)) || !tx.Equal(rx) {
		t.Fatalf("last data %v / %v, want the loop's clock as of its tick", rx, tx)
	}
}
