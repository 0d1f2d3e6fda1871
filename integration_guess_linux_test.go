package main

// Password guessing against a live daemon in the lab (issue 12): a raw
// attacker on the client side keeps many sessions in flight, each from a
// MAC of its own, and each sends one PAP Authenticate-Request for alice
// with a wrong password and hangs up (PADT) once it is answered. It does
// not wait out the failure delay: a right password is acked at once, so
// no Ack within giveUp already says the guess was wrong. The test measures
// the passwords checked per second over a fixed window, with the guard off
// and then on, and afterwards logs the real alice in from a clean MAC once
// the cool-down is over.
//
// The attacker is one goroutine that owns every attempt; a reader
// goroutine per socket (discovery, session) posts the frames to it.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// guessAttempt is one session of the attacker, from its PADI to the answer
// to its one guess.
type guessAttempt struct {
	mac          hwAddr
	sid          uint16
	weAcked      bool // we acked the server's LCP Configure-Request
	theyAcked    bool // the server acked ours
	guessed      bool
	start, guess time.Time
}

// guessResult is what the attacker saw in its window.
type guessResult struct {
	window   time.Duration
	started  int // sessions dialled
	guesses  int // Authenticate-Requests sent
	answered int // guesses answered (Authenticate-Nak or -Ack)
	accepted int // of which Acks: a password that worked
	presumed int // guesses taken as wrong for want of an Ack within giveUp
	stalled  int // attempts given up after guessStall without an answer
}

// verdicts is how many guesses per second the attacker took an answer
// from, a Nak or the lack of an Ack.
func (r guessResult) verdicts() float64 {
	return float64(r.answered+r.presumed) / r.window.Seconds()
}

// guessStall is how long an attempt may go without an answer: longer than
// the failure delay and a session setup.
const guessStall = 5 * time.Second

// guessPasswords runs the attacker for window with par attempts in flight,
// against user, and hangs up every session it still has at the end. A
// guess with no answer after giveUp is taken as wrong.
func (l *lab) guessPasswords(user string, par int, window, giveUp time.Duration) guessResult {
	l.t.Helper()
	disc := l.openRaw(l.cliNS, l.cliIf, etherTypeDiscovery)
	sess := l.openRaw(l.cliNS, l.cliIf, etherTypeSession)
	rx := make(chan []byte, 1024)
	var readers sync.WaitGroup
	for _, pl := range []*packetLink{disc, sess} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				b := make([]byte, frameSize)
				n, err := pl.readFrame(b)
				if err != nil {
					return
				}
				select {
				case rx <- b[:n]:
				default: // the attacker is behind; the attempt will stall
				}
			}
		}()
	}
	defer func() {
		for _, pl := range []*packetLink{disc, sess} {
			pl.conn.SetReadDeadline(time.Now())
		}
		readers.Wait()
	}()

	send := func(pl *packetLink, b []byte) {
		if err := pl.writeFrame(b); err != nil {
			l.t.Fatal(err)
		}
	}
	sendCP := func(a *guessAttempt, proto uint16, code, id uint8, body []byte) {
		f := appendCP(make([]byte, headroom, 128), code, id, body)
		putSessionHeader(f, l.srvMAC, a.mac, etherTypeSession, a.sid, proto)
		send(sess, f)
	}
	var r guessResult
	attempts := map[hwAddr]*guessAttempt{}
	hangUp := func(a *guessAttempt) {
		if a.sid != 0 {
			send(disc, frameOf(l.srvMAC, a.mac, codePADT, a.sid))
		}
		delete(attempts, a.mac)
	}
	dial := func() {
		r.started++
		n := r.started
		a := &guessAttempt{mac: hwAddr{0x02, 0xa7, 0, byte(n >> 16), byte(n >> 8), byte(n)}, start: time.Now()}
		attempts[a.mac] = a
		send(disc, frameOf(broadcastAddr, a.mac, codePADI, 0, tag{tagServiceName, nil}))
	}
	start := time.Now()
	end := start.Add(window)
	for range par {
		dial()
	}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(end) {
		var b []byte
		select {
		case b = <-rx:
		case now := <-tick.C:
			for _, a := range attempts {
				switch {
				case a.guessed && now.Sub(a.guess) >= giveUp:
					r.presumed++
				case now.Sub(a.start) > guessStall:
					r.stalled++
				default:
					continue
				}
				hangUp(a)
				dial()
			}
			continue
		}
		var h pppoeHeader
		if h.parse(b) != nil || h.src != l.srvMAC {
			continue
		}
		a := attempts[h.dst]
		if a == nil {
			continue
		}
		switch {
		case h.etherType == etherTypeDiscovery && h.code == codePADO:
			var p discoveryPacket
			if p.parse(b) != nil {
				continue
			}
			ck, _ := p.find(tagACCookie)
			send(disc, frameOf(l.srvMAC, a.mac, codePADR, 0, tag{tagServiceName, nil}, tag{tagACCookie, ck}))
		case h.etherType == etherTypeDiscovery && h.code == codePADS:
			if a.sid = h.sessionID; a.sid == 0 {
				hangUp(a) // refused: try again from another MAC
				dial()
				continue
			}
			sendCP(a, protoLCP, uint8(cpConfReq), 1, nil)
		case h.etherType == etherTypeDiscovery && h.code == codePADT:
			hangUp(a)
			dial()
		case h.etherType == etherTypeSession && h.sessionID == a.sid && len(h.payload) >= 2:
			proto := binary.BigEndian.Uint16(h.payload)
			code, id, data, ok := parseCP(h.payload[2:])
			if !ok {
				continue
			}
			switch {
			case proto == protoLCP && code == uint8(cpConfReq):
				sendCP(a, protoLCP, uint8(cpConfAck), id, data)
				a.weAcked = true
			case proto == protoLCP && code == uint8(cpConfAck):
				a.theyAcked = true
			case proto == protoPAP && (code == papAuthNak || code == papAuthAck):
				r.answered++
				if code == papAuthAck {
					r.accepted++
				}
				hangUp(a)
				dial()
				continue
			}
			if a.weAcked && a.theyAcked && !a.guessed {
				a.guessed, a.guess = true, time.Now()
				r.guesses++
				sendCP(a, protoPAP, papAuthReq, 1, papReq(user, fmt.Sprint("guess", r.started)))
			}
		}
	}
	r.window = time.Since(start)
	for _, a := range attempts {
		hangUp(a)
	}
	return r
}

// guessStat reads the daemon's counters over its control socket.
func guessStat(t *testing.T, sock string) map[string]uint64 {
	t.Helper()
	var st statInfo
	if err := json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &st); err != nil {
		t.Fatal(err)
	}
	return st.Counters
}

// TestIntegrationPasswordGuessing: issue 12. An attacker guessing at alice
// from many MACs gets at least 100× fewer passwords checked per second
// with the guard on (the failure delay, and alice locked out after 10
// failures) than with it off; alice's lockouts each start and end with one
// line; after the cool-down the real alice logs in from a clean MAC.
func TestIntegrationPasswordGuessing(t *testing.T) {
	const (
		par      = 32 // attempts in flight
		window   = 6 * time.Second
		giveUp   = 250 * time.Millisecond // an Ack takes a few ms
		cooldown = 4 * time.Second        // not a divisor of window: alice is locked when the attack stops
	)
	l := newLab(t)
	files := l.pppFiles("require-pap\n", "alice * pw *\n")
	run := func(guard ...string) (r guessResult, checked uint64, srv *daemon, sock string) {
		sock = filepath.Join(t.TempDir(), "pppoed.sock")
		srv = l.startServer(slices.Concat(files, []string{"-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "128", "--ctl-socket", sock}, guard)...)
		r = l.guessPasswords("alice", par, window, giveUp)
		if r.accepted != 0 {
			t.Fatalf("%d guesses were accepted", r.accepted)
		}
		time.Sleep(200 * time.Millisecond) // the last requests reach the loop
		// A login refused for a lockout checks no password; every other
		// guess was checked, answered or not.
		refused := guessStat(t, sock)["auth_locked_out"]
		checked = uint64(r.guesses) - refused
		t.Logf("guard %q: %d guesses, %d answered, %d taken as wrong after %v, %d stalled; %d passwords checked, %d refused unchecked, in %v",
			guard, r.guesses, r.answered, r.presumed, giveUp, r.stalled, checked, refused, r.window.Round(time.Millisecond))
		return r, checked, srv, sock
	}

	before, beforeChecked, srv, _ := run("--auth-fail-delay", "0", "--auth-lockout-failures", "0")
	if n := strings.Count(srv.log.String(), "login lockout"); n != 0 {
		t.Fatalf("%d lockout lines with the guard off", n)
	}
	srv.stop()

	after, afterChecked, srv, sock := run("--auth-lockout-cooldown", cooldown.String())
	beforeRate := float64(beforeChecked) / before.window.Seconds()
	afterRate := float64(afterChecked) / after.window.Seconds()
	t.Logf("GUESS rate before %.0f/s after %.2f/s: %.0f× fewer (passwords checked for one user; %d sessions in flight, each from a fresh MAC; %v window; cool-down %v; the attacker took %.0f/s and %.0f/s answers)",
		beforeRate, afterRate, beforeRate/afterRate, par, window, cooldown, before.verdicts(), after.verdicts())
	if beforeRate < 100*afterRate {
		t.Errorf("guess rate %.0f/s → %.2f/s: less than 100× lower", beforeRate, afterRate)
	}
	// At most 10 checked per cool-down, and the lockout's first 10.
	if limit := uint64(10 * (1 + after.window/cooldown)); afterChecked > limit {
		t.Errorf("%d passwords checked in %v, want at most %d", afterChecked, after.window, limit)
	}

	// The attack left alice locked out, for about 2 s more (the second
	// lockout began some 4 s into the 6 s window): the right password is
	// refused too, unchecked, from a MAC the attacker never used.
	aliceLines := func() []string {
		var out []string
		for _, ln := range strings.Split(srv.log.String(), "\n") {
			if strings.Contains(ln, "login lockout") && strings.Contains(ln, " user=alice ") {
				out = append(out, ln)
			}
		}
		return out
	}
	if ls := aliceLines(); len(ls) == 0 || !strings.Contains(ls[len(ls)-1], "lockout started") {
		t.Fatalf("alice is not locked out after the attack:\n%s", strings.Join(ls, "\n"))
	}
	const realMAC = "02:ee:00:00:00:01"
	c := l.startClient("-u", "alice", "-p", "pw", "--auth", "pap", "--mac", realMAC, "--timeout", "10s")
	c.waitLog("session 0 failed", 10*time.Second)
	refusedLine := regexp.MustCompile(`msg="authentication failed" iface=\S+ mac=` + realMAC + ` .*reason="user locked out"`)
	for deadline := time.Now().Add(2 * time.Second); !refusedLine.MatchString(srv.log.String()); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("alice's own login during the lockout was not refused as locked out")
		}
	}

	// Each lockout of alice: one line when it starts, one when it ends, in
	// turn, once the last cool-down is over. The fresh MACs never lock.
	deadline := time.Now().Add(cooldown + 2*time.Second)
	for len(aliceLines())%2 != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	lines := aliceLines()
	if len(lines) == 0 || len(lines)%2 != 0 {
		t.Fatalf("alice's lockout lines, want pairs of started and ended:\n%s", strings.Join(lines, "\n"))
	}
	for i, ln := range lines {
		want := `msg="login lockout started"`
		if i%2 == 1 {
			want = `msg="login lockout ended"`
		}
		if !strings.Contains(ln, want) {
			t.Fatalf("lockout line %d is not %s:\n%s", i, want, strings.Join(lines, "\n"))
		}
	}
	if n := strings.Count(srv.log.String(), "login lockout"); n != len(lines) {
		t.Errorf("%d lockout lines, %d of them alice's: a MAC was locked out", n, len(lines))
	}
	if c := guessStat(t, sock); c["auth_lockouts"] != uint64(len(lines)/2) {
		t.Errorf("auth_lockouts %d, %d lockouts logged", c["auth_lockouts"], len(lines)/2)
	}
	t.Logf("alice locked out %d times in %v", len(lines)/2, after.window.Round(time.Millisecond))

	// The cool-down is over: the real alice logs in, from the same clean
	// MAC (a refused login counts no failure against it).
	c = l.startClient("-u", "alice", "-p", "pw", "--auth", "pap", "--mac", realMAC, "--timeout", "10s")
	c.waitLog("summary: 1 of 1 sessions up", 10*time.Second)
}
