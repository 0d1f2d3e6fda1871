package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// recreateVeth deletes the lab's veth pair and, unless forGood, creates it
// again: same names and MACs, new indexes, as netifd rebuilding a bridge
// or a USB NIC plugged in again.
func (l *lab) recreateVeth(forGood bool) {
	l.t.Helper()
	l.ip("-n", l.srvNS, "link", "del", l.srvIf)
	if forGood {
		return
	}
	// A moment without it, as a replug has.
	time.Sleep(300 * time.Millisecond)
	l.ip("link", "add", l.srvIf, "address", l.srvMAC.String(), "netns", l.srvNS, "type", "veth",
		"peer", "name", l.cliIf, "address", l.cliMAC.String(), "netns", l.cliNS)
	l.ip("-n", l.srvNS, "link", "set", l.srvIf, "up")
	l.ip("-n", l.cliNS, "link", "set", l.cliIf, "up")
}

// The served interface deleted and created again: the session on it ends
// with a log line, and a client is served on the new interface.
func TestIntegrationIfaceRecreated(t *testing.T) {
	l := newLab(t)
	srv := l.startServer(append(l.pppFiles("require-pap\n", "alice * pw *\n"), "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "8", "-d")...)
	cl := l.startClient("-u", "alice", "-p", "pw", "--auth", "pap")
	cl.waitLog("summary: 1 of 1 sessions up", 15*time.Second)
	srv.waitLog("msg=\"session up\"", 5*time.Second)

	l.recreateVeth(false)
	srv.waitLog(`msg="interface gone; its sessions ended, waiting for it to come back" iface=`+l.srvIf, 5*time.Second)
	srv.waitLog(`reason="interface gone"`, 5*time.Second)
	srv.waitLog(`msg="interface is back; serving it again" iface=`+l.srvIf, 5*time.Second)
	cl.cmd.Process.Kill()
	<-cl.done

	again := l.startClient("-u", "alice", "-p", "pw", "--auth", "pap")
	again.waitLog("summary: 1 of 1 sessions up", 15*time.Second)
	// The old sockets' readers stopped when their sockets were closed,
	// rather than reading on, failing, for ever (-d logs it).
	waitFor(t, "the old sockets' two readers to stop", 5*time.Second, func() bool {
		return strings.Count(srv.log.String(), `msg="reader stopped"`) >= 2
	})
	if n := strings.Count(srv.log.String(), `msg="session up"`); n != 2 {
		t.Errorf("%d sessions up, want 2 (one before, one after)", n)
	}
	select {
	case <-srv.done:
		t.Fatalf("pppoed exited (%v)", srv.err)
	default:
	}
}

// The served interface deleted for good: pppoed waits --iface-wait for it,
// then exits with status 1 and says why, so procd or systemd restarts it.
func TestIntegrationIfaceGoneForGood(t *testing.T) {
	l := newLab(t)
	srv := l.startServer("--iface-wait", "2s")
	start := time.Now()
	l.recreateVeth(true)
	select {
	case <-srv.done:
	case <-time.After(15 * time.Second):
		t.Fatal("pppoed still running 15s after its interface was deleted with --iface-wait 2s")
	}
	took := time.Since(start)
	var ee *exec.ExitError
	if !errors.As(srv.err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("pppoed exited with %v, want status 1", srv.err)
	}
	if took < 2*time.Second {
		t.Errorf("exited after %v, before --iface-wait 2s", took)
	}
	want := `interface \"` + l.srvIf + `\" was deleted and has not come back within 2s (--iface-wait)`
	if !strings.Contains(srv.log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, srv.log.String())
	}
	if !strings.Contains(srv.log.String(), "msg=stopped") {
		t.Errorf("no clean stop before the exit:\n%s", srv.log.String())
	}
}
