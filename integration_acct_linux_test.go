package main

// Per-user control against a live daemon in the lab: pppd's ip-up and
// ip-down hooks, the accounting file, rate limits in TUN mode, and the
// sessions-per-user limit.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hookScript writes a script that records its argv and environment in
// dir/<name>.<pid>, and returns its path.
func hookScript(t *testing.T, dir, name, extra string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	body := "#!/bin/sh\nout=" + dir + "/" + name + ".$$\n" +
		"for a in \"$@\"; do printf 'ARG=%s\\n' \"$a\"; done >$out.tmp\nenv >>$out.tmp\nmv $out.tmp $out\n" + extra
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// hookRuns reads what the scripts named name recorded: one map per run,
// with the arguments under "ARG1".."ARG6".
func hookRuns(t *testing.T, dir, name string) []map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, name+".*[0-9]"))
	var runs []map[string]string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, n := map[string]string{}, 0
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			if k == "ARG" {
				n++
				k = "ARG" + strconv.Itoa(n)
			}
			m[k] = v
		}
		runs = append(runs, m)
	}
	return runs
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIntegrationHooks: ip-up and ip-down get pppd's argv and environment,
// ip-down the session's byte counts; a hook that hangs is killed.
func TestIntegrationHooks(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	dir := t.TempDir()
	up := hookScript(t, dir, "ip-up", "")
	down := hookScript(t, dir, "ip-down", "")
	opts := fmt.Sprintf("require-chap\nms-dns 192.0.2.53\nms-dns 192.0.2.54\nip-up-script %s\nip-down-script %s\nipparam isp1\n", up, down)
	srv := l.startServer(append(l.pppFiles(opts, "alice * pw *\n"), "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4")...)
	c, tun := l.dialUser("alice", "02:cc:00:00:02:01")
	waitFor(t, "ip-up ran", 5*time.Second, func() bool { return len(hookRuns(t, dir, "ip-up")) == 1 })
	l.pingFrom(tun, 4, 700)
	c.cmd.Process.Signal(syscall.SIGTERM)
	srv.waitLog(`msg="session ended"`, 5*time.Second)
	waitFor(t, "ip-down ran", 5*time.Second, func() bool { return len(hookRuns(t, dir, "ip-down")) == 1 })

	for _, name := range []string{"ip-up", "ip-down"} {
		r := hookRuns(t, dir, name)[0]
		// pppd(8): interface-name tty-device speed local-IP-address
		// remote-IP-address ipparam.
		want := map[string]string{"ARG1": "pppoed0", "ARG2": l.srvIf, "ARG3": "0", "ARG4": "10.0.0.1", "ARG5": "10.0.0.2", "ARG6": "isp1",
			"IFNAME": "pppoed0", "IPLOCAL": "10.0.0.1", "IPREMOTE": "10.0.0.2", "PEERNAME": "alice", "DEVICE": l.srvIf, "SPEED": "0",
			"MACREMOTE": "02:CC:00:00:02:01", "DNS1": "192.0.2.53", "DNS2": "192.0.2.54", "PPPLOGNAME": "root"}
		if name == "ip-down" {
			want["BYTES_SENT"], want["BYTES_RCVD"] = "2800", "2800"
		}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("%s: %s=%q, want %q", name, k, r[k], v)
			}
		}
		if _, ok := r["PATH"]; !ok || r["PPPD_PID"] == "" {
			t.Errorf("%s: no PATH or PPPD_PID in %v", name, r)
		}
		if name == "ip-down" {
			if ct, err := strconv.Atoi(r["CONNECT_TIME"]); err != nil || ct < 0 || ct > 30 {
				t.Errorf("ip-down: CONNECT_TIME=%q", r["CONNECT_TIME"])
			}
		}
	}

	// A hook that hangs is killed at the timeout, with its children.
	hang := hookScript(t, dir, "hang-up", "sleep 300 &\nsleep 300\n")
	srv.stop()
	opts = fmt.Sprintf("require-chap\nip-up-script %s\n", hang)
	srv = l.startServer(append(l.pppFiles(opts, "alice * pw *\n"), "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4", "--hook-timeout", "2")...)
	l.dialUser("alice", "02:cc:00:00:02:02")
	srv.waitLog("killed: still running at the timeout", 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	if out, _ := exec.Command("pgrep", "-f", "sleep 300").Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("the hook's children outlived it: %s", out)
	}
}

// TestIntegrationAccountingFile: start, interim and stop records for a
// session with known traffic, stop records for every session at SIGTERM,
// one JSON object a line.
func TestIntegrationAccountingFile(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	acct := filepath.Join(t.TempDir(), "acct.jsonl")
	srv := l.startServer(append(l.pppFiles("require-chap\n", "alice * pw *\nbob * pw *\n"),
		"-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4", "--acct-file", acct, "--acct-interim", "2")...)
	c, tun := l.dialUser("alice", "02:cc:00:00:03:01")
	l.dialUser("bob", "02:cc:00:00:03:02")
	l.pingFrom(tun, 5, 1000)
	time.Sleep(2500 * time.Millisecond) // an interim record, after the pings
	// logrotate: move the file away, then SIGHUP; what follows goes to a
	// new file.
	if err := os.Rename(acct, acct+".1"); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Process.Signal(syscall.SIGHUP)
	srv.waitLog("msg=reloaded", 5*time.Second)
	c.cmd.Process.Signal(syscall.SIGTERM)
	srv.waitLog(`msg="session ended"`, 5*time.Second)
	srv.stop() // bob's stop record comes at SIGTERM
	if _, err := os.Stat(acct); err != nil {
		t.Fatalf("no new accounting file after SIGHUP: %v", err)
	}
	var both []byte
	for _, p := range []string{acct + ".1", acct} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"type":"stop"`) == (p == acct) {
			t.Errorf("%s: stop records in the wrong file:\n%s", p, b)
		}
		both = append(both, b...)
	}
	f := strings.NewReader(string(both))
	type record struct {
		Type      string    `json:"type"`
		Time      time.Time `json:"time"`
		User      string    `json:"user"`
		MAC       string    `json:"mac"`
		SID       uint16    `json:"sid"`
		Ifname    string    `json:"ifname"`
		Interface string    `json:"interface"`
		IP        string    `json:"ip"`
		StartTime time.Time `json:"start_time"`
		Duration  int64     `json:"duration_seconds"`
		RxBytes   uint64    `json:"rx_bytes"`
		RxPackets uint64    `json:"rx_packets"`
		TxBytes   uint64    `json:"tx_bytes"`
		TxPackets uint64    `json:"tx_packets"`
		Reason    *string   `json:"reason"`
	}
	byUser := map[string][]record{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		var r record
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		byUser[r.User] = append(byUser[r.User], r)
	}
	a := byUser["alice"]
	if len(a) < 3 || a[0].Type != "start" || a[1].Type != "interim" || a[len(a)-1].Type != "stop" {
		t.Fatalf("alice's records: %+v, want start, interim..., stop", a)
	}
	last := a[len(a)-1]
	if last.RxBytes != 5000 || last.TxBytes != 5000 || last.RxPackets != 5 || last.TxPackets != 5 || last.Reason == nil ||
		*last.Reason != "peer sent PADT" || last.MAC != "02:cc:00:00:03:01" || last.IP != "10.0.0.2" || last.Ifname != "pppoed0" ||
		last.Interface != l.srvIf || last.StartTime != a[0].StartTime || last.Duration < 2 {
		t.Errorf("alice's stop record: %+v", last)
	}
	if a[1].RxBytes != 5000 || a[0].RxBytes != 0 || a[0].Reason != nil {
		t.Errorf("alice's start and interim: %+v %+v", a[0], a[1])
	}
	b := byUser["bob"]
	if len(b) < 2 || b[len(b)-1].Type != "stop" || *b[len(b)-1].Reason != "server shutting down" {
		t.Errorf("bob's records: %+v, want a stop record at SIGTERM", b)
	}
}

// bulkDownload serves size bytes from the server's namespace to a reader
// in the client's, through the session, and returns the rate in kbit/s
// measured after the first second (the bucket's burst).
func (l *lab) bulkDownload(t *testing.T, local string, d time.Duration) float64 {
	t.Helper()
	var ln net.Listener
	inNetns(t, l.srvNS, func() {
		var err error
		if ln, err = net.Listen("tcp", local+":9000"); err != nil {
			t.Error(err)
		}
	})
	if ln == nil {
		t.FailNow()
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 32<<10)
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	var conn net.Conn
	inNetns(t, l.cliNS, func() {
		var err error
		if conn, err = net.DialTimeout("tcp", local+":9000", 5*time.Second); err != nil {
			t.Error(err)
		}
	})
	if conn == nil {
		t.FailNow()
	}
	defer conn.Close()
	buf := make([]byte, 64<<10)
	conn.SetDeadline(time.Now().Add(d + 10*time.Second))
	warm := time.Now().Add(time.Second)
	var n int64
	var start time.Time
	for time.Now().Before(warm.Add(d)) {
		m, err := conn.Read(buf)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if time.Now().After(warm) {
			if start.IsZero() {
				start = time.Now()
			}
			n += int64(m)
		}
	}
	return float64(n) * 8 / 1000 / time.Since(start).Seconds()
}

// TestIntegrationRateLimitTUN: a session limited to 2048 kbit/s down gets
// that in a bulk download, within 15 %; one without a limit is not
// throttled; set rate changes a live session's.
func TestIntegrationRateLimitTUN(t *testing.T) {
	l := newLab(t)
	sock := filepath.Join(t.TempDir(), "pppoed.sock")
	l.startServer(append(l.pppFiles("require-chap\n", "alice * pw * 2048/512\nbob * pw *\n"),
		"-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4", "--ctl-socket", sock)...)
	l.dialUser("alice", "02:cc:00:00:04:01")
	got := l.bulkDownload(t, "10.0.0.1", 6*time.Second)
	t.Logf("alice, limited to 2048 kbit/s down: %.0f kbit/s", got)
	if got < 2048*0.85 || got > 2048*1.15 {
		t.Errorf("alice got %.0f kbit/s, want 2048 ± 15 %%", got)
	}
	var ss []sessionInfo
	json.Unmarshal([]byte(cli(t, "show", "sessions", "--json", "--ctl-socket", sock)), &ss)
	if len(ss) != 1 || ss[0].RateDown != 2048 || ss[0].RateUp != 512 {
		t.Errorf("show sessions: %+v, want rate 2048/512", ss)
	}
	if out := cli(t, "set", "rate", "--user", "alice", "4096/1024", "--ctl-socket", sock); !strings.HasPrefix(out, "1 sessions") {
		t.Fatalf("set rate: %q", out)
	}
	got = l.bulkDownload(t, "10.0.0.1", 6*time.Second)
	t.Logf("alice after set rate 4096/1024: %.0f kbit/s", got)
	if got < 4096*0.85 || got > 4096*1.15 {
		t.Errorf("after set rate 4096: %.0f kbit/s", got)
	}
	cli(t, "terminate", "--user", "alice", "--ctl-socket", sock)
	l.dialUser("bob", "02:cc:00:00:04:02")
	got = l.bulkDownload(t, "10.0.0.1", 3*time.Second)
	t.Logf("bob, no limit: %.0f kbit/s", got)
	if got < 20000 {
		t.Errorf("bob, without a limit, got only %.0f kbit/s", got)
	}
}

// TestIntegrationSessionsPerUser: max_sessions_per_user with deny refuses
// the second login; with replace it ends the first.
func TestIntegrationSessionsPerUser(t *testing.T) {
	for _, policy := range []string{"deny", "replace"} {
		t.Run(policy, func(t *testing.T) {
			l := newLab(t)
			srv := l.startServer(append(l.pppFiles("require-chap\n", "alice * pw *\n"), "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4",
				"--max-sessions-per-user", "1", "--max-sessions-per-user-policy", policy)...)
			first := l.startClient("-u", "alice", "-p", "pw", "--mac", "02:cc:00:00:05:01")
			first.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
			second := l.startClient("-u", "alice", "-p", "pw", "--mac", "02:cc:00:00:05:02", "--timeout", "10s")
			if policy == "deny" {
				second.waitLog(`session 0 failed: authentication failed: "Session limit reached"`, 10*time.Second)
				srv.waitLog(`reason="session limit reached"`, 2*time.Second)
				select {
				case <-first.done:
					t.Fatal("the first session ended")
				default:
				}
				return
			}
			second.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
			first.waitLog("session 0 down: server sent PADT", 5*time.Second)
			srv.waitLog(`reason="replaced by a new login"`, 2*time.Second)
		})
	}
}
