// Password guessing: the delay on a failed login, and lockouts by user name
// and by client MAC.
//
// A failed login is answered only after auth_fail_delay, as pppd sleeps
// before its PAP Nak and login(1) before "Login incorrect". The session
// keeps the answer and sends it from its tick (auth.go): no goroutine and
// no timer waits per failure, and a session that ends meanwhile takes the
// answer with it. Until then the request stays pending, so the peer's
// retransmissions are not checked again.
//
// The guard counts failed logins, those an authenticator turned down, per
// user name and per client MAC. auth_lockout_failures of them within
// auth_lockout_window lock that name, or that MAC, out for
// auth_lockout_cooldown:
//
//   - a locked MAC is refused whatever name it logs in as;
//   - a locked name is refused from every MAC.
//
// A refused login is answered as a failure, after the same delay, without
// asking the authenticator, so RADIUS is spared as much as the secrets
// files. It does not count towards a lockout (it checked no password), so
// a lockout ends after its cool-down whatever is tried meanwhile, and the
// failures after it count afresh. A success clears the counts of its name
// and its MAC; an MS-CHAPv2 accept without MS-CHAP2-Success is neither.
// One line is logged when a lockout starts and one when it ends. Names
// compare without regard to case, as many RADIUS back ends compare them.
//
// The window begins with the first failure and, once passed, begins again
// with the next: an attacker that paces itself is never locked out, and
// limit-1 guesses a window at one name is what bounds it.
//
//	          failure                  n-th failure in the window
//	(none) ─────────────> counting ───────────────────────────> locked
//	   ^                  │   ^  │ success, or evicted             │
//	   └──────────────────┘   └──┘ failure                         │
//	   └──────────────── cool-down over (or evicted, table full) ──┘
//
// Memory is bounded: each table keeps at most failTableKeys keys, a name
// cut to maxNameKey bytes. A new key in a full table takes the place of an
// unlocked one among the failTableSample least recently failed: one whose
// window has passed, else the one with the fewest failures, so a flood of
// one-off names does not push out a name that is being guessed at. Only
// when every key is locked does the lockout that would end soonest end
// early, with its line.
//
// The loop goroutine owns the guard. The tick ends the lockouts that are
// due, looking at the soonest one only, so an idle guard costs nothing.

package main

import (
	"strings"
	"time"
)

const (
	// failTableKeys bounds each of the two tables: at most about 1.5 MB
	// for names of maxNameKey bytes, 0.5 MB for MACs.
	failTableKeys   = 4096
	failTableSample = 8
	// maxNameKey is pppd's MAXNAMELEN less its NUL: a longer name counts
	// as its first 255 bytes.
	maxNameKey = 255
)

// loginGuard holds back failure answers and keeps the lockouts.
type loginGuard struct {
	delay    time.Duration // before a failure is answered; 0: at once
	limit    int           // failures in window that lock; 0: no lockouts
	window   time.Duration
	cooldown time.Duration
	users    failTable
	macs     failTable
}

func newLoginGuard(cfg *config, log *logger, st *stats) *loginGuard {
	g := &loginGuard{delay: cfg.AuthFailDelay, limit: cfg.LockoutFailures, window: cfg.LockoutWindow, cooldown: cfg.LockoutCooldown}
	g.users.init("user", failTableKeys, log, st)
	g.macs.init("mac", failTableKeys, log, st)
	return g
}

func nameKey(user string) string { return strings.ToLower(user[:min(len(user), maxNameKey)]) }

func macKey(mac hwAddr) string { return string(mac[:]) }

// refusal says why a login of user from mac is refused without asking the
// authenticator, or "" when the authenticator is to be asked.
func (g *loginGuard) refusal(user string, mac hwAddr, now time.Time) string {
	if g.limit == 0 {
		return ""
	}
	g.tick(now)
	if g.macs.isLocked(macKey(mac)) {
		return "MAC locked out"
	}
	if g.users.isLocked(nameKey(user)) {
		return "user locked out"
	}
	return ""
}

// failed counts a failed login of user from mac, and starts the lockouts
// it completes.
func (g *loginGuard) failed(user string, mac hwAddr, now time.Time) {
	if g.limit == 0 {
		return
	}
	g.tick(now)
	g.users.fail(nameKey(user), now, g)
	g.macs.fail(macKey(mac), now, g)
}

// succeeded clears the counts of user and mac.
func (g *loginGuard) succeeded(user string, mac hwAddr) {
	if g.limit == 0 {
		return
	}
	g.users.forget(nameKey(user))
	g.macs.forget(macKey(mac))
}

// tick ends the lockouts whose cool-down is over.
func (g *loginGuard) tick(now time.Time) {
	g.users.expire(now)
	g.macs.expire(now)
}

// failEntry is one key's count, or its lockout.
type failEntry struct {
	key        string
	n          int       // failures since the window began
	since      time.Time // the window's beginning: the first of them
	until      time.Time // the lockout's end; zero while not locked
	prev, next int32     // neighbours in the table's idle or locked list
}

const noEntry int32 = -1

// failList is a list of a table's entries, threaded through them by index.
type failList struct{ head, tail int32 }

// failTable counts failures by key. Its entries sit in a slice with no
// holes (a removed entry's place is taken by the last one), on one of two
// lists: idle, the unlocked ones, least recently failed first; and locked,
// soonest to end first (the cool-down is the same for all, so that is the
// order they locked in).
type failTable struct {
	kind   string // the log key: user or mac
	max    int
	index  map[string]int32
	e      []failEntry
	idle   failList
	locked failList
	log    *logger
	stats  *stats
}

func (t *failTable) init(kind string, max int, log *logger, st *stats) {
	t.kind, t.max, t.log, t.stats = kind, max, log, st
	t.index = map[string]int32{}
	t.idle = failList{noEntry, noEntry}
	t.locked = failList{noEntry, noEntry}
}

func (t *failTable) isLocked(key string) bool {
	i, ok := t.index[key]
	return ok && !t.e[i].until.IsZero()
}

// fail counts a failure of key at now. A key that is locked already (its
// check was under way when it locked) is left alone.
func (t *failTable) fail(key string, now time.Time, g *loginGuard) {
	i, ok := t.index[key]
	if ok {
		e := &t.e[i]
		if !e.until.IsZero() {
			return
		}
		t.unlink(i)
		if now.Sub(e.since) >= g.window {
			e.n, e.since = 0, now
		}
		e.n++
	} else {
		if len(t.e) >= t.max {
			t.evict(now, g.window)
		}
		i = int32(len(t.e))
		key = strings.Clone(key) // not the rest of the packet it came in
		t.e = append(t.e, failEntry{key: key, n: 1, since: now})
		t.index[key] = i
	}
	e := &t.e[i]
	if e.n >= g.limit {
		e.until = now.Add(g.cooldown)
		t.stats.add(statAuthLockouts)
		t.log.Info("login lockout started", t.kind, t.show(key), "failures", e.n, "within", now.Sub(e.since), "cooldown", g.cooldown)
	}
	t.push(i)
}

// forget drops key's count; a lockout stays.
func (t *failTable) forget(key string) {
	if i, ok := t.index[key]; ok && t.e[i].until.IsZero() {
		t.remove(i)
	}
}

// expire ends the lockouts that are over at now.
func (t *failTable) expire(now time.Time) {
	for i := t.locked.head; i != noEntry && !now.Before(t.e[i].until); i = t.locked.head {
		t.end(i, "cool-down over")
	}
}

// evict makes room for one key.
func (t *failTable) evict(now time.Time, window time.Duration) {
	best := noEntry
	for i, k := t.idle.head, 0; i != noEntry && k < failTableSample; i, k = t.e[i].next, k+1 {
		if now.Sub(t.e[i].since) >= window {
			best = i
			break
		}
		if best == noEntry || t.e[i].n < t.e[best].n {
			best = i
		}
	}
	if best != noEntry {
		t.remove(best)
		return
	}
	t.end(t.locked.head, "table full")
}

func (t *failTable) end(i int32, reason string) {
	t.log.Info("login lockout ended", t.kind, t.show(t.e[i].key), "reason", reason)
	t.remove(i)
}

// show is key as the log shows it.
func (t *failTable) show(key string) string {
	if t.kind == "mac" && len(key) == ethAddrLen {
		return hwAddr([]byte(key)).String()
	}
	return key
}

func (t *failTable) list(i int32) *failList {
	if t.e[i].until.IsZero() {
		return &t.idle
	}
	return &t.locked
}

// push appends entry i to the tail of its list.
func (t *failTable) push(i int32) {
	l, e := t.list(i), &t.e[i]
	e.prev, e.next = l.tail, noEntry
	if l.tail == noEntry {
		l.head = i
	} else {
		t.e[l.tail].next = i
	}
	l.tail = i
}

// unlink takes entry i off its list.
func (t *failTable) unlink(i int32) {
	l, e := t.list(i), &t.e[i]
	if e.prev == noEntry {
		l.head = e.next
	} else {
		t.e[e.prev].next = e.next
	}
	if e.next == noEntry {
		l.tail = e.prev
	} else {
		t.e[e.next].prev = e.prev
	}
	e.prev, e.next = noEntry, noEntry
}

// remove deletes entry i; the last entry moves into its place.
func (t *failTable) remove(i int32) {
	t.unlink(i)
	delete(t.index, t.e[i].key)
	last := int32(len(t.e) - 1)
	if i != last {
		m := t.e[last]
		t.e[i] = m
		l := t.list(i)
		if m.prev == noEntry {
			l.head = i
		} else {
			t.e[m.prev].next = i
		}
		if m.next == noEntry {
			l.tail = i
		} else {
			t.e[m.next].prev = i
		}
		t.index[m.key] = i
	}
	t.e[last] = failEntry{}
	t.e = t.e[:last]
}
