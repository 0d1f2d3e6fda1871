// Configuration: the TOML file, the rp-pppoe-compatible command line on top
// of it, and validation.
//
// Flags override the file. parseArgs loads the file named by -c first, then
// parses the command line straight into the same struct, so a flag that is
// not given leaves the file's value alone. validate turns the strings into
// typed values and reports the first bad setting in one line that names both
// the flag and the TOML key.

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

const defaultOptionsFile = "/etc/ppp/pppoe-server-options"

// config holds every setting. Exported fields are TOML keys; unexported ones
// are derived by validate.
type config struct {
	Interfaces        []string      `toml:"interfaces"`
	ACName            string        `toml:"ac_name"`
	ServiceNames      []string      `toml:"service_names"`
	LocalIP           string        `toml:"local_ip"`
	FirstRemoteIP     string        `toml:"first_remote_ip"`
	MaxSessions       int           `toml:"max_sessions"`
	PoolFile          string        `toml:"pool_file"`
	IncrementLocalIP  bool          `toml:"increment_local_ip"`
	MaxSessionsPerMAC int           `toml:"max_sessions_per_mac"`
	RandomSessionIDs  bool          `toml:"random_session_ids"`
	SessionOffset     int           `toml:"session_offset"`
	NoPADOWhenFull    bool          `toml:"no_pado_when_full"`
	Mode              string        `toml:"mode"`
	PIDFile           string        `toml:"pidfile"`
	OptionsFile       string        `toml:"options_file"`
	IdleTimeout       time.Duration `toml:"idle_timeout"`
	MSS               int           `toml:"mss"`
	UnitFromSession   bool          `toml:"unit_from_session"`
	MOTM              string        `toml:"motm"`
	HURL              string        `toml:"hurl"`
	CookieLifetime    time.Duration `toml:"cookie_lifetime"`
	SetupTimeout      time.Duration `toml:"setup_timeout"`
	MaxStarting       int           `toml:"max_starting"`
	IfaceWait         time.Duration `toml:"iface_wait"`
	LogLevel          string        `toml:"log_level"`
	LogFile           string        `toml:"log_file"`
	EtherTypes        string        `toml:"ether_types"`
	CHAPSecrets       string        `toml:"chap_secrets"`
	PAPSecrets        string        `toml:"pap_secrets"`
	AuthTimeout       time.Duration `toml:"auth_timeout"`
	AuthMaxFailures   int           `toml:"auth_max_failures"`
	AuthFailDelay     time.Duration `toml:"auth_fail_delay"`
	LockoutFailures   int           `toml:"auth_lockout_failures"`
	LockoutWindow     time.Duration `toml:"auth_lockout_window"`
	LockoutCooldown   time.Duration `toml:"auth_lockout_cooldown"`
	TUNName           string        `toml:"tun_name"`
	NAT               natConfig     `toml:"nat"`
	Auth              []string      `toml:"auth"`
	DNS               []string      `toml:"dns"`
	WINS              []string      `toml:"wins"`
	EchoInterval      int           `toml:"lcp_echo_interval"`
	EchoFailure       int           `toml:"lcp_echo_failure"`
	CtlSocket         string        `toml:"ctl_socket"`
	AcctFile          string        `toml:"acct_file"`
	AcctInterim       time.Duration `toml:"acct_interim"`
	HookTimeout       time.Duration `toml:"hook_timeout"`
	DefaultRate       string        `toml:"default_rate"`
	MaxSessionsUser   int           `toml:"max_sessions_per_user"`
	MaxSessionsPolicy string        `toml:"max_sessions_per_user_policy"`
	PADODelay         string        `toml:"pado_delay"`
	Strict            bool          `toml:"strict"`
	Radius            radiusConfig  `toml:"radius"`
	Pools             []poolConfig  `toml:"pool"`

	IPv6PrefixPool      string   `toml:"ipv6_prefix_pool"`
	IPv6DelegatedPool   string   `toml:"ipv6_delegated_pool"`
	IPv6DelegatedLength int      `toml:"ipv6_delegated_length"`
	IPv6DNS             []string `toml:"ipv6_dns"`
	IPv6IANA            bool     `toml:"ipv6_ia_na"`

	// Derived by validate.
	localIP       netip.Addr
	pool          *ipPool
	discoveryType uint16
	sessionType   uint16
	opts          *pppOptions
	defaultRate   rateLimit
	padoDelay     []padoStep
	v6            *v6Pools // nil: IPv6 off

	// Command-line only.
	checkPool bool
	warnings  []string // settings accepted but meaningless for pppoed
}

func defaultConfig() *config {
	host, _ := os.Hostname()
	return &config{
		ACName:            host,
		LocalIP:           "10.0.0.1",
		FirstRemoteIP:     "10.67.15.1", // rp-pppoe's default
		MaxSessions:       64,
		Mode:              "auto",
		CookieLifetime:    60 * time.Second,
		LogLevel:          "info",
		EtherTypes:        "8863:8864",
		CHAPSecrets:       "/etc/ppp/chap-secrets",
		PAPSecrets:        "/etc/ppp/pap-secrets",
		AuthTimeout:       30 * time.Second,
		AuthMaxFailures:   1,
		AuthFailDelay:     2 * time.Second,
		LockoutFailures:   10,
		LockoutWindow:     time.Minute,
		LockoutCooldown:   5 * time.Minute,
		TUNName:           "pppoed0",
		EchoInterval:      -1,
		EchoFailure:       -1,
		NAT:               natConfig{Backend: "auto", StateFile: "/var/run/pppoed/nat.state"},
		SetupTimeout:      30 * time.Second,
		CtlSocket:         defaultCtlSocket,
		AcctInterim:       5 * time.Minute,
		HookTimeout:       30 * time.Second,
		IfaceWait:         30 * time.Second,
		MaxSessionsPolicy: "deny",
		IPv6IANA:          true,
	}
}

// poolConfig is a named pool, [[pool]], for RADIUS's Framed-Pool.
type poolConfig struct {
	Name  string `toml:"name"`
	First string `toml:"first"`
	Size  int    `toml:"size"`
	// For Framed-IPv6-Pool and Delegated-IPv6-Prefix-Pool: a [[pool]]
	// may hold IPv6 prefixes as well as, or instead of, IPv4 addresses.
	IPv6PrefixPool    string `toml:"ipv6_prefix_pool"`
	IPv6DelegatedPool string `toml:"ipv6_delegated_pool"`
}

// usageError is a bad flag, key or value. main prints it in one line and
// exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// listFlag is a repeatable string flag. Its first use on the command line
// replaces the list from the config file instead of appending to it.
type listFlag struct {
	list *[]string
	set  bool
}

func (f *listFlag) String() string {
	if f.list == nil {
		return ""
	}
	return strings.Join(*f.list, ",")
}

func (f *listFlag) Set(v string) error {
	if !f.set {
		*f.list, f.set = nil, true
	}
	*f.list = append(*f.list, v)
	return nil
}

// secondsFlag takes rp-pppoe's plain seconds ("30") or a Go duration ("30s").
type secondsFlag struct{ d *time.Duration }

func (f secondsFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f secondsFlag) Set(v string) error {
	if n, err := strconv.Atoi(v); err == nil {
		*f.d = time.Duration(n) * time.Second
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("want seconds or a duration such as 30s")
	}
	*f.d = d
	return nil
}

// unsetIntFlag is an int flag whose -1 means "not given": the options file
// decides then, so the help shows no default for it.
type unsetIntFlag struct{ p *int }

func (f unsetIntFlag) String() string {
	if f.p == nil || *f.p < 0 {
		return ""
	}
	return strconv.Itoa(*f.p)
}

func (f unsetIntFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return errors.New("want a number of at least 0")
	}
	*f.p = n
	return nil
}

// modeFlag is a boolean flag that sets cfg.Mode to a fixed value.
type modeFlag struct {
	mode *string
	val  string
}

func (f modeFlag) String() string   { return "" }
func (f modeFlag) IsBoolFlag() bool { return true }
func (f modeFlag) Set(v string) error {
	if b, err := strconv.ParseBool(v); err != nil || b {
		*f.mode = f.val
	}
	return nil
}

// ignoredFlag accepts an rp-pppoe option that only made sense with an
// external pppd, and records a warning.
type ignoredFlag struct {
	cfg  *config
	name string
	bool bool
}

func (f ignoredFlag) String() string   { return "" }
func (f ignoredFlag) IsBoolFlag() bool { return f.bool }
func (f ignoredFlag) Set(string) error {
	f.cfg.warnings = append(f.cfg.warnings, fmt.Sprintf("-%s ignored: pppoed runs PPP itself and starts no pppd", f.name))
	return nil
}

// newFlagSet binds every server flag to cfg. configPath receives -c.
func newFlagSet(cfg *config, configPath *string) *flag.FlagSet {
	fs := flag.NewFlagSet("pppoed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(configPath, "c", "", "read settings from this TOML `file`; flags override it")
	fs.Var(&listFlag{list: &cfg.Interfaces}, "I", "listen on `interface` (repeatable)")
	fs.StringVar(&cfg.ACName, "C", cfg.ACName, "AC-Name to advertise (default: the hostname)")
	fs.Var(&listFlag{list: &cfg.ServiceNames}, "S", "offer this Service-Name (repeatable; default: any)")
	fs.StringVar(&cfg.LocalIP, "L", cfg.LocalIP, "the server's own PPP `address`")
	fs.StringVar(&cfg.FirstRemoteIP, "R", cfg.FirstRemoteIP, "first client `address` of the pool")
	fs.IntVar(&cfg.MaxSessions, "N", cfg.MaxSessions, "pool size and session limit (1..65534)")
	fs.StringVar(&cfg.PoolFile, "p", cfg.PoolFile, "read the client address pool from `file` (rp-pppoe format)")
	fs.BoolVar(&cfg.IncrementLocalIP, "l", cfg.IncrementLocalIP, "give each session its own local address, counting up from -L")
	fs.IntVar(&cfg.MaxSessionsPerMAC, "x", cfg.MaxSessionsPerMAC, "at most `n` sessions per client MAC (0: no limit)")
	fs.BoolVar(&cfg.RandomSessionIDs, "r", cfg.RandomSessionIDs, "hand out session IDs in random order")
	fs.IntVar(&cfg.SessionOffset, "o", cfg.SessionOffset, "session IDs start at `offset`+1")
	fs.BoolVar(&cfg.NoPADOWhenFull, "i", cfg.NoPADOWhenFull, "send no PADO while every session slot is taken")
	fs.Var(modeFlag{&cfg.Mode, "kernel"}, "k", "use the kernel's PPPoE driver (fail if it is missing)")
	fs.Var(modeFlag{&cfg.Mode, "tun"}, "tun", "use the userspace TUN data path")
	fs.Var(ignoredFlag{cfg, "F", true}, "F", "stay in the foreground (always the case; accepted for rp-pppoe)")
	fs.StringVar(&cfg.PIDFile, "X", cfg.PIDFile, "write and lock a pid `file`")
	fs.StringVar(&cfg.OptionsFile, "O", cfg.OptionsFile, "pppd-style options `file` (default "+defaultOptionsFile+" if it exists)")
	fs.Var(secondsFlag{&cfg.IdleTimeout}, "T", "end a session after this many `seconds` without traffic from the client")
	fs.IntVar(&cfg.MSS, "m", cfg.MSS, "clamp the TCP MSS of forwarded SYNs to `mss`")
	fs.BoolVar(&cfg.UnitFromSession, "u", cfg.UnitFromSession, "derive the ppp unit number from the session ID (kernel mode)")
	fs.StringVar(&cfg.MOTM, "M", cfg.MOTM, "send this message of the minute in a PADM after PADS (RFC 4937)")
	fs.StringVar(&cfg.HURL, "H", cfg.HURL, "send this `URL` in a PADM after PADS (RFC 4937)")
	fs.Var(ignoredFlag{cfg, "q", false}, "q", "path to pppd (ignored)")
	fs.Var(ignoredFlag{cfg, "Q", false}, "Q", "path to pppoe (ignored)")
	fs.Var(ignoredFlag{cfg, "g", false}, "g", "path to rp-pppoe.so (ignored)")
	fs.Var(ignoredFlag{cfg, "s", true}, "s", "synchronous PPP (ignored; PPPoE frames are always whole)")
	fs.StringVar(&cfg.EtherTypes, "f", cfg.EtherTypes, "discovery and session ethertypes as `disc:sess` in hex")
	fs.BoolVar(&cfg.checkPool, "P", false, "check the pool file, print the pool and exit")
	fs.BoolFunc("d", "log every frame (same as --log-level debug)", func(string) error { cfg.LogLevel = "debug"; return nil })
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.DurationVar(&cfg.CookieLifetime, "cookie-lifetime", cfg.CookieLifetime, "how long a PADO's AC-Cookie stays valid")
	fs.Var(secondsFlag{&cfg.SetupTimeout}, "setup-timeout", "end a session whose PPP setup has not completed by then (seconds or a duration)")
	fs.Var(secondsFlag{&cfg.IfaceWait}, "iface-wait", "when a served interface is deleted, wait this long for it to come back, then exit with status 1 (seconds or a duration)")
	fs.IntVar(&cfg.MaxStarting, "max-starting", cfg.MaxStarting, "sessions in setup (PADS sent, IPCP not up yet) at most; more get no PADO or PADS (0: a quarter of -N, at least 16)")
	fs.StringVar(&cfg.CHAPSecrets, "chap-secrets", cfg.CHAPSecrets, "pppd chap-secrets `file` (CHAP, MS-CHAPv2, and PAP after pap-secrets)")
	fs.StringVar(&cfg.PAPSecrets, "pap-secrets", cfg.PAPSecrets, "pppd pap-secrets `file`")
	fs.DurationVar(&cfg.AuthTimeout, "auth-timeout", cfg.AuthTimeout, "end a session that has not authenticated by then")
	fs.IntVar(&cfg.AuthMaxFailures, "auth-max-failures", cfg.AuthMaxFailures, "authentication attempts before the link is closed")
	fs.Var(secondsFlag{&cfg.AuthFailDelay}, "auth-fail-delay", "answer a failed login after this long (seconds or a duration; 0: at once)")
	fs.IntVar(&cfg.LockoutFailures, "auth-lockout-failures", cfg.LockoutFailures, "lock a user name or client MAC out after `n` failed logins within --auth-lockout-window (0: never)")
	fs.Var(secondsFlag{&cfg.LockoutWindow}, "auth-lockout-window", "the window in which --auth-lockout-failures failures lock out (seconds or a duration)")
	fs.Var(secondsFlag{&cfg.LockoutCooldown}, "auth-lockout-cooldown", "how long a lockout lasts (seconds or a duration)")
	fs.StringVar(&cfg.TUNName, "tun-name", cfg.TUNName, "name of the TUN device of the userspace data path")
	fs.Var(&listFlag{list: &cfg.Auth}, "auth", "allow this authentication `method`: pap, chap, mschapv2 or none (repeatable; overrides the options file's require-*)")
	fs.Var(&listFlag{list: &cfg.DNS}, "dns", "hand out this DNS `server` over IPCP (repeatable, at most 2; overrides ms-dns)")
	fs.Var(&listFlag{list: &cfg.WINS}, "wins", "hand out this WINS `server` over IPCP (repeatable, at most 2; overrides ms-wins)")
	fs.Var(unsetIntFlag{&cfg.EchoInterval}, "lcp-echo-interval", "`seconds` of silence before an LCP Echo-Request (overrides the options file, default 30; 0: no keepalive)")
	fs.Var(unsetIntFlag{&cfg.EchoFailure}, "lcp-echo-failure", "the client is dead after interval × `n` seconds of silence (overrides the options file, default 3)")
	fs.StringVar(&cfg.NAT.WAN, "nat-out", cfg.NAT.WAN, "masquerade the clients out of this WAN `interface`, enable forwarding and clamp the MSS")
	fs.StringVar(&cfg.NAT.Backend, "nat-backend", cfg.NAT.Backend, "nft, iptables or auto")
	fs.StringVar(&cfg.NAT.StateFile, "nat-state-file", cfg.NAT.StateFile, "where the original ip_forward is remembered while NAT is set up; read at every start, so one without --nat-out undoes what a killed pppoed left")
	fs.StringVar(&cfg.CtlSocket, "ctl-socket", cfg.CtlSocket, "the control socket for pppoed show, terminate, reload and set (empty: none)")
	fs.StringVar(&cfg.AcctFile, "acct-file", cfg.AcctFile, "append start, interim and stop accounting records to this `file`, one JSON object a line")
	fs.Var(secondsFlag{&cfg.AcctInterim}, "acct-interim", "interim accounting records this often (seconds or a duration; 0: none)")
	fs.Var(secondsFlag{&cfg.HookTimeout}, "hook-timeout", "kill an ip-up or ip-down script still running after this long")
	fs.StringVar(&cfg.DefaultRate, "default-rate", cfg.DefaultRate, "rate limit for sessions without one of their own, `down/up` in kbit/s")
	fs.IntVar(&cfg.MaxSessionsUser, "max-sessions-per-user", cfg.MaxSessionsUser, "at most `n` sessions per user name (0: no limit)")
	fs.StringVar(&cfg.MaxSessionsPolicy, "max-sessions-per-user-policy", cfg.MaxSessionsPolicy, "over the limit: deny the new login, or replace the oldest session")
	fs.BoolVar(&cfg.Strict, "strict", cfg.Strict, "refuse to start when a secrets file an auth method needs is missing or unreadable, has a line that does not parse, or is open to group or others (otherwise: a warning)")
	fs.StringVar(&cfg.IPv6PrefixPool, "ipv6-prefix-pool", cfg.IPv6PrefixPool, "give each session a /64 of this IPv6 `prefix` by Router Advertisements (turns IPv6 on)")
	fs.StringVar(&cfg.IPv6DelegatedPool, "ipv6-delegated-pool", cfg.IPv6DelegatedPool, "delegate a prefix of this IPv6 `prefix` to each session that asks over DHCPv6")
	fs.IntVar(&cfg.IPv6DelegatedLength, "ipv6-delegated-length", cfg.IPv6DelegatedLength, "the length of delegated prefixes (default 56)")
	fs.Var(&listFlag{list: &cfg.IPv6DNS}, "ipv6-dns", "hand out this IPv6 DNS `server` in RAs and DHCPv6 (repeatable, at most 2)")
	fs.BoolVar(&cfg.IPv6IANA, "ipv6-ia-na", cfg.IPv6IANA, "answer DHCPv6 IA_NA with an address from the session's /64")
	fs.StringVar(&cfg.PADODelay, "pado-delay", cfg.PADODelay, "delay PADOs by load, accel-ppp's `syntax`: 0,100:100,200:500,-1:1000 (ms up to sessions; -1:... no PADO above)")
	return fs
}

// splitGetopt rewrites getopt-style arguments that Go's flag package does not
// take: "-Ieth0" becomes "-I eth0" and "-rk" becomes "-r -k", as
// rp-pppoe's getopt accepts them. Long names are left alone.
func splitGetopt(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' || strings.Contains(a, "=") || fs.Lookup(a[1:]) != nil {
			out = append(out, a)
			continue
		}
		f := fs.Lookup(a[1:2])
		if f == nil {
			out = append(out, a)
			continue
		}
		if !isBoolFlag(f) {
			out = append(out, a[:2], a[2:])
			continue
		}
		allBool := true
		for _, c := range a[1:] {
			if g := fs.Lookup(string(c)); g == nil || !isBoolFlag(g) {
				allBool = false
			}
		}
		if !allBool {
			out = append(out, a)
			continue
		}
		for _, c := range a[1:] {
			out = append(out, "-"+string(c))
		}
	}
	return out
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parseArgs builds the configuration from the command line (without the
// program name). It returns flag.ErrHelp for -h.
func parseArgs(args []string) (*config, error) {
	var path string
	scratch := defaultConfig()
	fs := newFlagSet(scratch, &path)
	args = splitGetopt(fs, args)
	if err := fs.Parse(args); err != nil {
		return nil, flagError(err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}

	cfg := defaultConfig()
	if path != "" {
		if err := loadTOML(path, cfg); err != nil {
			return nil, err
		}
	}
	fs = newFlagSet(cfg, &path)
	if err := fs.Parse(args); err != nil {
		return nil, flagError(err)
	}
	return cfg, nil
}

func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &usageError{err.Error()}
}

// loadTOML decodes path into cfg and rejects keys cfg does not know.
func loadTOML(path string, cfg *config) error {
	md, err := toml.DecodeFile(path, cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return usagef("%s: line %d: %s", path, perr.Position.Line, perr.Message)
		}
		if errors.Is(err, os.ErrNotExist) {
			return usagef("-c: %s does not exist", path)
		}
		return usagef("%s: %v", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return usagef("%s: unknown key %q", path, keys[0])
	}
	// A negative value in the file would pass for "not given" (the flags'
	// sentinel) and be ignored without a word.
	for _, k := range []struct {
		key, flag string
		v         int
	}{{"lcp_echo_interval", "--lcp-echo-interval", cfg.EchoInterval}, {"lcp_echo_failure", "--lcp-echo-failure", cfg.EchoFailure}} {
		if md.IsDefined(k.key) && k.v < 0 {
			return usagef("%s/%s: %d is negative", k.flag, k.key, k.v)
		}
	}
	return secondsForBareDurations(reflect.ValueOf(cfg).Elem(), &md, nil)
}

// secondsForBareDurations reads a duration written as a bare number
// ("cookie_lifetime = 60") as seconds, as rp-pppoe's flags take them; the
// TOML library would read it as nanoseconds. A string ("60s", "5m") is a
// Go duration. A negative number is refused with the key.
func secondsForBareDurations(v reflect.Value, md *toml.MetaData, prefix []string) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "" || !f.IsExported() {
			continue
		}
		key := append(append([]string(nil), prefix...), name)
		switch {
		case f.Type == reflect.TypeFor[time.Duration]():
			if md.Type(key...) != "Integer" {
				continue
			}
			d := v.Field(i)
			if d.Int() < 0 {
				return usagef("%s: must not be negative", strings.Join(key, "."))
			}
			d.SetInt(d.Int() * int64(time.Second))
		case f.Type.Kind() == reflect.Struct:
			if err := secondsForBareDurations(v.Field(i), md, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// usage prints the flag reference.
func usage(w io.Writer) {
	var path string
	fs := newFlagSet(defaultConfig(), &path)
	fmt.Fprintf(w, "Usage: pppoed [flags]          run the access concentrator in the foreground\n")
	fmt.Fprintf(w, "       pppoed client [flags]   dial sessions for testing (see pppoed client -h)\n\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// validate checks every setting and derives the typed values. Each error
// names the flag and the TOML key.
func (c *config) validate() error {
	if len(c.Interfaces) == 0 && !c.checkPool {
		return usagef("-I/interfaces: no interface given")
	}
	seen := map[string]bool{}
	for _, name := range c.Interfaces {
		if name == "" || len(name) >= 16 || strings.ContainsAny(name, "/ \t") {
			return usagef("-I/interfaces: invalid interface name %q", name)
		}
		if seen[name] {
			return usagef("-I/interfaces: %q given twice", name)
		}
		seen[name] = true
	}
	if len(c.ACName) > maxDiscoveryPayload/2 {
		return usagef("-C/ac_name: longer than %d bytes", maxDiscoveryPayload/2)
	}
	total := 0
	for _, s := range c.ServiceNames {
		total += tagHdrLen + len(s)
	}
	if total > maxDiscoveryPayload/2 {
		return usagef("-S/service_names: too long to fit in a PADO")
	}
	if len(c.MOTM) > 512 {
		return usagef("-M/motm: longer than 512 bytes")
	}
	if len(c.HURL) > 512 {
		return usagef("-H/hurl: longer than 512 bytes")
	}
	var err error
	if c.localIP, err = parseIPv4(c.LocalIP); err != nil {
		return usagef("-L/local_ip: %v", err)
	}
	if _, why, ok := unusableIn(c.localIP, 1); ok {
		return usagef("-L/local_ip: %s is in %s", c.localIP, why)
	}
	if c.MaxSessions < 1 || c.MaxSessions > 65534 {
		return usagef("-N/max_sessions: %d is outside 1..65534", c.MaxSessions)
	}
	if c.SessionOffset < 0 || c.SessionOffset+c.MaxSessions > 0xfffe {
		return usagef("-o/session_offset: %d plus -N %d runs past session ID 65534", c.SessionOffset, c.MaxSessions)
	}
	if c.MaxSessionsPerMAC < 0 {
		return usagef("-x/max_sessions_per_mac: must not be negative")
	}
	if c.MSS != 0 && (c.MSS < 536 || c.MSS > 1460) {
		return usagef("-m/mss: %d is outside 536..1460", c.MSS)
	}
	if c.IdleTimeout < 0 {
		return usagef("-T/idle_timeout: must not be negative")
	}
	if c.CookieLifetime < time.Second || c.CookieLifetime > time.Hour {
		return usagef("--cookie-lifetime/cookie_lifetime: %v is outside 1s..1h", c.CookieLifetime)
	}
	if c.SetupTimeout < time.Second {
		return usagef("--setup-timeout/setup_timeout: %v is shorter than 1s", c.SetupTimeout)
	}
	if c.IfaceWait < 0 {
		return usagef("--iface-wait/iface_wait: %v is negative", c.IfaceWait)
	}
	if c.MaxStarting < 0 {
		return usagef("--max-starting/max_starting: %d is negative", c.MaxStarting)
	}
	if c.AuthTimeout < time.Second {
		return usagef("--auth-timeout/auth_timeout: %v is shorter than 1s", c.AuthTimeout)
	}
	if c.AuthMaxFailures < 1 || c.AuthMaxFailures > 10 {
		return usagef("--auth-max-failures/auth_max_failures: %d is outside 1..10", c.AuthMaxFailures)
	}
	if c.AuthFailDelay < 0 || c.AuthFailDelay > 10*time.Second || c.AuthFailDelay >= c.AuthTimeout {
		return usagef("--auth-fail-delay/auth_fail_delay: %v is outside 0..10s or not shorter than --auth-timeout", c.AuthFailDelay)
	}
	if c.LockoutFailures < 0 || c.LockoutFailures > 1000 {
		return usagef("--auth-lockout-failures/auth_lockout_failures: %d is outside 0..1000", c.LockoutFailures)
	}
	if c.LockoutFailures > 0 && (c.LockoutWindow < time.Second || c.LockoutWindow > 24*time.Hour) {
		return usagef("--auth-lockout-window/auth_lockout_window: %v is outside 1s..24h", c.LockoutWindow)
	}
	if c.LockoutFailures > 0 && (c.LockoutCooldown < time.Second || c.LockoutCooldown > 24*time.Hour) {
		return usagef("--auth-lockout-cooldown/auth_lockout_cooldown: %v is outside 1s..24h", c.LockoutCooldown)
	}
	if c.TUNName == "" || len(c.TUNName) >= 16 {
		return usagef("--tun-name/tun_name: %q is not a valid interface name", c.TUNName)
	}
	if c.NAT.WAN != "" && (len(c.NAT.WAN) >= 16 || strings.ContainsAny(c.NAT.WAN, "/ \t\"")) {
		return usagef("--nat-out/nat.wan: invalid interface name %q", c.NAT.WAN)
	}
	switch c.NAT.Backend {
	case "auto", "nft", "iptables":
	default:
		return usagef("--nat-backend/nat.backend: %q is not auto, nft or iptables", c.NAT.Backend)
	}
	if c.NAT.WAN != "" && c.NAT.StateFile == "" {
		return usagef("--nat-state-file/nat.state_file: empty")
	}
	switch c.Mode {
	case "auto", "kernel", "tun":
	default:
		return usagef("mode: %q is not auto, kernel or tun", c.Mode)
	}
	if c.AcctInterim < 0 {
		return usagef("--acct-interim/acct_interim: must not be negative")
	}
	if c.AcctInterim > 0 && c.AcctInterim < time.Second {
		return usagef("--acct-interim/acct_interim: %v is shorter than 1s", c.AcctInterim)
	}
	if c.HookTimeout < time.Second {
		return usagef("--hook-timeout/hook_timeout: %v is shorter than 1s", c.HookTimeout)
	}
	if c.DefaultRate != "" {
		if c.defaultRate, err = parseRate(c.DefaultRate); err != nil {
			return usagef("--default-rate/default_rate: %v", err)
		}
	}
	if c.MaxSessionsUser < 0 {
		return usagef("--max-sessions-per-user/max_sessions_per_user: must not be negative")
	}
	switch c.MaxSessionsPolicy {
	case "deny", "replace":
	default:
		return usagef("--max-sessions-per-user-policy/max_sessions_per_user_policy: %q is not deny or replace", c.MaxSessionsPolicy)
	}
	if c.CtlSocket != "" && (strings.ContainsRune(c.CtlSocket, 0) || len(c.CtlSocket) > 100) {
		return usagef("--ctl-socket/ctl_socket: %q cannot be a unix socket path", c.CtlSocket)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return usagef("--log-level/log_level: %v", err)
	}
	if c.discoveryType, c.sessionType, err = parseEtherTypes(c.EtherTypes); err != nil {
		return usagef("-f/ether_types: %v", err)
	}

	if c.PoolFile != "" {
		c.pool, err = loadPoolFile(c.PoolFile)
		if err != nil {
			return usagef("-p/pool_file: %v", err)
		}
		c.MaxSessions = c.pool.size()
		if c.SessionOffset+c.MaxSessions > 0xfffe {
			return usagef("-p/pool_file: %d addresses plus offset %d run past session ID 65534", c.MaxSessions, c.SessionOffset)
		}
	} else {
		first, err := parseIPv4(c.FirstRemoteIP)
		if err != nil {
			return usagef("-R/first_remote_ip: %v", err)
		}
		if c.pool, err = newRangePool(first, c.MaxSessions); err != nil {
			return usagef("-R/first_remote_ip with -N/max_sessions: %v", err)
		}
		if a, why, ok := unusableIn(first, c.MaxSessions); ok {
			return usagef("-R/first_remote_ip with -N/max_sessions: the pool of %d from %s takes in %s, which is in %s",
				c.MaxSessions, first, a, why)
		}
	}
	for _, p := range c.Pools {
		if p.First == "" && p.Size == 0 && (p.IPv6PrefixPool != "" || p.IPv6DelegatedPool != "") {
			continue // IPv6 only
		}
		first, err := parseIPv4(p.First)
		if err != nil {
			return usagef("pool %q: first: %v", p.Name, err)
		}
		if a, why, ok := unusableIn(first, p.Size); ok {
			return usagef("[[pool]] %q: the pool of %d from %s takes in %s, which is in %s", p.Name, p.Size, first, a, why)
		}
		if err := c.pool.addNamed(p.Name, first, p.Size); err != nil {
			return usagef("[[pool]]: %v", err)
		}
	}
	if err := c.validateIPv6(); err != nil {
		return err
	}
	if c.pool.contains(c.localIP) {
		return usagef("-L/local_ip: %s is inside the client pool", c.localIP)
	}
	if c.IncrementLocalIP {
		if err := c.pool.setIncrementingLocal(c.localIP); err != nil {
			return usagef("-l/increment_local_ip: %v", err)
		}
		if a, why, ok := unusableIn(c.localIP, c.pool.size()); ok {
			return usagef("-l/increment_local_ip: the server addresses counting up from -L %s take in %s, which is in %s", c.localIP, a, why)
		}
	}

	if c.OptionsFile == "" {
		if _, err := os.Stat(defaultOptionsFile); err == nil {
			c.OptionsFile = defaultOptionsFile
		}
	}
	c.opts = defaultPPPOptions()
	if c.OptionsFile != "" {
		if c.opts, err = loadPPPOptions(c.OptionsFile); err != nil {
			return usagef("-O/options_file: %v", err)
		}
		if c.LogFile == "" {
			c.LogFile = c.opts.logFile
		}
	}
	switch {
	case c.opts.noIPv6 && c.v6 != nil:
		c.warnings = append(c.warnings, "noipv6 in the options file: IPv6 is off although ipv6_prefix_pool is set")
		c.v6 = nil
	case c.opts.plusIPv6 && c.v6 == nil:
		c.warnings = append(c.warnings, "+ipv6 in the options file: IPv6CP is rejected until ipv6_prefix_pool is set")
	}
	if c.opts.radiusPlugin && !c.Radius.enabled() {
		// rp-pppoe's RADIUS setup as it is: pppd's radius.so and radcli's
		// files. [radius] in the TOML file wins over it.
		path := c.opts.radiusConfig
		if path == "" {
			path = defaultRadcliConfig
		}
		if err := loadRadcli(path, &c.Radius); err != nil {
			return usagef("-O/options_file: %v", err)
		}
	}
	if err := c.Radius.finish(c); err != nil {
		return err
	}
	if c.PADODelay != "" {
		if c.padoDelay, err = parsePADODelay(c.PADODelay); err != nil {
			return usagef("--pado-delay/pado_delay: %v", err)
		}
	}
	return c.applyPPPOverrides(c.opts)
}

// loadOptions reads the options file again, for a reload, with the flags'
// and TOML keys' overrides on top.
func (c *config) loadOptions() (*pppOptions, error) {
	o := defaultPPPOptions()
	if c.OptionsFile != "" {
		var err error
		if o, err = loadPPPOptions(c.OptionsFile); err != nil {
			return nil, err
		}
	}
	return o, c.applyPPPOverrides(o)
}

// applyPPPOverrides puts the PPP settings given as flags or TOML keys over
// the options file's, in o.
func (c *config) applyPPPOverrides(o *pppOptions) error {
	if len(c.Auth) > 0 {
		o.requirePAP, o.requireCHAP, o.requireMSCHAPv2, o.noAuth = false, false, false, false
		for _, a := range c.Auth {
			for _, name := range strings.Split(a, ",") {
				switch name = strings.TrimSpace(name); name {
				case "none", "noauth":
					o.noAuth = true
				default:
					m, err := parseAuthName(name)
					if err != nil {
						return usagef("--auth/auth: %v", err)
					}
					switch m {
					case authPAP:
						o.requirePAP = true
					case authCHAP:
						o.requireCHAP = true
					case authMSCHAPv2:
						o.requireMSCHAPv2 = true
					}
				}
			}
		}
		if o.noAuth && (o.requirePAP || o.requireCHAP || o.requireMSCHAPv2) {
			return usagef("--auth/auth: none cannot be combined with a method")
		}
	}
	parse := func(flag string, in []string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, s := range in {
			a, err := parseIPv4(s)
			if err != nil {
				return nil, usagef("%s: %v", flag, err)
			}
			out = append(out, a)
		}
		if len(out) > 2 {
			return nil, usagef("%s: at most two servers (RFC 1877)", flag)
		}
		return out, nil
	}
	if len(c.DNS) > 0 {
		dns, err := parse("--dns/dns", c.DNS)
		if err != nil {
			return err
		}
		o.dns = dns
	}
	if len(c.WINS) > 0 {
		wins, err := parse("--wins/wins", c.WINS)
		if err != nil {
			return err
		}
		o.wins = wins
	}
	if c.EchoInterval >= 0 {
		o.echoInterval = time.Duration(c.EchoInterval) * time.Second
	}
	if c.EchoFailure >= 0 {
		o.echoFailure = c.EchoFailure
	}
	return nil
}

func parseIPv4(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
	}
	if a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Addr{}, fmt.Errorf("%s cannot be a host address", a)
	}
	return a, nil
}

func parseEtherTypes(s string) (disc, sess uint16, err error) {
	d, e, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not disc:sess", s)
	}
	dv, err1 := strconv.ParseUint(d, 16, 16)
	sv, err2 := strconv.ParseUint(e, 16, 16)
	if err1 != nil || err2 != nil || dv < 0x600 || sv < 0x600 || dv == sv {
		return 0, 0, fmt.Errorf("%q is not two distinct hex ethertypes", s)
	}
	return uint16(dv), uint16(sv), nil
}

// maxStarting is how many sessions may be in setup at once: the setting,
// or by default a quarter of the slots but at least 16, so that a flood of
// PADRs from made-up MACs cannot hold every slot while legitimate clients
// are refused (a real client's setup takes a second or two).
func (c *config) maxStarting() int {
	if c.MaxStarting > 0 {
		return c.MaxStarting
	}
	return min(c.MaxSessions, max(16, c.MaxSessions/4))
}

// validateIPv6 builds the IPv6 pools. IPv6 is on when a pool of /64s is
// configured; the delegated pools and DNS servers need one.
func (c *config) validateIPv6() error {
	v := &v6Pools{}
	bits := c.IPv6DelegatedLength
	if bits == 0 {
		bits = 56
	}
	add := func(k *prefixKind, what, name, s string, n int) error {
		if s == "" {
			return nil
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return usagef("%s: %q is not an IPv6 prefix", what, s)
		}
		if a := pfx.Masked().Addr(); !a.Is6() || !a.IsGlobalUnicast() || pfx.Bits() < 8 {
			return usagef("%s: %s is not a global unicast or unique local IPv6 prefix", what, pfx)
		}
		p, err := newPrefixPool(pfx, n)
		if err != nil {
			return usagef("%s: %v", what, err)
		}
		for other, q := range k.pools {
			if q.base.Overlaps(p.base) {
				return usagef("%s: %s overlaps pool %q's %s", what, pfx, other, q.base)
			}
		}
		k.add(name, p)
		return nil
	}
	if bits < 1 || bits > 64 {
		return usagef("ipv6_delegated_length: %d is not 1 to 64", bits)
	}
	if err := add(&v.prefix, "ipv6_prefix_pool", "", c.IPv6PrefixPool, 64); err != nil {
		return err
	}
	if err := add(&v.delegated, "ipv6_delegated_pool", "", c.IPv6DelegatedPool, bits); err != nil {
		return err
	}
	named := map[string]bool{}
	for _, p := range c.Pools {
		if p.IPv6PrefixPool == "" && p.IPv6DelegatedPool == "" {
			continue
		}
		if p.Name == "" || named[p.Name] {
			return usagef("[[pool]]: a pool with IPv6 prefixes needs a name of its own (got %q)", p.Name)
		}
		named[p.Name] = true
		if err := add(&v.prefix, fmt.Sprintf("[[pool]] %q: ipv6_prefix_pool", p.Name), p.Name, p.IPv6PrefixPool, 64); err != nil {
			return err
		}
		if err := add(&v.delegated, fmt.Sprintf("[[pool]] %q: ipv6_delegated_pool", p.Name), p.Name, p.IPv6DelegatedPool, bits); err != nil {
			return err
		}
	}
	for _, a := range v.prefix.pools {
		for _, b := range v.delegated.pools {
			if a.base.Overlaps(b.base) {
				return usagef("ipv6_prefix_pool %s overlaps ipv6_delegated_pool %s", a.base, b.base)
			}
		}
	}
	if len(c.IPv6DNS) > 2 {
		return usagef("ipv6_dns: at most 2 servers, got %d", len(c.IPv6DNS))
	}
	for _, s := range c.IPv6DNS {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
			return usagef("ipv6_dns: %q is not an IPv6 address", s)
		}
		v.dns = append(v.dns, a)
	}
	if !v.enabled() {
		if len(v.delegated.pools) > 0 || len(v.dns) > 0 {
			return usagef("ipv6_delegated_pool and ipv6_dns need ipv6_prefix_pool: IPv6 is off without a pool of /64s")
		}
		return nil
	}
	c.v6 = v
	return nil
}
