package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func scanWords(t *testing.T, in string) []string {
	t.Helper()
	sc := wordScanner{b: []byte(in), line: 1}
	var out []string
	for {
		w, _, _, ok, err := sc.next()
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if !ok {
			return out
		}
		out = append(out, w)
	}
}

// TestPPPWordGrammar: the one tokeniser reads pppd's grammar, and the
// options file and the secrets files read the same words from the same
// input.
func TestPPPWordGrammar(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		// '#' ends the word it touches and starts a comment, as in
		// pppd's getword(); quotes of either kind keep spaces; C escapes.
		{`name 'my server' x#y "a b" \x41`, []string{"name", "my server", "x"}},
		{`"a b" 'c#d' e\ f \x41\102 \s x"y`, []string{"a b", "c#d", "e f", "AB", " ", `x"y`}},
		{"a \\\nb # c\nd", []string{"a", "b", "d"}},
	}
	for _, tt := range tests {
		if got := scanWords(t, tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("%q: words %q, want %q", tt.in, got, tt.want)
		}
	}

	const in = `name 'my server' x#y "a b" \x41` + "\n"
	// The options file: "name" takes "my server", and "x" is no option.
	if _, err := parsePPPOptions(strings.NewReader(in), "opts"); err == nil || !strings.Contains(err.Error(), `opts:1: unknown option "x"`) {
		t.Errorf("options file: %v, want unknown option \"x\"", err)
	}
	// The secrets file: client "name", server "my server", secret "x".
	f, err := parseSecrets(strings.NewReader(in), "secrets")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.entries) != 1 || f.entries[0].client != "name" || f.entries[0].server != "my server" || string(f.entries[0].secret) != "x" || len(f.entries[0].addrs) != 0 {
		t.Fatalf("secrets: %v", f.entries)
	}
}

// TestPPPWordGrammarMatchesPPPD asks Debian's pppd itself: on the same
// input it stops at the same word.
func TestPPPWordGrammarMatchesPPPD(t *testing.T) {
	pppd := "/usr/sbin/pppd"
	if _, err := os.Stat(pppd); err != nil {
		skipf(t, "pppd is not installed (make test installs Debian's ppp)")
	}
	for _, tt := range []struct{ in, word string }{
		{`name 'my server' x#y "a b" \x41`, "x"},
		{`name "a b" 'c d' \x41\x42`, "c d"},
	} {
		p := filepath.Join(t.TempDir(), "opts")
		writeTestFile(t, p, tt.in+"\n")
		out, _ := exec.Command(pppd, "file", p).CombinedOutput()
		if !strings.Contains(string(out), "unrecognized option '"+tt.word+"'") {
			t.Fatalf("pppd on %q said %q, want unrecognized option %q", tt.in, out, tt.word)
		}
		if _, err := parsePPPOptions(strings.NewReader(tt.in), "opts"); err == nil || !strings.Contains(err.Error(), `unknown option "`+tt.word+`"`) {
			t.Errorf("%q: we say %v, pppd says unrecognized option %q", tt.in, err, tt.word)
		}
	}
}
