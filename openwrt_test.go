// OpenWrt packaging tests. TestOpenWrtInit runs init.d/pppoed's
// start_service and service_triggers under test/openwrt/run.sh, whose stubs
// stand in for rc.common, UCI, network.sh and procd and log every call;
// the log is folded back into procd instances and compared with the exact
// command line each sample config must give. TestOpenWrtFirewallDefaults
// runs the uci-defaults script against a fake uci, TestOpenWrtShellcheck
// lints every shell file we ship or test with, TestOpenWrtFeedMakefile
// evaluates the feed Makefile against a stub buildroot, and TestIPK packs a
// dummy binary with test/ipk.sh and takes the result apart.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	owInit     = "init.d/pppoed"
	owRunner   = "test/openwrt/run.sh"
	owConfig   = "openwrt/files/pppoed.config"
	owDefaults = "openwrt/files/pppoed.uci-defaults"
	owIPK      = "test/ipk.sh"
)

// owShells are the shells the init script must work under: /bin/sh, which
// is dash on Debian, and busybox ash, which runs it on OpenWrt.
func owShells(t *testing.T) map[string][]string {
	t.Helper()
	shells := map[string][]string{"sh": {"/bin/sh"}}
	if bb, err := exec.LookPath("busybox"); err == nil {
		shells["busybox-ash"] = []string{bb, "sh"}
	}
	return shells
}

// owInstance is one procd instance as the stub log describes it.
type owInstance struct {
	name    string
	command []string
	files   []string
	netdev  []string
}

// owResult is what one run of start_service and service_triggers asked of
// procd, folded from the stub log.
type owResult struct {
	instances  []owInstance
	reload     [][]string // procd_add_reload_trigger arguments
	interfaces [][]string // procd_add_interface_trigger arguments
	logs       []string   // logger messages
}

// owRun runs the init script under shell with config as /etc/config/pppoed
// and networks as $STUB_NETWORKS, and returns the folded log. Anything the
// shell prints is a failure: a missing function or a syntax error shows up
// there and nowhere else.
func owRun(t *testing.T, shell []string, config, networks string) owResult {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pppoed"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "log")
	args := append(slices.Clone(shell[1:]), owRunner, owInit)
	cmd := exec.Command(shell[0], args...)
	cmd.Env = append(os.Environ(), "UCI_CONFIG_DIR="+dir, "STUB_LOG="+logPath, "STUB_NETWORKS="+networks)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("%s %s: %v\n%s", strings.Join(shell, " "), owRunner, err, out)
	}
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	return owFold(t, string(raw))
}

// owFold turns the stub log into instances and triggers, and checks the
// shape procd needs: instances only inside the service, triggers only
// inside the trigger list, and every instance respawned with its output
// going to logd.
func owFold(t *testing.T, log string) owResult {
	t.Helper()
	var (
		r                       owResult
		cur                     *owInstance
		inService, inTriggers   bool
		respawn, stdout, stderr bool
	)
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		f := strings.Split(line, "\x1f")
		call, args := f[0], f[1:]
		inInstance := cur != nil
		switch call {
		case "procd_open_service":
			inService = true
		case "procd_close_service":
			inService = false
		case "procd_open_trigger":
			inTriggers = true
		case "procd_close_trigger":
			inTriggers = false
		case "procd_open_instance":
			if !inService || inInstance {
				t.Fatalf("procd_open_instance outside a service or inside an instance:\n%s", log)
			}
			cur = &owInstance{name: strings.Join(args, " ")}
			respawn, stdout, stderr = false, false, false
		case "procd_close_instance":
			if !inInstance {
				t.Fatalf("procd_close_instance without an instance:\n%s", log)
			}
			if !respawn || !stdout || !stderr {
				t.Errorf("instance %q: respawn %v, stdout %v, stderr %v; want all set", cur.name, respawn, stdout, stderr)
			}
			r.instances = append(r.instances, *cur)
			cur = nil
		case "procd_set_param", "procd_append_param":
			if !inInstance {
				t.Fatalf("%s outside an instance:\n%s", call, log)
			}
			// procd_append_param on a param not set yet sets it (procd.sh).
			set := call == "procd_set_param"
			switch p, vals := args[0], args[1:]; p {
			case "command":
				cur.command = owParam(set, cur.command, vals)
			case "file":
				cur.files = owParam(set, cur.files, vals)
			case "netdev":
				cur.netdev = owParam(set, cur.netdev, vals)
			case "respawn":
				respawn = true
			case "stdout":
				stdout = slices.Equal(vals, []string{"1"})
			case "stderr":
				stderr = slices.Equal(vals, []string{"1"})
			default:
				t.Errorf("unexpected procd param %q", p)
			}
		case "procd_add_reload_trigger", "procd_add_interface_trigger":
			if !inTriggers {
				t.Fatalf("%s outside service_triggers:\n%s", call, log)
			}
			if call == "procd_add_reload_trigger" {
				r.reload = append(r.reload, args)
			} else {
				r.interfaces = append(r.interfaces, args)
			}
		case "logger":
			r.logs = append(r.logs, args[len(args)-1])
		}
	}
	if cur != nil {
		t.Fatalf("instance %q never closed", cur.name)
	}
	return r
}

func owParam(set bool, have, vals []string) []string {
	if set {
		return slices.Clone(vals)
	}
	return append(have, vals...)
}

func owCommand(args ...string) []string { return append([]string{"/usr/sbin/pppoed"}, args...) }

// owFiles is the procd file list for a section that sets none of
// chap_secrets, pap_secrets and optionsfile.
var owFiles = []string{"/etc/config/pppoed", "/etc/ppp/chap-secrets", "/etc/ppp/pap-secrets", "/etc/ppp/pppoe-server-options"}

func owTrigger(network string) []string {
	return []string{"interface.*", network, "/etc/init.d/pppoed", "reload"}
}

// owShipped returns the shipped default config, with interface set to
// iface when it is not empty.
func owShipped(t *testing.T, iface string) string {
	t.Helper()
	b, err := os.ReadFile(owConfig)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if iface != "" {
		const commented = "\t#option interface 'lan'\n"
		if !strings.Contains(s, commented) {
			t.Fatalf("%s has no line %q", owConfig, commented)
		}
		s = strings.Replace(s, commented, "\toption interface '"+iface+"'\n", 1)
	}
	return s
}

// rpPPPoESample is rp-pppoe-server's sample /etc/config/pppoe
// (openwrt/packages net/rp-pppoe/files/pppoe.config) with its pppoe_server
// section uncommented and its type changed to pppoed. It spells
// firsremoteip and randomsessions, two names rp-pppoe's own init script
// never read (it reads firstremoteip and randomsession). Its mss 1468 is
// refused by pppoed (536..1460) as by rp-pppoe's pppoe (at most 1452), but
// the init script passes values through for pppoed to check.
const rpPPPoESample = `config pppoed
	option interface eth1
	option ac_name access-concentrator-name
	list service_name service-name1
	list service_name service-name2
	option maxsessionsperpeer 0
	option localip 192.168.2.1
	option firsremoteip 192.168.2.2
	option maxsessions 64
	option optionsfile /etc/ppp/pppoe-server-options
	option randomsessions 1
	option unit 0
	option offset 0
	option timeout 60
	option mss 1468
	option sync 0

config pppoe_relay
	list server_interface eth1
	list client_interface eth0
	option maxsessions 64
`

func TestOpenWrtInit(t *testing.T) {
	const nets = "lan=br-lan:br-lan wan=eth0.2:pppoe-wan guest=br-guest:"
	tests := []struct {
		name       string
		config     string
		want       []owInstance
		interfaces [][]string
		logs       []string
		pppoedErr  string // what pppoed's validation says of the command line
	}{
		{
			name:   "shipped config starts nothing until an interface is set",
			config: owShipped(t, ""),
			logs:   []string{"section 'main': no interface set, not started"},
		},
		{
			name:   "shipped config with interface lan",
			config: owShipped(t, "lan"),
			want: []owInstance{{
				name:    "main",
				command: owCommand("-I", "br-lan", "--chap-secrets", "/etc/ppp/pppoed-chap-secrets"),
				files:   []string{"/etc/config/pppoed", "/etc/ppp/pppoed-chap-secrets", "/etc/ppp/pap-secrets", "/etc/ppp/pppoe-server-options"},
				netdev:  []string{"br-lan"},
			}},
			interfaces: [][]string{owTrigger("lan")},
		},
		{
			name:   "rp-pppoe-server sample config",
			config: rpPPPoESample,
			want: []owInstance{{
				name: "cfg1",
				command: owCommand("-I", "eth1", "-C", "access-concentrator-name",
					"-S", "service-name1", "-S", "service-name2",
					"-L", "192.168.2.1", "-R", "192.168.2.2", "-N", "64", "-x", "0", "-r",
					"-o", "0", "-T", "60", "-m", "1468", "-O", "/etc/ppp/pppoe-server-options"),
				files:  owFiles,
				netdev: []string{"eth1"},
			}},
			pppoedErr: "-m/mss: 1468 is outside 536..1460",
		},
		{
			name: "rp-pppoe init script's names randomsession and firstremoteip",
			config: `config pppoed 'rp'
	option interface 'eth1'
	option firstremoteip '10.9.0.2'
	option firsremoteip '10.8.0.2'
	option randomsession '1'
	option unit '1'
`,
			want: []owInstance{{
				name:    "rp",
				command: owCommand("-I", "eth1", "-R", "10.9.0.2", "-r", "-u"),
				files:   owFiles,
				netdev:  []string{"eth1"},
			}},
		},
		{
			name: "random session IDs off in both spellings",
			config: `config pppoed 'rp'
	option interface 'eth1'
	option randomsession 'off'
	option randomsessions 'no'
	option unit 'false'
`,
			want: []owInstance{{name: "rp", command: owCommand("-I", "eth1"), files: owFiles, netdev: []string{"eth1"}}},
		},
		{
			name: "two sections, one disabled",
			config: `config pppoed 'office'
	option enabled '1'
	option interface 'lan'
	option localip '10.0.0.1'
	option firstremoteip '10.0.0.2'
	option maxsessions '32'

config pppoed 'lab'
	option enabled '0'
	option interface 'eth3'
	option nat_out 'wan'
`,
			want: []owInstance{{
				name:    "office",
				command: owCommand("-I", "br-lan", "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "32"),
				files:   owFiles,
				netdev:  []string{"br-lan"},
			}},
			interfaces: [][]string{owTrigger("lan")},
		},
		{
			name: "logical networks: layer 2 device to serve, layer 3 device to NAT out of",
			config: `config pppoed 'isp'
	option interface 'lan'
	option nat_out 'wan'
`,
			want: []owInstance{{
				name:    "isp",
				command: owCommand("-I", "br-lan", "--nat-out", "pppoe-wan"),
				files:   owFiles,
				netdev:  []string{"br-lan"},
			}},
			interfaces: [][]string{owTrigger("lan"), owTrigger("wan")},
		},
		{
			name: "a network that is down still has its device",
			config: `config pppoed 'g'
	option interface 'guest'
`,
			want:       []owInstance{{name: "g", command: owCommand("-I", "br-guest"), files: owFiles, netdev: []string{"br-guest"}}},
			interfaces: [][]string{owTrigger("guest")},
		},
		{
			name: "every pppoed option, lists and values with spaces",
			config: `config pppoed 'full'
	list interface 'lan'
	list interface 'eth3'
	option ac_name 'ISP "one" it'\''s'
	list service_name 'internet'
	list service_name 'gold plan'
	option localip '10.0.0.1'
	option firstremoteip '10.0.0.2'
	option maxsessions '100'
	option maxsessionsperpeer '2'
	option randomsession '1'
	option offset '100'
	option timeout '600'
	option mss '1412'
	option unit '1'
	option optionsfile '/etc/ppp/pppoed-options'
	option mode 'tun'
	list auth 'mschapv2'
	list auth 'pap'
	list dns '192.0.2.53'
	list dns '192.0.2.54'
	option ipv6_prefix_pool '2001:db8:100::/56'
	option ipv6_delegated_pool '2001:db8:200::/48'
	option ipv6_delegated_length '56'
	list ipv6_dns '2001:db8::53'
	list ipv6_dns '2001:db8::54'
	option lcp_echo_interval '10'
	option lcp_echo_failure '4'
	option chap_secrets '/etc/ppp/pppoed-chap-secrets'
	option pap_secrets '/etc/ppp/pppoed-pap-secrets'
	option max_starting '32'
	option setup_timeout '20'
	option iface_wait '60'
	option auth_fail_delay '3'
	option auth_lockout_failures '5'
	option auth_lockout_window '120'
	option auth_lockout_cooldown '600'
	option strict '1'
	option nat_out 'eth0'
`,
			want: []owInstance{{
				name: "full",
				command: owCommand("-I", "br-lan", "-I", "eth3", "-C", `ISP "one" it's`,
					"-S", "internet", "-S", "gold plan",
					"-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "100", "-x", "2", "-r",
					"-o", "100", "-T", "600", "-m", "1412", "-u", "-O", "/etc/ppp/pppoed-options",
					"--tun", "--auth", "mschapv2", "--auth", "pap", "--dns", "192.0.2.53", "--dns", "192.0.2.54",
					"--ipv6-prefix-pool", "2001:db8:100::/56", "--ipv6-delegated-pool", "2001:db8:200::/48",
					"--ipv6-delegated-length", "56", "--ipv6-dns", "2001:db8::53", "--ipv6-dns", "2001:db8::54",
					"--lcp-echo-interval", "10", "--lcp-echo-failure", "4",
					"--chap-secrets", "/etc/ppp/pppoed-chap-secrets", "--pap-secrets", "/etc/ppp/pppoed-pap-secrets",
					"--max-starting", "32", "--setup-timeout", "20", "--iface-wait", "60",
					"--auth-fail-delay", "3", "--auth-lockout-failures", "5", "--auth-lockout-window", "120",
					"--auth-lockout-cooldown", "600", "--strict",
					"--nat-out", "eth0"),
				files:  []string{"/etc/config/pppoed", "/etc/ppp/pppoed-chap-secrets", "/etc/ppp/pppoed-pap-secrets", "/etc/ppp/pppoed-options"},
				netdev: []string{"br-lan", "eth3"},
			}},
			interfaces: [][]string{owTrigger("lan")},
		},
		{
			name: "single-value auth and service_name written as options",
			config: `config pppoed 'o'
	option interface 'eth1'
	option auth 'none'
	option service_name 'any thing'
	option mode 'kernel'
`,
			want: []owInstance{{name: "o", command: owCommand("-I", "eth1", "-S", "any thing", "-k", "--auth", "none"), files: owFiles, netdev: []string{"eth1"}}},
		},
		{
			name: "IPv6 with a single DNS server written as an option, routed out of wan",
			config: `config pppoed 'v6'
	option interface 'lan'
	option ipv6_prefix_pool '2001:db8:100::/56'
	option ipv6_delegated_pool '2001:db8:200::/48'
	option ipv6_delegated_length '60'
	option ipv6_dns '2001:db8::53'
	option ipv6_ia_na '0'
	option nat_out 'wan'
`,
			want: []owInstance{{
				name: "v6",
				command: owCommand("-I", "br-lan", "--ipv6-prefix-pool", "2001:db8:100::/56", "--ipv6-delegated-pool", "2001:db8:200::/48",
					"--ipv6-delegated-length", "60", "--ipv6-dns", "2001:db8::53", "--ipv6-ia-na=false", "--nat-out", "pppoe-wan"),
				files:  owFiles,
				netdev: []string{"br-lan"},
			}},
			interfaces: [][]string{owTrigger("lan"), owTrigger("wan")},
		},
		{
			name: "mode auto adds nothing, an unknown mode is refused",
			config: `config pppoed 'a'
	option interface 'eth1'
	option mode 'auto'

config pppoed 'b'
	option interface 'eth2'
	option mode 'turbo'
`,
			want: []owInstance{{name: "a", command: owCommand("-I", "eth1"), files: owFiles, netdev: []string{"eth1"}}},
			logs: []string{"section 'b': mode 'turbo' is not auto, kernel or tun; not started"},
		},
		{
			name: "two sections on one network get one trigger",
			config: `config pppoed 'a'
	option interface 'lan'
	option service_name 'a'

config pppoed 'b'
	option interface 'lan'
	option service_name 'b'
	option offset '1000'
`,
			want: []owInstance{
				{name: "a", command: owCommand("-I", "br-lan", "-S", "a"), files: owFiles, netdev: []string{"br-lan"}},
				{name: "b", command: owCommand("-I", "br-lan", "-S", "b", "-o", "1000"), files: owFiles, netdev: []string{"br-lan"}},
			},
			interfaces: [][]string{owTrigger("lan")},
		},
		{
			name:   "empty config",
			config: "",
		},
	}

	// Every section but main gets a control socket of its own, last.
	for i := range tests {
		for j := range tests[i].want {
			if w := &tests[i].want[j]; w.name != "main" {
				w.command = append(w.command, "--ctl-socket", "/var/run/pppoed/"+w.name+".sock")
			}
		}
	}

	// Every command line the init script builds must get past pppoed's
	// own flag parser and validation, so a renamed flag fails here and not
	// on a router. -O files are swapped for an empty one: validation reads
	// them.
	t.Run("pppoed accepts each command line", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "options")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			for _, in := range tt.want {
				args := slices.Clone(in.command[1:])
				for i := range args {
					if i > 0 && args[i-1] == "-O" {
						args[i] = empty
					}
				}
				cfg, err := parseArgs(args)
				if err == nil {
					err = cfg.validate()
				}
				var got string
				if err != nil {
					got = err.Error()
				}
				if got != tt.pppoedErr {
					t.Errorf("%s: pppoed %q: error %q, want %q", tt.name, args, got, tt.pppoedErr)
				}
			}
		}
	})
	t.Run("sh -n", func(t *testing.T) {
		for name, sh := range owShells(t) {
			args := append(slices.Clone(sh[1:]), "-n", owInit)
			if out, err := exec.Command(sh[0], args...).CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("%s -n %s: %v\n%s", name, owInit, err, out)
			}
		}
	})
	shells := owShells(t)
	for _, shName := range []string{"sh", "busybox-ash"} {
		t.Run(shName, func(t *testing.T) {
			sh, ok := shells[shName]
			if !ok {
				skipf(t, "busybox is not installed (apt-get install busybox): OpenWrt's shell is busybox ash")
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got := owRun(t, sh, tt.config, nets)
					if !reflect.DeepEqual(got.instances, tt.want) {
						t.Errorf("instances (-want +got):\n-%s\n+%s", owFormat(tt.want), owFormat(got.instances))
					}
					if want := [][]string{{"pppoed"}}; !reflect.DeepEqual(got.reload, want) {
						t.Errorf("reload triggers = %q, want %q", got.reload, want)
					}
					if !reflect.DeepEqual(got.interfaces, tt.interfaces) {
						t.Errorf("interface triggers = %q, want %q", got.interfaces, tt.interfaces)
					}
					if !reflect.DeepEqual(got.logs, tt.logs) {
						t.Errorf("log = %q, want %q", got.logs, tt.logs)
					}
				})
			}
		})
	}
}

func owFormat(is []owInstance) string {
	var b strings.Builder
	for _, i := range is {
		fmt.Fprintf(&b, "\n  %s: command %q\n    file %q\n    netdev %q", i.name, i.command, i.files, i.netdev)
	}
	return b.String()
}

// owFirewallDefault is `uci show firewall` on a fresh OpenWrt, cut down to
// what the uci-defaults script looks at.
const owFirewallDefault = `firewall.@defaults[0]=defaults
firewall.@defaults[0].input='REJECT'
firewall.@zone[0]=zone
firewall.@zone[0].name='lan'
firewall.@zone[0].network='lan'
firewall.@zone[1]=zone
firewall.@zone[1].name='wan'
firewall.@zone[1].network='wan' 'wan6'
firewall.@zone[1].masq='1'
firewall.@forwarding[0]=forwarding
firewall.@forwarding[0].src='lan'
firewall.@forwarding[0].dest='wan'
`

// TestOpenWrtFirewallDefaults: the zone for ppp+ and its forwarding to
// wan, with no family, so that fw4 applies it to IPv6 as well, and the two
// IPv6 input rules; a zone of an earlier version gets the rules it lacks.
func TestOpenWrtFirewallDefaults(t *testing.T) {
	const zone = `set firewall.pppoed=zone
set firewall.pppoed.name='pppoed'
add_list firewall.pppoed.device='ppp+'
set firewall.pppoed.input='REJECT'
set firewall.pppoed.output='ACCEPT'
set firewall.pppoed.forward='REJECT'
set firewall.pppoed_wan=forwarding
set firewall.pppoed_wan.src='pppoed'
set firewall.pppoed_wan.dest='wan'
`
	const icmpv6 = `set firewall.pppoed_icmpv6=rule
set firewall.pppoed_icmpv6.name='Allow-pppoed-ICMPv6-Input'
set firewall.pppoed_icmpv6.src='pppoed'
set firewall.pppoed_icmpv6.proto='icmp'
add_list firewall.pppoed_icmpv6.icmp_type='echo-request'
add_list firewall.pppoed_icmpv6.icmp_type='echo-reply'
add_list firewall.pppoed_icmpv6.icmp_type='destination-unreachable'
add_list firewall.pppoed_icmpv6.icmp_type='packet-too-big'
add_list firewall.pppoed_icmpv6.icmp_type='time-exceeded'
add_list firewall.pppoed_icmpv6.icmp_type='bad-header'
add_list firewall.pppoed_icmpv6.icmp_type='unknown-header-type'
add_list firewall.pppoed_icmpv6.icmp_type='router-solicitation'
add_list firewall.pppoed_icmpv6.icmp_type='neighbour-solicitation'
add_list firewall.pppoed_icmpv6.icmp_type='neighbour-advertisement'
set firewall.pppoed_icmpv6.limit='1000/sec'
set firewall.pppoed_icmpv6.family='ipv6'
set firewall.pppoed_icmpv6.target='ACCEPT'
`
	const dhcpv6 = `set firewall.pppoed_dhcpv6=rule
set firewall.pppoed_dhcpv6.name='Allow-pppoed-DHCPv6'
set firewall.pppoed_dhcpv6.src='pppoed'
set firewall.pppoed_dhcpv6.proto='udp'
set firewall.pppoed_dhcpv6.dest_port='547'
set firewall.pppoed_dhcpv6.family='ipv6'
set firewall.pppoed_dhcpv6.target='ACCEPT'
`
	const commit = "commit firewall\n"
	const ours = "firewall.pppoed=zone\nfirewall.pppoed.name='pppoed'\nfirewall.pppoed.device='ppp+'\n"
	const rules = "firewall.pppoed_icmpv6=rule\nfirewall.pppoed_icmpv6.src='pppoed'\nfirewall.pppoed_dhcpv6=rule\nfirewall.pppoed_dhcpv6.src='pppoed'\n"
	tests := []struct {
		name string
		show string // "" for no firewall config at all
		want string // what reaches uci batch
	}{
		{name: "fresh firewall gets the zone and the IPv6 rules", show: owFirewallDefault, want: zone + icmpv6 + dhcpv6 + commit},
		{name: "no firewall package", show: "", want: ""},
		{name: "second run finds its own zone and rules", show: owFirewallDefault + ours + rules},
		{name: "an earlier version's zone gets the IPv6 rules", show: owFirewallDefault + ours, want: icmpv6 + dhcpv6 + commit},
		{
			name: "a rule removed comes back",
			show: owFirewallDefault + ours + "firewall.pppoed_icmpv6=rule\nfirewall.pppoed_icmpv6.src='pppoed'\n",
			want: dhcpv6 + commit,
		},
		{
			name: "a section pppoed that is not a zone",
			show: owFirewallDefault + "firewall.pppoed=rule\nfirewall.pppoed.name='pppoed'\n",
		},
		{
			name: "a user's zone named pppoed",
			show: owFirewallDefault + "firewall.@zone[2]=zone\nfirewall.@zone[2].name='pppoed'\nfirewall.@zone[2].network='pppoe'\n",
		},
		{
			name: "a user's zone covering ppp+",
			show: owFirewallDefault + "firewall.@zone[2]=zone\nfirewall.@zone[2].name='subs'\nfirewall.@zone[2].device='tun+' 'ppp+'\n",
		},
		{
			name: "a zone with another ppp device is not ours",
			show: owFirewallDefault + "firewall.@zone[2]=zone\nfirewall.@zone[2].name='vpn'\nfirewall.@zone[2].device='ppp0'\n",
			want: zone + icmpv6 + dhcpv6 + commit,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			show := filepath.Join(dir, "show")
			if tt.show != "" {
				if err := os.WriteFile(show, []byte(tt.show), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			logPath := filepath.Join(dir, "log")
			stubs, err := filepath.Abs("test/openwrt")
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("/bin/sh", owDefaults)
			cmd.Env = append(os.Environ(), "PATH="+stubs+":"+os.Getenv("PATH"), "STUB_UCI_SHOW="+show, "STUB_LOG="+logPath)
			if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
				t.Fatalf("%s: %v\n%s", owDefaults, err, out)
			}
			got, err := os.ReadFile(logPath)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("uci batch got (-want +got):\n-%s\n+%s", tt.want, got)
			}
			// fw4 applies a zone without a family to IPv4 and IPv6.
			if strings.Contains(string(got), "firewall.pppoed.family") || strings.Contains(string(got), "firewall.pppoed_wan.family") {
				t.Errorf("the zone or its forwarding is limited to one family:\n%s", got)
			}
		})
	}
}

// owShellFiles are every shell script we ship or test with.
var owShellFiles = []string{
	owInit,
	owDefaults,
	"openwrt/files/pppoed.postinst",
	"openwrt/files/pppoed.prerm",
	"openwrt/files/pppoed.rpcd",
	owIPK,
	owRunner,
	"test/openwrt/stubs.sh",
	"test/openwrt/uci",
}

func TestOpenWrtShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		skipf(t, "shellcheck is not installed (apt-get install shellcheck)")
	}
	// -x follows the sourced stubs; each file names its shell.
	out, err := exec.Command(sc, append([]string{"-x"}, owShellFiles...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// TestOpenWrtFeedMakefile evaluates openwrt/Makefile in a stub buildroot
// where it is reached through a symlink, as package/pppoed or a feed would
// reach it, and checks that the version comes from VERSION, that the
// conffiles are the ones test/ipk.sh ships and that the packages the
// top-level Makefile compiles without inlining are the same.
func TestOpenWrtFeedMakefile(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		skipf(t, "make is not installed")
	}
	top := t.TempDir()
	for path, body := range map[string]string{
		"rules.mk":           "",
		"include/package.mk": "BuildPackage = $(info conffiles=$(strip $(Package/$(1)/conffiles)))\n",
		"feeds/packages/lang/golang/golang-package.mk": "GoBinPackage =\nGO_ARCH_DEPENDS = @(mipsel||x86_64)\n" +
			"GO_PKG_DEFAULT_GCFLAGS = -spectre all\nGoPackage/Build/Compile = go install $(1)\n",
	} {
		p := filepath.Join(top, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(top, "package"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(top, "package", "pppoed")
	if err := os.Symlink(filepath.Join(repo, "openwrt"), link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(mk, "-s", "-C", link, "TOPDIR="+top, "INCLUDE_DIR="+filepath.Join(top, "include"),
		"--eval", "show: ; @echo version=$(PKG_VERSION) src=$(PPPOED_SRC) ldflags=$(GO_PKG_LDFLAGS_X) tags=$(GO_PKG_TAGS) bin=$(GO_PKG_INSTALL_BIN_PATH)\n"+
			"\t@echo \"compile=$(strip $(Build/Compile))\"", "show")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	ver, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(string(ver))
	noinline, err := exec.Command(mk, "-s", "--eval", "show: ; @echo $(NOINLINE)", "show").Output()
	if err != nil || len(strings.Fields(string(noinline))) == 0 {
		t.Fatalf("make: NOINLINE = %q, %v", noinline, err)
	}
	var compile []string
	for _, p := range strings.Fields(string(noinline)) {
		compile = append(compile, fmt.Sprintf("-gcflags '%s=-l -spectre all'", p))
	}
	want := fmt.Sprintf("conffiles=/etc/config/pppoed /etc/ppp/pppoed-chap-secrets\nversion=%s src=%s ldflags=main.version=%s tags=noclient bin=/usr/sbin\ncompile=go install %s\n",
		v, repo, v, strings.Join(compile, " "))
	if string(out) != want {
		t.Errorf("make printed (-want +got):\n-%s\n+%s", want, out)
	}
}

// owELF returns the start of an ELF file for the given class (1: 32-bit,
// 2: 64-bit), byte order (1: little, 2: big) and e_machine: all test/ipk.sh
// reads of a binary.
func owELF(class, data byte, machine uint16) []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = class, data, 1
	if data == 1 {
		b[18], b[19] = byte(machine), byte(machine>>8)
	} else {
		b[18], b[19] = byte(machine>>8), byte(machine)
	}
	return append(b, "not really pppoed\n"...)
}

// owEntry is one tar member.
type owEntry struct {
	name string
	mode int64
	typ  byte
	body []byte
}

// owUntar reads a gzip'd tar and checks what every member of an ipk must
// have: GNU format, owner 0:0 by number only, mtime at epoch; and that
// gzip stored no name or time (gzip -n).
func owUntar(t *testing.T, what string, b []byte, epoch int64) []owEntry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("%s: gzip header has name %q, time %v; want neither (gzip -n)", what, zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var es []owEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("%s: %s: %v", what, h.Name, err)
		}
		if h.Format != tar.FormatGNU {
			t.Errorf("%s: %s: format %v, want GNU", what, h.Name, h.Format)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: %s: owner %d:%d (%q:%q), want 0:0 by number", what, h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(time.Unix(epoch, 0)) {
			t.Errorf("%s: %s: mtime %v, want %v", what, h.Name, h.ModTime.Unix(), epoch)
		}
		es = append(es, owEntry{name: h.Name, mode: h.Mode, typ: h.Typeflag, body: body})
	}
	return es
}

func owMember(t *testing.T, es []owEntry, name string) []byte {
	t.Helper()
	for _, e := range es {
		if e.name == name {
			return e.body
		}
	}
	t.Fatalf("no member %s", name)
	return nil
}

func owIPKBuild(t *testing.T, env []string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{owIPK}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

func TestIPK(t *testing.T) {
	for _, tool := range []string{"bash", "tar", "gzip", "pigz", "od"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipf(t, "%s is not installed", tool)
		}
	}
	if out, err := exec.Command("tar", "--version").Output(); err != nil || !bytes.Contains(out, []byte("GNU tar")) {
		skipf(t, "test/ipk.sh needs GNU tar (--sort, --owner)")
	}
	const epoch = 1700000000
	version, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	ver := strings.TrimSpace(string(version))
	arches := []struct {
		arch, goarch string
		class, data  byte
		machine      uint16
	}{
		{"mipsel_24kc", "mipsle", 1, 1, 8},
		{"mips_24kc", "mips", 1, 2, 8},
		{"arm_cortex-a7_neon-vfpv4", "arm", 1, 1, 40},
		{"aarch64_cortex-a53", "arm64", 2, 1, 183},
		{"x86_64", "amd64", 2, 1, 62},
	}
	dir := t.TempDir()
	env := []string{"SOURCE_DATE_EPOCH=" + strconv.Itoa(epoch)}

	for _, a := range arches {
		t.Run(a.arch, func(t *testing.T) {
			out, err := owIPKBuild(t, nil, "--goarch", a.arch)
			if err != nil || string(out) != a.goarch+"\n" {
				t.Errorf("--goarch %s = %q, %v; want %q", a.arch, out, err, a.goarch)
			}
			bin := filepath.Join(dir, "pppoed-"+a.arch)
			if err := os.WriteFile(bin, owELF(a.class, a.data, a.machine), 0o644); err != nil {
				t.Fatal(err)
			}
			outdir := filepath.Join(dir, "out")
			if out, err := owIPKBuild(t, env, a.arch, ver, bin, outdir); err != nil {
				t.Fatalf("ipk.sh: %v\n%s", err, out)
			}
			ipkPath := filepath.Join(outdir, fmt.Sprintf("pppoed_%s_%s.ipk", ver, a.arch))
			ipk, err := os.ReadFile(ipkPath)
			if err != nil {
				t.Fatal(err)
			}
			owCheckIPK(t, ipk, a.arch, ver, bin, epoch)

			// Byte for byte the same from the same inputs.
			if out, err := owIPKBuild(t, env, a.arch, ver, bin, outdir); err != nil {
				t.Fatalf("ipk.sh again: %v\n%s", err, out)
			}
			if again, err := os.ReadFile(ipkPath); err != nil || !bytes.Equal(again, ipk) {
				t.Errorf("a second build differs (%v)", err)
			}
		})
	}

	t.Run("maintainer and license when set", func(t *testing.T) {
		bin := filepath.Join(dir, "pppoed-x86_64")
		if err := os.WriteFile(bin, owELF(2, 1, 62), 0o644); err != nil {
			t.Fatal(err)
		}
		outdir := filepath.Join(dir, "meta")
		e := append(slices.Clone(env), "PPPOED_MAINTAINER=Jo <jo@example.org>", "PPPOED_LICENSE=MIT")
		if out, err := owIPKBuild(t, e, "x86_64", ver, bin, outdir); err != nil {
			t.Fatalf("ipk.sh: %v\n%s", err, out)
		}
		ipk, err := os.ReadFile(filepath.Join(outdir, fmt.Sprintf("pppoed_%s_x86_64.ipk", ver)))
		if err != nil {
			t.Fatal(err)
		}
		outer := owUntar(t, "ipk", ipk, epoch)
		ctl := owUntar(t, "control.tar.gz", owMember(t, outer, "./control.tar.gz"), epoch)
		fields := owControl(t, string(owMember(t, ctl, "./control")))
		if fields["Maintainer"] != "Jo <jo@example.org>" || fields["License"] != "MIT" {
			t.Errorf("control: Maintainer %q, License %q", fields["Maintainer"], fields["License"])
		}
	})

	refusals := []struct {
		name string
		args func(bin string) []string
		elf  []byte
		msg  string
	}{
		{"amd64 binary as mipsel", func(b string) []string { return []string{"mipsel_24kc", ver, b, dir} }, owELF(2, 1, 62), "is not built for mipsel_24kc"},
		{"mipsel binary as mips", func(b string) []string { return []string{"mips_24kc", ver, b, dir} }, owELF(1, 1, 8), "is not built for mips_24kc"},
		{"not an ELF", func(b string) []string { return []string{"x86_64", ver, b, dir} }, []byte("#!/bin/sh\necho hi\n"), "is not an ELF file"},
		{"unknown architecture", func(b string) []string { return []string{"riscv64_generic", ver, b, dir} }, owELF(2, 1, 243), "unknown ARCH"},
		{"bad version", func(b string) []string { return []string{"x86_64", "1 0", b, dir} }, owELF(2, 1, 62), "bad VERSION"},
	}
	for _, tt := range refusals {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "bin")
			if err := os.WriteFile(bin, tt.elf, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := owIPKBuild(t, env, tt.args(bin)...)
			if err == nil || !strings.Contains(string(out), tt.msg) {
				t.Errorf("ipk.sh = %v\n%s\nwant a failure saying %q", err, out, tt.msg)
			}
		})
	}
}

// owControl parses a control file into its fields; a continuation line
// (leading space) belongs to the field before it.
func owControl(t *testing.T, s string) map[string]string {
	t.Helper()
	fields := map[string]string{}
	var last string
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if strings.HasPrefix(line, " ") && last != "" {
			fields[last] += "\n" + line
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("control line %q has no field name", line)
		}
		last = k
		fields[k] = strings.TrimPrefix(v, " ")
	}
	return fields
}

// owCheckIPK takes an ipk apart and checks it against what ipkg-build
// makes and what this package must hold.
func owCheckIPK(t *testing.T, ipk []byte, arch, ver, bin string, epoch int64) {
	t.Helper()
	outer := owUntar(t, "ipk", ipk, epoch)
	var names []string
	for _, e := range outer {
		names = append(names, e.name)
		if e.typ != tar.TypeReg || e.mode != 0o644 {
			t.Errorf("ipk: %s: type %c mode %o, want a 0644 file", e.name, e.typ, e.mode)
		}
	}
	// ipkg-build names the three on tar's command line in this order.
	if want := []string{"./debian-binary", "./data.tar.gz", "./control.tar.gz"}; !slices.Equal(names, want) {
		t.Fatalf("ipk members = %q, want %q", names, want)
	}
	if got := string(owMember(t, outer, "./debian-binary")); got != "2.0\n" {
		t.Errorf("debian-binary = %q, want \"2.0\\n\"", got)
	}

	dataGz := owMember(t, outer, "./data.tar.gz")
	data := owUntar(t, "data.tar.gz", dataGz, epoch)
	type file struct {
		mode int64
		typ  byte
	}
	wantData := map[string]file{
		"./":                            {0o755, tar.TypeDir},
		"./etc/":                        {0o755, tar.TypeDir},
		"./etc/config/":                 {0o755, tar.TypeDir},
		"./etc/config/pppoed":           {0o600, tar.TypeReg},
		"./etc/init.d/":                 {0o755, tar.TypeDir},
		"./etc/init.d/pppoed":           {0o755, tar.TypeReg},
		"./etc/ppp/":                    {0o755, tar.TypeDir},
		"./etc/ppp/pppoed-chap-secrets": {0o600, tar.TypeReg},
		"./etc/uci-defaults/":           {0o755, tar.TypeDir},
		"./etc/uci-defaults/50-pppoed":  {0o644, tar.TypeReg},
		"./usr/":                        {0o755, tar.TypeDir},
		"./usr/sbin/":                   {0o755, tar.TypeDir},
		"./usr/sbin/pppoed":             {0o755, tar.TypeReg},
		"./usr/libexec/":                {0o755, tar.TypeDir},
		"./usr/libexec/rpcd/":           {0o755, tar.TypeDir},
		"./usr/libexec/rpcd/pppoed":     {0o755, tar.TypeReg},
	}
	var dataNames []string
	for _, e := range data {
		dataNames = append(dataNames, e.name)
		w, ok := wantData[e.name]
		if !ok {
			t.Errorf("data: unexpected %s", e.name)
			continue
		}
		if e.mode != w.mode || e.typ != w.typ {
			t.Errorf("data: %s: type %c mode %04o, want %c %04o", e.name, e.typ, e.mode, w.typ, w.mode)
		}
	}
	if len(dataNames) != len(wantData) || !slices.IsSorted(dataNames) {
		t.Errorf("data members = %q, want the %d above, sorted by name", dataNames, len(wantData))
	}
	for member, src := range map[string]string{
		"./usr/sbin/pppoed":             bin,
		"./etc/init.d/pppoed":           owInit,
		"./etc/config/pppoed":           owConfig,
		"./etc/ppp/pppoed-chap-secrets": "openwrt/files/pppoed-chap-secrets",
		"./etc/uci-defaults/50-pppoed":  owDefaults,
		"./usr/libexec/rpcd/pppoed":     "openwrt/files/pppoed.rpcd",
	} {
		want, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(owMember(t, data, member), want) {
			t.Errorf("data: %s differs from %s", member, src)
		}
	}

	ctl := owUntar(t, "control.tar.gz", owMember(t, outer, "./control.tar.gz"), epoch)
	var ctlNames []string
	for _, e := range ctl {
		ctlNames = append(ctlNames, fmt.Sprintf("%s %04o", e.name, e.mode))
	}
	if want := []string{"./ 0755", "./conffiles 0644", "./control 0644", "./postinst 0755", "./prerm 0755"}; !slices.Equal(ctlNames, want) {
		t.Errorf("control members = %q, want %q", ctlNames, want)
	}
	if got, want := string(owMember(t, ctl, "./conffiles")), "/etc/config/pppoed\n/etc/ppp/pppoed-chap-secrets\n"; got != want {
		t.Errorf("conffiles = %q, want %q", got, want)
	}

	zr, err := gzip.NewReader(bytes.NewReader(dataGz))
	if err != nil {
		t.Fatal(err)
	}
	dataTar, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	fields := owControl(t, string(owMember(t, ctl, "./control")))
	want := map[string]string{
		"Package":         "pppoed",
		"Version":         ver,
		"Depends":         "kmod-pppoe, kmod-tun",
		"Source":          "pppoed",
		"SourceName":      "pppoed",
		"Section":         "net",
		"SourceDateEpoch": strconv.FormatInt(epoch, 10),
		"Architecture":    arch,
		// ipkg-build: installed_size=$(zcat < data.tar.gz | wc -c)
		"Installed-Size": strconv.Itoa(len(dataTar)),
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("control %s = %q, want %q", k, fields[k], v)
		}
	}
	if !strings.Contains(fields["Description"], "PPPoE access concentrator") {
		t.Errorf("control Description = %q", fields["Description"])
	}
	for _, k := range []string{"Maintainer", "License"} {
		if _, ok := fields[k]; ok {
			t.Errorf("control has %s without PPPOED_%s set", k, strings.ToUpper(k))
		}
	}

	postinst := string(owMember(t, ctl, "./postinst"))
	prerm := string(owMember(t, ctl, "./prerm"))
	for _, s := range []struct{ file, body, want string }{
		{"postinst", postinst, "/etc/init.d/pppoed enable"},
		{"postinst", postinst, "/etc/init.d/pppoed start"},
		{"postinst", postinst, "/etc/uci-defaults/50-pppoed"},
		{"prerm", prerm, "/etc/init.d/pppoed stop"},
		{"prerm", prerm, "/etc/init.d/pppoed disable"},
	} {
		if !strings.Contains(s.body, s.want) {
			t.Errorf("%s does not run %q", s.file, s.want)
		}
	}
	owCheckInstroot(t, "postinst", postinst, "enable")
	owCheckInstroot(t, "prerm", prerm, "disable")
}

// owCheckInstroot runs a maintainer script as opkg does while an image is
// built (IPKG_INSTROOT set): it must only call the root's rc.common with
// the root's init script, like default_postinst and default_prerm do, and
// touch nothing of the build host.
func owCheckInstroot(t *testing.T, name, body, action string) {
	t.Helper()
	root := t.TempDir()
	logPath := filepath.Join(root, "calls")
	if err := os.MkdirAll(filepath.Join(root, "etc", "init.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	rc := "#!/bin/sh\nprintf '%s\\n' \"$*\" >>" + logPath + "\n"
	if err := os.WriteFile(filepath.Join(root, "etc", "rc.common"), []byte(rc), 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, name)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", script)
	cmd.Env = append(os.Environ(), "IPKG_INSTROOT="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s with IPKG_INSTROOT: %v\n%s", name, err, out)
	}
	got, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("%s with IPKG_INSTROOT did not call rc.common: %v", name, err)
	}
	if want := filepath.Join(root, "etc", "init.d", "pppoed") + " " + action + "\n"; string(got) != want {
		t.Errorf("%s with IPKG_INSTROOT ran rc.common %q, want %q", name, got, want)
	}
}
