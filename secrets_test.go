package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedSecrets is the chap-secrets file the seed installation ships.
const seedSecrets = "rp-pppoe * rp-pppoe *\n"

// entryView is a secretEntry with the secret and rules as plain strings, for
// comparing in tests.
type entryView struct {
	client, server, secret string
	addrs                  string // rules joined by spaces
	line                   int
}

func viewOf(e secretEntry) entryView {
	addrs := make([]string, len(e.addrs))
	for i, r := range e.addrs {
		addrs[i] = r.String()
	}
	return entryView{e.client, e.server, string(e.secret), strings.Join(addrs, " "), e.line}
}

func mustParseSecrets(t testing.TB, text string) *secretsFile {
	t.Helper()
	f, err := parseSecrets(strings.NewReader(text), "chap-secrets")
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	return f
}

// mustEntry parses a one-entry file.
func mustEntry(t testing.TB, text string) secretEntry {
	t.Helper()
	f := mustParseSecrets(t, text)
	if len(f.entries) != 1 {
		t.Fatalf("%q: %d entries, want 1", text, len(f.entries))
	}
	return f.entries[0]
}

func TestSecretsSeedFile(t *testing.T) {
	f, err := loadSecrets(writeFile(t, "chap-secrets", seedSecrets))
	if err != nil {
		t.Fatal(err)
	}
	want := []entryView{{client: "rp-pppoe", server: "*", secret: "rp-pppoe", addrs: "*", line: 1}}
	if got := mapSlice(f.entries, viewOf); !slices.Equal(got, want) {
		t.Fatalf("entries\n got %+v\nwant %+v", got, want)
	}
	for _, server := range []string{"pppoed", "rp-pppoe", "", "*"} {
		e, ok := f.lookup("rp-pppoe", server)
		if !ok {
			t.Fatalf("lookup(rp-pppoe, %q) found nothing", server)
		}
		if !e.secret.equal([]byte("rp-pppoe")) {
			t.Errorf("lookup(rp-pppoe, %q): wrong secret", server)
		}
	}
	e, _ := f.lookup("rp-pppoe", "pppoed")
	for _, a := range []string{"10.0.0.2", "192.168.1.77", "100.64.0.1"} {
		if !e.allowedAddr(netip.MustParseAddr(a)) {
			t.Errorf("allowedAddr(%s) = false under '*'", a)
		}
	}
	if a, ok := e.staticAddr(); ok {
		t.Errorf("staticAddr = %s, want none under '*'", a)
	}
	if e.forbidsAddr() {
		t.Error("forbidsAddr under '*'")
	}
	for _, client := range []string{"rp-pppoe2", "RP-PPPOE", "", "*"} {
		if _, ok := f.lookup(client, "pppoed"); ok {
			t.Errorf("lookup(%q) matched the rp-pppoe line", client)
		}
	}
}

func mapSlice[T, U any](s []T, f func(T) U) []U {
	out := make([]U, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

func TestParseSecrets(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []entryView
	}{
		{name: "empty", text: "", want: nil},
		{name: "only comments and blanks", text: "# client server secret IP\n\n   \t\n#x y z *\n", want: nil},
		{name: "seed", text: seedSecrets, want: []entryView{{"rp-pppoe", "*", "rp-pppoe", "*", 1}}},
		{name: "no trailing newline", text: "alice * pw *", want: []entryView{{"alice", "*", "pw", "*", 1}}},
		{
			name: "double quotes keep spaces",
			text: `"my user" "our server" "pass word # not a comment" 10.0.0.9` + "\n",
			want: []entryView{{"my user", "our server", "pass word # not a comment", "10.0.0.9", 1}},
		},
		{name: "single quotes", text: `'my user' * 'it"s' *`, want: []entryView{{"my user", "*", `it"s`, "*", 1}}},
		{name: "empty quoted secret", text: `alice * "" *`, want: []entryView{{"alice", "*", "", "*", 1}}},
		{
			// getword: a quote only opens a quoted word at its start.
			name: "quote inside a word is literal", text: `ab"c * x"y *`,
			want: []entryView{{`ab"c`, "*", `x"y`, "*", 1}},
		},
		{
			// getword: the closing quote ends the word, and what follows
			// starts another word on the same line.
			name: "text after closing quote is a new word", text: `"al"ice pw *`,
			want: []entryView{{"al", "ice", "pw", "*", 1}},
		},
		{
			name: "backslash escapes",
			text: `my\ user * a\"b\\c\#d\se\x41\101\tz *`,
			want: []entryView{{"my user", "*", "a\"b\\c#d eAA\tz", "*", 1}},
		},
		{name: "escaped quote starts an unquoted word", text: `\"alice * pw *`, want: []entryView{{`"alice`, "*", "pw", "*", 1}}},
		{
			name: "trailing comment and # ends a word",
			text: "alice * pw#comment\nbob * pw2 * # any address\n",
			want: []entryView{{"alice", "*", "pw", "", 1}, {"bob", "*", "pw2", "*", 2}},
		},
		{
			name: "backslash-newline continues the line",
			text: "alice * pw \\\n  10.0.0.1\nbob * pw2 *\n",
			want: []entryView{{"alice", "*", "pw", "10.0.0.1", 1}, {"bob", "*", "pw2", "*", 3}},
		},
		{
			name: "newline inside quotes",
			text: "alice * \"two\nlines\" *\nbob * pw *\n",
			want: []entryView{{"alice", "*", "two\nlines", "*", 1}, {"bob", "*", "pw", "*", 3}},
		},
		{
			name: "CRLF and tabs",
			text: "alice\t*\tpw\t*\r\nbob  *  pw2  10.0.0.2\r\n",
			want: []entryView{{"alice", "*", "pw", "*", 1}, {"bob", "*", "pw2", "10.0.0.2", 2}},
		},
		{name: "wildcard client", text: "* pppoed guest *", want: []entryView{{"*", "pppoed", "guest", "*", 1}}},
		{name: "dash: no address", text: "alice * pw -", want: []entryView{{"alice", "*", "pw", "!*", 1}}},
		{name: "three words: any pool address", text: "alice * pw", want: []entryView{{"alice", "*", "pw", "", 1}}},
		{
			name: "subnets, hosts and negation in order",
			text: "alice * pw !10.0.0.5 10.0.0.0/24 192.168.7.9/16 172.16.0.1/32",
			want: []entryView{{"alice", "*", "pw", "!10.0.0.5 10.0.0.0/24 192.168.0.0/16 172.16.0.1", 1}},
		},
		{name: "negated subnet", text: "alice * pw !10.1.0.0/16 *", want: []entryView{{"alice", "*", "pw", "!10.1.0.0/16 *", 1}}},
		{name: "words after * are ignored", text: "alice * pw * 10.0.0.1", want: []entryView{{"alice", "*", "pw", "*", 1}}},
		{name: "words after - are ignored", text: "alice * pw 10.0.0.1 - 10.0.0.2", want: []entryView{{"alice", "*", "pw", "10.0.0.1", 1}}},
		{
			name: "line numbers count comments and blanks",
			text: "# header\n\nalice * a *\n# mid\n\n\nbob * b *\n",
			want: []entryView{{"alice", "*", "a", "*", 3}, {"bob", "*", "b", "*", 7}},
		},
		{name: "relative @ is a literal secret", text: "alice * @secret *", want: []entryView{{"alice", "*", "@secret", "*", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParseSecrets(t, tt.text)
			if got := mapSlice(f.entries, viewOf); !slices.Equal(got, tt.want) {
				t.Errorf("%q\n got %+v\nwant %+v", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseSecretsErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("  # only a comment\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		text     string
		wantErr  error
		wantLine int
	}{
		{name: "unterminated double quote", text: "alice * a *\n\nbob * \"hunter2 xyzzy *\n", wantErr: errUnterminatedQuote, wantLine: 3},
		{name: "unterminated quote over lines", text: "alice * 'a\nb\nc", wantErr: errUnterminatedQuote, wantLine: 1},
		{name: "one word", text: "alice * a *\nbob\n", wantErr: errSecretsShort, wantLine: 2},
		{name: "two words", text: "bob *\n", wantErr: errSecretsShort, wantLine: 1},
		{name: "password spilled into addresses", text: "alice * hunter2 xyzzy\n", wantErr: errSecretsAddr, wantLine: 1},
		{name: "host name", text: "alice * pw gateway.example\n", wantErr: errSecretsAddr, wantLine: 1},
		{name: "ipv6", text: "alice * pw 2001:db8::1\n", wantErr: errSecretsAddr, wantLine: 1},
		{name: "zero length", text: "alice * pw 10.0.0.0/0\n", wantErr: errSecretsAddr, wantLine: 1},
		{name: "length over 32", text: "alice * pw 10.0.0.0/33\n", wantErr: errSecretsAddr, wantLine: 1},
		{name: "unit-number subnet", text: "alice * pw 10.0.0.0/24+\n", wantErr: errSecretsAddr, wantLine: 1},
		{name: "bare bang", text: "alice * pw !\n", wantErr: errSecretsAddr, wantLine: 1},
		{name: "negated star", text: "alice * pw !*\n", wantErr: errSecretsAddr, wantLine: 1},
		{name: "bad word after star", text: "alice * pw * nonsense\n", wantErr: errSecretsAddr, wantLine: 1},
		{name: "per-peer options", text: "alice * pw * -- mru 1400\n", wantErr: errSecretsOptions, wantLine: 1},
		{name: "missing @ file", text: "alice * @" + filepath.Join(dir, "nope") + " *\n", wantErr: errSecretsIndirect, wantLine: 1},
		{name: "@ file without a word", text: "alice * @" + empty + " *\n", wantErr: errSecretsIndirect, wantLine: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSecrets(strings.NewReader(tt.text), "/etc/ppp/chap-secrets")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var se *secretsError
			if !errors.As(err, &se) {
				t.Fatalf("err %T is not a *secretsError", err)
			}
			if se.line != tt.wantLine {
				t.Errorf("line %d, want %d", se.line, tt.wantLine)
			}
			prefix := fmt.Sprintf("/etc/ppp/chap-secrets:%d: ", tt.wantLine)
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			for _, s := range []string{"hunter2", "xyzzy", "gateway"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q repeats file text %q", err, s)
				}
			}
		})
	}
}

func TestSecretsLookupPrecedence(t *testing.T) {
	f := mustParseSecrets(t, `
* * any-any *
* pppoed any-us *
alice * alice-any *
alice pppoed alice-us *
alice pppoed alice-us-again *
bob * bob-any-1 *
bob * bob-any-2 *
* other any-other *
carol other carol-other *
`)
	tests := []struct {
		name, client, server string
		want                 string // the secret of the winning line; "" for none
	}{
		{name: "exact both beats everything", client: "alice", server: "pppoed", want: "alice-us"},
		{name: "exact client beats exact server", client: "alice", server: "elsewhere", want: "alice-any"},
		{name: "exact server beats both wild", client: "dave", server: "pppoed", want: "any-us"},
		{name: "both wild is the fallback", client: "dave", server: "elsewhere", want: "any-any"},
		{name: "first of equals wins", client: "bob", server: "pppoed", want: "bob-any-1"},
		{name: "exact client with exact server elsewhere", client: "carol", server: "pppoed", want: "any-us"},
		{name: "names are case sensitive", client: "Alice", server: "pppoed", want: "any-us"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := f.lookup(tt.client, tt.server)
			if !ok {
				t.Fatalf("lookup(%q, %q) found nothing", tt.client, tt.server)
			}
			if got := string(e.secret); got != tt.want {
				t.Errorf("lookup(%q, %q) = line %d (%s), want %s", tt.client, tt.server, e.line, got, tt.want)
			}
		})
	}

	strict := mustParseSecrets(t, "alice pppoed pw *\n")
	if e, ok := strict.lookup("alice", "other"); ok {
		t.Errorf("lookup for another server found line %d", e.line)
	}
	if _, ok := (&secretsFile{}).lookup("alice", "pppoed"); ok {
		t.Error("lookup in an empty file found something")
	}
}

func TestSecretsAllowedAddr(t *testing.T) {
	tests := []struct {
		name  string
		addrs string // the address column
		ok    []string
		notOK []string
	}{
		{name: "star", addrs: "*", ok: []string{"10.0.0.1", "203.0.113.9"},
			notOK: []string{"127.0.0.1", "224.0.0.5", "255.255.255.255", "240.0.0.1", "0.0.0.0", "2001:db8::1"}},
		{name: "no column: any address", addrs: "", ok: []string{"10.0.0.1"}},
		{name: "dash", addrs: "-", notOK: []string{"10.0.0.1"}},
		{name: "one host", addrs: "10.0.0.7", ok: []string{"10.0.0.7", "::ffff:10.0.0.7"}, notOK: []string{"10.0.0.8"}},
		{name: "subnet", addrs: "10.1.2.3/24", ok: []string{"10.1.2.0", "10.1.2.254"}, notOK: []string{"10.1.3.1"}},
		{name: "negation first wins", addrs: "!10.0.0.5 10.0.0.0/24", ok: []string{"10.0.0.4"}, notOK: []string{"10.0.0.5", "10.0.1.1"}},
		{name: "negation after is dead", addrs: "10.0.0.0/24 !10.0.0.5", ok: []string{"10.0.0.5"}},
		{name: "negation then star", addrs: "!10.0.0.0/8 *", ok: []string{"192.168.0.1"}, notOK: []string{"10.9.9.9"}},
		{name: "negation alone refuses all", addrs: "!10.0.0.5", notOK: []string{"10.0.0.5", "10.0.0.6"}},
		{name: "host then dash", addrs: "10.0.0.7 -", ok: []string{"10.0.0.7"}, notOK: []string{"10.0.0.8"}},
		{name: "loopback never", addrs: "127.0.0.0/8", notOK: []string{"127.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEntry(t, "alice * pw "+tt.addrs+"\n")
			for _, a := range tt.ok {
				if !e.allowedAddr(netip.MustParseAddr(a)) {
					t.Errorf("%q: allowedAddr(%s) = false", tt.addrs, a)
				}
			}
			for _, a := range tt.notOK {
				if e.allowedAddr(netip.MustParseAddr(a)) {
					t.Errorf("%q: allowedAddr(%s) = true", tt.addrs, a)
				}
			}
			if e.allowedAddr(netip.Addr{}) {
				t.Errorf("%q: allowedAddr(zero Addr) = true", tt.addrs)
			}
		})
	}
}

func TestSecretsStaticAndForbiddenAddr(t *testing.T) {
	tests := []struct {
		name    string
		addrs   string
		static  string // "" for none
		forbids bool
	}{
		{name: "star", addrs: "*"},
		{name: "one host pins", addrs: "10.0.0.7", static: "10.0.0.7"},
		{name: "slash 32 pins", addrs: "10.0.0.7/32", static: "10.0.0.7"},
		{name: "host then dash pins", addrs: "10.0.0.7 -", static: "10.0.0.7"},
		{name: "two hosts do not pin", addrs: "10.0.0.7 10.0.0.8"},
		{name: "host then star does not pin", addrs: "10.0.0.7 *"},
		{name: "subnet does not pin", addrs: "10.0.0.0/24"},
		{name: "negated host neither pins nor permits", addrs: "!10.0.0.7", forbids: true},
		{name: "loopback host cannot be pinned", addrs: "127.0.0.2"},
		{name: "dash", addrs: "-", forbids: true},
		{name: "dash then host", addrs: "- 10.0.0.7", forbids: true},
		{name: "three words", addrs: "", forbids: false},
		{name: "negations then dash", addrs: "!10.0.0.1 !10.0.0.2 -", forbids: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEntry(t, "alice * pw "+tt.addrs+"\n")
			a, ok := e.staticAddr()
			switch {
			case tt.static == "" && ok:
				t.Errorf("%q: staticAddr = %s, want none", tt.addrs, a)
			case tt.static != "" && (!ok || a != netip.MustParseAddr(tt.static)):
				t.Errorf("%q: staticAddr = %s, %v; want %s", tt.addrs, a, ok, tt.static)
			}
			if got := e.forbidsAddr(); got != tt.forbids {
				t.Errorf("%q: forbidsAddr = %v, want %v", tt.addrs, got, tt.forbids)
			}
		})
	}
}

func TestSecretsIndirectFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{name: "first word", content: "s3cret\n", want: "s3cret"},
		{name: "leading blanks and comment", content: "# the secret\n  s3cret trailing words\nsecond line\n", want: "s3cret"},
		{name: "quoted", content: "\"two words\"\n", want: "two words"},
		{name: "no newline", content: "s3cret", want: "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, "secret", tt.content)
			if !filepath.IsAbs(p) {
				t.Fatalf("temp path %s is not absolute", p)
			}
			e := mustEntry(t, fmt.Sprintf("alice * @%s 10.0.0.7\n", p))
			if string(e.secret) != tt.want {
				t.Errorf("secret %q, want %q", string(e.secret), tt.want)
			}
			if a, ok := e.staticAddr(); !ok || a != netip.MustParseAddr("10.0.0.7") {
				t.Errorf("addresses lost after an @ secret: %v", e)
			}
		})
	}
}

func TestLoadSecretsMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chap-secrets")
	f, err := loadSecrets(path)
	if err != nil {
		t.Fatalf("missing file: %v", err)
	}
	if len(f.entries) != 0 || f.path != path {
		t.Errorf("missing file gave %v", f)
	}
	if _, ok := f.lookup("rp-pppoe", "pppoed"); ok {
		t.Error("lookup in a missing file found something")
	}
	if _, err := loadSecrets(t.TempDir()); err == nil {
		t.Error("a directory loaded without error")
	}
}

func TestSecretEqual(t *testing.T) {
	s := secret("rp-pppoe")
	tests := []struct {
		name string
		pw   string
		want bool
	}{
		{name: "same", pw: "rp-pppoe", want: true},
		{name: "prefix", pw: "rp-ppp", want: false},
		{name: "longer", pw: "rp-pppoe!", want: false},
		{name: "case", pw: "RP-PPPOE", want: false},
		{name: "empty", pw: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.equal([]byte(tt.pw)); got != tt.want {
				t.Errorf("equal(%q) = %v", tt.pw, got)
			}
		})
	}
}

// TestSecretNeverPrinted prints a secret every way the code base might:
// fmt verbs on the secret, an entry, the file and slices of them, JSON and
// the logger.
func TestSecretNeverPrinted(t *testing.T) {
	const pw = "S3cr3t-Pa55w0rd"
	f := mustParseSecrets(t, "alice pppoed "+pw+" 10.0.0.7\n")
	e := f.entries[0]
	s := e.secret

	var outputs []string
	// Not in the list: a struct with a secret in an unexported field and no
	// String/Format of its own. fmt prints such fields by reflection, and
	// no method on secret can stop it (see the secret type).
	for _, v := range []any{s, &s, e, &e, []secretEntry{e}, map[string]secretEntry{"alice": e}, f, *f, []secret{s},
		struct{ S secret }{s}, struct{ E secretEntry }{e}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %[1]v", "%10.3s"} {
			outputs = append(outputs, verb+" "+fmt.Sprintf(verb, v))
		}
		outputs = append(outputs, fmt.Sprint(v), fmt.Sprintln(v))
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", v, err)
		}
		outputs = append(outputs, "json "+string(j))
	}

	var buf bytes.Buffer
	log := newTextLogger(levelDebug, &buf)
	log.Info("auth", "user", e.client, "secret", s, "entry", e, "file", f, "ptr", &e, "fileptr", f, "secretptr", &s)
	log.With("entry", e, "s", s).Debug("with")
	log.Info("any", "entries", f.entries, "secrets", []secret{s}, "e", struct{ E secretEntry }{e})
	outputs = append(outputs, buf.String())

	for _, out := range outputs {
		if strings.Contains(out, pw) || strings.Contains(out, fmt.Sprintf("%x", pw)) {
			t.Errorf("secret printed: %s", out)
		}
	}
	// The redacted forms still say what they are.
	if got := fmt.Sprint(e); !strings.Contains(got, "alice") || !strings.Contains(got, "10.0.0.7") || !strings.Contains(got, redacted) {
		t.Errorf("fmt.Sprint(entry) = %q lost the useful fields", got)
	}
	if !strings.Contains(buf.String(), "entry.client=alice") {
		t.Errorf("the log lost the entry's fields:\n%s", buf.String())
	}
}

// FuzzParseSecrets: no panic, every entry has three words' worth of fields,
// lines are increasing, and an entry never prints its secret unless the
// secret also appears among the printed fields.
func FuzzParseSecrets(f *testing.F) {
	for _, s := range []string{
		seedSecrets,
		"\"my user\" * 'pass word' !10.0.0.5 10.0.0.0/24\n",
		"a\\\nb c d\\x41\\101 -\n# c\n* * * *\n",
		"alice * \"open",
		"x y z -- opt\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, "@/") {
			t.Skip("reads files")
		}
		sf, err := parseSecrets(strings.NewReader(text), "fuzz")
		if sf == nil {
			t.Fatalf("no file for a reader that cannot fail: %v", err)
		}
		if (err != nil) != (len(sf.skipped) > 0) {
			t.Fatalf("err %v with %d lines skipped", err, len(sf.skipped))
		}
		if err != nil {
			var se *secretsError
			if !errors.As(err, &se) || se.line < 1 {
				t.Fatalf("error %v is not a *secretsError with a line", err)
			}
		}
		// Skipped lines and entries are disjoint, and both in file order;
		// only the last skipped line can have swallowed the rest.
		lines := map[int]bool{}
		for i, s := range sf.skipped {
			if s.err.line < 1 || lines[s.err.line] || (i > 0 && s.err.line <= sf.skipped[i-1].err.line) || len(s.cols) > 2 {
				t.Fatalf("skipped line %d out of order or repeated: %v", s.err.line, sf.skipped)
			}
			if s.rest && i != len(sf.skipped)-1 {
				t.Fatalf("an open quote at line %d is not the last skipped line", s.err.line)
			}
			lines[s.err.line] = true
		}
		last := 0
		for _, e := range sf.entries {
			if e.line <= last {
				t.Fatalf("line %d after %d", e.line, last)
			}
			last = e.line
			if lines[e.line] {
				t.Fatalf("line %d both an entry and skipped", e.line)
			}
			if n := len(sf.skipped); n > 0 && sf.skipped[n-1].rest && e.line >= sf.skipped[n-1].err.line {
				t.Fatalf("entry at line %d inside an open quote from line %d", e.line, sf.skipped[n-1].err.line)
			}
			out := fmt.Sprint(e) + fmt.Sprintf("%#v", e)
			if len(e.secret) >= 4 && strings.Contains(out, string(e.secret)) &&
				!strings.Contains(fmt.Sprintf("%q %q %v %s", e.client, e.server, e.addrs, redacted), string(e.secret)) {
				t.Fatalf("entry prints its secret: %s", out)
			}
			_ = e.allowedAddr(netip.MustParseAddr("10.0.0.1"))
			_, _ = e.staticAddr()
			_ = e.forbidsAddr()
		}
	})
}

// TestParseSecretsSkipsBadLines: a line that does not parse is skipped and
// reported with path:line; the lines before and after it still serve, and
// the skipped line keeps the columns it got as far as.
func TestParseSecretsSkipsBadLines(t *testing.T) {
	text := `alice * pw 10.0.0.300
bob * pw2 *
carol
dave * pw4 * -- mru 1400
erin * pw5 10.0.0.9
frank * "hunter2 xyzzy *
gina * pw7 *
`
	f, err := parseSecrets(strings.NewReader(text), "/etc/ppp/chap-secrets")
	if f == nil {
		t.Fatalf("no entries at all for a file with bad lines: %v", err)
	}
	if got := mapSlice(f.entries, func(e secretEntry) string { return e.client }); !slices.Equal(got, []string{"bob", "erin"}) {
		t.Errorf("entries %q, want bob and erin (gina is inside frank's open quote)", got)
	}
	type skip struct {
		line int
		err  error
		cols string
		rest bool
	}
	want := []skip{
		{1, errSecretsAddr, "alice *", false},
		{3, errSecretsShort, "carol", false},
		{4, errSecretsOptions, "dave *", false},
		{6, errUnterminatedQuote, "frank *", true},
	}
	got := mapSlice(f.skipped, func(s skippedEntry) skip {
		return skip{s.err.line, s.err.err, strings.Join(s.cols, " "), s.rest}
	})
	if !slices.EqualFunc(got, want, func(g, w skip) bool {
		return g.line == w.line && errors.Is(g.err, w.err) && g.cols == w.cols && g.rest == w.rest
	}) {
		show := func(s skip) string { return fmt.Sprintf("line %d %q (%v) rest=%v", s.line, s.cols, s.err, s.rest) }
		t.Fatalf("skipped\n got %q\nwant %q", mapSlice(got, show), mapSlice(want, show))
	}
	for _, w := range want {
		if !errors.Is(err, w.err) {
			t.Errorf("err %v does not carry %v", err, w.err)
		}
		if prefix := fmt.Sprintf("/etc/ppp/chap-secrets:%d: ", w.line); !strings.Contains(err.Error(), prefix) {
			t.Errorf("err %q lacks %q", err, prefix)
		}
	}
	for _, s := range []string{"hunter2", "xyzzy", "pw2", "10.0.0.300"} {
		if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprint(f), s) {
			t.Errorf("%q leaks file text %q", err, s)
		}
	}
	if _, err := parseSecrets(strings.NewReader("alice * pw *\n"), "x"); err != nil {
		t.Errorf("a good file: %v", err)
	}
}

// TestSecretsMatchSkipped: the line pppd's precedence would pick wins even
// when it was skipped, so a broken line for alice fails her login instead
// of letting a "*" line stand in; a lower-precedence broken line does not
// shadow a good one.
func TestSecretsMatchSkipped(t *testing.T) {
	f, _ := parseSecrets(strings.NewReader(`alice * pw bogus
* * any *
bob pppoed pw2 *
bob * pw3 nonsense
carol other pw *
carol
`), "cs")
	tests := []struct {
		client      string
		wantEntry   int // the line of the entry found; 0 for none
		wantSkipped int // the line of the skipped one that wins; 0 for none
	}{
		{"alice", 0, 1},
		{"bob", 3, 0},   // exact server beats the skipped "bob *"
		{"carol", 0, 6}, // a lone client column matches any server
		{"dave", 2, 0},
	}
	for _, tt := range tests {
		e, skipped, ok := f.match(tt.client, "pppoed")
		gotEntry, gotSkipped := 0, 0
		if ok {
			gotEntry = e.line
		}
		if skipped != nil {
			gotSkipped = skipped.line
		}
		if gotEntry != tt.wantEntry || gotSkipped != tt.wantSkipped {
			t.Errorf("match(%q): entry line %d, skipped line %d; want %d, %d", tt.client, gotEntry, gotSkipped, tt.wantEntry, tt.wantSkipped)
		}
	}
}

// TestSecretsLoginFailureReason: one bad line locks out nobody else, and
// the login it breaks fails as "entry skipped: path:line: …", not as an
// unknown user.
func TestSecretsLoginFailureReason(t *testing.T) {
	dir := t.TempDir()
	chap := filepath.Join(dir, "chap-secrets")
	pap := filepath.Join(dir, "pap-secrets")
	writeTestFile(t, chap, "alice * pw 10.0.0.300\nbob * pw2 *\n")
	writeTestFile(t, pap, "erin * pw5 *\nfrank * \"pw6 *\ngina * pw7 *\n")
	cfg := testConfig(t, func(c *config) { c.CHAPSecrets, c.PAPSecrets = chap, pap })
	a := newSecretsAuthenticator(cfg, "pppoed", testLogger(t), time.Now)
	tests := []struct {
		user, pw   string
		wantOK     bool
		wantReason string
	}{
		{"bob", "pw2", true, ""},
		{"erin", "pw5", true, ""},
		{"alice", "pw", false, "entry skipped: " + chap + ":1: word 4: pppoe: bad address rule"},
		{"frank", "pw6", false, "entry skipped: " + pap + ":2: pppoe: unterminated quote"},
		{"gina", "pw7", false, "unknown user, but a secrets line was skipped that may have held the entry: " + pap + ":2: "},
		{"bob", "wrong", false, "wrong password"},
	}
	for _, tt := range tests {
		res := a.check(&authRequest{method: authPAP, user: tt.user, password: []byte(tt.pw)})
		if res.ok != tt.wantOK || !strings.HasPrefix(res.reason, tt.wantReason) {
			t.Errorf("PAP %s: ok %v reason %q; want %v, %q", tt.user, res.ok, res.reason, tt.wantOK, tt.wantReason)
		}
	}
	// CHAP reads chap-secrets only: no skipped line hides an unknown user.
	res := a.check(&authRequest{method: authCHAP, user: "gina", challenge: make([]byte, 16), response: make([]byte, 16)})
	if res.ok || res.reason != "unknown user" {
		t.Errorf("CHAP gina: %+v, want unknown user", res)
	}
	res = a.check(&authRequest{method: authCHAP, user: "alice", challenge: make([]byte, 16), response: make([]byte, 16)})
	if res.ok || !strings.HasPrefix(res.reason, "entry skipped: "+chap+":1: ") {
		t.Errorf("CHAP alice: %+v, want her skipped line", res)
	}
}

// TestSecretsFileProblems: at start, each secrets file an enabled method
// needs is checked, and each problem is one line naming the file.
func TestSecretsFileProblems(t *testing.T) {
	tests := []struct {
		name    string
		options string
		chap    string // file contents; "" for no file, "DIR" for a directory
		pap     string
		mode    os.FileMode
		want    []string // each a substring of one line, in order; CHAP and PAP stand for the paths
	}{
		{name: "all good", options: "", chap: "alice * pw *\n", pap: "bob * pw *\n", mode: 0o600},
		{name: "CHAP without chap-secrets", options: "require-chap\n", pap: "bob * pw *\n", mode: 0o600,
			want: []string{"secrets file CHAP does not exist: every CHAP login will fail"}},
		{name: "every method, only pap-secrets", options: "", pap: "bob * pw *\n", mode: 0o600,
			want: []string{"secrets file CHAP does not exist: every MS-CHAPv2 and CHAP login will fail"}},
		{name: "PAP with only chap-secrets", options: "require-pap\n", chap: "alice * pw *\n", mode: 0o600},
		{name: "PAP with only pap-secrets", options: "require-pap\n", pap: "bob * pw *\n", mode: 0o600},
		{name: "PAP without either", options: "require-pap\n", mode: 0o600,
			want: []string{"neither secrets file PAP nor CHAP exists: every PAP login will fail"}},
		{name: "unreadable pap-secrets", options: "require-pap\n", chap: "alice * pw *\n", pap: "DIR", mode: 0o600,
			want: []string{"cannot read secrets file PAP: is a directory"}},
		{name: "unreadable chap-secrets", options: "require-mschap-v2\n", chap: "DIR", mode: 0o600,
			want: []string{"cannot read secrets file CHAP: is a directory"}},
		{name: "bad lines", options: "require-chap\n", chap: "alice * pw 10.0.0.300\nbob * pw *\ncarol\n", mode: 0o600,
			want: []string{"CHAP:1: word 4: pppoe: bad address rule", "CHAP:3: pppoe: want client, server and secret on one line: line skipped"}},
		{name: "group readable", options: "require-chap\n", chap: "alice * pw *\n", mode: 0o640,
			want: []string{"Warning - secret file CHAP has world and/or group access (mode 0640)"}},
		{name: "world readable pap-secrets", options: "require-pap\n", pap: "bob * pw *\n", mode: 0o604,
			want: []string{"Warning - secret file PAP has world and/or group access (mode 0604)"}},
		{name: "no authentication", options: "noauth\n", chap: "alice * pw bogus\n", mode: 0o644},
		{name: "PAP only: chap-secrets still read", options: "require-pap\n", chap: "alice\n", pap: "bob * pw *\n", mode: 0o600,
			want: []string{"CHAP:1: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			chap, pap := filepath.Join(dir, "chap-secrets"), filepath.Join(dir, "pap-secrets")
			for _, f := range []struct{ path, body string }{{chap, tt.chap}, {pap, tt.pap}} {
				switch f.body {
				case "":
				case "DIR":
					if err := os.Mkdir(f.path, 0o700); err != nil {
						t.Fatal(err)
					}
				default:
					if err := os.WriteFile(f.path, []byte(f.body), tt.mode); err != nil {
						t.Fatal(err)
					}
					if err := os.Chmod(f.path, tt.mode); err != nil { // past the umask
						t.Fatal(err)
					}
				}
			}
			cfg := testConfig(t, func(c *config) {
				c.CHAPSecrets, c.PAPSecrets = chap, pap
				c.OptionsFile = filepath.Join(dir, "options")
				writeTestFile(t, c.OptionsFile, tt.options)
			})
			got := secretsFileProblems(cfg)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				w = strings.NewReplacer("CHAP:", chap+":", "PAP:", pap+":", "file CHAP", "file "+chap, "file PAP", "file "+pap,
					"nor CHAP", "nor "+chap).Replace(w)
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

// TestStrictSecrets: with --strict (or strict = true), a secrets problem
// found at start is an error: one line each and status 2, before the
// interfaces are even looked at. Without it, the same start goes on to the
// next check.
func TestStrictSecrets(t *testing.T) {
	dir := t.TempDir()
	chap := filepath.Join(dir, "chap-secrets")
	opts := writeFile(t, "options", "require-chap\n")
	base := []string{"-O", opts, "-I", "nosuchif0", "--chap-secrets", chap, "--ctl-socket", ""}
	toml := writeFile(t, "strict.toml", "strict = true\n")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"--strict", append([]string{"--strict"}, base...), "pppoed: --strict: secrets file " + chap + " does not exist: every CHAP login will fail\n"},
		{"strict = true", append([]string{"-c", toml}, base...), "pppoed: --strict: secrets file " + chap + " does not exist: every CHAP login will fail\n"},
		{"not strict", base, "pppoed: -I/interfaces: interface \"nosuchif0\" does not exist\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := realMain(tt.args, &stdout, &stderr); code != 2 || stderr.String() != tt.want {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
	// Every problem gets its line.
	writeTestFile(t, chap, "alice * pw bogus\nbob\n")
	os.Chmod(chap, 0o644)
	var stdout, stderr bytes.Buffer
	code := realMain(append([]string{"--strict"}, base...), &stdout, &stderr)
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if code != 2 || len(lines) != 3 || !strings.HasPrefix(lines[0], "pppoed: --strict: "+chap+":1: ") ||
		!strings.HasPrefix(lines[1], "pppoed: --strict: "+chap+":2: ") || !strings.Contains(lines[2], "world and/or group access") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}

// TestSecretsCreatedWithBadLine: a secrets file that was missing at start
// and then appears with a bad line is taken with that line skipped, at
// login and on reload alike, as there is nothing to keep; a later change
// with a bad line is refused whole and what was read stays.
func TestSecretsCreatedWithBadLine(t *testing.T) {
	for _, viaReload := range []bool{false, true} {
		t.Run(fmt.Sprintf("reload=%v", viaReload), func(t *testing.T) {
			dir := t.TempDir()
			chap := filepath.Join(dir, "chap-secrets")
			cfg := testConfig(t, func(c *config) { c.CHAPSecrets, c.PAPSecrets = chap, filepath.Join(dir, "pap-secrets") })
			var log bytes.Buffer
			clock := time.Unix(1e9, 0)
			a := newSecretsAuthenticator(cfg, "pppoed", newTextLogger(levelDebug, &log), func() time.Time { return clock })
			login := func(user, pw string) authResult {
				return a.check(&authRequest{method: authPAP, user: user, password: []byte(pw)})
			}
			if res := login("bob", "pw2"); res.ok || res.reason != "unknown user" {
				t.Fatalf("bob before the file exists: %+v", res)
			}
			writeTestFile(t, chap, "alice * pw 10.0.0.300\nbob * pw2 *\n")
			if viaReload {
				if msg, err := a.reload(); err != nil || !strings.Contains(msg, chap+": 1 entries, was 0") {
					t.Fatalf("reload: %q, %v", msg, err)
				}
				if want := chap + ":1: word 4: pppoe: bad address rule"; !strings.Contains(log.String(), want) {
					t.Errorf("the reload log lacks %q:\n%s", want, log.String())
				}
			}
			if res := login("bob", "pw2"); !res.ok {
				t.Fatalf("bob locked out by alice's bad line: %+v", res)
			}
			if res := login("alice", "pw"); res.ok || !strings.HasPrefix(res.reason, "entry skipped: "+chap+":1: ") {
				t.Errorf("alice: %+v", res)
			}

			writeTestFile(t, chap, "bob * pw2 *\ncarol\ndave * pw4 *\n")
			clock = clock.Add(time.Minute) // past the warnings' rate limit
			if viaReload {
				if _, err := a.reload(); err == nil || !strings.Contains(err.Error(), chap+":2: ") {
					t.Fatalf("a reload took a changed file with a bad line: %v", err)
				}
			}
			if res := login("dave", "pw4"); res.ok {
				t.Errorf("a changed file with a bad line was taken")
			}
			if res := login("bob", "pw2"); !res.ok {
				t.Errorf("bob refused after a refused change: %+v", res)
			}
			if !viaReload && !strings.Contains(log.String(), `msg="secrets file refused; keeping what was read before"`) {
				t.Errorf("no refusal logged:\n%s", log.String())
			}
		})
	}
}
