// The pppd-style options file (rp-pppoe's /etc/ppp/pppoe-server-options).
//
// pppoed runs PPP itself, so it reads the same file pppd would have read.
// Options that mean something to a PPP server are honoured; options that only
// matter to a dial-out client or to pppd's own process handling are accepted
// and noted at debug level; anything else is an error that names the line,
// so a typo is not silently ignored.

package main

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

type pppOptions struct {
	requirePAP      bool
	requireCHAP     bool
	requireMSCHAPv2 bool
	noAuth          bool
	login           bool // pppd's system password database; unsupported, warned about

	echoInterval time.Duration
	echoFailure  int
	mru          int
	name         string // our name in CHAP challenges

	dns  []netip.Addr // ms-dns, in order
	wins []netip.Addr // ms-wins, in order

	logFile string
	debug   bool

	// notes lists lines accepted but ignored, for a debug log at start.
	notes []string
}

func defaultPPPOptions() *pppOptions {
	return &pppOptions{echoInterval: 30 * time.Second, echoFailure: 3}
}

// ignoredOptions are pppd options that mean nothing for pppoed as a server,
// with the number of arguments each takes.
var ignoredOptions = map[string]int{
	"defaultroute": 0, "nodefaultroute": 0, "replacedefaultroute": 0, "noipdefault": 0,
	"usepeerdns": 0, "proxyarp": 0, "noproxyarp": 0, "nodetach": 0, "updetach": 0,
	"persist": 0, "nopersist": 0, "lock": 0, "nolock": 0, "noccp": 0, "nobsdcomp": 0,
	"nodeflate": 0, "novj": 0, "novjccomp": 0, "nopcomp": 0, "noaccomp": 0,
	"default-asyncmap": 0, "crtscts": 0, "nocrtscts": 0, "modem": 0, "local": 0,
	"hide-password": 0, "show-password": 0, "ktune": 0, "noktune": 0, "noipx": 0,
	"nomppe": 0, "passive": 0, "silent": 0, "receive-all": 0, "dump": 0, "dryrun": 0,
	"nologfd": 0, "noip": 0, "noipv6": 0, "+ipv6": 0, "-ip": 0, "lcp-echo-adaptive": 0,
	"multilink": 0, "nomultilink": 0, "nomp": 0, "noendpoint": 0, "sync": 0,
	"refuse-eap": 0, "refuse-mschap": 0, "nomagic": 0, "ipcp-accept-local": 0,
	"ipcp-accept-remote": 0, "noremoteip": 0, "idle": 1, "holdoff": 1, "maxfail": 1,
	"asyncmap": 1, "linkname": 1, "ifname": 1, "unit": 1, "plugin": 1, "pty": 1,
	"connect": 1, "disconnect": 1, "kdebug": 1, "mtu": 1, "lcp-restart": 1,
	"lcp-max-terminate": 1, "lcp-max-configure": 1, "lcp-max-failure": 1,
	"ipcp-restart": 1, "ipcp-max-terminate": 1, "ipcp-max-configure": 1,
	"ipcp-max-failure": 1, "pap-restart": 1, "pap-max-authreq": 1, "pap-timeout": 1,
	"chap-restart": 1, "chap-max-challenge": 1, "chap-interval": 1, "remotename": 1,
	"user": 1, "password": 1, "ipparam": 1, "ip-up-script": 1, "ip-down-script": 1,
	"netmask": 1,
}

func loadPPPOptions(path string) (*pppOptions, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parsePPPOptions(f, path)
}

// parsePPPOptions reads pppd's option syntax: words separated by white
// space, # to the end of the line is a comment, and "quotes" or a backslash
// keep white space inside a word.
func parsePPPOptions(r io.Reader, name string) (*pppOptions, error) {
	o := defaultPPPOptions()
	words, lines, err := splitPPPWords(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i := 0; i < len(words); i++ {
		w, line := words[i], lines[i]
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
		}
		arg := func() (string, error) {
			if i+1 >= len(words) {
				return "", bad("%s needs an argument", w)
			}
			i++
			return words[i], nil
		}
		intArg := func(min int) (int, error) {
			s, err := arg()
			if err != nil {
				return 0, err
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < min {
				return 0, bad("%s: %q is not a number of at least %d", w, s, min)
			}
			return n, nil
		}
		switch w {
		case "require-pap", "+pap":
			o.requirePAP = true
		case "require-chap", "+chap":
			o.requireCHAP = true
		case "require-mschap-v2", "+mschap-v2":
			o.requireMSCHAPv2 = true
		case "noauth":
			o.noAuth = true
		case "auth":
			o.noAuth = false
		case "login":
			o.login = true
		case "debug":
			o.debug = true
		case "lcp-echo-interval":
			n, err := intArg(0)
			if err != nil {
				return nil, err
			}
			o.echoInterval = time.Duration(n) * time.Second
		case "lcp-echo-failure":
			n, err := intArg(0)
			if err != nil {
				return nil, err
			}
			o.echoFailure = n
		case "mru":
			n, err := intArg(128)
			if err != nil {
				return nil, err
			}
			o.mru = n
		case "name":
			s, err := arg()
			if err != nil {
				return nil, err
			}
			o.name = s
		case "logfile":
			s, err := arg()
			if err != nil {
				return nil, err
			}
			o.logFile = s
		case "ms-dns", "ms-wins":
			s, err := arg()
			if err != nil {
				return nil, err
			}
			a, err := netip.ParseAddr(s)
			if err != nil || !a.Is4() {
				return nil, bad("%s: %q is not an IPv4 address", w, s)
			}
			if w == "ms-dns" {
				o.dns = append(o.dns, a)
			} else {
				o.wins = append(o.wins, a)
			}
		case "require-mschap", "require-eap":
			return nil, bad("%s is not supported (pppoed offers PAP, CHAP-MD5 and MS-CHAPv2)", w)
		default:
			if n, ok := ignoredOptions[w]; ok {
				for range n {
					if _, err := arg(); err != nil {
						return nil, err
					}
				}
				o.notes = append(o.notes, fmt.Sprintf("%s:%d: %s ignored: it means nothing for a PPPoE server", name, line, w))
				continue
			}
			if isAddrPair(w) {
				o.notes = append(o.notes, fmt.Sprintf("%s:%d: %s ignored: -L and the pool decide the addresses", name, line, w))
				continue
			}
			return nil, bad("unknown option %q", w)
		}
	}
	if len(o.dns) > 2 || len(o.wins) > 2 {
		return nil, fmt.Errorf("%s: at most two ms-dns and two ms-wins lines (RFC 1877)", name)
	}
	return o, nil
}

// isAddrPair matches pppd's "local:remote" address option, either side
// optional.
func isAddrPair(w string) bool {
	l, r, ok := strings.Cut(w, ":")
	if !ok || (l == "" && r == "") {
		return false
	}
	for _, s := range []string{l, r} {
		if s == "" {
			continue
		}
		if a, err := netip.ParseAddr(s); err != nil || !a.Is4() {
			return false
		}
	}
	return true
}

// splitPPPWords tokenises an options file and records each word's line.
func splitPPPWords(r io.Reader) (words []string, lines []int, err error) {
	br := bufio.NewReader(r)
	var (
		cur     strings.Builder
		inWord  bool
		inQuote bool
		line    = 1
		start   int
	)
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			lines = append(lines, start)
			cur.Reset()
			inWord = false
		}
	}
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		switch {
		case inQuote && c == '"':
			inQuote = false
		case inQuote:
			if c == '\n' {
				line++
			}
			cur.WriteByte(c)
		case c == '"':
			if !inWord {
				inWord, start = true, line
			}
			inQuote = true
		case c == '\\':
			n, err := br.ReadByte()
			if err != nil {
				return nil, nil, fmt.Errorf("line %d: backslash at end of file", line)
			}
			if !inWord {
				inWord, start = true, line
			}
			if n == '\n' {
				line++
				continue
			}
			cur.WriteByte(n)
		case c == '#' && !inWord:
			for c != '\n' {
				if c, err = br.ReadByte(); err != nil {
					break
				}
			}
			line++
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			flush()
			if c == '\n' {
				line++
			}
		default:
			if !inWord {
				inWord, start = true, line
			}
			cur.WriteByte(c)
		}
	}
	if inQuote {
		return nil, nil, fmt.Errorf("line %d: unterminated quote", start)
	}
	flush()
	return words, lines, nil
}
