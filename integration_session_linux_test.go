package main

// Integration tests of the session-centred core in TUN mode, against
// pppoed client in the lab: exact traffic counters, data idleness, and a
// SIGHUP reload that keeps the sessions up. Kernel mode runs the same
// checks in the VM (test/vm/scenarios/kernel-mode.sh).

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

var endLine = regexp.MustCompile(`msg="session ended".*reason="?([^"]*?)"? user=(\S*) duration=(\S+) rx_bytes=(\d+) rx_packets=(\d+) tx_bytes=(\d+) tx_packets=(\d+)`)

// endedLine waits for the server's session-ended line and returns its
// submatches: reason, user, duration, rx_bytes, rx_packets, tx_bytes,
// tx_packets.
func endedLine(t *testing.T, srv *daemon, timeout time.Duration) []string {
	t.Helper()
	srv.waitLog(`msg="session ended"`, timeout)
	m := endLine.FindStringSubmatch(srv.log.String())
	if m == nil {
		t.Fatalf("the session-ended line does not parse:\n%s", srv.log.String())
	}
	return m[1:]
}

// TestIntegrationCountersTUN pushes a known number of bytes through a
// session each way and compares the accounting of the end line.
func TestIntegrationCountersTUN(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	srv := l.startServer(append(l.pppFiles("require-chap\nlcp-echo-interval 30\n", "alice * pw *\n"), "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4")...)
	c := l.startClient("-u", "alice", "-p", "pw", "--tun")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	// 10 echo requests of 1000 bytes of IP each way (972 + 8 + 20).
	const n, size = 10, 1000
	if out, err := exec.Command("ip", "netns", "exec", l.cliNS, "ping", "-c", strconv.Itoa(n), "-i", "0.05", "-W", "2",
		"-s", strconv.Itoa(size-28), "10.0.0.1").CombinedOutput(); err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	m := endedLine(t, srv, 5*time.Second)
	want := []string{"peer sent PADT", "alice", m[2], fmt.Sprint(n * size), fmt.Sprint(n), fmt.Sprint(n * size), fmt.Sprint(n)}
	for i := range want {
		if m[i] != want[i] {
			t.Fatalf("end line: reason, user, duration, rx bytes/packets, tx bytes/packets = %q, want %q", m, want)
		}
	}
}

// TestIntegrationIdleTUN: -T ends a session after that long without data,
// even while it answers every LCP echo; data keeps it up.
func TestIntegrationIdleTUN(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	srv := l.startServer(append(l.pppFiles("require-chap\nlcp-echo-interval 1\nlcp-echo-failure 10\n", "alice * pw *\n"),
		"-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4", "-T", "3")...)
	c := l.startClient("-u", "alice", "-p", "pw", "--tun")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	// 5 s of data, longer than -T: the session stays.
	if out, err := exec.Command("ip", "netns", "exec", l.cliNS, "ping", "-c", "25", "-i", "0.2", "-W", "2", "10.0.0.1").CombinedOutput(); err != nil {
		t.Fatalf("ping while busy: %v\n%s", err, out)
	}
	select {
	case <-c.done:
		t.Fatalf("the client ended while data flowed:\n%s", c.log.String())
	default:
	}
	// Then silence, with LCP echoes going both ways every second.
	start := time.Now()
	m := endedLine(t, srv, 10*time.Second)
	if took := time.Since(start); m[0] != "idle timeout" || took < 2*time.Second || took > 5*time.Second {
		t.Fatalf("ended for %q after %v of silence, want idle timeout after about 3s", m[0], took)
	}
	c.waitLog("session 0 down", 5*time.Second)
}

// TestIntegrationSIGHUP: SIGHUP re-reads the options and secrets files and
// keeps every session up; a broken file is refused and the old one kept.
func TestIntegrationSIGHUP(t *testing.T) {
	l := newLab(t)
	args := l.pppFiles("require-chap\nlcp-echo-interval 10\n", "alice * pw *\n")
	opts, secrets := args[1], args[3]
	srv := l.startServer(append(args, "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4")...)
	c := l.startClient("-u", "alice", "-p", "pw")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)

	writeTestFile(t, opts, "require-chap\nlcp-echo-interval 5\n")
	writeTestFile(t, secrets, "alice * pw *\nbob * pw2 *\n")
	srv.cmd.Process.Signal(syscall.SIGHUP)
	srv.waitLog("msg=reloaded", 5*time.Second)
	srv.waitLog("lcp-echo-interval 10s -> 5s", time.Second)
	// bob, new in the file, gets in; alice is still up.
	c2 := l.startClient("-u", "bob", "-p", "pw2", "-n", "1")
	c2.waitLog("summary: 1 of 1 sessions up", 10*time.Second)

	writeTestFile(t, secrets, "alice * \"broken\n")
	srv.cmd.Process.Signal(syscall.SIGHUP)
	srv.waitLog("secrets refused", 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	for _, d := range []*daemon{srv, c, c2} {
		select {
		case <-d.done:
			t.Fatalf("a process ended on SIGHUP:\n%s", d.log.String())
		default:
		}
	}
	if n := regexp.MustCompile(`msg="session ended"`).FindAllString(srv.log.String(), -1); len(n) != 0 {
		t.Fatalf("%d sessions ended on SIGHUP:\n%s", len(n), srv.log.String())
	}
}
