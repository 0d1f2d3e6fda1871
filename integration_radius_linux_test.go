package main

// pppoed as a RADIUS NAS against a real FreeRADIUS (radius_lab_linux_test.go).

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const radiusUsers = `alice Cleartext-Password := "pw"
	Framed-IP-Address = 10.0.0.9, Reply-Message = "welcome alice", Class = "gold", Filter-Id = "2048/512"
bob Cleartext-Password := "pw"
	Framed-Pool = "vip", Acct-Interim-Interval = 2
carol Cleartext-Password := "pw", Auth-Type := Reject
	Reply-Message = "carol is suspended"
brief Cleartext-Password := "pw"
	Session-Timeout = 3
DEFAULT Cleartext-Password := "pw"
`

// radiusServer starts pppoed in the lab's server namespace with RADIUS at
// FreeRADIUS (192.0.2.10) and a control socket; it returns the daemon and
// the socket.
func (l *lab) radiusServer(t *testing.T, extraTOML string, args ...string) (*daemon, string) {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "pppoed.sock")
	cfg := radiusTOML(t, dir, []string{"192.0.2.10:" + radiusSecret}, extraTOML)
	all := append(l.pppFiles("require-chap\nrequire-pap\nrequire-mschap-v2\n", ""), "-c", cfg, "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "32", "--ctl-socket", sock)
	return l.startServer(append(all, args...)...), sock
}

func TestIntegrationRadiusAuth(t *testing.T) {
	l := newLab(t)
	fr := l.startFreeRADIUS(radiusUsers, l.srvNS)
	srv, sock := l.radiusServer(t, "[[pool]]\nname = \"vip\"\nfirst = \"10.0.9.1\"\nsize = 8\n", "--max-sessions-per-user", "10")
	_ = srv
	srv.waitLog("authenticating and accounting through RADIUS", time.Second)
	for i, m := range []string{"pap", "chap", "mschapv2"} {
		t.Run(m, func(t *testing.T) {
			c := l.startClient("-u", "alice", "-p", "pw", "--auth", m, "--mac", "02:cc:00:00:07:0"+string(rune('1'+i)))
			c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
			if mm := upLine.FindStringSubmatch(c.log.String()); mm == nil || mm[4] != "10.0.0.9" {
				t.Fatalf("alice got %q, want RADIUS's Framed-IP-Address 10.0.0.9", mm)
			}
			var ss []sessionInfo
			json.Unmarshal([]byte(cli(t, "show", "sessions", "--json", "--user", "alice", "--ctl-socket", sock)), &ss)
			if len(ss) != 1 || ss[0].AuthSource != "radius" || ss[0].Class != "gold" || ss[0].RateDown != 2048 || ss[0].RateUp != 512 ||
				len(ss[0].AcctSessionID) != 16 || ss[0].Auth != m {
				t.Errorf("show sessions: %+v", ss)
			}
			c.cmd.Process.Signal(syscall.SIGTERM)
			srv.waitLog(`reason="peer sent PADT" user=alice`, 5*time.Second)
			<-c.done
		})
	}
	// A reject passes its Reply-Message to the client.
	c := l.startClient("-u", "carol", "-p", "pw", "--auth", "pap", "--timeout", "10s")
	c.waitLog(`authentication failed: "carol is suspended"`, 10*time.Second)
	// Framed-Pool takes the address from the named pool.
	c = l.startClient("-u", "bob", "-p", "pw", "--mac", "02:cc:00:00:07:11")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	if mm := upLine.FindStringSubmatch(c.log.String()); mm == nil || mm[4] != "10.0.9.1" {
		t.Fatalf("bob got %q, want the vip pool's 10.0.9.1", mm)
	}
	// Session-Timeout ends the session, and the Stop says so.
	c = l.startClient("-u", "brief", "-p", "pw", "--mac", "02:cc:00:00:07:12")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	srv.waitLog(`reason="session timeout" user=brief`, 8*time.Second)
	waitFor(t, "the Stop row in radacct", 5*time.Second, func() bool {
		return len(fr.query("SELECT acctterminatecause FROM radacct WHERE username='brief' AND acctstoptime IS NOT NULL")) == 1
	})
	if got := fr.query("SELECT acctterminatecause FROM radacct WHERE username='brief'"); strings.Join(got, ",") != "Session-Timeout" {
		t.Errorf("brief's Acct-Terminate-Cause %q, want Session-Timeout", got)
	}
}

// TestIntegrationRadiusAccounting: Start, Interim and Stop rows land in
// FreeRADIUS's radacct with the octets sent through the session, Class
// echoed, and a clean stop leaves nothing in the spool.
func TestIntegrationRadiusAccounting(t *testing.T) {
	l := newLab(t)
	requireTool(t, "ping")
	fr := l.startFreeRADIUS(radiusUsers, l.srvNS)
	srv, _ := l.radiusServer(t, "acct_interim = 2\n")
	c, tun := l.dialUser("alice", "02:cc:00:00:08:01")
	waitFor(t, "the Start row", 5*time.Second, func() bool { return len(fr.query("SELECT 1 FROM radacct WHERE username='alice'")) == 1 })
	l.pingFrom(tun, 10, 1000)
	time.Sleep(2500 * time.Millisecond) // an Interim-Update with the pings
	got := fr.query("SELECT acctinputoctets, acctoutputoctets, class, acctupdatetime > acctstarttime FROM radacct WHERE username='alice'")
	// Class is octets: FreeRADIUS writes it in hex ("gold").
	if strings.Join(got, ",") != "10000|10000|0x676f6c64|1" {
		t.Errorf("after the interim: radacct %q, want 10000|10000|0x676f6c64|1", got)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	srv.waitLog(`msg="session ended"`, 5*time.Second)
	waitFor(t, "the Stop row", 5*time.Second, func() bool {
		return len(fr.query("SELECT 1 FROM radacct WHERE username='alice' AND acctstoptime IS NOT NULL")) == 1
	})
	got = fr.query("SELECT acctinputoctets, acctoutputoctets, acctterminatecause, framedipaddress, callingstationid, nasportid, acctsessiontime >= 2 FROM radacct WHERE username='alice'")
	if want := "10000|10000|User-Request|10.0.0.9|02:cc:00:00:08:01|" + l.srvIf + "|1"; strings.Join(got, ",") != want {
		t.Errorf("the Stop: radacct %q, want %q", got, want)
	}
	srv.stop()
	if strings.Contains(srv.log.String(), "does not answer") {
		t.Errorf("a request went unanswered:\n%s", srv.log.String())
	}
}

// TestIntegrationRadiusFailover: the first server does not answer;
// authentication goes to the second.
func TestIntegrationRadiusFailover(t *testing.T) {
	l := newLab(t)
	l.startFreeRADIUS(radiusUsers, l.srvNS)
	dir := t.TempDir()
	// 192.0.2.99 is on the segment but nobody.
	cfg := radiusTOML(t, dir, []string{"192.0.2.99:" + radiusSecret, "192.0.2.10:" + radiusSecret}, "")
	srv := l.startServer(append(l.pppFiles("require-chap\n", ""), "-c", cfg, "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "8")...)
	c := l.startClient("-u", "alice", "-p", "pw")
	c.waitLog("summary: 1 of 1 sessions up", 15*time.Second)
	srv.waitLog(`"RADIUS: server does not answer; trying the next" server=192.0.2.99`, time.Second)
	// Dead now: the next login goes straight to the second.
	c2 := l.startClient("-u", "bob", "-p", "pw", "--mac", "02:cc:00:00:09:02")
	start := time.Now()
	c2.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("the second login took %v: the dead server was tried again", d)
	}
}

// TestIntegrationRadiusOutage: with every server down, accounting records
// wait, in memory and then in the spool across a restart of pppoed, and
// all arrive once a server is back, none twice, with Acct-Delay-Time.
func TestIntegrationRadiusOutage(t *testing.T) {
	l := newLab(t)
	fr := l.startFreeRADIUSDebug(radiusUsers, l.srvNS)
	dir := t.TempDir()
	cfg := radiusTOML(t, dir, []string{"192.0.2.10:" + radiusSecret}, "dead_time = 1\n")
	args := append(l.pppFiles("require-chap\n", ""), "-c", cfg, "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "8")
	srv := l.startServer(args...)
	// Two sessions up while the server is there.
	var clients []*daemon
	for i, u := range []string{"u1", "u2"} {
		c := l.startClient("-u", u, "-p", "pw", "--mac", "02:cc:00:00:0a:0"+string(rune('1'+i)))
		c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
		clients = append(clients, c)
	}
	waitFor(t, "two Start rows", 5*time.Second, func() bool { return len(fr.query("SELECT 1 FROM radacct")) == 2 })
	fr.kill()
	// u1 ends while the server is down: its Stop waits in memory.
	clients[0].cmd.Process.Signal(syscall.SIGTERM)
	srv.waitLog(`msg="session ended"`, 5*time.Second)
	time.Sleep(3 * time.Second) // a few tries, all unanswered
	// pppoed stops: u2's Stop and Accounting-Off go to the spool with u1's.
	srv.stop()
	srv.waitLog("records kept in the spool for the next start", time.Second)
	spool := filepath.Join(dir, "acct.spool")
	if b, _ := os.ReadFile(spool); strings.Count(string(b), "\n") < 3 {
		t.Fatalf("the spool holds %q, want u1's Stop, u2's Stop and Accounting-Off", b)
	}
	// pppoed starts again, the server comes back: all of it arrives.
	srv = l.startServer(args...)
	srv.waitLog("records from before the last stop will be sent first", time.Second)
	fr.restart()
	waitFor(t, "both Stop rows", 20*time.Second, func() bool {
		return len(fr.query("SELECT 1 FROM radacct WHERE acctstoptime IS NOT NULL")) == 2
	})
	rows := fr.query("SELECT username, acctterminatecause FROM radacct ORDER BY username")
	if strings.Join(rows, ",") != "u1|User-Request,u2|Admin-Reboot" {
		t.Errorf("radacct %q, want both sessions once, stopped with their causes", rows)
	}
	// Delivered late, and they say so.
	if !regexp.MustCompile(`Acct-Status-Type = Stop\n(?:\(\d+\) +.*\n)*?\(\d+\) +Acct-Delay-Time = [1-9]`).MatchString(fr.d.log.String()) {
		t.Errorf("no Stop with an Acct-Delay-Time above 0 reached FreeRADIUS")
	}
	waitFor(t, "an empty spool", 10*time.Second, func() bool { b, _ := os.ReadFile(spool); return len(b) == 0 })
}

// TestIntegrationRadiusDAE: Disconnect-Request ends the right session (ACK),
// an unknown session gets a NAK with Error-Cause 503, CoA changes the rate
// limit, and forged requests get nothing.
func TestIntegrationRadiusDAE(t *testing.T) {
	l := newLab(t)
	fr := l.startFreeRADIUS(radiusUsers, l.srvNS)
	dae := "[radius.dae]\nlisten = \"192.0.2.1:3799\"\n[[radius.dae.client]]\naddress = \"192.0.2.10\"\nsecret = \"daesecret\"\n"
	srv, sock := l.radiusServer(t, dae)
	ca := l.startClient("-u", "alice", "-p", "pw", "--mac", "02:cc:00:00:0b:01")
	ca.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	cb := l.startClient("-u", "bob", "-p", "pw", "--mac", "02:cc:00:00:0b:02")
	cb.waitLog("summary: 1 of 1 sessions up", 10*time.Second)

	out, err := fr.radclient("User-Name = \"nobody\"\nEvent-Timestamp = \""+time.Now().UTC().Format("Jan 2 2006 15:04:05 UTC")+"\"\n", "192.0.2.1:3799", "disconnect", "daesecret")
	if !strings.Contains(out, "Received Disconnect-NAK") || !strings.Contains(out, "Error-Cause = Session-Context-Not-Found") {
		t.Errorf("Disconnect-Request for nobody: %v\n%s", err, out)
	}
	out, err = fr.radclient("Calling-Station-Id = \"02:cc:00:00:0b:02\"\nFilter-Id = \"1024/256\"\n", "192.0.2.1:3799", "coa", "daesecret")
	if !strings.Contains(out, "Received CoA-ACK") {
		t.Errorf("CoA-Request: %v\n%s", err, out)
	}
	var ss []sessionInfo
	json.Unmarshal([]byte(cli(t, "show", "sessions", "--json", "--user", "bob", "--ctl-socket", sock)), &ss)
	if len(ss) != 1 || ss[0].RateDown != 1024 || ss[0].RateUp != 256 {
		t.Errorf("after CoA: %+v, want bob at 1024/256", ss)
	}
	// Forged: the wrong secret, and a stale Event-Timestamp. No answer.
	if out, err = fr.radclient("User-Name = \"alice\"\n", "192.0.2.1:3799", "disconnect", "wrongsecret"); err == nil || strings.Contains(out, "Received") {
		t.Errorf("a request with the wrong secret was answered:\n%s", out)
	}
	stale := time.Now().Add(-time.Hour).UTC().Format("Jan 2 2006 15:04:05 UTC")
	if out, err = fr.radclient("User-Name = \"alice\"\nEvent-Timestamp = \""+stale+"\"\n", "192.0.2.1:3799", "disconnect", "daesecret"); err == nil || strings.Contains(out, "Received") {
		t.Errorf("a request an hour old was answered:\n%s", out)
	}
	select {
	case <-ca.done:
		t.Fatal("a forged request ended alice's session")
	default:
	}
	out, err = fr.radclient("User-Name = \"alice\"\nMessage-Authenticator = 0x00\n", "192.0.2.1:3799", "disconnect", "daesecret")
	if !strings.Contains(out, "Received Disconnect-ACK") {
		t.Fatalf("Disconnect-Request for alice: %v\n%s", err, out)
	}
	ca.waitLog("session 0 down: server sent PADT", 5*time.Second)
	srv.waitLog(`reason="disconnected by RADIUS" user=alice`, time.Second)
	waitFor(t, "alice's Stop", 5*time.Second, func() bool {
		return strings.Join(fr.query("SELECT acctterminatecause FROM radacct WHERE username='alice' AND acctstoptime IS NOT NULL"), ",") == "Admin-Reset"
	})
	var st statInfo
	json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &st)
	if st.Radius == nil || st.Radius.DAEServed != 3 || st.Radius.DAEDropped != 2 {
		t.Errorf("show stat's DAE counts: %+v", st.Radius)
	}
}

// maResponder is a RADIUS server the test controls, for what FreeRADIUS
// 3.2.1 will not do: answer with a Message-Authenticator, a wrong one, or
// a wrong response authenticator.
type maResponder struct {
	mode atomic.Value // "ma", "none", "badma", "badauth"
	conn *net.UDPConn
}

func (l *lab) startMAResponder(t *testing.T, ns string) *maResponder {
	r := &maResponder{}
	r.mode.Store("ma")
	inNetns(t, ns, func() {
		var err error
		if r.conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 1812}); err != nil {
			t.Error(err)
		}
	})
	if r.conn == nil {
		t.FailNow()
	}
	t.Cleanup(func() { r.conn.Close() })
	go func() {
		h := newRadiusHasher()
		buf := make([]byte, radMaxLen)
		for {
			n, from, err := r.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			var p radiusPacket
			if p.parse(buf[:n]) != nil || p.code != radAccessRequest {
				continue
			}
			mode := r.mode.Load().(string)
			b := appendRadiusHeader(nil, radAccessAccept, p.id, &p.auth)
			off := -1
			if mode != "none" {
				b, off = appendMessageAuthenticator(b)
			}
			patchRadiusLength(b)
			if off >= 0 {
				h.signMessageAuthenticator(b, off, radiusSecret)
				if mode == "badma" {
					b[off] ^= 1
				}
			}
			h.responseAuthenticator(b, &p.auth, radiusSecret)
			if mode == "badauth" {
				b[4] ^= 1
			}
			r.conn.WriteToUDPAddrPort(b, from)
		}
	}()
	return r
}

// TestIntegrationRadiusMessageAuthenticator: BlastRADIUS. Replies without
// a Message-Authenticator are dropped under require_message_authenticator
// true, and under auto once the server has sent one; a wrong one, or a
// wrong response authenticator, is always dropped.
func TestIntegrationRadiusMessageAuthenticator(t *testing.T) {
	for _, tt := range []struct {
		policy string
		modes  []string // the responder's mode for each login
		want   []bool   // whether each login comes up
	}{
		{"true", []string{"none", "ma"}, []bool{false, true}},
		{"auto", []string{"none", "ma", "none"}, []bool{true, true, false}},
		{"false", []string{"none", "badma", "badauth"}, []bool{true, false, false}},
	} {
		t.Run(tt.policy, func(t *testing.T) {
			l := newLab(t)
			resp := l.startMAResponder(t, l.radiusNet(l.srvNS))
			dir := t.TempDir()
			sock := filepath.Join(dir, "pppoed.sock")
			cfg := radiusTOML(t, dir, []string{"192.0.2.10:" + radiusSecret}, "require_message_authenticator = \""+tt.policy+"\"\n")
			l.startServer(append(l.pppFiles("require-pap\n", ""), "-c", cfg, "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "8", "--ctl-socket", sock)...)
			for i, mode := range tt.modes {
				resp.mode.Store(mode)
				c := l.startClient("-u", "u", "-p", "pw", "--mac", fmt.Sprintf("02:cc:00:00:0c:%02x", i), "--timeout", "8s")
				if tt.want[i] {
					c.waitLog("summary: 1 of 1 sessions up", 8*time.Second)
				} else {
					c.waitLog("session 0 failed", 12*time.Second)
				}
			}
			var st statInfo
			json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &st)
			fails := 0
			for _, w := range tt.want {
				if !w {
					fails++
				}
			}
			// Each failed login's request went out twice (retries 1),
			// and both replies were dropped.
			if st.Radius == nil || len(st.Radius.Servers) != 1 || st.Radius.Servers[0].Dropped != uint64(2*fails) {
				t.Errorf("dropped replies: %+v, want %d", st.Radius, 2*fails)
			}
		})
	}
}

// TestIntegrationTwoConcentrators: two pppoed on one segment, one
// FreeRADIUS behind both. With PADO delay by load, 100 sessions spread
// over both (neither gets fewer than a third); every session's Start and
// Stop land in radacct; a Disconnect-Request sent to the concentrator
// radacct names for a session ends that session there.
func TestIntegrationTwoConcentrators(t *testing.T) {
	l := newLab(t)
	// The segment: a bridge in a namespace of its own, the client's veth
	// moved onto it, and a second server namespace.
	seg, srv2NS := "pppoed-"+l.id+"-g", "pppoed-"+l.id+"-t"
	for _, ns := range []string{seg, srv2NS} {
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		l.ip("netns", "add", ns)
	}
	l.ip("-n", seg, "link", "add", "br0", "type", "bridge")
	l.ip("-n", seg, "link", "set", "br0", "up")
	// Replace the lab's direct link: client and both servers on the bridge.
	l.ip("-n", l.srvNS, "link", "del", l.srvIf)
	srv2If := "pd" + l.id + "t"
	for _, end := range []struct{ ns, name, mac string }{{l.cliNS, l.cliIf, l.cliMAC.String()}, {l.srvNS, l.srvIf, "02:ac:00:00:00:01"}, {srv2NS, srv2If, "02:ac:00:00:00:02"}} {
		peer := end.name + "b"
		l.ip("link", "add", end.name, "address", end.mac, "netns", end.ns, "type", "veth", "peer", "name", peer, "netns", seg)
		l.ip("-n", end.ns, "link", "set", end.name, "up")
		l.ip("-n", seg, "link", "set", peer, "master", "br0", "up")
	}
	fr := l.startFreeRADIUS(radiusUsers, l.srvNS, srv2NS)
	// 10 ms more for every 5 sessions.
	delay := "0"
	for n := 5; n <= 100; n += 5 {
		delay += fmt.Sprintf(",%d:%d", 2*n, n)
	}
	var srvs []*daemon
	for i, at := range []struct{ ns, ifname string }{{l.srvNS, l.srvIf}, {srv2NS, srv2If}} {
		dir := t.TempDir()
		dae := fmt.Sprintf("[radius.dae]\nlisten = \"192.0.2.%d:3799\"\n[[radius.dae.client]]\naddress = \"192.0.2.10\"\nsecret = \"daesecret\"\n", i+1)
		cfg := radiusTOML(t, dir, []string{"192.0.2.10:" + radiusSecret}, dae)
		args := append(l.pppFiles("require-chap\n", ""), "-c", cfg, "-L", "10.0.0.1", "-R", fmt.Sprintf("10.%d.0.2", 10+i), "-N", "100",
			"--pado-delay", delay, "--tun-name", "pppoed0")
		d := l.spawnServerIn(at.ns, at.ifname, args...)
		d.waitLog("msg=listening", 10*time.Second)
		srvs = append(srvs, d)
	}
	c := l.startClient("-u", "load", "-p", "pw", "-n", "100", "--rate", "25", "--timeout", "60s")
	c.waitLog("summary: 100 of 100 sessions up", 60*time.Second)
	// The client can see its last IPCP open a moment before a server logs
	// its own.
	var a, b int
	waitFor(t, "100 sessions up in the servers' logs", 10*time.Second, func() bool {
		a = strings.Count(srvs[0].log.String(), `msg="session up"`)
		b = strings.Count(srvs[1].log.String(), `msg="session up"`)
		return a+b >= 100
	})
	t.Logf("sessions: %d on the first concentrator, %d on the second", a, b)
	if a+b != 100 || a < 34 || b < 34 {
		t.Errorf("%d and %d sessions: want 100, neither fewer than a third", a, b)
	}
	waitFor(t, "100 Start rows", 10*time.Second, func() bool { return len(fr.query("SELECT 1 FROM radacct")) == 100 })
	if got := fr.query("SELECT nasipaddress, count(*) FROM radacct GROUP BY nasipaddress ORDER BY nasipaddress"); strings.Join(got, ",") != fmt.Sprintf("192.0.2.1|%d,192.0.2.2|%d", a, b) {
		t.Errorf("radacct by NAS: %q", got)
	}
	// A Disconnect-Request goes to the NAS radacct names for the session.
	row := fr.query("SELECT acctsessionid, nasipaddress FROM radacct WHERE nasipaddress = '192.0.2.2' LIMIT 1")
	if len(row) != 1 {
		t.Fatalf("no session of the second concentrator in radacct")
	}
	id, nas, _ := strings.Cut(row[0], "|")
	if out, err := fr.radclient("Acct-Session-Id = \""+id+"\"\n", nas+":3799", "disconnect", "daesecret"); !strings.Contains(out, "Received Disconnect-ACK") {
		t.Fatalf("Disconnect-Request to %s: %v\n%s", nas, err, out)
	}
	srvs[1].waitLog(`"disconnected by the RADIUS server"`, 5*time.Second)
	c.cmd.Process.Signal(syscall.SIGTERM)
	<-c.done
	waitFor(t, "100 Stop rows", 15*time.Second, func() bool {
		return len(fr.query("SELECT 1 FROM radacct WHERE acctstoptime IS NOT NULL")) == 100
	})
	if got := fr.query("SELECT count(*) FROM radacct WHERE acctterminatecause = 'Admin-Reset'"); strings.Join(got, "") != "1" {
		t.Errorf("%q sessions stopped for Admin-Reset, want 1", got)
	}
	for _, d := range srvs {
		d.stop()
	}
}

// TestIntegrationRadiusPluginConfig: rp-pppoe's RADIUS setup as it is, an
// options file with plugin radius.so and radcli's files, works with
// nothing else changed.
func TestIntegrationRadiusPluginConfig(t *testing.T) {
	l := newLab(t)
	l.startFreeRADIUS(radiusUsers, l.srvNS)
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "servers"), "# host secret\n192.0.2.10\t"+radiusSecret+"\n")
	writeTestFile(t, filepath.Join(dir, "radiusclient.conf"), "auth_order radius\nlogin_tries 4\nlogin_timeout 60\n"+
		"authserver 192.0.2.10:1812\nacctserver 192.0.2.10:1813\nservers "+filepath.Join(dir, "servers")+"\n"+
		"dictionary /etc/radcli/dictionary\nseqfile /var/run/radius.seq\nradius_timeout 2\nradius_retries 2\nradius_deadtime 0\nnas-identifier oldbox\n")
	opts := "plugin radius.so\nplugin radattr.so\nradius-config-file " + filepath.Join(dir, "radiusclient.conf") + "\nrequire-chap\nlcp-echo-interval 10\n"
	args := l.pppFiles(opts, "")
	// The spool under the test's directory: the one thing not in radcli's files.
	writeTestFile(t, filepath.Join(dir, "spool.toml"), "[radius]\nacct_spool = \""+filepath.Join(dir, "acct.spool")+"\"\n")
	srv := l.startServer(append(args, "-c", filepath.Join(dir, "spool.toml"), "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "8")...)
	srv.waitLog("from="+filepath.Join(dir, "radiusclient.conf"), time.Second)
	srv.waitLog("nas_identifier=oldbox", time.Second)
	c := l.startClient("-u", "alice", "-p", "pw")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
	if mm := upLine.FindStringSubmatch(c.log.String()); mm == nil || mm[4] != "10.0.0.9" {
		t.Fatalf("alice got %q, want RADIUS's 10.0.0.9", mm)
	}
}

// TestIntegrationRadiusLoad dials 1000 sessions authenticated through
// FreeRADIUS, then 1000 against chap-secrets, and logs both setup rates.
func TestIntegrationRadiusLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, via := range []string{"radius", "chap-secrets"} {
		t.Run(via, func(t *testing.T) {
			l := newLab(t)
			args := []string{"-L", "10.1.0.1", "-R", "10.2.0.1", "-N", "1000"}
			// No ip-up or ip-down: Debian's would run 2000 times.
			opts := "require-chap\nip-up-script /nonexistent\nip-down-script /nonexistent\n"
			if via == "radius" {
				l.startFreeRADIUS(radiusUsers, l.srvNS)
				dir := t.TempDir()
				cfg := radiusTOMLTimeout(t, dir, []string{"192.0.2.10:" + radiusSecret}, "", "3s", 3)
				args = append(append(l.pppFiles(opts, ""), "-c", cfg), args...)
			} else {
				args = append(l.pppFiles(opts, "load * pw *\n"), args...)
			}
			srv := l.startServer(args...)
			c := l.startClient("-u", "load", "-p", "pw", "-n", "1000", "--timeout", "120s")
			c.waitLog("summary: 1000 of 1000 sessions up", 150*time.Second)
			t.Logf("%s: %s", via, regexp.MustCompile(`summary: .*`).FindString(c.log.String()))
			c.cmd.Process.Signal(syscall.SIGTERM)
			<-c.done
			srv.stop()
		})
	}
}

// radiusUsersIPv6 goes before radiusUsers, whose DEFAULT would match
// first: v6fixed gets its prefixes from RADIUS, v6pool names [[pool]]s.
const radiusUsersIPv6 = `v6fixed Cleartext-Password := "pw"
	Framed-IPv6-Prefix = 2001:db8:77:1::/64, Delegated-IPv6-Prefix = 2001:db8:88:100::/56
v6pool Cleartext-Password := "pw"
	Framed-IPv6-Pool = "v6vip", Delegated-IPv6-Prefix-Pool = "v6vip"
`

// logValue is key's value on the first line of a pppoed log with msg and
// user, or "".
func logValue(log, msg, user, key string) string {
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, `msg="`+msg+`"`) || (!strings.Contains(line, " user="+user+" ") && !strings.HasSuffix(line, " user="+user)) {
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

// TestIntegrationRadiusIPv6: FreeRADIUS's Framed-IPv6-Prefix and
// Delegated-IPv6-Prefix win over the local pools (the session's RAs
// announce the /64 and DHCPv6 delegates the /56), Framed-IPv6-Pool and
// Delegated-IPv6-Prefix-Pool pick [[pool]]s, a user with neither gets the
// default pools'; NAS-IPv6-Address reaches FreeRADIUS; a Disconnect-Request
// by Delegated-IPv6-Prefix ends the right session; radacct's row and the
// accounting file's stop record carry both prefixes.
func TestIntegrationRadiusIPv6(t *testing.T) {
	l := newLab(t)
	fr := l.startFreeRADIUSDebug(radiusUsersIPv6+radiusUsers, l.srvNS)
	acct := filepath.Join(t.TempDir(), "acct.jsonl")
	// The Stop's query in FreeRADIUS's schema leaves the IPv6 columns as
	// the Start or the last Interim set them, and the delegated prefix
	// comes after the Start: Interims every 2 s bring it in.
	extra := "nas_ipv6_address = \"2001:db8::1\"\nacct_interim = 2\n" +
		"[radius.dae]\nlisten = \"192.0.2.1:3799\"\n[[radius.dae.client]]\naddress = \"192.0.2.10\"\nsecret = \"daesecret\"\n" +
		"[[pool]]\nname = \"v6vip\"\nipv6_prefix_pool = \"2001:db8:300::/48\"\nipv6_delegated_pool = \"2001:db8:400::/40\"\n"
	srv, _ := l.radiusServer(t, extra, "--ipv6-prefix-pool", "2001:db8:100::/48", "--ipv6-delegated-pool", "2001:db8:200::/40",
		"--ipv6-delegated-length", "56", "--acct-file", acct)
	srv.waitLog("nas_ipv6_address=2001:db8::1", time.Second)
	clientLine := regexp.MustCompile(`session 0 ipv6: [^\n]*prefix=(\S+)[^\n]*delegated=(\S+)`)
	var clients []*daemon
	for i, tt := range []struct {
		user              string
		prefix, delegated string // exact, or the pool the session's must be in
	}{
		{"v6fixed", "2001:db8:77:1::/64", "2001:db8:88:100::/56"},
		{"v6pool", "2001:db8:300::/48", "2001:db8:400::/40"},
		{"plain", "2001:db8:100::/48", "2001:db8:200::/40"},
	} {
		c := l.startClient("-u", tt.user, "-p", "pw", "--ipv6", "--mac", fmt.Sprintf("02:cc:00:00:0d:%02x", i+1))
		c.waitLog("session 0 ipv6:", 20*time.Second)
		clients = append(clients, c)
		var prefix, delegated string
		waitFor(t, tt.user+"'s IPv6 up and prefix delegated in pppoed's log", 5*time.Second, func() bool {
			log := srv.log.String()
			prefix, delegated = logValue(log, "IPv6 up", tt.user, "prefix"), logValue(log, "prefix delegated", tt.user, "prefix")
			return prefix != "" && delegated != ""
		})
		in := func(got, want string, bits int) bool {
			g, err := netip.ParsePrefix(got)
			w := netip.MustParsePrefix(want)
			if w.Bits() == bits {
				return err == nil && g == w
			}
			return err == nil && g.Bits() == bits && w.Contains(g.Addr())
		}
		if !in(prefix, tt.prefix, 64) || !in(delegated, tt.delegated, 56) {
			t.Errorf("%s: IPv6 up with prefix=%s, delegated prefix=%s; want %s and %s", tt.user, prefix, delegated, tt.prefix, tt.delegated)
		}
		m := clientLine.FindStringSubmatch(c.log.String())
		if m == nil || m[1] != prefix || m[2] != delegated {
			t.Errorf("%s: the client says %q, want prefix=%s delegated=%s", tt.user, m, prefix, delegated)
		}
	}
	if !strings.Contains(fr.d.log.String(), "NAS-IPv6-Address = 2001:db8::1") {
		t.Error("no request with NAS-IPv6-Address = 2001:db8::1 reached FreeRADIUS")
	}
	time.Sleep(2500 * time.Millisecond) // an Interim-Update with the delegated prefixes

	// The delegated prefix names v6fixed's session, and no other.
	out, err := fr.radclient("Delegated-IPv6-Prefix = 2001:db8:88:100::/56\n", "192.0.2.1:3799", "disconnect", "daesecret")
	if !strings.Contains(out, "Received Disconnect-ACK") {
		t.Fatalf("Disconnect-Request by Delegated-IPv6-Prefix: %v\n%s", err, out)
	}
	srv.waitLog(`reason="disconnected by RADIUS" user=v6fixed`, 5*time.Second)
	if strings.Count(srv.log.String(), `reason="disconnected by RADIUS"`) != 1 {
		t.Errorf("the Disconnect-Request ended more than v6fixed's session:\n%s", srv.log.String())
	}
	waitFor(t, "v6fixed's Stop row", 5*time.Second, func() bool {
		return len(fr.query("SELECT 1 FROM radacct WHERE username='v6fixed' AND acctstoptime IS NOT NULL")) == 1
	})
	got := fr.query("SELECT framedipv6prefix, delegatedipv6prefix, framedinterfaceid != '', acctterminatecause FROM radacct WHERE username='v6fixed'")
	if want := "2001:db8:77:1::/64|2001:db8:88:100::/56|1|Admin-Reset"; strings.Join(got, ",") != want {
		t.Errorf("v6fixed's radacct row %q, want %q", got, want)
	}
	for _, c := range clients[1:] {
		c.cmd.Process.Signal(syscall.SIGTERM)
		<-c.done
	}
	waitFor(t, "three Stop rows", 5*time.Second, func() bool {
		return len(fr.query("SELECT 1 FROM radacct WHERE acctstoptime IS NOT NULL")) == 3
	})
	// Every row says the prefixes its session had.
	for _, row := range fr.query("SELECT username, framedipv6prefix, delegatedipv6prefix FROM radacct") {
		f := strings.Split(row, "|")
		if len(f) != 3 || logValue(srv.log.String(), "IPv6 up", f[0], "prefix") != f[1] || logValue(srv.log.String(), "prefix delegated", f[0], "prefix") != f[2] {
			t.Errorf("radacct row %q: not the prefixes pppoed logged", row)
		}
	}
	srv.stop()
	b, err := os.ReadFile(acct)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct {
			Type          string `json:"type"`
			User          string `json:"user"`
			IPv6Prefix    string `json:"ipv6_prefix"`
			IPv6Delegated string `json:"ipv6_delegated"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("accounting file line %q: %v", line, err)
		}
		if r.Type == "stop" && (r.IPv6Prefix == "" || r.IPv6Delegated == "" ||
			r.IPv6Prefix != logValue(srv.log.String(), "IPv6 up", r.User, "prefix") ||
			r.IPv6Delegated != logValue(srv.log.String(), "prefix delegated", r.User, "prefix")) {
			t.Errorf("accounting file: %s: not the prefixes pppoed logged", line)
		}
	}
}
