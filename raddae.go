// Dynamic Authorization (RFC 5176): a RADIUS server ends a session with a
// Disconnect-Request, or changes one with a CoA-Request (Session-Timeout,
// the rate limit).
//
// runDAE owns the socket: it reads a request, drops it (counted) unless it
// comes from a configured client with the right request authenticator, a
// right Message-Authenticator when it has one and an Event-Timestamp within
// 300 s when it has one; then it asks the event loop, which finds the
// sessions and acts, and answers with an ACK or a NAK (Error-Cause 503 when
// no session matched). The loop never waits on the socket.

package main

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

const daeWindow = 300 * time.Second

type daeServer struct {
	conn    *net.UDPConn
	clients map[netip.Addr]string
	srv     *server
	log     *logger
	hasher  *radiusHasher // runDAE's
	dropped atomic.Uint64
	served  atomic.Uint64
	wg      sync.WaitGroup
}

func listenDAE(dc *daeConfig) (*daeServer, error) {
	ap, err := netip.ParseAddrPort(dc.Listen)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	d := &daeServer{conn: conn, clients: map[netip.Addr]string{}, hasher: newRadiusHasher()}
	for _, c := range dc.Client {
		a, _ := netip.ParseAddr(c.Address)
		d.clients[a.Unmap()] = string(c.Secret)
	}
	return d, nil
}

func (d *daeServer) start(srv *server) {
	d.srv, d.log = srv, srv.log
	srv.dae = d
	d.wg.Add(1)
	go d.runDAE()
}

func (d *daeServer) close() {
	d.conn.Close()
	d.wg.Wait()
}

func (d *daeServer) runDAE() {
	defer d.wg.Done()
	buf := make([]byte, radMaxLen)
	for {
		n, from, err := d.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if rep := d.handle(buf[:n], from.Addr().Unmap()); rep != nil {
			d.conn.WriteToUDPAddrPort(rep, from)
		}
	}
}

// handle checks one request and returns the response, or nil to drop it.
func (d *daeServer) handle(b []byte, from netip.Addr) []byte {
	drop := func(why string) []byte {
		d.dropped.Add(1)
		if d.log.enabled(levelDebug) {
			d.log.Debug("RADIUS DAE request dropped", "from", from.String(), "reason", why)
		}
		return nil
	}
	sec, ok := d.clients[from]
	if !ok {
		return drop("not a configured client")
	}
	var p radiusPacket
	if p.parse(b) != nil {
		return drop("malformed")
	}
	if p.code != radDisconnectRequest && p.code != radCoARequest {
		return drop("not a Disconnect- or CoA-Request")
	}
	if !d.hasher.checkRequestAuthenticator(&p, sec) {
		return drop("wrong request authenticator")
	}
	var zero [radAuthLen]byte
	if present, ok := d.hasher.checkMessageAuthenticator(&p, &zero, sec); present && !ok {
		return drop("wrong Message-Authenticator")
	}
	if v, ok := p.find(attrEventTimestamp); ok {
		ts, ok := radUint32(v)
		if !ok {
			return drop("malformed Event-Timestamp")
		}
		if dt := time.Since(time.Unix(int64(ts), 0)); dt > daeWindow || dt < -daeWindow {
			return drop("Event-Timestamp outside the 300 s window")
		}
	}
	ev := daeEvent{code: p.code, attrs: bytes.Clone(p.attrs), reply: make(chan daeAnswer, 1)}
	d.srv.events.post(ev)
	var ans daeAnswer
	select {
	case ans = <-ev.reply:
	case <-time.After(ctlIOTimeout):
		return drop("the daemon did not answer in time")
	}
	d.served.Add(1)
	code := radDisconnectACK
	if p.code == radCoARequest {
		code = radCoAACK
	}
	if ans.errorCause != 0 {
		code++ // the NAK follows the ACK
	}
	out := appendRadiusHeader(nil, code, p.id, &p.auth)
	if ans.errorCause != 0 {
		out = appendAttr32(out, attrErrorCause, ans.errorCause)
	}
	off := -1
	if present, _ := d.hasher.checkMessageAuthenticator(&p, &zero, sec); present {
		out, off = appendMessageAuthenticator(out)
	}
	patchRadiusLength(out)
	if off >= 0 {
		d.hasher.signMessageAuthenticator(out, off, sec)
	}
	d.hasher.responseAuthenticator(out, &p.auth, sec)
	return out
}

// daeEvent is a checked request on its way to the loop.
type daeEvent struct {
	code  radiusCode
	attrs []byte
	reply chan daeAnswer
}

type daeAnswer struct {
	errorCause uint32 // 0: ACK
	count      int
}

// daeRequest is what a Disconnect- or CoA-Request asks: which sessions,
// and for CoA what to change (nil: leave it).
type daeRequest struct {
	match   sessionMatch
	rate    *rateLimit
	timeout *time.Duration
}

// parseDAEAttrs reads the attributes of a checked request. Values that do
// not parse are ignored, as for a reply.
func parseDAEAttrs(attrs []byte) daeRequest {
	var r daeRequest
	m := &r.match
	it := radAttrIter{b: attrs}
	for it.next() {
		v := it.val
		switch it.typ {
		case attrAcctSessionID:
			m.acctSessionID = string(v)
		case attrUserName:
			m.user = string(v)
		case attrFramedIPAddress:
			if len(v) == 4 {
				m.ip = netip.AddrFrom4([4]byte(v))
			}
		case attrCallingStationID:
			if hw, err := net.ParseMAC(string(v)); err == nil && len(hw) == ethAddrLen {
				m.mac = hwAddr(hw)
			}
		case attrSessionTimeout:
			if n, ok := radUint32(v); ok {
				d := time.Duration(n) * time.Second
				r.timeout = &d
			}
		case attrFilterID:
			if rl, err := parseRate(string(v)); err == nil {
				r.rate = &rl
			}
		case attrVendorSpecific:
			if vendor, typ, val, ok := vendorAttr(v); ok && vendor == vendorWISPr && len(val) == 4 {
				if r.rate == nil {
					r.rate = &rateLimit{}
				}
				kbps := uint32(val[0])<<24 | uint32(val[1])<<16 | uint32(val[2])<<8 | uint32(val[3])
				if typ == wisprMaxDown {
					r.rate.down = kbps / 1000
				} else if typ == wisprMaxUp {
					r.rate.up = kbps / 1000
				}
			}
		}
	}
	return r
}

func (e daeEvent) handle(s *server) {
	r := parseDAEAttrs(e.attrs)
	m, rate, timeout := r.match, r.rate, r.timeout
	if m.acctSessionID == "" && m.user == "" && !m.ip.IsValid() && m.mac == (hwAddr{}) {
		e.reply <- daeAnswer{errorCause: errorCauseMissingAtt}
		return
	}
	n := 0
	s.sessions.each(func(sess *session) {
		if sess.ending || !m.matches(sess) {
			return
		}
		n++
		if e.code == radDisconnectRequest {
			sess.logger().Info("disconnected by the RADIUS server")
			sess.end("disconnected by RADIUS", true)
			return
		}
		if timeout != nil {
			if *timeout == 0 {
				sess.sessionEnd = time.Time{}
			} else {
				sess.sessionEnd = s.clock.Add(*timeout)
			}
		}
		if rate != nil && sess.path != nil {
			sess.applyRate(*rate)
		}
		sess.logger().Info("changed by the RADIUS server (CoA)", "rate", sess.rate.String())
	})
	if n == 0 {
		e.reply <- daeAnswer{errorCause: errorCauseNoSession}
		return
	}
	e.reply <- daeAnswer{count: n}
}
