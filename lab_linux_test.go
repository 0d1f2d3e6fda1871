package main

// The network lab for root-only integration tests: two namespaces, one for
// pppoed and one for the clients, joined by a veth pair. Every test makes
// its own lab with unique names and removes it in t.Cleanup. No traffic
// leaves the two namespaces.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

type lab struct {
	t          *testing.T
	id         string
	srvNS      string
	cliNS      string
	srvIf      string
	cliIf      string
	srvMAC     hwAddr
	cliMAC     hwAddr
	optionsDir string
	// serverEnv is the environment of the pppoed servers it starts
	// (nil: the test's own).
	serverEnv []string
}

var (
	labServerMAC = hwAddr{0x02, 0xac, 0, 0, 0, 0x01}
	labClientMAC = hwAddr{0x02, 0xcc, 0, 0, 0, 0x02}
)

// requireRoot skips a test that needs root and the ip tool.
func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		// make test's cross-architecture pass under qemu-user runs the
		// unit tests only; the network tests run natively.
		t.Skip("-short: unit tests only")
	}
	if os.Geteuid() != 0 {
		skipf(t, "integration tests need root")
	}
	if _, err := pppoedBinary(); err != nil {
		t.Fatal(err)
	}
	requireTool(t, "ip")
}

// requireTool skips (fails under CI) when a program is not installed.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/sbin"} {
			if _, err := os.Stat(dir + "/" + name); err == nil {
				return dir + "/" + name
			}
		}
		skipf(t, "%s is not installed (make test installs it as root on Debian)", name)
	}
	return p
}

func newLab(t *testing.T) *lab {
	t.Helper()
	requireRoot(t)
	var b [3]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	l := &lab{
		t:      t,
		id:     id,
		srvNS:  "pppoed-" + id + "-s",
		cliNS:  "pppoed-" + id + "-c",
		srvIf:  "pd" + id + "s",
		cliIf:  "pd" + id + "c",
		srvMAC: labServerMAC,
		cliMAC: labClientMAC,
	}
	l.optionsDir = t.TempDir()
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", l.srvNS).Run()
		exec.Command("ip", "netns", "del", l.cliNS).Run()
	})
	l.ip("netns", "add", l.srvNS)
	l.ip("netns", "add", l.cliNS)
	l.ip("link", "add", l.srvIf, "address", l.srvMAC.String(), "netns", l.srvNS, "type", "veth",
		"peer", "name", l.cliIf, "address", l.cliMAC.String(), "netns", l.cliNS)
	l.ip("-n", l.srvNS, "link", "set", l.srvIf, "up")
	l.ip("-n", l.cliNS, "link", "set", l.cliIf, "up")
	l.ip("-n", l.srvNS, "link", "set", "lo", "up")
	l.ip("-n", l.cliNS, "link", "set", "lo", "up")
	return l
}

func (l *lab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// syncBuffer collects a process's output for concurrent reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// daemon is a running pppoed.
type daemon struct {
	t    *testing.T
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
	err  error
}

// emptyOptions returns the path of an empty pppd options file, so the host's
// /etc/ppp does not leak into a test.
func (l *lab) emptyOptions() string {
	p := l.optionsDir + "/empty-options"
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return p
}

// startServer starts pppoed on the lab's server interface and waits until
// it listens. Without an explicit -O it gets an empty options file.
func (l *lab) startServer(args ...string) *daemon {
	l.t.Helper()
	d := l.spawnServer(args...)
	d.waitLog("msg=listening", 10*time.Second)
	return d
}

func (l *lab) spawnServer(args ...string) *daemon {
	l.t.Helper()
	return l.spawnServerIn(l.srvNS, l.srvIf, args...)
}

// spawnServerIn is spawnServer in another namespace, on another interface.
func (l *lab) spawnServerIn(ns, ifname string, args ...string) *daemon {
	l.t.Helper()
	full := []string{"netns", "exec", ns, binPath, "-I", ifname, "-C", "labAC"}
	hasO, hasCtl, hasState := false, false, false
	for _, a := range args {
		hasO = hasO || a == "-O"
		hasCtl = hasCtl || a == "--ctl-socket"
		hasState = hasState || a == "--nat-state-file"
	}
	if !hasO {
		full = append(full, "-O", l.emptyOptions())
	}
	if !hasCtl {
		// Not the host's /var/run/pppoed: each daemon a socket of its own.
		full = append(full, "--ctl-socket", filepath.Join(l.t.TempDir(), "pppoed.sock"))
	}
	if !hasState {
		// Nor the host's NAT state file, which a start without --nat-out
		// reads to undo what a killed pppoed left.
		full = append(full, "--nat-state-file", filepath.Join(l.t.TempDir(), "nat.state"))
	}
	full = append(full, args...)
	d := &daemon{t: l.t, log: &syncBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command("ip", full...)
	d.cmd.Env = l.serverEnv
	d.cmd.Stdout = d.log
	d.cmd.Stderr = d.log
	if err := d.cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	l.t.Cleanup(func() {
		d.stop()
		if l.t.Failed() {
			l.t.Logf("pppoed log:\n%s", d.log.String())
		}
	})
	return d
}

var stoppedPool = regexp.MustCompile(`msg=stopped .*pool_size=(\d+) pool_free=(\d+)`)

// stop sends SIGTERM and waits for a clean exit, and checks that the pool
// is whole again.
func (d *daemon) stop() {
	d.t.Helper()
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		if d.err != nil {
			d.t.Errorf("pppoed exited with %v after SIGTERM, want status 0", d.err)
		}
		// Every run gives back every address it took.
		if m := stoppedPool.FindStringSubmatch(d.log.String()); m == nil || m[1] != m[2] {
			d.t.Errorf("pppoed stopped with %q of its pool free, want all:\n%s", m, d.log.String())
		}
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
		d.t.Errorf("pppoed did not exit within 10s of SIGTERM")
	}
}

// waitLog waits until the daemon's log contains s.
func (d *daemon) waitLog(s string, timeout time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(d.log.String(), s) {
			return
		}
		select {
		case <-d.done:
			if strings.Contains(d.log.String(), s) {
				return
			}
			d.t.Fatalf("pppoed exited (%v) before logging %q:\n%s", d.err, s, d.log.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	d.t.Fatalf("pppoed did not log %q within %v:\n%s", s, timeout, d.log.String())
}

// client runs a command in the client namespace with a time limit and
// returns its combined output.
func (l *lab) client(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.cliNS}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// inNetns runs fn on a thread that has entered the named namespace.
// Sockets fn opens stay in that namespace.
func inNetns(t *testing.T, ns string, fn func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		// The thread is not returned to the runtime's pool unlocked if
		// switching back fails, so a goroutine never runs in the wrong
		// namespace.
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			done <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		runtime.UnlockOSThread()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// openRaw opens a packet socket for one ethertype on ifname inside ns.
// It is closed when the test ends.
func (l *lab) openRaw(ns, ifname string, etherType uint16) *packetLink {
	l.t.Helper()
	var pl *packetLink
	inNetns(l.t, ns, func() {
		ifi, err := net.InterfaceByName(ifname)
		if err == nil {
			pl, err = openPacketLink(ifi, etherType)
		}
		if err != nil {
			l.t.Error(err)
		}
	})
	if pl == nil {
		l.t.FailNow()
	}
	l.t.Cleanup(func() { pl.close() })
	return pl
}

// rawClient speaks discovery by hand on the client side of the lab, with
// any source MAC, for the cases real clients will not produce.
type rawClient struct {
	t    *testing.T
	l    *lab
	link *packetLink
	rx   chan []byte
}

func (l *lab) rawClient() *rawClient {
	l.t.Helper()
	c := &rawClient{t: l.t, l: l, rx: make(chan []byte, 256)}
	c.link = l.openRaw(l.cliNS, l.cliIf, etherTypeDiscovery)
	go func() {
		for {
			b := make([]byte, frameSize)
			n, err := c.link.readFrame(b)
			if err == errVLANTagged {
				continue
			}
			if err != nil {
				close(c.rx)
				return
			}
			c.rx <- b[:n]
		}
	}()
	return c
}

func (c *rawClient) send(b []byte) {
	c.t.Helper()
	if err := c.link.writeFrame(b); err != nil {
		c.t.Fatal(err)
	}
}

// recv returns the next discovery frame addressed to mac, or nil after
// timeout.
func (c *rawClient) recv(mac hwAddr, timeout time.Duration) *discoveryPacket {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case b, ok := <-c.rx:
			if !ok {
				return nil
			}
			p := new(discoveryPacket)
			if p.parse(b) == nil && p.dst == mac && p.src == c.l.srvMAC {
				return p
			}
		case <-deadline:
			return nil
		}
	}
}

// expect is recv that fails the test on a timeout or a wrong code.
func (c *rawClient) expect(mac hwAddr, code discoveryCode) *discoveryPacket {
	c.t.Helper()
	p := c.recv(mac, 3*time.Second)
	if p == nil {
		c.t.Fatalf("no %v for %v", code, mac)
	}
	if p.code != code {
		c.t.Fatalf("got %v for %v, want %v (tags %v)", p.code, mac, code, tagsOf(p))
	}
	return p
}

// offer sends a PADI from mac and returns the PADO's cookie.
func (c *rawClient) offer(mac hwAddr, tags ...tag) []byte {
	c.t.Helper()
	c.send(frameOf(broadcastAddr, mac, codePADI, 0, append([]tag{{tagServiceName, nil}}, tags...)...))
	o := c.expect(mac, codePADO)
	ck, ok := o.find(tagACCookie)
	if !ok {
		c.t.Fatal("PADO without a cookie")
	}
	return append([]byte(nil), ck...)
}

// request sends a PADR from mac with cookie and the given Service-Name.
func (c *rawClient) request(mac hwAddr, cookie []byte, service string, tags ...tag) {
	c.send(frameOf(c.l.srvMAC, mac, codePADR, 0,
		append([]tag{{tagServiceName, []byte(service)}, {tagACCookie, cookie}}, tags...)...))
}

func (l *lab) String() string { return fmt.Sprintf("lab %s", l.id) }
