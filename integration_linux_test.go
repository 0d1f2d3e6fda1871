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

func TestIntegrationPPPoEDiscoveryTool(t *testing.T) {
	l := newLab(t)
	tool := requireTool(t, "pppoe-discovery")
	l.startServer("-S", "svc1", "-S", "svc2")
	out, err := l.client(10*time.Second, tool, "-I", l.cliIf, "-t", "1", "-a", "2")
	if err != nil {
		t.Fatalf("pppoe-discovery: %v\n%s", err, out)
	}
	for _, want := range []string{"Access-Concentrator: labAC", "Service-Name: svc1", "Service-Name: svc2",
		"AC-Ethernet-Address: " + l.srvMAC.String()} {
		if !strings.Contains(out, want) {
			t.Errorf("pppoe-discovery output lacks %q:\n%s", want, out)
		}
	}
}

func TestIntegrationRPPPPoEList(t *testing.T) {
	l := newLab(t)
	tool := requireTool(t, "pppoe")
	l.startServer("-S", "isp")
	out, err := l.client(15*time.Second, tool, "-I", l.cliIf, "-A")
	if err != nil {
		t.Fatalf("pppoe -A: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Access-Concentrator: labAC") || !strings.Contains(out, "Service-Name: isp") {
		t.Errorf("pppoe -A does not list us:\n%s", out)
	}
}

// pppoe -d completes PADR/PADS and prints sid:mac; pppoe -k -e sends the
// PADT that ends the session.
func TestIntegrationRPPPPoESessionAndPADT(t *testing.T) {
	l := newLab(t)
	tool := requireTool(t, "pppoe")
	d := l.startServer("-S", "svc1", "--setup-timeout", "60s")
	out, err := l.client(15*time.Second, tool, "-I", l.cliIf, "-d", "-S", "svc1", "-U")
	if err != nil {
		t.Fatalf("pppoe -d: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^(\d+):([0-9a-f:]{17})$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("pppoe -d printed no sid:mac:\n%s", out)
	}
	if m[2] != l.srvMAC.String() {
		t.Errorf("pppoe -d names AC %s, want %s", m[2], l.srvMAC)
	}
	d.waitLog("sid="+m[1], 5*time.Second)
	d.waitLog(`msg="session started"`, 5*time.Second)
	if out, err := l.client(10*time.Second, tool, "-I", l.cliIf, "-k", "-e", m[1]+":"+m[2]); err != nil {
		t.Fatalf("pppoe -k: %v\n%s", err, out)
	}
	d.waitLog(`reason="peer sent PADT"`, 5*time.Second)
}

func TestIntegrationCookies(t *testing.T) {
	l := newLab(t)
	l.startServer("--cookie-lifetime", "1s")
	c := l.rawClient()

	forged := c.offer(l.cliMAC)
	forged[len(forged)-1] ^= 0xff
	c.request(l.cliMAC, forged, "")
	if p := c.recv(l.cliMAC, time.Second); p != nil {
		t.Fatalf("forged cookie got %v", p.code)
	}

	expired := c.offer(l.cliMAC)
	time.Sleep(2100 * time.Millisecond)
	c.request(l.cliMAC, expired, "")
	if p := c.recv(l.cliMAC, time.Second); p != nil {
		t.Fatalf("expired cookie got %v", p.code)
	}

	c.send(frameOf(l.srvMAC, l.cliMAC, codePADR, 0, tag{tagServiceName, nil}))
	if p := c.recv(l.cliMAC, time.Second); p != nil {
		t.Fatalf("PADR without a cookie got %v", p.code)
	}

	good := c.offer(l.cliMAC)
	c.request(l.cliMAC, good, "")
	if p := c.expect(l.cliMAC, codePADS); p.sessionID == 0 {
		t.Fatal("a fresh cookie was refused")
	}
}

func TestIntegrationServiceNameError(t *testing.T) {
	l := newLab(t)
	l.startServer("-S", "svc1")
	c := l.rawClient()
	ck := c.offer(l.cliMAC)
	c.request(l.cliMAC, ck, "no-such-service")
	p := c.expect(l.cliMAC, codePADS)
	if v, ok := p.find(tagServiceNameError); p.sessionID != 0 || !ok || len(v) == 0 {
		t.Fatalf("sid %d tags %v, want session 0 and a Service-Name-Error", p.sessionID, tagsOf(p))
	}
	// And a PADI for it gets no PADO at all.
	c.send(frameOf(broadcastAddr, l.cliMAC, codePADI, 0, tag{tagServiceName, []byte("no-such-service")}))
	if p := c.recv(l.cliMAC, time.Second); p != nil {
		t.Fatalf("PADI for an unknown service got %v", p.code)
	}
}

func TestIntegrationExhaustion(t *testing.T) {
	l := newLab(t)
	l.startServer("-N", "2", "--setup-timeout", "60s")
	c := l.rawClient()
	for i := 1; i <= 2; i++ {
		c.request(macN(i), c.offer(macN(i)), "")
		if p := c.expect(macN(i), codePADS); p.sessionID == 0 {
			t.Fatalf("client %d refused", i)
		}
	}
	c.request(macN(3), c.offer(macN(3)), "")
	p := c.expect(macN(3), codePADS)
	if v, ok := p.find(tagACSystemError); p.sessionID != 0 || !ok || len(v) == 0 {
		t.Fatalf("third client: sid %d tags %v, want AC-System-Error", p.sessionID, tagsOf(p))
	}
}

func TestIntegrationNoPADOWhenFull(t *testing.T) {
	l := newLab(t)
	l.startServer("-N", "1", "-i", "--setup-timeout", "60s")
	c := l.rawClient()
	c.request(macN(1), c.offer(macN(1)), "")
	c.expect(macN(1), codePADS)
	c.send(frameOf(broadcastAddr, macN(2), codePADI, 0, tag{tagServiceName, nil}))
	if p := c.recv(macN(2), time.Second); p != nil {
		t.Fatalf("full server with -i sent %v", p.code)
	}
}

func TestIntegrationPerMACLimit(t *testing.T) {
	l := newLab(t)
	l.startServer("-x", "1", "--setup-timeout", "60s")
	c := l.rawClient()
	hu1, hu2 := tag{tagHostUniq, []byte{1}}, tag{tagHostUniq, []byte{2}}
	c1 := c.offer(l.cliMAC, hu1)
	c2 := c.offer(l.cliMAC, hu2)
	c.request(l.cliMAC, c1, "", hu1)
	if p := c.expect(l.cliMAC, codePADS); p.sessionID == 0 {
		t.Fatal("first session refused")
	}
	c.request(l.cliMAC, c2, "", hu2)
	p := c.expect(l.cliMAC, codePADS)
	if _, ok := p.find(tagACSystemError); p.sessionID != 0 || !ok {
		t.Fatalf("second session from the same MAC: sid %d tags %v", p.sessionID, tagsOf(p))
	}
	c.send(frameOf(broadcastAddr, l.cliMAC, codePADI, 0, tag{tagServiceName, nil}))
	if p := c.recv(l.cliMAC, time.Second); p != nil {
		t.Fatalf("PADI over the -x limit got %v", p.code)
	}
	// Another MAC is not limited.
	c.request(macN(7), c.offer(macN(7)), "")
	if p := c.expect(macN(7), codePADS); p.sessionID == 0 {
		t.Fatal("another MAC was refused")
	}
}

func TestIntegrationDuplicatePADR(t *testing.T) {
	l := newLab(t)
	d := l.startServer("--setup-timeout", "60s")
	c := l.rawClient()
	ck := c.offer(l.cliMAC)
	c.request(l.cliMAC, ck, "")
	a := c.expect(l.cliMAC, codePADS).sessionID
	c.request(l.cliMAC, ck, "")
	b := c.expect(l.cliMAC, codePADS).sessionID
	if a == 0 || a != b {
		t.Fatalf("session IDs %d and %d, want the same", a, b)
	}
	if n := strings.Count(d.log.String(), `msg="session started"`); n != 1 {
		t.Fatalf("%d sessions started, want 1", n)
	}
}

func TestIntegrationForeignPADT(t *testing.T) {
	l := newLab(t)
	d := l.startServer("--setup-timeout", "60s")
	c := l.rawClient()
	c.request(l.cliMAC, c.offer(l.cliMAC), "")
	sid := c.expect(l.cliMAC, codePADS).sessionID
	c.send(frameOf(l.srvMAC, macN(99), codePADT, sid))
	time.Sleep(300 * time.Millisecond)
	if strings.Contains(d.log.String(), "session ended") {
		t.Fatal("a PADT from a foreign MAC ended the session")
	}
	c.send(frameOf(l.srvMAC, l.cliMAC, codePADT, sid))
	d.waitLog(`reason="peer sent PADT"`, 3*time.Second)
}

// A burst of every kind of malformed frame must not stop the next client.
func TestIntegrationMalformedBurst(t *testing.T) {
	l := newLab(t)
	tool := requireTool(t, "pppoe-discovery")
	l.startServer()
	c := l.rawClient()
	good := frameOf(broadcastAddr, l.cliMAC, codePADI, 0, tag{tagServiceName, nil})
	var bad [][]byte
	bad = append(bad, good[:15], good[:19]) // AF_PACKET will not send less than an Ethernet header
	v := append([]byte(nil), good...)
	v[offVerType] = 0x12
	bad = append(bad, v)
	v = append([]byte(nil), good...)
	binary.BigEndian.PutUint16(v[offLength:], 1400)
	bad = append(bad, v)
	v = append([]byte(nil), good...)
	v[len(v)-1] = 0xff // tag length past the end
	bad = append(bad, v)
	bad = append(bad, frameOf(broadcastAddr, hwAddr{0x01, 0, 0x5e, 0, 0, 1}, codePADI, 0))     // multicast source
	bad = append(bad, frameOf(broadcastAddr, l.cliMAC, codePADI, 42))                          // PADI with a session ID
	bad = append(bad, frameOf(broadcastAddr, l.cliMAC, codePADR, 0, tag{tagServiceName, nil})) // broadcast PADR
	bad = append(bad, frameOf(broadcastAddr, l.cliMAC, codePADI, 0, tag{tagGenericError, make([]byte, 1470)}))
	for i := range 2000 {
		c.send(bad[i%len(bad)])
	}
	out, err := l.client(10*time.Second, tool, "-I", l.cliIf, "-t", "1", "-a", "3")
	if err != nil || !strings.Contains(out, "Access-Concentrator: labAC") {
		t.Fatalf("after the burst pppoe-discovery got: %v\n%s", err, out)
	}
}

func TestIntegrationShutdownSendsPADT(t *testing.T) {
	l := newLab(t)
	pidfile := t.TempDir() + "/pppoed.pid"
	d := l.startServer("--setup-timeout", "60s", "-X", pidfile)
	raw, err := os.ReadFile(pidfile)
	if err != nil || strings.TrimSpace(string(raw)) == "" {
		t.Fatalf("pid file: %v %q", err, raw)
	}
	c := l.rawClient()
	var sids []uint16
	for i := 1; i <= 3; i++ {
		c.request(macN(i), c.offer(macN(i)), "")
		sids = append(sids, c.expect(macN(i), codePADS).sessionID)
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	for i, sid := range sids {
		p := c.expect(macN(i+1), codePADT)
		if p.sessionID != sid {
			t.Errorf("PADT for %d, want %d", p.sessionID, sid)
		}
	}
	<-d.done
	if d.err != nil {
		t.Fatalf("exit: %v", d.err)
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}

// An interface that is down at start gets one clear line, and pppoed
// serves it once it comes up instead of exiting into a crash loop.
func TestIntegrationInterfaceDownAtStart(t *testing.T) {
	l := newLab(t)
	tool := requireTool(t, "pppoe-discovery")
	l.ip("-n", l.srvNS, "link", "set", l.srvIf, "down")
	d := l.spawnServer()
	d.waitLog("interface is down; waiting for it to come up", 5*time.Second)
	l.ip("-n", l.srvNS, "link", "set", l.srvIf, "up")
	d.waitLog("msg=listening", 5*time.Second)
	if n := strings.Count(d.log.String(), "interface is down"); n != 1 {
		t.Errorf("%d down messages, want 1", n)
	}
	out, err := l.client(10*time.Second, tool, "-I", l.cliIf, "-t", "1", "-a", "3")
	if err != nil || !strings.Contains(out, "labAC") {
		t.Fatalf("pppoe-discovery: %v\n%s", err, out)
	}
}

func TestIntegrationMissingInterface(t *testing.T) {
	l := newLab(t)
	out, err := exec.Command("ip", "netns", "exec", l.srvNS, binPath, "-I", "nosuch0", "-O", l.emptyOptions()).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want status 2 as for any bad input\n%s", err, out)
	}
	if string(out) != "pppoed: -I/interfaces: interface \"nosuch0\" does not exist\n" {
		t.Fatalf("output %q: want one line naming -I and the interface", out)
	}
}

// The options file's logfile line is honoured.
func TestIntegrationLogfile(t *testing.T) {
	l := newLab(t)
	logPath := t.TempDir() + "/pppoe.log"
	opts := t.TempDir() + "/options"
	if err := os.WriteFile(opts, []byte(fmt.Sprintf("logfile %s\n", logPath)), 0o644); err != nil {
		t.Fatal(err)
	}
	d := l.startServer("-O", opts)
	d.stop()
	raw, err := os.ReadFile(logPath)
	if err != nil || !strings.Contains(string(raw), "msg=listening") {
		t.Fatalf("logfile: %v\n%s", err, raw)
	}
}

// The AF_PACKET read and write paths allocate nothing per frame.
func TestIntegrationPacketLinkAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test runs this without it")
	}
	l := newLab(t)
	c := l.rawClient()
	srv := l.openRaw(l.srvNS, l.srvIf, etherTypeDiscovery)
	frame := frameOf(broadcastAddr, l.cliMAC, codePADI, 0, tag{tagServiceName, nil})
	buf := make([]byte, frameSize)
	n := testing.AllocsPerRun(200, func() {
		c.send(frame)
		if _, err := srv.readFrame(buf); err != nil {
			t.Fatal(err)
		}
		if err := srv.writeFrame(frame); err != nil {
			t.Fatal(err)
		}
	})
	// c.send goes through the same packetLink code, so this counts both
	// ends of the wire.
	if n != 0 {
		t.Fatalf("%v allocs per frame, want 0", n)
	}
}

// -k on a kernel without PPP fails at once with a clear message, and auto
// mode falls back to TUN with one log line.
func TestIntegrationKernelModeMissing(t *testing.T) {
	l := newLab(t)
	if kernelPPPAvailable() == nil {
		t.Skip("this kernel has PPPoE; TestVMKernelMode covers -k there")
	}
	out, err := exec.Command("ip", "netns", "exec", l.srvNS, binPath, "-k", "-I", l.srvIf, "-O", l.emptyOptions()).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("pppoed -k: %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "kernel mode (-k): this kernel cannot do PPPoE") {
		t.Fatalf("pppoed -k said:\n%s", out)
	}
	d := l.startServer()
	if n := strings.Count(d.log.String(), "using the userspace TUN data path"); n != 1 {
		t.Fatalf("auto mode logged the fallback %d times:\n%s", n, d.log.String())
	}
}
