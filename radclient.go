// The RADIUS client: servers tried in order, retransmission, fail-over,
// dead servers, the identifier space, and checking what comes back.
//
// runRadius owns all of it: the servers' state, the requests in flight,
// the sockets' identifier tables and the accounting queue (radacct.go).
// Requests come in through submit, which never blocks (the event loop
// posts authentication requests there); replies come from one reader
// goroutine per socket over a channel; a ticker drives the timeouts. A
// request's done function runs on runRadius, and must only hand its
// result on (the authenticator posts it to the event loop).
//
// Each socket (one source port) has 256 identifiers; when every one is in
// flight the client opens another socket, so a burst of logins is never
// held up by the 8-bit Identifier. A request goes to the first server that
// is not dead, is retransmitted after the server's timeout up to its
// retries, and then goes to the next server, the first one being marked
// dead for dead_time. A reply is taken only if it comes from the server
// the request went to, matches an identifier in flight, and carries the
// right response authenticator; Message-Authenticator is checked when
// present and required by require_message_authenticator (BlastRADIUS,
// CVE-2024-3596). What is dropped is counted per server.

package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var errRadiusNoAnswer = errors.New("pppoe: no RADIUS server answered")

// radiusServer is one configured server. runRadius owns all but stats.
type radiusServer struct {
	name      string
	auth      netip.AddrPort
	acct      netip.AddrPort
	secret    string
	timeout   time.Duration
	retries   int
	deadUntil time.Time
	sentMA    bool // has sent a valid Message-Authenticator (auto)
	stats     radiusServerStats
}

// radiusServerStats are a server's counters, for show stat.
type radiusServerStats struct {
	requests, retransmits, timeouts, accepts, rejects, acctResponses, dropped atomic.Uint64
	dead                                                                      atomic.Bool
}

// radReq is one request, from submission to its answer.
type radReq struct {
	acct     bool // to the accounting port
	code     radiusCode
	attrs    []byte // without User-Password, Acct-Delay-Time and Message-Authenticator
	password []byte // PAP's, hidden per transmission
	event    time.Time
	// done gets the reply (valid only during the call) and the server that
	// sent it, or an error; it runs on runRadius.
	done func(p *radiusPacket, srv *radiusServer, err error)

	srvs     []*radiusServer // the list it goes to
	srv      int             // index into srvs
	sentTo   *radiusServer   // where the identifier and authenticator went
	tries    int             // transmissions to srv
	deadline time.Time
	sock     *radSocket
	id       uint8
	auth     [radAuthLen]byte
}

type radSocket struct {
	conn     *net.UDPConn
	inflight [256]*radReq
	used     int
	next     uint8
}

type radReply struct {
	sock *radSocket
	buf  *[radMaxLen]byte
	n    int
	from netip.AddrPort
}

var radBufPool = sync.Pool{New: func() any { return new([radMaxLen]byte) }}

type radiusClient struct {
	servers   []*radiusServer // authentication, in order
	acctSrvs  []*radiusServer // accounting, in order; often the same ones
	requireMA string          // auto, true or false
	deadTime  time.Duration
	nasIP     netip.Addr // NAS-IP-Address; invalid: none
	nasIP6    netip.Addr // NAS-IPv6-Address; invalid: none
	log       *logger

	mu      sync.Mutex
	pending []*radReq
	notify  chan struct{}

	replies  chan radReply
	flushReq chan flushRequest
	stop     chan struct{}
	wg       sync.WaitGroup

	// runRadius's.
	warn   rateLimiter
	socks  []*radSocket
	hasher *radiusHasher
	buf    [radMaxLen]byte
	acct   *radiusAccounting
}

func newRadiusClient(rc *radiusConfig, log *logger) (*radiusClient, error) {
	c := &radiusClient{requireMA: rc.RequireMessageAuthenticator.String(), deadTime: time.Duration(rc.DeadTime), log: log,
		notify: make(chan struct{}, 1), replies: make(chan radReply, 256), flushReq: make(chan flushRequest), stop: make(chan struct{}),
		hasher: newRadiusHasher()}
	// A server listed for both is one server, with one set of counters.
	byAddr := map[string]*radiusServer{}
	for _, l := range []struct {
		cfg  []radiusServerConfig
		list *[]*radiusServer
	}{{rc.Server, &c.servers}, {rc.AcctServer, &c.acctSrvs}} {
		for _, s := range l.cfg {
			key := fmt.Sprintf("%s|%d|%d|%s", s.Address, s.AuthPort, s.AcctPort, string(s.Secret))
			srv := byAddr[key]
			if srv == nil {
				var err error
				if srv, err = s.resolve(); err != nil {
					return nil, err
				}
				byAddr[key] = srv
			}
			*l.list = append(*l.list, srv)
		}
	}
	c.nasIP, c.nasIP6 = rc.nasIP, rc.nasIP6
	if (!c.nasIP.IsValid() || !c.nasIP6.IsValid()) && len(c.servers) > 0 {
		// The address our packets leave from towards the first server,
		// unless that family's is configured: connecting a UDP socket
		// sends nothing. Towards a server on IPv6 it is our
		// NAS-IPv6-Address (RFC 3162 §2.1).
		if conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(c.servers[0].auth)); err == nil {
			a := conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
			conn.Close()
			switch {
			case a.Is4() && !c.nasIP.IsValid():
				c.nasIP = a
			case a.Is6() && !c.nasIP6.IsValid():
				c.nasIP6 = a
			}
		}
	}
	return c, nil
}

// start runs the client until close.
func (c *radiusClient) start() {
	c.wg.Add(1)
	go c.runRadius()
}

// close stops the client; requests still in flight fail.
func (c *radiusClient) close() {
	close(c.stop)
	c.wg.Wait()
}

// submit hands r to the client. It never blocks; any goroutine may call it.
func (c *radiusClient) submit(r *radReq) {
	c.mu.Lock()
	c.pending = append(c.pending, r)
	c.mu.Unlock()
	c.nudge()
}

func (c *radiusClient) nudge() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *radiusClient) runRadius() {
	defer c.wg.Done()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var batch []*radReq
	for {
		select {
		case <-c.stop:
			c.shutdown()
			return
		case <-c.notify:
			c.mu.Lock()
			batch, c.pending = append(batch[:0], c.pending...), c.pending[:0]
			c.mu.Unlock()
			now := time.Now()
			for _, r := range batch {
				c.first(r, now)
			}
			if c.acct != nil {
				c.acct.pump(now)
			}
		case rep := <-c.replies:
			c.handleReply(rep)
			radBufPool.Put(rep.buf)
			if c.acct != nil {
				c.acct.pump(time.Now())
			}
		case now := <-tick.C:
			c.expire(now)
			if c.acct != nil {
				c.acct.pump(now)
			}
		case f := <-c.flushReq:
			if c.acct == nil {
				close(f.done)
				continue
			}
			c.acct.flushing, c.acct.flushBy = f.done, f.by
			c.acct.pump(time.Now())
		}
	}
}

// first sends r to the first server that is not dead.
func (c *radiusClient) first(r *radReq, now time.Time) {
	r.srvs = c.servers
	if r.acct {
		r.srvs = c.acctSrvs
	}
	if len(r.srvs) == 0 {
		r.done(nil, nil, errRadiusNoAnswer)
		return
	}
	r.srv, r.tries = 0, 0
	for r.srv < len(r.srvs) && now.Before(r.srvs[r.srv].deadUntil) {
		r.srv++
	}
	if r.srv == len(r.srvs) {
		// All dead: try them anyway, in order.
		r.srv = 0
	}
	c.transmit(r, now)
}

// transmit sends r to its server. An Access-Request sent again to the
// same server keeps its identifier and authenticator (RFC 2865 §4.1), so a
// late answer to the first copy still counts; anything else gets a fresh
// identifier (an Accounting-Request's Acct-Delay-Time has changed, RFC 2866
// §5.2).
func (c *radiusClient) transmit(r *radReq, now time.Time) {
	srv := r.srvs[r.srv]
	if r.sock != nil && !r.acct && r.tries > 0 && r.sentTo == srv {
		b := c.build(r, srv, now, true)
		srv.stats.retransmits.Add(1)
		r.tries++
		r.deadline = now.Add(srv.timeout)
		c.write(r, srv, b)
		return
	}
	if r.sock != nil {
		c.release(r)
	}
	sock, err := c.socketWithRoom()
	if err != nil {
		c.log.Warn("RADIUS: no socket", "err", err)
		r.done(nil, nil, err)
		return
	}
	id := sock.next
	for sock.inflight[id] != nil {
		id++
	}
	sock.inflight[id], sock.next = r, id+1
	sock.used++
	r.sock, r.id, r.sentTo = sock, id, srv
	b := c.build(r, srv, now, false)
	if r.tries == 0 {
		srv.stats.requests.Add(1)
	} else {
		srv.stats.retransmits.Add(1)
	}
	r.tries++
	r.deadline = now.Add(srv.timeout)
	c.write(r, srv, b)
}

func (c *radiusClient) write(r *radReq, srv *radiusServer, b []byte) {
	dst := srv.auth
	if r.acct {
		dst = srv.acct
	}
	if _, err := r.sock.conn.WriteToUDPAddrPort(b, dst); err != nil && c.log.enabled(levelDebug) {
		c.log.Debug("RADIUS: send failed", "server", srv.name, "err", err)
	}
}

// build encodes r for srv into c.buf; again keeps the authenticator of the
// last transmission.
func (c *radiusClient) build(r *radReq, srv *radiusServer, now time.Time, again bool) []byte {
	switch {
	case r.acct:
		clear(r.auth[:])
	case !again:
		fillRandom(r.auth[:])
	}
	b := appendRadiusHeader(c.buf[:0], r.code, r.id, &r.auth)
	b = append(b, r.attrs...)
	if r.password != nil {
		b = c.hasher.appendUserPassword(b, r.password, srv.secret, &r.auth)
	}
	if r.acct {
		b = appendAttr32(b, attrAcctDelayTime, uint32(max(now.Sub(r.event), 0)/time.Second))
		patchRadiusLength(b)
		c.hasher.requestAuthenticator(b, srv.secret)
		copy(r.auth[:], b[4:radHdrLen])
		return b
	}
	// Every Access-Request carries a Message-Authenticator (RFC 3579;
	// BlastRADIUS).
	b, off := appendMessageAuthenticator(b)
	patchRadiusLength(b)
	c.hasher.signMessageAuthenticator(b, off, srv.secret)
	return b
}

// socketWithRoom returns a socket with a free identifier, opening another
// when all are full.
func (c *radiusClient) socketWithRoom() (*radSocket, error) {
	for _, s := range c.socks {
		if s.used < 256 {
			return s, nil
		}
	}
	conn, err := net.ListenUDP("udp", nil)
	if err != nil {
		return nil, err
	}
	s := &radSocket{conn: conn}
	c.socks = append(c.socks, s)
	c.wg.Add(1)
	go c.runRadiusReader(s)
	return s, nil
}

// runRadiusReader posts what one socket receives to runRadius.
func (c *radiusClient) runRadiusReader(s *radSocket) {
	defer c.wg.Done()
	for {
		buf := radBufPool.Get().(*[radMaxLen]byte)
		n, from, err := s.conn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			radBufPool.Put(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		select {
		case c.replies <- radReply{sock: s, buf: buf, n: n, from: from}:
		case <-c.stop:
			radBufPool.Put(buf)
			return
		}
	}
}

func (c *radiusClient) release(r *radReq) {
	r.sock.inflight[r.id] = nil
	r.sock.used--
	r.sock = nil
}

// handleReply matches a reply to its request and checks it.
func (c *radiusClient) handleReply(rep radReply) {
	var p radiusPacket
	if p.parse(rep.buf[:rep.n]) != nil {
		return
	}
	r := rep.sock.inflight[p.id]
	if r == nil {
		return
	}
	srv := r.srvs[r.srv]
	want := srv.auth
	if r.acct {
		want = srv.acct
	}
	if rep.from.Addr().Unmap() != want.Addr().Unmap() || rep.from.Port() != want.Port() {
		srv.stats.dropped.Add(1)
		return
	}
	if !c.hasher.checkResponseAuthenticator(&p, &r.auth, srv.secret) {
		srv.stats.dropped.Add(1)
		if c.warn.allow(time.Now()) {
			c.log.Warn("RADIUS: reply with a wrong response authenticator dropped (is the secret right?)", "server", srv.name,
				"dropped_total", srv.stats.dropped.Load())
		}
		return
	}
	if !r.acct {
		present, ok := c.hasher.checkMessageAuthenticator(&p, &r.auth, srv.secret)
		switch {
		case present && !ok:
			srv.stats.dropped.Add(1)
			c.log.Warn("RADIUS: reply with a wrong Message-Authenticator dropped", "server", srv.name)
			return
		case present:
			srv.sentMA = true
		case c.requireMA == "true" || (c.requireMA == "auto" && srv.sentMA):
			srv.stats.dropped.Add(1)
			c.log.Warn("RADIUS: reply without Message-Authenticator dropped", "server", srv.name, "require_message_authenticator", c.requireMA)
			return
		}
	}
	c.release(r)
	srv.stats.dead.Store(false)
	switch p.code {
	case radAccessAccept:
		srv.stats.accepts.Add(1)
	case radAccessReject:
		srv.stats.rejects.Add(1)
	case radAccountingResponse:
		srv.stats.acctResponses.Add(1)
	}
	r.done(&p, srv, nil)
}

// expire retransmits what timed out, and fails over.
func (c *radiusClient) expire(now time.Time) {
	for _, s := range c.socks {
		if s.used == 0 {
			continue
		}
		for _, r := range s.inflight {
			if r == nil || now.Before(r.deadline) {
				continue
			}
			srv := r.srvs[r.srv]
			srv.stats.timeouts.Add(1)
			if r.tries <= srv.retries {
				c.transmit(r, now)
				continue
			}
			if !now.Before(srv.deadUntil) {
				// Once each time it goes dead, not for every request.
				c.log.Warn("RADIUS: server does not answer; trying the next", "server", srv.name, "dead_for", c.deadTime)
			}
			srv.deadUntil = now.Add(c.deadTime)
			srv.stats.dead.Store(true)
			r.srv = nextServer(r.srvs, r.srv, now)
			r.tries = 0
			if r.srv == len(r.srvs) {
				c.release(r)
				r.done(nil, nil, errRadiusNoAnswer)
				continue
			}
			c.transmit(r, now)
		}
	}
}

// nextServer is where a request goes after srvs[i] failed it: the next
// server that is not dead, or if all the rest are, simply the next one
// (len(srvs) when none is left).
func nextServer(srvs []*radiusServer, i int, now time.Time) int {
	for j := i + 1; j < len(srvs); j++ {
		if !now.Before(srvs[j].deadUntil) {
			return j
		}
	}
	return i + 1
}

// shutdown fails what is still in flight and closes the sockets.
func (c *radiusClient) shutdown() {
	for _, s := range c.socks {
		for _, r := range s.inflight {
			if r != nil {
				c.release(r)
				r.done(nil, nil, errRadiusNoAnswer)
			}
		}
		s.conn.Close()
	}
	c.mu.Lock()
	for _, r := range c.pending {
		r.done(nil, nil, errRadiusNoAnswer)
	}
	c.pending = nil
	c.mu.Unlock()
}

func (s *radiusServer) String() string { return s.name }

// resolve turns a server's configuration into a radiusServer.
func (s *radiusServerConfig) resolve() (*radiusServer, error) {
	a, err := hostAddr(s.Address)
	if err != nil {
		return nil, err
	}
	return &radiusServer{name: s.Address, auth: netip.AddrPortFrom(a, uint16(s.AuthPort)), acct: netip.AddrPortFrom(a, uint16(s.AcctPort)),
		secret: string(s.Secret), timeout: time.Duration(s.Timeout), retries: s.Retries}, nil
}

// hostAddr reads a server's address: an IP address, or a name from
// /etc/hosts (localhost included). pppoed does not ask DNS: the resolver
// would cost the router binary 200 KB, and a RADIUS server should not
// depend on one.
func hostAddr(h string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap(), nil
	}
	if f, err := os.Open("/etc/hosts"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			fs := strings.Fields(line)
			for _, name := range fs[min(1, len(fs)):] {
				if name == h {
					if a, err := netip.ParseAddr(fs[0]); err == nil && a.Is4() {
						return a, nil
					}
				}
			}
		}
	}
	if h == "localhost" {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
	}
	return netip.Addr{}, fmt.Errorf("radius server %q: give an IP address or a name in /etc/hosts (pppoed does not use DNS)", h)
}
