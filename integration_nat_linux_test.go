package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// addWAN gives the lab a third namespace: a WAN host at 192.0.2.2 behind
// the access concentrator's WAN interface (192.0.2.1). The WAN host has no
// route back to the pool, so only NAT lets clients reach it.
func (l *lab) addWAN() (wanNS, srvWAN string) {
	l.t.Helper()
	wanNS, srvWAN = "pppoed-"+l.id+"-w", "pd"+l.id+"w"
	l.t.Cleanup(func() { exec.Command("ip", "netns", "del", wanNS).Run() })
	l.ip("netns", "add", wanNS)
	l.ip("link", "add", srvWAN, "netns", l.srvNS, "type", "veth", "peer", "name", "wan0", "netns", wanNS)
	l.ip("-n", l.srvNS, "addr", "add", "192.0.2.1/24", "dev", srvWAN)
	l.ip("-n", l.srvNS, "link", "set", srvWAN, "up")
	l.ip("-n", wanNS, "addr", "add", "192.0.2.2/24", "dev", "wan0")
	l.ip("-n", wanNS, "link", "set", "wan0", "up")
	l.ip("-n", wanNS, "link", "set", "lo", "up")
	return wanNS, srvWAN
}

func inNS(ns string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
}

func nsOutput(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := inNS(ns, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ourRules returns what pppoed added that is still there in ns.
func ourRules(t *testing.T, ns string) string {
	var found []string
	if out, _ := inNS(ns, "nft", "list", "ruleset").CombinedOutput(); strings.Contains(string(out), "pppoed") {
		found = append(found, "nft:\n"+string(out))
	}
	if out, _ := inNS(ns, "iptables-save").CombinedOutput(); strings.Contains(string(out), "PPPOED") {
		found = append(found, "iptables-save:\n"+string(out))
	}
	if out, _ := inNS(ns, "ip6tables-save").CombinedOutput(); strings.Contains(string(out), "PPPOED") {
		found = append(found, "ip6tables-save:\n"+string(out))
	}
	return strings.Join(found, "\n")
}

func ipForward(t *testing.T, ns string) string {
	return sysctlIn(t, ns, "/proc/sys/net/ipv4/ip_forward")
}

func sysctlIn(t *testing.T, ns, path string) string {
	t.Helper()
	return strings.TrimSpace(nsOutput(t, ns, "cat", path))
}

func TestIntegrationNAT(t *testing.T) {
	for _, backend := range []string{"nft", "iptables"} {
		t.Run(backend, func(t *testing.T) {
			l := newLab(t)
			requireTool(t, backend)
			requireTool(t, "curl")
			tcpdump := requireTool(t, "tcpdump")
			py := "/usr/bin/python3"
			if _, err := os.Stat(py); err != nil {
				skipf(t, "%s is missing", py)
			}
			wanNS, srvWAN := l.addWAN()

			// The WAN host serves 4 MB of random bytes over HTTP.
			dir := t.TempDir()
			blob := make([]byte, 4<<20)
			rand.Read(blob)
			if err := os.WriteFile(dir+"/blob", blob, 0o644); err != nil {
				t.Fatal(err)
			}
			httpLog := &syncBuffer{}
			httpd := inNS(wanNS, py, "-m", "http.server", "80", "--bind", "192.0.2.2", "--directory", dir)
			httpd.Stdout, httpd.Stderr = httpLog, httpLog
			if err := httpd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { httpd.Process.Kill(); httpd.Wait() })
			syns := &syncBuffer{}
			dump := inNS(wanNS, tcpdump, "-i", "wan0", "-n", "-l", "-v", "tcp[tcpflags] & tcp-syn != 0 and tcp dst port 80")
			dump.Stdout, dump.Stderr = syns, syns
			if err := dump.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { dump.Process.Kill(); dump.Wait() })

			before := ipForward(t, l.srvNS)
			state := t.TempDir() + "/nat.state"
			args := append(l.pppFiles("require-chap\nms-dns 192.0.2.53\n", "u * p *\n"),
				"-L", "10.0.0.1", "-R", "10.0.0.2", "--nat-out", srvWAN, "--nat-backend", backend, "--nat-state-file", state)
			srv := l.startServer(args...)
			if ipForward(t, l.srvNS) != "1" {
				t.Fatal("ip_forward is not on while pppoed runs")
			}
			c := l.startClient("-u", "u", "-p", "p", "--tun", "--default-route")
			c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
			time.Sleep(time.Second) // let tcpdump attach

			out := t.TempDir() + "/got"
			if o, err := inNS(l.cliNS, "curl", "-sS", "--max-time", "30", "-o", out, "http://192.0.2.2/blob").CombinedOutput(); err != nil {
				t.Fatalf("curl through the session: %v\n%s\nserver log:\n%s", err, o, srv.log.String())
			}
			got, _ := os.ReadFile(out)
			if sha256.Sum256(got) != sha256.Sum256(blob) {
				t.Fatalf("fetched %d bytes, not the %d served", len(got), len(blob))
			}
			deadline := time.Now().Add(3 * time.Second)
			for !strings.Contains(httpLog.String(), "GET /blob") && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if !strings.Contains(httpLog.String(), "192.0.2.1 - - ") {
				t.Fatalf("the WAN host did not see the concentrator's WAN address:\n%s", httpLog.String())
			}
			// tcpdump prints the options on the SYN's second line, which
			// may come a moment after curl is done.
			for !strings.Contains(syns.String(), "mss ") && time.Now().Before(deadline.Add(3*time.Second)) {
				time.Sleep(50 * time.Millisecond)
			}
			m := regexp.MustCompile(`mss (\d+)`).FindStringSubmatch(syns.String())
			if m == nil || m[1] != "1452" {
				t.Fatalf("SYN at the WAN host: mss %v, want 1452 to fit the 1492-byte PPP MTU\n%s", m, syns.String())
			}
			c.cmd.Process.Signal(syscall.SIGTERM)
			<-c.done

			// A SIGKILL leaves everything in place; a restart replaces it
			// with exactly one set, and a clean stop removes it all and
			// restores the ip_forward from before the first start.
			srv.cmd.Process.Kill()
			<-srv.done
			if ourRules(t, l.srvNS) == "" {
				t.Fatal("SIGKILL removed the rules: the crash case is not being tested")
			}
			srv2 := l.startServer(args...)
			srv2.waitLog("found NAT state left by an earlier pppoed", time.Second)
			switch backend {
			case "nft":
				if n := strings.Count(nsOutput(t, l.srvNS, "nft", "list", "tables"), "table inet pppoed"); n != 1 {
					t.Fatalf("%d pppoed tables after a restart, want 1", n)
				}
			case "iptables":
				nat := nsOutput(t, l.srvNS, "iptables", "-t", "nat", "-S")
				mangle := nsOutput(t, l.srvNS, "iptables", "-t", "mangle", "-S")
				if strings.Count(nat, "-A POSTROUTING -j PPPOED-NAT") != 1 || strings.Count(mangle, "-A FORWARD -j PPPOED-MSS") != 1 ||
					strings.Count(nat, "-j MASQUERADE") != strings.Count(nat, "-A PPPOED-NAT") {
					t.Fatalf("after a restart:\n%s\n%s", nat, mangle)
				}
			}
			srv2.stop()
			if left := ourRules(t, l.srvNS); left != "" {
				t.Fatalf("pppoed left rules behind:\n%s", left)
			}
			if got := ipForward(t, l.srvNS); got != before {
				t.Fatalf("ip_forward is %s after exit, was %s", got, before)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("state file left behind: %v", err)
			}
		})
	}
}

// TestIntegrationNATLeftoverWithoutNATOut: after a SIGKILL, a start
// without --nat-out still reads the state file, removes the rules the
// killed pppoed added (IPv6 ones too, ip6tables chains included) and
// restores the ip_forward, IPv6 forwarding and accept_ra it recorded, with
// a log line; the state file of a process that still runs is left alone.
func TestIntegrationNATLeftoverWithoutNATOut(t *testing.T) {
	for _, backend := range []string{"nft", "iptables"} {
		t.Run(backend, func(t *testing.T) {
			l := newLab(t)
			requireTool(t, backend)
			if backend == "iptables" {
				requireTool(t, "ip6tables")
			}
			_, srvWAN := l.addWAN()
			before := ipForward(t, l.srvNS)
			if before != "0" {
				t.Fatalf("ip_forward is %s in a new namespace, want 0", before)
			}
			state := t.TempDir() + "/nat.state"
			files := l.pppFiles("require-chap\n", "u * p *\n")
			base := append(files, "-L", "10.0.0.1", "-R", "10.0.0.2", "--nat-state-file", state)
			acceptRA := "/proc/sys/net/ipv6/conf/" + srvWAN + "/accept_ra"
			srv := l.startServer(append(base, "--nat-out", srvWAN, "--nat-backend", backend,
				"--ipv6-prefix-pool", lab6Pool, "--ipv6-delegated-pool", lab6Delegated)...)
			srv.cmd.Process.Kill()
			<-srv.done
			if ourRules(t, l.srvNS) == "" || ipForward(t, l.srvNS) != "1" ||
				sysctlIn(t, l.srvNS, ip6ForwardPath) != "1" || sysctlIn(t, l.srvNS, acceptRA) != "2" {
				t.Fatal("SIGKILL undid NAT: the crash case is not being tested")
			}
			if backend == "iptables" && !strings.Contains(nsOutput(t, l.srvNS, "ip6tables", "-w", "-S"), "-A FORWARD -j PPPOED-FWD") {
				t.Fatal("no ip6tables chains after SIGKILL: their removal is not being tested")
			}
			if _, err := os.Stat(state); err != nil {
				t.Fatalf("no state file after SIGKILL: %v", err)
			}

			srv2 := l.startServer(base...)
			srv2.waitLog("found NAT state left by an earlier pppoed; started without --nat-out", time.Second)
			srv2.waitLog("msg=\"NAT removed\" ip_forward=0 ipv6_forwarding=0 wan_accept_ra=1", time.Second)
			if left := ourRules(t, l.srvNS); left != "" {
				t.Fatalf("the leftover rules are still there:\n%s", left)
			}
			if got := ipForward(t, l.srvNS); got != before {
				t.Fatalf("ip_forward is %s, want the %s recorded", got, before)
			}
			if fwd, ra := sysctlIn(t, l.srvNS, ip6ForwardPath), sysctlIn(t, l.srvNS, acceptRA); fwd != "0" || ra != "1" {
				t.Fatalf("IPv6 forwarding %s and accept_ra %s, want the 0 and 1 recorded", fwd, ra)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("state file left behind: %v", err)
			}
			srv2.stop()

			// A state file whose writer still runs is no leftover.
			sleep := exec.Command("sleep", "60")
			if err := sleep.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
			netns := strings.TrimSpace(nsOutput(t, l.srvNS, "readlink", "/proc/self/ns/net"))
			body := "ip_forward=1\nbackend=" + backend + "\nwan=" + srvWAN + "\nowner=" + processIdentity(sleep.Process.Pid) + "\nnetns=" + netns + "\n"
			if err := os.WriteFile(state, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			srv3 := l.startServer(base...)
			srv3.waitLog("the NAT state file belongs to a pppoed that still runs; leaving it", time.Second)
			srv3.stop()
			if b, err := os.ReadFile(state); err != nil || string(b) != body {
				t.Errorf("a running owner's state file was changed: %q, %v", b, err)
			}
		})
	}
}

func TestIntegrationNoNATNoChanges(t *testing.T) {
	l := newLab(t)
	requireTool(t, "nft")
	before := ipForward(t, l.srvNS)
	nftBefore := nsOutput(t, l.srvNS, "nft", "list", "ruleset")
	d := l.startServer()
	if ipForward(t, l.srvNS) != before || !bytes.Equal([]byte(nsOutput(t, l.srvNS, "nft", "list", "ruleset")), []byte(nftBefore)) {
		t.Fatal("pppoed without --nat-out changed ip_forward or the ruleset")
	}
	d.stop()
}

// The IPv6 lab's addresses: the sessions' /64 pool and the delegated pool
// as pppoed is told them, the client's address from each, and the WAN.
const (
	lab6Pool      = "2001:db8:100::/56"
	lab6Delegated = "2001:db8:200::/48"
	lab6Client    = "2001:db8:100:1::2"
	lab6ClientPD  = "2001:db8:200:5::1"
	lab6WAN       = "2001:db8:ffff::2"
)

// addIPv6 routes IPv6 from the client namespace through the server's to
// the WAN host (addWAN), without PPP: a veth from the client namespace to
// the server's (pd<id>6) stands in for the sessions' side, the TUN device
// or pppN, with the server at 2001:db8:100:1::1, the client at lab6Client
// and lab6ClientPD (on its lo, routed to it as a delegated prefix is). The
// WAN host routes both pools back to the server's WAN address: routed,
// not NAT. No address waits for DAD.
func (l *lab) addIPv6(wanNS, srvWAN string) {
	l.t.Helper()
	srv6 := "pd" + l.id + "6"
	l.ip("link", "add", srv6, "netns", l.srvNS, "type", "veth", "peer", "name", "v6", "netns", l.cliNS)
	l.ip("-n", l.srvNS, "addr", "add", "2001:db8:100:1::1/64", "dev", srv6, "nodad")
	l.ip("-n", l.srvNS, "link", "set", srv6, "up")
	l.ip("-n", l.srvNS, "route", "add", "2001:db8:200:5::/64", "via", lab6Client, "dev", srv6)
	l.ip("-n", l.cliNS, "addr", "add", lab6Client+"/64", "dev", "v6", "nodad")
	l.ip("-n", l.cliNS, "addr", "add", lab6ClientPD+"/128", "dev", "lo", "nodad")
	l.ip("-n", l.cliNS, "link", "set", "v6", "up")
	l.ip("-n", l.cliNS, "-6", "route", "add", "default", "via", "2001:db8:100:1::1", "dev", "v6")
	l.ip("-n", l.srvNS, "addr", "add", "2001:db8:ffff::1/64", "dev", srvWAN, "nodad")
	l.ip("-n", wanNS, "addr", "add", lab6WAN+"/64", "dev", "wan0", "nodad")
	l.ip("-n", wanNS, "route", "add", lab6Pool, "via", "2001:db8:ffff::1")
	l.ip("-n", wanNS, "route", "add", lab6Delegated, "via", "2001:db8:ffff::1")
}

// ping6 pings the WAN host once from src in the client namespace.
func (l *lab) ping6(src string) error {
	_, err := l.client(5*time.Second, "ping", "-6", "-n", "-c", "1", "-W", "1", "-I", src, lab6WAN)
	return err
}

// udpEcho6 is a UDP server for the WAN host that answers each datagram
// with the source address it came from.
const udpEcho6 = `import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("` + lab6WAN + `", 7007))
print("ready", flush=True)
while True:
    b, a = s.recvfrom(64)
    s.sendto(a[0].encode(), a)
`

// udpAsk6 sends one datagram from the address in argv[1] to the WAN host
// and prints the answer.
const udpAsk6 = `import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(1)
s.bind((sys.argv[1], 0))
s.sendto(b"?", ("` + lab6WAN + `", 7007))
print(s.recvfrom(64)[0].decode())
`

// TestIntegrationNATIPv6: with --nat-out and the IPv6 pools, IPv6 is routed,
// not masqueraded. Both backends turn IPv6 forwarding on and the WAN's
// accept_ra from 1 to 2, and install forward accepts and MSS clamping for
// the pools and no IPv6 NAT. Pings from an address of each pool reach the
// WAN host, which sees the client's own address, and the SYN's MSS there
// is 1432 (1492 − 60). With iptables, the FORWARD policy is DROP, and
// without pppoed's jump the ping fails. A SIGKILL and a restart leave one
// set and still restore the values from before the first start, as a clean
// stop does, with nothing of pppoed's left in nft, iptables or ip6tables.
func TestIntegrationNATIPv6(t *testing.T) {
	for _, backend := range []string{"nft", "iptables"} {
		t.Run(backend, func(t *testing.T) {
			l := newLab(t)
			requireTool(t, backend)
			if backend == "iptables" {
				requireTool(t, "ip6tables")
			}
			requireTool(t, "ping")
			tcpdump := requireTool(t, "tcpdump")
			py := "/usr/bin/python3"
			if _, err := os.Stat(py); err != nil {
				skipf(t, "%s is missing", py)
			}
			wanNS, srvWAN := l.addWAN()
			l.addIPv6(wanNS, srvWAN)
			acceptRA := "/proc/sys/net/ipv6/conf/" + srvWAN + "/accept_ra"
			before := ipForward(t, l.srvNS)
			before6 := sysctlIn(t, l.srvNS, ip6ForwardPath)
			if before6 != "0" || sysctlIn(t, l.srvNS, acceptRA) != "1" {
				t.Fatalf("a new namespace has IPv6 forwarding %s and accept_ra %s on the WAN, want 0 and 1",
					before6, sysctlIn(t, l.srvNS, acceptRA))
			}
			if backend == "iptables" {
				nsOutput(t, l.srvNS, "ip6tables", "-w", "-P", "FORWARD", "DROP")
			}
			if err := l.ping6(lab6Client); err == nil {
				t.Fatal("the client reaches the WAN host before pppoed runs: the test proves nothing")
			}

			echo := inNS(wanNS, py, "-c", udpEcho6)
			echoOut := &syncBuffer{}
			echo.Stdout, echo.Stderr = echoOut, echoOut
			if err := echo.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { echo.Process.Kill(); echo.Wait() })
			syns := &syncBuffer{}
			dump := inNS(wanNS, tcpdump, "-i", "wan0", "-n", "-l", "-v", "ip6 and tcp dst port 80")
			dump.Stdout, dump.Stderr = syns, syns
			if err := dump.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { dump.Process.Kill(); dump.Wait() })

			state := t.TempDir() + "/nat.state"
			args := append(l.pppFiles("require-chap\n", "u * p *\n"),
				"-L", "10.0.0.1", "-R", "10.0.0.2", "--nat-out", srvWAN, "--nat-backend", backend, "--nat-state-file", state,
				"--ipv6-prefix-pool", lab6Pool, "--ipv6-delegated-pool", lab6Delegated)
			srv := l.startServer(args...)
			srv.waitLog("msg=\"NAT set up\"", time.Second)
			if !strings.Contains(srv.log.String(), "ipv6_routed=\"["+lab6Delegated+" "+lab6Pool+"]\"") {
				t.Errorf("the NAT log line does not name the routed IPv6 prefixes:\n%s", srv.log.String())
			}
			if ipForward(t, l.srvNS) != "1" || sysctlIn(t, l.srvNS, ip6ForwardPath) != "1" || sysctlIn(t, l.srvNS, acceptRA) != "2" {
				t.Fatalf("while pppoed runs: ip_forward %s, IPv6 forwarding %s, accept_ra %s; want 1, 1, 2",
					ipForward(t, l.srvNS), sysctlIn(t, l.srvNS, ip6ForwardPath), sysctlIn(t, l.srvNS, acceptRA))
			}
			checkNAT6Rules(t, l, backend, srvWAN)

			for _, src := range []string{lab6Client, lab6ClientPD} {
				var err error
				for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
					if err = l.ping6(src); err == nil {
						break
					}
				}
				if err != nil {
					t.Fatalf("ping from %s to the WAN host: %v", src, err)
				}
				// The WAN host saw the client's address: routed, not NAT.
				var out string
				for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
					if out, err = l.client(5*time.Second, py, "-c", udpAsk6, src); err == nil {
						break
					}
				}
				if got := strings.TrimSpace(out); err != nil || got != src {
					t.Fatalf("the WAN host saw the datagram from %s come from %q (%v)\necho server: %s", src, got, err, echoOut.String())
				}
			}

			// A SYN from the client, whose veth MTU of 1500 makes its MSS
			// 1440; nothing listens on port 80, so an RST ends it.
			l.client(5*time.Second, py, "-c", `import socket
try:
    socket.create_connection(("`+lab6WAN+`", 80), timeout=1)
except OSError:
    pass
`)
			for deadline := time.Now().Add(3 * time.Second); !strings.Contains(syns.String(), "mss ") && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			m := regexp.MustCompile(`mss (\d+)`).FindStringSubmatch(syns.String())
			if m == nil || m[1] != "1432" {
				t.Fatalf("IPv6 SYN at the WAN host: mss %v, want 1432 (1492 − 60)\n%s", m, syns.String())
			}

			if backend == "iptables" {
				// The accepts are what gets the ping past the DROP policy.
				nsOutput(t, l.srvNS, "ip6tables", "-w", "-D", "FORWARD", "-j", fwdChain)
				if err := l.ping6(lab6Client); err == nil {
					t.Fatal("the ping passes the FORWARD policy DROP without pppoed's jump: the accepts are not what let it through")
				}
				nsOutput(t, l.srvNS, "ip6tables", "-w", "-I", "FORWARD", "1", "-j", fwdChain)
			}

			srv.cmd.Process.Kill()
			<-srv.done
			if ourRules(t, l.srvNS) == "" || sysctlIn(t, l.srvNS, acceptRA) != "2" {
				t.Fatal("SIGKILL undid NAT: the crash case is not being tested")
			}
			srv2 := l.startServer(args...)
			srv2.waitLog("found NAT state left by an earlier pppoed", time.Second)
			srv2.waitLog("msg=\"NAT set up\"", time.Second)
			checkNAT6Rules(t, l, backend, srvWAN)
			if b, _ := os.ReadFile(state); !strings.Contains(string(b), "\nipv6_forwarding=0\n") || !strings.Contains(string(b), "\naccept_ra=1\n") {
				t.Errorf("after a restart the state file does not record the values from before the first start:\n%s", b)
			}
			if err := l.ping6(lab6ClientPD); err != nil {
				t.Errorf("no ping after the restart: %v", err)
			}
			srv2.stop()
			if left := ourRules(t, l.srvNS); left != "" {
				t.Fatalf("pppoed left rules behind:\n%s", left)
			}
			if got := [3]string{ipForward(t, l.srvNS), sysctlIn(t, l.srvNS, ip6ForwardPath), sysctlIn(t, l.srvNS, acceptRA)}; got != [3]string{before, before6, "1"} {
				t.Fatalf("after exit: ip_forward, IPv6 forwarding, accept_ra = %q, want %q", got, [3]string{before, before6, "1"})
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("state file left behind: %v", err)
			}
		})
	}
}

// checkNAT6Rules checks that exactly one set of pppoed's IPv6 rules is
// there, and no IPv6 NAT.
func checkNAT6Rules(t *testing.T, l *lab, backend, wan string) {
	t.Helper()
	switch backend {
	case "nft":
		table := nsOutput(t, l.srvNS, "nft", "list", "table", "inet", "pppoed")
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`oifname "` + wan + `" ip6 saddr \{ [^}]*` + lab6Pool + `[^}]* \} accept`),
			regexp.MustCompile(`iifname "` + wan + `" ip6 daddr \{ [^}]*` + lab6Delegated + `[^}]* \} ct state established,related accept`),
			regexp.MustCompile(`ip6 saddr \{ [^}]* \} tcp flags syn / syn,rst tcp option maxseg size > 1432 tcp option maxseg size set 1432`),
			regexp.MustCompile(`ip6 daddr \{ [^}]* \} tcp flags syn / syn,rst tcp option maxseg size > 1432 tcp option maxseg size set 1432`),
		} {
			if len(want.FindAllString(table, -1)) != 1 {
				t.Errorf("not one rule matching %s in:\n%s", want, table)
			}
		}
		if regexp.MustCompile(`ip6 .*masquerade`).MatchString(table) {
			t.Errorf("IPv6 is masqueraded:\n%s", table)
		}
		if n := strings.Count(nsOutput(t, l.srvNS, "nft", "list", "tables"), "table inet pppoed"); n != 1 {
			t.Errorf("%d pppoed tables, want 1", n)
		}
	case "iptables":
		filter := nsOutput(t, l.srvNS, "ip6tables", "-w", "-S")
		mangle := nsOutput(t, l.srvNS, "ip6tables", "-w", "-t", "mangle", "-S")
		for _, want := range []string{
			"-A PPPOED-FWD -s " + lab6Pool + " -o " + wan + " -j ACCEPT",
			"-A PPPOED-FWD -s " + lab6Delegated + " -o " + wan + " -j ACCEPT",
			"-A PPPOED-FWD -d " + lab6Pool + " -i " + wan + " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
			"-A PPPOED-FWD -d " + lab6Delegated + " -i " + wan + " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		} {
			if strings.Count(filter, want+"\n") != 1 {
				t.Errorf("not one %q in ip6tables -S:\n%s", want, filter)
			}
		}
		// The jump comes first in FORWARD, ahead of any final REJECT.
		if fwd := regexp.MustCompile(`(?m)^-A FORWARD .*$`).FindAllString(filter, -1); len(fwd) != 1 || fwd[0] != "-A FORWARD -j PPPOED-FWD" {
			t.Errorf("FORWARD rules %q, want one jump to PPPOED-FWD", fwd)
		}
		if strings.Count(mangle, "-A FORWARD -j PPPOED-MSS\n") != 1 || strings.Count(mangle, "--set-mss 1432") != 4 {
			t.Errorf("ip6tables mangle, want one jump and 4 clamps to 1432:\n%s", mangle)
		}
		if nat, _ := inNS(l.srvNS, "ip6tables", "-w", "-t", "nat", "-S").CombinedOutput(); strings.Contains(string(nat), "PPPOED") ||
			strings.Contains(string(nat), "MASQUERADE") {
			t.Errorf("IPv6 NAT:\n%s", nat)
		}
	}
}

// TestIntegrationNATIPv6NoIP6tables: with the iptables backend, IPv6 on
// and no ip6tables in PATH, pppoed says so in one warning, sets IPv4 NAT
// and IPv6 forwarding up as usual, and undoes it on exit.
func TestIntegrationNATIPv6NoIP6tables(t *testing.T) {
	l := newLab(t)
	iptables := requireTool(t, "iptables")
	_, srvWAN := l.addWAN()
	bin := t.TempDir()
	if err := os.Symlink(iptables, bin+"/iptables"); err != nil {
		t.Fatal(err)
	}
	l.serverEnv = []string{"PATH=" + bin}
	args := append(l.pppFiles("require-chap\n", "u * p *\n"), "-L", "10.0.0.1", "-R", "10.0.0.2",
		"--nat-out", srvWAN, "--nat-backend", "iptables", "--ipv6-prefix-pool", lab6Pool)
	srv := l.startServer(args...)
	srv.waitLog("msg=\"NAT set up\"", time.Second)
	if n := strings.Count(srv.log.String(), "ip6tables is missing"); n != 1 || !strings.Contains(srv.log.String(), "level=WARN msg=\"ip6tables is missing") {
		t.Errorf("%d warnings about ip6tables, want 1:\n%s", n, srv.log.String())
	}
	if nat := nsOutput(t, l.srvNS, "iptables", "-w", "-t", "nat", "-S"); !strings.Contains(nat, "-A POSTROUTING -j PPPOED-NAT") {
		t.Errorf("no IPv4 NAT:\n%s", nat)
	}
	if ipForward(t, l.srvNS) != "1" || sysctlIn(t, l.srvNS, ip6ForwardPath) != "1" {
		t.Error("forwarding is not on")
	}
	srv.stop()
	if left := ourRules(t, l.srvNS); left != "" {
		t.Fatalf("pppoed left rules behind:\n%s", left)
	}
	if ipForward(t, l.srvNS) != "0" || sysctlIn(t, l.srvNS, ip6ForwardPath) != "0" {
		t.Error("forwarding is still on after exit")
	}
}
