package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// countingAuth passes requests on to an authenticator and counts them: a
// refused login must not reach it.
type countingAuth struct {
	inner authenticator
	users []string
}

func (a *countingAuth) authenticate(req *authRequest, answer func(*authRequest, authResult)) {
	a.users = append(a.users, req.user)
	a.inner.authenticate(req, answer)
}

// newGuardHarness is a fake harness on the secrets files (alice and bob)
// whose authenticator counts what it is asked.
func newGuardHarness(t *testing.T, options string, mutate func(*config)) (*fakeHarness, *countingAuth) {
	t.Helper()
	h := newFakeHarness(t, options, nil, mutate)
	writeTestFile(t, h.s.cfg.CHAPSecrets, "alice * pw *\nbob * pw2 *\n")
	ca := &countingAuth{inner: h.s.auth}
	h.s.auth = ca
	h.hangUp()
	return h, ca
}

// dialFrom opens a new session from mac and makes it the harness's.
func (h *fakeHarness) dialFrom(mac hwAddr) {
	h.t.Helper()
	c := offer(h.t, h.s, h.l, h.ifc, mac)
	h.sid = request(h.t, h.s, h.l, h.ifc, mac, c, tag{tagServiceName, nil}).sessionID
	h.fs = h.path.opened[h.sid]
}

// hangUp ends the harness's session with a PADT from its peer, as a
// client that gave up does.
func (h *fakeHarness) hangUp() {
	if sess := h.sess(); sess != nil {
		inject(h.s, h.ifc, frameOf(serverMAC, sess.peer, codePADT, h.sid))
		h.l.sent()
	}
}

func papReq(user, pass string) []byte {
	b := append([]byte{byte(len(user))}, user...)
	return append(append(b, byte(len(pass))), pass...)
}

// tryPAP logs in by PAP as user from mac on a new session and waits, tick
// by tick, for the answer. It reports whether the login was accepted, and
// how long the answer took; the session is hung up after a failure.
func (h *fakeHarness) tryPAP(mac hwAddr, user, pass string) (bool, time.Duration) {
	h.t.Helper()
	h.dialFrom(mac)
	h.openLCP()
	start := h.clk.now()
	out := h.feed(protoPAP, papAuthReq, 1, papReq(user, pass))
	for range 100 {
		if find(out, protoPAP, papAuthAck) != nil {
			return true, h.clk.now().Sub(start)
		}
		if find(out, protoPAP, papAuthNak) != nil {
			d := h.clk.now().Sub(start)
			h.hangUp()
			return false, d
		}
		out = h.tick(tickEvery)
	}
	h.t.Fatalf("no answer to %s's login within 25s", user)
	return false, 0
}

func lines(log, msg string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `msg="`+msg+`"`) {
			out = append(out, l)
		}
	}
	return out
}

// TestLockoutConfig: the TOML keys, bare numbers as seconds, flags over
// them, and 0 turning each part off without the others' checks.
func TestLockoutConfig(t *testing.T) {
	path := writeFile(t, "c.toml", "interfaces = [\"eth0\"]\nauth_fail_delay = 1\nauth_lockout_failures = 5\n"+
		"auth_lockout_window = \"30s\"\nauth_lockout_cooldown = 600\n")
	cfg, err := configFor(t, "-c", path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuthFailDelay != time.Second || cfg.LockoutFailures != 5 || cfg.LockoutWindow != 30*time.Second || cfg.LockoutCooldown != 10*time.Minute {
		t.Fatalf("delay %v, %d in %v for %v", cfg.AuthFailDelay, cfg.LockoutFailures, cfg.LockoutWindow, cfg.LockoutCooldown)
	}
	cfg, err = configFor(t, "-c", path, "--auth-fail-delay", "0", "--auth-lockout-failures", "0", "--auth-lockout-cooldown", "0")
	if err != nil {
		t.Fatalf("the guard off: %v", err)
	}
	if g := newLoginGuard(cfg, testLogger(t), &stats{}); g.delay != 0 || g.limit != 0 || g.refusal("alice", clientMAC, time.Now()) != "" {
		t.Fatalf("guard %+v with the delay and lockouts off", g)
	}
}

// TestAuthFailureDelayed: for every method a failure is answered after the
// failure delay, not before; the peer's retransmissions meanwhile are not
// checked again; a success is answered at once.
func TestAuthFailureDelayed(t *testing.T) {
	tests := []struct {
		name    string
		options string
		proto   uint16
		code    uint8 // the failure's code
		resp    func(challengeID uint8) (uint8, []byte)
	}{
		{"pap", "require-pap\n", protoPAP, papAuthNak, func(uint8) (uint8, []byte) { return papAuthReq, papReq("alice", "wrong") }},
		{"chap", "require-chap\n", protoCHAP, chapFailure, func(uint8) (uint8, []byte) {
			return chapResponse, append(append([]byte{16}, make([]byte, 16)...), "alice"...)
		}},
		{"mschapv2", "require-mschap-v2\n", protoCHAP, chapFailure, func(uint8) (uint8, []byte) {
			return chapResponse, append(append([]byte{mschapv2ResponseLen}, make([]byte, mschapv2ResponseLen)...), "alice"...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ca := newGuardHarness(t, tt.options, nil)
			h.dialFrom(clientMAC)
			var id uint8 = 1
			if ch := find(h.openLCP(), protoCHAP, chapChallenge); ch != nil {
				id = ch.id
			} else if tt.proto == protoCHAP {
				t.Fatal("no CHAP Challenge once LCP opened")
			}
			code, data := tt.resp(id)
			if out := h.feed(tt.proto, code, id, data); len(out) != 0 {
				t.Fatalf("answered at once: %+v", out)
			}
			start := h.clk.now()
			var out []pppFrame
			for len(out) == 0 && h.clk.now().Sub(start) < 10*time.Second {
				// The peer retransmits while it waits.
				h.feed(tt.proto, code, id, data)
				out = h.tick(tickEvery)
			}
			if d := h.clk.now().Sub(start); d < h.s.cfg.AuthFailDelay {
				t.Fatalf("answered after %v, before the failure delay %v", d, h.s.cfg.AuthFailDelay)
			}
			f := find(out, tt.proto, tt.code)
			if f == nil || f.id != id {
				t.Fatalf("no failure for request %d among %+v", id, out)
			}
			if len(ca.users) != 1 {
				t.Errorf("the authenticator was asked %d times, want once", len(ca.users))
			}
			if d := h.sess().closeReason; !strings.Contains(d, "wrong password") {
				t.Errorf("close reason %q", d)
			}
		})
	}
	t.Run("delay", func(t *testing.T) {
		h, _ := newGuardHarness(t, "require-pap\n", nil)
		if ok, d := h.tryPAP(clientMAC, "alice", "wrong"); ok || d < 2*time.Second || d > 2*time.Second+tickEvery {
			t.Fatalf("wrong password: ok %v after %v, want a Nak after the default 2s", ok, d)
		}
		if ok, d := h.tryPAP(otherMAC, "alice", "pw"); !ok || d != 0 {
			t.Fatalf("right password: ok %v after %v, want an Ack at once", ok, d)
		}
	})
	t.Run("near the auth timeout", func(t *testing.T) {
		// The auth timeout passes while the failure is held: the failure
		// is answered, and the login counted once.
		h, _ := newGuardHarness(t, "require-pap\n", func(c *config) { c.AuthTimeout = 3 * time.Second })
		h.dialFrom(clientMAC)
		h.openLCP()
		h.tick(2500 * time.Millisecond)
		h.feed(protoPAP, papAuthReq, 1, papReq("alice", "wrong"))
		var nak *pppFrame
		for range 12 {
			if nak = find(h.tick(tickEvery), protoPAP, papAuthNak); nak != nil {
				break
			}
		}
		if nak == nil || h.s.stats.c[statAuthFailures].Load() != 1 || !strings.Contains(h.sess().closeReason, "wrong password") {
			t.Fatalf("Nak %v, %d failures counted, close reason %q", nak, h.s.stats.c[statAuthFailures].Load(), h.sess().closeReason)
		}
	})
	t.Run("no delay", func(t *testing.T) {
		h, _ := newGuardHarness(t, "require-pap\n", func(c *config) { c.AuthFailDelay = 0 })
		if ok, d := h.tryPAP(clientMAC, "alice", "wrong"); ok || d != 0 {
			t.Fatalf("auth_fail_delay 0: ok %v after %v, want a Nak at once", ok, d)
		}
	})
}

// TestAuthFailureHeldSessionEnds: a session that ends while its failure is
// held back sends nothing more, and the session that takes its slot next
// hears nothing of it; the failure is logged and counted all the same, so
// an attacker who hangs up early does not go unseen.
func TestAuthFailureHeldSessionEnds(t *testing.T) {
	h, _ := newGuardHarness(t, "require-pap\n", func(c *config) { c.MaxSessions = 1 })
	h.dialFrom(clientMAC)
	h.openLCP()
	h.feed(protoPAP, papAuthReq, 1, papReq("alice", "wrong"))
	old, oldPath := h.sid, h.fs
	h.hangUp()
	if h.s.sessions.lookup(old) != nil {
		t.Fatal("PADT did not end the session")
	}
	if n := h.s.stats.c[statAuthFailures].Load(); n != 1 || len(lines(h.log.String(), "authentication failed")) != 1 {
		t.Fatalf("auth_failures %d, lines %q: the failure of a session that hung up went uncounted", n, lines(h.log.String(), "authentication failed"))
	}
	h.dialFrom(clientMAC) // the only slot again
	if h.sid != old {
		t.Fatalf("new session %d, want the slot %d again", h.sid, old)
	}
	h.openLCP()
	if out := h.tick(5 * time.Second); len(out) != 0 || len(oldPath.takeOut()) != 0 {
		t.Fatalf("the ended session's failure reached someone: %+v", out)
	}
	h.feed(protoPAP, papAuthReq, 2, papReq("alice", "pw"))
	if !h.sess().auth.done {
		t.Fatal("the new session's own login failed")
	}
}

// TestLockoutByName: guesses at one name from many MACs lock that name out
// after auth_lockout_failures, with one line; while it lasts the name is
// refused from any MAC, even with the right password, without asking the
// authenticator, and other names are not; the refusals do not extend it;
// after the cool-down, one line, and the real user logs in from a clean
// MAC.
func TestLockoutByName(t *testing.T) {
	h, ca := newGuardHarness(t, "require-pap\n", nil)
	cfg := h.s.cfg
	if cfg.LockoutFailures != 10 || cfg.LockoutWindow != time.Minute || cfg.LockoutCooldown != 5*time.Minute {
		t.Fatalf("defaults %d in %v for %v, want 10 in 1m for 5m", cfg.LockoutFailures, cfg.LockoutWindow, cfg.LockoutCooldown)
	}
	start := h.clk.now()
	for i := range cfg.LockoutFailures {
		if ok, _ := h.tryPAP(macN(i), "Alice", fmt.Sprint("guess", i)); ok {
			t.Fatal("a wrong password was accepted")
		}
	}
	locked := h.clk.now()
	if l := lines(h.log.String(), "login lockout started"); len(l) != 1 || !strings.Contains(l[0], "user=alice") || !strings.Contains(l[0], "failures=10") {
		t.Fatalf("lockout lines %q, want one for alice", l)
	}
	asked := len(ca.users)
	if ok, _ := h.tryPAP(macN(100), "alice", "pw"); ok {
		t.Fatal("a locked-out name logged in")
	}
	if ok, _ := h.tryPAP(macN(101), "bob", "pw2"); !ok {
		t.Fatal("another user was refused during alice's lockout")
	}
	h.hangUp()
	if len(ca.users) != asked+1 {
		t.Fatalf("the authenticator was asked %v; alice's refused login must not reach it", ca.users[asked:])
	}
	if !strings.Contains(h.log.String(), `reason="user locked out"`) {
		t.Error("no failure line with the reason user locked out")
	}
	// The attacker keeps guessing through the cool-down, from new MACs.
	for i := 0; h.clk.now().Before(locked.Add(cfg.LockoutCooldown - 10*time.Second)); i++ {
		h.tryPAP(macN(200+i), "alice", "more")
		h.tick(10 * time.Second)
	}
	if len(lines(h.log.String(), "login lockout ended")) != 0 {
		t.Fatal("the lockout ended early")
	}
	if ok, _ := h.tryPAP(macN(999), "alice", "pw"); ok {
		t.Fatal("alice logged in during the lockout")
	}
	h.tick(locked.Add(cfg.LockoutCooldown).Sub(h.clk.now()))
	if l := lines(h.log.String(), "login lockout ended"); len(l) != 1 || !strings.Contains(l[0], "user=alice") {
		t.Fatalf("lockout end lines %q, want one for alice at %v", l, cfg.LockoutCooldown)
	}
	if len(ca.users) != asked+1 {
		t.Fatalf("%d guesses reached the authenticator during the lockout", len(ca.users)-asked-1)
	}
	if ok, _ := h.tryPAP(hwAddr{0x02, 0xee, 0, 0, 0, 1}, "alice", "pw"); !ok {
		t.Fatal("alice cannot log in from a clean MAC after the cool-down")
	}
	t.Logf("locked %v after the first guess, for %v", locked.Sub(start), cfg.LockoutCooldown)
}

// TestLockoutByMAC: one MAC guessing at many names is locked out, for any
// name; other MACs are not.
func TestLockoutByMAC(t *testing.T) {
	h, ca := newGuardHarness(t, "require-pap\n", func(c *config) { c.LockoutFailures = 3 })
	for i := range 3 {
		h.tryPAP(clientMAC, fmt.Sprint("user", i), "x")
	}
	l := lines(h.log.String(), "login lockout started")
	if len(l) != 1 || !strings.Contains(l[0], "mac="+clientMAC.String()) {
		t.Fatalf("lockout lines %q, want one for %v", l, clientMAC)
	}
	asked := len(ca.users)
	if ok, _ := h.tryPAP(clientMAC, "alice", "pw"); ok || len(ca.users) != asked {
		t.Fatalf("a locked-out MAC: accepted %v, asked %v", ok, ca.users[asked:])
	}
	if !strings.Contains(h.log.String(), `reason="MAC locked out"`) {
		t.Error("no failure line with the reason MAC locked out")
	}
	if ok, _ := h.tryPAP(otherMAC, "alice", "pw"); !ok {
		t.Fatal("alice refused from another MAC")
	}
}

// TestLockoutSparesRADIUS: the lockout is the server's, not the secrets
// files': an authenticator that answers later (RADIUS) is not asked for a
// locked-out name either.
func TestLockoutSparesRADIUS(t *testing.T) {
	auth := &heldAuth{}
	h := newFakeHarness(t, "require-pap\n", auth, func(c *config) { c.LockoutFailures = 2 })
	for i := range 3 {
		h.hangUp()
		h.dialFrom(macN(i))
		h.openLCP()
		h.feed(protoPAP, papAuthReq, 1, papReq("carol", "guess"))
		if i < 2 {
			auth.answer(i, authResult{reason: "Access-Reject", guess: true})
			h.settle()
		}
		if nak := find(h.tick(2*time.Second), protoPAP, papAuthNak); nak == nil {
			t.Fatalf("attempt %d: no Nak after the delay", i)
		}
	}
	if len(auth.reqs) != 2 {
		t.Fatalf("RADIUS was asked %d times, want 2: the third login was locked out", len(auth.reqs))
	}
}

// TestLockoutIgnoresOutages: a failure that is not a wrong name or
// password (no RADIUS server answered) counts towards no lockout, so an
// outage locks nobody out for the cool-down after it.
func TestLockoutIgnoresOutages(t *testing.T) {
	auth := &heldAuth{}
	h := newFakeHarness(t, "require-pap\n", auth, func(c *config) { c.LockoutFailures = 2 })
	for i := range 4 {
		h.hangUp()
		h.dialFrom(clientMAC)
		h.openLCP()
		h.feed(protoPAP, papAuthReq, 1, papReq("carol", "pw"))
		auth.answer(i, authResult{reason: "no RADIUS server answered"})
		h.settle()
		if nak := find(h.tick(2*time.Second), protoPAP, papAuthNak); nak == nil {
			t.Fatalf("attempt %d: no Nak after the delay", i)
		}
	}
	if len(auth.reqs) != 4 || strings.Contains(h.log.String(), "login lockout started") {
		t.Fatalf("RADIUS asked %d times (want 4), log:\n%s", len(auth.reqs), h.log.String())
	}
}

// TestLockoutWindow: failures further apart than the window do not add up,
// and a success clears the count.
func TestLockoutWindow(t *testing.T) {
	h, _ := newGuardHarness(t, "require-pap\n", func(c *config) { c.LockoutFailures = 3 })
	for range 5 {
		h.tryPAP(clientMAC, "alice", "typo")
		h.tick(31 * time.Second)
	}
	// The last of those and the next two would be three in the window.
	h.tick(h.s.cfg.LockoutWindow)
	h.tryPAP(clientMAC, "alice", "typo")
	h.tryPAP(clientMAC, "alice", "typo")
	if ok, _ := h.tryPAP(clientMAC, "alice", "pw"); !ok {
		t.Fatal("alice refused after two typos")
	}
	h.hangUp()
	h.tryPAP(clientMAC, "alice", "typo")
	h.tryPAP(clientMAC, "alice", "typo")
	if n := len(lines(h.log.String(), "login lockout started")); n != 0 {
		t.Fatalf("%d lockouts: the window or the success did not clear the count", n)
	}
	h.tryPAP(clientMAC, "alice", "typo")
	if n := len(lines(h.log.String(), "login lockout started")); n != 2 {
		t.Fatalf("%d lockouts after 3 failures in the window, want the name's and the MAC's", n)
	}
}

// TestGuessRateBounded: an attacker with as many sessions as the server
// allows, each from a MAC of its own, guessing at one name for an hour,
// gets auth_lockout_failures guesses checked per cool-down, however fast
// it goes: the authenticator sees at most 10 × (1 + 60/5) of them. (20
// minutes under -short, for the runs under qemu-user.)
func TestGuessRateBounded(t *testing.T) {
	h, ca := newGuardHarness(t, "require-pap\n", func(c *config) { c.MaxSessions, c.MaxStarting = 32, 32 })
	mac := 0
	active := map[uint16]bool{} // sessions waiting for their answer
	span := time.Hour
	if testing.Short() {
		span = 20 * time.Minute
	}
	end := h.clk.now().Add(span)
	for h.clk.now().Before(end) {
		// Every free slot dials and guesses at once.
		for h.s.sessions.active < h.s.cfg.MaxSessions {
			mac++
			h.dialFrom(hwAddr{0x02, 0xaa, 0, byte(mac >> 16), byte(mac >> 8), byte(mac)})
			h.openLCP()
			h.feed(protoPAP, papAuthReq, 1, papReq("alice", fmt.Sprint("guess", mac)))
			active[h.sid] = true
		}
		h.clk.advance(tickEvery)
		h.s.onTick(h.clk.now())
		h.s.settle()
		for sid := range active {
			sess := h.s.sessions.lookup(sid)
			if sess == nil || sess.auth.failed {
				if sess != nil {
					inject(h.s, h.ifc, frameOf(serverMAC, sess.peer, codePADT, sid))
				}
				delete(active, sid)
			}
		}
		h.l.sent()
	}
	limit := h.s.cfg.LockoutFailures * (1 + int(span/h.s.cfg.LockoutCooldown))
	t.Logf("%d logins tried in %v, %d checked (%.3f/s), bound %d", mac, span, len(ca.users), float64(len(ca.users))/span.Seconds(), limit)
	if len(ca.users) > limit || len(ca.users) < h.s.cfg.LockoutFailures {
		t.Fatalf("%d guesses checked in %v, want %d..%d", len(ca.users), span, h.s.cfg.LockoutFailures, limit)
	}
}

// checkFailTable verifies the table's invariants: each entry on exactly
// the list its lock says, the index pointing at it, the locked list in
// order of its ends, and the bound.
func checkFailTable(t *testing.T, ft *failTable) {
	t.Helper()
	seen := 0
	for _, l := range []*failList{&ft.idle, &ft.locked} {
		prev := noEntry
		for i := l.head; i != noEntry; prev, i = i, ft.e[i].next {
			e := &ft.e[i]
			if e.prev != prev || ft.index[e.key] != i || e.until.IsZero() != (l == &ft.idle) {
				t.Fatalf("entry %d (%q) is broken: prev %d want %d, index %d", i, e.key, e.prev, prev, ft.index[e.key])
			}
			if l == &ft.locked && prev != noEntry && e.until.Before(ft.e[prev].until) {
				t.Fatalf("locked list out of order at %d", i)
			}
			seen++
		}
		if prev != l.tail {
			t.Fatalf("tail %d, last entry %d", l.tail, prev)
		}
	}
	if seen != len(ft.e) || len(ft.index) != len(ft.e) || len(ft.e) > ft.max {
		t.Fatalf("%d entries on the lists, %d in the slice, %d indexed, bound %d", seen, len(ft.e), len(ft.index), ft.max)
	}
}

// TestFailTableBounded: a flood of names keeps the table at its bound; a
// name being guessed at outlives one-off names; with every key locked the
// soonest lockout ends early, with its line; random operations keep the
// lists whole.
func TestFailTableBounded(t *testing.T) {
	var log strings.Builder
	var st stats
	g := &loginGuard{limit: 10, window: time.Minute, cooldown: 5 * time.Minute}
	g.users.init("user", 64, newTextLogger(levelInfo, &log), &st)
	ft := &g.users
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 9 {
		ft.fail("alice", now, g)
	}
	for i := range 10 * ft.max {
		now = now.Add(time.Millisecond)
		ft.fail(fmt.Sprint("random", i), now, g)
		checkFailTable(t, ft)
	}
	if i, ok := ft.index["alice"]; !ok || ft.e[i].n != 9 {
		t.Fatal("a flood of one-off names pushed out a name with 9 failures")
	}
	ft.fail("alice", now, g)
	if !ft.isLocked("alice") || st.c[statAuthLockouts].Load() != 1 {
		t.Fatal("the tenth failure did not lock alice")
	}

	// Lock every key: the next new one ends the soonest lockout.
	for i := 0; ft.locked.head == noEntry || len(ft.e) < ft.max || ft.idle.head != noEntry; i++ {
		now = now.Add(time.Millisecond)
		for range g.limit {
			ft.fail(fmt.Sprint("lock", i), now, g)
		}
	}
	checkFailTable(t, ft)
	first := ft.e[ft.locked.head].key
	ft.fail("newcomer", now, g)
	if ft.isLocked(first) || !strings.Contains(log.String(), fmt.Sprintf(`msg="login lockout ended" user=%s reason="table full"`, first)) {
		t.Fatalf("full of lockouts: %q was not the one ended early", first)
	}
	checkFailTable(t, ft)

	// Random operations against the invariants.
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		now = now.Add(time.Duration(r.IntN(2000)) * time.Millisecond)
		key := fmt.Sprint("k", r.IntN(200))
		switch r.IntN(4) {
		case 0:
			ft.forget(key)
		case 1:
			ft.expire(now)
		default:
			ft.fail(key, now, g)
		}
		checkFailTable(t, ft)
	}
}
