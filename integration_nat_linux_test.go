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
	return strings.Join(found, "\n")
}

func ipForward(t *testing.T, ns string) string {
	return strings.TrimSpace(nsOutput(t, ns, "cat", "/proc/sys/net/ipv4/ip_forward"))
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
// killed pppoed added and restores the ip_forward it recorded, with a log
// line; the state file of a process that still runs is left alone.
func TestIntegrationNATLeftoverWithoutNATOut(t *testing.T) {
	for _, backend := range []string{"nft", "iptables"} {
		t.Run(backend, func(t *testing.T) {
			l := newLab(t)
			requireTool(t, backend)
			_, srvWAN := l.addWAN()
			before := ipForward(t, l.srvNS)
			if before != "0" {
				t.Fatalf("ip_forward is %s in a new namespace, want 0", before)
			}
			state := t.TempDir() + "/nat.state"
			files := l.pppFiles("require-chap\n", "u * p *\n")
			base := append(files, "-L", "10.0.0.1", "-R", "10.0.0.2", "--nat-state-file", state)
			srv := l.startServer(append(base, "--nat-out", srvWAN, "--nat-backend", backend)...)
			srv.cmd.Process.Kill()
			<-srv.done
			if ourRules(t, l.srvNS) == "" || ipForward(t, l.srvNS) != "1" {
				t.Fatal("SIGKILL undid NAT: the crash case is not being tested")
			}
			if _, err := os.Stat(state); err != nil {
				t.Fatalf("no state file after SIGKILL: %v", err)
			}

			srv2 := l.startServer(base...)
			srv2.waitLog("found NAT state left by an earlier pppoed; started without --nat-out", time.Second)
			srv2.waitLog("msg=\"NAT removed\" ip_forward=0", time.Second)
			if left := ourRules(t, l.srvNS); left != "" {
				t.Fatalf("the leftover rules are still there:\n%s", left)
			}
			if got := ipForward(t, l.srvNS); got != before {
				t.Fatalf("ip_forward is %s, want the %s recorded", got, before)
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
