//go:build !noclient

// pppoed client: a PPPoE client for tests and load, on the same codecs and
// automata as the server. The router binary leaves it out (-tags noclient,
// noclient.go).
//
// One event loop (runLoop) owns every session, as on the server; reader
// goroutines post frames to it. Each session has its own MAC address,
// locally administered and derived from the interface's, so one process can
// stand for many subscribers; the interface is put in promiscuous mode so
// frames to those addresses reach us. With --tun each session gets a TUN
// device with its address, and a goroutine per direction moves IPv4
// between it and the session.

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

type clientConfig struct {
	ifname       string
	user         string
	pass         string
	auth         []authMethod
	service      string
	n            int
	rate         float64
	tun          bool
	defaultRoute bool
	timeout      time.Duration
	verbose      bool
	quiet        bool
	hangUp       bool
	mru          int
	mac          hwAddr
	ipv6         bool
}

func parseClientArgs(args []string) (*clientConfig, error) {
	c := &clientConfig{}
	fs := flag.NewFlagSet("pppoed client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var auth string
	fs.StringVar(&c.ifname, "I", "", "dial on this `interface`")
	fs.StringVar(&c.user, "u", "", "user name")
	fs.StringVar(&c.pass, "p", "", "password")
	fs.StringVar(&auth, "auth", "", "only answer this method: pap, chap or mschapv2 (default: whatever the server asks)")
	fs.StringVar(&c.service, "S", "", "Service-Name to ask for (default: any)")
	fs.IntVar(&c.n, "n", 1, "number of sessions, each with its own MAC")
	fs.Float64Var(&c.rate, "rate", 0, "start new sessions at this many a second, evenly paced (0: all at once)")
	fs.BoolVar(&c.hangUp, "hang-up", false, "hang every session up and exit once all are up or failed, instead of keeping them")
	fs.BoolVar(&c.quiet, "q", false, "print no line per session, only the summary and the load report (for load runs)")
	fs.BoolVar(&c.tun, "tun", false, "bring up a TUN device with each session's address")
	fs.BoolVar(&c.ipv6, "ipv6", false, "negotiate IPv6CP too: take the RA's /64 and ask for a delegated prefix over DHCPv6")
	fs.BoolVar(&c.defaultRoute, "default-route", false, "with --tun, route everything through the first session")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "give up on sessions not up by then")
	fs.BoolVar(&c.verbose, "v", false, "log every session event")
	fs.IntVar(&c.mru, "mru", 0, "ask for this MRU (default 1492, or what RFC 4638 allows)")
	fs.Func("mac", "the first session's `MAC` (default: the interface's)", func(s string) error {
		hw, err := net.ParseMAC(s)
		if err != nil || len(hw) != ethAddrLen || !hwAddr(hw).isUnicast() {
			return errors.New("want a unicast Ethernet address")
		}
		c.mac = hwAddr(hw)
		return nil
	})
	if err := fs.Parse(splitGetopt(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Println("Usage: pppoed client -I IF -u USER -p PASS [--auth pap|chap|mschapv2] [-S SVC] [-n N] [--rate R] [-q] [--hang-up] [--tun] [--default-route] [--ipv6]")
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	if c.ifname == "" {
		return nil, usagef("-I: no interface given")
	}
	if c.rate < 0 || c.rate > 1e6 {
		return nil, usagef("--rate: %v is outside 0..1000000", c.rate)
	}
	if c.n < 1 || c.n > 65534 {
		return nil, usagef("-n: %d is outside 1..65534", c.n)
	}
	if c.mru != 0 && (c.mru < minMRU || c.mru > 65535) {
		return nil, usagef("--mru: %d is outside %d..65535", c.mru, minMRU)
	}
	if c.defaultRoute && !c.tun {
		return nil, usagef("--default-route needs --tun")
	}
	c.auth = []authMethod{authMSCHAPv2, authCHAP, authPAP}
	if auth != "" {
		m, err := parseAuthName(auth)
		if err != nil {
			return nil, usagef("--auth: %v", err)
		}
		c.auth = []authMethod{m}
	}
	return c, nil
}

func clientMain(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseClientArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "pppoed client: %v\n", err)
		return 2
	}
	level := levelWarn
	if cfg.verbose {
		level = levelDebug
	}
	log := newTextLogger(level, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	d, err := newDialer(cfg, log, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "pppoed client: %v\n", err)
		return 1
	}
	if !d.run(ctx) {
		return 1
	}
	return 0
}

// clientState is where a client session is.
type clientState uint8

const (
	csDiscovery clientState = iota
	csRequest
	csPPP
	csUp
	csFailed
	csDone
)

// csess is one dialled session. It is the pppHost of its LCP and IPCP
// layers. The dialer's loop owns it.
type csess struct {
	d        *dialer
	idx      int
	state    clientState
	mac      hwAddr  // ours, one per session
	hostUniq [8]byte // our pid, then the session's index: unique per process, as pppd's
	ac       hwAddr  // the access concentrator, once it offered
	cookie   []byte
	tries    int
	retryAt  time.Time
	id       uint16 // the session ID, once the PADS came
	started  time.Time
	log      *logger

	pppConn
	papID     uint8
	challenge [chapChallengeLen]byte // the server's MS-CHAPv2 challenge
	peerCh    [16]byte
	success   string                    // the MS-CHAPv2 authenticator response we expect
	tunP      atomic.Pointer[tunDevice] // read by the session reader
	// early holds session frames that overtook our PADS: they arrive on
	// another socket, and the server starts LCP right after its PADS.
	early   [][]byte
	failWhy string
	tunWg   sync.WaitGroup
	// authFail is why authentication failed; we then wait for the server
	// to close the link (Terminate-Request, PADT) rather than hang up.
	authFail   string
	authFailAt time.Time
	// lastResp is our last CHAP Response, sent again if neither Success
	// nor Failure comes back (a lost Success must not strand us).
	lastResp []byte
	respID   uint8
	ipcpUp   bool
	v6       csess6
}

type dialer struct {
	cfg    *clientConfig
	log    *logger
	out    io.Writer
	ifi    *net.Interface
	disc   *packetLink
	sessL  *packetLink
	rx     chan rxFrame
	wg     sync.WaitGroup
	clock  time.Time
	ctrlTx frame
	tx     frame
	pkt    discoveryPacket
	out2   discoveryPacket
	fsmCfg fsmConfig

	sessions []*csess
	byMAC    map[hwAddr]*csess
	started  int
	firstAt  time.Time
	lastUpAt time.Time
	nUp      int
	nFailed  int

	// The load report (report): retransmissions by kind, why sessions
	// failed, frames the readers dropped because the loop was behind.
	allStartedAt                         time.Time // when the last first PADI went
	retxPADI, retxPADR, retxCP, retxAuth int
	failures                             map[string]int
	rxDropped                            atomic.Uint64
}

func newDialer(cfg *clientConfig, log *logger, out io.Writer) (*dialer, error) {
	ifi, err := ifaceInfo(cfg.ifname)
	if err != nil {
		return nil, err
	}
	d := &dialer{cfg: cfg, log: log, out: out, ifi: ifi, rx: make(chan rxFrame, 4096), fsmCfg: defaultFSMConfig(), byMAC: map[hwAddr]*csess{}, failures: map[string]int{}}
	if d.disc, err = openPacketLink(ifi, etherTypeDiscovery); err != nil {
		return nil, err
	}
	if d.sessL, err = openPacketLink(ifi, etherTypeSession); err != nil {
		d.disc.close()
		return nil, err
	}
	if cfg.n > 1 || cfg.mac != (hwAddr{}) {
		// Frames to our extra MACs must reach the sockets.
		if err := d.sessL.setPromiscuous(true); err != nil {
			log.Warn("cannot make the interface promiscuous", "err", err)
		}
	}
	var base hwAddr
	copy(base[:], ifi.HardwareAddr)
	if cfg.mac != (hwAddr{}) {
		base = cfg.mac
	}
	var prefix [2]byte
	fillRandom(prefix[:])
	for i := range cfg.n {
		cs := &csess{d: d, idx: i}
		mac := base
		if i > 0 {
			// A locally administered unicast address per session, under
			// a random prefix so two clients on one segment do not clash.
			mac = hwAddr{0x02, prefix[0], prefix[1], byte(i >> 16), byte(i >> 8), byte(i)}
			if mac == base {
				mac[1] ^= 0x80
			}
		}
		binary.BigEndian.PutUint32(cs.hostUniq[:], uint32(os.Getpid()))
		binary.BigEndian.PutUint32(cs.hostUniq[4:], uint32(i))
		cs.mac = mac
		d.sessions = append(d.sessions, cs)
		d.byMAC[mac] = cs
	}
	return d, nil
}

// run dials every session, prints each one as it comes up and a summary,
// then keeps them up until ctx ends. It reports whether all came up.
func (d *dialer) run(ctx context.Context) bool {
	d.wg.Add(2)
	go d.read(d.disc, rxDiscovery)
	go d.read(d.sessL, rxSession)
	defer func() {
		d.disc.close()
		d.sessL.close()
		d.wg.Wait()
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	// --rate is held by starting, every millisecond, the sessions due by
	// then: at 20,000/s that is bursts of 20 PADIs, not of 1,000.
	var paceC <-chan time.Time
	pace := time.NewTicker(time.Millisecond)
	defer pace.Stop()
	if d.cfg.rate > 0 {
		paceC = pace.C
	}
	d.clock = time.Now()
	d.firstAt = d.clock
	d.startDue()
	deadline := d.clock.Add(d.cfg.timeout)
	summarized := false
	for {
		select {
		case <-ctx.Done():
			d.clock = time.Now()
			d.hangUp()
			if !summarized {
				d.summary()
			}
			return d.nUp == d.cfg.n
		case fr := <-d.rx:
			d.clock = time.Now()
			if fr.kind == rxSession {
				d.onSessionFrame(fr.f[:fr.n])
			} else {
				d.onDiscovery(fr.f[:fr.n])
			}
			putFrame(fr.f)
		case <-paceC:
			d.clock = time.Now()
			d.startDue()
			if d.started == len(d.sessions) {
				pace.Stop()
				paceC = nil
			}
		case <-tick.C:
			d.clock = time.Now()
			d.onTick()
			// --timeout counts from the last session's start, so
			// pacing does not eat into the last ones' time.
			if !d.allStartedAt.IsZero() {
				deadline = d.allStartedAt.Add(d.cfg.timeout)
			}
			if !summarized && d.clock.After(deadline) {
				for _, cs := range d.sessions {
					if cs.state < csUp {
						d.fail(cs, "timed out")
					}
				}
			}
		}
		if !summarized && d.nUp+d.nFailed == d.cfg.n {
			d.summary()
			summarized = true
			if d.nFailed > 0 || d.cfg.hangUp {
				d.hangUp()
				return d.nFailed == 0
			}
		}
	}
}

func (d *dialer) read(l *packetLink, kind rxKind) {
	defer d.wg.Done()
	for {
		f := getFrame()
		n, err := l.readFrame(f[:])
		if err == errVLANTagged {
			putFrame(f)
			continue
		}
		if err != nil {
			putFrame(f)
			return
		}
		if kind == rxSession && d.forwardUp(f[:n]) {
			putFrame(f)
			continue
		}
		select {
		case d.rx <- rxFrame{f: f, n: n, kind: kind}:
		default:
			d.rxDropped.Add(1)
			putFrame(f)
		}
	}
}

// startDue starts the sessions due by now: all of them without --rate,
// else as many as the rate allows since the first.
func (d *dialer) startDue() {
	due := len(d.sessions)
	if d.cfg.rate > 0 {
		due = min(due, int(d.cfg.rate*d.clock.Sub(d.firstAt).Seconds())+1)
	}
	for ; d.started < due; d.started++ {
		d.sendPADI(d.sessions[d.started])
	}
	if d.started == len(d.sessions) && d.allStartedAt.IsZero() {
		d.allStartedAt = d.clock
	}
}

// discoveryTries is how many PADIs, and then PADRs, a session sends before
// it gives up; discoveryBackoff the wait after the first, doubled after
// each (RFC 2516 §7: 1, 2, 4, 8 and 16 s, as pppd's rp-pppoe plugin).
const (
	discoveryTries   = 5
	discoveryBackoff = time.Second
)

func (d *dialer) onTick() {
	if d.cfg.rate == 0 {
		d.startDue()
	}
	for _, cs := range d.sessions {
		switch cs.state {
		case csDiscovery, csRequest:
			// tries is 0 until --rate lets the session start.
			if cs.tries > 0 && !d.clock.Before(cs.retryAt) {
				if cs.tries >= discoveryTries {
					d.fail(cs, "no answer in discovery")
				} else if cs.state == csDiscovery {
					d.retxPADI++
					d.sendPADI(cs)
				} else {
					d.retxPADR++
					d.sendPADR(cs)
				}
			}
		case csPPP, csUp:
			if !cs.lcp.deadline.IsZero() && !d.clock.Before(cs.lcp.deadline) {
				d.retxCP++
				cs.lcp.timeout(d.clock)
			}
			if !cs.ipcp.deadline.IsZero() && !d.clock.Before(cs.ipcp.deadline) {
				d.retxCP++
				cs.ipcp.timeout(d.clock)
			}
			cs.tick6()
			if cs.authFail != "" {
				if d.clock.Sub(cs.authFailAt) > 5*time.Second {
					d.fail(cs, cs.authFail+"; the server did not close the link")
				}
				continue
			}
			if cs.phase == phaseAuthenticate && !d.clock.Before(cs.retryAt) {
				switch {
				case cs.lcpL.peerAuth == authPAP:
					d.retxAuth++
					d.sendPAP(cs)
				case cs.lastResp != nil:
					d.retxAuth++
					cs.sendCP(protoCHAP, chapResponse, cs.respID, cs.lastResp, nil, nil)
					cs.retryAt = d.clock.Add(3 * time.Second)
				}
			}
		}
	}
}

func (d *dialer) sendDiscovery(cs *csess, dst hwAddr, code discoveryCode, withCookie bool) {
	o := &d.out2
	o.reset(dst, cs.mac, code, 0)
	o.add(tagServiceName, []byte(d.cfg.service))
	o.add(tagHostUniq, cs.hostUniq[:])
	if withCookie && cs.cookie != nil {
		o.add(tagACCookie, cs.cookie)
	}
	if err := d.disc.writeFrame(o.appendTo(d.tx[:0])); err != nil {
		d.log.Debug("send failed", "err", err)
	}
	cs.tries++
	cs.retryAt = d.clock.Add(discoveryBackoff << min(cs.tries-1, discoveryTries-1))
}

func (d *dialer) sendPADI(cs *csess) { d.sendDiscovery(cs, broadcastAddr, codePADI, false) }
func (d *dialer) sendPADR(cs *csess) { d.sendDiscovery(cs, cs.ac, codePADR, true) }

func (d *dialer) onDiscovery(b []byte) {
	p := &d.pkt
	if p.parse(b) != nil {
		return
	}
	cs := d.byMAC[p.dst]
	if cs == nil {
		return
	}
	var t discoveryTags
	t.collect(p)
	if (p.code == codePADO || p.code == codePADS) && (!t.hasHostUniq || string(t.hostUniq) != string(cs.hostUniq[:])) {
		return
	}
	switch {
	case p.code == codePADO && cs.state == csDiscovery:
		if !t.hasCookie {
			return
		}
		cs.ac, cs.cookie = p.src, append([]byte(nil), t.cookie...)
		cs.state, cs.tries = csRequest, 0
		d.sendPADR(cs)
	case p.code == codePADS && cs.state == csRequest && p.src == cs.ac:
		if v, ok := p.find(tagServiceNameError); ok {
			d.fail(cs, fmt.Sprintf("Service-Name-Error %q", v))
			return
		}
		if v, ok := p.find(tagACSystemError); ok {
			d.fail(cs, fmt.Sprintf("AC-System-Error %q", v))
			return
		}
		if p.sessionID == 0 {
			d.fail(cs, "PADS with session ID 0")
			return
		}
		cs.id, cs.state = p.sessionID, csPPP
		cs.started = d.clock
		cs.log = nil // built when first used, with the session ID
		cs.startPPP()
		for _, f := range cs.early {
			d.onSessionFrame(f)
		}
		cs.early = nil
	case p.code == codePADT && p.src == cs.ac && p.sessionID == cs.id && cs.state >= csPPP && cs.state <= csUp:
		why := "server sent PADT"
		if cs.authFail != "" {
			why = cs.authFail + ", then the server sent PADT"
		}
		cs.ac = hwAddr{} // nothing more to tell the server
		d.fail(cs, why)
	}
}

func (cs *csess) startPPP() {
	d := cs.d
	cs.phase = phaseEstablish
	cs.initPPP(cs, d.fsmCfg, d.fsmCfg, &d.ctrlTx)
	cs.lcpL.reset(cs, &cs.lcp, true, d.cfg.auth, uint16(d.cfg.mru), 0)
	cs.lcp.up(d.clock)
	cs.lcp.open(d.clock)
}

// logger is the session's logger, built on first use: a load run of
// thousands of sessions that logs nothing builds none.
func (cs *csess) logger() *logger {
	if cs.log == nil {
		cs.log = cs.d.log.With("mac", cs.mac.String(), "sid", cs.id)
	}
	return cs.log
}

func (cs *csess) sendPPP(proto uint16, pkt []byte) {
	d := cs.d
	b := d.ctrlTx[:headroom+len(pkt)]
	putSessionHeader(b, cs.ac, cs.mac, etherTypeSession, cs.id, proto)
	d.sessL.writeFrame(b)
}

func (cs *csess) sendCP(proto uint16, code, id uint8, a, b, c []byte) {
	cs.sendPPP(proto, appendCP(cs.d.ctrlTx[headroom:headroom], code, id, a, b, c))
}

// csessOf finds the client session a session-stage frame belongs to.
func (d *dialer) csessOf(b []byte, h *pppoeHeader) *csess {
	if h.parse(b) != nil || h.code != codeSession || len(h.payload) < pppProtoLen {
		return nil
	}
	cs := d.byMAC[h.dst]
	if cs == nil || cs.state < csPPP || cs.state > csUp || cs.id != h.sessionID || cs.ac != h.src {
		return nil
	}
	return cs
}

func (d *dialer) onSessionFrame(b []byte) {
	var h pppoeHeader
	cs := d.csessOf(b, &h)
	if cs == nil {
		if cs = d.byMAC[h.dst]; cs != nil && cs.state == csRequest && h.src == cs.ac && len(cs.early) < 4 {
			cs.early = append(cs.early, append([]byte(nil), b...))
		}
		return
	}
	proto := binary.BigEndian.Uint16(h.payload)
	pkt := h.payload[pppProtoLen:]
	switch proto {
	case protoLCP:
		cs.lcp.input(d.clock, pkt)
	case protoPAP, protoCHAP:
		d.onAuth(cs, proto, pkt)
	case protoIPCP:
		if cs.phase == phaseNetwork {
			cs.ipcp.input(d.clock, pkt)
		}
	case protoIPv6CP:
		if cs.phase == phaseNetwork && d.cfg.ipv6 {
			cs.ipv6cp.input(d.clock, pkt)
		}
	case protoIPv6:
		if cs.v6.up {
			cs.onIPv6(pkt)
		}
	}
}

func (cs *csess) onLCPUp() {
	switch cs.lcpL.peerAuth {
	case authNone:
		cs.d.networkPhase(cs)
	case authPAP:
		cs.phase = phaseAuthenticate
		cs.d.sendPAP(cs)
	default:
		cs.phase = phaseAuthenticate // wait for the challenge
	}
}

func (d *dialer) sendPAP(cs *csess) {
	cs.papID++
	u, p := []byte(d.cfg.user), []byte(d.cfg.pass)
	cs.sendCP(protoPAP, papAuthReq, cs.papID, append([]byte{byte(len(u))}, u...), append([]byte{byte(len(p))}, p...), nil)
	cs.retryAt = d.clock.Add(3 * time.Second)
}

func (d *dialer) onAuth(cs *csess, proto uint16, pkt []byte) {
	code, id, data, ok := parseCP(pkt)
	if !ok || cs.phase != phaseAuthenticate {
		return
	}
	msg := func(b []byte) string {
		if proto == protoPAP && len(b) > 0 && int(b[0]) < len(b) {
			return string(b[1 : 1+int(b[0])])
		}
		return string(b)
	}
	switch {
	case proto == protoPAP && code == papAuthAck:
		d.networkPhase(cs)
	case proto == protoPAP && code == papAuthNak:
		d.authFailed(cs, msg(data))
	case proto == protoCHAP && code == chapChallenge:
		if len(data) < 1 || len(data) < 1+int(data[0]) {
			return
		}
		ch := data[1 : 1+int(data[0])]
		switch cs.lcpL.peerAuth {
		case authCHAP:
			r := chapMD5Response(id, []byte(d.cfg.pass), ch)
			val := append(append([]byte{16}, r[:]...), d.cfg.user...)
			cs.sendCP(protoCHAP, chapResponse, id, val, nil, nil)
			cs.lastResp, cs.respID, cs.retryAt = val, id, d.clock.Add(3*time.Second)
		case authMSCHAPv2:
			if len(ch) != 16 {
				d.authFailed(cs, "MS-CHAPv2 challenge is not 16 bytes")
				return
			}
			cs.challenge = [16]byte(ch)
			fillRandom(cs.peerCh[:])
			nt := generateNTResponse(cs.challenge, cs.peerCh, stripDomain(d.cfg.user), d.cfg.pass)
			val := make([]byte, 0, 1+mschapv2RespLen)
			val = append(val, mschapv2RespLen)
			val = append(val, cs.peerCh[:]...)
			val = append(val, make([]byte, 8)...)
			val = append(val, nt[:]...)
			val = append(val, 0)
			val = append(val, d.cfg.user...)
			cs.sendCP(protoCHAP, chapResponse, id, val, nil, nil)
			cs.lastResp, cs.respID, cs.retryAt = val, id, d.clock.Add(3*time.Second)
			cs.success = generateAuthenticatorResponse(d.cfg.pass, nt, cs.peerCh, cs.challenge, stripDomain(d.cfg.user))
		}
	case proto == protoCHAP && code == chapSuccess:
		if cs.lcpL.peerAuth == authMSCHAPv2 && !strings.HasPrefix(string(data), cs.success) {
			d.authFailed(cs, "the server's MS-CHAPv2 authenticator response is wrong")
			return
		}
		d.networkPhase(cs)
	case proto == protoCHAP && code == chapFailure:
		d.authFailed(cs, msg(data))
	}
}

func (d *dialer) authFailed(cs *csess, msg string) {
	if cs.authFail == "" {
		cs.authFail, cs.authFailAt = fmt.Sprintf("authentication failed: %q", msg), d.clock
	}
}

func (d *dialer) networkPhase(cs *csess) {
	cs.phase = phaseNetwork
	cs.ipcpL.resetClient(cs)
	cs.ipcp.up(d.clock)
	cs.ipcp.open(d.clock)
	d.startIPv6CP(cs)
}

func (cs *csess) onIPCPUp() {
	cs.ipcpUp = true
	cs.maybeUp()
}

// maybeUp counts the session as up once IPCP is, and with --ipv6 once
// IPv6 has its answer too.
func (cs *csess) maybeUp() {
	d, sess := cs.d, cs
	if cs.state == csUp || !cs.ipcpUp || (d.cfg.ipv6 && !cs.v6.done) {
		return
	}
	cs.state = csUp
	d.nUp++
	d.lastUpAt = d.clock
	var dnsStr []string
	for _, a := range sess.ipcpL.dnsServers() {
		dnsStr = append(dnsStr, a.String())
	}
	if !d.cfg.quiet {
		fmt.Fprintf(d.out, "session %d up: mac=%s sid=%d ip=%s peer=%s dns=%s\n", cs.idx, cs.mac, cs.id,
			sess.ipcpL.local, sess.ipcpL.peerAddr, strings.Join(dnsStr, ","))
		if d.cfg.ipv6 {
			fmt.Fprint(d.out, cs.ipv6Line())
		}
	}
	if d.cfg.tun {
		if err := d.startTUN(cs); err != nil {
			fmt.Fprintf(d.out, "session %d: tun: %v\n", cs.idx, err)
		}
	}
}

func (cs *csess) onIPCPDown() {}
func (cs *csess) onIPCPFinished() {
	cs.d.fail(cs, "IPCP failed")
}
func (cs *csess) onLCPDown() {}
func (cs *csess) onLCPFinished() {
	d := cs.d
	if cs.state <= csUp {
		why := "LCP terminated"
		if cs.authFail != "" {
			why = cs.authFail + ", then the server closed LCP"
		}
		d.fail(cs, why)
	}
}
func (cs *csess) onProtocolReject(proto uint16) {
	if proto == protoIPv6CP {
		cs.ipv6cp.protocolRejected(cs.d.clock)
	}
}

// fail ends a session that did not come up, or went down.
func (d *dialer) fail(cs *csess, why string) {
	if cs.state == csFailed || cs.state == csDone {
		return
	}
	wasUp := cs.state == csUp
	if cs.state >= csPPP && cs.ac != (hwAddr{}) {
		d.padt(cs)
	}
	cs.state, cs.failWhy = csFailed, why
	switch {
	case d.cfg.quiet:
		if wasUp {
			d.nUp--
		}
	case wasUp:
		d.nUp--
		fmt.Fprintf(d.out, "session %d down: %s\n", cs.idx, why)
	default:
		fmt.Fprintf(d.out, "session %d failed: %s\n", cs.idx, why)
	}
	d.nFailed++
	d.failures[why]++
	d.stopTUN(cs)
}

// padt sends a PADT for the session.
func (d *dialer) padt(cs *csess) {
	o := &d.out2
	o.reset(cs.ac, cs.mac, codePADT, cs.id)
	d.disc.writeFrame(o.appendTo(d.tx[:0]))
}

// hangUp ends every live session: LCP Terminate-Request, then PADT.
func (d *dialer) hangUp() {
	for _, cs := range d.sessions {
		if cs.state == csPPP || cs.state == csUp {
			if cs.lcp.state == stOpened {
				cs.sendCP(protoLCP, uint8(cpTermReq), 1, nil, nil, nil)
			}
			d.padt(cs)
			cs.state = csDone
			d.stopTUN(cs)
		}
	}
}

func (d *dialer) summary() {
	var took time.Duration
	if d.nUp > 0 {
		took = d.lastUpAt.Sub(d.firstAt)
	}
	rate := 0.0
	if d.nUp > 0 && took > 0 {
		rate = float64(d.nUp) / took.Seconds()
	}
	fmt.Fprintf(d.out, "summary: %d of %d sessions up, %d failed, setup %.1f sessions/s (first PADI to last IPCP up: %v)\n",
		d.nUp, d.cfg.n, d.nFailed, rate, took.Round(time.Millisecond))
	d.report(rate)
}

// report prints the load report: the rate offered and achieved, the
// retransmissions, the failures by reason and the frames dropped on the
// way in, ours and the kernel's (PACKET_STATISTICS).
func (d *dialer) report(achieved float64) {
	// What was offered, and what the pacing held: the rate of first
	// PADIs from the first to the last.
	offered := "all at once"
	if d.cfg.rate > 0 {
		offered = fmt.Sprintf("%.1f sessions/s", d.cfg.rate)
		if span := d.allStartedAt.Sub(d.firstAt); len(d.sessions) > 1 && span > 0 {
			offered += fmt.Sprintf(" (held: %.1f/s)", float64(len(d.sessions)-1)/span.Seconds())
		}
	}
	var sockDrops uint64
	for _, l := range []*packetLink{d.disc, d.sessL} {
		if n, err := l.kernelDrops(); err == nil {
			sockDrops += n
		}
	}
	fmt.Fprintf(d.out, "load: offered %s, achieved %.1f sessions/s, %d up, %d failed; retransmitted: PADI %d, PADR %d, LCP/IPCP %d, auth %d; rx dropped: queue %d, socket %d\n",
		offered, achieved, d.nUp, d.nFailed, d.retxPADI, d.retxPADR, d.retxCP, d.retxAuth, d.rxDropped.Load(), sockDrops)
	reasons := make([]string, 0, len(d.failures))
	for why := range d.failures {
		reasons = append(reasons, why)
	}
	slices.Sort(reasons)
	for _, why := range reasons {
		fmt.Fprintf(d.out, "load: failed %d: %s\n", d.failures[why], why)
	}
}

// startTUN brings up a TUN device for an established session and moves
// IPv4 between it and the session.
func (d *dialer) startTUN(cs *csess) error {
	// The kernel picks the number, so several clients can share a
	// namespace; the name is printed for ping -I and friends.
	t, err := openTUN("pppoec%d", int(min(cs.lcpL.peerMRU, cs.lcpL.mru)))
	if err != nil {
		return err
	}
	name := t.name()
	if err := t.setAddr(cs.ipcpL.local, cs.ipcpL.peerAddr); err != nil {
		t.close()
		return err
	}
	if d.cfg.defaultRoute && cs.idx == 0 {
		// Add, never replace: a default route the host has stays, as
		// with pppd's defaultroute, and the session stays up without.
		if err := addDefaultRoute(name); errors.Is(err, unix.EEXIST) {
			fmt.Fprintf(d.out, "session %d: not replacing the existing default route\n", cs.idx)
		} else if err != nil {
			t.close()
			return fmt.Errorf("default route: %w", err)
		}
	}
	if err := cs.tunIPv6(t); err != nil {
		t.close()
		return err
	}
	cs.tunP.Store(t)
	// Printed once the device forwards, so whoever reads it can use it.
	defer fmt.Fprintf(d.out, "session %d tun: %s\n", cs.idx, name)
	cs.tunWg.Add(1)
	w := d.sessL.newWriter()
	go func() {
		defer cs.tunWg.Done()
		f := getFrame()
		defer putFrame(f)
		for {
			n, err := t.readPacket(f[headroom:])
			if err != nil {
				return
			}
			b := f[:headroom+n]
			proto := protoIPv4
			if n > 0 && b[headroom]>>4 == 6 {
				proto = protoIPv6
			}
			putSessionHeader(b, cs.ac, cs.mac, etherTypeSession, cs.id, proto)
			w.writeFrame(b)
		}
	}()
	return nil
}

func (d *dialer) stopTUN(cs *csess) {
	if t := cs.tunP.Swap(nil); t != nil {
		t.close()
		cs.tunWg.Wait()
	}
}

// forwardUp runs on the session reader: IPv4, and IPv6 but for what the
// loop answers (link-local and multicast destinations: RAs, DHCPv6), for a
// session with a TUN goes straight to it.
func (d *dialer) forwardUp(b []byte) bool {
	var h pppoeHeader
	if h.parse(b) != nil || h.code != codeSession || len(h.payload) < pppProtoLen {
		return false
	}
	switch binary.BigEndian.Uint16(h.payload) {
	case protoIPv4:
	case protoIPv6:
		if p := h.payload[pppProtoLen:]; len(p) < 40 || toLink6(p) {
			return false
		}
	default:
		return false
	}
	// byMAC is fixed after newDialer, so reading it here is safe.
	cs := d.byMAC[h.dst]
	if cs == nil {
		return true
	}
	if t := cs.tunP.Load(); t != nil {
		t.writePacket(h.payload[pppProtoLen:])
	}
	return true
}
