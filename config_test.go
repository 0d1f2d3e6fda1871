package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// configFor parses and validates args with an empty options file.
func configFor(t *testing.T, args ...string) (*config, error) {
	t.Helper()
	args = append([]string{"-O", writeFile(t, "options", "")}, args...)
	cfg, err := parseArgs(args)
	if err != nil {
		return nil, err
	}
	return cfg, cfg.validate()
}

// The seed: the classic rp-pppoe command line.
func TestSeedCommandLine(t *testing.T) {
	cfg, err := configFor(t, "-I", "eth0", "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "64")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.localIP != netip.MustParseAddr("10.0.0.1") || cfg.pool.size() != 64 ||
		cfg.pool.remoteAddr(0) != netip.MustParseAddr("10.0.0.2") || cfg.pool.remoteAddr(63) != netip.MustParseAddr("10.0.0.65") {
		t.Fatalf("local %v pool %d %v..%v", cfg.localIP, cfg.pool.size(), cfg.pool.remoteAddr(0), cfg.pool.remoteAddr(63))
	}
	if cfg.Mode != "auto" || cfg.MaxSessions != 64 {
		t.Errorf("mode %q N %d", cfg.Mode, cfg.MaxSessions)
	}
}

func TestFlags(t *testing.T) {
	cfg, err := configFor(t, "-Ieth0", "-I", "eth1", "-C", "my ac", "-S", "a", "-Sb", "-rk", "-x", "2", "-o", "100",
		"-i", "-F", "-T", "30", "-m", "1412", "-u", "-M", "hi", "-H", "http://x/", "-q", "/usr/sbin/pppd", "-d",
		"-X", "/run/p.pid", "--cookie-lifetime", "10s")
	if err != nil {
		t.Fatal(err)
	}
	want := config{Interfaces: []string{"eth0", "eth1"}, ACName: "my ac", ServiceNames: []string{"a", "b"},
		RandomSessionIDs: true, Mode: "kernel", MaxSessionsPerMAC: 2, SessionOffset: 100, NoPADOWhenFull: true,
		IdleTimeout: 30 * time.Second, MSS: 1412, UnitFromSession: true, MOTM: "hi", HURL: "http://x/",
		LogLevel: "debug", PIDFile: "/run/p.pid", CookieLifetime: 10 * time.Second}
	got := *cfg
	if strings.Join(got.Interfaces, ",") != strings.Join(want.Interfaces, ",") ||
		strings.Join(got.ServiceNames, ",") != strings.Join(want.ServiceNames, ",") ||
		got.ACName != want.ACName || got.RandomSessionIDs != want.RandomSessionIDs || got.Mode != want.Mode ||
		got.MaxSessionsPerMAC != want.MaxSessionsPerMAC || got.SessionOffset != want.SessionOffset ||
		got.NoPADOWhenFull != want.NoPADOWhenFull || got.IdleTimeout != want.IdleTimeout || got.MSS != want.MSS ||
		got.UnitFromSession != want.UnitFromSession || got.MOTM != want.MOTM || got.HURL != want.HURL ||
		got.LogLevel != want.LogLevel || got.PIDFile != want.PIDFile || got.CookieLifetime != want.CookieLifetime {
		t.Fatalf("got %+v", got)
	}
	if len(cfg.warnings) != 2 {
		t.Errorf("warnings %q, want one each for -F and -q", cfg.warnings)
	}
}

func TestTOMLAndOverride(t *testing.T) {
	path := writeFile(t, "pppoed.toml", `
interfaces = ["eth0"]
ac_name = "from-file"
service_names = ["x", "y"]
local_ip = "192.168.100.1"
first_remote_ip = "192.168.100.10"
max_sessions = 10
cookie_lifetime = "2m"
`)
	cfg, err := configFor(t, "-c", path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ACName != "from-file" || cfg.MaxSessions != 10 || cfg.CookieLifetime != 2*time.Minute ||
		strings.Join(cfg.ServiceNames, ",") != "x,y" {
		t.Fatalf("file not applied: %+v", cfg)
	}
	cfg, err = configFor(t, "-c", path, "-C", "from-flag", "-S", "z", "-I", "eth9")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ACName != "from-flag" || strings.Join(cfg.ServiceNames, ",") != "z" ||
		strings.Join(cfg.Interfaces, ",") != "eth9" || cfg.MaxSessions != 10 {
		t.Fatalf("flags did not override the file: %+v", cfg)
	}
}

// TestBadInput: each bad input is refused with one line naming the flag or
// key, and status 2. The rows name an interface that does not exist, so a
// row that validate wrongly accepts fails there instead of starting a
// server on the host.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		toml string
		want string // must appear in the one-line error
	}{
		{"no interface", nil, "", "-I"},
		{"invalid -L", []string{"-I", "nosuchif0", "-L", "10.0.0.300"}, "", "-L"},
		{"IPv6 -R", []string{"-I", "nosuchif0", "-R", "::1"}, "", "-R"},
		{"-N zero", []string{"-I", "nosuchif0", "-N", "0"}, "", "-N"},
		{"-N too big", []string{"-I", "nosuchif0", "-N", "65535"}, "", "-N"},
		{"-N not a number", []string{"-I", "nosuchif0", "-N", "lots"}, "", "-N"},
		{"-R plus -N past the address space", []string{"-I", "nosuchif0", "-R", "255.255.255.200", "-N", "100"}, "", "-R"},
		{"-L inside the pool", []string{"-I", "nosuchif0", "-L", "10.0.0.5", "-R", "10.0.0.2"}, "", "-L"},
		{"duplicate -I", []string{"-I", "nosuchif0", "-I", "nosuchif0"}, "", "-I"},
		{"-o past 65534", []string{"-I", "nosuchif0", "-o", "65500", "-N", "64"}, "", "-o"},
		{"-x negative", []string{"-I", "nosuchif0", "-x", "-1"}, "", "-x"},
		{"-m out of range", []string{"-I", "nosuchif0", "-m", "20"}, "", "-m"},
		{"unknown flag", []string{"-I", "nosuchif0", "-Z"}, "", "-Z"},
		{"stray argument", []string{"-I", "nosuchif0", "extra"}, "", "extra"},
		{"missing pool file", []string{"-I", "nosuchif0", "-p", "/nonexistent/pool"}, "", "-p"},
		{"unknown TOML key", nil, "interfaces = [\"nosuchif0\"]\nac_nmae = \"typo\"\n", "ac_nmae"},
		{"bad TOML value", nil, "interfaces = [\"nosuchif0\"]\nmax_sessions = 0\n", "max_sessions"},
		{"bad mode", nil, "interfaces = [\"nosuchif0\"]\nmode = \"fast\"\n", "mode"},
		{"TOML syntax", nil, "interfaces = [\"nosuchif0\"\n", "line"},

		// IPv6 settings.
		{"IPv6 pool not a prefix", []string{"-I", "nosuchif0", "--ipv6-prefix-pool", "2001:db8::"}, "", "ipv6_prefix_pool"},
		{"IPv6 pool longer than /64", []string{"-I", "nosuchif0", "--ipv6-prefix-pool", "2001:db8::/80"}, "", "ipv6_prefix_pool"},
		{"IPv6 pool ::/0", []string{"-I", "nosuchif0", "--ipv6-prefix-pool", "::/0"}, "", "ipv6_prefix_pool: ::/0 is not a global unicast"},
		{"IPv6 pool link-local", []string{"-I", "nosuchif0", "--ipv6-prefix-pool", "fe80::/48"}, "", "ipv6_prefix_pool: fe80::/48 is not a global unicast"},
		{"IPv6 pool IPv4", []string{"-I", "nosuchif0", "--ipv6-prefix-pool", "10.0.0.0/8"}, "", "ipv6_prefix_pool"},
		{"delegated pool without /64s", []string{"-I", "nosuchif0", "--ipv6-delegated-pool", "2001:db8::/40"}, "", "need ipv6_prefix_pool"},
		{"delegated length", []string{"-I", "nosuchif0", "--ipv6-prefix-pool", "2001:db8:1::/48", "--ipv6-delegated-pool", "2001:db8:200::/40", "--ipv6-delegated-length", "36"}, "", "ipv6_delegated_pool"},
		{"pools overlap", []string{"-I", "nosuchif0", "--ipv6-prefix-pool", "2001:db8:1::/48", "--ipv6-delegated-pool", "2001:db8::/40"}, "", "overlaps"},
		{"three IPv6 DNS", []string{"-I", "nosuchif0", "--ipv6-prefix-pool", "2001:db8:1::/48", "--ipv6-dns", "2001:db8::1", "--ipv6-dns", "2001:db8::2", "--ipv6-dns", "2001:db8::3"}, "", "ipv6_dns"},
		{"IPv4 as IPv6 DNS", []string{"-I", "nosuchif0", "--ipv6-prefix-pool", "2001:db8:1::/48", "--ipv6-dns", "10.0.0.1"}, "", "ipv6_dns"},
		{"IPv6 pool without a name", nil, "interfaces = [\"nosuchif0\"]\nipv6_prefix_pool = \"2001:db8:1::/48\"\n[[pool]]\nipv6_prefix_pool = \"2001:db8:2::/48\"\n", "needs a name"},

		// Pools no PPP link can use, each refused naming the flag or key.
		{"-R loopback", []string{"-I", "nosuchif0", "-R", "127.0.0.2"}, "", "-R/first_remote_ip with -N/max_sessions: the pool of 64 from 127.0.0.2 takes in 127.0.0.2, which is in 127.0.0.0/8"},
		{"-R in 0.0.0.0/8", []string{"-I", "nosuchif0", "-R", "0.0.0.1", "-N", "4"}, "", "-R/first_remote_ip with -N/max_sessions: the pool of 4 from 0.0.0.1 takes in 0.0.0.1, which is in 0.0.0.0/8"},
		{"-R plus -N into loopback", []string{"-I", "nosuchif0", "-R", "126.255.255.250", "-N", "10"}, "", "takes in 127.0.0.0, which is in 127.0.0.0/8"},
		{"-R plus -N into multicast", []string{"-I", "nosuchif0", "-R", "223.255.255.200", "-N", "100"}, "", "-R/first_remote_ip with -N/max_sessions: the pool of 100 from 223.255.255.200 takes in 224.0.0.0, which is in 224.0.0.0/4 (multicast)"},
		{"-R multicast", []string{"-I", "nosuchif0", "-R", "239.1.1.1"}, "", "-R"},
		{"-R broadcast", []string{"-I", "nosuchif0", "-R", "255.255.255.255", "-N", "1"}, "", "-R"},
		{"-L loopback", []string{"-I", "nosuchif0", "-L", "127.0.0.1"}, "", "-L/local_ip: 127.0.0.1 is in 127.0.0.0/8"},
		{"-l into multicast", []string{"-I", "nosuchif0", "-L", "223.255.255.254", "-l", "-N", "4"}, "", "-l/increment_local_ip: the server addresses counting up from -L 223.255.255.254 take in 224.0.0.0"},
		{"TOML pool loopback", nil, "interfaces = [\"nosuchif0\"]\nfirst_remote_ip = \"127.1.0.1\"\n", "-R/first_remote_ip"},
		{"named pool multicast", nil, "interfaces = [\"nosuchif0\"]\n[[pool]]\nname = \"m\"\nfirst = \"223.255.255.255\"\nsize = 2\n", `[[pool]] "m": the pool of 2 from 223.255.255.255 takes in 224.0.0.0`},
		{"named pool in 0.0.0.0/8", nil, "interfaces = [\"nosuchif0\"]\n[[pool]]\nname = \"z\"\nfirst = \"0.1.2.3\"\nsize = 2\n", `[[pool]] "z"`},
		{"pool file loopback", []string{"-I", "nosuchif0", "-p", "POOL:10.1.0.1\n127.0.0.5\n"}, "", `-p/pool_file: POOL:2: "127.0.0.5": 127.0.0.5 is in 127.0.0.0/8`},
		{"pool file range in 0.0.0.0/8", []string{"-I", "nosuchif0", "-p", "POOL:0.0.0.1-9\n"}, "", `-p/pool_file: POOL:1: "0.0.0.1-9": 0.0.0.1 is in 0.0.0.0/8`},
		{"pool file local loopback", []string{"-I", "nosuchif0", "-p", "POOL:127.0.0.1:10.1.0.1\n"}, "", `-p/pool_file: POOL:1: "127.0.0.1:10.1.0.1": 127.0.0.1 is in 127.0.0.0/8`},

		// Negative keepalive settings, from each place they can come from.
		{"negative --lcp-echo-interval", []string{"-I", "nosuchif0", "--lcp-echo-interval", "-5"}, "", "-lcp-echo-interval"},
		{"negative --lcp-echo-failure", []string{"-I", "nosuchif0", "--lcp-echo-failure=-1"}, "", "-lcp-echo-failure"},
		{"negative TOML lcp_echo_interval", nil, "interfaces = [\"nosuchif0\"]\nlcp_echo_interval = -5\n", "--lcp-echo-interval/lcp_echo_interval: -5 is negative"},
		{"TOML lcp_echo_interval -1", nil, "interfaces = [\"nosuchif0\"]\nlcp_echo_interval = -1\n", "--lcp-echo-interval/lcp_echo_interval: -1 is negative"},
		{"negative TOML lcp_echo_failure", nil, "interfaces = [\"nosuchif0\"]\nlcp_echo_failure = -3\n", "--lcp-echo-failure/lcp_echo_failure: -3 is negative"},
		{"negative options lcp-echo-interval", []string{"-I", "nosuchif0", "-O", "OPTIONS:lcp-echo-interval -5\n"}, "", `-O/options_file: OPTIONS:1: lcp-echo-interval: "-5"`},
		{"negative options lcp-echo-failure", []string{"-I", "nosuchif0", "-O", "OPTIONS:lcp-echo-failure -2\n"}, "", `-O/options_file: OPTIONS:1: lcp-echo-failure: "-2"`},
		{"failure delay past the auth timeout", []string{"-I", "nosuchif0", "--auth-timeout", "5s", "--auth-fail-delay", "5"}, "", "--auth-fail-delay"},
		{"negative lockout failures", nil, "interfaces = [\"nosuchif0\"]\nauth_lockout_failures = -1\n", "auth_lockout_failures"},
		{"lockout window under 1s", []string{"-I", "nosuchif0", "--auth-lockout-window", "500ms"}, "", "auth_lockout_window"},
		{"no cool-down", nil, "interfaces = [\"nosuchif0\"]\nauth_lockout_cooldown = 0\n", "auth_lockout_cooldown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// "POOL:text" and "OPTIONS:text" stand for a file holding
			// text; want names it as POOL or OPTIONS.
			var args []string
			want := tt.want
			for _, a := range tt.args {
				for _, kind := range []string{"POOL", "OPTIONS"} {
					if body, ok := strings.CutPrefix(a, kind+":"); ok {
						a = writeFile(t, strings.ToLower(kind), body)
						want = strings.ReplaceAll(want, kind, a)
					}
				}
				args = append(args, a)
			}
			if tt.toml != "" {
				args = append([]string{"-c", writeFile(t, "c.toml", tt.toml)}, args...)
			}
			args = append([]string{"-O", writeFile(t, "options", "")}, args...)
			var stdout, stderr bytes.Buffer
			code := realMain(args, &stdout, &stderr)
			msg := stderr.String()
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, msg)
			}
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, want) {
				t.Fatalf("stderr %q: want one line naming %q", msg, want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := realMain([]string{"-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"-I", "-C", "-S", "-L", "-R", "-N", "-p", "-x", "-r", "-o", "-i", "-k", "-F", "-X", "-O", "-T", "-m", "-u", "-M", "-H", "-q", "-Q", "-g", "-c"} {
		if !regexp.MustCompile(`\n  ` + f + `\s`).MatchString(stdout.String()) {
			t.Errorf("usage does not document %s", f)
		}
	}
}

func TestSplitGetopt(t *testing.T) {
	var path string
	fs := newFlagSet(defaultConfig(), &path)
	got := splitGetopt(fs, []string{"-Ieth0", "-rk", "-N64", "--tun", "-tun", "-log-level=debug", "-rZ", "--", "-Ix"})
	want := []string{"-I", "eth0", "-r", "-k", "-N", "64", "--tun", "-tun", "-log-level=debug", "-rZ", "--", "-Ix"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestMissingInterface: a nonexistent -I is bad input, refused with one
// line and status 2 like every other, before any system change: a NAT
// state file named on the same command line is neither written nor read.
func TestMissingInterface(t *testing.T) {
	var stdout, stderr bytes.Buffer
	state := filepath.Join(t.TempDir(), "nat.state")
	code := realMain([]string{"-O", writeFile(t, "options", ""), "-I", "nosuchif0", "--nat-out", "nosuchwan0",
		"--nat-state-file", state, "--ctl-socket", ""}, &stdout, &stderr)
	msg := stderr.String()
	if code != 2 || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "pppoed: -I/interfaces: ") ||
		!strings.Contains(msg, `interface "nosuchif0" does not exist`) {
		t.Fatalf("exit %d, stderr %q: want status 2 and one line naming -I and the interface", code, msg)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("the NAT state file exists after a refused start: %v", err)
	}
}

func TestPoolFile(t *testing.T) {
	path := writeFile(t, "pool", `# rp-pppoe pool file
10.1.0.1
10.1.0.10-12
10.1.0.20-18
192.168.1.1:10.1.0.50

`)
	p, err := loadPoolFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.1.0.1", "10.1.0.10", "10.1.0.11", "10.1.0.12", "10.1.0.18", "10.1.0.19", "10.1.0.20", "10.1.0.50"}
	if p.size() != len(want) {
		t.Fatalf("size %d, want %d", p.size(), len(want))
	}
	def := netip.MustParseAddr("10.0.0.1")
	for i, w := range want {
		if got := p.remoteAddr(poolSlot(i)).String(); got != w {
			t.Errorf("slot %d = %s, want %s", i, got, w)
		}
		wantLocal := def
		if w == "10.1.0.50" {
			wantLocal = netip.MustParseAddr("192.168.1.1")
		}
		if got := p.localAddr(poolSlot(i), def); got != wantLocal {
			t.Errorf("slot %d local %s, want %s", i, got, wantLocal)
		}
	}
	for _, bad := range []string{"10.1.0.1\nbogus\n", "10.1.0.1\n10.1.0.1\n", "# nothing\n", "10.1.0.1-300\n"} {
		if _, err := loadPoolFile(writeFile(t, "bad", bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	cfg, err := configFor(t, "-I", "eth0", "-p", path)
	if err != nil || cfg.MaxSessions != 8 {
		t.Fatalf("-p: %v, N %d", err, cfg.MaxSessions)
	}
}

// The seed's options file, byte for byte.
const seedOptions = `require-pap
require-chap
login
lcp-echo-interval 10
lcp-echo-failure 2
logfile /var/log/pppoe.log
ms-dns 218.108.248.200
ms-dns 8.8.4.4
defaultroute
`

func TestSeedOptionsFile(t *testing.T) {
	o, err := parsePPPOptions(strings.NewReader(seedOptions), "pppoe-server-options")
	if err != nil {
		t.Fatal(err)
	}
	if !o.requirePAP || !o.requireCHAP || o.requireMSCHAPv2 || !o.login || o.noAuth {
		t.Errorf("auth: %+v", o)
	}
	if o.echoInterval != 10*time.Second || o.echoFailure != 2 || o.logFile != "/var/log/pppoe.log" {
		t.Errorf("echo %v/%d logfile %q", o.echoInterval, o.echoFailure, o.logFile)
	}
	if len(o.dns) != 2 || o.dns[0].String() != "218.108.248.200" || o.dns[1].String() != "8.8.4.4" {
		t.Errorf("dns %v", o.dns)
	}
	if len(o.notes) != 1 || !strings.Contains(o.notes[0], "defaultroute") {
		t.Errorf("notes %q", o.notes)
	}
}

func TestOptionsFileSyntax(t *testing.T) {
	o, err := parsePPPOptions(strings.NewReader("# comment\nname \"my server\" # trailing\nms-wins 10.0.0.9\nmru 1400\nplugin rp-pppoe.so\n10.0.0.1:\nnoauth\n"), "f")
	if err != nil {
		t.Fatal(err)
	}
	if o.name != "my server" || o.mru != 1400 || len(o.wins) != 1 || !o.noAuth {
		t.Fatalf("%+v", o)
	}
	for in, want := range map[string]string{
		"lcp-echo-interval\n":     "needs an argument",
		"defaultroute\nfoo-bar\n": "f:2: unknown option \"foo-bar\"",
		"ms-dns 1.2.3\n":          "not an IPv4",
		"require-mschap\n":        "not supported",
		"name \"open\n":           "unterminated",
	} {
		if _, err := parsePPPOptions(strings.NewReader(in), "f"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}

func TestUsageErrorType(t *testing.T) {
	_, err := configFor(t, "-I", "eth0", "-N", "0")
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Fatalf("%T is not a usageError", err)
	}
}

func TestPPPOverrides(t *testing.T) {
	opts := writeFile(t, "options", seedOptions)
	cfg, err := parseArgs([]string{"-O", opts, "-I", "eth0", "--auth", "mschapv2", "--auth", "pap", "--dns", "1.1.1.1",
		"--lcp-echo-interval", "5", "--lcp-echo-failure", "4"})
	if err == nil {
		err = cfg.validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.opts
	if !o.requireMSCHAPv2 || !o.requirePAP || o.requireCHAP || len(o.dns) != 1 || o.dns[0].String() != "1.1.1.1" ||
		o.echoInterval != 5*time.Second || o.echoFailure != 4 {
		t.Fatalf("overrides not applied: %+v", o)
	}
	if _, err := configFor(t, "-I", "eth0", "--auth", "kerberos"); err == nil || !strings.Contains(err.Error(), "--auth") {
		t.Fatalf("bad --auth: %v", err)
	}
	if _, err := configFor(t, "-I", "eth0", "--dns", "1.1.1.1", "--dns", "2.2.2.2", "--dns", "3.3.3.3"); err == nil {
		t.Fatal("accepted three DNS servers")
	}
}

// TestTOMLBareDurations: a duration written as a bare number is seconds,
// as rp-pppoe's flags take them; a string is a Go duration.
func TestTOMLBareDurations(t *testing.T) {
	path := writeFile(t, "c.toml", "interfaces = [\"eth0\"]\ncookie_lifetime = 60\nsetup_timeout = \"45s\"\nidle_timeout = 600\nauth_timeout = \"1m\"\n")
	cfg, err := configFor(t, "-c", path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CookieLifetime != time.Minute || cfg.SetupTimeout != 45*time.Second || cfg.IdleTimeout != 10*time.Minute || cfg.AuthTimeout != time.Minute {
		t.Fatalf("cookie %v setup %v idle %v auth %v", cfg.CookieLifetime, cfg.SetupTimeout, cfg.IdleTimeout, cfg.AuthTimeout)
	}
	path = writeFile(t, "c.toml", "interfaces = [\"eth0\"]\nidle_timeout = -5\n")
	if _, err := configFor(t, "-c", path); err == nil || !strings.Contains(err.Error(), "idle_timeout") {
		t.Fatalf("negative bare duration: %v, want an error naming idle_timeout", err)
	}
}

// TestCheckPoolWithoutInterface: -P only prints the pool; it needs no -I.
func TestCheckPoolWithoutInterface(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"-O", writeFile(t, "options", ""), "-P", "-R", "10.5.0.10", "-N", "5"}, &stdout, &stderr)
	if code != 0 || stdout.String() != "pool: 5 addresses, 10.5.0.10 .. 10.5.0.14\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// TestHelpShowsNoSentinels: flags whose unset value is internal (-1 for
// "the options file decides") show no default.
func TestHelpShowsNoSentinels(t *testing.T) {
	var stdout, stderr bytes.Buffer
	realMain([]string{"-h"}, &stdout, &stderr)
	if strings.Contains(stdout.String(), "(default -1)") {
		t.Fatalf("help shows an internal default:\n%s", stdout.String())
	}
}

// TestOptionsFileWarnings: lines that change what an rp-pppoe user expects
// but that pppoed does not act on are warned about, naming the line; the
// ones that mean nothing to a server are only noted.
func TestOptionsFileWarnings(t *testing.T) {
	o, err := parsePPPOptions(strings.NewReader("mtu 1400\nplugin rp-pppoe.so\nipv6-up-script /etc/ppp/my-up\nchap-interval 60\ndefaultroute\nip-up-script /etc/ppp/up\n"), "opts")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"opts:1: mtu 1400 ignored", "opts:4: chap-interval 60 ignored"} {
		found := false
		for _, w := range o.warnings {
			found = found || strings.HasPrefix(w, want)
		}
		if !found {
			t.Errorf("no warning %q among %q", want, o.warnings)
		}
	}
	if len(o.warnings) != 2 || len(o.notes) != 2 {
		t.Errorf("%d warnings, %d notes: want 2 and 2 (rp-pppoe.so and defaultroute are only notes)", len(o.warnings), len(o.notes))
	}
	if o.ipUpScript != "/etc/ppp/up" || o.ipDownScript != "/etc/ppp/ip-down" {
		t.Errorf("ip-up %q ip-down %q", o.ipUpScript, o.ipDownScript)
	}
	if o.ipv6UpScript != "/etc/ppp/my-up" || o.ipv6DownScript != "/etc/ppp/ipv6-down" {
		t.Errorf("ipv6-up %q ipv6-down %q", o.ipv6UpScript, o.ipv6DownScript)
	}
}

// TestOptionsFileTimersAndIdle: pppd's idle and the automata's timers are
// honoured.
func TestOptionsFileTimersAndIdle(t *testing.T) {
	o, err := parsePPPOptions(strings.NewReader("idle 600\nlcp-restart 2\nlcp-max-configure 7\nipcp-max-failure 9\nipcp-max-terminate 4\n"), "opts")
	if err != nil {
		t.Fatal(err)
	}
	if o.idle != 10*time.Minute || o.lcp.restart != 2*time.Second || o.lcp.maxConfigure != 7 || o.ipcp.maxFailure != 9 ||
		o.ipcp.maxTerminate != 4 || o.ipcp.restart != 3*time.Second || o.lcp.maxFailure != 5 {
		t.Fatalf("idle %v lcp %+v ipcp %+v", o.idle, o.lcp, o.ipcp)
	}
}

// TestRadiusConfig: [radius] with its defaults, require_message_authenticator
// as a string or a bool, named pools, pado_delay, and one-line errors.
func TestRadiusConfig(t *testing.T) {
	p := writeFile(t, "c.toml", `interfaces = ["eth0"]
pado_delay = "0,100:100,200:500,-1:1000"
[radius]
nas_identifier = "pppoed-1"
nas_ipv6_address = "2001:db8::a"
acct_interim = "5m"
require_message_authenticator = true
acct_spool = "/tmp/x/acct.spool"
[[radius.server]]
address = "192.0.2.10"
secret = "testing123"
timeout = "3s"
retries = 3
[[radius.server]]
address = "192.0.2.11"
secret = "other"
auth_port = 11812
[radius.dae]
listen = "0.0.0.0:3799"
[[radius.dae.client]]
address = "192.0.2.10"
secret = "testing123"
[[pool]]
name = "vip"
first = "10.9.0.1"
size = 16
`)
	cfg, err := configFor(t, "-c", p)
	if err != nil {
		t.Fatal(err)
	}
	rc := cfg.Radius
	if rc.RequireMessageAuthenticator.String() != "true" || len(rc.Server) != 2 || len(rc.AcctServer) != 2 ||
		rc.Server[1].AuthPort != 11812 || rc.Server[1].AcctPort != 1813 || rc.Server[1].Timeout != duration(3*time.Second) ||
		rc.Server[1].Retries != 3 || time.Duration(rc.AcctInterim) != 5*time.Minute || rc.DAE.Listen != "0.0.0.0:3799" ||
		rc.nasIP6 != netip.MustParseAddr("2001:db8::a") || rc.nasIP.IsValid() {
		t.Fatalf("%+v", rc)
	}
	if g, ok := cfg.pool.groupOf("vip"); !ok || cfg.pool.sizeOf(g) != 16 {
		t.Error("no pool vip of 16")
	}
	if d, ok := padoDelay(cfg.padoDelay, 150); d != 100*time.Millisecond || !ok {
		t.Errorf("pado delay at 150 sessions: %v %v", d, ok)
	}
	if _, ok := padoDelay(cfg.padoDelay, 1000); ok {
		t.Error("a PADO at 1000 sessions")
	}
	if strings.Contains(fmt.Sprint(rc), "testing123") || strings.Contains(fmt.Sprintf("%+v", rc), "other") {
		t.Error("a RADIUS secret prints")
	}

	for in, want := range map[string]string{
		"[radius]\nrequire_message_authenticator = \"maybe\"\n":                                                              "not auto, true or false",
		"[[radius.server]]\naddress = \"192.0.2.1\"\n":                                                                       "needs an address and a secret",
		"[[radius.server]]\naddress = \"radius.example\"\nsecret = \"s\"\n":                                                  "does not use DNS",
		"[[radius.server]]\naddress = \"192.0.2.1\"\nsecret = \"s\"\ntimeout = -1\n":                                         "must not be negative",
		"[radius.dae]\nlisten = \"0.0.0.0:3799\"\n":                                                                          "need at least one",
		"[radius]\nnas_ipv6_address = \"192.0.2.1\"\n[[radius.server]]\naddress = \"192.0.2.1\"\nsecret = \"s\"\n":           "radius.nas_ipv6_address",
		"[radius]\nnas_ipv6_address = \"ff02::1\"\n[[radius.server]]\naddress = \"192.0.2.1\"\nsecret = \"s\"\n":             "not an IPv6 unicast address",
		"[[pool]]\nname = \"a\"\nfirst = \"10.0.0.2\"\nsize = 4\n":                                                           "in another pool",
		"[[pool]]\nname = \"a\"\nfirst = \"10.99.0.1\"\nsize = 4\n[[pool]]\nname = \"a\"\nfirst = \"10.98.0.1\"\nsize = 4\n": "named twice",
	} {
		p := writeFile(t, "bad.toml", "interfaces = [\"eth0\"]\nfirst_remote_ip = \"10.0.0.2\"\n"+in)
		if _, err := configFor(t, "-c", p); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line with %q", in, err, want)
		}
	}
	if _, err := configFor(t, "-I", "eth0", "--pado-delay", "100:5"); err == nil {
		t.Error("a pado_delay without a first delay was taken")
	}
}

// TestRadcliConfig: pppd's radius.so setup read from radcli's files.
func TestRadcliConfig(t *testing.T) {
	dir := t.TempDir()
	servers := filepath.Join(dir, "servers")
	writeTestFile(t, servers, "# comment\n192.0.2.10  s3cret\nlocalhost other\n")
	conf := filepath.Join(dir, "radiusclient.conf")
	writeTestFile(t, conf, "auth_order\tradius\nauthserver 192.0.2.10:1645,localhost\nacctserver 192.0.2.10\nservers "+servers+
		"\nradius_timeout 7\nradius_retries 4\nradius_deadtime 60\nnas-identifier oldbox\ndictionary /etc/radcli/dictionary\nbindaddr 2001:db8::b\n")
	var rc radiusConfig
	if err := loadRadcli(conf, &rc); err != nil {
		t.Fatal(err)
	}
	if len(rc.Server) != 2 || rc.Server[0].AuthPort != 1645 || rc.Server[0].Secret != "s3cret" || rc.Server[1].Address != "localhost" ||
		rc.Server[1].Secret != "other" || rc.Server[0].Timeout != duration(7*time.Second) || rc.Server[0].Retries != 4 ||
		len(rc.AcctServer) != 1 || rc.AcctServer[0].AcctPort != 1813 || rc.NASIdentifier != "oldbox" || rc.DeadTime != duration(time.Minute) ||
		rc.NASIPv6Address != "2001:db8::b" || rc.NASIPAddress != "" {
		t.Fatalf("%+v", rc)
	}
	// Without an acctserver, accounting goes to each authserver's next port.
	if rc.Server[0].AcctPort != 1646 || rc.Server[1].AcctPort != 1813 {
		t.Errorf("acct ports %d and %d, want 1646 and 1813", rc.Server[0].AcctPort, rc.Server[1].AcctPort)
	}
	writeTestFile(t, servers, "192.0.2.99 x\n")
	if err := loadRadcli(conf, &rc); err == nil || !strings.Contains(err.Error(), `no secret for "192.0.2.10"`) {
		t.Errorf("a server without a secret: %v", err)
	}
	// The options file's plugin line makes the config read them.
	opts := filepath.Join(dir, "options")
	writeTestFile(t, servers, "192.0.2.10 s3cret\nlocalhost other\n")
	writeTestFile(t, opts, "plugin radius.so\nradius-config-file "+conf+"\n")
	cfg, err := parseArgs([]string{"-I", "eth0", "-O", opts})
	if err == nil {
		err = cfg.validate()
	}
	if err != nil || !cfg.Radius.enabled() || cfg.Radius.from != conf {
		t.Fatalf("plugin radius.so: %v %+v", err, cfg.Radius)
	}
}

// TestMaxStarting: the setup cap is a quarter of the slots, at least 16
// (never more than the slots), unless set; a negative one is refused.
func TestMaxStarting(t *testing.T) {
	for _, tt := range []struct{ n, set, want int }{{64, 0, 16}, {1000, 0, 250}, {8, 0, 8}, {40, 0, 16}, {1000, 30, 30}} {
		c := &config{MaxSessions: tt.n, MaxStarting: tt.set}
		if got := c.maxStarting(); got != tt.want {
			t.Errorf("-N %d --max-starting %d: %d, want %d", tt.n, tt.set, got, tt.want)
		}
	}
	cfg, err := parseArgs([]string{"-I", "eth0", "--max-starting", "-1"})
	if err == nil {
		err = cfg.validate()
	}
	if err == nil || !strings.Contains(err.Error(), "--max-starting") {
		t.Errorf("--max-starting -1: %v", err)
	}
	if d := defaultConfig().SetupTimeout; d != 30*time.Second {
		t.Errorf("default setup timeout %v, want 30s", d)
	}
}
