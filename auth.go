// Authentication: PAP (RFC 1334), CHAP-MD5 (RFC 1994) and MS-CHAPv2
// (RFC 2759), the access concentrator's side of the protocol.
//
// The server proposes the strongest method the options file allows and
// takes the peer's Nak towards another allowed one (lcp.go). Once LCP is
// open the session runs the method: a CHAP challenge is retransmitted until
// answered or the auth timeout passes; PAP waits for the peer's request.
// The credentials go to the server's authenticator (authenticator.go),
// whose answer comes back to the loop as an event, at once or much later.
// While a request is out, retransmitted requests and responses are ignored.
// A failure is answered after the failure delay, and a login whose name or
// MAC is locked out is refused without asking the authenticator (guard.go);
// the Nak or Failure message carries the reason. After the configured
// number of failures LCP is closed (Terminate-Request, then PADT).
// Passwords and CHAP values never reach a log.
//
// Everything here runs on the loop goroutine.

package main

import (
	"cmp"
	"encoding/binary"
	"fmt"
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
	pending   bool   // a request is with the authenticator
	seq       uint32 // numbers the session's requests; the answer must match
	reqID     uint8  // Identifier of the PAP request or CHAP response being checked
	done      bool   // authenticated
	failed    bool   // given up: LCP is closing
	user      string
	result    authResult // the authenticator's answer, once done
	success   string     // the Success message, resent for a retransmitted Response

	// A failure held back for the failure delay; pending stays set.
	failAt    time.Time // when to send it; zero: none
	failRes   authResult
	failFinal bool
}

// startAuth begins the authentication phase once LCP is open.
func (s *session) startAuth() {
	srv := s.srv
	a := &s.auth
	if a.done {
		// Again, after an LCP renegotiation: the session counts for its
		// user once it authenticates anew.
		srv.removeUserSession(s)
	}
	*a = authState{method: s.lcpL.auth, deadline: srv.clock.Add(srv.cfg.AuthTimeout), seq: a.seq}
	if a.method == authCHAP || a.method == authMSCHAPv2 {
		s.sendChallenge()
	}
}

func (s *session) sendChallenge() {
	a := &s.auth
	a.id++
	fillRandom(a.challenge[:])
	s.resendChallenge()
}

func (s *session) resendChallenge() {
	srv := s.srv
	a := &s.auth
	n := [1]byte{chapChallengeLen}
	s.sendCP(protoCHAP, chapChallenge, a.id, n[:], a.challenge[:], srv.ppp.nameBytes)
	a.resendAt = srv.clock.Add(srv.ppp.opts.lcp.restart)
}

// authTick retransmits a challenge and enforces the auth timeout, which
// also covers an authenticator that never answers.
func (s *session) authTick(now time.Time) {
	a := &s.auth
	if a.done || a.failed {
		return
	}
	if !a.failAt.IsZero() {
		// A held failure is due within the failure delay; the auth
		// timeout waits for it rather than count the login twice.
		if !now.Before(a.failAt) {
			s.sendAuthFailure(a.failRes, a.failFinal)
		}
		return
	}
	if !now.Before(a.deadline) {
		s.authFailed("authentication timed out", true)
		return
	}
	if !a.pending && (a.method == authCHAP || a.method == authMSCHAPv2) && !now.Before(a.resendAt) {
		s.resendChallenge()
	}
}

// handleAuth handles a PAP or CHAP packet from the peer.
func (s *session) handleAuth(proto uint16, pkt []byte) {
	srv := s.srv
	code, id, data, ok := parseCP(pkt)
	if !ok {
		srv.drop(s.iface, dropBadPPP, pkt)
		return
	}
	a := &s.auth
	switch {
	case a.failed:
		srv.drop(s.iface, dropBadPPP, pkt)
	case proto == protoPAP && a.method == authPAP && code == papAuthReq:
		s.onPAPRequest(id, data)
	case proto == protoCHAP && (a.method == authCHAP || a.method == authMSCHAPv2) && code == chapResponse:
		if id != a.id {
			srv.drop(s.iface, dropBadPPP, pkt)
			return
		}
		if a.done {
			// Our Success was lost: say it again (RFC 1994 §4.2).
			s.sendCP(protoCHAP, chapSuccess, id, []byte(a.success), nil, nil)
			return
		}
		s.onCHAPResponse(id, data)
	default:
		srv.drop(s.iface, dropBadPPP, pkt)
	}
}

func (s *session) onPAPRequest(id uint8, data []byte) {
	a := &s.auth
	if a.done {
		s.sendPAP(papAuthAck, id, a.success)
		return
	}
	if a.pending {
		return // the peer retransmits while the authenticator thinks
	}
	// RFC 1334 §2.2.1: Peer-ID Length, Peer-Id, Passwd-Length, Password.
	if len(data) < 1 || len(data) < 2+int(data[0]) || len(data) < 2+int(data[0])+int(data[1+int(data[0])]) {
		s.srv.drop(s.iface, dropBadPPP, data)
		return
	}
	n := int(data[0])
	req := s.newAuthRequest(id, string(data[1:1+n]))
	req.password = append([]byte(nil), data[2+n:2+n+int(data[1+n])]...)
	s.askAuthenticator(req)
}

func (s *session) onCHAPResponse(id uint8, data []byte) {
	if s.auth.pending {
		return
	}
	// RFC 1994 §4.1: Value-Size, Value, Name.
	if len(data) < 1 || len(data) < 1+int(data[0]) {
		s.srv.drop(s.iface, dropBadPPP, data)
		return
	}
	val := data[1 : 1+int(data[0])]
	req := s.newAuthRequest(id, string(data[1+int(data[0]):]))
	req.challenge = append([]byte(nil), s.auth.challenge[:]...)
	req.response = append([]byte(nil), val...)
	s.askAuthenticator(req)
}

func (s *session) newAuthRequest(id uint8, user string) *authRequest {
	a := &s.auth
	a.user, a.reqID = user, id
	a.seq++
	return &authRequest{
		key:           authKey{sid: s.id, gen: s.gen, seq: a.seq},
		method:        a.method,
		chapID:        id,
		user:          user,
		peer:          s.peer,
		iface:         s.iface.name,
		ourMAC:        s.iface.mac,
		acctSessionID: s.acctSessionID,
		line:          s.line,
	}
}

// askAuthenticator hands req to the authenticator, unless the guard
// refuses its name or MAC: then the authenticator is not asked, and the
// refusal is answered as a failure and ends the link.
func (s *session) askAuthenticator(req *authRequest) {
	srv := s.srv
	s.auth.pending = true
	if why := srv.guard.refusal(req.user, req.peer, srv.clock); why != "" {
		srv.stats.add(statAuthLockedOut)
		s.failAuth(authResult{reason: why}, true)
		return
	}
	srv.auth.authenticate(req, srv.answerAuth)
}

// authAnswered takes the authenticator's answer to the pending request.
func (s *session) authAnswered(res authResult) {
	srv := s.srv
	a := &s.auth
	if !res.ok {
		if res.guess {
			srv.guard.failed(a.user, s.peer, srv.clock)
		}
		s.failAuth(res, false)
		return
	}
	if a.method == authMSCHAPv2 && res.mustHaveSuccess {
		// Neither a wrong password nor a proven right one: not counted.
		s.failAuth(authResult{reason: "RADIUS accepted without MS-CHAP2-Success"}, false)
		return
	}
	srv.guard.succeeded(a.user, s.peer)
	a.pending = false
	id := a.reqID
	if !s.srv.admit(a.user) {
		s.logger().Info("login refused: the user has its limit of sessions", "user", a.user, "limit", s.srv.cfg.MaxSessionsUser)
		res = authResult{reason: "session limit reached", message: "Session limit reached"}
		switch a.method {
		case authPAP:
			s.sendPAP(papAuthNak, id, res.message)
		case authCHAP:
			s.sendCP(protoCHAP, chapFailure, id, []byte(res.message), nil, nil)
		case authMSCHAPv2:
			s.sendCP(protoCHAP, chapFailure, id, []byte(mschapv2Failure(691, a.challenge, res.message)), nil, nil)
		}
		s.authFailed(res.reason, true)
		return
	}
	a.done, a.result = true, res
	s.srv.addUserSession(s)
	s.rate = res.rate()
	if s.rate.isZero() {
		s.rate = s.srv.cfg.defaultRate
	}
	s.log = nil // from now on the session's lines carry the user
	s.logger().Info("authenticated", "method", a.method.String())
	switch a.method {
	case authPAP:
		a.success = cmp.Or(res.message, "Welcome")
		s.sendPAP(papAuthAck, id, a.success)
	case authCHAP:
		a.success = cmp.Or(res.message, "Welcome")
		s.sendCP(protoCHAP, chapSuccess, id, []byte(a.success), nil, nil)
	case authMSCHAPv2:
		a.success = res.chapSuccess
		if !strings.Contains(a.success, " M=") {
			a.success += " M=" + cmp.Or(res.message, "Welcome")
		}
		s.sendCP(protoCHAP, chapSuccess, id, []byte(a.success), nil, nil)
	}
	s.enterNetworkPhase()
}

// failAuth logs and counts a failure at once, and answers the pending
// request with it once the failure delay has passed (guard.go), or at once
// without one. The request stays pending until then, so the peer's
// retransmissions are not checked. A peer that hangs up meanwhile hears
// nothing, but the failure is in the log and the counters all the same.
func (s *session) failAuth(res authResult, final bool) {
	a := &s.auth
	s.logAuthFailure(res.reason)
	if d := s.srv.guard.delay; d > 0 {
		a.failAt, a.failRes, a.failFinal = s.srv.clock.Add(d), res, final
		return
	}
	s.sendAuthFailure(res, final)
}

// sendAuthFailure sends the Nak or Failure for the pending request, with
// the answer's message or the usual one; then as afterAuthFailure.
func (s *session) sendAuthFailure(res authResult, final bool) {
	a := &s.auth
	a.pending, a.failAt, a.failRes = false, time.Time{}, authResult{}
	id := a.reqID
	msg := res.message
	if msg == "" {
		msg = "Authentication failed"
	}
	switch a.method {
	case authPAP:
		if res.message == "" {
			msg = "Login incorrect"
		}
		s.sendPAP(papAuthNak, id, msg)
	case authCHAP:
		s.sendCP(protoCHAP, chapFailure, id, []byte(msg), nil, nil)
	case authMSCHAPv2:
		f := res.chapFailure
		if f == "" {
			f = mschapv2Failure(691, a.challenge, msg)
		}
		s.sendCP(protoCHAP, chapFailure, id, []byte(f), nil, nil)
	}
	s.afterAuthFailure(res.reason, final)
}

// sendPAP sends an Authenticate-Ack or -Nak with msg (RFC 1334 §2.2.2).
func (s *session) sendPAP(code, id uint8, msg string) {
	n := [1]byte{byte(min(len(msg), 255))}
	s.sendCP(protoPAP, code, id, n[:], []byte(msg[:n[0]]), nil)
}

// authFailed logs and counts a failure that has been answered, or needs
// no answer; then as afterAuthFailure.
func (s *session) authFailed(reason string, final bool) {
	s.logAuthFailure(reason)
	s.afterAuthFailure(reason, final)
}

func (s *session) logAuthFailure(reason string) {
	a := &s.auth
	s.logger().Info("authentication failed", "user", a.user, "method", a.method.String(), "reason", reason)
	s.srv.stats.add(statAuthFailures)
}

// afterAuthFailure follows a failure the peer has been told of: after the
// configured number of failures, or when final, LCP is closed
// (Terminate-Request, then PADT once it is done); otherwise CHAP sends a
// new challenge.
func (s *session) afterAuthFailure(reason string, final bool) {
	srv := s.srv
	a := &s.auth
	a.failures++
	if final || a.failures >= srv.cfg.AuthMaxFailures {
		a.deadline = time.Time{}
		a.failed = true // stop retransmitting; the link is going down
		a.pending = false
		s.closeLCP("authentication failed: " + reason)
		return
	}
	if a.method == authCHAP || a.method == authMSCHAPv2 {
		s.sendChallenge()
	}
}
