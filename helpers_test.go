package main

import (
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// skipf skips a test whose prerequisite is missing. Under CI=true a missing
// prerequisite is a failure: CI must run everything.
func skipf(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true, so not skipping: "+format, args...)
	}
	t.Skipf(format, args...)
}

// fakeLink is a link whose frames are channels: the test writes what the
// server reads into in, and reads what the server writes from out.
type fakeLink struct {
	in   chan []byte
	out  chan []byte
	done chan struct{}
	once sync.Once
}

func newFakeLink() *fakeLink {
	return &fakeLink{in: make(chan []byte, 64), out: make(chan []byte, 1024), done: make(chan struct{})}
}

func (l *fakeLink) readFrame(b []byte) (int, error) {
	select {
	case f := <-l.in:
		return copy(b, f), nil
	case <-l.done:
		return 0, net.ErrClosed
	}
}

func (l *fakeLink) writeFrame(b []byte) error {
	select {
	case l.out <- append([]byte(nil), b...):
		return nil
	default:
		return errors.New("fake link: out queue full")
	}
}

func (l *fakeLink) newWriter() frameWriter { return l }

func (l *fakeLink) close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// sent returns the frames the server has written so far.
func (l *fakeLink) sent() [][]byte {
	var fs [][]byte
	for {
		select {
		case f := <-l.out:
			fs = append(fs, f)
		default:
			return fs
		}
	}
}

// testClock is a settable clock for the loop's now func.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time          { return c.t }
func (c *testClock) advance(d time.Duration) { c.t = c.t.Add(d) }

var (
	serverMAC = hwAddr{0x02, 0, 0, 0, 0, 0x01}
	clientMAC = hwAddr{0x02, 0, 0, 0, 0, 0x02}
	otherMAC  = hwAddr{0x02, 0, 0, 0, 0, 0x03}
)

// macN is the i-th of a series of client MACs.
func macN(i int) hwAddr { return hwAddr{0x02, 0xcc, 0, 0, byte(i >> 8), byte(i)} }

// testConfig is a validated config for in-process tests, with an empty
// options file so the host's /etc/ppp does not leak in.
func testConfig(t testing.TB, mutate func(*config)) *config {
	t.Helper()
	cfg := defaultConfig()
	cfg.Interfaces = []string{"veth0"}
	cfg.ACName = "testAC"
	cfg.FirstRemoteIP = "10.0.0.2"
	opts := filepath.Join(t.TempDir(), "options")
	if err := os.WriteFile(opts, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.OptionsFile = opts
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return cfg
}

func testLogger(t testing.TB) *logger {
	if testing.Verbose() {
		return newTextLogger(levelDebug, os.Stderr)
	}
	return newTextLogger(levelDebug, io.Discard)
}

// newTestServer builds a server on one fake interface, driven directly
// through its handlers (no goroutines) with a test clock.
func newTestServer(t testing.TB, mutate func(*config)) (*server, *fakeLink, *iface, *testClock) {
	t.Helper()
	cfg := testConfig(t, mutate)
	l := newFakeLink()
	ifc := &iface{name: "veth0", mac: serverMAC, mtu: 1500, disc: l, sess: newFakeLink()}
	clk := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newServer(cfg, testLogger(t), []*iface{ifc}, newTUNPath(cfg, newFakeTUN(), "pppoed0"), nil, clk.now)
	// What tunPath.start does, without the TUN reader: these tests call
	// the data path's functions themselves.
	tp := s.path.(*tunPath)
	tp.stats, tp.log = &s.stats, s.log
	ifc.dataW = ifc.sess.newWriter()
	return s, l, ifc, clk
}

// inject hands b to the server as if a reader had posted it, on the
// discovery or the session socket by its ethertype, and lets the loop
// settle, as runLoop does after each frame.
func inject(s *server, ifc *iface, b []byte) {
	kind := rxDiscovery
	if len(b) >= ethHdrLen && uint16(b[12])<<8|uint16(b[13]) == s.cfg.sessionType {
		kind = rxSession
	}
	s.handleFrame(rxFrame{ifc: ifc, kind: kind}, b)
	s.settle()
}

// fakeTUN is a TUN device whose packets are channels: in holds what the
// kernel would hand us, out what we wrote to it.
type fakeTUN struct {
	in   chan []byte
	out  chan []byte
	done chan struct{}
	once sync.Once
}

func newFakeTUN() *fakeTUN {
	return &fakeTUN{in: make(chan []byte, 64), out: make(chan []byte, 1024), done: make(chan struct{})}
}

func (t *fakeTUN) readPacket(b []byte) (int, error) {
	select {
	case p := <-t.in:
		return copy(b, p), nil
	case <-t.done:
		return 0, net.ErrClosed
	}
}

func (t *fakeTUN) writePacket(b []byte) error {
	select {
	case t.out <- append([]byte(nil), b...):
		return nil
	default:
		return errors.New("fake tun: out queue full")
	}
}

func (t *fakeTUN) close() error {
	t.once.Do(func() { close(t.done) })
	return nil
}

// frameOf builds a discovery frame with our encoder.
func frameOf(dst, src hwAddr, code discoveryCode, sid uint16, tags ...tag) []byte {
	var p discoveryPacket
	p.reset(dst, src, code, sid)
	for _, t := range tags {
		p.add(t.typ, t.val)
	}
	return p.appendTo(nil)
}

func mustParse(t testing.TB, b []byte) *discoveryPacket {
	t.Helper()
	p := new(discoveryPacket)
	if err := p.parse(b); err != nil {
		t.Fatalf("parse %x: %v", b, err)
	}
	return p
}

// onlyFrame asserts that exactly one frame was sent and decodes it.
func onlyFrame(t testing.TB, l *fakeLink) *discoveryPacket {
	t.Helper()
	fs := l.sent()
	if len(fs) != 1 {
		t.Fatalf("server sent %d frames, want 1", len(fs))
	}
	return mustParse(t, fs[0])
}

// readHexFile reads a testdata hex file: # comments, hex bytes with any
// white space between them.
func readHexFile(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// hexDiff renders two frames for a failure message.
func hexDiff(want, got []byte) string {
	return "\nwant:\n" + hex.Dump(want) + "got:\n" + hex.Dump(got)
}

func osWriteFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o600) }
