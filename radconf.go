// RADIUS settings: the [radius] section of the TOML file, or, for a
// pppd setup moved over as it is, radcli's files that pppd's radius.so
// reads (radiusclient.conf and its servers file), found through the
// options file's `plugin radius.so` and `radius-config-file`.

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

// radiusConfig is [radius].
type radiusConfig struct {
	NASIdentifier               string               `toml:"nas_identifier"`
	NASIPAddress                string               `toml:"nas_ip_address"`
	NASIPv6Address              string               `toml:"nas_ipv6_address"`
	AcctInterim                 duration             `toml:"acct_interim"`
	RequireMessageAuthenticator maPolicy             `toml:"require_message_authenticator"`
	AcctSpool                   string               `toml:"acct_spool"`
	DeadTime                    duration             `toml:"dead_time"`
	Server                      []radiusServerConfig `toml:"server"`
	AcctServer                  []radiusServerConfig `toml:"acct_server"` // radcli's acctserver; default: Server
	DAE                         daeConfig            `toml:"dae"`

	nasIP  netip.Addr
	nasIP6 netip.Addr
	from   string // where the settings came from, for the log
}

type radiusServerConfig struct {
	Address  string   `toml:"address"`
	Secret   secret   `toml:"secret"`
	AuthPort int      `toml:"auth_port"`
	AcctPort int      `toml:"acct_port"`
	Timeout  duration `toml:"timeout"`
	Retries  int      `toml:"retries"`
}

type daeConfig struct {
	Listen string            `toml:"listen"`
	Client []daeClientConfig `toml:"client"`
}

type daeClientConfig struct {
	Address string `toml:"address"`
	Secret  secret `toml:"secret"`
}

// duration is a TOML duration: a Go duration string, or a bare number of
// seconds (as the top level's durations are read, config.go).
type duration time.Duration

func (d *duration) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		if v < 0 {
			return fmt.Errorf("%d: must not be negative", v)
		}
		*d = duration(time.Duration(v) * time.Second)
	case string:
		p, err := time.ParseDuration(v)
		if err != nil || p < 0 {
			return fmt.Errorf("%q is not a duration such as 3s", v)
		}
		*d = duration(p)
	default:
		return fmt.Errorf("%v is not a duration", v)
	}
	return nil
}

// maPolicy is require_message_authenticator: "auto", true or false, as
// FreeRADIUS names it.
type maPolicy string

func (m *maPolicy) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case bool:
		*m = maPolicy(strconv.FormatBool(v))
	case string:
		switch v {
		case "auto", "true", "false", "yes", "no":
			*m = maPolicy(map[string]string{"yes": "true", "no": "false"}[v])
			if *m == "" {
				*m = maPolicy(v)
			}
		default:
			return fmt.Errorf("%q is not auto, true or false", v)
		}
	default:
		return fmt.Errorf("%v is not auto, true or false", v)
	}
	return nil
}

func (m maPolicy) String() string {
	if m == "" {
		return "auto"
	}
	return string(m)
}

func (rc *radiusConfig) enabled() bool { return len(rc.Server) > 0 }

// finish applies defaults and checks the settings.
func (rc *radiusConfig) finish(cfg *config) error {
	if !rc.enabled() {
		if len(rc.AcctServer) > 0 || rc.DAE.Listen != "" {
			return usagef("radius: acct_server and dae need at least one [[radius.server]]")
		}
		return nil
	}
	if rc.NASIdentifier == "" {
		rc.NASIdentifier = cfg.ACName
	}
	if rc.NASIPAddress != "" {
		a, err := parseIPv4(rc.NASIPAddress)
		if err != nil {
			return usagef("radius.nas_ip_address: %v", err)
		}
		rc.nasIP = a
	}
	if rc.NASIPv6Address != "" {
		a, err := netip.ParseAddr(rc.NASIPv6Address)
		if err != nil || !a.Is6() || a.Is4In6() || a.IsUnspecified() || a.IsMulticast() || a.Zone() != "" {
			return usagef("radius.nas_ipv6_address: %q is not an IPv6 unicast address", rc.NASIPv6Address)
		}
		rc.nasIP6 = a
	}
	if rc.AcctInterim == 0 {
		rc.AcctInterim = duration(cfg.AcctInterim)
	}
	if rc.DeadTime == 0 {
		rc.DeadTime = duration(30 * time.Second)
	}
	if rc.AcctSpool == "" {
		rc.AcctSpool = "/var/lib/pppoed/acct.spool"
	}
	if len(rc.AcctServer) == 0 {
		rc.AcctServer = rc.Server
	}
	for _, list := range []*[]radiusServerConfig{&rc.Server, &rc.AcctServer} {
		for i := range *list {
			s := &(*list)[i]
			if s.Address == "" || s.Secret == "" {
				return usagef("radius.server: each needs an address and a secret")
			}
			if s.AuthPort == 0 {
				s.AuthPort = 1812
			}
			if s.AcctPort == 0 {
				s.AcctPort = 1813
			}
			if s.Timeout == 0 {
				s.Timeout = duration(3 * time.Second)
			}
			if s.Retries == 0 {
				s.Retries = 3
			}
			if s.AuthPort < 1 || s.AuthPort > 65535 || s.AcctPort < 1 || s.AcctPort > 65535 || s.Retries < 0 || s.Retries > 20 {
				return usagef("radius.server %q: a port or retries out of range", s.Address)
			}
			if _, err := hostAddr(s.Address); err != nil {
				return usagef("radius.server: %v", err)
			}
		}
	}
	for _, c := range rc.DAE.Client {
		if _, err := netip.ParseAddr(c.Address); err != nil || c.Secret == "" {
			return usagef("radius.dae.client: %q needs an IP address and a secret", c.Address)
		}
	}
	if rc.DAE.Listen != "" {
		if _, err := netip.ParseAddrPort(rc.DAE.Listen); err != nil {
			return usagef("radius.dae.listen: %q is not address:port", rc.DAE.Listen)
		}
	}
	return nil
}

// defaultRadcliConfig is where pppd's radius.so looks without
// radius-config-file.
const defaultRadcliConfig = "/etc/radiusclient/radiusclient.conf"

// loadRadcli reads radcli's radiusclient.conf (and the servers file it
// names) into rc, as pppd's radius plugin would: authserver and acctserver
// (host[:port], several by comma or line), servers (host secret lines),
// radius_timeout, radius_retries, radius_deadtime and nas-identifier.
// Options that mean nothing here (dictionary, seqfile, login_*) are
// skipped.
func loadRadcli(path string, rc *radiusConfig) error {
	return readRadcli(path, rc, func(name string) (io.ReadCloser, error) { return os.Open(name) })
}

// readRadcli is loadRadcli with the files opened by open.
func readRadcli(path string, rc *radiusConfig, open func(string) (io.ReadCloser, error)) error {
	f, err := open(path)
	if err != nil {
		return fmt.Errorf("plugin radius.so: %w", err)
	}
	defer f.Close()
	var auth, acct []string
	serversFile := ""
	timeout, retries := 5*time.Second, 3
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		key, val, _ := strings.Cut(s, " ")
		if i := strings.IndexAny(s, " \t"); i >= 0 {
			key, val = s[:i], strings.TrimSpace(s[i:])
		}
		bad := func(why string) error { return fmt.Errorf("%s:%d: %s: %s", path, line, key, why) }
		switch key {
		case "authserver":
			auth = append(auth, strings.Split(val, ",")...)
		case "acctserver":
			acct = append(acct, strings.Split(val, ",")...)
		case "servers":
			serversFile = val
		case "radius_timeout":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 {
				return bad("want seconds")
			}
			timeout = time.Duration(n) * time.Second
		case "radius_retries":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return bad("want a number")
			}
			retries = n
		case "radius_deadtime":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return bad("want seconds")
			}
			rc.DeadTime = duration(time.Duration(n) * time.Second)
		case "nas-identifier", "nas_identifier":
			rc.NASIdentifier = val
		case "bindaddr":
			switch {
			case val == "*":
			case strings.Contains(val, ":"):
				rc.NASIPv6Address = val
			default:
				rc.NASIPAddress = val
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if serversFile == "" {
		serversFile = "/etc/radiusclient/servers"
	}
	secrets, err := readRadcliServers(serversFile, open)
	if err != nil {
		return err
	}
	server := func(list []string, defPort int) ([]radiusServerConfig, error) {
		var out []radiusServerConfig
		for _, hp := range list {
			hp = strings.TrimSpace(hp)
			if hp == "" {
				continue
			}
			// host, host:port or host:port:secret, as radcli takes them.
			parts := strings.SplitN(hp, ":", 3)
			s := radiusServerConfig{Address: parts[0], AuthPort: 1812, AcctPort: 1813, Timeout: duration(timeout), Retries: max(retries, 1)}
			port := defPort
			if len(parts) > 1 && parts[1] != "" {
				p, err := strconv.Atoi(parts[1])
				if err != nil || p < 1 || p > 65535 {
					return nil, fmt.Errorf("%s: %q: bad port", path, hp)
				}
				port = p
			}
			// An authserver's accounting, when no acctserver names it,
			// goes to the port after its own (1812/1813, 1645/1646).
			if defPort == 1812 {
				s.AuthPort, s.AcctPort = port, min(port+1, 65535)
			} else {
				s.AcctPort = port
			}
			if len(parts) == 3 {
				s.Secret = secret(parts[2])
			} else if sec, ok := secrets[parts[0]]; ok {
				s.Secret = sec
			} else {
				return nil, fmt.Errorf("%s: no secret for %q in %s", path, parts[0], serversFile)
			}
			out = append(out, s)
		}
		return out, nil
	}
	if rc.Server, err = server(auth, 1812); err != nil {
		return err
	}
	if rc.AcctServer, err = server(acct, 1813); err != nil {
		return err
	}
	if len(rc.Server) == 0 {
		return fmt.Errorf("%s: no authserver", path)
	}
	rc.from = path
	return nil
}

// readRadcliServers reads radcli's servers file: "host secret" a line.
func readRadcliServers(path string, open func(string) (io.ReadCloser, error)) (map[string]secret, error) {
	f, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("radius servers file: %w", err)
	}
	defer f.Close()
	out := map[string]secret{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		if len(fs) < 2 {
			return nil, fmt.Errorf("%s:%d: want host and secret", path, line)
		}
		host, _, _ := strings.Cut(fs[0], ":")
		out[host] = secret(fs[1])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return out, nil
}
