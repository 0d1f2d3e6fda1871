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
		if err != nil {
			var se *secretsError
			if !errors.As(err, &se) || se.line < 1 {
				t.Fatalf("error %v is not a *secretsError with a line", err)
			}
			return
		}
		last := 0
		for _, e := range sf.entries {
			if e.line <= last {
				t.Fatalf("line %d after %d", e.line, last)
			}
			last = e.line
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
