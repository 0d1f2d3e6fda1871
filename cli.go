// The control commands: pppoed show, terminate, reload, set and rpc talk
// to a running daemon through its control socket (ctl.go) and print what
// it answers, as a table for people or as JSON for programs. The table is
// made from the same structs as the JSON.

package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

type ctlCommand func(args []string, stdin io.Reader, stdout, stderr io.Writer) int

var ctlCommands = map[string]ctlCommand{
	"show":      cmdShow,
	"terminate": cmdTerminate,
	"reload":    cmdReload,
	"set":       cmdSet,
	"rpc":       cmdRPC,
}

// ctlFlags are the flags every control command takes.
type ctlFlags struct {
	fs     *flag.FlagSet
	socket string
	json   bool
	format string
	req    ctlRequest
	sid    uint
}

func newCtlFlags(name string, filters, output bool) *ctlFlags {
	c := &ctlFlags{fs: flag.NewFlagSet("pppoed "+name, flag.ContinueOnError)}
	c.fs.SetOutput(io.Discard)
	sock := os.Getenv("PPPOED_CTL_SOCKET")
	if sock == "" {
		sock = defaultCtlSocket
	}
	c.fs.StringVar(&c.socket, "ctl-socket", sock, "the daemon's control `socket` (or $PPPOED_CTL_SOCKET)")
	if filters {
		c.fs.StringVar(&c.req.User, "user", "", "sessions of this user `name`")
		c.fs.StringVar(&c.req.MAC, "mac", "", "the session of this client `MAC`")
		c.fs.StringVar(&c.req.IP, "ip", "", "the session with this `address`")
		c.fs.UintVar(&c.sid, "sid", 0, "the session with this PPPoE session `ID`")
	}
	if output {
		c.fs.BoolVar(&c.json, "json", false, "print JSON")
		c.fs.StringVar(&c.format, "format", "table", "table, json or prometheus")
	}
	return c
}

// parse parses args, flags and other arguments in any order; it returns
// the other arguments, or an exit status and false when the command must
// stop (help, or a usage error already printed).
func (c *ctlFlags) parse(args []string, stdout, stderr io.Writer, usage string) ([]string, int, bool) {
	var rest []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, "Usage: %s\n", usage)
				c.fs.SetOutput(stdout)
				c.fs.PrintDefaults()
				return nil, 0, false
			}
			fmt.Fprintf(stderr, "%s: %v\n", c.fs.Name(), err)
			return nil, 2, false
		}
		if c.fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, c.fs.Arg(0)), c.fs.Args()[1:]
	}
	if c.sid > 0xffff {
		fmt.Fprintf(stderr, "%s: --sid: %d is not a session ID\n", c.fs.Name(), c.sid)
		return nil, 2, false
	}
	c.req.SID = uint16(c.sid)
	if c.json {
		c.format = "json"
	}
	return rest, 0, true
}

// call sends the request and prints an error in one line if it fails.
func (c *ctlFlags) call(stderr io.Writer) (ctlReply, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*ctlIOTimeout)
	defer cancel()
	rep, err := dialCtl(ctx, c.socket, c.req)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", c.fs.Name(), err)
		return rep, 1
	}
	return rep, 0
}

// showViews are what `pppoed show` shows, each with the formats it can
// print.
var showViews = map[string]struct {
	filters bool
	usage   string
	formats map[string]func(io.Writer, *ctlReply)
}{
	"sessions": {true, "pppoed show sessions [--json] [--user U] [--mac M] [--ip A] [--sid N]", map[string]func(io.Writer, *ctlReply){
		"table": func(w io.Writer, r *ctlReply) { printSessions(w, r.Sessions) },
		"json":  func(w io.Writer, r *ctlReply) { printJSON(w, r.Sessions) },
	}},
	"stat": {false, "pppoed show stat [--json | --format prometheus]", map[string]func(io.Writer, *ctlReply){
		"table":      func(w io.Writer, r *ctlReply) { printStat(w, r.Stat) },
		"json":       func(w io.Writer, r *ctlReply) { printJSON(w, r.Stat) },
		"prometheus": func(w io.Writer, r *ctlReply) { io.WriteString(w, prometheusText(r.Stat)) },
	}},
}

func cmdShow(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	what := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		what, args = args[0], args[1:]
	}
	v, ok := showViews[what]
	if !ok {
		fmt.Fprintln(stderr, "pppoed show: say what: sessions or stat")
		return 2
	}
	c := newCtlFlags("show "+what, v.filters, true)
	c.req.Cmd = what
	rest, code, ok := c.parse(args, stdout, stderr, v.usage)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "pppoed show %s: unexpected argument %q\n", what, rest[0])
		return 2
	}
	render, ok := v.formats[c.format]
	if !ok {
		fmt.Fprintf(stderr, "pppoed show %s: --format %q is not one of %s\n", what, c.format, strings.Join(slices.Sorted(maps.Keys(v.formats)), ", "))
		return 2
	}
	rep, code := c.call(stderr)
	if code != 0 {
		return code
	}
	render(stdout, &rep)
	return 0
}

func cmdTerminate(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCtlFlags("terminate", true, false)
	c.fs.BoolVar(&c.req.All, "all", false, "every session")
	c.req.Cmd = "terminate"
	rest, code, ok := c.parse(args, stdout, stderr, "pppoed terminate --sid N | --user U | --ip A | --mac M | --all")
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "pppoed terminate: unexpected argument %q\n", rest[0])
		return 2
	}
	rep, code := c.call(stderr)
	if code != 0 {
		return code
	}
	fmt.Fprintf(stdout, "%d sessions terminated\n", *rep.Count)
	return 0
}

func cmdReload(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCtlFlags("reload", false, false)
	c.req.Cmd = "reload"
	if _, code, ok := c.parse(args, stdout, stderr, "pppoed reload (what SIGHUP does)"); !ok {
		return code
	}
	rep, code := c.call(stderr)
	if code != 0 {
		return code
	}
	fmt.Fprintf(stdout, "reloaded; changed: %s\n", rep.Changed)
	return 0
}

func cmdSet(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "rate" {
		fmt.Fprintln(stderr, "pppoed set: usage: pppoed set rate --user U DOWN/UP (kbit/s; --sid, --mac or --ip instead of --user)")
		return 2
	}
	c := newCtlFlags("set rate", true, false)
	c.req.Cmd = "set-rate"
	rest, code, ok := c.parse(args[1:], stdout, stderr, "pppoed set rate --user U DOWN/UP")
	if !ok {
		return code
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "pppoed set rate: give the rate as DOWN/UP in kbit/s, such as 2048/512")
		return 2
	}
	c.req.Rate = rest[0]
	if _, err := parseRate(c.req.Rate); err != nil {
		fmt.Fprintf(stderr, "pppoed set rate: %v\n", err)
		return 2
	}
	rep, code := c.call(stderr)
	if code != 0 {
		return code
	}
	fmt.Fprintf(stdout, "%d sessions limited to %s kbit/s\n", *rep.Count, c.req.Rate)
	return 0
}

// rpcMethods is what `ubus -v list pppoed` shows: each method and its
// arguments in rpcd's notation (a string "str", a number 32, a bool true).
const rpcMethods = `{"sessions":{"user":"str","mac":"str","ip":"str","sid":32},"stat":{},` +
	`"terminate":{"user":"str","mac":"str","ip":"str","sid":32,"all":true},"reload":{},` +
	`"set_rate":{"user":"str","mac":"str","ip":"str","sid":32,"rate":"str"}}`

// cmdRPC is the OpenWrt rpcd plugin's back end: `pppoed rpc list`, and
// `pppoed rpc call METHOD` with the arguments as a JSON object on stdin.
// It prints the daemon's reply as it came, a JSON object.
func cmdRPC(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCtlFlags("rpc", false, false)
	rest, code, ok := c.parse(args, stdout, stderr, "pppoed rpc list | pppoed rpc call METHOD < args.json")
	if !ok {
		return code
	}
	switch {
	case len(rest) == 1 && rest[0] == "list":
		fmt.Fprintln(stdout, rpcMethods)
		return 0
	case len(rest) == 2 && rest[0] == "call":
	default:
		fmt.Fprintln(stderr, "pppoed rpc: usage: pppoed rpc list | pppoed rpc call METHOD < args.json")
		return 2
	}
	cmd := map[string]string{"sessions": "sessions", "stat": "stat", "terminate": "terminate", "reload": "reload", "set_rate": "set-rate"}[rest[1]]
	if cmd == "" {
		stdout.Write(append(marshalJSON(ctlReply{Error: "unknown method " + rest[1]}), '\n'))
		return 0
	}
	body, err := io.ReadAll(io.LimitReader(stdin, maxCtlRequest))
	if err != nil {
		fmt.Fprintf(stderr, "pppoed rpc: %v\n", err)
		return 1
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		if err := unmarshalJSON([]byte(s), &c.req, true); err != nil {
			stdout.Write(append(marshalJSON(ctlReply{Error: "arguments: " + err.Error()}), '\n'))
			return 0
		}
	}
	c.req.Cmd = cmd
	ctx, cancel := context.WithTimeout(context.Background(), 3*ctlIOTimeout)
	defer cancel()
	rep, err := dialCtl(ctx, c.socket, c.req)
	if err != nil && rep.Error == "" {
		rep.Error = err.Error()
	}
	return printJSON(stdout, rep)
}

func printJSON(w io.Writer, v any) int {
	w.Write(append(marshalJSONIndent(v), '\n'))
	return 0
}

// printSessions prints the sessions as accel-cmd's "show sessions" does.
func printSessions(w io.Writer, ss []sessionInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	// IPv6 columns (accel-cmd's ip6 and ip6-dp) only when a session has
	// IPv6.
	v6 := false
	for _, s := range ss {
		v6 = v6 || s.IPv6Prefix != ""
	}
	head := " ifname\t username\t calling-sid\t sid\t ip\t state\t uptime\t rx-bytes\t tx-bytes\t rx-pkts\t tx-pkts\t auth\t rate"
	if v6 {
		head += "\t ip6\t ip6-dp"
	}
	fmt.Fprintln(tw, head)
	for _, s := range ss {
		rate := "-"
		if s.RateDown != 0 || s.RateUp != 0 {
			rate = fmt.Sprintf("%d/%d", s.RateDown, s.RateUp)
		}
		fmt.Fprintf(tw, " %s\t %s\t %s\t %d\t %s\t %s\t %s\t %s\t %s\t %d\t %d\t %s\t %s", s.Ifname, s.User, s.MAC, s.SID, s.IP,
			s.State, uptime(s.Uptime), humanBytes(s.RxBytes), humanBytes(s.TxBytes), s.RxPackets, s.TxPackets, s.Auth, rate)
		if v6 {
			fmt.Fprintf(tw, "\t %s\t %s", cmp.Or(s.IPv6Prefix, "-"), cmp.Or(s.IPv6Delegated, "-"))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d sessions\n", len(ss))
}

func uptime(sec int64) string {
	d := time.Duration(sec) * time.Second
	if d >= 24*time.Hour {
		return fmt.Sprintf("%d.%02d:%02d:%02d", d/(24*time.Hour), d/time.Hour%24, d/time.Minute%60, d/time.Second%60)
	}
	return fmt.Sprintf("%02d:%02d:%02d", d/time.Hour, d/time.Minute%60, d/time.Second%60)
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	f, u := float64(n), 0
	for f >= unit && u < 4 {
		f /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGT"[u-1])
}

func printStat(w io.Writer, st *statInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "version\t%s (%s mode)\n", st.Version, st.Mode)
	fmt.Fprintf(tw, "uptime\t%s (since %s)\n", uptime(st.Uptime), st.Started.Format(time.RFC3339))
	fmt.Fprintf(tw, "sessions\tstarting %d, auth %d, up %d, ending %d\n", st.SessionsStarting, st.SessionsAuth, st.SessionsUp, st.SessionsEnding)
	fmt.Fprintf(tw, "setup rate\t%.1f sessions/s over the last 10 s\n", st.SetupRate)
	fmt.Fprintf(tw, "loop lag\t%.1f ms at worst, lately\n", st.LoopLagMax)
	fmt.Fprintf(tw, "started\t%d\n", st.SessionsStarted)
	for _, k := range sortedKeys(st.SessionsEnded) {
		fmt.Fprintf(tw, "ended: %s\t%d\n", k, st.SessionsEnded[k])
	}
	fmt.Fprintf(tw, "auth failures\t%d\n", st.AuthFailures)
	for _, k := range sortedKeys(st.Drops) {
		fmt.Fprintf(tw, "dropped: %s\t%d\n", k, st.Drops[k])
	}
	fmt.Fprintf(tw, "pool\t%d of %d free\n", st.PoolFree, st.PoolSize)
	if p := st.IPv6Pools; p != nil {
		fmt.Fprintf(tw, "ipv6 pools\t/64s %d of %d used, delegated %d of %d used\n", p.PrefixUsed, p.PrefixSize, p.DelegatedUsed, p.DelegatedSize)
	}
	fmt.Fprintf(tw, "memory\tGo heap %s, RSS %s\n", humanBytes(st.GoHeapBytes), humanBytes(st.RSSBytes))
	if r := st.Radius; r != nil {
		for _, s := range r.Servers {
			dead := ""
			if s.Dead {
				dead = " (dead)"
			}
			fmt.Fprintf(tw, "radius %s, %s%s\t%d requests, %d retransmits, %d timeouts, %d accepts, %d rejects, %d accounting responses, %d dropped\n",
				s.Server, s.Role, dead, s.Requests, s.Retransmits, s.Timeouts, s.Accepts, s.Rejects, s.AcctResponses, s.Dropped)
		}
		a := r.Accounting
		fmt.Fprintf(tw, "radius accounting\t%d waiting, %d in the spool; %d sent, %d retried, %d spooled, %d lost\n",
			a.Queued, a.SpoolPending, a.Sent, a.Retried, a.Spooled, a.Dropped)
		fmt.Fprintf(tw, "radius dynamic authorization\t%d answered, %d dropped\n", r.DAEServed, r.DAEDropped)
	}
	for _, k := range sortedKeys(st.Counters) {
		if st.Counters[k] != 0 {
			fmt.Fprintf(tw, "%s\t%d\n", k, st.Counters[k])
		}
	}
	tw.Flush()
}

func sortedKeys(m map[string]uint64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// prometheusText renders st in Prometheus' text exposition format, for
// node_exporter's textfile collector.
func prometheusText(st *statInfo) string {
	var b strings.Builder
	metric := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP pppoed_%s %s\n# TYPE pppoed_%s %s\n", name, help, name, typ)
	}
	metric("sessions", "gauge", "Sessions by state.")
	for _, s := range []struct {
		state string
		n     int
	}{{"starting", st.SessionsStarting}, {"auth", st.SessionsAuth}, {"up", st.SessionsUp}, {"ending", st.SessionsEnding}} {
		fmt.Fprintf(&b, "pppoed_sessions{state=%q} %d\n", s.state, s.n)
	}
	metric("sessions_started_total", "counter", "Sessions started (PADS sent).")
	fmt.Fprintf(&b, "pppoed_sessions_started_total %d\n", st.SessionsStarted)
	metric("sessions_ended_total", "counter", "Sessions ended, by reason.")
	for _, k := range sortedKeys(st.SessionsEnded) {
		fmt.Fprintf(&b, "pppoed_sessions_ended_total{reason=\"%s\"} %d\n", promEscape(k), st.SessionsEnded[k])
	}
	metric("auth_failures_total", "counter", "Failed logins.")
	fmt.Fprintf(&b, "pppoed_auth_failures_total %d\n", st.AuthFailures)
	metric("frames_dropped_total", "counter", "Received frames not acted on, by reason.")
	for _, k := range sortedKeys(st.Drops) {
		fmt.Fprintf(&b, "pppoed_frames_dropped_total{reason=\"%s\"} %d\n", promEscape(k), st.Drops[k])
	}
	metric("setup_rate", "gauge", "Sessions that came up per second, over the last 10 seconds.")
	fmt.Fprintf(&b, "pppoed_setup_rate %g\n", st.SetupRate)
	metric("pool_addresses", "gauge", "Client addresses in the pool, by state.")
	fmt.Fprintf(&b, "pppoed_pool_addresses{state=\"free\"} %d\npppoed_pool_addresses{state=\"used\"} %d\n", st.PoolFree, st.PoolSize-st.PoolFree)
	if p := st.IPv6Pools; p != nil {
		metric("ipv6_pool_prefixes", "gauge", "IPv6 prefixes in the pools, by kind (prefix: the /64s of RAs; delegated) and state.")
		fmt.Fprintf(&b, "pppoed_ipv6_pool_prefixes{kind=\"prefix\",state=\"used\"} %d\npppoed_ipv6_pool_prefixes{kind=\"prefix\",state=\"free\"} %d\n", p.PrefixUsed, p.PrefixSize-p.PrefixUsed)
		fmt.Fprintf(&b, "pppoed_ipv6_pool_prefixes{kind=\"delegated\",state=\"used\"} %d\npppoed_ipv6_pool_prefixes{kind=\"delegated\",state=\"free\"} %d\n", p.DelegatedUsed, p.DelegatedSize-p.DelegatedUsed)
	}
	metric("loop_lag_max_seconds", "gauge", "The event loop's worst lateness over the last 10 to 20 seconds.")
	fmt.Fprintf(&b, "pppoed_loop_lag_max_seconds %g\n", st.LoopLagMax/1000)
	metric("uptime_seconds", "gauge", "Seconds since pppoed started.")
	fmt.Fprintf(&b, "pppoed_uptime_seconds %d\n", st.Uptime)
	metric("go_heap_bytes", "gauge", "Bytes of the Go heap in use.")
	fmt.Fprintf(&b, "pppoed_go_heap_bytes %d\n", st.GoHeapBytes)
	metric("resident_memory_bytes", "gauge", "Resident set size.")
	fmt.Fprintf(&b, "pppoed_resident_memory_bytes %d\n", st.RSSBytes)
	metric("control_errors_total", "counter", "Malformed or failed control requests.")
	fmt.Fprintf(&b, "pppoed_control_errors_total %d\n", st.CtlErrors)
	if r := st.Radius; r != nil {
		for _, m := range []struct {
			name, help string
			v          func(radiusServerStat) uint64
		}{
			{"radius_requests_total", "RADIUS requests sent, by server.", func(s radiusServerStat) uint64 { return s.Requests }},
			{"radius_retransmits_total", "RADIUS requests sent again.", func(s radiusServerStat) uint64 { return s.Retransmits }},
			{"radius_timeouts_total", "RADIUS requests that timed out.", func(s radiusServerStat) uint64 { return s.Timeouts }},
			{"radius_rejects_total", "Access-Rejects.", func(s radiusServerStat) uint64 { return s.Rejects }},
			{"radius_dropped_total", "RADIUS replies dropped (authenticator, Message-Authenticator).", func(s radiusServerStat) uint64 { return s.Dropped }},
		} {
			metric(m.name, "counter", m.help)
			for _, s := range r.Servers {
				fmt.Fprintf(&b, "pppoed_%s{server=\"%s\"} %d\n", m.name, promEscape(s.Server), m.v(s))
			}
		}
		metric("radius_accounting_queued", "gauge", "Accounting records waiting, in memory and in the spool.")
		fmt.Fprintf(&b, "pppoed_radius_accounting_queued %d\n", r.Accounting.Queued+r.Accounting.SpoolPending)
		metric("radius_accounting_lost_total", "counter", "Accounting records lost because the spool could not be written.")
		fmt.Fprintf(&b, "pppoed_radius_accounting_lost_total %d\n", r.Accounting.Dropped)
	}
	for _, k := range sortedKeys(st.Counters) {
		switch k {
		case "sessions_started", "sessions_ended", "auth_failures":
			continue // above, with labels where they have them
		}
		name := k + "_total"
		metric(name, "counter", "pppoed's "+strings.ReplaceAll(k, "_", " ")+" counter.")
		fmt.Fprintf(&b, "pppoed_%s %d\n", name, st.Counters[k])
	}
	return b.String()
}

// promEscape escapes a label value: backslash, double quote and newline.
func promEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
