package main

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pppFrame is a decoded session-stage frame.
type pppFrame struct {
	sid   uint16
	proto uint16
	code  uint8
	id    uint8
	data  []byte
}

func parsePPPFrame(t testing.TB, b []byte) pppFrame {
	t.Helper()
	var h pppoeHeader
	if err := h.parse(b); err != nil || h.code != codeSession || len(h.payload) < 2 {
		t.Fatalf("not a session frame: %v %x", err, b)
	}
	f := pppFrame{sid: h.sessionID, proto: binary.BigEndian.Uint16(h.payload)}
	if f.proto != protoIPv4 {
		var ok bool
		if f.code, f.id, f.data, ok = parseCP(h.payload[2:]); !ok {
			t.Fatalf("bad control packet %x", h.payload)
		}
	}
	return f
}

// TestPPPGoldenFrames decodes the LCP, PAP, CHAP and IPCP frames scapy
// built and re-encodes them with our encoders: the bytes must match.
func TestPPPGoldenFrames(t *testing.T) {
	paths, _ := filepath.Glob("testdata/golden/ppp_*_scapy.hex")
	if len(paths) < 20 {
		t.Fatalf("only %d PPP golden frames", len(paths))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b := readHexFile(t, p)
			var h pppoeHeader
			if err := h.parse(b); err != nil {
				t.Fatal(err)
			}
			if h.etherType != etherTypeSession || h.code != codeSession || h.sessionID != 1 {
				t.Fatalf("ethertype %#x code %v sid %d", h.etherType, h.code, h.sessionID)
			}
			proto := binary.BigEndian.Uint16(h.payload)
			code, id, data, ok := parseCP(h.payload[2:])
			if !ok {
				t.Fatalf("control packet does not parse: %x", h.payload)
			}
			body := data
			if proto != protoPAP && proto != protoCHAP && code >= 1 && code <= 4 {
				// Configure-*: walk the options and encode them again.
				var opts []byte
				it := optIter{b: data}
				for it.next() {
					opts = appendOpt(opts, it.typ, it.val)
				}
				if it.err != nil {
					t.Fatalf("options: %v", it.err)
				}
				body = opts
			}
			enc := make([]byte, discoveryHdrLen+2, 64)
			enc = appendCP(enc, code, id, body)
			putSessionHeader(enc, hwAddr(b[0:6]), hwAddr(b[6:12]), etherTypeSession, h.sessionID, proto)
			if !bytes.Equal(enc, b) {
				t.Fatalf("re-encoding differs (-want +got)%s", hexDiff(b, enc))
			}
		})
	}
}

// pppHarness runs a server session up to the point where LCP is open,
// driven by the frames scapy built for the client side.
type pppHarness struct {
	t    testing.TB
	s    *server
	disc *fakeLink
	sl   *fakeLink
	ifc  *iface
	clk  *testClock
	sid  uint16
}

func newPPPHarness(t testing.TB, options, secrets string) *pppHarness {
	t.Helper()
	dir := t.TempDir()
	secretsPath := filepath.Join(dir, "chap-secrets")
	writeTestFile(t, secretsPath, secrets)
	s, l, ifc, clk := newTestServer(t, func(c *config) {
		c.OptionsFile = filepath.Join(dir, "options")
		writeTestFile(t, c.OptionsFile, options)
		c.CHAPSecrets = secretsPath
		c.PAPSecrets = filepath.Join(dir, "none")
		c.FirstRemoteIP = "10.0.0.2"
	})
	h := &pppHarness{t: t, s: s, disc: l, sl: ifc.sess.(*fakeLink), ifc: ifc, clk: clk}
	c := offer(t, s, l, ifc, clientMAC)
	h.sid = request(t, s, l, ifc, clientMAC, c, tag{tagServiceName, nil}).sessionID
	if h.sid != 1 {
		t.Fatalf("first session ID %d, the golden frames assume 1", h.sid)
	}
	return h
}

func writeTestFile(t testing.TB, path, body string) {
	t.Helper()
	if err := osWriteFile(path, body); err != nil {
		t.Fatal(err)
	}
}

// feed hands a golden frame to the server and returns what it sent back.
func (h *pppHarness) feed(name string) []pppFrame {
	h.t.Helper()
	return h.feedFrame(readHexFile(h.t, filepath.Join("testdata", "golden", "ppp_"+name+"_scapy.hex")))
}

func (h *pppHarness) feedFrame(b []byte) []pppFrame {
	h.t.Helper()
	h.sl.sent() // drop anything older
	inject(h.s, h.ifc, b)
	var out []pppFrame
	for _, f := range h.sl.sent() {
		out = append(out, parsePPPFrame(h.t, f))
	}
	return out
}

// tick moves the clock by d, runs the timers and returns what the server
// sent.
func (h *pppHarness) tick(d time.Duration) []pppFrame {
	h.t.Helper()
	h.sl.sent()
	h.clk.advance(d)
	h.s.onTick(h.clk.now())
	h.s.settle()
	var out []pppFrame
	for _, f := range h.sl.sent() {
		out = append(out, parsePPPFrame(h.t, f))
	}
	return out
}

// firstRequest sends the client's LCP Configure-Request, which makes the
// server send its own (it waits for the client to speak first), and
// returns the server's.
func (h *pppHarness) firstRequest() pppFrame {
	h.t.Helper()
	if fs := h.sl.sent(); len(fs) != 0 {
		h.t.Fatalf("server spoke PPP before the client did: %d frames", len(fs))
	}
	for _, p := range h.feed("lcp_confreq_client") {
		if p.proto == protoLCP && p.code == uint8(cpConfReq) {
			return p
		}
	}
	h.t.Fatal("no LCP Configure-Request from the server after the client's")
	return pppFrame{}
}

// openLCP acks the server's Configure-Request and sends the client's. It
// returns what the server sent once LCP opened.
func (h *pppHarness) openLCP() []pppFrame {
	h.t.Helper()
	req := h.firstRequest()
	ack := make([]byte, headroom, 64)
	ack = appendCP(ack, uint8(cpConfAck), req.id, req.data)
	putSessionHeader(ack, serverMAC, clientMAC, etherTypeSession, h.sid, protoLCP)
	out := h.feedFrame(ack)
	if st := h.s.sessions.lookup(h.sid).lcp.state; st != stOpened {
		h.t.Fatalf("LCP %v, want Opened", st)
	}
	return out
}

func only(t testing.TB, fs []pppFrame, proto uint16, code uint8) pppFrame {
	t.Helper()
	for _, f := range fs {
		if f.proto == proto && f.code == code {
			return f
		}
	}
	t.Fatalf("no %#04x code %d among %+v", proto, code, fs)
	return pppFrame{}
}

func TestLCPAgainstScapyFrames(t *testing.T) {
	h := newPPPHarness(t, "require-chap\n", "rp-pppoe * rp-pppoe *\n")

	rej := only(t, h.feed("lcp_confreq_with_accm_pfc_acfc"), protoLCP, uint8(cpConfRej))
	want := []byte{lcpOptACCM, 6, 0, 0, 0, 0, lcpOptPFC, 2, lcpOptACFC, 2}
	if !bytes.Equal(rej.data, want) {
		t.Fatalf("Configure-Reject %x, want ACCM, PFC and ACFC: %x", rej.data, want)
	}
	ack := only(t, h.feed("lcp_confreq_client"), protoLCP, uint8(cpConfAck))
	if !bytes.Equal(ack.data, []byte{1, 4, 0x05, 0xd4, 5, 6, 1, 2, 3, 4}) {
		t.Fatalf("Configure-Ack %x", ack.data)
	}

	h = newPPPHarness(t, "require-chap\n", "rp-pppoe * rp-pppoe *\n")
	h.openLCP()
	reply := only(t, h.feed("lcp_echoreq"), protoLCP, uint8(cpEchoReply))
	if reply.id != 7 {
		t.Errorf("Echo-Reply id %d, want 7", reply.id)
	}
	pr := only(t, h.feed("ipv6cp_confreq"), protoLCP, uint8(cpProtoRej))
	if binary.BigEndian.Uint16(pr.data) != protoIPv6CP {
		t.Errorf("Protocol-Reject names %#04x", binary.BigEndian.Uint16(pr.data))
	}
	if st := h.s.sessions.lookup(h.sid).lcp.state; st != stOpened {
		t.Fatalf("LCP %v after the Protocol-Reject, want Opened", st)
	}
	// scapy's Code-Reject rejects code 0x20, which we never send: RXJ+,
	// so nothing is answered and the link stays up.
	if fs := h.feed("lcp_coderej"); len(fs) != 0 {
		t.Errorf("answered a harmless Code-Reject with %+v", fs)
	}
	if st := h.s.sessions.lookup(h.sid).lcp.state; st != stOpened {
		t.Fatalf("LCP %v after a Code-Reject of an unused code, want Opened", st)
	}
	// An unknown LCP code gets a Code-Reject.
	unk := make([]byte, headroom, 64)
	unk = appendCP(unk, 0x42, 9, []byte("??"))
	putSessionHeader(unk, serverMAC, clientMAC, etherTypeSession, h.sid, protoLCP)
	only(t, h.feedFrame(unk), protoLCP, uint8(cpCodeRej))
}

func TestCHAPAndIPCPAgainstScapyFrames(t *testing.T) {
	h := newPPPHarness(t, seedOptions, "rp-pppoe * rp-pppoe *\n")
	h.openLCP()
	sess := h.s.sessions.lookup(h.sid)
	if sess.auth.method != authCHAP {
		t.Fatalf("auth method %v, want chap for require-pap require-chap", sess.auth.method)
	}
	// scapy's Response answers challenge 00..0f with identifier 1.
	for i := range sess.auth.challenge {
		sess.auth.challenge[i] = byte(i)
	}
	sess.auth.id = 1
	fs := h.feed("chap_response")
	only(t, fs, protoCHAP, chapSuccess)
	// IPCP: the client asks for 0.0.0.0 and name servers; the Nak must
	// carry exactly what scapy's reference Nak carries.
	nak := only(t, h.feed("ipcp_confreq_client"), protoIPCP, uint8(cpConfNak))
	ref := parsePPPFrame(t, readHexFile(t, "testdata/golden/ppp_ipcp_confnak_scapy.hex"))
	if !bytes.Equal(nak.data, ref.data) {
		t.Fatalf("IPCP Configure-Nak %x, want scapy's %x", nak.data, ref.data)
	}
}

func TestPAPAgainstScapyFrames(t *testing.T) {
	h := newPPPHarness(t, "require-pap\n", "rp-pppoe * rp-pppoe *\n")
	h.openLCP()
	ack := only(t, h.feed("pap_authreq"), protoPAP, papAuthAck)
	if !strings.Contains(string(ack.data), "Welcome") {
		t.Errorf("PAP Ack message %q", ack.data)
	}
	h = newPPPHarness(t, "require-pap\n", "rp-pppoe * other *\n")
	h.openLCP()
	if out := h.feed("pap_authreq"); len(out) != 0 {
		t.Fatalf("answered %+v before the failure delay", out)
	}
	only(t, h.tick(h.s.cfg.AuthFailDelay), protoPAP, papAuthNak)
	// Then LCP is closed: a Terminate-Request follows (sent on the same
	// tick), and the session ends with a PADT once it is acknowledged.
	if st := h.s.sessions.lookup(h.sid).lcp.state; st != stClosing {
		t.Fatalf("LCP %v after a PAP failure, want Closing", st)
	}
}

func TestIPCPRejectsVJ(t *testing.T) {
	h := newPPPHarness(t, "noauth\n", "")
	h.openLCP()
	// A client IPCP request with VJ compression, as scapy's reference
	// reject lists it.
	ref := parsePPPFrame(t, readHexFile(t, "testdata/golden/ppp_ipcp_confrej_vj_scapy.hex"))
	req := make([]byte, headroom, 64)
	req = appendCP(req, uint8(cpConfReq), ref.id, append([]byte{ipcpOptAddress, 6, 0, 0, 0, 0}, ref.data...))
	putSessionHeader(req, serverMAC, clientMAC, etherTypeSession, h.sid, protoIPCP)
	rej := only(t, h.feedFrame(req), protoIPCP, uint8(cpConfRej))
	if !bytes.Equal(rej.data, ref.data) {
		t.Fatalf("IPCP Configure-Reject %x, want %x", rej.data, ref.data)
	}
}

// The seed's require-pap require-chap: CHAP is proposed first, and a
// client that Naks towards PAP gets PAP, as pppd does. A Nak towards a
// method that is not allowed moves on to the next allowed one.
func TestAuthNegotiation(t *testing.T) {
	for _, tt := range []struct {
		name    string
		options string
		nak     authMethod
		want    authMethod
	}{
		{"nak towards PAP", "require-pap\nrequire-chap\n", authPAP, authPAP},
		{"nak towards MS-CHAPv2, not allowed", "require-pap\nrequire-chap\n", authMSCHAPv2, authPAP},
		{"all three, nak towards CHAP", "require-mschap-v2\nrequire-chap\nrequire-pap\n", authCHAP, authCHAP},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newPPPHarness(t, tt.options, "u * p *\n")
			req := h.firstRequest()
			first := h.s.sessions.lookup(h.sid).lcpL.auth
			strongest := authMethodsFrom(h.s.cfg.opts)[0]
			if first != strongest {
				t.Fatalf("proposed %v first, want %v", first, strongest)
			}
			nak := make([]byte, headroom, 64)
			nak = appendCP(nak, uint8(cpConfNak), req.id, tt.nak.appendOpt(nil))
			putSessionHeader(nak, serverMAC, clientMAC, etherTypeSession, h.sid, protoLCP)
			out := h.feedFrame(nak)
			next := only(t, out, protoLCP, uint8(cpConfReq))
			it := optIter{b: next.data}
			got := authNone
			for it.next() {
				if it.typ == lcpOptAuth {
					got = parseAuthOpt(it.val)
				}
			}
			if got != tt.want {
				t.Fatalf("after a Nak towards %v the server asks for %v, want %v", tt.nak, got, tt.want)
			}
		})
	}
}
