// pppd's secrets files: /etc/ppp/chap-secrets and /etc/ppp/pap-secrets, in
// pppd's own format so that an rp-pppoe installation keeps its files.
//
// loadSecrets reads the whole file once, at start or on reload, and returns
// an immutable *secretsFile. The loop goroutine owns it; nothing in it
// changes after parseSecrets returns, so a reload can swap the pointer.
// An "@/path" secret is read while parsing, not at each login as pppd does.
//
// Format (pppd(8) AUTHENTICATION, tokenised by words.go as pppd's getword()
// in options.c, entries as scan_authfile() in auth.c):
//
//	client  server  secret  [address-rule ...]
//
//   - Words are separated by white space. A '#' outside quotes starts a
//     comment, and ends an unquoted word it touches ("pw#x" is "pw"). A word
//     that starts with " or ' runs to the matching quote, white space, '#'
//     and newlines included. A quote inside an unquoted word is an ordinary
//     character.
//   - A backslash escapes the next character; \a \b \f \n \r \s (space) \t,
//     \ooo (octal) and \xhh (hex) are C-style escapes; backslash-newline is
//     a line continuation.
//   - An entry starts with the first word on a line and takes every word up to
//     the next line that starts a word.
//   - "*" as client or server matches any name. An exact match is preferred:
//     client and server exact > client exact > server exact > both "*"; among
//     equals the earliest line wins (scan_authfile's NONWILD_CLIENT and
//     NONWILD_SERVER bits).
//   - A secret "@/path" is the first word of that file.
//   - Address rules, checked in order, first match wins, and an address that
//     no rule matches is refused (set_allowed_addrs and ip_addr_check):
//     a.b.c.d, a.b.c.d/nn, "*" (any; later words are ignored), "-" (stop:
//     later words are ignored) and "!" before an address or subnet to refuse
//     it. A line with no address column gets an address from the pool, as
//     in accel-ppp's chap-secrets; this is where pppoed departs from pppd,
//     which refuses every address then (pppd(8): "If there are only 3 words
//     on the line ... all IP addresses are disallowed"), a trap rp-pppoe
//     users keep falling into. A first word "-", or rules that only refuse,
//     still allow no address at all.
//   - After the address column, accel-ppp's rate column: "down/up" in
//     kbit/s ("alice * pw * 2048/512"), the entry's rate limit.
//
// A line that does not parse is skipped and reported with path:line, as
// pppd skips malformed lines, but never silently: loadSecrets returns the
// lines it skipped with the entries it read. A skipped line keeps its
// client and server columns when it got that far, so that the user it was
// meant for is refused for what happened ("entry skipped: path:line: …"),
// not as an unknown user, and a "*" line further down does not stand in
// for it. An unterminated quote swallows the rest of the file; the lines
// before it still serve. pppd warns about a bad address word only at login
// time; here it makes the line skipped at once. Host and network names,
// the "/nn+" unit-number form and per-peer options after "--" are not
// supported and skip the line too.
//
// A file that changes later (or on a reload) is stricter than the first
// read: a new version with a skipped line is refused whole and what was
// read before stays, unless that was nothing worth keeping
// (secretsCache.get).
//
// No secret is ever printed: secret, secretEntry and secretsFile redact it in
// String, Format and LogValue, and parse errors name a line and a word
// number, never a word's text (a mis-quoted password would spill into the
// address words).

package main

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strings"
)

var (
	errSecretsShort    = errors.New("pppoe: want client, server and secret on one line")
	errSecretsAddr     = errors.New("pppoe: bad address rule: want a.b.c.d, a.b.c.d/nn, *, - or !a.b.c.d[/nn]")
	errSecretsOptions  = errors.New("pppoe: per-peer options after -- are not supported")
	errSecretsIndirect = errors.New("pppoe: cannot read @ secret file")
)

// secretsError is a load failure at one line of a secrets file. Its text never
// includes a word from the file, only the position.
type secretsError struct {
	path string
	line int
	err  error
}

func (e *secretsError) Error() string { return fmt.Sprintf("%s:%d: %v", e.path, e.line, e.err) }
func (e *secretsError) Unwrap() error { return e.err }

// maxIndirectSecret bounds how much of an "@/path" file is read; pppd's
// words stop at MAXWORDLEN (1024) anyway, and "@/dev/zero" must not eat the
// memory of a router.
const maxIndirectSecret = 4096

// secret is a password or CHAP secret. It never prints: String redacts it
// (and so does the logger, which prints Stringers by String), Format does
// for every fmt verb (String alone leaves %d and %#v printing the raw
// string), and MarshalText does for JSON.
//
// A struct that holds a secret in an unexported field must redact itself
// too, as secretEntry does: fmt prints unexported fields by reflection,
// without calling any of these methods.
type secret string

const redacted = "[redacted]"

func (secret) String() string               { return redacted }
func (secret) Format(f fmt.State, _ rune)   { io.WriteString(f, redacted) }
func (secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// equal reports whether pw is the secret, in time that does not depend on
// where they first differ (for PAP).
func (s secret) equal(pw []byte) bool {
	return subtle.ConstantTimeCompare([]byte(s), pw) == 1
}

// addrRule is one word of an entry's address list. '*' is 0.0.0.0/0.
type addrRule struct {
	prefix netip.Prefix // masked
	deny   bool         // written with a leading '!'
}

func (r addrRule) String() string {
	s := r.prefix.String()
	switch {
	case r.prefix.Bits() == 0:
		s = "*"
	case r.prefix.IsSingleIP():
		s = r.prefix.Addr().String()
	}
	if r.deny {
		return "!" + s
	}
	return s
}

// secretEntry is one line of a secrets file.
type secretEntry struct {
	client, server string
	secret         secret
	addrs          []addrRule // in file order, first match wins; empty: any address from the pool
	rate           rateLimit  // accel-ppp's rate column; zero: none
	line           int
}

// String shows everything but the secret, and Format uses it for every
// verb. They are needed because fmt prints unexported fields by reflection,
// without calling secret's methods.
func (e secretEntry) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d: client %q server %q secret %s addrs [", e.line, e.client, e.server, redacted)
	for i, r := range e.addrs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.String())
	}
	b.WriteByte(']')
	return b.String()
}

func (e secretEntry) Format(f fmt.State, _ rune) { io.WriteString(f, e.String()) }

// logFields logs an entry as entry.line=… entry.client=… and so on.
func (e secretEntry) logFields() []any {
	addrs := make([]string, len(e.addrs))
	for i, r := range e.addrs {
		addrs[i] = r.String()
	}
	return []any{"line", e.line, "client", e.client, "server", e.server, "addrs", strings.Join(addrs, " ")}
}

// badPeerAddr reports addresses that pppd never lets a peer use whatever the
// secrets file says (auth_ip_addr and ppp_bad_ip_addr: loopback, multicast,
// class E), plus 0.0.0.0, which in IPCP means "assign me one".
func badPeerAddr(a netip.Addr) bool {
	b := a.As4()
	return a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || b[0] >= 240
}

// allowedAddr reports whether the client may use address a under this entry.
func (e secretEntry) allowedAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.Is4() || badPeerAddr(a) {
		return false
	}
	if len(e.addrs) == 0 {
		return true
	}
	for _, r := range e.addrs {
		if r.prefix.Contains(a) {
			return !r.deny
		}
	}
	return false
}

// staticAddr returns the address the entry pins: the address column holds
// exactly one rule and it permits a single host (a.b.c.d or a.b.c.d/32).
// pppd then insists on that address (set_allowed_addrs: n == 1).
func (e secretEntry) staticAddr() (netip.Addr, bool) {
	if len(e.addrs) != 1 {
		return netip.Addr{}, false
	}
	r := e.addrs[0]
	if r.deny || !r.prefix.IsSingleIP() || !e.allowedAddr(r.prefix.Addr()) {
		return netip.Addr{}, false
	}
	return r.prefix.Addr(), true
}

// forbidsAddr reports whether no address at all is allowed: the list is
// empty, starts with '-', or only refuses. pppd's some_ip_ok() is the
// inverse. The peer may authenticate, but IPCP has nothing to give it, so
// the login is refused.
func (e secretEntry) forbidsAddr() bool {
	if len(e.addrs) == 0 {
		return false
	}
	for _, r := range e.addrs {
		if !r.deny {
			return false
		}
	}
	return true
}

// skippedEntry is an entry that did not parse. cols holds its client and
// server columns, as far as the line got (0, 1 or 2 words); a line without
// a server column matches any server, as "*" does.
type skippedEntry struct {
	err  *secretsError
	cols []string
	rest bool // an unterminated quote: every later line was lost with it
}

// secretsFile is a parsed secrets file. It is immutable.
type secretsFile struct {
	path    string
	entries []secretEntry
	skipped []skippedEntry // in file order
}

// String, Format and LogValue have value receivers so that both
// secretsFile and *secretsFile print without their secrets.
func (f secretsFile) String() string {
	if len(f.skipped) > 0 {
		return fmt.Sprintf("%s: %d entries, %d lines skipped", f.path, len(f.entries), len(f.skipped))
	}
	return fmt.Sprintf("%s: %d entries", f.path, len(f.entries))
}

func (f secretsFile) Format(s fmt.State, _ rune) { io.WriteString(s, f.String()) }

func (f secretsFile) logFields() []any { return []any{"path", f.path, "entries", len(f.entries)} }

// loadSecrets reads and parses the secrets file at path. A missing file is
// an empty set, as in pppd, where it simply means nobody can authenticate.
// As parseSecrets, it returns the entries it read even when some lines
// were skipped; f is nil only when the file cannot be read.
func loadSecrets(path string) (f *secretsFile, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &secretsFile{path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return parseSecrets(bytes.NewReader(b), path)
}

// parseSecrets parses a secrets file; path only names it in errors and in
// the result. A line that does not parse is skipped: f holds every entry
// that did, and err joins one *secretsError for each line skipped (nil if
// none was). f is nil only when r fails.
func parseSecrets(r io.Reader, path string) (f *secretsFile, err error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f = &secretsFile{path: path}
	skip := func(line int, err error, words []string, rest bool) {
		f.skipped = append(f.skipped, skippedEntry{
			err:  &secretsError{path: path, line: line, err: err},
			cols: slices.Clone(words[:min(len(words), 2)]),
			rest: rest,
		})
	}
	sc := wordScanner{b: b, line: 1}
	var words []string
	line := 0
	flush := func() {
		if words == nil {
			return
		}
		e, err := parseSecretEntry(words, line)
		if err != nil {
			skip(line, err, words, false)
		} else {
			f.entries = append(f.entries, e)
		}
		words = nil
	}
	for {
		w, wline, newline, ok, err := sc.next()
		if err != nil {
			// The open quote ran to the end of the input: this entry
			// and everything after it are lost.
			if newline || words == nil {
				flush()
				words, line = nil, wline
			}
			skip(wline, err, words, true)
			words = nil
			break
		}
		if !ok {
			break
		}
		if newline || words == nil {
			flush()
			words, line = []string{}, wline
		}
		words = append(words, w)
	}
	flush()
	return f, f.skippedErr()
}

// skippedErr joins the errors of the skipped lines, or is nil.
func (f *secretsFile) skippedErr() error {
	errs := make([]error, len(f.skipped))
	for i, s := range f.skipped {
		errs[i] = s.err
	}
	return errors.Join(errs...)
}

// parseSecretEntry turns one entry's words into a secretEntry.
func parseSecretEntry(words []string, line int) (secretEntry, error) {
	if len(words) < 3 {
		return secretEntry{}, errSecretsShort
	}
	e := secretEntry{client: words[0], server: words[1], secret: secret(words[2]), line: line}
	if s, ok := strings.CutPrefix(words[2], "@"); ok && strings.HasPrefix(s, "/") {
		v, err := readIndirectSecret(s)
		if err != nil {
			return secretEntry{}, err
		}
		e.secret = v
	}
	rest := words[3:]
	if n := len(rest); n >= 2 && isRateWord(rest[n-1]) {
		// accel-ppp's rate column, after the address column.
		r, err := parseRate(rest[n-1])
		if err != nil {
			return secretEntry{}, fmt.Errorf("word %d: %w", len(words), errBadRate)
		}
		e.rate, rest = r, rest[:n-1]
	}
	done := false // after '*' or '-', pppd ignores the rest; we still check its syntax
	for i, w := range rest {
		col := i + 4
		if w == "--" {
			return secretEntry{}, fmt.Errorf("word %d: %w", col, errSecretsOptions)
		}
		r, stop, err := parseAddrRule(w)
		if err != nil {
			return secretEntry{}, fmt.Errorf("word %d: %w", col, err)
		}
		if done {
			continue
		}
		if stop {
			done = true
			if w == "-" {
				if len(e.addrs) == 0 {
					// A lone "-" refuses every address.
					e.addrs = append(e.addrs, addrRule{prefix: netip.PrefixFrom(netip.IPv4Unspecified(), 0), deny: true})
				}
				continue
			}
		}
		e.addrs = append(e.addrs, r)
	}
	return e, nil
}

// parseAddrRule parses one address word. stop is set for "*" and "-",
// after which pppd reads no more rules; "-" returns no usable rule.
func parseAddrRule(w string) (r addrRule, stop bool, err error) {
	switch w {
	case "-":
		return addrRule{}, true, nil
	case "*":
		return addrRule{prefix: netip.PrefixFrom(netip.IPv4Unspecified(), 0)}, true, nil
	}
	if rest, ok := strings.CutPrefix(w, "!"); ok {
		r.deny, w = true, rest
	}
	if strings.Contains(w, "/") {
		p, err := netip.ParsePrefix(w)
		// pppd refuses a length of 0 ("bit_count <= 0").
		if err != nil || !p.Addr().Is4() || p.Bits() == 0 {
			return addrRule{}, false, errSecretsAddr
		}
		r.prefix = p.Masked()
		return r, false, nil
	}
	a, err := netip.ParseAddr(w)
	if err != nil || !a.Is4() {
		return addrRule{}, false, errSecretsAddr
	}
	r.prefix = netip.PrefixFrom(a, 32)
	return r, false, nil
}

// readIndirectSecret returns the first word of the file at path, read with
// the same rules as the secrets file (scan_authfile's "@/pathname").
func readIndirectSecret(path string) (secret, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w %s: %w", errSecretsIndirect, path, err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxIndirectSecret))
	if err != nil {
		return "", fmt.Errorf("%w %s: %w", errSecretsIndirect, path, err)
	}
	sc := wordScanner{b: b, line: 1}
	w, _, _, ok, err := sc.next()
	if err != nil {
		return "", fmt.Errorf("%w %s: %w", errSecretsIndirect, path, err)
	}
	if !ok {
		return "", fmt.Errorf("%w %s: no secret in it", errSecretsIndirect, path)
	}
	return secret(w), nil
}

// matchScore says how well an entry's client and server columns fit the
// client (the peer's name) authenticating to server (our name), or -1 if
// they do not. pppd's precedence: an exact client+server match beats a
// wildcard one (scan_authfile's NONWILD_CLIENT and NONWILD_SERVER bits).
// Names compare exactly, case included (strcmp).
func matchScore(eClient, eServer, client, server string) int {
	const (
		nonwildServer = 1 << iota
		nonwildClient
	)
	score := 0
	switch eClient {
	case "*":
	case client:
		score |= nonwildClient
	default:
		return -1
	}
	switch eServer {
	case "*":
	case server:
		score |= nonwildServer
	default:
		return -1
	}
	return score
}

// lookup finds the entry for client authenticating to server, by
// matchScore; among equals the first line wins.
func (f *secretsFile) lookup(client, server string) (secretEntry, bool) {
	i, _ := f.bestEntry(client, server)
	if i < 0 {
		return secretEntry{}, false
	}
	return f.entries[i], true
}

func (f *secretsFile) bestEntry(client, server string) (best, bestScore int) {
	best, bestScore = -1, -1
	for i := range f.entries {
		e := &f.entries[i]
		if score := matchScore(e.client, e.server, client, server); score > bestScore {
			best, bestScore = i, score
		}
	}
	return best, bestScore
}

// match is lookup over the skipped lines too. When the line pppd's
// precedence would pick for client is one that was skipped, it returns
// that line's error and no entry: the login fails for what happened, and
// a "*" line does not stand in for the broken one.
func (f *secretsFile) match(client, server string) (secretEntry, *secretsError, bool) {
	best, bestScore := f.bestEntry(client, server)
	var skipped *secretsError
	skippedScore := -1
	for _, s := range f.skipped {
		if len(s.cols) == 0 {
			continue // not even the client column was read
		}
		eServer := "*"
		if len(s.cols) > 1 {
			eServer = s.cols[1]
		}
		if score := matchScore(s.cols[0], eServer, client, server); score > skippedScore {
			skipped, skippedScore = s.err, score
		}
	}
	switch {
	case skipped != nil && (skippedScore > bestScore || (skippedScore == bestScore && skipped.line < f.entries[best].line)):
		return secretEntry{}, skipped, false
	case best < 0:
		return secretEntry{}, nil, false
	}
	return f.entries[best], nil, true
}

// lostTo returns the error of a skipped line that may have hidden any
// client's entry: one whose client column could not be read, or an open
// quote that swallowed the lines after it. It is nil if there is none.
func (f *secretsFile) lostTo() *secretsError {
	for _, s := range f.skipped {
		if len(s.cols) == 0 || s.rest {
			return s.err
		}
	}
	return nil
}
