// pppoed is a PPPoE access concentrator: rp-pppoe's pppoe-server and the
// pppd it starts for each client, in one process.
//
// main parses flags and the config file, opens the interfaces, runs the
// server in the foreground until SIGTERM or SIGINT, and turns the outcome
// into an exit status: 0 for a clean stop, 1 for a runtime failure, 2 for
// bad input.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// version is stamped by the Makefile with -X main.version=...
var version = "dev"

func main() { os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr)) }

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "client" {
		return clientMain(args[1:], stdout, stderr)
	}
	if len(args) > 0 {
		if cmd, ok := ctlCommands[args[0]]; ok {
			return cmd(args[1:], os.Stdin, stdout, stderr)
		}
	}
	if len(args) == 1 && (args[0] == "--version" || args[0] == "version") {
		fmt.Fprintln(stdout, "pppoed", version)
		return 0
	}
	cfg, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return 0
	}
	if err == nil {
		err = cfg.validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "pppoed: %v\n", err)
		return 2
	}
	if cfg.checkPool {
		p := cfg.pool
		fmt.Fprintf(stdout, "pool: %d addresses, %s .. %s\n", p.size(), p.remoteAddr(0), p.remoteAddr(poolSlot(p.size()-1)))
		return 0
	}
	// The files and interfaces named are checked before the pid file,
	// the TUN device or NAT touch the system, so bad input changes nothing.
	if problems := secretsFileProblems(cfg); len(problems) > 0 {
		if cfg.Strict {
			for _, p := range problems {
				fmt.Fprintf(stderr, "pppoed: --strict: %s\n", p)
			}
			return 2
		}
		cfg.warnings = append(cfg.warnings, problems...)
	}
	// A mistyped -I is bad input like any other: one line and status 2. A
	// down interface is waited for later; only a missing one is refused.
	for _, name := range cfg.Interfaces {
		if _, err := ifaceInfo(name); err != nil {
			fmt.Fprintf(stderr, "pppoed: -I/interfaces: %v\n", err)
			return 2
		}
	}

	log, closeLog, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "pppoed: %v\n", err)
		return 1
	}
	defer closeLog()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// SIGHUP reloads the options and secrets files, as pppd re-reads its
	// secrets; it never stops the daemon.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := serve(ctx, cfg, log, hup); err != nil {
		log.Error("pppoed failed", "err", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, cfg *config, log *logger, hup <-chan os.Signal) error {
	log.Info("starting", "version", version)
	for _, w := range cfg.warnings {
		log.Warn(w)
	}
	for _, n := range cfg.opts.notes {
		log.Debug(n)
	}
	for _, w := range cfg.opts.warnings {
		log.Warn(w)
	}
	if cfg.opts.login {
		log.Warn("login in the options file is not supported: pppoed checks the chap-secrets and pap-secrets files, not the system password database")
	}
	if cfg.PIDFile != "" {
		release, err := writePIDFile(cfg.PIDFile)
		if err != nil {
			return err
		}
		defer release()
	}

	kernel := false
	switch cfg.Mode {
	case "kernel":
		if err := kernelPPPAvailable(); err != nil {
			return fmt.Errorf("kernel mode (-k): this kernel cannot do PPPoE (%v); load the pppoe module, or use --tun", err)
		}
		kernel = true
	case "auto":
		if err := kernelPPPAvailable(); err != nil {
			log.Info("the kernel has no PPPoE; using the userspace TUN data path", "reason", err)
		} else {
			kernel = true
		}
	}
	if kernel {
		log.Info("using the kernel's PPPoE driver")
	}

	var ifaces []*iface
	defer func() {
		for _, ifc := range ifaces {
			ifc.closeSockets()
		}
	}()
	// Subscribed before the sockets open, so no deletion goes unseen.
	links, err := openLinkWatch()
	if err != nil {
		log.Warn("cannot watch the interfaces; one deleted and created again will not be served again", "err", err)
	} else {
		defer links.close() // when run never did
	}
	for _, name := range cfg.Interfaces {
		ifi, err := waitInterface(ctx, log, name)
		if err != nil {
			return err
		}
		if ifi == nil {
			return nil // stopped while waiting
		}
		ifc, err := openIfaceOn(ifi, name, cfg, kernel)
		if err != nil {
			return err
		}
		ifaces = append(ifaces, ifc)
	}

	var path dataPath
	if kernel {
		k, err := newKernelPath(cfg)
		if err != nil {
			return err
		}
		path = k
	} else {
		t, err := setupTUN(cfg)
		if err != nil {
			return err
		}
		tp := newTUNPath(cfg, t, t.name())
		tp.routeMTU = func(a netip.Addr, mtu int) error {
			p := netip.PrefixFrom(a, 32)
			if mtu == 0 {
				// Back to the pool's covering route, MTU and all.
				return delRoute(t.name(), p)
			}
			return addRouteMTU(t.name(), p, mtu)
		}
		if v := cfg.v6; v != nil {
			tp.v6.pools = v
			tp.v6.routeTUN = func(pfx netip.Prefix, mtu int, add bool) error {
				if add {
					return addRouteMTU(t.name(), pfx, mtu)
				}
				return delRoute(t.name(), pfx)
			}
		}
		path = tp
	}
	if cfg.NAT.WAN != "" {
		if _, err := ifaceInfo(cfg.NAT.WAN); err != nil {
			path.close()
			return fmt.Errorf("--nat-out: %w", err)
		}
		mss := cfg.MSS
		if mss == 0 {
			mss = ethPPPoEMTU - 40 // IPv4 and TCP headers
		}
		nc := cfg.NAT
		if v := cfg.v6; v != nil {
			// IPv6 is routed to the pools, named ones too, not
			// masqueraded.
			// Shortest first, as the log line and the rules list them.
			nc.ipv6 = v.bases()
			slices.SortStableFunc(nc.ipv6, func(a, b netip.Prefix) int { return a.Bits() - b.Bits() })
		}
		if kernel {
			// pppN forwards whatever source it gets; the TUN data path
			// checks sources itself.
			nc.sessionIfaces = kernelSessionIfaces
		}
		n, err := setupNAT(ctx, nc, cfg.pool, mss, log)
		if err != nil {
			path.close()
			return fmt.Errorf("NAT: %w", err)
		}
		defer func() {
			if err := n.cleanup(context.Background()); err != nil {
				log.Error("removing NAT failed", "err", err)
			}
		}()
	} else {
		removeLeftoverNAT(ctx, cfg.NAT.StateFile, log)
	}
	var auth authenticator
	var rad *radiusClient
	var radAcct *radiusAccounting
	if rc := &cfg.Radius; rc.enabled() {
		var err error
		if rad, err = newRadiusClient(rc, log); err != nil {
			path.close()
			return err
		}
		if radAcct, err = newRadiusAccounting(rad, rc, cfg.ACName, log); err != nil {
			path.close()
			return err
		}
		auth = &radiusAuthenticator{c: rad, nasID: rc.NASIdentifier, acName: cfg.ACName}
		rad.start()
		radAcct.onOff(acctStatusOn, time.Now())
		// The server stops accounting as soon as its loop ends; this is
		// for when it never ran.
		defer func() {
			radAcct.stop()
			rad.close()
		}()
		from := "[radius]"
		if rc.from != "" {
			from = rc.from
		}
		args := []any{"servers", len(rc.Server), "from", from, "nas_identifier", rc.NASIdentifier, "nas_ip_address", rad.nasIP.String()}
		if rad.nasIP6.IsValid() {
			args = append(args, "nas_ipv6_address", rad.nasIP6.String())
		}
		log.Info("authenticating and accounting through RADIUS", args...)
	}
	srv := newServer(cfg, log, ifaces, path, auth, time.Now)
	srv.links = links
	srv.openIface = func(name string) (*iface, error) { return openIface(name, cfg, kernel) }
	srv.hooks.failures = &srv.stats.c[statHookFailures]
	if radAcct != nil {
		srv.radAcct = radAcct
		srv.acctInterval = time.Duration(cfg.Radius.AcctInterim)
		if cfg.Radius.DAE.Listen != "" {
			d, err := listenDAE(&cfg.Radius.DAE, cfg.Radius.NASIdentifier)
			if err != nil {
				path.close()
				return fmt.Errorf("radius.dae.listen: %w", err)
			}
			d.start(srv)
		}
	}
	if cfg.AcctFile != "" {
		a, err := openAcct(cfg.AcctFile, log, &srv.stats.c[statAcctErrors])
		if err != nil {
			path.close()
			return fmt.Errorf("--acct-file: %w", err)
		}
		// After the server has stopped: every stop record is in.
		defer a.close()
		srv.acct, srv.reopen = a, a.requestReopen
	}
	if cfg.CtlSocket != "" {
		c, err := listenCtl(cfg.CtlSocket)
		if err != nil {
			path.close()
			return err
		}
		c.start(srv)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				srv.events.post(reloadRequest{})
			}
		}
	}()
	log.Info("listening", "interfaces", cfg.Interfaces, "ac_name", cfg.ACName,
		"services", cfg.ServiceNames, "max_sessions", cfg.MaxSessions, "mode", path.mode())
	ifaces = nil // run closes them
	return srv.run(ctx)
}

// setupTUN creates the data path's TUN device with the server's address and
// routes the whole pool to it.
func setupTUN(cfg *config) (*tunDevice, error) {
	tun, err := openTUN(cfg.TUNName, ethPPPoEMTU)
	if err != nil {
		return nil, fmt.Errorf("tun: %w", err)
	}
	if err := tun.setAddr(cfg.localIP, netip.Addr{}); err != nil {
		tun.close()
		return nil, fmt.Errorf("tun %s: %w", cfg.TUNName, err)
	}
	addrs := make([]netip.Addr, cfg.pool.size())
	for i := range addrs {
		addrs[i] = cfg.pool.remoteAddr(poolSlot(i))
	}
	routes := coveringPrefixes(addrs)
	if v := cfg.v6; v != nil {
		routes = append(routes, v.bases()...)
	}
	for _, p := range routes {
		if err := addRoute(cfg.TUNName, p); err != nil {
			tun.close()
			return nil, fmt.Errorf("route %s via %s: %w", p, cfg.TUNName, err)
		}
	}
	return tun, nil
}

// waitInterface returns the interface once it exists and is up. A missing
// interface is an error at once, with a message that says so plainly; a
// down one is waited for, with one log line, so a LAN bridge that comes up
// after us does not turn into a crash loop. It returns nil, nil if ctx ends
// first.
func waitInterface(ctx context.Context, log *logger, name string) (*net.Interface, error) {
	ifi, err := ifaceInfo(name)
	if err != nil {
		return nil, err
	}
	if ifi.Flags&net.FlagUp != 0 {
		return ifi, nil
	}
	log.Warn("interface is down; waiting for it to come up", "iface", name)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, nil
		case <-t.C:
		}
		if ifi, err = ifaceInfo(name); err != nil {
			return nil, err
		}
		if ifi.Flags&net.FlagUp != 0 {
			log.Info("interface is up", "iface", name)
			return ifi, nil
		}
	}
}

// writePIDFile writes our pid to path and holds a lock on it, as rp-pppoe's
// -X does, so a second instance on the same pid file fails instead of
// fighting the first over the interfaces.
func writePIDFile(path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pid file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file %s is locked: another pppoed is running", path)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file: %w", err)
	}
	if _, err := fmt.Fprintf(f, "%d\n", os.Getpid()); err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file: %w", err)
	}
	return func() {
		os.Remove(path)
		f.Close()
	}, nil
}
