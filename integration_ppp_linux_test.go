package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pppFiles writes an options file and a chap-secrets file for a test and
// returns the server flags that use them.
func (l *lab) pppFiles(options, chapSecrets string) []string {
	l.t.Helper()
	dir := l.t.TempDir()
	write := func(name, body string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			l.t.Fatal(err)
		}
		return p
	}
	return []string{"-O", write("options", options), "--chap-secrets", write("chap-secrets", chapSecrets),
		"--pap-secrets", dir + "/no-pap-secrets"}
}

// startClient runs pppoed client in the client namespace.
func (l *lab) startClient(args ...string) *daemon {
	l.t.Helper()
	d := &daemon{t: l.t, log: &syncBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command("ip", append([]string{"netns", "exec", l.cliNS, binPath, "client", "-I", l.cliIf}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	l.t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.done:
			case <-time.After(10 * time.Second):
				d.cmd.Process.Kill()
				<-d.done
			}
		}
		if l.t.Failed() {
			l.t.Logf("client output:\n%s", d.log.String())
		}
	})
	return d
}

var upLine = regexp.MustCompile(`session (\d+) up: mac=(\S+) sid=(\d+) ip=(\S+) peer=(\S+) dns=(\S*)`)

const seedLikeOptions = "lcp-echo-interval 10\nlcp-echo-failure 2\nms-dns 218.108.248.200\nms-dns 8.8.4.4\n"

func TestIntegrationPPPAuthMethods(t *testing.T) {
	for _, m := range []struct{ require, auth string }{
		{"require-pap", "pap"},
		{"require-chap", "chap"},
		{"require-mschap-v2", "mschapv2"},
	} {
		t.Run(m.auth, func(t *testing.T) {
			l := newLab(t)
			srv := l.startServer(append(l.pppFiles(m.require+"\n"+seedLikeOptions, "alice * \"s3cret pw\" *\n"),
				"-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "8")...)
			c := l.startClient("-u", "alice", "-p", "s3cret pw", "--auth", m.auth)
			c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
			mm := upLine.FindStringSubmatch(c.log.String())
			if mm == nil || mm[4] != "10.0.0.2" || mm[5] != "10.0.0.1" || mm[6] != "218.108.248.200,8.8.4.4" {
				t.Fatalf("client got %q, want ip 10.0.0.2 peer 10.0.0.1 and both DNS servers", mm)
			}
			srv.waitLog("method="+m.auth, 2*time.Second)
			if strings.Contains(srv.log.String(), "s3cret") {
				t.Fatal("the secret appears in the server log")
			}
		})
	}
}

// The seed's files, byte for byte: CHAP as rp-pppoe/rp-pppoe gets 10.0.0.2
// and both DNS servers; the client pings the server and the server pings it.
func TestIntegrationSeedFilesAndPing(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	args := l.pppFiles(seedOptions, "rp-pppoe * rp-pppoe *\n")
	// The seed's logfile line points at /var/log/pppoe.log; keep it, as
	// the seed does, but do not leave a stray file behind.
	_, statErr := os.Stat("/var/log/pppoe.log")
	if statErr != nil {
		t.Cleanup(func() { os.Remove("/var/log/pppoe.log") })
	}
	srv := l.startServer(append(args, "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "64")...)
	c := l.startClient("-u", "rp-pppoe", "-p", "rp-pppoe", "--tun")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	mm := upLine.FindStringSubmatch(c.log.String())
	if mm == nil || mm[4] != "10.0.0.2" || mm[6] != "218.108.248.200,8.8.4.4" {
		t.Fatalf("client got %q", mm)
	}
	srv.waitLog("method=chap", 2*time.Second)
	if out, err := exec.Command("ip", "netns", "exec", l.cliNS, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.1").CombinedOutput(); err != nil {
		t.Fatalf("client → server ping: %v\n%s", err, out)
	}
	if out, err := exec.Command("ip", "netns", "exec", l.srvNS, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2").CombinedOutput(); err != nil {
		t.Fatalf("server → client ping: %v\n%s", err, out)
	}
	// The MRU holds: 1492 bytes of IP get through with DF, 1493 do not.
	if out, err := exec.Command("ip", "netns", "exec", l.cliNS, "ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1464", "10.0.0.1").CombinedOutput(); err != nil {
		t.Fatalf("1492-byte ping: %v\n%s", err, out)
	}
}

// TestIntegrationSecretsFileWarnings: the secrets file's problems are
// logged at start, each naming the file (and line); the broken line locks
// out nobody else, and the login it breaks fails as a skipped entry.
func TestIntegrationSecretsFileWarnings(t *testing.T) {
	l := newLab(t)
	args := l.pppFiles("require-chap\n", "alice * pw 10.0.0.300\nu * p *\n")
	chap := args[3]
	if err := os.Chmod(chap, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := l.startServer(append(args, "-R", "10.0.0.2", "-N", "4")...)
	for _, want := range []string{
		`level=WARN msg="` + chap + `:1: word 4: pppoe: bad address rule`,
		`level=WARN msg="Warning - secret file ` + chap + ` has world and/or group access (mode 0644); chmod 600 it"`,
	} {
		if !strings.Contains(srv.log.String(), want) {
			t.Errorf("the start log lacks %s", want)
		}
	}
	c := l.startClient("-u", "u", "-p", "p")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	c.cmd.Process.Signal(syscall.SIGTERM)
	<-c.done
	c2 := l.startClient("-u", "alice", "-p", "pw", "--timeout", "10s")
	srv.waitLog(`user=alice method=chap reason="entry skipped: `+chap+`:1: word 4: pppoe: bad address rule`, 10*time.Second)
	<-c2.done
	if strings.Contains(srv.log.String(), "unknown user") {
		t.Errorf("a failure logged as an unknown user:\n%s", srv.log.String())
	}
}

func TestIntegrationWrongPassword(t *testing.T) {
	l := newLab(t)
	srv := l.startServer(append(l.pppFiles("require-chap\n"+seedLikeOptions, "alice * right *\n"), "-R", "10.0.0.2", "-N", "4")...)
	c := l.startClient("-u", "alice", "-p", "wrong", "--timeout", "10s")
	// The client saw the CHAP Failure, then the server's PADT.
	c.waitLog(`session 0 failed: authentication failed: "Authentication failed", then the server sent PADT`, 10*time.Second)
	srv.waitLog(`reason="wrong password"`, 2*time.Second)
	srv.waitLog(`msg="session ended"`, 5*time.Second)
	<-c.done
	// No address leaked: the next good login gets the first address.
	c2 := l.startClient("-u", "alice", "-p", "right")
	c2.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	if mm := upLine.FindStringSubmatch(c2.log.String()); mm == nil || mm[4] != "10.0.0.2" {
		t.Fatalf("after a failed login the next client got %q, want 10.0.0.2", mm)
	}
}

// The secrets file's address column pins the client's address.
func TestIntegrationStaticAddress(t *testing.T) {
	l := newLab(t)
	l.startServer(append(l.pppFiles("require-chap\n", "alice * pw 10.0.0.9\nbob * pw -\n"), "-R", "10.0.0.2", "-N", "16")...)
	c := l.startClient("-u", "alice", "-p", "pw")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	if mm := upLine.FindStringSubmatch(c.log.String()); mm == nil || mm[4] != "10.0.0.9" {
		t.Fatalf("alice got %q, want her static 10.0.0.9", mm)
	}
	// "-" allows no address: bob authenticates but is refused.
	c2 := l.startClient("-u", "bob", "-p", "pw", "--timeout", "10s")
	c2.waitLog("session 0 failed", 10*time.Second)
}

// A client killed with SIGKILL sends nothing more; keepalive must reap it
// within lcp-echo-interval × lcp-echo-failure + 1 s and free its address.
func TestIntegrationKilledClientReaped(t *testing.T) {
	l := newLab(t)
	srv := l.startServer(append(l.pppFiles("require-chap\nlcp-echo-interval 2\nlcp-echo-failure 2\n", "u * p *\n"), "-R", "10.0.0.2", "-N", "1")...)
	c := l.startClient("-u", "u", "-p", "p")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	killed := time.Now()
	c.cmd.Process.Kill()
	<-c.done
	srv.waitLog("no answer to LCP echo requests", 8*time.Second)
	if took := time.Since(killed); took > 5*time.Second+500*time.Millisecond {
		t.Errorf("reaped after %v, want at most 2s × 2 + 1s", took)
	}
	// -N 1: the only address must be free again.
	c2 := l.startClient("-u", "u", "-p", "p")
	c2.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
}

// IPv6CP gets a Protocol-Reject and the session stays up (RFC 1661 §5.7).
func TestIntegrationIPv6CPRejected(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	srv := l.startServer(append(l.pppFiles("noauth\n", ""), "-R", "10.0.0.2")...)
	c := l.startClient("--tun")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	mm := upLine.FindStringSubmatch(c.log.String())
	var sid uint16
	fmt.Sscan(mm[3], &sid)
	mac, _ := parseMAC(mm[2])

	raw := l.openRaw(l.cliNS, l.cliIf, etherTypeSession)
	// IPv6CP Configure-Request with an Interface-Identifier option.
	cp := []byte{1, 1, 0, 14, 1, 10, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55}
	f := make([]byte, headroom+len(cp))
	putSessionHeader(f, l.srvMAC, mac, etherTypeSession, sid, protoIPv6CP)
	copy(f[headroom:], cp)
	if err := raw.writeFrame(f); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	buf := make([]byte, frameSize)
	found := false
	for !found && time.Now().Before(deadline) {
		raw.conn.SetReadDeadline(deadline)
		n, err := raw.readFrame(buf)
		if err != nil {
			break
		}
		b := buf[:n]
		if n >= headroom+6 && binary.BigEndian.Uint16(b[20:]) == protoLCP && b[headroom] == uint8(cpProtoRej) &&
			binary.BigEndian.Uint16(b[headroom+4:]) == protoIPv6CP {
			found = true
		}
	}
	if !found {
		t.Fatal("no LCP Protocol-Reject for IPv6CP")
	}
	if out, err := exec.Command("ip", "netns", "exec", l.cliNS, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.0.0.1").CombinedOutput(); err != nil {
		t.Fatalf("session is not up after the Protocol-Reject: %v\n%s", err, out)
	}
	if strings.Contains(srv.log.String(), "session ended") {
		t.Fatal("the session ended")
	}
}

func TestIntegrationManySessions(t *testing.T) {
	l := newLab(t)
	const n = 200
	srv := l.startServer(append(l.pppFiles("require-chap\n"+seedLikeOptions, "load * load *\n"),
		"-R", "10.1.0.1", "-N", fmt.Sprint(n))...)
	c := l.startClient("-u", "load", "-p", "load", "-n", fmt.Sprint(n), "--timeout", "60s")
	c.waitLog(fmt.Sprintf("summary: %d of %d sessions up", n, n), 90*time.Second)
	seen := map[string]bool{}
	for _, m := range upLine.FindAllStringSubmatch(c.log.String(), -1) {
		if seen[m[4]] {
			t.Fatalf("address %s handed out twice", m[4])
		}
		seen[m[4]] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct addresses, want %d", len(seen), n)
	}
	t.Logf("%s", regexp.MustCompile(`summary: .*`).FindString(c.log.String()))
	// The client can see its last IPCP open a moment before the server
	// logs its own.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(srv.log.String(), `msg="session up"`) < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := strings.Count(srv.log.String(), `msg="session up"`); got != n {
		t.Fatalf("server logged %d sessions up, want %d", got, n)
	}
}

// A minimal scapy client, an implementation independent of ours, completes
// a whole PAP session.
func TestIntegrationScapyPAPClient(t *testing.T) {
	l := newLab(t)
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import scapy.layers.ppp").Run(); err != nil {
		skipf(t, "python3-scapy is not installed: %v", err)
	}
	srv := l.startServer(append(l.pppFiles("require-pap\n"+seedLikeOptions, "bob * hunter2 *\n"), "-R", "10.0.0.2")...)
	out, err := l.client(40*time.Second, py, "test/scapy_pap_client.py", l.cliIf, "bob", "hunter2")
	if err != nil || !strings.Contains(out, "OK ip=10.0.0.2 dns1=218.108.248.200 dns2=8.8.4.4") {
		t.Fatalf("scapy client: %v\n%s", err, out)
	}
	srv.waitLog("method=pap", 2*time.Second)
}

func parseMAC(s string) (hwAddr, error) {
	var m hwAddr
	_, err := fmt.Sscanf(s, "%02x:%02x:%02x:%02x:%02x:%02x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5])
	return m, err
}

// A client with an MRU below 1492 (Windows asks for 1480) still gets
// larger packets, fragmented by the kernel, because its host route carries
// its MRU; and the route goes when the session does.
func TestIntegrationSmallMRU(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	srv := l.startServer(append(l.pppFiles("noauth\n", ""), "-R", "10.0.0.2")...)
	c := l.startClient("--tun", "--mru", "1400")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	routes := nsOutput(t, l.srvNS, "ip", "route", "show", "10.0.0.2")
	if !strings.Contains(routes, "mtu 1400") {
		t.Fatalf("no host route with mtu 1400:\n%s", routes)
	}
	// 1450 bytes of ICMP data do not fit 1400: the kernel fragments.
	if out, err := inNS(l.srvNS, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-s", "1450", "10.0.0.2").CombinedOutput(); err != nil {
		t.Fatalf("large ping to a 1400-MRU client: %v\n%s\nserver log:\n%s", err, out, srv.log.String())
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	<-c.done
	srv.waitLog(`msg="session ended"`, 5*time.Second)
	if routes := nsOutput(t, l.srvNS, "ip", "route", "show", "10.0.0.2"); strings.Contains(routes, "mtu") {
		t.Fatalf("the MTU route outlived the session:\n%s", routes)
	}
}
