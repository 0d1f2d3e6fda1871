// NAT to the WAN: what rp-pppoe users did by hand with
// "echo 1 > /proc/sys/net/ipv4/ip_forward" and
// "iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE", done by pppoed
// and undone on exit.
//
// Only with --nat-out IFACE. Setup records ip_forward and sets it to 1,
// masquerades the pool's source addresses leaving through IFACE, and clamps
// the TCP MSS of forwarded SYNs to and from the pool to fit the PPP MTU (or
// to -m). Everything pppoed adds is its own: a private nft table
// ("inet pppoed", which OpenWrt's fw4 never flushes) or iptables chains of
// its own that one rule each jumps to. Cleanup removes exactly that and
// restores ip_forward. A state file remembers the original ip_forward, so a
// restart after a crash still restores the right value, and setup first
// removes the leftovers instead of adding a second set. A restart without
// --nat-out still reads the state file (removeLeftoverNAT): it removes what
// the killed pppoed added and restores ip_forward, unless the file was
// written in another network namespace or its writer still runs.
//
// With IPv6 (natConfig.ipv6 set), IPv6 is routed, not masqueraded: setup
// also records net.ipv6.conf.all.forwarding and sets it to 1, sets the
// WAN's accept_ra from 1 to 2 so the WAN keeps taking router advertisements
// while forwarding, accepts forwarding between the sessions' prefixes and
// the WAN (out: all; in: what the sessions started) and clamps the MSS for
// them, in the same nft table or in ip6tables chains named like the
// iptables ones. The state file records those sysctls too, and cleanup
// puts them back.
//
// In kernel mode (natConfig.sessionIfaces set), what a subscriber sends
// reaches the kernel's forwarding on its pppN with no check of its source
// address: Linux has no rp_filter for IPv6, and pppoed leaves IPv4's to the
// host. So a reverse-path check drops, before conntrack sees them, packets
// that come in on a session interface from a source that does not route
// back through that interface (another session's address, /64 or delegated
// prefix, or anything else): a prerouting chain at raw priority in the nft
// table ("fib saddr . iif oif missing"), or iptables and ip6tables raw
// chains of ours with "-m rpfilter --invert". The WAN and OpenWrt's
// pppoe-* interfaces are left out, even when their names match. In TUN
// mode the data path checks every source itself (dataplane.go,
// dataplane6.go).
//
// The system's own tools do the work, through exec with an argv and a
// timeout, never a shell; a failing command's output goes into the error.

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	ipForwardPath  = "/proc/sys/net/ipv4/ip_forward"
	ip6ForwardPath = "/proc/sys/net/ipv6/conf/all/forwarding"
	natChain       = "PPPOED-NAT"
	mssChain       = "PPPOED-MSS"
	fwdChain       = "PPPOED-FWD"
	rpfChain       = "PPPOED-RPF"
	nftTable       = "pppoed"
	toolTimeout    = 10 * time.Second

	// ipv6MSSLess is how much smaller the IPv6 MSS is than the IPv4 one:
	// an IPv6 header is 40 bytes, an IPv4 one 20 (MTU − 60 against
	// MTU − 40).
	ipv6MSSLess = 20

	// kernelSessionIfaces matches the kernel's PPP units, which kernel
	// mode's sessions are (pppN, ppp_generic's name), in nft's wildcard
	// syntax.
	kernelSessionIfaces = "ppp*"
)

// rpfExempt are interfaces that kernelSessionIfaces matches but no session
// is: OpenWrt names its PPPoE uplinks pppoe-NAME (the WAN itself is left
// out by name).
const rpfExempt = "pppoe-*"

// acceptRAPath is the WAN's accept_ra sysctl. With forwarding on, the
// kernel takes router advertisements only where it is 2: at 1, the
// default, a WAN configured by SLAAC loses its default route once the last
// one expires.
func acceptRAPath(wan string) string { return "/proc/sys/net/ipv6/conf/" + wan + "/accept_ra" }

type natConfig struct {
	WAN       string `toml:"wan"`
	Backend   string `toml:"backend"`
	StateFile string `toml:"state_file"`

	// ipv6 are the IPv6 prefixes routed to the sessions: the pool the
	// sessions' /64s come from and the delegated pool. main sets it from
	// ipv6_prefix_pool and ipv6_delegated_pool (config validation keeps them from overlapping);
	// it is not a [nat] key. Empty means IPv6 is off, and setup and
	// cleanup touch nothing of IPv6.
	ipv6 []netip.Prefix

	// sessionIfaces are the session interfaces, as an nft wildcard
	// (kernelSessionIfaces), on which packets get a reverse-path check.
	// main sets it in kernel mode; it is not a [nat] key. Empty (TUN
	// mode, whose data path checks sources itself) means no check.
	sessionIfaces string
}

// nat is the set-up state. The loop goroutine owns it.
type nat struct {
	cfg       natConfig
	backend   string // "nft" or "iptables"
	prefixes  []netip.Prefix
	mss       int
	log       *logger
	forward   string // ip_forward before we touched it
	forward6  string // all.forwarding before we touched it; "" when IPv6 is off
	acceptRA  string // the WAN's accept_ra before we set it to 2; "" when untouched
	ip6tables bool   // the iptables backend has ip6tables chains too
	rpf       bool   // the reverse-path check is set up (for IPv4 at least)
}

// runTool runs a system tool with an argv and a timeout. stdin may be nil.
func runTool(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// pickNATBackend chooses nft where it works, else iptables.
func pickNATBackend(ctx context.Context, want string) (string, error) {
	switch want {
	case "nft", "iptables":
		if _, err := exec.LookPath(want); err != nil {
			return "", fmt.Errorf("--nat-backend %s: %w", want, err)
		}
		return want, nil
	case "", "auto":
	default:
		return "", fmt.Errorf("--nat-backend: %q is not nft or iptables", want)
	}
	if _, err := exec.LookPath("nft"); err == nil {
		if _, err := runTool(ctx, nil, "nft", "list", "tables"); err == nil {
			return "nft", nil
		}
	}
	if _, err := exec.LookPath("iptables"); err == nil {
		return "iptables", nil
	}
	return "", errors.New("NAT needs nft or iptables, and neither works here")
}

// readSysctl returns the value of a /proc/sys file without its newline.
func readSysctl(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

func writeSysctl(path, v string) error {
	return os.WriteFile(path, []byte(v+"\n"), 0o644)
}

// setupNAT makes the changes. On error it undoes what it did.
func setupNAT(ctx context.Context, cfg natConfig, pool *ipPool, mss int, log *logger) (*nat, error) {
	backend, err := pickNATBackend(ctx, cfg.Backend)
	if err != nil {
		return nil, err
	}
	n := &nat{cfg: cfg, backend: backend, mss: mss, log: log}
	addrs := make([]netip.Addr, pool.size())
	for i := range addrs {
		addrs[i] = pool.remoteAddr(poolSlot(i))
	}
	n.prefixes = coveringPrefixes(addrs)

	// A previous pppoed died without cleaning up. Its rules go, whatever
	// backend and IP versions it had, and its sysctls go back to what it
	// recorded before ours are read. What could not be put back stays
	// recorded in prev: that is the value to restore at exit, not the one
	// the dead pppoed left behind.
	var prev natState
	if old, err := readNATState(cfg.StateFile); err == nil {
		log.Warn("found NAT state left by an earlier pppoed; replacing its rules", "state_file", cfg.StateFile)
		if old.backend != "nft" && old.backend != "iptables" {
			old.backend = backend
		}
		if err := old.nat(cfg.StateFile, log).cleanup(ctx); err != nil {
			log.Warn("removing the earlier pppoed's NAT failed; setting up over it", "state_file", cfg.StateFile, "err", err)
			prev = old
		}
	}

	if n.forward, err = readSysctl(ipForwardPath); err != nil {
		return nil, err
	}
	if prev.forward != "" {
		n.forward = prev.forward
	}
	if len(cfg.ipv6) > 0 {
		if n.forward6, err = readSysctl(ip6ForwardPath); err != nil {
			return nil, fmt.Errorf("IPv6: %w", err)
		}
		if prev.forward6 != "" {
			n.forward6 = prev.forward6
		}
		ra, err := readSysctl(acceptRAPath(cfg.WAN))
		if err != nil {
			return nil, fmt.Errorf("IPv6 on %s: %w", cfg.WAN, err)
		}
		switch {
		case prev.acceptRA != "" && prev.wan == cfg.WAN:
			n.acceptRA = prev.acceptRA
		case ra == "1":
			n.acceptRA = ra
		}
	}
	if err := n.writeState(); err != nil {
		return nil, err
	}
	if err := writeSysctl(ipForwardPath, "1"); err != nil {
		n.cleanup(ctx)
		return nil, fmt.Errorf("enable ip_forward: %w", err)
	}
	if n.acceptRA != "" {
		// Before forwarding goes on, so no advertisement is dropped.
		if err := writeSysctl(acceptRAPath(cfg.WAN), "2"); err != nil {
			n.cleanup(ctx)
			return nil, fmt.Errorf("set accept_ra on %s: %w", cfg.WAN, err)
		}
	}
	if n.forward6 != "" {
		if err := writeSysctl(ip6ForwardPath, "1"); err != nil {
			n.cleanup(ctx)
			return nil, fmt.Errorf("enable IPv6 forwarding: %w", err)
		}
	}
	if backend == "nft" {
		err = n.setupNFT(ctx)
	} else {
		err = n.setupIPTables(ctx)
	}
	if err != nil {
		n.cleanup(ctx)
		return nil, err
	}
	attrs := []any{"wan", cfg.WAN, "backend", backend, "pool", prefixStrings(n.prefixes), "mss", mss}
	if n.rpf {
		attrs = append(attrs, "source_check", cfg.sessionIfaces)
	}
	if len(cfg.ipv6) > 0 {
		attrs = append(attrs, "ipv6_routed", prefixStrings(cfg.ipv6), "ipv6_mss", mss-ipv6MSSLess)
		if n.acceptRA != "" {
			attrs = append(attrs, "wan_accept_ra", "2")
		}
	}
	log.Info("NAT set up", attrs...)
	return n, nil
}

func prefixStrings(ps []netip.Prefix) []string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return s
}

// nftRuleset is the whole private table. Loading it with a delete of the
// same table first (created empty if absent) replaces leftovers atomically.
// With rpf, and sessionIfaces set, it has the reverse-path check.
func (n *nat) nftRuleset(rpf bool) []byte {
	set := strings.Join(prefixStrings(n.prefixes), ", ")
	wan := strconv.Quote(n.cfg.WAN)
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s {}\ndelete table inet %s\n", nftTable, nftTable)
	fmt.Fprintf(&b, "table inet %s {\n", nftTable)
	fmt.Fprintf(&b, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n")
	fmt.Fprintf(&b, "\t\toifname %s ip saddr { %s } masquerade\n\t}\n", wan, set)
	fmt.Fprintf(&b, "\tchain forward {\n\t\ttype filter hook forward priority mangle; policy accept;\n")
	for _, dir := range []string{"saddr", "daddr"} {
		fmt.Fprintf(&b, "\t\tip %s { %s } tcp flags & (syn | rst) == syn tcp option maxseg size > %d tcp option maxseg size set %d\n",
			dir, set, n.mss, n.mss)
	}
	if len(n.cfg.ipv6) > 0 {
		set6 := strings.Join(prefixStrings(n.cfg.ipv6), ", ")
		mss6 := n.mss - ipv6MSSLess
		for _, dir := range []string{"saddr", "daddr"} {
			fmt.Fprintf(&b, "\t\tip6 %s { %s } tcp flags & (syn | rst) == syn tcp option maxseg size > %d tcp option maxseg size set %d\n",
				dir, set6, mss6, mss6)
		}
		// Routed, not masqueraded. An accept here ends only this chain:
		// a drop in another table (fw4's, iptables-nft's) still holds.
		fmt.Fprintf(&b, "\t\toifname %s ip6 saddr { %s } accept\n", wan, set6)
		fmt.Fprintf(&b, "\t\tiifname %s ip6 daddr { %s } ct state established,related accept\n", wan, set6)
	}
	fmt.Fprintf(&b, "\t}\n")
	if rpf && n.cfg.sessionIfaces != "" {
		// Strict reverse path, as nft's wiki writes it, at raw priority
		// so a dropped packet makes no conntrack entry. For IPv4 and
		// IPv6 (inet): what routes back through pppN is the peer's /32,
		// its link-local address, its /64 and its delegated prefix.
		fmt.Fprintf(&b, "\tchain prerouting {\n\t\ttype filter hook prerouting priority raw; policy accept;\n")
		fmt.Fprintf(&b, "\t\tiifname %s iifname != %s iifname != %s fib saddr . iif oif missing counter drop\n\t}\n",
			strconv.Quote(n.cfg.sessionIfaces), strconv.Quote(rpfExempt), wan)
	}
	fmt.Fprintf(&b, "}\n")
	return []byte(b.String())
}

func (n *nat) setupNFT(ctx context.Context) error {
	_, err := runTool(ctx, n.nftRuleset(true), "nft", "-f", "-")
	n.rpf = err == nil && n.cfg.sessionIfaces != ""
	if err != nil && n.cfg.sessionIfaces != "" {
		// The fib expression needs nft_fib_inet (OpenWrt's
		// kmod-nft-fib): NAT without the check beats no NAT.
		if _, err2 := runTool(ctx, n.nftRuleset(false), "nft", "-f", "-"); err2 == nil {
			n.log.Warn("nft refused the reverse-path check: sources on the session interfaces are not checked; NAT is set up", "err", err)
			return nil
		}
	}
	return err
}

// iptablesRules are the rules of our iptables chains, per table.
func (n *nat) iptablesRules() map[string][][]string {
	r := map[string][][]string{}
	for _, p := range n.prefixes {
		r["nat"] = append(r["nat"], []string{"-s", p.String(), "-o", n.cfg.WAN, "-j", "MASQUERADE"})
		r["mangle"] = append(r["mangle"], mssRules(p, n.mss)...)
	}
	return r
}

// ip6tablesRules are the rules of our ip6tables chains, per table: no
// nat table, since IPv6 is routed.
func (n *nat) ip6tablesRules() map[string][][]string {
	r := map[string][][]string{}
	for _, p := range n.cfg.ipv6 {
		r["mangle"] = append(r["mangle"], mssRules(p, n.mss-ipv6MSSLess)...)
		r["filter"] = append(r["filter"],
			[]string{"-s", p.String(), "-o", n.cfg.WAN, "-j", "ACCEPT"},
			[]string{"-d", p.String(), "-i", n.cfg.WAN, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"})
	}
	return r
}

// rpfRules are the rules of our raw chains (rpfChain), for iptables and
// ip6tables alike: the WAN and rpfExempt return, and the session
// interfaces' packets whose source does not route back through the
// interface they came in on are dropped (xt_rpfilter, strict).
func (n *nat) rpfRules() map[string][][]string {
	ipt := func(wildcard string) string { return strings.TrimSuffix(wildcard, "*") + "+" }
	return map[string][][]string{"raw": {
		{"-i", n.cfg.WAN, "-j", "RETURN"},
		{"-i", ipt(rpfExempt), "-j", "RETURN"},
		{"-i", ipt(n.cfg.sessionIfaces), "-m", "rpfilter", "--invert", "-j", "DROP"},
	}}
}

// mssRules clamp the MSS of SYNs from and to p.
func mssRules(p netip.Prefix, mss int) [][]string {
	var r [][]string
	for _, dir := range []string{"-s", "-d"} {
		r = append(r, []string{dir, p.String(), "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN",
			"-m", "tcpmss", "--mss", strconv.Itoa(mss+1) + ":65535", "-j", "TCPMSS", "--set-mss", strconv.Itoa(mss)})
	}
	return r
}

// iptablesHook is one chain of ours and the built-in chain that jumps to
// it. The forward accepts go first in FORWARD (insert), ahead of a
// distribution's final REJECT rule.
type iptablesHook struct {
	table, chain, hook string
	insert             bool
}

var (
	iptablesHooks = []iptablesHook{
		{"nat", natChain, "POSTROUTING", false},
		{"mangle", mssChain, "FORWARD", false},
	}
	ip6tablesHooks = []iptablesHook{
		{"mangle", mssChain, "FORWARD", false},
		{"filter", fwdChain, "FORWARD", true},
	}
	// rpfHooks, for iptables and ip6tables, only in kernel mode. The
	// check goes first in the raw table, ahead of a NOTRACK.
	rpfHooks = []iptablesHook{
		{"raw", rpfChain, "PREROUTING", true},
	}
)

func (n *nat) setupIPTables(ctx context.Context) error {
	if err := setupChains(ctx, "iptables", iptablesHooks, n.iptablesRules()); err != nil {
		return err
	}
	n.setupRPF(ctx, "iptables")
	if len(n.cfg.ipv6) == 0 {
		return nil
	}
	if _, err := exec.LookPath("ip6tables"); err != nil {
		n.log.Warn("ip6tables is missing: IPv6 is forwarded without pppoed's forward rules, MSS clamping and source checks; IPv4 NAT is set up", "err", err)
		return nil
	}
	n.ip6tables = true
	if err := setupChains(ctx, "ip6tables", ip6tablesHooks, n.ip6tablesRules()); err != nil {
		return err
	}
	n.setupRPF(ctx, "ip6tables")
	return nil
}

// setupRPF adds tool's reverse-path chain in kernel mode. Where the raw
// table or xt_rpfilter is missing (OpenWrt's kmod-ipt-raw,
// kmod-ipt-rpfilter) it warns and removes what it added: NAT without the
// check beats no NAT.
func (n *nat) setupRPF(ctx context.Context, tool string) {
	if n.cfg.sessionIfaces == "" {
		return
	}
	if err := setupChains(ctx, tool, rpfHooks, n.rpfRules()); err != nil {
		n.log.Warn(tool+" refused the reverse-path check: sources on the session interfaces are not checked; NAT is set up", "err", err)
		removeChains(ctx, tool, rpfHooks, false)
		return
	}
	if tool == "iptables" {
		n.rpf = true
	}
}

// setupChains creates our chains with tool (iptables or ip6tables), or
// empties leftover ones, fills them and adds one jump to each.
func setupChains(ctx context.Context, tool string, hooks []iptablesHook, rules map[string][][]string) error {
	for _, h := range hooks {
		if _, err := runTool(ctx, nil, tool, "-w", "-t", h.table, "-N", h.chain); err != nil {
			if _, err := runTool(ctx, nil, tool, "-w", "-t", h.table, "-F", h.chain); err != nil {
				return err
			}
		}
		for _, r := range rules[h.table] {
			if _, err := runTool(ctx, nil, tool, append([]string{"-w", "-t", h.table, "-A", h.chain}, r...)...); err != nil {
				return err
			}
		}
		// One jump, checked first so a restart does not add a second.
		if _, err := runTool(ctx, nil, tool, "-w", "-t", h.table, "-C", h.hook, "-j", h.chain); err != nil {
			add := []string{"-w", "-t", h.table, "-A", h.hook, "-j", h.chain}
			if h.insert {
				add = []string{"-w", "-t", h.table, "-I", h.hook, "1", "-j", h.chain}
			}
			if _, err := runTool(ctx, nil, tool, add...); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeChains removes every jump to our chains and the chains. Unless
// mustExist, a chain that is not there is no error: a state file does not
// say whether ip6tables chains were made.
func removeChains(ctx context.Context, tool string, hooks []iptablesHook, mustExist bool) []error {
	var errs []error
	for _, h := range hooks {
		if !mustExist {
			if _, err := runTool(ctx, nil, tool, "-w", "-t", h.table, "-S", h.chain); err != nil {
				continue
			}
		}
		for {
			if _, err := runTool(ctx, nil, tool, "-w", "-t", h.table, "-D", h.hook, "-j", h.chain); err != nil {
				break
			}
		}
		runTool(ctx, nil, tool, "-w", "-t", h.table, "-F", h.chain)
		if _, err := runTool(ctx, nil, tool, "-w", "-t", h.table, "-X", h.chain); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// cleanup removes what setup added and restores the sysctls. It goes on
// past errors and returns them all.
func (n *nat) cleanup(ctx context.Context) error {
	var errs []error
	switch n.backend {
	case "nft":
		if _, err := runTool(ctx, []byte(fmt.Sprintf("table inet %s {}\ndelete table inet %s\n", nftTable, nftTable)), "nft", "-f", "-"); err != nil {
			errs = append(errs, err)
		}
	case "iptables":
		// Whether the reverse-path chains were made is not recorded:
		// a failed check leaves none, and a state file does not say.
		errs = append(errs, removeChains(ctx, "iptables", iptablesHooks, true)...)
		errs = append(errs, removeChains(ctx, "iptables", rpfHooks, false)...)
		if _, err := exec.LookPath("ip6tables"); err == nil {
			errs = append(errs, removeChains(ctx, "ip6tables", ip6tablesHooks, n.ip6tables)...)
			errs = append(errs, removeChains(ctx, "ip6tables", rpfHooks, false)...)
		}
	}
	restored := true // the state file is the only record of what is not
	for _, s := range []struct{ what, path, v string }{
		{"ip_forward", ipForwardPath, n.forward},
		{"IPv6 forwarding", ip6ForwardPath, n.forward6},
		{"accept_ra on " + n.cfg.WAN, acceptRAPath(n.cfg.WAN), n.acceptRA},
	} {
		if s.v == "" {
			continue
		}
		// Gone means nothing to restore: the WAN was deleted, or IPv6 is.
		if err := writeSysctl(s.path, s.v); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("restore %s: %w", s.what, err))
			restored = false
		}
	}
	if restored {
		if err := os.Remove(n.cfg.StateFile); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		attrs := []any{"ip_forward", n.forward}
		if n.forward6 != "" {
			attrs = append(attrs, "ipv6_forwarding", n.forward6)
		}
		if n.acceptRA != "" {
			attrs = append(attrs, "wan_accept_ra", n.acceptRA)
		}
		n.log.Info("NAT removed", attrs...)
	}
	return errors.Join(errs...)
}

// natState is what the state file records: the sysctls to restore
// (forward6 and acceptRA only when IPv6 was on, and accept_ra only when
// pppoed changed it), what was set up, and who wrote it (owner: the
// process, by pid and start time, so a reused pid is not taken for it;
// netns: the network namespace, whose rules and sysctls these are).
type natState struct {
	forward, backend, wan string
	forward6, acceptRA    string
	owner, netns          string
}

// nat is the set-up state that st describes, for cleanup.
func (st natState) nat(path string, log *logger) *nat {
	return &nat{
		cfg:     natConfig{WAN: st.wan, StateFile: path},
		backend: st.backend, forward: st.forward, forward6: st.forward6, acceptRA: st.acceptRA,
		log: log,
	}
}

// readNATState reads the state file at path. It fails for a missing file,
// and for one without a valid ip_forward line.
func readNATState(path string) (natState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return natState{}, err
	}
	var st natState
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "ip_forward":
			if v == "0" || v == "1" {
				st.forward = v
			}
		case "ipv6_forwarding":
			if v == "0" || v == "1" {
				st.forward6 = v
			}
		case "accept_ra":
			if v == "0" || v == "1" || v == "2" {
				st.acceptRA = v
			}
		case "backend":
			st.backend = v
		case "wan":
			// It names a file under /proc/sys/net/ipv6/conf.
			if v != "." && v != ".." && !strings.Contains(v, "/") {
				st.wan = v
			}
		case "owner":
			st.owner = v
		case "netns":
			st.netns = v
		}
	}
	if st.forward == "" {
		return natState{}, fmt.Errorf("%s: no ip_forward=0 or ip_forward=1 line", path)
	}
	if st.wan == "" {
		st.acceptRA = ""
	}
	return st, nil
}

func (n *nat) writeState() error {
	if err := os.MkdirAll(filepath.Dir(n.cfg.StateFile), 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# written by pppoed; removed when it exits cleanly\nip_forward=%s\n", n.forward)
	if n.forward6 != "" {
		fmt.Fprintf(&b, "ipv6_forwarding=%s\n", n.forward6)
	}
	if n.acceptRA != "" {
		fmt.Fprintf(&b, "accept_ra=%s\n", n.acceptRA)
	}
	fmt.Fprintf(&b, "backend=%s\nwan=%s\nowner=%s\nnetns=%s\n", n.backend, n.cfg.WAN, processIdentity(os.Getpid()), netnsIdentity())
	return os.WriteFile(n.cfg.StateFile, []byte(b.String()), 0o644)
}

// processIdentity names a running process as "pid:starttime" (field 22 of
// /proc/PID/stat, in clock ticks since boot), or "" if it is not running.
func processIdentity(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold anything.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:])) // from field 3 on
	if len(f) < 20 {
		return ""
	}
	return strconv.Itoa(pid) + ":" + f[19]
}

// netnsIdentity names our network namespace by the inode of
// /proc/self/ns/net (what "ip netns identify" compares), or "".
func netnsIdentity() string {
	l, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return ""
	}
	return l // "net:[4026531840]"
}

// removeLeftoverNAT runs at a start without --nat-out. If the state file
// says a pppoed set NAT up here and was killed before it could undo it
// (SIGKILL, a crash), it removes those rules and restores the recorded
// ip_forward (and the IPv6 sysctls, if it recorded them), as a restart
// with --nat-out would before setting up its own: dropping --nat-out from
// the configuration must not leave forwarding on for good. A file written
// in another network namespace, or by a process that still runs, is not a
// leftover and stays as it is.
func removeLeftoverNAT(ctx context.Context, path string, log *logger) {
	if path == "" {
		return
	}
	st, err := readNATState(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return
	case err != nil:
		log.Warn("cannot read the NAT state file; leaving it", "state_file", path, "err", err)
		return
	case st.netns != "" && st.netns != netnsIdentity():
		log.Info("the NAT state file is from another network namespace; leaving it", "state_file", path, "netns", st.netns)
		return
	}
	if pid, _, ok := strings.Cut(st.owner, ":"); ok {
		if p, err := strconv.Atoi(pid); err == nil && p != os.Getpid() && processIdentity(p) == st.owner {
			log.Info("the NAT state file belongs to a pppoed that still runs; leaving it", "state_file", path, "pid", p)
			return
		}
	}
	n := st.nat(path, log)
	if n.backend != "nft" && n.backend != "iptables" {
		if n.backend, err = pickNATBackend(ctx, "auto"); err != nil {
			log.Warn("found NAT state left by an earlier pppoed, but cannot remove its rules", "state_file", path, "err", err)
			return
		}
	}
	log.Warn("found NAT state left by an earlier pppoed; started without --nat-out, so removing its rules and restoring ip_forward",
		"state_file", path, "backend", n.backend, "wan", st.wan, "ip_forward", st.forward)
	if err := n.cleanup(ctx); err != nil {
		log.Warn("removing the NAT left by an earlier pppoed failed", "state_file", path, "err", err)
	}
}
