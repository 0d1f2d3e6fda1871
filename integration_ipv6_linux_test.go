package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var ipv6Line = regexp.MustCompile(`session 0 ipv6: addr=(\S+) prefix=(\S+) delegated=(\S+) dns=(\S*)`)

// TestIntegrationIPv6TUN: pppoed client negotiates IPv6CP, takes the RA's
// /64 (SLAAC) and a /56 delegated over DHCPv6, and pings an address on the
// server side from both; a source outside its prefixes is dropped and
// counted. show sessions has both prefixes, and they go back to the pools
// when the session ends.
func TestIntegrationIPv6TUN(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	sock := filepath.Join(t.TempDir(), "pppoed.sock")
	dir := t.TempDir()
	up, down := hookScript(t, dir, "ipv6-up", ""), hookScript(t, dir, "ipv6-down", "")
	opts := fmt.Sprintf("require-chap\n+ipv6\nipv6-up-script %s\nipv6-down-script %s\nipparam isp6\n", up, down)
	srv := l.startServer(append(l.pppFiles(opts, "alice * pw *\n"), "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4",
		"--ctl-socket", sock, "--ipv6-prefix-pool", "2001:db8:100::/48", "--ipv6-delegated-pool", "2001:db8:200::/40",
		"--ipv6-delegated-length", "56", "--ipv6-dns", "2001:db8::53")...)
	// An address on the server's side to ping.
	l.ip("-n", l.srvNS, "addr", "add", "2001:db8:ffff::1/128", "dev", "lo")
	c := l.startClient("-u", "alice", "-p", "pw", "--tun", "--ipv6", "--default-route")
	c.waitLog("session 0 tun:", 10*time.Second)
	m := ipv6Line.FindStringSubmatch(c.log.String())
	if m == nil {
		t.Fatalf("no ipv6 line:\n%s", c.log.String())
	}
	addr, prefix, delegated, dns := m[1], m[2], m[3], m[4]
	if prefix != "2001:db8:100::/64" || !netip.MustParsePrefix("2001:db8:100::/64").Contains(netip.MustParseAddr(addr)) || delegated != "2001:db8:200::/56" || dns != "2001:db8::53" {
		t.Fatalf("client got addr %s prefix %s delegated %s dns %s", addr, prefix, delegated, dns)
	}
	tun := tunLine.FindStringSubmatch(c.log.String())[1]
	ping6 := func(from string) error {
		out, err := exec.Command("ip", "netns", "exec", l.cliNS, "ping", "-6", "-I", from, "-c", "3", "-i", "0.2", "-W", "2",
			"2001:db8:ffff::1").CombinedOutput()
		if err != nil {
			t.Logf("ping from %s: %v\n%s", from, err, out)
		}
		return err
	}
	if err := ping6(addr); err != nil {
		t.Fatal("no IPv6 from the SLAAC address")
	}
	if err := ping6("2001:db8:200::1"); err != nil {
		t.Fatal("no IPv6 from the delegated prefix")
	}
	var before statInfo
	json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &before)
	l.ip("-n", l.cliNS, "addr", "add", "2001:db8:dead::1/128", "dev", tun)
	if err := ping6("2001:db8:dead::1"); err == nil {
		t.Fatal("a source outside the session's prefixes got through")
	}
	var after statInfo
	if err := json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &after); err != nil {
		t.Fatal(err)
	}
	if n := after.Counters["ip_spoofed"] - before.Counters["ip_spoofed"]; n < 3 {
		t.Fatalf("ip_spoofed grew by %d, want the 3 pings", n)
	}
	var rep []sessionInfo
	if err := json.Unmarshal([]byte(cli(t, "show", "sessions", "--json", "--ctl-socket", sock)), &rep); err != nil || len(rep) != 1 {
		t.Fatalf("show sessions: %v %+v", err, rep)
	}
	if s := rep[0]; s.IPv6Prefix != "2001:db8:100::/64" || s.IPv6Delegated != "2001:db8:200::/56" {
		t.Fatalf("show sessions: ipv6_prefix %q ipv6_delegated %q", s.IPv6Prefix, s.IPv6Delegated)
	}
	if table := cli(t, "show", "sessions", "--ctl-socket", sock); !strings.Contains(table, "2001:db8:200::/56") {
		t.Fatalf("show sessions table lacks the delegated prefix:\n%s", table)
	}
	if p := after.IPv6Pools; p == nil || p.PrefixUsed != 1 || p.DelegatedUsed != 1 {
		t.Fatalf("show stat ipv6_pools %+v", p)
	}
	// The server routes both prefixes to its TUN.
	out, _ := exec.Command("ip", "-n", l.srvNS, "-6", "route").CombinedOutput()
	for _, want := range []string{"2001:db8:100::/48 dev pppoed0", "2001:db8:200::/40 dev pppoed0"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("server routes lack %q:\n%s", want, out)
		}
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	srv.waitLog("session ended", 5*time.Second)
	var end statInfo
	if err := json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &end); err != nil {
		t.Fatal(err)
	}
	if p := end.IPv6Pools; p == nil || p.PrefixUsed != 0 || p.DelegatedUsed != 0 {
		t.Fatalf("after the session: ipv6_pools %+v", p)
	}
	// pppd's ipv6-up and ipv6-down: interface, device, speed, local and
	// remote link-local address, ipparam, and the environment to match.
	waitFor(t, "ipv6-down ran", 5*time.Second, func() bool { return len(hookRuns(t, dir, "ipv6-down")) == 1 })
	local, remote := logField(srv.log.String(), "IPv6 up", "local"), logField(srv.log.String(), "IPv6 up", "remote")
	if local == "" || remote == "" || !strings.HasPrefix(local, "fe80::") {
		t.Fatalf("IPv6 up line: local %q remote %q", local, remote)
	}
	for _, name := range []string{"ipv6-up", "ipv6-down"} {
		runs := hookRuns(t, dir, name)
		if len(runs) != 1 {
			t.Fatalf("%s ran %d times", name, len(runs))
		}
		r := runs[0]
		want := map[string]string{"ARG1": "pppoed0", "ARG2": l.srvIf, "ARG3": "0", "ARG4": local, "ARG5": remote, "ARG6": "isp6",
			"IFNAME": "pppoed0", "DEVICE": l.srvIf, "LLLOCAL": local, "LLREMOTE": remote, "PEERNAME": "alice",
			"IPV6PREFIX": "2001:db8:100::/64", "IPPARAM": "isp6"}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("%s: %s=%q, want %q", name, k, r[k], v)
			}
		}
	}
}

// TestIntegrationDualStackLoad: 1,000 sessions from one pppoed client,
// IPv4 only and then dual stack (IPv6CP, the RA's /64 and a delegated /56
// for each), against chap-secrets. The summaries are the figures the
// README gives: sudo go test -run TestIntegrationDualStackLoad -v . | grep summary
func TestIntegrationDualStackLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, mode := range []string{"ipv4", "dual-stack"} {
		t.Run(mode, func(t *testing.T) {
			l := newLab(t)
			sock := filepath.Join(t.TempDir(), "pppoed.sock")
			opts := "require-chap\nip-up-script /nonexistent\nip-down-script /nonexistent\nipv6-up-script /nonexistent\nipv6-down-script /nonexistent\n"
			args := append(l.pppFiles(opts, "load * pw *\n"), "-L", "10.1.0.1", "-R", "10.2.0.1", "-N", "1000", "--ctl-socket", sock)
			cargs := []string{"-u", "load", "-p", "pw", "-n", "1000", "--rate", "2000", "--timeout", "120s", "-q"}
			if mode == "dual-stack" {
				args = append(args, "--ipv6-prefix-pool", "2001:db8:100::/48", "--ipv6-delegated-pool", "2001:db8:200::/40")
				cargs = append(cargs, "--ipv6")
			}
			srv := l.startServer(args...)
			cpu0 := cpuTicks(t, srv.cmd.Process.Pid)
			c := l.startClient(cargs...)
			c.waitLog("summary: 1000 of 1000 sessions up", 150*time.Second)
			// The server's CPU time per session set up (USER_HZ is 100).
			perSession := time.Duration(cpuTicks(t, srv.cmd.Process.Pid)-cpu0) * 10 * time.Millisecond / 1000
			t.Logf("%s: %s; server CPU %v a session", mode, regexp.MustCompile(`summary: .*\n.*`).FindString(c.log.String()), perSession)
			if mode == "dual-stack" {
				var st statInfo
				if err := json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &st); err != nil {
					t.Fatal(err)
				}
				if p := st.IPv6Pools; p == nil || p.PrefixUsed != 1000 || p.DelegatedUsed != 1000 {
					t.Fatalf("ipv6_pools %+v, want 1000 of each in use", p)
				}
			}
			c.cmd.Process.Signal(syscall.SIGTERM)
			<-c.done
			srv.stop()
		})
	}
}

// logField is key's value on the first log line with msg.
func logField(log, msg, key string) string {
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, `msg="`+msg+`"`) {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, key+"="); ok {
				return v
			}
		}
	}
	return ""
}

// cpuTicks is a process's user and system time in clock ticks.
func cpuTicks(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name may hold spaces; the fields count from its ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return u + s
}

// TestIntegrationIPv6RouteMTU: a client whose MRU is below the TUN's MTU
// gets its /64 and delegated prefix routed with that MTU, so a packet that
// fits the TUN but not the client is fragmented (or answered with Packet
// Too Big) by the kernel instead of dropped by the data path; the routes
// go with the session.
func TestIntegrationIPv6RouteMTU(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	l.startServer(append(l.pppFiles("require-chap\n", "alice * pw *\n"), "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "4",
		"--ipv6-prefix-pool", "2001:db8:100::/48", "--ipv6-delegated-pool", "2001:db8:200::/40")...)
	l.ip("-n", l.srvNS, "addr", "add", "2001:db8:ffff::1/128", "dev", "lo")
	c := l.startClient("-u", "alice", "-p", "pw", "--tun", "--ipv6", "--default-route", "--mru", "1400")
	c.waitLog("session 0 tun:", 10*time.Second)
	m := ipv6Line.FindStringSubmatch(c.log.String())
	if m == nil {
		t.Fatalf("no ipv6 line:\n%s", c.log.String())
	}
	routes := func() string {
		out, _ := exec.Command("ip", "-n", l.srvNS, "-6", "route").CombinedOutput()
		return string(out)
	}
	for _, want := range []string{"2001:db8:100::/64 dev pppoed0 metric 1024 mtu 1400", "2001:db8:200::/56 dev pppoed0 metric 1024 mtu 1400"} {
		if !strings.Contains(routes(), want) {
			t.Fatalf("server routes lack %q:\n%s", want, routes())
		}
	}
	// 1468 bytes of IPv6: fits the TUN (1492), not the client (1400).
	if out, err := exec.Command("ip", "netns", "exec", l.srvNS, "ping", "-6", "-c", "2", "-W", "2", "-s", "1420", m[1]).CombinedOutput(); err != nil {
		t.Fatalf("ping6 of 1468 bytes to a client with MRU 1400: %v\n%s", err, out)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	<-c.done
	waitFor(t, "the session's routes gone", 5*time.Second, func() bool { return !strings.Contains(routes(), "mtu 1400") })
}
