// The pppd-style options file (rp-pppoe's /etc/ppp/pppoe-server-options).
//
// pppoed runs PPP itself, so it reads the same file pppd would have read,
// with the same grammar as the secrets files (words.go). Options that mean
// something to a PPP server are honoured; options that only matter to a
// dial-out client or to pppd's own process handling are accepted and noted
// at debug level; options a server operator relies on that pppoed does not
// act on (a plugin, a script, a re-authentication timer) are accepted with
// a warning at start that names them; anything else is an error that names
// the line, so a typo is not silently ignored.

package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
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
	name         string        // our name in CHAP challenges
	idle         time.Duration // idle: end a session after this long without data
	lcp, ipcp    fsmConfig     // lcp-restart, lcp-max-*, ipcp-restart, ipcp-max-*

	ipUpScript, ipDownScript string // pppd's ip-up and ip-down (default /etc/ppp/ip-up, /etc/ppp/ip-down)
	ipparam                  string // the last argument of both

	ipv6UpScript, ipv6DownScript string // pppd's ipv6-up and ipv6-down
	plusIPv6                     bool   // +ipv6: the operator expects IPv6
	noIPv6                       bool   // noipv6 or -ipv6: IPv6CP is rejected

	radiusPlugin bool   // plugin radius.so: use RADIUS as pppd's plugin would
	radiusConfig string // radius-config-file

	dns  []netip.Addr // ms-dns, in order
	wins []netip.Addr // ms-wins, in order

	logFile string
	debug   bool

	// notes lists lines accepted but ignored, for a debug log at start;
	// warnings those a user would expect to act, for a warning.
	notes    []string
	warnings []string
}

func defaultPPPOptions() *pppOptions {
	return &pppOptions{echoInterval: 30 * time.Second, echoFailure: 3, lcp: defaultFSMConfig(), ipcp: defaultFSMConfig(),
		ipUpScript: "/etc/ppp/ip-up", ipDownScript: "/etc/ppp/ip-down",
		ipv6UpScript: "/etc/ppp/ipv6-up", ipv6DownScript: "/etc/ppp/ipv6-down"}
}

// unsupportedOptions are pppd options a server operator relies on that
// pppoed accepts but does not act on, with the number of arguments each
// takes and why: each one gets a warning at start.
var unsupportedOptions = map[string]struct {
	args int
	why  string
}{
	"plugin":             {1, "pppd plugins are not loaded"},
	"ipv6":               {1, "interface identifiers are random; ipv6_prefix_pool decides the prefixes"},
	"chap-interval":      {1, "peers are not re-challenged; CHAP runs once per session"},
	"chap-restart":       {1, "a CHAP challenge is resent every lcp-restart seconds"},
	"chap-max-challenge": {1, "--auth-timeout bounds the authentication phase"},
	"pap-restart":        {1, "--auth-timeout bounds the authentication phase"},
	"pap-max-authreq":    {1, "--auth-timeout bounds the authentication phase"},
	"pap-timeout":        {1, "--auth-timeout bounds the authentication phase"},
	"mtu":                {1, "the MTU follows the MRU the peer asks for"},
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
	"nologfd": 0, "noip": 0, "-ip": 0, "lcp-echo-adaptive": 0,
	"multilink": 0, "nomultilink": 0, "nomp": 0, "noendpoint": 0, "sync": 0,
	"refuse-eap": 0, "refuse-mschap": 0, "nomagic": 0, "ipcp-accept-local": 0,
	"ipcp-accept-remote": 0, "noremoteip": 0, "holdoff": 1, "maxfail": 1,
	"asyncmap": 1, "linkname": 1, "ifname": 1, "unit": 1, "pty": 1,
	"connect": 1, "disconnect": 1, "kdebug": 1, "remotename": 1,
	"user": 1, "password": 1, "netmask": 1,
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
		case "idle":
			n, err := intArg(0)
			if err != nil {
				return nil, err
			}
			o.idle = time.Duration(n) * time.Second
		case "lcp-restart", "ipcp-restart":
			n, err := intArg(1)
			if err != nil {
				return nil, err
			}
			o.layerConfig(w).restart = time.Duration(n) * time.Second
		case "lcp-max-configure", "ipcp-max-configure", "lcp-max-terminate", "ipcp-max-terminate",
			"lcp-max-failure", "ipcp-max-failure":
			n, err := intArg(1)
			if err != nil {
				return nil, err
			}
			c := o.layerConfig(w)
			switch {
			case strings.HasSuffix(w, "-configure"):
				c.maxConfigure = n
			case strings.HasSuffix(w, "-terminate"):
				c.maxTerminate = n
			default:
				c.maxFailure = n
			}
		case "radius-config-file":
			s, err := arg()
			if err != nil {
				return nil, err
			}
			o.radiusConfig = s
		case "+ipv6":
			o.plusIPv6, o.noIPv6 = true, false
		case "noipv6", "-ipv6":
			o.noIPv6 = true
		case "ip-up-script", "ip-down-script", "ipv6-up-script", "ipv6-down-script", "ipparam":
			s, err := arg()
			if err != nil {
				return nil, err
			}
			switch w {
			case "ip-up-script":
				o.ipUpScript = s
			case "ip-down-script":
				o.ipDownScript = s
			case "ipv6-up-script":
				o.ipv6UpScript = s
			case "ipv6-down-script":
				o.ipv6DownScript = s
			default:
				o.ipparam = s
			}
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
			if u, ok := unsupportedOptions[w]; ok {
				var args []string
				for range u.args {
					a, err := arg()
					if err != nil {
						return nil, err
					}
					args = append(args, a)
				}
				why := u.why
				if w == "plugin" {
					switch path.Base(args[0]) {
					case "rp-pppoe.so", "pppoe.so":
						// What pppd needed for PPPoE is pppoed itself.
						o.notes = append(o.notes, fmt.Sprintf("%s:%d: plugin %s ignored: pppoed does PPPoE itself", name, line, args[0]))
						continue
					case "radius.so":
						o.radiusPlugin = true
						o.notes = append(o.notes, fmt.Sprintf("%s:%d: plugin radius.so: pppoed does RADIUS itself, from radcli's files", name, line))
						continue
					case "radattr.so":
						o.notes = append(o.notes, fmt.Sprintf("%s:%d: plugin radattr.so ignored: RADIUS attributes reach ip-up as environment variables", name, line))
						continue
					}
				}
				o.warnings = append(o.warnings, fmt.Sprintf("%s:%d: %s ignored: %s", name, line,
					strings.Join(append([]string{w}, args...), " "), why))
				continue
			}
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

// layerConfig is the automaton settings an lcp-* or ipcp-* option sets.
func (o *pppOptions) layerConfig(option string) *fsmConfig {
	if strings.HasPrefix(option, "ipcp-") {
		return &o.ipcp
	}
	return &o.lcp
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

// splitPPPWords tokenises an options file with pppd's grammar (words.go)
// and records each word's line.
func splitPPPWords(r io.Reader) (words []string, lines []int, err error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	sc := wordScanner{b: b, line: 1}
	for {
		w, line, _, ok, err := sc.next()
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", line, err)
		}
		if !ok {
			return words, lines, nil
		}
		words, lines = append(words, w), append(lines, line)
	}
}
