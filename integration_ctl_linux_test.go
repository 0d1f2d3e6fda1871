package main

// The control socket and CLI against a live daemon in the lab: what
// `pppoed show sessions` lists and counts, terminate, show stat and its
// Prometheus form, garbage on the socket, the socket's mode, a second
// daemon on the same socket, and 100 concurrent CLI calls while sessions
// come and go.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cli runs `pppoed args...` (a control command) and returns its stdout.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binPath, args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("pppoed %s: %v: %s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

var tunLine = regexp.MustCompile(`session 0 tun: (\S+)`)

// dialUser starts a client for user with its own MAC and a TUN device, and
// returns it with the TUN's name.
func (l *lab) dialUser(user, mac string) (*daemon, string) {
	l.t.Helper()
	c := l.startClient("-u", user, "-p", "pw", "--tun", "--mac", mac)
	c.waitLog("session 0 tun:", 10*time.Second)
	return c, tunLine.FindStringSubmatch(c.log.String())[1]
}

func (l *lab) pingFrom(tun string, n, size int) {
	l.t.Helper()
	if out, err := exec.Command("ip", "netns", "exec", l.cliNS, "ping", "-I", tun, "-c", strconv.Itoa(n), "-i", "0.05", "-W", "2",
		"-s", strconv.Itoa(size-28), "10.0.0.1").CombinedOutput(); err != nil {
		l.t.Fatalf("ping from %s: %v\n%s", tun, err, out)
	}
}

func TestIntegrationControl(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	sock := filepath.Join(t.TempDir(), "run", "pppoed.sock")
	srv := l.startServer(append(l.pppFiles("require-chap\n", "alice * pw *\nbob * pw *\ncarol * pw *\n"),
		"-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "16", "--ctl-socket", sock)...)
	if st, err := os.Stat(sock); err != nil || st.Mode().Perm() != 0o600 || st.Mode().Type() != os.ModeSocket {
		t.Fatalf("control socket %v, mode %v: want a socket with mode 0600", err, st.Mode())
	}
	macs := map[string]string{"alice": "02:cc:00:00:01:01", "bob": "02:cc:00:00:01:02", "carol": "02:cc:00:00:01:03"}
	clients, tuns := map[string]*daemon{}, map[string]string{}
	for _, u := range []string{"alice", "bob", "carol"} {
		clients[u], tuns[u] = l.dialUser(u, macs[u])
	}
	pings := map[string][2]int{"alice": {3, 500}, "bob": {5, 1000}, "carol": {0, 0}}
	for u, p := range pings {
		if p[0] > 0 {
			l.pingFrom(tuns[u], p[0], p[1])
		}
	}

	var ss []sessionInfo
	if err := json.Unmarshal([]byte(cli(t, "show", "sessions", "--json", "--ctl-socket", sock)), &ss); err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 {
		t.Fatalf("%d sessions listed, want 3: %+v", len(ss), ss)
	}
	ips := map[string]bool{}
	for _, s := range ss {
		p, ok := pings[s.User]
		want := uint64(p[0] * p[1])
		if !ok || s.MAC != macs[s.User] || s.State != "up" || s.Ifname != "pppoed0" || s.Auth != "chap" ||
			s.RxBytes != want || s.TxBytes != want || s.RxPackets != uint64(p[0]) || s.TxPackets != uint64(p[0]) || s.Interface != l.srvIf {
			t.Errorf("session %+v: want user %q's MAC %s, state up, %d bytes each way", s, s.User, macs[s.User], want)
		}
		ips[s.IP] = true
	}
	if len(ips) != 3 {
		t.Errorf("addresses %v are not three distinct ones", ips)
	}
	table := cli(t, "show", "sessions", "--user", "bob", "--ctl-socket", sock)
	if !strings.Contains(table, "bob") || strings.Contains(table, "alice") || !strings.Contains(table, "1 sessions") {
		t.Errorf("show sessions --user bob:\n%s", table)
	}

	if out := cli(t, "terminate", "--user", "bob", "--ctl-socket", sock); out != "1 sessions terminated\n" {
		t.Fatalf("terminate --user bob printed %q", out)
	}
	clients["bob"].waitLog("session 0 down: server sent PADT", 5*time.Second)
	srv.waitLog(`reason=admin user=bob`, 2*time.Second)
	for _, u := range []string{"alice", "carol"} {
		select {
		case <-clients[u].done:
			t.Fatalf("%s's session ended too", u)
		default:
		}
	}

	var st statInfo
	if err := json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &st); err != nil {
		t.Fatal(err)
	}
	if st.SessionsUp != 2 || st.SessionsStarted != 3 || st.SessionsEnded["admin"] != 1 || st.PoolFree != 14 || st.RSSBytes == 0 || st.GoHeapBytes == 0 {
		t.Errorf("show stat: %+v", st)
	}
	prom := cli(t, "show", "stat", "--format", "prometheus", "--ctl-socket", sock)
	for _, want := range []string{`pppoed_sessions{state="up"} 2`, "pppoed_sessions_started_total 3", `pppoed_sessions_ended_total{reason="admin"} 1`,
		"# TYPE pppoed_sessions_started_total counter", "pppoed_resident_memory_bytes "} {
		if !strings.Contains(prom, want) {
			t.Errorf("prometheus output lacks %q:\n%s", want, prom)
		}
	}

	// Garbage and over-long requests get an error reply and are counted.
	for _, in := range []string{"hello\n", `{"cmd":"sessions","bogus":1}` + "\n", strings.Repeat("x", 5000), `{"cmd":"selfdestruct"}` + "\n"} {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte(in))
		var rep ctlReply
		if err := json.NewDecoder(c).Decode(&rep); err != nil || rep.OK || rep.Error == "" {
			t.Errorf("request %.30q: reply %+v, %v: want an error reply", in, rep, err)
		}
		c.Close()
	}
	if err := json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &st); err != nil || st.CtlErrors < 4 {
		t.Errorf("ctl_errors_total %d, want at least 4", st.CtlErrors)
	}

	// Clients that connect and then say nothing, or half a request, hold
	// a connection each, never the loop or the other clients.
	var stuck []net.Conn
	for i := range 10 {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			c.Write([]byte(`{"cmd":"sess`))
		}
		stuck = append(stuck, c)
	}
	start := time.Now()
	cli(t, "show", "sessions", "--ctl-socket", sock)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("with 10 stuck clients a CLI call took %v", d)
	}
	l.dialUser("bob", "02:cc:00:00:01:04") // the loop still sets sessions up
	for _, c := range stuck {
		c.Close()
	}

	// A second daemon on the same socket refuses to start.
	d2 := l.spawnServer("-L", "10.1.0.1", "-R", "10.1.0.2", "-N", "4", "--tun-name", "pppoed9", "--ctl-socket", sock)
	select {
	case <-d2.done:
		if !strings.Contains(d2.log.String(), "another pppoed answers on it") {
			t.Errorf("second daemon said:\n%s", d2.log.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a second daemon started on the same control socket")
	}
}

// TestIntegrationControlUnderLoad: 100 concurrent CLI calls while sessions
// come and go leave the daemon serving and its loop on time; the CLI's
// latency and the loop's lag are logged.
func TestIntegrationControlUnderLoad(t *testing.T) {
	l := newLab(t)
	sock := filepath.Join(t.TempDir(), "pppoed.sock")
	l.startServer(append(l.pppFiles("require-chap\nlcp-echo-interval 1\n", "alice * pw *\n"),
		"-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "256", "--ctl-socket", sock)...)
	lag := func() float64 {
		var st statInfo
		if err := json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &st); err != nil {
			t.Fatal(err)
		}
		return st.LoopLagMax
	}
	// Sessions come and go: a client dials 50, hangs up, again.
	ctx, cancel := context.WithCancel(context.Background())
	var churn sync.WaitGroup
	churn.Add(1)
	go func() {
		defer churn.Done()
		for ctx.Err() == nil {
			cmd := exec.CommandContext(ctx, "ip", "netns", "exec", l.cliNS, binPath, "client", "-I", l.cliIf, "-u", "alice", "-p", "pw", "-n", "50")
			cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
			cmd.Start()
			time.Sleep(1500 * time.Millisecond)
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}()
	// One call at a time first, for the latency without load.
	var idle []time.Duration
	for range 50 {
		start := time.Now()
		if _, err := dialCtl(context.Background(), sock, ctlRequest{Cmd: "sessions"}); err != nil {
			t.Fatal(err)
		}
		idle = append(idle, time.Since(start))
	}
	slices.Sort(idle)
	time.Sleep(3 * time.Second)
	before := lag()

	var mu sync.Mutex
	var took []time.Duration
	var failed []error
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				req := ctlRequest{Cmd: "sessions"}
				if (i+j)%3 == 0 {
					req.Cmd = "stat"
				}
				start := time.Now()
				_, err := dialCtl(context.Background(), sock, req)
				mu.Lock()
				took = append(took, time.Since(start))
				if err != nil {
					failed = append(failed, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	during := lag()
	cancel()
	churn.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d of 500 calls failed, the first: %v", len(failed), failed[0])
	}
	slices.Sort(took)
	p := func(q float64) time.Duration { return took[int(q*float64(len(took)-1))].Round(100 * time.Microsecond) }
	t.Logf("one CLI call at a time: p50 %v, max %v; 500 CLI calls from 100 clients at once, with 50 sessions coming and going: "+
		"latency p50 %v, p99 %v, max %v; loop lag at worst %.1f ms before, %.1f ms during",
		idle[len(idle)/2].Round(10*time.Microsecond), idle[len(idle)-1].Round(10*time.Microsecond), p(0.5), p(0.99), p(1), before, during)
	// The loop stays on time: a blocked loop would lag by seconds (the
	// control socket's timeout); a busy machine makes it tens of ms late.
	if during > float64(4*tickEvery/time.Millisecond) {
		t.Errorf("the loop lagged %.1f ms under CLI load (%.1f ms before)", during, before)
	}
	if _, err := dialCtl(context.Background(), sock, ctlRequest{Cmd: "stat"}); err != nil {
		t.Fatalf("the daemon stopped answering: %v", err)
	}
}

// TestIntegrationOpenWrtRPCD drives the rpcd plugin as rpcd does (list,
// then call METHOD with the arguments as JSON on stdin), under dash and
// busybox ash, against a live daemon: what `ubus call pppoed ...` returns.
func TestIntegrationOpenWrtRPCD(t *testing.T) {
	l := newLab(t)
	sock := filepath.Join(t.TempDir(), "pppoed.sock")
	l.startServer(append(l.pppFiles("require-chap\n", "alice * pw *\nbob * pw *\n"), "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4", "--ctl-socket", sock)...)
	l.dialUser("alice", "02:cc:00:00:06:01")
	l.dialUser("bob", "02:cc:00:00:06:02")
	for name, sh := range owShells(t) {
		rpcd := func(stdin string, args ...string) map[string]any {
			t.Helper()
			cmd := exec.Command(sh[0], append(append(slices.Clone(sh[1:]), "openwrt/files/pppoed.rpcd"), args...)...)
			cmd.Env = append(os.Environ(), "PPPOED="+binPath, "PPPOED_CTL_SOCKET="+sock)
			cmd.Stdin = strings.NewReader(stdin)
			out, err := cmd.Output()
			var m map[string]any
			if err != nil || json.Unmarshal(out, &m) != nil {
				t.Fatalf("%s: rpcd %q < %q: %v, not a JSON object: %s", name, args, stdin, err, out)
			}
			return m
		}
		methods := rpcd("", "list")
		for _, m := range []string{"sessions", "stat", "terminate", "reload", "set_rate"} {
			if _, ok := methods[m]; !ok {
				t.Errorf("%s: list has no %s: %v", name, m, methods)
			}
		}
		if ss := rpcd("{}", "call", "sessions")["sessions"].([]any); len(ss) != 2 {
			t.Errorf("%s: call sessions: %d sessions, want 2", name, len(ss))
		}
		if ss := rpcd(`{"user":"alice"}`, "call", "sessions")["sessions"].([]any); len(ss) != 1 || ss[0].(map[string]any)["user"] != "alice" {
			t.Errorf("%s: call sessions {user: alice}: %v", name, ss)
		}
		if st := rpcd("", "call", "stat")["stat"].(map[string]any); st["sessions_up"] != float64(2) {
			t.Errorf("%s: call stat: %v", name, st)
		}
		if r := rpcd("{}", "call", "terminate"); r["ok"] != false || !strings.Contains(fmt.Sprint(r["error"]), "say which sessions") {
			t.Errorf("%s: call terminate without arguments: %v", name, r)
		}
		if r := rpcd(`{"bogus":1}`, "call", "sessions"); r["ok"] != false {
			t.Errorf("%s: call with an unknown argument: %v", name, r)
		}
		if r := rpcd("", "call", "nope"); r["ok"] != false {
			t.Errorf("%s: call nope: %v", name, r)
		}
		// Still a JSON object when the method's name is not printable.
		if r := rpcd("", "call", "n\x01\"pe"); r["ok"] != false || !strings.Contains(fmt.Sprint(r["error"]), "n\x01\"pe") {
			t.Errorf("%s: call of an odd name: %v", name, r)
		}
	}
	// Last, once: terminate a user as LuCI would.
	cmd := exec.Command("/bin/sh", "openwrt/files/pppoed.rpcd", "call", "terminate")
	cmd.Env = append(os.Environ(), "PPPOED="+binPath, "PPPOED_CTL_SOCKET="+sock)
	cmd.Stdin = strings.NewReader(`{"user":"bob"}`)
	out, err := cmd.Output()
	var r ctlReply
	if err != nil || json.Unmarshal(out, &r) != nil || !r.OK || r.Count == nil || *r.Count != 1 {
		t.Fatalf("call terminate {user: bob}: %v %s", err, out)
	}
}
