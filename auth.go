// Authentication: PAP (RFC 1334), CHAP-MD5 (RFC 1994) and MS-CHAPv2
// (RFC 2759), the access concentrator's side and the test client's.
//
// The server proposes the strongest method the options file allows and
// takes the peer's Nak towards another allowed one (lcp.go). Once LCP is
// open it runs the method: a CHAP challenge is retransmitted until answered
// or the auth timeout passes; PAP waits for the peer's request. A failure
// sends its reason in the Nak or Failure message; after the configured
// number of failures LCP is closed (Terminate-Request, then PADT).
//
// Secrets come from pppd's chap-secrets and pap-secrets, re-read when the
// file changes, as pppd reads them on every login. PAP looks in pap-secrets
// first and then in chap-secrets, so the usual rp-pppoe setup with only a
// chap-secrets file serves PAP clients too. Secrets never reach a log.

package main

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"
)

type authMethod uint8

const (
	authNone authMethod = iota
	authPAP
	authCHAP
	authMSCHAPv2
)

func (m authMethod) String() string {
	switch m {
	case authPAP:
		return "pap"
	case authCHAP:
		return "chap"
	case authMSCHAPv2:
		return "mschapv2"
	}
	return "none"
}

func parseAuthName(s string) (authMethod, error) {
	switch strings.ToLower(s) {
	case "pap":
		return authPAP, nil
	case "chap", "chap-md5":
		return authCHAP, nil
	case "mschapv2", "mschap-v2", "ms-chapv2":
		return authMSCHAPv2, nil
	}
	return authNone, fmt.Errorf("%q is not pap, chap or mschapv2", s)
}

// appendOpt appends the LCP Authentication-Protocol option for m.
func (m authMethod) appendOpt(b []byte) []byte {
	switch m {
	case authPAP:
		return appendOpt16(b, lcpOptAuth, protoPAP)
	case authCHAP:
		return append(b, lcpOptAuth, 5, 0xc2, 0x23, chapAlgMD5)
	case authMSCHAPv2:
		return append(b, lcpOptAuth, 5, 0xc2, 0x23, chapAlgMSCHAPv2)
	}
	return b
}

// parseAuthOpt decodes an Authentication-Protocol option value.
func parseAuthOpt(val []byte) authMethod {
	switch {
	case len(val) == 2 && binary.BigEndian.Uint16(val) == protoPAP:
		return authPAP
	case len(val) == 3 && binary.BigEndian.Uint16(val) == protoCHAP && val[2] == chapAlgMD5:
		return authCHAP
	case len(val) == 3 && binary.BigEndian.Uint16(val) == protoCHAP && val[2] == chapAlgMSCHAPv2:
		return authMSCHAPv2
	}
	return authNone
}

// authMethodsFrom is the server's policy from the options file, strongest
// first. With no require-* line and no noauth, all three are allowed and
// authentication is still required.
func authMethodsFrom(o *pppOptions) []authMethod {
	if o.noAuth {
		return nil
	}
	var m []authMethod
	if o.requireMSCHAPv2 {
		m = append(m, authMSCHAPv2)
	}
	if o.requireCHAP {
		m = append(m, authCHAP)
	}
	if o.requirePAP {
		m = append(m, authPAP)
	}
	if len(m) == 0 {
		m = []authMethod{authMSCHAPv2, authCHAP, authPAP}
	}
	return m
}

// authState is one session's authentication phase.
type authState struct {
	method    authMethod
	id        uint8
	challenge [chapChallengeLen]byte
	deadline  time.Time // the whole phase
	resendAt  time.Time // next challenge retransmission
	failures  int
	done      bool
	user      string
	entry     secretEntry // the secrets line that matched, for its IP column
	success   string      // the Success message, resent for a retransmitted Response
}

// secretsCache re-reads a secrets file when its modification time or size
// changes.
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
		return nil, err
	}
	if c.f != nil && st.ModTime().Equal(c.mtime) && st.Size() == c.size {
		return c.f, nil
	}
	f, err := loadSecrets(c.path)
	if err != nil {
		return nil, err
	}
	c.f, c.mtime, c.size = f, st.ModTime(), st.Size()
	return f, nil
}

// lookupSecret finds client's entry for our name in the given files, the
// first file that has one winning.
func (s *server) lookupSecret(client string, files ...*secretsCache) (secretEntry, bool) {
	for _, c := range files {
		f, err := c.get()
		if err != nil {
			if s.badLog.allow(s.clock) {
				s.log.Warn("cannot read secrets", "path", c.path, "err", err)
			}
			continue
		}
		if e, ok := f.lookup(client, s.authName); ok {
			return e, true
		}
	}
	return secretEntry{}, false
}

// startAuth begins the authentication phase once LCP is open.
func (s *server) startAuth(sess *session) {
	a := &sess.auth
	*a = authState{method: sess.lcpL.auth, deadline: s.clock.Add(s.cfg.AuthTimeout)}
	if a.method == authCHAP || a.method == authMSCHAPv2 {
		s.sendChallenge(sess)
	}
}

func (s *server) sendChallenge(sess *session) {
	a := &sess.auth
	a.id++
	fillRandom(a.challenge[:])
	a.resendAt = s.clock.Add(s.fsmCfg.restart)
	s.resendChallenge(sess)
}

func (s *server) resendChallenge(sess *session) {
	a := &sess.auth
	s.lenBuf[0] = chapChallengeLen
	s.sendCP(sess, protoCHAP, chapChallenge, a.id, s.lenBuf[:1], a.challenge[:], s.authNameBytes)
	a.resendAt = s.clock.Add(s.fsmCfg.restart)
}

// onAuthTick retransmits a challenge and enforces the auth timeout.
func (s *server) onAuthTick(sess *session, now time.Time) {
	a := &sess.auth
	if a.done {
		return
	}
	if !now.Before(a.deadline) {
		s.authFailed(sess, "authentication timed out", true)
		return
	}
	if (a.method == authCHAP || a.method == authMSCHAPv2) && !now.Before(a.resendAt) {
		s.resendChallenge(sess)
	}
}

// handleAuth handles a PAP or CHAP packet from the peer.
func (s *server) handleAuth(sess *session, proto uint16, pkt []byte) {
	code, id, data, ok := parseCP(pkt)
	if !ok {
		s.drop(sess.iface, dropBadPPP, pkt)
		return
	}
	a := &sess.auth
	switch {
	case proto == protoPAP && a.method == authPAP && code == papAuthReq:
		s.onPAPRequest(sess, id, data)
	case proto == protoCHAP && (a.method == authCHAP || a.method == authMSCHAPv2) && code == chapResponse:
		if id != a.id {
			s.drop(sess.iface, dropBadPPP, pkt)
			return
		}
		if a.done {
			// Our Success was lost: say it again (RFC 1994 §4.2).
			s.sendCP(sess, protoCHAP, chapSuccess, id, []byte(a.success), nil, nil)
			return
		}
		s.onCHAPResponse(sess, id, data)
	default:
		s.drop(sess.iface, dropBadPPP, pkt)
	}
}

func (s *server) onPAPRequest(sess *session, id uint8, data []byte) {
	a := &sess.auth
	if a.done {
		s.sendCP(sess, protoPAP, papAuthAck, id, []byte{7}, []byte("Welcome"), nil)
		return
	}
	// RFC 1334 §2.2.1: Peer-ID Length, Peer-Id, Passwd-Length, Password.
	if len(data) < 1 || len(data) < 2+int(data[0]) || len(data) < 2+int(data[0])+int(data[1+int(data[0])]) {
		s.drop(sess.iface, dropBadPPP, data)
		return
	}
	user := string(data[1 : 1+int(data[0])])
	pw := data[2+int(data[0]) : 2+int(data[0])+int(data[1+int(data[0])])]
	a.user = user
	e, found := s.lookupSecret(user, &s.papSecrets, &s.chapSecrets)
	if !found || subtle.ConstantTimeCompare(pw, []byte(e.secret)) != 1 {
		msg := "Login incorrect"
		s.sendCP(sess, protoPAP, papAuthNak, id, []byte{byte(len(msg))}, []byte(msg), nil)
		s.authFailed(sess, reasonFor(found, "wrong password"), false)
		return
	}
	if !s.authSucceeded(sess, e) {
		return
	}
	s.sendCP(sess, protoPAP, papAuthAck, id, []byte{7}, []byte("Welcome"), nil)
	s.enterNetworkPhase(sess)
}

func reasonFor(found bool, wrong string) string {
	if !found {
		return "unknown user"
	}
	return wrong
}

func (s *server) onCHAPResponse(sess *session, id uint8, data []byte) {
	a := &sess.auth
	// RFC 1994 §4.1: Value-Size, Value, Name.
	if len(data) < 1 || len(data) < 1+int(data[0]) {
		s.drop(sess.iface, dropBadPPP, data)
		return
	}
	val, name := data[1:1+int(data[0])], string(data[1+int(data[0]):])
	a.user = name
	e, found := s.lookupSecret(name, &s.chapSecrets)
	switch a.method {
	case authCHAP:
		want := chapMD5Response(id, []byte(e.secret), a.challenge[:])
		if !found || subtle.ConstantTimeCompare(val, want[:]) != 1 {
			s.chapFailure(sess, id, "Authentication failed", reasonFor(found, "wrong password"))
			return
		}
		if !s.authSucceeded(sess, e) {
			return
		}
		a.success = "Welcome"
	case authMSCHAPv2:
		peerChallenge, ntResp, err := parseMSCHAPv2Response(val)
		if err != nil {
			s.chapFailure(sess, id, mschapv2Failure(691, a.challenge, "Authentication failed"), "malformed MS-CHAPv2 response")
			return
		}
		// RFC 2759 §8.2: the challenge hash uses the user name without
		// any domain; the secret is looked up by the name as sent.
		u := name
		if i := strings.LastIndexByte(u, '\\'); i >= 0 {
			u = u[i+1:]
		}
		want := generateNTResponse(a.challenge, peerChallenge, u, string(e.secret))
		if !found || subtle.ConstantTimeCompare(ntResp[:], want[:]) != 1 {
			s.chapFailure(sess, id, mschapv2Failure(691, a.challenge, "Authentication failed"), reasonFor(found, "wrong password"))
			return
		}
		if !s.authSucceeded(sess, e) {
			return
		}
		a.success = generateAuthenticatorResponse(string(e.secret), ntResp, peerChallenge, a.challenge, u) + " M=Welcome"
	}
	s.sendCP(sess, protoCHAP, chapSuccess, id, []byte(a.success), nil, nil)
	s.enterNetworkPhase(sess)
}

func (s *server) chapFailure(sess *session, id uint8, msg, reason string) {
	s.sendCP(sess, protoCHAP, chapFailure, id, []byte(msg), nil, nil)
	s.authFailed(sess, reason, false)
}

// authSucceeded records the login and checks the secrets line's address
// column. It reports false, having failed the session, when that column
// forbids every address.
func (s *server) authSucceeded(sess *session, e secretEntry) bool {
	a := &sess.auth
	if e.forbidsAddr() {
		s.authFailed(sess, "secrets line allows no address", true)
		return false
	}
	a.done, a.entry = true, e
	sess.log = sess.log.With("user", a.user)
	sess.log.Info("authenticated", "method", a.method.String())
	return true
}

// authFailed counts a failure. After the configured number of failures, or
// when final, LCP is closed: Terminate-Request, then PADT once it is done.
func (s *server) authFailed(sess *session, reason string, final bool) {
	a := &sess.auth
	a.failures++
	sess.log.Info("authentication failed", "user", a.user, "method", a.method.String(), "reason", reason)
	s.stats.add(statAuthFailures)
	if final || a.failures >= s.cfg.AuthMaxFailures {
		a.deadline = time.Time{}
		a.done = true // stop retransmitting; the link is going down
		s.closeLCP(sess, "authentication failed: "+reason)
		return
	}
	if a.method == authCHAP || a.method == authMSCHAPv2 {
		s.sendChallenge(sess)
	}
}

// staticAddr is the client address the secrets line pins, if any.
func (a *authState) staticAddr() (netip.Addr, bool) {
	if !a.done {
		return netip.Addr{}, false
	}
	return a.entry.staticAddr()
}
