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
// restart after a crash still restores the right value, and setup replaces
// leftovers instead of adding a second set. A restart without --nat-out
// still reads the state file (removeLeftoverNAT): it removes what the
// killed pppoed added and restores ip_forward, unless the file was written
// in another network namespace or its writer still runs.
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
	ipForwardPath = "/proc/sys/net/ipv4/ip_forward"
	natChain      = "PPPOED-NAT"
	mssChain      = "PPPOED-MSS"
	nftTable      = "pppoed"
	toolTimeout   = 10 * time.Second
)

type natConfig struct {
	WAN       string `toml:"wan"`
	Backend   string `toml:"backend"`
	StateFile string `toml:"state_file"`
}

// nat is the set-up state. The loop goroutine owns it.
type nat struct {
	cfg      natConfig
	backend  string // "nft" or "iptables"
	prefixes []netip.Prefix
	mss      int
	log      *logger
	forward  string // ip_forward before we touched it
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

	cur, err := os.ReadFile(ipForwardPath)
	if err != nil {
		return nil, err
	}
	n.forward = strings.TrimSpace(string(cur))
	if old, err := readNATState(cfg.StateFile); err == nil {
		// A previous pppoed died without cleaning up: the value it
		// recorded is the one to restore, not the 1 it left behind.
		log.Warn("found NAT state left by an earlier pppoed; replacing its rules", "state_file", cfg.StateFile)
		n.forward = old.forward
	}
	if err := n.writeState(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(ipForwardPath, []byte("1\n"), 0o644); err != nil {
		n.cleanup(ctx)
		return nil, fmt.Errorf("enable ip_forward: %w", err)
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
	log.Info("NAT set up", "wan", cfg.WAN, "backend", backend, "pool", n.prefixStrings(), "mss", mss)
	return n, nil
}

func (n *nat) prefixStrings() []string {
	var s []string
	for _, p := range n.prefixes {
		s = append(s, p.String())
	}
	return s
}

// nftRuleset is the whole private table. Loading it with a delete of the
// same table first (created empty if absent) replaces leftovers atomically.
func (n *nat) nftRuleset() []byte {
	set := strings.Join(n.prefixStrings(), ", ")
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s {}\ndelete table inet %s\n", nftTable, nftTable)
	fmt.Fprintf(&b, "table inet %s {\n", nftTable)
	fmt.Fprintf(&b, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n")
	fmt.Fprintf(&b, "\t\toifname %s ip saddr { %s } masquerade\n\t}\n", strconv.Quote(n.cfg.WAN), set)
	fmt.Fprintf(&b, "\tchain forward {\n\t\ttype filter hook forward priority mangle; policy accept;\n")
	for _, dir := range []string{"saddr", "daddr"} {
		fmt.Fprintf(&b, "\t\tip %s { %s } tcp flags & (syn | rst) == syn tcp option maxseg size > %d tcp option maxseg size set %d\n",
			dir, set, n.mss, n.mss)
	}
	fmt.Fprintf(&b, "\t}\n}\n")
	return []byte(b.String())
}

func (n *nat) setupNFT(ctx context.Context) error {
	_, err := runTool(ctx, n.nftRuleset(), "nft", "-f", "-")
	return err
}

// iptablesRules are the rules of our chains, per table.
func (n *nat) iptablesRules() map[string][][]string {
	r := map[string][][]string{}
	for _, p := range n.prefixes {
		r["nat"] = append(r["nat"], []string{"-s", p.String(), "-o", n.cfg.WAN, "-j", "MASQUERADE"})
		for _, dir := range []string{"-s", "-d"} {
			r["mangle"] = append(r["mangle"], []string{dir, p.String(), "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN",
				"-m", "tcpmss", "--mss", strconv.Itoa(n.mss+1) + ":65535", "-j", "TCPMSS", "--set-mss", strconv.Itoa(n.mss)})
		}
	}
	return r
}

var iptablesHooks = []struct{ table, chain, hook string }{
	{"nat", natChain, "POSTROUTING"},
	{"mangle", mssChain, "FORWARD"},
}

func (n *nat) setupIPTables(ctx context.Context) error {
	rules := n.iptablesRules()
	for _, h := range iptablesHooks {
		// Create our chain, or empty a leftover one.
		if _, err := runTool(ctx, nil, "iptables", "-w", "-t", h.table, "-N", h.chain); err != nil {
			if _, err := runTool(ctx, nil, "iptables", "-w", "-t", h.table, "-F", h.chain); err != nil {
				return err
			}
		}
		for _, r := range rules[h.table] {
			if _, err := runTool(ctx, nil, "iptables", append([]string{"-w", "-t", h.table, "-A", h.chain}, r...)...); err != nil {
				return err
			}
		}
		// One jump, checked first so a restart does not add a second.
		jump := []string{"-w", "-t", h.table, "-C", h.hook, "-j", h.chain}
		if _, err := runTool(ctx, nil, "iptables", jump...); err != nil {
			jump[3] = "-A"
			if _, err := runTool(ctx, nil, "iptables", jump...); err != nil {
				return err
			}
		}
	}
	return nil
}

// cleanup removes what setup added and restores ip_forward. It goes on
// past errors and returns them all.
func (n *nat) cleanup(ctx context.Context) error {
	var errs []error
	switch n.backend {
	case "nft":
		if _, err := runTool(ctx, []byte(fmt.Sprintf("table inet %s {}\ndelete table inet %s\n", nftTable, nftTable)), "nft", "-f", "-"); err != nil {
			errs = append(errs, err)
		}
	case "iptables":
		for _, h := range iptablesHooks {
			// Every jump we may have left, then the chain.
			for {
				if _, err := runTool(ctx, nil, "iptables", "-w", "-t", h.table, "-D", h.hook, "-j", h.chain); err != nil {
					break
				}
			}
			runTool(ctx, nil, "iptables", "-w", "-t", h.table, "-F", h.chain)
			if _, err := runTool(ctx, nil, "iptables", "-w", "-t", h.table, "-X", h.chain); err != nil {
				errs = append(errs, err)
			}
		}
	}
	restored := true
	if n.forward != "" {
		if err := os.WriteFile(ipForwardPath, []byte(n.forward+"\n"), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore ip_forward: %w", err))
			restored = false // the state file is the only record of it
		}
	}
	if restored {
		if err := os.Remove(n.cfg.StateFile); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		n.log.Info("NAT removed", "ip_forward", n.forward)
	}
	return errors.Join(errs...)
}

// natState is what the state file records: the ip_forward to restore,
// what was set up, and who wrote it (owner: the process, by pid and start
// time, so a reused pid is not taken for it; netns: the network namespace,
// whose rules and ip_forward these are).
type natState struct {
	forward, backend, wan string
	owner, netns          string
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
		case "backend":
			st.backend = v
		case "wan":
			st.wan = v
		case "owner":
			st.owner = v
		case "netns":
			st.netns = v
		}
	}
	if st.forward == "" {
		return natState{}, fmt.Errorf("%s: no ip_forward=0 or ip_forward=1 line", path)
	}
	return st, nil
}

func (n *nat) writeState() error {
	if err := os.MkdirAll(filepath.Dir(n.cfg.StateFile), 0o755); err != nil {
		return err
	}
	body := fmt.Sprintf("# written by pppoed; removed when it exits cleanly\nip_forward=%s\nbackend=%s\nwan=%s\nowner=%s\nnetns=%s\n",
		n.forward, n.backend, n.cfg.WAN, processIdentity(os.Getpid()), netnsIdentity())
	return os.WriteFile(n.cfg.StateFile, []byte(body), 0o644)
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
// ip_forward, as a restart with --nat-out would before setting up its own:
// dropping --nat-out from the configuration must not leave forwarding on
// for good. A file written in another network namespace, or by a process
// that still runs, is not a leftover and stays as it is.
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
	n := &nat{cfg: natConfig{WAN: st.wan, StateFile: path}, backend: st.backend, forward: st.forward, log: log}
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
