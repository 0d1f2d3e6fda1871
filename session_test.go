package main

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakePath is a data path that forwards nothing: it records what the
// sessions ask of it, and a test sets what it reports.
type fakePath struct {
	opened map[uint16]*fakeSessionPath
}

func (p *fakePath) mode() string                { return "fake" }
func (p *fakePath) start(*server)               {}
func (p *fakePath) forward(*iface, []byte) bool { return false }
func (p *fakePath) tick(time.Time)              {}
func (p *fakePath) close() error                { return nil }
func (p *fakePath) open(s *session) (sessionPath, error) {
	fs := &fakeSessionPath{}
	p.opened[s.id] = fs
	return fs, nil
}

type fakeSessionPath struct {
	out            []pppFrame // control packets the server sent, decoded
	ctr            trafficCounts
	rx, tx         time.Time
	isUp           bool
	ups, downs     int
	enters, closes int
	local, peer    netip.Addr
	rate           rateLimit
	isUp6          bool
	ipv6           [][]byte // IPv6 packets the server sent
	prefix6        netip.Prefix
	delegated      netip.Prefix
}

func (f *fakeSessionPath) sendControl(proto uint16, b []byte) error {
	if proto == protoIPv6 {
		f.ipv6 = append(f.ipv6, bytes.Clone(b[headroom:]))
		return nil
	}
	code, id, data, ok := parseCP(b[headroom:])
	if !ok {
		return nil
	}
	f.out = append(f.out, pppFrame{proto: proto, code: code, id: id, data: bytes.Clone(data)})
	return nil
}
func (f *fakeSessionPath) enterNetwork(int) error { f.enters++; return nil }
func (f *fakeSessionPath) setRate(r rateLimit)    { f.rate = r }
func (f *fakeSessionPath) up(local, peer netip.Addr, _ int) error {
	f.isUp, f.local, f.peer = true, local, peer
	f.ups++
	return nil
}
func (f *fakeSessionPath) down() {
	if f.isUp {
		f.isUp = false
		f.downs++
	}
}
func (f *fakeSessionPath) up6(local, peer [ifaceIDLen]byte, prefix netip.Prefix, _ int) error {
	f.isUp6, f.prefix6 = true, prefix
	return nil
}
func (f *fakeSessionPath) route6(p netip.Prefix) error  { f.delegated = p; return nil }
func (f *fakeSessionPath) down6()                       { f.isUp6, f.delegated = false, netip.Prefix{} }
func (f *fakeSessionPath) ifname() string               { return "fake0" }
func (f *fakeSessionPath) counters() trafficCounts      { return f.ctr }
func (f *fakeSessionPath) lastData() (rx, tx time.Time) { return f.rx, f.tx }
func (f *fakeSessionPath) close() error                 { f.closes++; return nil }

// takeOut returns and forgets what the server sent.
func (f *fakeSessionPath) takeOut() []pppFrame {
	out := f.out
	f.out = nil
	return out
}

// heldAuth is an authenticator that keeps every request until the test
// answers it.
type heldAuth struct {
	reqs    []*authRequest
	answers []func(*authRequest, authResult)
}

func (a *heldAuth) authenticate(req *authRequest, answer func(*authRequest, authResult)) {
	a.reqs = append(a.reqs, req)
	a.answers = append(a.answers, answer)
}

// answer answers request i, from another goroutine as a network
// authenticator would.
func (a *heldAuth) answer(i int, res authResult) {
	done := make(chan struct{})
	go func() { a.answers[i](a.reqs[i], res); close(done) }()
	<-done
}

// fakeHarness is a server over a fakePath with one session, driven by
// hand as its peer.
type fakeHarness struct {
	t    testing.TB
	s    *server
	l    *fakeLink
	ifc  *iface
	clk  *testClock
	path *fakePath
	log  *bytes.Buffer
	sid  uint16
	fs   *fakeSessionPath
}

func newFakeHarness(t testing.TB, options string, auth authenticator, mutate func(*config)) *fakeHarness {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(t, func(c *config) {
		c.OptionsFile = filepath.Join(dir, "options")
		writeTestFile(t, c.OptionsFile, options)
		c.CHAPSecrets = filepath.Join(dir, "chap-secrets")
		c.PAPSecrets = filepath.Join(dir, "none")
		writeTestFile(t, c.CHAPSecrets, "alice * pw *\n")
		if mutate != nil {
			mutate(c)
		}
	})
	h := &fakeHarness{t: t, l: newFakeLink(), path: &fakePath{opened: map[uint16]*fakeSessionPath{}}, log: &bytes.Buffer{}}
	h.ifc = &iface{name: "veth0", mac: serverMAC, mtu: 1500, disc: h.l}
	h.clk = &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	log := newTextLogger(levelDebug, h.log)
	h.s = newServer(cfg, log, []*iface{h.ifc}, h.path, auth, h.clk.now)
	h.dial()
	return h
}

// dial opens a new session from clientMAC.
func (h *fakeHarness) dial() {
	h.t.Helper()
	c := offer(h.t, h.s, h.l, h.ifc, clientMAC)
	h.sid = request(h.t, h.s, h.l, h.ifc, clientMAC, c, tag{tagServiceName, nil}).sessionID
	h.fs = h.path.opened[h.sid]
}

func (h *fakeHarness) sess() *session { return h.s.sessions.lookup(h.sid) }

// feed hands the server one control packet from the peer and returns what
// it sent in answer.
func (h *fakeHarness) feed(proto uint16, code, id uint8, data []byte) []pppFrame {
	h.t.Helper()
	sess := h.sess()
	if sess == nil {
		h.t.Fatal("the session is gone")
	}
	h.s.clock = h.clk.now()
	h.s.handlePPP(sess, proto, appendCP(nil, code, id, data))
	h.s.settle()
	return h.fs.takeOut()
}

// settle lets queued events (authenticator answers) through.
func (h *fakeHarness) settle() []pppFrame {
	h.s.settle()
	return h.fs.takeOut()
}

// tick moves the clock by d and runs the timers.
func (h *fakeHarness) tick(d time.Duration) []pppFrame {
	h.clk.advance(d)
	h.s.onTick(h.clk.now())
	h.s.settle()
	return h.fs.takeOut()
}

// openLCP runs LCP to Opened: the peer asks for nothing and acks what the
// server asks. It returns what the server sent once LCP opened.
func (h *fakeHarness) openLCP() []pppFrame {
	h.t.Helper()
	var req *pppFrame
	for _, f := range h.feed(protoLCP, uint8(cpConfReq), 1, nil) {
		if f.proto == protoLCP && f.code == uint8(cpConfReq) {
			req = &f
		}
	}
	if req == nil {
		h.t.Fatal("no LCP Configure-Request from the server")
	}
	out := h.feed(protoLCP, uint8(cpConfAck), req.id, req.data)
	if h.sess().lcp.state != stOpened {
		h.t.Fatalf("LCP %v", h.sess().lcp.state)
	}
	return out
}

// openIPCP answers the server's IPCP request and asks for its address.
func (h *fakeHarness) openIPCP(out []pppFrame) {
	h.t.Helper()
	var req *pppFrame
	for _, f := range out {
		if f.proto == protoIPCP && f.code == uint8(cpConfReq) {
			req = &f
		}
	}
	if req == nil {
		h.t.Fatalf("no IPCP Configure-Request among %+v", out)
	}
	h.feed(protoIPCP, uint8(cpConfAck), req.id, req.data)
	addr := h.sess().ipcpL.peer.As4()
	h.feed(protoIPCP, uint8(cpConfReq), 1, append([]byte{ipcpOptAddress, 6}, addr[:]...))
	if !h.fs.isUp {
		h.t.Fatal("IPCP did not bring the data path up")
	}
}

func find(fs []pppFrame, proto uint16, code uint8) *pppFrame {
	for i := range fs {
		if fs[i].proto == proto && fs[i].code == code {
			return &fs[i]
		}
	}
	return nil
}

// TestIdleIsDataIdleness: -T ends a session after that long without data,
// whatever the keepalive does, and data keeps it up.
func TestIdleIsDataIdleness(t *testing.T) {
	const opts = "noauth\nlcp-echo-interval 1\nlcp-echo-failure 5\n"
	run := func(t *testing.T, data bool) (ended time.Duration, reason string) {
		h := newFakeHarness(t, opts, nil, func(c *config) { c.IdleTimeout = 3 * time.Second })
		h.openIPCP(h.openLCP())
		start := h.clk.now()
		for i := 0; i < 40; i++ {
			if data {
				h.fs.rx = h.clk.now()
			}
			for _, f := range h.tick(tickEvery) {
				if f.proto == protoLCP && f.code == uint8(cpEchoReq) {
					// A live peer answers every echo.
					h.feed(protoLCP, uint8(cpEchoReply), f.id, make([]byte, 4))
				}
				if f.proto == protoLCP && f.code == uint8(cpTermReq) {
					return h.clk.now().Sub(start), h.sess().closeReason
				}
			}
		}
		return 0, ""
	}
	if d, why := run(t, false); why != "idle timeout" || d < 3*time.Second || d > 3*time.Second+tickEvery {
		t.Errorf("without data: closed after %v for %q, want idle timeout after 3s, LCP echoes answered all along", d, why)
	}
	if d, why := run(t, true); why != "" {
		t.Errorf("with data: closed after %v for %q, want it up", d, why)
	}
}

// TestIdleFromOptionsFile: the options file's idle does what -T does.
func TestIdleFromOptionsFile(t *testing.T) {
	h := newFakeHarness(t, "noauth\nidle 2\n", nil, nil)
	if h.s.ppp.idle != 2*time.Second {
		t.Fatalf("idle %v, want 2s", h.s.ppp.idle)
	}
	h.openIPCP(h.openLCP())
	if find(h.tick(2*time.Second), protoLCP, uint8(cpTermReq)) == nil || h.sess().closeReason != "idle timeout" {
		t.Fatal("no idle timeout after the options file's idle 2")
	}
}

// TestAuthAnsweredLate: the authenticator's answer can come much later,
// from another goroutine; the peer's retransmissions meanwhile are not
// asked again, and what the answer carries is what the session uses.
func TestAuthAnsweredLate(t *testing.T) {
	auth := &heldAuth{}
	h := newFakeHarness(t, "require-pap\n", auth, nil)
	h.openLCP()
	papReq := append([]byte{5}, "alice"...)
	papReq = append(append(papReq, 2), "pw"...)
	if out := h.feed(protoPAP, papAuthReq, 7, papReq); len(out) != 0 {
		t.Fatalf("answered %+v before the authenticator did", out)
	}
	h.tick(5 * time.Second)
	h.feed(protoPAP, papAuthReq, 8, papReq) // the peer retransmits
	if len(auth.reqs) != 1 {
		t.Fatalf("%d requests to the authenticator, want 1", len(auth.reqs))
	}
	if r := auth.reqs[0]; r.user != "alice" || string(r.password) != "pw" || r.method != authPAP || r.peer != clientMAC {
		t.Fatalf("request %+v", r)
	}
	fixed := netip.MustParseAddr("10.0.0.9")
	auth.answer(0, authResult{ok: true, addr: fixed, sessionTimeout: time.Minute, idleTimeout: 7 * time.Second, message: "hi"})
	out := h.settle()
	ack := find(out, protoPAP, papAuthAck)
	if ack == nil || ack.id != 7 || !strings.Contains(string(ack.data), "hi") {
		t.Fatalf("no Authenticate-Ack for request 7 with the answer's message among %+v", out)
	}
	h.openIPCP(out)
	sess := h.sess()
	if h.fs.peer != fixed || sess.idleLimit() != 7*time.Second || sess.sessionEnd != h.clk.now().Add(time.Minute) {
		t.Fatalf("peer %v idle %v session end %v: not what the answer said", h.fs.peer, sess.idleLimit(), sess.sessionEnd)
	}
	if find(h.tick(time.Minute), protoLCP, uint8(cpTermReq)) == nil || sess.closeReason != "session timeout" {
		t.Fatalf("the answer's session timeout did not end the session (%q)", sess.closeReason)
	}
}

// TestAuthAnsweredAfterEnd: an answer for a session that ended is dropped,
// also when a new session took the same slot meanwhile.
func TestAuthAnsweredAfterEnd(t *testing.T) {
	auth := &heldAuth{}
	h := newFakeHarness(t, "require-pap\n", auth, func(c *config) { c.MaxSessions = 1 })
	h.openLCP()
	papReq := append(append(append([]byte{5}, "alice"...), 2), "pw"...)
	h.feed(protoPAP, papAuthReq, 1, papReq)
	old := h.sid
	inject(h.s, h.ifc, frameOf(serverMAC, clientMAC, codePADT, old))
	if h.s.sessions.lookup(old) != nil {
		t.Fatal("PADT did not end the session")
	}
	h.l.sent()
	h.dial() // the only slot again
	if h.sid != old {
		t.Fatalf("new session %d, want the same slot %d", h.sid, old)
	}
	h.openLCP()
	auth.answer(0, authResult{ok: true})
	if out := h.settle(); len(out) != 0 || h.sess().auth.done {
		t.Fatalf("a stale answer reached the new session: %+v", out)
	}
	h.feed(protoPAP, papAuthReq, 2, papReq)
	auth.answer(1, authResult{ok: false, reason: "wrong password", message: "no"})
	h.settle() // the Nak waits for the failure delay
	if nak := find(h.tick(h.s.cfg.AuthFailDelay), protoPAP, papAuthNak); nak == nil {
		t.Fatal("no Nak for the new session's own answer")
	}
}

// TestAuthNeverAnswered: an authenticator that never answers is covered by
// the auth timeout.
func TestAuthNeverAnswered(t *testing.T) {
	auth := &heldAuth{}
	h := newFakeHarness(t, "require-pap\n", auth, func(c *config) { c.AuthTimeout = 5 * time.Second })
	h.openLCP()
	h.feed(protoPAP, papAuthReq, 1, append(append(append([]byte{5}, "alice"...), 2), "pw"...))
	var out []pppFrame
	for range 25 {
		out = append(out, h.tick(tickEvery)...)
	}
	if find(out, protoLCP, uint8(cpTermReq)) == nil || !strings.Contains(h.sess().closeReason, "timed out") {
		t.Fatalf("no end after the auth timeout: %q", h.sess().closeReason)
	}
}

// TestRenegotiationHoldsOneAddress: a peer that renegotiates LCP goes
// through authentication and the network phase again; the session then
// holds one address and one data-path entry, not two, and gives back
// exactly what it took when it ends.
func TestRenegotiationHoldsOneAddress(t *testing.T) {
	h := newFakeHarness(t, "noauth\n", nil, nil)
	pool := h.s.pool
	h.openIPCP(h.openLCP())
	if pool.available() != pool.size()-1 {
		t.Fatalf("pool free %d of %d after one session came up", pool.available(), pool.size())
	}
	for round := range 3 {
		// A Configure-Request in Opened: This-Layer-Down, then LCP
		// negotiates again (RFC 1661 §4.1, RCR in state 9).
		out := h.feed(protoLCP, uint8(cpConfReq), uint8(10+round), nil)
		if h.fs.isUp || pool.available() != pool.size() {
			t.Fatalf("round %d: LCP went down but the data path is up (%v) or the address held (free %d)", round, h.fs.isUp, pool.available())
		}
		req := find(out, protoLCP, uint8(cpConfReq))
		if req == nil {
			t.Fatalf("round %d: no new LCP request", round)
		}
		h.openIPCP(h.feed(protoLCP, uint8(cpConfAck), req.id, req.data))
		if pool.available() != pool.size()-1 || h.fs.ups != round+2 || h.fs.enters != round+2 {
			t.Fatalf("round %d: pool free %d of %d, %d ups: a second pass took more", round, pool.available(), pool.size(), h.fs.ups)
		}
	}
	inject(h.s, h.ifc, frameOf(serverMAC, clientMAC, codePADT, h.sid))
	if pool.available() != pool.size() || h.fs.isUp || h.fs.closes != 1 {
		t.Fatalf("after the end: pool free %d of %d, up %v, closed %d times", pool.available(), pool.size(), h.fs.isUp, h.fs.closes)
	}
	if n := strings.Count(h.log.String(), "msg=\"session up\""); n != 4 {
		t.Errorf("%d session up lines, want 4", n)
	}
	if strings.Contains(h.log.String(), "user=alice user=alice") {
		t.Error("a user attribute repeated in the log")
	}
}

// TestEndLogsAccounting: the session's last line has who, where, how long,
// how much and why, as pppd's "Sent N bytes, received M bytes" and
// "Connect time".
func TestEndLogsAccounting(t *testing.T) {
	h := newFakeHarness(t, "require-pap\n", nil, nil)
	h.openLCP()
	out := h.feed(protoPAP, papAuthReq, 1, append(append(append([]byte{5}, "alice"...), 2), "pw"...))
	h.openIPCP(out)
	h.fs.ctr = trafficCounts{rxBytes: 123456, rxPackets: 789, txBytes: 9876543, txPackets: 4321}
	h.clk.advance(90 * time.Second)
	inject(h.s, h.ifc, frameOf(serverMAC, clientMAC, codePADT, h.sid))
	var line string
	for _, l := range strings.Split(h.log.String(), "\n") {
		if strings.Contains(l, `msg="session ended"`) {
			line = l
		}
	}
	for _, want := range []string{"user=alice", "mac=" + clientMAC.String(), "sid=" + strconv.Itoa(int(h.sid)), "ip=10.0.0.2",
		"duration=1m30s", "rx_bytes=123456", "rx_packets=789", "tx_bytes=9876543", "tx_packets=4321", `reason="peer sent PADT"`} {
		if !strings.Contains(line, want) {
			t.Errorf("end line lacks %s: %s", want, line)
		}
	}
}

// TestReload: a reload reads the options and secrets files again, keeps
// the session up, logs what changed, and refuses a broken file with one
// line, keeping the old one.
func TestReload(t *testing.T) {
	h := newFakeHarness(t, "require-pap\nlcp-echo-interval 10\n", nil, nil)
	h.openLCP()
	h.feed(protoPAP, papAuthReq, 1, append(append(append([]byte{5}, "alice"...), 2), "pw"...))
	before := h.sess()
	cfg := h.s.cfg
	writeTestFile(t, cfg.OptionsFile, "require-pap\nlcp-echo-interval 20\nms-dns 10.9.9.9\n")
	writeTestFile(t, cfg.CHAPSecrets, "alice * pw *\nbob * pw2 *\n")
	h.s.events.post(reloadRequest{})
	h.settle()
	if h.s.ppp.opts.echoInterval != 20*time.Second || h.sess() != before || before.ending {
		t.Fatalf("echo interval %v, session kept %v", h.s.ppp.opts.echoInterval, h.sess() == before && !before.ending)
	}
	log := h.log.String()
	for _, want := range []string{"msg=reloaded", "lcp-echo-interval 10s -> 20s", "ms-dns [] -> [10.9.9.9]", "2 entries, was 1", "complete=true"} {
		if !strings.Contains(log, want) {
			t.Errorf("the reload line lacks %q:\n%s", want, log)
		}
	}

	h.log.Reset()
	writeTestFile(t, cfg.OptionsFile, "require-pap\nlcp-echo-interval\n")
	writeTestFile(t, cfg.CHAPSecrets, "alice * \"unterminated\n")
	h.s.events.post(reloadRequest{})
	h.settle()
	if h.s.ppp.opts.echoInterval != 20*time.Second {
		t.Fatalf("a broken options file was taken: echo interval %v", h.s.ppp.opts.echoInterval)
	}
	log = h.log.String()
	if !strings.Contains(log, "options file refused") || !strings.Contains(log, "secrets refused") || !strings.Contains(log, "complete=false") {
		t.Fatalf("no refusal lines:\n%s", log)
	}
	// The secrets read before still let bob in.
	res := h.s.auth.(*secretsAuthenticator).check(&authRequest{method: authPAP, user: "bob", password: []byte("pw2")})
	if !res.ok {
		t.Fatalf("bob refused after a broken reload: %+v", res)
	}
}

// TestAuthFailureSkippedLine: a login whose secrets line was skipped is
// logged as that, with the file and line, not as an unknown user; and a
// reload that would bring in a file with a skipped line is refused whole,
// keeping the entries read at start.
func TestAuthFailureSkippedLine(t *testing.T) {
	h := newFakeHarness(t, "require-pap\n", nil, func(c *config) {
		writeTestFile(t, c.CHAPSecrets, "alice * pw 10.0.0.300\nbob * pw2 *\n")
	})
	h.openLCP()
	h.feed(protoPAP, papAuthReq, 1, append(append(append([]byte{5}, "alice"...), 2), "pw"...))
	log := h.log.String()
	want := `user=alice method=pap reason="entry skipped: ` + h.s.cfg.CHAPSecrets + `:1: word 4: pppoe: bad address rule`
	if !strings.Contains(log, `msg="authentication failed"`) || !strings.Contains(log, want) || strings.Contains(log, "unknown user") {
		t.Fatalf("want %s in the log:\n%s", want, log)
	}

	writeTestFile(t, h.s.cfg.CHAPSecrets, "alice * pw 10.0.0.300\nbob * pw2 *\ncarol * pw3 *\n")
	h.s.events.post(reloadRequest{})
	h.settle()
	a := h.s.auth.(*secretsAuthenticator)
	if res := a.check(&authRequest{method: authPAP, user: "carol", password: []byte("pw3")}); res.ok {
		t.Errorf("a reload took a file with a skipped line")
	}
	if res := a.check(&authRequest{method: authPAP, user: "bob", password: []byte("pw2")}); !res.ok {
		t.Errorf("bob, read at start, refused after a refused reload: %+v", res)
	}
	if !strings.Contains(h.log.String(), "secrets refused") {
		t.Errorf("no refusal logged:\n%s", h.log.String())
	}
}

// TestRefusedPADRLogLimited: a client replaying a PADR that is refused is
// counted every time and logged at most once a second.
func TestRefusedPADRLogLimited(t *testing.T) {
	h := newFakeHarness(t, "noauth\n", nil, func(c *config) { c.MaxSessions = 1 }) // and it is taken
	c := offer(t, h.s, h.l, h.ifc, otherMAC)
	for range 100 {
		inject(h.s, h.ifc, frameOf(serverMAC, otherMAC, codePADR, 0, tag{tagACCookie, c}, tag{tagServiceName, nil}))
	}
	if n := h.s.stats.c[statRefused].Load(); n != 100 {
		t.Fatalf("%d refusals counted, want 100", n)
	}
	if n := strings.Count(h.log.String(), "session refused"); n != 1 {
		t.Fatalf("%d log lines for 100 refusals within a second, want 1", n)
	}
}
