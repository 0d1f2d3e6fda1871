// Reloading on SIGHUP (or `pppoed reload`): the options file and the
// secrets files are read again and every session stays up, as pppd re-reads
// its secrets for each login, and the accounting file is reopened, as
// logrotate expects. A file that does not parse is refused with one log
// line and the old contents stay. What changed is logged.
//
// The reload runs on the loop goroutine, as an event: the policy it
// replaces is the loop's. Live sessions see the new keepalive and idle
// settings at once; authentication methods, name servers and the automata's
// timers apply to the sessions that start after it.

package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// reloadRequest asks the loop to reload; main posts one for each SIGHUP.
type reloadRequest struct{}

func (reloadRequest) handle(s *server) { s.reload() }

// reload re-reads the files. It returns what changed and, when a file was
// refused, why.
func (s *server) reload() (string, error) {
	var changes []string
	var errs []error
	if o, err := s.cfg.loadOptions(); err != nil {
		s.log.Warn("reload: options file refused; keeping the one read before", "path", s.cfg.OptionsFile, "err", err)
		errs = append(errs, fmt.Errorf("options file refused: %w", err))
	} else {
		old := s.ppp
		cfg := *s.cfg
		cfg.opts = o
		s.ppp = newPPPPolicy(&cfg)
		changes = append(changes, policyChanges(old, s.ppp)...)
		for _, w := range o.warnings {
			s.log.Warn(w)
		}
	}
	if r, ok := s.auth.(reloader); ok {
		msg, err := r.reload()
		if err != nil {
			s.log.Warn("reload: secrets refused; keeping what was read before", "err", err)
			errs = append(errs, fmt.Errorf("secrets refused: %w", err))
		} else if msg != "" {
			changes = append(changes, strings.TrimSuffix(msg, "; "))
		}
	}
	if r := s.reopen; r != nil {
		if err := r(); err != nil {
			errs = append(errs, err)
		}
	}
	changed := strings.Join(changes, "; ")
	if changed == "" {
		changed = "nothing"
	}
	s.log.Info("reloaded", "changed", changed, "sessions", s.sessions.active, "complete", len(errs) == 0)
	return changed, errors.Join(errs...)
}

// policyChanges describes what differs between two policies, one item a
// setting.
func policyChanges(a, b *pppPolicy) []string {
	var out []string
	diff := func(name string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			out = append(out, fmt.Sprintf("%s %v -> %v", name, x, y))
		}
	}
	diff("auth", a.methods, b.methods)
	diff("name", a.name, b.name)
	diff("idle", a.idle, b.idle)
	diff("lcp-echo-interval", a.opts.echoInterval, b.opts.echoInterval)
	diff("lcp-echo-failure", a.opts.echoFailure, b.opts.echoFailure)
	diff("mru", a.opts.mru, b.opts.mru)
	diff("ms-dns", a.opts.dns, b.opts.dns)
	diff("ms-wins", a.opts.wins, b.opts.wins)
	diff("lcp timers", a.opts.lcp, b.opts.lcp)
	diff("ipcp timers", a.opts.ipcp, b.opts.ipcp)
	slices.Sort(out)
	return out
}
