// The control socket: `pppoed show sessions`, `show stat`, `terminate`,
// `reload` and `set rate` talk to the daemon through a unix socket.
//
// Protocol: the client writes one request, a JSON object on one line of at
// most maxCtlRequest bytes; the daemon writes one reply, a JSON object on
// one line, and closes. A reply always has "ok"; a failed one has "error".
//
// The socket lives in a directory the daemon creates, is created under
// umask 077 (mode 0600, root's), refuses to start while another process
// answers on it, and replaces a stale one. runCtl accepts on its own
// goroutine and serves each connection on another: it reads one bounded
// request with a deadline, posts it to the loop with a reply channel and
// waits for the answer with a timeout, then writes the reply, also with a
// deadline. The loop only ever sends to a buffered channel, so a slow or
// stuck client never blocks it, and the loop never waits on the socket.
// JSON encoding and the memory statistics happen on the connection's
// goroutine, not the loop's.

package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

const (
	defaultCtlSocket = "/var/run/pppoed/pppoed.sock"
	maxCtlRequest    = 4096
	ctlIOTimeout     = 5 * time.Second
	// maxCtlConns connections are open at once; more wait in the listen
	// backlog. Of those, maxCtlWork at a time ask the loop and encode the
	// answer: few, so that a storm of CLI calls cannot crowd the event
	// loop off a router's one or two cores, while a client that is slow to
	// send or to read holds a connection, not a worker.
	maxCtlConns = 64
	maxCtlWork  = 4
)

// ctlRequest is what a client asks.
type ctlRequest struct {
	Cmd string `json:"cmd"` // sessions, stat, terminate, reload, set-rate
	// Filters for sessions, terminate and set-rate.
	User string `json:"user,omitempty"`
	MAC  string `json:"mac,omitempty"`
	IP   string `json:"ip,omitempty"`
	SID  uint16 `json:"sid,omitempty"`
	All  bool   `json:"all,omitempty"`
	// set-rate: "down/up" in kbit/s.
	Rate string `json:"rate,omitempty"`
}

// ctlReply is the daemon's answer.
type ctlReply struct {
	OK       bool          `json:"ok"`
	Error    string        `json:"error,omitempty"`
	Sessions []sessionInfo `json:"sessions,omitempty"`
	Stat     *statInfo     `json:"stat,omitempty"`
	Count    *int          `json:"count,omitempty"` // terminate, set-rate: sessions matched
	Changed  string        `json:"changed,omitempty"`
}

// sessionInfo is one session as `pppoed show sessions` shows it.
type sessionInfo struct {
	Ifname    string    `json:"ifname"` // pppN in kernel mode, the TUN device otherwise
	User      string    `json:"user"`
	MAC       string    `json:"mac"`
	SID       uint16    `json:"sid"`
	IP        string    `json:"ip"`
	State     string    `json:"state"` // starting, auth, up, ending
	Started   time.Time `json:"started"`
	Uptime    int64     `json:"uptime_seconds"`
	RxBytes   uint64    `json:"rx_bytes"` // from the subscriber
	RxPackets uint64    `json:"rx_packets"`
	TxBytes   uint64    `json:"tx_bytes"` // to the subscriber
	TxPackets uint64    `json:"tx_packets"`
	Auth      string    `json:"auth"`           // pap, chap, mschapv2, none
	RateDown  uint32    `json:"rate_down_kbps"` // 0: no limit
	RateUp    uint32    `json:"rate_up_kbps"`
	Interface string    `json:"interface"` // the Ethernet interface it came on
	// RADIUS.
	AuthSource    string `json:"auth_source"` // radius, local, or empty before authentication
	Class         string `json:"class,omitempty"`
	AcctSessionID string `json:"acct_session_id,omitempty"`
	// IPv6: the /64 of its RAs and the prefix DHCPv6 delegated.
	IPv6Prefix    string `json:"ipv6_prefix,omitempty"`
	IPv6Delegated string `json:"ipv6_delegated,omitempty"`
}

// statInfo is `pppoed show stat`.
type statInfo struct {
	Version          string            `json:"version"`
	Mode             string            `json:"mode"`
	Started          time.Time         `json:"started"`
	Uptime           int64             `json:"uptime_seconds"`
	SessionsStarting int               `json:"sessions_starting"` // PADS sent, up to authentication
	SessionsAuth     int               `json:"sessions_auth"`
	SessionsUp       int               `json:"sessions_up"`
	SessionsEnding   int               `json:"sessions_ending"`
	SessionsStarted  uint64            `json:"sessions_started_total"`
	SessionsEnded    map[string]uint64 `json:"sessions_ended_total"` // by reason
	AuthFailures     uint64            `json:"auth_failures_total"`
	Drops            map[string]uint64 `json:"drops_total"` // by reason
	Counters         map[string]uint64 `json:"counters"`
	SetupRate        float64           `json:"setup_rate"`      // sessions up per second, over the last 10 s
	LoopLagMax       float64           `json:"loop_lag_max_ms"` // the loop's worst lateness for a tick, over the last 10 to 20 s
	PoolSize         int               `json:"pool_size"`
	PoolFree         int               `json:"pool_free"`
	IPv6Pools        *ipv6PoolStat     `json:"ipv6_pools,omitempty"` // with IPv6 on
	CtlErrors        uint64            `json:"ctl_errors_total"`
	GoHeapBytes      uint64            `json:"go_heap_bytes"`
	RSSBytes         uint64            `json:"rss_bytes"`
	Radius           *radiusStat       `json:"radius,omitempty"`
}

// ipv6PoolStat is how much of the IPv6 pools is in use.
type ipv6PoolStat struct {
	PrefixSize    int `json:"prefix_size"` // /64s the pools hold
	PrefixUsed    int `json:"prefix_used"`
	DelegatedSize int `json:"delegated_size"`
	DelegatedUsed int `json:"delegated_used"`
}

// radiusStat is show stat's RADIUS part.
type radiusStat struct {
	Servers    []radiusServerStat `json:"servers"`
	Accounting struct {
		Queued       int64  `json:"queued"`
		SpoolPending int64  `json:"spool_pending"`
		Sent         uint64 `json:"sent_total"`
		Retried      uint64 `json:"retried_total"`
		Spooled      uint64 `json:"spooled_total"`
		Dropped      uint64 `json:"dropped_total"`
	} `json:"accounting"`
	DAEServed  uint64 `json:"dae_served_total"`
	DAEDropped uint64 `json:"dae_dropped_total"`
}

type radiusServerStat struct {
	Server        string `json:"server"`
	Role          string `json:"role"` // auth, acct, or auth+acct
	Requests      uint64 `json:"requests_total"`
	Retransmits   uint64 `json:"retransmits_total"`
	Timeouts      uint64 `json:"timeouts_total"`
	Accepts       uint64 `json:"accepts_total"`
	Rejects       uint64 `json:"rejects_total"`
	AcctResponses uint64 `json:"acct_responses_total"`
	Dropped       uint64 `json:"dropped_total"`
	Dead          bool   `json:"dead"`
}

// ctlEvent carries a request to the loop; the loop answers on reply,
// which has room for the one answer.
type ctlEvent struct {
	req   ctlRequest
	reply chan ctlReply
}

func (e ctlEvent) handle(s *server) { e.reply <- s.answerCtl(&e.req) }

// ctlServer is the listening socket and its goroutines.
type ctlServer struct {
	path   string
	ln     *net.UnixListener
	srv    *server
	log    *logger
	errors atomic.Uint64
	wg     sync.WaitGroup
	conns  chan struct{} // a token per connection being served
	work   chan struct{} // a token per request being answered
	done   chan struct{} // closed at shutdown: the loop answers no more
}

// listenCtl creates the control socket at path.
func listenCtl(path string) (*ctlServer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"}); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another pppoed answers on it", path)
		}
		// Stale, from a daemon that was killed: take it over.
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket: %w", err)
		}
	}
	old := unix.Umask(0o077)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// 0700 from the umask; root needs no execute bit to connect.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	return &ctlServer{path: path, ln: ln, conns: make(chan struct{}, maxCtlConns), work: make(chan struct{}, maxCtlWork),
		done: make(chan struct{})}, nil
}

// start serves the socket for srv until close.
func (c *ctlServer) start(srv *server) {
	c.srv, c.log = srv, srv.log
	srv.ctl = c
	c.wg.Add(1)
	go c.runCtl()
}

// close stops serving; the loop has stopped, so requests still waiting
// for it get an error at once.
func (c *ctlServer) close() {
	close(c.done)
	c.ln.Close()
	c.wg.Wait()
}

func (c *ctlServer) runCtl() {
	defer c.wg.Done()
	c.log.Debug("control socket started", "path", c.path)
	defer c.log.Debug("control socket stopped", "path", c.path)
	for {
		conn, err := c.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			c.errors.Add(1)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.conns <- struct{}{}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer func() { <-c.conns }()
			c.serve(conn)
		}()
	}
}

// serve answers one request on conn and closes it.
func (c *ctlServer) serve(conn *net.UnixConn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ctlIOTimeout))
	var rep ctlReply
	req, err := readCtlRequest(conn)
	c.work <- struct{}{}
	if err == nil {
		rep, err = c.ask(req)
	}
	if err != nil {
		rep = ctlReply{Error: err.Error()}
	}
	if !rep.OK {
		c.errors.Add(1)
	}
	if rep.Stat != nil {
		// ReadMemStats stops the world for some microseconds; the
		// runtime/metrics package would not, but costs the router binary
		// 65 KB.
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rep.Stat.GoHeapBytes = ms.HeapAlloc
		rep.Stat.RSSBytes = readRSS()
		rep.Stat.CtlErrors = c.errors.Load()
	}
	b := marshalJSON(rep)
	<-c.work
	conn.Write(append(b, '\n'))
}

// readCtlRequest reads one line of at most maxCtlRequest bytes and decodes
// it, refusing unknown fields.
func readCtlRequest(conn net.Conn) (ctlRequest, error) {
	var req ctlRequest
	br := bufio.NewReaderSize(conn, maxCtlRequest+1)
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxCtlRequest {
		return req, fmt.Errorf("request longer than %d bytes", maxCtlRequest)
	}
	if err != nil {
		return req, fmt.Errorf("reading the request: %v", err)
	}
	if err := unmarshalJSON(line, &req, true); err != nil {
		return req, fmt.Errorf("malformed request: %v", err)
	}
	return req, nil
}

// ask hands req to the loop and waits for its answer.
func (c *ctlServer) ask(req ctlRequest) (ctlReply, error) {
	ev := ctlEvent{req: req, reply: make(chan ctlReply, 1)}
	c.srv.events.post(ev)
	select {
	case rep := <-ev.reply:
		if !rep.OK && rep.Error == "" {
			rep.Error = "failed"
		}
		return rep, nil
	case <-c.done:
		return ctlReply{}, errors.New("pppoed is shutting down")
	case <-time.After(ctlIOTimeout):
		return ctlReply{}, errors.New("the daemon did not answer in time")
	}
}

// readRSS is the process's resident set size, from /proc/self/statm.
func readRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	rss, _ := strconv.ParseUint(f[1], 10, 64)
	return rss * uint64(os.Getpagesize())
}

// answerCtl answers a request on the loop goroutine.
func (s *server) answerCtl(req *ctlRequest) ctlReply {
	switch req.Cmd {
	case "sessions":
		m, err := newSessionMatch(req, false)
		if err != nil {
			return ctlReply{Error: err.Error()}
		}
		// The sessions are sorted before info() copies them out: a sort of
		// pointers shares its code with the other pointer sorts, a sort of
		// sessionInfo would add 12 KB of its own.
		var match []*session
		s.sessions.each(func(sess *session) {
			if m.matches(sess) {
				match = append(match, sess)
			}
		})
		slices.SortFunc(match, func(a, b *session) int { return int(a.id) - int(b.id) })
		rep := ctlReply{OK: true, Sessions: make([]sessionInfo, 0, len(match))}
		for _, sess := range match {
			rep.Sessions = append(rep.Sessions, sess.info())
		}
		return rep
	case "stat":
		st := s.statInfo()
		return ctlReply{OK: true, Stat: &st}
	case "terminate":
		m, err := newSessionMatch(req, true)
		if err != nil {
			return ctlReply{Error: err.Error()}
		}
		n := 0
		s.sessions.each(func(sess *session) {
			if !sess.ending && m.matches(sess) {
				sess.end("admin", true)
				n++
			}
		})
		if n > 0 {
			s.log.Info("sessions terminated by the administrator", "count", n)
		}
		return ctlReply{OK: true, Count: &n}
	case "reload":
		changed, err := s.reload()
		if err != nil {
			return ctlReply{Error: err.Error(), Changed: changed}
		}
		return ctlReply{OK: true, Changed: changed}
	case "set-rate":
		return s.setRate(req)
	}
	return ctlReply{Error: fmt.Sprintf("unknown command %q", req.Cmd)}
}

// sessionMatch selects sessions by the request's filters; all of the
// given ones must match.
type sessionMatch struct {
	user          string
	acctSessionID string // RADIUS DAE only
	mac           hwAddr
	ip            netip.Addr
	sid           uint16
	any           bool // no filter: every session
	all           bool
}

// newSessionMatch reads the filters. A command that acts (terminate) needs
// at least one, or --all.
func newSessionMatch(req *ctlRequest, needOne bool) (sessionMatch, error) {
	m := sessionMatch{user: req.User, sid: req.SID, all: req.All}
	if req.MAC != "" {
		hw, err := net.ParseMAC(req.MAC)
		if err != nil || len(hw) != ethAddrLen {
			return m, fmt.Errorf("mac: %q is not a MAC address", req.MAC)
		}
		m.mac = hwAddr(hw)
	}
	if req.IP != "" {
		a, err := netip.ParseAddr(req.IP)
		if err != nil {
			return m, fmt.Errorf("ip: %q is not an IP address", req.IP)
		}
		m.ip = a
	}
	m.any = m.user == "" && m.mac == (hwAddr{}) && !m.ip.IsValid() && m.sid == 0
	if needOne && m.any && !m.all {
		return m, errors.New("say which sessions: --sid, --user, --ip, --mac or --all")
	}
	if m.all && !m.any {
		return m, errors.New("--all cannot be combined with a filter")
	}
	return m, nil
}

func (m *sessionMatch) matches(s *session) bool {
	if m.any {
		return true
	}
	if m.user != "" && (!s.auth.done || s.auth.user != m.user) {
		return false
	}
	if m.mac != (hwAddr{}) && s.peer != m.mac {
		return false
	}
	if m.acctSessionID != "" && s.acctSessionID != m.acctSessionID {
		return false
	}
	if m.ip.Is4() && (s.slot == noSlot || s.srv.pool.remoteAddr(s.slot) != m.ip) {
		return false
	}
	if m.ip.Is6() && !s.v6.prefix.Contains(m.ip) && !s.v6.delegated.Contains(m.ip) {
		return false
	}
	return m.sid == 0 || s.id == m.sid
}

// stateName is the session's state as the CLI shows it.
func (s *session) stateName() string {
	switch {
	case s.ending || s.phase == phaseTerminate:
		return "ending"
	case s.phase == phaseAuthenticate:
		return "auth"
	case !s.upAt.IsZero():
		return "up"
	}
	return "starting"
}

// info describes the session for the CLI.
func (s *session) info() sessionInfo {
	srv := s.srv
	i := sessionInfo{
		User:      s.auth.user,
		MAC:       s.peer.String(),
		SID:       s.id,
		State:     s.stateName(),
		Started:   s.started.UTC().Truncate(time.Second),
		Uptime:    int64(srv.clock.Sub(s.started) / time.Second),
		Auth:      s.lcpL.auth.String(),
		RateDown:  s.rate.down,
		RateUp:    s.rate.up,
		Interface: s.iface.name,
	}
	if !s.auth.done {
		i.User = ""
	} else {
		i.AuthSource = cmp.Or(s.auth.result.source, "local")
		if len(s.auth.result.class) > 0 {
			i.Class = string(s.auth.result.class[0])
		}
	}
	i.AcctSessionID = s.acctSessionID
	if s.v6.up {
		// Held from the network phase on, but the peer's only once
		// IPv6CP is up.
		i.IPv6Prefix = s.v6.prefix.String()
	}
	if s.v6.delegated.IsValid() {
		i.IPv6Delegated = s.v6.delegated.String()
	}
	if s.slot != noSlot {
		i.IP = srv.pool.remoteAddr(s.slot).String()
	}
	if s.path != nil {
		i.Ifname = s.path.ifname()
		c := s.path.counters()
		i.RxBytes, i.RxPackets, i.TxBytes, i.TxPackets = c.rxBytes, c.rxPackets, c.txBytes, c.txPackets
	}
	return i
}

func (s *server) statInfo() statInfo {
	st := statInfo{
		Version:         version,
		Mode:            s.path.mode(),
		Started:         s.startedAt.UTC().Truncate(time.Second),
		Uptime:          int64(s.clock.Sub(s.startedAt) / time.Second),
		SessionsStarted: s.stats.c[statSessionsStarted].Load(),
		SessionsEnded:   map[string]uint64{},
		AuthFailures:    s.stats.c[statAuthFailures].Load(),
		Drops:           map[string]uint64{},
		Counters:        map[string]uint64{},
		SetupRate:       s.setupRate.rate(),
		LoopLagMax:      float64(s.loopLag.max()) / float64(time.Millisecond),
		PoolSize:        s.pool.size(),
		PoolFree:        s.pool.available(),
	}
	if v := s.cfg.v6; v != nil {
		p := &ipv6PoolStat{}
		p.PrefixUsed, p.PrefixSize = v.prefix.live()
		p.DelegatedUsed, p.DelegatedSize = v.delegated.live()
		st.IPv6Pools = p
	}
	s.sessions.each(func(sess *session) {
		switch sess.stateName() {
		case "starting":
			st.SessionsStarting++
		case "auth":
			st.SessionsAuth++
		case "up":
			st.SessionsUp++
		case "ending":
			st.SessionsEnding++
		}
	})
	for r, n := range s.endReasons {
		st.SessionsEnded[r] = n
	}
	for i := range s.stats.drops {
		if v := s.stats.drops[i].Load(); v != 0 {
			st.Drops[dropReason(i).String()] = v
		}
	}
	for i := range s.stats.c {
		st.Counters[statNames[i]] = s.stats.c[i].Load()
	}
	if a := s.radAcct; a != nil {
		st.Radius = a.stat(s.dae)
	}
	return st
}

// rateWindow measures the session setup rate: the loop records the
// sessions-up counter every tick, and the rate is the difference over the
// last setupRateWindow.
type rateWindow struct {
	at    [setupRateSamples]time.Time
	count [setupRateSamples]uint64
	next  int
}

const (
	setupRateWindow  = 10 * time.Second
	setupRateSamples = int(setupRateWindow/tickEvery) + 1
)

func (w *rateWindow) record(now time.Time, n uint64) {
	w.at[w.next], w.count[w.next] = now, n
	w.next = (w.next + 1) % setupRateSamples
}

func (w *rateWindow) rate() float64 {
	newest := (w.next + setupRateSamples - 1) % setupRateSamples
	oldest := w.next
	if w.at[oldest].IsZero() {
		oldest = 0
	}
	d := w.at[newest].Sub(w.at[oldest]).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(w.count[newest]-w.count[oldest]) / d
}

// lagWindow keeps the worst lag of the loop's ticks (how late a tick was
// handled) over the current and the previous 10 s.
type lagWindow struct {
	start     time.Time
	cur, prev time.Duration
}

func (w *lagWindow) record(now time.Time, lag time.Duration) {
	if now.Sub(w.start) >= setupRateWindow {
		w.start, w.prev, w.cur = now, w.cur, 0
	}
	w.cur = max(w.cur, lag)
}

func (w *lagWindow) max() time.Duration { return max(w.cur, w.prev) }

// dialCtl sends req to the daemon at path and returns its reply.
func dialCtl(ctx context.Context, path string, req ctlRequest) (ctlReply, error) {
	var rep ctlReply
	// DialUnix, not Dialer.DialContext: the generic dialer drags the DNS
	// resolver into the router binary.
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ECONNREFUSED) {
			return rep, fmt.Errorf("no pppoed answers on %s (is it running? --ctl-socket names another socket)", path)
		}
		return rep, err
	}
	defer conn.Close()
	deadline := time.Now().Add(2 * ctlIOTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	if _, err := conn.Write(append(marshalJSON(req), '\n')); err != nil {
		return rep, err
	}
	// One reply, then the daemon closes the connection.
	b, err := io.ReadAll(conn)
	if err == nil {
		err = unmarshalJSON(b, &rep, false)
	}
	if err != nil {
		return rep, fmt.Errorf("reading the reply: %v", err)
	}
	if !rep.OK {
		return rep, errors.New(rep.Error)
	}
	return rep, nil
}
