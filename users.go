// Per-user control: the authenticated sessions of each user, for the
// sessions-per-user limit and for acting on a user's sessions (terminate
// and set rate by user go through the same filters, ctl.go).
//
// byUser is loop-owned. A session is in it from the answer that
// authenticated it until it ends, or until it authenticates again after
// an LCP renegotiation.

package main

import "slices"

func (s *server) addUserSession(sess *session) {
	s.byUser[sess.auth.user] = append(s.byUser[sess.auth.user], sess)
}

func (s *server) removeUserSession(sess *session) {
	u := sess.auth.user
	l := slices.DeleteFunc(s.byUser[u], func(x *session) bool { return x == sess })
	if len(l) == 0 {
		delete(s.byUser, u)
		return
	}
	s.byUser[u] = l
}

// admit applies max_sessions_per_user to a login of user: with the deny
// policy it reports false when the user has its limit already; with
// replace it ends the oldest sessions to make room (accel-ppp's
// single-session replace).
func (s *server) admit(user string) bool {
	limit := s.cfg.MaxSessionsUser
	if limit <= 0 {
		return true
	}
	var live []*session
	for _, o := range s.byUser[user] {
		if !o.ending {
			live = append(live, o)
		}
	}
	if len(live) < limit {
		return true
	}
	if s.cfg.MaxSessionsPolicy != "replace" {
		return false
	}
	// Oldest first: byUser keeps the order the sessions authenticated in.
	for _, o := range live[:len(live)-limit+1] {
		o.logger().Info("ending the session: the same user logged in again", "limit", limit)
		o.end("replaced by a new login", true)
	}
	return true
}

// setRate is `pppoed set rate`: a new limit for the matching sessions,
// at once.
func (s *server) setRate(req *ctlRequest) ctlReply {
	r, err := parseRate(req.Rate)
	if err != nil {
		return ctlReply{Error: "rate: " + err.Error()}
	}
	m, err := newSessionMatch(req, true)
	if err != nil {
		return ctlReply{Error: err.Error()}
	}
	n := 0
	s.sessions.each(func(sess *session) {
		if !sess.ending && sess.path != nil && m.matches(sess) {
			sess.applyRate(r)
			sess.logger().Info("rate limit changed by the administrator", "rate", r.String())
			n++
		}
	})
	return ctlReply{OK: true, Count: &n}
}
