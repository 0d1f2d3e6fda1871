// Checking a peer's credentials: the authenticator interface and the one
// that reads pppd's secrets files.
//
// A session hands its peer's credentials to the server's authenticator as
// an authRequest; the answer comes back to the loop as an event (authAnswer
// on the loop's event queue), at once or much later, or never, in which
// case the session's auth timeout ends it. The answer carries the request's
// key (session ID, the slot's generation and the request's number), so an
// answer for a session that ended, or for a request the session no longer
// waits for, is dropped. The answer also carries what the session then
// uses: an address (fixed, or from the pool), a session timeout, an idle
// timeout and a rate limit.
//
// secretsAuthenticator answers at once, on the loop goroutine, which owns
// it. Secrets come from pppd's chap-secrets and pap-secrets, read when it
// is made, re-read when a file changes, as pppd reads them on every login,
// and on SIGHUP. PAP looks in pap-secrets first and then in chap-secrets,
// so the usual rp-pppoe setup with only a chap-secrets file serves PAP
// clients too. main reports what is wrong with the files at start
// (secretsFileProblems), before the server is made.

package main

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"time"
)

type authenticator interface {
	// authenticate checks req and calls answer once, on any goroutine, at
	// once or later; or never. The authenticator owns req from then on.
	authenticate(req *authRequest, answer func(*authRequest, authResult))
}

// reloader is an authenticator that re-reads its configuration on SIGHUP.
type reloader interface {
	// reload re-reads the configuration. It returns a line for the log
	// saying what changed, or an error; the old configuration stays then.
	reload() (string, error)
}

// authKey names the request an answer belongs to.
type authKey struct {
	sid uint16
	gen uint32 // the session slot's generation
	seq uint32 // the session's request number
}

// authRequest is one check of a peer's credentials. Its slices are copies
// of what the peer sent.
type authRequest struct {
	key    authKey
	method authMethod
	user   string
	peer   hwAddr
	iface  string

	password  []byte // PAP
	challenge []byte // CHAP-MD5 and MS-CHAPv2: the challenge we sent
	response  []byte // CHAP-MD5: the 16-byte value; MS-CHAPv2: the 49-byte response

	// For RADIUS: who we are to the peer, and what the line says.
	ourMAC        hwAddr
	acctSessionID string
	line          *lineID // nil without a TR-101 tag
	chapID        uint8   // the Identifier of the PAP request or CHAP response; CHAP-MD5 hashes it
}

// authResult is an authenticator's answer.
type authResult struct {
	ok     bool
	reason string // for the log: why it failed
	// message goes to the peer in the Ack, Nak, Success or Failure; empty
	// for the usual text.
	message string
	// chapSuccess is MS-CHAPv2's authenticator response ("S=..."), which
	// proves to the peer that we know its password too.
	chapSuccess string
	// chapFailure is a whole MS-CHAPv2 Failure message ("E=691 R=0 ..."),
	// when RADIUS gave one.
	chapFailure string
	// mustHaveSuccess: an Accept for MS-CHAPv2 without MS-CHAP2-Success
	// is a failure, as the peer cannot authenticate us.
	mustHaveSuccess bool
	source          string // "radius", or "" for the secrets files
	// guess: the name or password was wrong, as the secrets files or a
	// RADIUS Access-Reject say; only such a failure counts towards a
	// lockout (guard.go), not a RADIUS outage or a broken secrets line.
	guess bool

	pool        string        // Framed-Pool: a named pool to take the address from
	acctInterim time.Duration // Acct-Interim-Interval; 0: the configured one
	class       [][]byte      // Class, echoed in accounting

	addr           netip.Addr    // a fixed address; invalid: one from the pool
	sessionTimeout time.Duration // 0: none
	idleTimeout    time.Duration // 0: the server's
	rateDown       uint32        // kbit/s towards the peer; 0: no limit
	rateUp         uint32        // kbit/s from the peer; 0: no limit

	// IPv6 (RFC 3162, 4818, 6911): a fixed /64 and delegated prefix, or
	// the named pools to take them from; zero values: the default pools.
	ipv6Prefix    netip.Prefix // Framed-IPv6-Prefix
	delegated     netip.Prefix // Delegated-IPv6-Prefix
	ipv6Pool      string       // Framed-IPv6-Pool
	delegatedPool string       // Delegated-IPv6-Prefix-Pool
}

func (r *authResult) rate() rateLimit { return rateLimit{down: r.rateDown, up: r.rateUp} }

// authAnswer is an authenticator's answer on its way to the loop.
type authAnswer struct {
	key authKey
	res authResult
}

func (e authAnswer) handle(s *server) {
	sess := s.sessions.lookup(e.key.sid)
	if sess == nil || sess.gen != e.key.gen || sess.ending || !sess.auth.pending || sess.auth.seq != e.key.seq {
		// The session ended, or renegotiated, before the answer came.
		if s.logLimit.allow(logAuthAnswer, s.clock) {
			s.log.Debug("stale authentication answer dropped", "sid", e.key.sid)
		}
		return
	}
	sess.authAnswered(e.res)
}

// answerAuth is the answer function every session's request carries. It
// may run on any goroutine.
func (s *server) answerAuth(req *authRequest, res authResult) {
	s.events.post(authAnswer{req.key, res})
}

// secretsAuthenticator checks credentials against pppd's secrets files.
// The loop goroutine owns it.
type secretsAuthenticator struct {
	name        string // our name: the server column of the files
	chapSecrets secretsCache
	papSecrets  secretsCache
	log         *logger
	now         func() time.Time
	warn        rateLimiter
}

// newSecretsAuthenticator reads both files. Their problems are not logged
// here: main has reported them already, and the lines that parsed serve.
func newSecretsAuthenticator(cfg *config, name string, log *logger, now func() time.Time) *secretsAuthenticator {
	a := &secretsAuthenticator{
		name:        name,
		chapSecrets: secretsCache{path: cfg.CHAPSecrets},
		papSecrets:  secretsCache{path: cfg.PAPSecrets},
		log:         log,
		now:         now,
	}
	a.chapSecrets.get()
	a.papSecrets.get()
	return a
}

func (a *secretsAuthenticator) authenticate(req *authRequest, answer func(*authRequest, authResult)) {
	answer(req, a.check(req))
}

func (a *secretsAuthenticator) check(req *authRequest) authResult {
	var e secretEntry
	var found bool
	var why string
	if req.method == authPAP {
		e, found, why = a.lookup(req.user, &a.papSecrets, &a.chapSecrets)
	} else {
		e, found, why = a.lookup(req.user, &a.chapSecrets)
	}
	fail := authResult{reason: "wrong password", guess: true}
	if !found {
		fail.reason = why
		fail.guess = !strings.HasPrefix(why, "entry skipped")
	}
	res := authResult{ok: true}
	switch req.method {
	case authPAP:
		if !found || !e.secret.equal(req.password) {
			return fail
		}
	case authCHAP:
		want := chapMD5Response(req.chapID, []byte(e.secret), req.challenge)
		if !found || subtle.ConstantTimeCompare(req.response, want[:]) != 1 {
			return fail
		}
	case authMSCHAPv2:
		peerChallenge, ntResp, err := parseMSCHAPv2Response(req.response)
		if err != nil {
			return authResult{reason: "malformed MS-CHAPv2 response"}
		}
		// RFC 2759 §8.2: the challenge hash uses the user name without
		// any domain; the secret is looked up by the name as sent.
		u := stripDomain(req.user)
		ch := [chapChallengeLen]byte(req.challenge)
		want := generateNTResponse(ch, peerChallenge, u, string(e.secret))
		if !found || subtle.ConstantTimeCompare(ntResp[:], want[:]) != 1 {
			return fail
		}
		res.chapSuccess = generateAuthenticatorResponse(string(e.secret), ntResp, peerChallenge, ch, u)
	default:
		return authResult{reason: fmt.Sprintf("method %v", req.method)}
	}
	if e.forbidsAddr() {
		return authResult{reason: "secrets line allows no address"}
	}
	if a, ok := e.staticAddr(); ok {
		res.addr = a
	}
	res.rateDown, res.rateUp = e.rate.down, e.rate.up
	return res
}

// lookup finds client's entry for our name in the given files, the first
// file that has one winning. Without one, why says what the failure is:
// the entry meant for client was a skipped line ("entry skipped:
// path:line: …"), or there is none ("unknown user", with the line that
// may have hidden it, if one was skipped).
func (a *secretsAuthenticator) lookup(client string, files ...*secretsCache) (e secretEntry, found bool, why string) {
	var lost *secretsError
	for _, c := range files {
		old := c.f
		f, err := c.get()
		if err != nil && a.warn.allow(a.now()) {
			if f == old {
				a.log.Warn("secrets file refused; keeping what was read before", "path", c.path, "err", err)
			} else {
				a.log.Warn("secrets file read; lines skipped", "path", c.path, "err", err)
			}
		}
		if f == nil {
			continue
		}
		e, skipped, ok := f.match(client, a.name)
		if ok {
			return e, true, ""
		}
		if skipped != nil {
			return secretEntry{}, false, "entry skipped: " + skipped.Error()
		}
		if lost == nil {
			lost = f.lostTo()
		}
	}
	if lost != nil {
		return secretEntry{}, false, "unknown user, but a secrets line was skipped that may have held the entry: " + lost.Error()
	}
	return secretEntry{}, false, "unknown user"
}

// reload re-reads both files now. A file that does not parse, even in
// one line, keeps its old contents, unless it had none worth keeping
// (secretsCache): then the lines that parse serve and each skipped one
// gets a warning. A file group or others can read gets the warning it got
// at start.
func (a *secretsAuthenticator) reload() (string, error) {
	var msg string
	for _, c := range []*secretsCache{&a.chapSecrets, &a.papSecrets} {
		before, old := c.entries(), c.f
		c.mtime, c.size = time.Time{}, -1 // force a read
		if f, err := c.get(); err != nil {
			if f == old {
				return "", err
			}
			for _, sk := range f.skipped {
				a.log.Warn(fmt.Sprintf("%v: line skipped", sk.err))
			}
		}
		if w := secretsAccessWarning(c.path); w != "" {
			a.log.Warn(w)
		}
		if after := c.entries(); after != before {
			msg += fmt.Sprintf("%s: %d entries, was %d; ", c.path, after, before)
		}
	}
	return msg, nil
}

// secretsFileProblems checks the secrets files the enabled methods read,
// at start, and returns one line for each problem, each naming the file:
// a file a method needs that is missing or cannot be read, each line that
// does not parse (it is skipped), and group or world access. main logs
// them as warnings, or refuses to start with --strict. CHAP and MS-CHAPv2
// read chap-secrets; PAP reads pap-secrets and then chap-secrets, so for
// PAP either one is enough. With RADIUS, or without authentication, the
// files are not read at all.
func secretsFileProblems(cfg *config) []string {
	if cfg.Radius.enabled() {
		return nil
	}
	var chapUsers []string // the methods that need chap-secrets
	pap := false
	for _, m := range authMethodsFrom(cfg.opts) {
		switch m {
		case authPAP:
			pap = true
		case authCHAP:
			chapUsers = append(chapUsers, "CHAP")
		case authMSCHAPv2:
			chapUsers = append(chapUsers, "MS-CHAPv2")
		}
	}
	if len(chapUsers) == 0 && !pap {
		return nil
	}
	var out []string
	// check reports what is wrong with one file; missing is not reported
	// here, as whether it matters depends on the other file.
	check := func(path string) (missing bool) {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return true
		}
		f, err := loadSecrets(path)
		if f == nil {
			if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
				err = pe.Err
			}
			out = append(out, fmt.Sprintf("cannot read secrets file %s: %v", path, err))
			return false
		}
		for _, sk := range f.skipped {
			out = append(out, fmt.Sprintf("%v: line skipped", sk.err))
		}
		if w := secretsAccessWarning(path); w != "" {
			out = append(out, w)
		}
		return false
	}
	chapMissing := check(cfg.CHAPSecrets)
	papMissing := true
	if pap && cfg.PAPSecrets != cfg.CHAPSecrets {
		papMissing = check(cfg.PAPSecrets)
	}
	if chapMissing && len(chapUsers) > 0 {
		out = append(out, fmt.Sprintf("secrets file %s does not exist: every %s login will fail",
			cfg.CHAPSecrets, strings.Join(chapUsers, " and ")))
	}
	if chapMissing && papMissing && pap {
		out = append(out, fmt.Sprintf("neither secrets file %s nor %s exists: every PAP login will fail",
			cfg.PAPSecrets, cfg.CHAPSecrets))
	}
	return out
}

// secretsAccessWarning is pppd's warning for a secrets file that group or
// others have any access to (check_access in auth.c), or "".
func secretsAccessWarning(path string) string {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("Warning - secret file %s has world and/or group access (mode %04o); chmod 600 it", path, st.Mode().Perm())
}

// secretsCache re-reads a secrets file when its modification time or size
// changes. When there is nothing to fall back on (the first read, or the
// file was missing, unreadable or without one good entry before), the
// lines that parse serve and the others are skipped: one bad line must
// not lock every user out. Otherwise a file with a skipped line, or one
// that cannot be read, leaves the last contents in place, as a reload
// refuses a broken options file. Either way get returns the error; the
// caller tells the two apart by whether the *secretsFile changed.
type secretsCache struct {
	path  string
	mtime time.Time
	size  int64
	f     *secretsFile
}

func (c *secretsCache) get() (*secretsFile, error) {
	st, err := os.Stat(c.path)
	if err != nil {
		if os.IsNotExist(err) {
			c.f, c.mtime, c.size = &secretsFile{path: c.path}, time.Time{}, 0
			return c.f, nil
		}
		return c.f, err
	}
	if c.f != nil && st.ModTime().Equal(c.mtime) && st.Size() == c.size {
		return c.f, nil
	}
	c.mtime, c.size = st.ModTime(), st.Size()
	f, err := loadSecrets(c.path)
	switch {
	case err == nil:
		c.f = f
	case f != nil && (c.f == nil || len(c.f.entries) == 0):
		c.f = f // nothing to keep: take the lines that parsed
	case c.f == nil:
		c.f = &secretsFile{path: c.path}
	}
	return c.f, err
}

func (c *secretsCache) entries() int {
	if c.f == nil {
		return 0
	}
	return len(c.f.entries)
}
