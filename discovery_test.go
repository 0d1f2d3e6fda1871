package main

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func padi(tags ...tag) []byte { return frameOf(broadcastAddr, clientMAC, codePADI, 0, tags...) }

// offer sends a PADI and returns the PADO's cookie.
func offer(t testing.TB, s *server, l *fakeLink, ifc *iface, from hwAddr, tags ...tag) []byte {
	t.Helper()
	inject(s, ifc, frameOf(broadcastAddr, from, codePADI, 0, tags...))
	o := onlyFrame(t, l)
	if o.code != codePADO {
		t.Fatalf("got %v, want PADO", o.code)
	}
	c, ok := o.find(tagACCookie)
	if !ok {
		t.Fatal("PADO has no AC-Cookie")
	}
	return append([]byte(nil), c...)
}

// request sends a PADR carrying cookie and returns the answer.
func request(t testing.TB, s *server, l *fakeLink, ifc *iface, from hwAddr, cookie []byte, tags ...tag) *discoveryPacket {
	t.Helper()
	all := append([]tag{{tagACCookie, cookie}}, tags...)
	inject(s, ifc, frameOf(serverMAC, from, codePADR, 0, all...))
	return onlyFrame(t, l)
}

func tagsOf(p *discoveryPacket) []tag { return p.tags[:p.ntags] }

func TestPADO(t *testing.T) {
	hu := []byte{1, 2, 3, 4}
	relay := []byte("relay-id-12")
	tests := []struct {
		name     string
		services []string
		in       []tag
		want     []tagType // tag types in order
		wantSvc  []string
	}{
		{
			name:    "no services configured, empty request",
			in:      []tag{{tagServiceName, nil}},
			want:    []tagType{tagACName, tagServiceName, tagACCookie},
			wantSvc: []string{""},
		},
		{
			name:    "no services configured, any name accepted and echoed",
			in:      []tag{{tagServiceName, []byte("isp")}, {tagHostUniq, hu}},
			want:    []tagType{tagACName, tagServiceName, tagACCookie, tagHostUniq},
			wantSvc: []string{"isp"},
		},
		{
			name:     "offered services listed, relay and host-uniq echoed",
			services: []string{"a", "b"},
			in:       []tag{{tagServiceName, []byte("b")}, {tagRelaySessionID, relay}, {tagHostUniq, hu}},
			want:     []tagType{tagACName, tagServiceName, tagServiceName, tagACCookie, tagRelaySessionID, tagHostUniq},
			wantSvc:  []string{"a", "b"},
		},
		{
			name:     "no Service-Name tag at all",
			services: []string{"a"},
			in:       nil,
			want:     []tagType{tagACName, tagServiceName, tagACCookie},
			wantSvc:  []string{"a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l, ifc, _ := newTestServer(t, func(c *config) { c.ServiceNames = tt.services })
			inject(s, ifc, padi(tt.in...))
			o := onlyFrame(t, l)
			if o.code != codePADO || o.sessionID != 0 || o.dst != clientMAC || o.src != serverMAC {
				t.Fatalf("header: code %v sid %d dst %v src %v", o.code, o.sessionID, o.dst, o.src)
			}
			var got []tagType
			var svcs []string
			for _, tg := range tagsOf(o) {
				got = append(got, tg.typ)
				switch tg.typ {
				case tagServiceName:
					svcs = append(svcs, string(tg.val))
				case tagACName:
					if string(tg.val) != "testAC" {
						t.Errorf("AC-Name %q", tg.val)
					}
				case tagHostUniq:
					if !bytes.Equal(tg.val, hu) {
						t.Errorf("Host-Uniq %x, want %x", tg.val, hu)
					}
				case tagRelaySessionID:
					if !bytes.Equal(tg.val, relay) {
						t.Errorf("Relay-Session-Id %x", tg.val)
					}
				case tagACCookie:
					if len(tg.val) != cookieLen {
						t.Errorf("cookie length %d", len(tg.val))
					}
				}
			}
			if !equal(got, tt.want) {
				t.Errorf("tags %v, want %v", got, tt.want)
			}
			if !equal(svcs, tt.wantSvc) {
				t.Errorf("services %q, want %q", svcs, tt.wantSvc)
			}
		})
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPADONotSent(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*config)
		frame  []byte
		setup  func(*testing.T, *server, *fakeLink, *iface)
		reason dropReason
	}{
		{
			name:   "service not offered",
			mutate: func(c *config) { c.ServiceNames = []string{"a"} },
			frame:  padi(tag{tagServiceName, []byte("nope")}),
			reason: dropUnknownService,
		},
		{
			name:   "PADI with a session ID",
			frame:  frameOf(broadcastAddr, clientMAC, codePADI, 7),
			reason: dropPADISessionID,
		},
		{
			name:   "multicast source",
			frame:  frameOf(broadcastAddr, hwAddr{0x03, 0, 0, 0, 0, 1}, codePADI, 0),
			reason: dropSourceNotUnicast,
		},
		{
			name:   "our own frame looped back",
			frame:  frameOf(broadcastAddr, serverMAC, codePADI, 0),
			reason: dropOwnFrame,
		},
		{
			name:   "unicast to someone else",
			frame:  frameOf(otherMAC, clientMAC, codePADI, 0),
			reason: dropNotForUs,
		},
		{
			name:   "full with -i",
			mutate: func(c *config) { c.MaxSessions = 1; c.NoPADOWhenFull = true },
			setup: func(t *testing.T, s *server, l *fakeLink, ifc *iface) {
				c := offer(t, s, l, ifc, otherMAC)
				request(t, s, l, ifc, otherMAC, c, tag{tagServiceName, nil})
			},
			frame:  padi(),
			reason: dropFull,
		},
		{
			name:   "-x limit reached",
			mutate: func(c *config) { c.MaxSessionsPerMAC = 1 },
			setup: func(t *testing.T, s *server, l *fakeLink, ifc *iface) {
				c := offer(t, s, l, ifc, clientMAC)
				request(t, s, l, ifc, clientMAC, c, tag{tagServiceName, nil})
			},
			frame:  padi(),
			reason: dropMACLimit,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l, ifc, _ := newTestServer(t, tt.mutate)
			if tt.setup != nil {
				tt.setup(t, s, l, ifc)
			}
			inject(s, ifc, tt.frame)
			if fs := l.sent(); len(fs) != 0 {
				t.Fatalf("server answered with %d frames", len(fs))
			}
			if n := s.stats.drops[tt.reason].Load(); n != 1 {
				t.Errorf("drop counter %v = %d, want 1", tt.reason, n)
			}
		})
	}
}

func TestPADOFullWithoutDashIStillOffers(t *testing.T) {
	s, l, ifc, _ := newTestServer(t, func(c *config) { c.MaxSessions = 1 })
	c := offer(t, s, l, ifc, otherMAC)
	request(t, s, l, ifc, otherMAC, c, tag{tagServiceName, nil})
	// Without -i a full server still offers, and refuses at PADR time.
	c = offer(t, s, l, ifc, clientMAC)
	p := request(t, s, l, ifc, clientMAC, c, tag{tagServiceName, nil})
	if p.code != codePADS || p.sessionID != 0 {
		t.Fatalf("got %v sid %d, want refusing PADS", p.code, p.sessionID)
	}
	if v, ok := p.find(tagACSystemError); !ok || len(v) == 0 {
		t.Errorf("refusal has no AC-System-Error text: %v", tagsOf(p))
	}
}

func TestMaxPayload(t *testing.T) {
	tests := []struct {
		name      string
		mtu       int
		requested uint16
		want      uint16 // 0: no tag
	}{
		{"not asked", 1500, 0, 0},
		{"asked for 1492", 1500, 1492, 0},
		{"interface too small", 1500, 1500, 0},
		{"baby jumbo", 1508, 1500, 1500},
		{"capped at MTU-8", 1504, 1500, 1496},
		{"jumbo interface", 9000, 8000, 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l, ifc, _ := newTestServer(t, nil)
			ifc.mtu = tt.mtu
			var tags []tag
			if tt.requested != 0 {
				tags = append(tags, tag{tagPPPMaxPayload, binary.BigEndian.AppendUint16(nil, tt.requested)})
			}
			tags = append(tags, tag{tagServiceName, nil})
			inject(s, ifc, padi(tags...))
			o := onlyFrame(t, l)
			v, ok := o.find(tagPPPMaxPayload)
			if tt.want == 0 {
				if ok {
					t.Fatalf("PADO has PPP-Max-Payload %x, want none", v)
				}
				return
			}
			if !ok || binary.BigEndian.Uint16(v) != tt.want {
				t.Fatalf("PADO PPP-Max-Payload %x, want %d", v, tt.want)
			}
			c, _ := o.find(tagACCookie)
			p := request(t, s, l, ifc, clientMAC, append([]byte(nil), c...), tags...)
			v, ok = p.find(tagPPPMaxPayload)
			if !ok || binary.BigEndian.Uint16(v) != tt.want {
				t.Fatalf("PADS PPP-Max-Payload %x, want %d", v, tt.want)
			}
		})
	}
}

func TestPADS(t *testing.T) {
	s, l, ifc, _ := newTestServer(t, func(c *config) { c.ServiceNames = []string{"first", "second"} })
	hu := []byte("host-uniq")
	c := offer(t, s, l, ifc, clientMAC, tag{tagHostUniq, hu})
	p := request(t, s, l, ifc, clientMAC, c, tag{tagServiceName, nil}, tag{tagHostUniq, hu}, tag{tagRelaySessionID, []byte{9}})
	if p.code != codePADS || p.sessionID == 0 || p.sessionID == 0xffff {
		t.Fatalf("got %v sid %d", p.code, p.sessionID)
	}
	want := []tag{{tagServiceName, []byte("first")}, {tagRelaySessionID, []byte{9}}, {tagHostUniq, hu}}
	got := tagsOf(p)
	if len(got) != len(want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
	for i := range want {
		if got[i].typ != want[i].typ || !bytes.Equal(got[i].val, want[i].val) {
			t.Errorf("tag %d = %v %q, want %v %q", i, got[i].typ, got[i].val, want[i].typ, want[i].val)
		}
	}
	if s.sessions.active != 1 {
		t.Errorf("active sessions %d, want 1", s.sessions.active)
	}
}

func TestPADRDropped(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(cookie []byte) []byte // PADR frame from the good cookie
		reason dropReason
		clock  time.Duration
	}{
		{
			name:   "no cookie",
			mangle: func([]byte) []byte { return frameOf(serverMAC, clientMAC, codePADR, 0, tag{tagServiceName, nil}) },
			reason: dropNoCookie,
		},
		{
			name: "forged cookie",
			mangle: func(c []byte) []byte {
				c[len(c)-1] ^= 1
				return frameOf(serverMAC, clientMAC, codePADR, 0, tag{tagServiceName, nil}, tag{tagACCookie, c})
			},
			reason: dropBadCookie,
		},
		{
			name: "expiry moved forward",
			mangle: func(c []byte) []byte {
				binary.BigEndian.PutUint32(c, binary.BigEndian.Uint32(c)+3600)
				return frameOf(serverMAC, clientMAC, codePADR, 0, tag{tagServiceName, nil}, tag{tagACCookie, c})
			},
			reason: dropBadCookie,
		},
		{
			name: "expired cookie",
			mangle: func(c []byte) []byte {
				return frameOf(serverMAC, clientMAC, codePADR, 0, tag{tagServiceName, nil}, tag{tagACCookie, c})
			},
			clock:  61 * time.Second,
			reason: dropBadCookie,
		},
		{
			name: "cookie from another MAC",
			mangle: func(c []byte) []byte {
				return frameOf(serverMAC, otherMAC, codePADR, 0, tag{tagServiceName, nil}, tag{tagACCookie, c})
			},
			reason: dropBadCookie,
		},
		{
			name: "different Host-Uniq",
			mangle: func(c []byte) []byte {
				return frameOf(serverMAC, clientMAC, codePADR, 0, tag{tagServiceName, nil}, tag{tagACCookie, c}, tag{tagHostUniq, []byte{1}})
			},
			reason: dropBadCookie,
		},
		{
			name: "broadcast",
			mangle: func(c []byte) []byte {
				return frameOf(broadcastAddr, clientMAC, codePADR, 0, tag{tagServiceName, nil}, tag{tagACCookie, c})
			},
			reason: dropPADRBroadcast,
		},
		{
			name: "unicast to someone else",
			mangle: func(c []byte) []byte {
				return frameOf(otherMAC, clientMAC, codePADR, 0, tag{tagServiceName, nil}, tag{tagACCookie, c})
			},
			reason: dropNotForUs,
		},
		{
			name: "non-zero session ID",
			mangle: func(c []byte) []byte {
				return frameOf(serverMAC, clientMAC, codePADR, 5, tag{tagServiceName, nil}, tag{tagACCookie, c})
			},
			reason: dropPADRSessionID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l, ifc, clk := newTestServer(t, nil)
			c := offer(t, s, l, ifc, clientMAC)
			clk.advance(tt.clock)
			inject(s, ifc, tt.mangle(c))
			if fs := l.sent(); len(fs) != 0 {
				t.Fatalf("server answered with %d frames", len(fs))
			}
			if n := s.stats.drops[tt.reason].Load(); n != 1 {
				t.Errorf("drop counter %v = %d, want 1", tt.reason, n)
			}
			if s.sessions.active != 0 {
				t.Errorf("a session was created")
			}
		})
	}
}

func TestCookieStillValidJustBeforeExpiry(t *testing.T) {
	s, l, ifc, clk := newTestServer(t, nil)
	c := offer(t, s, l, ifc, clientMAC)
	clk.advance(59 * time.Second)
	if p := request(t, s, l, ifc, clientMAC, c, tag{tagServiceName, nil}); p.code != codePADS || p.sessionID == 0 {
		t.Fatalf("got %v sid %d", p.code, p.sessionID)
	}
}

func TestPADRRefused(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*config)
		tags    []tag
		errTag  tagType
		prepare func(t *testing.T, s *server, l *fakeLink, ifc *iface)
	}{
		{
			name:   "service not offered",
			mutate: func(c *config) { c.ServiceNames = []string{"a"} },
			tags:   []tag{{tagServiceName, []byte("b")}},
			errTag: tagServiceNameError,
		},
		{
			name:   "no Service-Name tag",
			errTag: tagServiceNameError,
		},
		{
			name:   "pool exhausted",
			mutate: func(c *config) { c.MaxSessions = 1 },
			tags:   []tag{{tagServiceName, nil}},
			errTag: tagACSystemError,
			prepare: func(t *testing.T, s *server, l *fakeLink, ifc *iface) {
				c := offer(t, s, l, ifc, otherMAC)
				request(t, s, l, ifc, otherMAC, c, tag{tagServiceName, nil})
			},
		},
		{
			name:   "-x limit",
			mutate: func(c *config) { c.MaxSessionsPerMAC = 1 },
			tags:   []tag{{tagServiceName, nil}, {tagHostUniq, []byte{2}}},
			errTag: tagACSystemError,
			prepare: func(t *testing.T, s *server, l *fakeLink, ifc *iface) {
				// Take both offers before the first session exists.
				c1 := offer(t, s, l, ifc, clientMAC, tag{tagHostUniq, []byte{1}})
				request(t, s, l, ifc, clientMAC, c1, tag{tagServiceName, nil}, tag{tagHostUniq, []byte{1}})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l, ifc, _ := newTestServer(t, tt.mutate)
			var hu []byte
			for _, tg := range tt.tags {
				if tg.typ == tagHostUniq {
					hu = tg.val
				}
			}
			var c []byte
			if hu != nil {
				c = offer(t, s, l, ifc, clientMAC, tag{tagHostUniq, hu})
			} else {
				c = offer(t, s, l, ifc, clientMAC)
			}
			if tt.prepare != nil {
				tt.prepare(t, s, l, ifc)
			}
			before := s.sessions.active
			p := request(t, s, l, ifc, clientMAC, c, tt.tags...)
			if p.code != codePADS || p.sessionID != 0 {
				t.Fatalf("got %v sid %d, want PADS with session ID 0", p.code, p.sessionID)
			}
			if v, ok := p.find(tt.errTag); !ok || len(v) == 0 {
				t.Fatalf("no %v tag with text in %v", tt.errTag, tagsOf(p))
			}
			if s.sessions.active != before {
				t.Errorf("active sessions %d, want %d", s.sessions.active, before)
			}
		})
	}
}

func TestDuplicatePADR(t *testing.T) {
	s, l, ifc, _ := newTestServer(t, nil)
	c := offer(t, s, l, ifc, clientMAC)
	first := request(t, s, l, ifc, clientMAC, c, tag{tagServiceName, nil})
	second := request(t, s, l, ifc, clientMAC, c, tag{tagServiceName, nil})
	if first.sessionID == 0 || second.sessionID != first.sessionID {
		t.Fatalf("session IDs %d then %d, want the same non-zero ID", first.sessionID, second.sessionID)
	}
	if s.sessions.active != 1 {
		t.Errorf("active sessions %d, want 1", s.sessions.active)
	}
	// Once PPP is under way, a PADR with the same cookie is one our PADS
	// overtook: no answer and, above all, no second session, which would
	// sit silent holding a slot (seen at 1,000 sessions in the VM, where
	// PADSes took over a second).
	s.sessions.markActive(s.sessions.lookup(first.sessionID))
	inject(s, ifc, frameOf(serverMAC, clientMAC, codePADR, 0, tag{tagACCookie, c}, tag{tagServiceName, nil}))
	if f := l.sent(); len(f) != 0 {
		t.Errorf("answered a late duplicate PADR with %d frames", len(f))
	}
	if s.sessions.active != 1 || s.stats.c[statDuplicatePADR].Load() != 2 {
		t.Errorf("active sessions %d, duplicate PADRs %d; want 1 and 2", s.sessions.active, s.stats.c[statDuplicatePADR].Load())
	}
}

func TestPADT(t *testing.T) {
	s, l, ifc, _ := newTestServer(t, nil)
	c := offer(t, s, l, ifc, clientMAC)
	sid := request(t, s, l, ifc, clientMAC, c, tag{tagServiceName, nil}).sessionID

	inject(s, ifc, frameOf(serverMAC, otherMAC, codePADT, sid))
	if s.sessions.lookup(sid) == nil {
		t.Fatal("PADT from a foreign MAC ended the session")
	}
	if s.stats.drops[dropPADTUnknown].Load() != 1 {
		t.Error("foreign PADT not counted")
	}
	inject(s, ifc, frameOf(serverMAC, clientMAC, codePADT, sid+1))
	if s.sessions.lookup(sid) == nil {
		t.Fatal("PADT for another session ID ended the session")
	}
	inject(s, ifc, frameOf(serverMAC, clientMAC, codePADT, sid))
	if s.sessions.lookup(sid) != nil {
		t.Fatal("PADT from the peer did not end the session")
	}
	if fs := l.sent(); len(fs) != 0 {
		t.Errorf("server answered a PADT with %d frames", len(fs))
	}
}

func TestPADM(t *testing.T) {
	s, l, ifc, _ := newTestServer(t, func(c *config) { c.MOTM = "hello"; c.HURL = "http://portal.example/" })
	c := offer(t, s, l, ifc, clientMAC)
	inject(s, ifc, frameOf(serverMAC, clientMAC, codePADR, 0, tag{tagACCookie, c}, tag{tagServiceName, nil}))
	fs := l.sent()
	if len(fs) != 2 {
		t.Fatalf("sent %d frames, want PADS and PADM", len(fs))
	}
	pads, padm := mustParse(t, fs[0]), mustParse(t, fs[1])
	if pads.code != codePADS || padm.code != codePADM || padm.sessionID != pads.sessionID {
		t.Fatalf("got %v then %v (sid %d, %d)", pads.code, padm.code, pads.sessionID, padm.sessionID)
	}
	if v, _ := padm.find(tagMOTM); string(v) != "hello" {
		t.Errorf("MOTM %q", v)
	}
	if v, _ := padm.find(tagHURL); string(v) != "http://portal.example/" {
		t.Errorf("HURL %q", v)
	}
}

func TestSessionIDs(t *testing.T) {
	t.Run("offset and range", func(t *testing.T) {
		s, l, ifc, _ := newTestServer(t, func(c *config) { c.MaxSessions = 3; c.SessionOffset = 100 })
		seen := map[uint16]bool{}
		for i := range 3 {
			mac := hwAddr{2, 0, 0, 0, 1, byte(i)}
			c := offer(t, s, l, ifc, mac)
			sid := request(t, s, l, ifc, mac, c, tag{tagServiceName, nil}).sessionID
			if sid < 101 || sid > 103 || seen[sid] {
				t.Fatalf("session ID %d outside 101..103 or repeated", sid)
			}
			seen[sid] = true
		}
	})
	t.Run("freed IDs are reused oldest first", func(t *testing.T) {
		tab := newSessionTable(4, 0, false)
		var ss []*session
		for i := range 4 {
			ss = append(ss, tab.create(nil, nil, hwAddr{2, byte(i)}, [cookieMACLen]byte{byte(i)}))
		}
		tab.release(ss[2])
		tab.release(ss[0])
		a := tab.create(nil, nil, clientMAC, [cookieMACLen]byte{9})
		b := tab.create(nil, nil, clientMAC, [cookieMACLen]byte{10})
		if a.id != 3 || b.id != 1 {
			t.Fatalf("reused %d then %d, want 3 then 1", a.id, b.id)
		}
		if tab.create(nil, nil, clientMAC, [cookieMACLen]byte{11}) != nil {
			t.Fatal("created a session in a full table")
		}
	})
	t.Run("random order covers every ID", func(t *testing.T) {
		tab := newSessionTable(1000, 10, true)
		seen := map[uint16]bool{}
		inOrder := true
		for i := range 1000 {
			s := tab.create(nil, nil, clientMAC, [cookieMACLen]byte{byte(i), byte(i >> 8)})
			if s.id < 11 || s.id > 1010 || seen[s.id] {
				t.Fatalf("ID %d out of range or repeated", s.id)
			}
			if s.id != uint16(11+i) {
				inOrder = false
			}
			seen[s.id] = true
		}
		if inOrder {
			t.Error("-r handed out IDs in order")
		}
	})
}

func TestMalformedFrames(t *testing.T) {
	good := padi(tag{tagServiceName, nil})
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name   string
		frame  []byte
		reason dropReason
	}{
		{"shorter than the header", good[:19], dropShortFrame},
		{"ver/type 2/1", mod(func(b []byte) []byte { b[offVerType] = 0x21; return b }), dropBadVerType},
		{"length past the frame", mod(func(b []byte) []byte { b[offLength+1] += 1; return b }), dropBadLength},
		{"payload over 1484", frameOf(broadcastAddr, clientMAC, codePADI, 0, tag{tagGenericError, make([]byte, 1481)}), dropPayloadTooLong},
		{"tag past the end", mod(func(b []byte) []byte { b[len(b)-1] = 9; return b }), dropBadTag},
		{"truncated tag header", mod(func(b []byte) []byte {
			b = append(b, 0x01)
			binary.BigEndian.PutUint16(b[offLength:], uint16(len(b)-discoveryHdrLen))
			return b
		}), dropBadTag},
		{"unknown code", frameOf(broadcastAddr, clientMAC, 0x42, 0), dropUnexpectedCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l, ifc, _ := newTestServer(t, nil)
			inject(s, ifc, tt.frame)
			if fs := l.sent(); len(fs) != 0 {
				t.Fatalf("answered a malformed frame")
			}
			if n := s.stats.drops[tt.reason].Load(); n != 1 {
				t.Errorf("drop counter %v = %d, want 1", tt.reason, n)
			}
			// The next well-formed PADI is still answered.
			inject(s, ifc, good)
			if o := onlyFrame(t, l); o.code != codePADO {
				t.Errorf("got %v after a malformed frame", o.code)
			}
		})
	}
}

func TestEthernetPaddingIgnored(t *testing.T) {
	s, l, ifc, _ := newTestServer(t, nil)
	f := padi(tag{tagServiceName, nil})
	padded := append(f, make([]byte, 60-len(f))...)
	inject(s, ifc, padded)
	if o := onlyFrame(t, l); o.code != codePADO {
		t.Fatalf("got %v", o.code)
	}
}

func TestLineIDLogged(t *testing.T) {
	val := binary.BigEndian.AppendUint32(nil, vendorBBF)
	val = append(val, bbfAgentCircuitID, 5)
	val = append(val, "eth 1"...)
	val = append(val, bbfAgentRemoteID, 3)
	val = append(val, "r42"...)
	id, ok := parseBBFVendorTag(val)
	if !ok || string(id.circuitID) != "eth 1" || string(id.remoteID) != "r42" {
		t.Fatalf("got %q %q %v", id.circuitID, id.remoteID, ok)
	}
	if _, ok := parseBBFVendorTag(append(val, 1, 9)); ok {
		t.Error("accepted a sub-option running past the tag")
	}
	if _, ok := parseBBFVendorTag([]byte{0, 0, 0, 9, 1, 0}); ok {
		t.Error("accepted another vendor's tag")
	}
}
