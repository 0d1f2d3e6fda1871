// Per-session rate limits: what a limit is, and how the TUN data path
// enforces one.
//
// A limit is kbit/s in each direction: down towards the subscriber, up from
// it. It comes, first found wins, from the authenticator's answer (the
// secrets file's rate column, accel-ppp's "down/up" after the address;
// RADIUS later), then the default_rate setting; `pppoed set rate` changes
// it on a live session.
//
// TUN mode polices in the data path: a token bucket per session and
// direction, filled at the rate, holding at most policeBurst of it, and a
// packet that finds too few tokens is dropped (tc's police action, and
// accel-ppp's upstream policer, do the same). The loop sets the rate and
// the burst through atomics; each bucket's tokens belong to the one
// data-path goroutine that forwards that direction of that session (the
// interface's reader upstream, the TUN reader downstream), so taking
// tokens needs no lock and allocates nothing. Kernel mode shapes with tc on
// pppN instead (pppox_linux.go).

package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// rateLimit is a session's limit in kbit/s; 0 in a direction is no limit.
type rateLimit struct{ down, up uint32 }

func (r rateLimit) isZero() bool { return r == rateLimit{} }

// String is accel-ppp's "down/up", or "" for no limit.
func (r rateLimit) String() string {
	if r.isZero() {
		return ""
	}
	return strconv.FormatUint(uint64(r.down), 10) + "/" + strconv.FormatUint(uint64(r.up), 10)
}

var errBadRate = errors.New("want down/up in kbit/s, such as 2048/512 (0 for no limit in a direction)")

// parseRate reads "down/up" in kbit/s.
func parseRate(s string) (rateLimit, error) {
	d, u, ok := strings.Cut(s, "/")
	if !ok {
		return rateLimit{}, fmt.Errorf("%q: %w", s, errBadRate)
	}
	down, err1 := strconv.ParseUint(d, 10, 32)
	up, err2 := strconv.ParseUint(u, 10, 32)
	if err1 != nil || err2 != nil || down > 100_000_000 || up > 100_000_000 {
		return rateLimit{}, fmt.Errorf("%q: %w", s, errBadRate)
	}
	return rateLimit{down: uint32(down), up: uint32(up)}, nil
}

// isRateWord reports whether a secrets file word is a rate column: digits,
// a slash, digits; an address rule always has a dot.
func isRateWord(w string) bool {
	d, u, ok := strings.Cut(w, "/")
	return ok && d != "" && u != "" && strings.Trim(d, "0123456789") == "" && strings.Trim(u, "0123456789") == ""
}

// policeBurst is how much traffic a bucket holds: a second of the rate, as
// accel-ppp's policer's default burst factor of 1.0, but at least
// minBurst. TCP through a policer needs that much room to reach the rate;
// the first second of a session may then run at up to twice it.
const (
	policeBurst = time.Second
	minBurst    = 4 * 1500
)

// burstBytes is the bucket size for kbps.
func burstBytes(kbps uint32) int64 {
	return max(int64(kbps)*1000/8*int64(policeBurst/time.Millisecond)/1000, minBurst)
}

// tokenBucket polices one direction of one session.
type tokenBucket struct {
	rate  atomic.Int64 // bytes per second; 0: no limit (the loop sets it)
	burst atomic.Int64 // bytes

	// Owned by the data-path goroutine of this direction.
	tokens int64
	last   int64 // Unix nanoseconds of the last refill; 0: full
}

// set changes the limit; the tokens already there stay, up to the new
// burst. Loop only.
func (b *tokenBucket) set(kbps uint32) {
	b.burst.Store(burstBytes(kbps))
	b.rate.Store(int64(kbps) * 1000 / 8)
}

// allow takes n bytes' worth of tokens if there are enough. Only the
// goroutine that owns the direction calls it.
func (b *tokenBucket) allow(n int) bool {
	r := b.rate.Load()
	if r == 0 {
		return true
	}
	burst := b.burst.Load()
	now := time.Now().UnixNano()
	switch d := now - b.last; {
	case b.last == 0:
		b.tokens, b.last = burst, now
	case d >= int64(time.Second):
		// A full second fills any bucket: no d×r that could overflow.
		b.tokens, b.last = b.tokens+r, now
	case d > 0:
		// Move last on by the time the whole tokens took, so the
		// fractions are not lost between packets close together.
		if add := d * r / int64(time.Second); add > 0 {
			b.tokens += add
			b.last += add * int64(time.Second) / r
		}
	}
	b.tokens = min(b.tokens, burst)
	if b.tokens < int64(n) {
		return false
	}
	b.tokens -= int64(n)
	return true
}
