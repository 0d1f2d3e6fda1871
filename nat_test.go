package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func testNAT(ipv6 ...string) *nat {
	n := &nat{
		cfg:      natConfig{WAN: "eth1"},
		prefixes: []netip.Prefix{netip.MustParsePrefix("10.67.15.0/26")},
		mss:      1452,
	}
	for _, p := range ipv6 {
		n.cfg.ipv6 = append(n.cfg.ipv6, netip.MustParsePrefix(p))
	}
	return n
}

// TestNATRulesetIPv6: with IPv6, the private table gets IPv6 MSS clamping
// (MTU − 60) and forward accepts in its forward chain, and no IPv6
// masquerade; without, nothing of IPv6. In kernel mode (sessionIfaces) a
// prerouting chain checks the sources on the session interfaces, for both
// IP versions, unless the check is left out (rpf false: nft refused it).
func TestNATRulesetIPv6(t *testing.T) {
	const v4 = `table inet pppoed {}
delete table inet pppoed
table inet pppoed {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth1" ip saddr { 10.67.15.0/26 } masquerade
	}
	chain forward {
		type filter hook forward priority mangle; policy accept;
		ip saddr { 10.67.15.0/26 } tcp flags & (syn | rst) == syn tcp option maxseg size > 1452 tcp option maxseg size set 1452
		ip daddr { 10.67.15.0/26 } tcp flags & (syn | rst) == syn tcp option maxseg size > 1452 tcp option maxseg size set 1452
`
	const v6 = `		ip6 saddr { 2001:db8:100::/56, 2001:db8:200::/48 } tcp flags & (syn | rst) == syn tcp option maxseg size > 1432 tcp option maxseg size set 1432
		ip6 daddr { 2001:db8:100::/56, 2001:db8:200::/48 } tcp flags & (syn | rst) == syn tcp option maxseg size > 1432 tcp option maxseg size set 1432
		oifname "eth1" ip6 saddr { 2001:db8:100::/56, 2001:db8:200::/48 } accept
		iifname "eth1" ip6 daddr { 2001:db8:100::/56, 2001:db8:200::/48 } ct state established,related accept
`
	const rpf = `	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		iifname "ppp*" iifname != "pppoe-*" iifname != "eth1" fib saddr . iif oif missing counter drop
	}
`
	const fwdEnd, end = "\t}\n", "}\n"
	kernel := func(n *nat) *nat { n.cfg.sessionIfaces = kernelSessionIfaces; return n }
	for _, tt := range []struct {
		name string
		n    *nat
		rpf  bool
		want string
	}{
		{"IPv4 only", testNAT(), true, v4 + fwdEnd + end},
		{"with IPv6", testNAT("2001:db8:100::/56", "2001:db8:200::/48"), true, v4 + v6 + fwdEnd + end},
		{"kernel mode", kernel(testNAT()), true, v4 + fwdEnd + rpf + end},
		{"kernel mode with IPv6", kernel(testNAT("2001:db8:100::/56", "2001:db8:200::/48")), true, v4 + v6 + fwdEnd + rpf + end},
		{"kernel mode, check refused", kernel(testNAT()), false, v4 + fwdEnd + end},
	} {
		if got := string(tt.n.nftRuleset(tt.rpf)); got != tt.want {
			t.Errorf("%s (-want +got):\n-%s\n+%s", tt.name, tt.want, got)
		}
	}
}

// TestNATRPFRules: the iptables and ip6tables reverse-path chain skips the
// WAN and OpenWrt's pppoe-* uplinks, both of which ppp+ matches.
func TestNATRPFRules(t *testing.T) {
	n := testNAT()
	n.cfg.WAN, n.cfg.sessionIfaces = "pppoe-wan", kernelSessionIfaces
	want := map[string][][]string{"raw": {
		{"-i", "pppoe-wan", "-j", "RETURN"},
		{"-i", "pppoe-+", "-j", "RETURN"},
		{"-i", "ppp+", "-m", "rpfilter", "--invert", "-j", "DROP"},
	}}
	if got := n.rpfRules(); !reflect.DeepEqual(got, want) {
		t.Errorf("rpfRules:\n got %q\nwant %q", got, want)
	}
	for _, h := range rpfHooks {
		if _, ok := want[h.table]; !ok || h.hook != "PREROUTING" || !h.insert {
			t.Errorf("rpf hook %+v: want the first rule of the raw table's PREROUTING", h)
		}
	}
}

func TestNATIP6tablesRules(t *testing.T) {
	n := testNAT("2001:db8:100::/56")
	want := map[string][][]string{
		"mangle": {
			{"-s", "2001:db8:100::/56", "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-m", "tcpmss", "--mss", "1433:65535", "-j", "TCPMSS", "--set-mss", "1432"},
			{"-d", "2001:db8:100::/56", "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-m", "tcpmss", "--mss", "1433:65535", "-j", "TCPMSS", "--set-mss", "1432"},
		},
		"filter": {
			{"-s", "2001:db8:100::/56", "-o", "eth1", "-j", "ACCEPT"},
			{"-d", "2001:db8:100::/56", "-i", "eth1", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
		},
	}
	if got := n.ip6tablesRules(); !reflect.DeepEqual(got, want) {
		t.Errorf("ip6tablesRules:\n got %q\nwant %q", got, want)
	}
	for _, h := range ip6tablesHooks {
		if h.table == "nat" {
			t.Errorf("an ip6tables nat chain %s: IPv6 is routed, not masqueraded", h.chain)
		}
		if _, ok := want[h.table]; !ok {
			t.Errorf("ip6tables hook for table %s, which gets no rules", h.table)
		}
	}
	// The IPv4 rules are the same with IPv6 on.
	if a, b := testNAT().iptablesRules(), n.iptablesRules(); !reflect.DeepEqual(a, b) {
		t.Errorf("IPv6 changed the IPv4 rules:\n%q\n%q", a, b)
	}
}

// TestNATStateIPv6: the state file carries the IPv6 sysctls to restore,
// only when they were touched, and a WAN name that is no interface name
// is not used to build a /proc path.
func TestNATStateIPv6(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nat.state")
	for _, tt := range []struct {
		name               string
		forward6, acceptRA string
	}{
		{"IPv4 only", "", ""},
		{"IPv6, accept_ra untouched", "0", ""},
		{"IPv6, accept_ra was 1", "0", "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := testNAT()
			n.cfg.StateFile, n.backend, n.forward, n.forward6, n.acceptRA = path, "iptables", "0", tt.forward6, tt.acceptRA
			if err := n.writeState(); err != nil {
				t.Fatal(err)
			}
			st, err := readNATState(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.forward != "0" || st.backend != "iptables" || st.wan != "eth1" || st.forward6 != tt.forward6 || st.acceptRA != tt.acceptRA {
				t.Errorf("read back %+v", st)
			}
			b, _ := os.ReadFile(path)
			if tt.forward6 == "" && strings.Contains(string(b), "ipv6") {
				t.Errorf("IPv6 lines without IPv6:\n%s", b)
			}
			back := st.nat(path, discardLogger())
			if back.forward6 != tt.forward6 || back.acceptRA != tt.acceptRA || back.cfg.WAN != "eth1" {
				t.Errorf("nat from state: %+v", back)
			}
		})
	}
	for _, wan := range []string{"../../../../etc", ".."} {
		if err := os.WriteFile(path, []byte("ip_forward=1\nipv6_forwarding=0\naccept_ra=1\nwan="+wan+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := readNATState(path)
		if err != nil || st.wan != "" || st.acceptRA != "" || st.forward6 != "0" {
			t.Errorf("wan=%s: %+v, %v; want no WAN and no accept_ra", wan, st, err)
		}
	}
}
