// Dynamic Authorization (RFC 5176): a RADIUS server ends a session with a
// Disconnect-Request, or changes one with a CoA-Request (Session-Timeout,
// the rate limit).
//
// runDAE owns the socket: it reads a request, drops it (counted) unless it
// comes from a configured client with the right request authenticator, a
// right Message-Authenticator when it has one and an Event-Timestamp within
// 300 s when it has one; then it asks the event loop, which finds the
// sessions and acts, and answers with an ACK or a NAK (Error-Cause 503 when
// no session matched; 401, 403, 405 or 407 for what it cannot honour, see
// parseDAEAttrs). The loop never waits on the socket. A request seen
// again (same client, identifier and authenticator: the server resending
// because our answer was lost) gets the same answer without being acted on
// twice; runDAE keeps the last daeRecent answers for daeRecentFor.

package main

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

const (
	daeWindow    = 300 * time.Second
	daeRecent    = 64
	daeRecentFor = 30 * time.Second
)

type daeServer struct {
	conn    *net.UDPConn
	clients map[netip.Addr]string
	srv     *server
	log     *logger
	nasID   string             // ours: a NAS-Identifier naming another NAS is refused
	hasher  *radiusHasher      // runDAE's
	recent  [daeRecent]daeSeen // runDAE's, a ring
	next    int
	dropped atomic.Uint64
	served  atomic.Uint64
	done    chan struct{} // closed when the daemon stops: the loop answers no more
	wg      sync.WaitGroup
}

// daeSeen is a request answered, for answering its retransmissions.
type daeSeen struct {
	from netip.Addr
	id   uint8
	auth [radAuthLen]byte
	at   time.Time
	resp []byte
}

func listenDAE(dc *daeConfig, nasID string) (*daeServer, error) {
	ap, err := netip.ParseAddrPort(dc.Listen)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	d := &daeServer{conn: conn, clients: map[netip.Addr]string{}, nasID: nasID, hasher: newRadiusHasher(), done: make(chan struct{})}
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
	close(d.done)
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
	now := time.Now()
	for i := range d.recent {
		if x := &d.recent[i]; x.resp != nil && x.id == p.id && x.auth == p.auth && x.from == from && now.Sub(x.at) < daeRecentFor {
			return x.resp
		}
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
	ev := daeEvent{code: p.code, req: parseDAEAttrs(p.attrs, d.nasID), reply: make(chan daeAnswer, 1)}
	d.srv.events.post(ev)
	var ans daeAnswer
	select {
	case ans = <-ev.reply:
	case <-time.After(ctlIOTimeout):
		return drop("the daemon did not answer in time")
	case <-d.done:
		return drop("the daemon is stopping")
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
	// A proxy's Proxy-State comes back as it went (RFC 5176 §3).
	it := radAttrIter{b: p.attrs}
	for it.next() {
		if it.typ == attrProxyState {
			out = appendAttr(out, attrProxyState, it.val)
		}
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
	d.recent[d.next] = daeSeen{from: from, id: p.id, auth: p.auth, at: now, resp: out}
	d.next = (d.next + 1) % daeRecent
	return out
}

// daeEvent is a checked request on its way to the loop.
type daeEvent struct {
	code  radiusCode
	req   daeRequest
	reply chan daeAnswer
}

type daeAnswer struct {
	errorCause uint32 // 0: ACK
	count      int
}

// daeRequest is what a Disconnect- or CoA-Request asks: which sessions,
// and for CoA what to change.
type daeRequest struct {
	match sessionMatch
	// IPv6 identification (RFC 5176 §3 lists Framed-IPv6-Prefix and
	// Framed-Interface-Id; Delegated-IPv6-Prefix names a session as
	// surely): each given must be the live session's own. Only the DAE
	// matches on them, so they live here rather than in sessionMatch.
	prefix    netip.Prefix // invalid: not given
	delegated netip.Prefix
	ifaceID   [ifaceIDLen]byte // zero: not given
	rate      rateLimit        // the directions setDown and setUp say
	setDown   bool
	setUp     bool
	timeout   *time.Duration // nil: leave it
	// errorCause, when not 0, is the NAK's (RFC 5176 §3.6): an attribute
	// we do not act on (401), a value that does not parse (407), another
	// NAS's name (403), Service-Type Authorize-Only (405).
	errorCause uint32
}

// parseDAEAttrs reads the attributes of a checked request. A session is
// identified by Acct-Session-Id, User-Name, Framed-IP-Address,
// Framed-IPv6-Prefix, Delegated-IPv6-Prefix, Framed-Interface-Id,
// Calling-Station-Id and NAS-Port (the PPPoE session ID), every one given
// having to match; an attribute we cannot honour is refused rather than
// ignored, since ignoring an identifying one would widen the match.
func parseDAEAttrs(attrs []byte, nasID string) daeRequest {
	var r daeRequest
	m := &r.match
	bad := func(cause uint32) {
		if r.errorCause == 0 {
			r.errorCause = cause
		}
	}
	it := radAttrIter{b: attrs}
	for it.next() {
		v := it.val
		switch it.typ {
		case attrAcctSessionID:
			m.acctSessionID = string(v)
		case attrUserName:
			m.user = string(v)
		case attrFramedIPAddress:
			if len(v) != 4 {
				bad(errorCauseInvalidVal)
				continue
			}
			m.ip = netip.AddrFrom4([4]byte(v))
		case attrFramedIPv6Prefix, attrDelegatedIPv6Prefix:
			// Host bits are cleared (radIPv6Prefix), so
			// 2001:db8::1/64 names the session of 2001:db8::/64.
			pfx, err := radIPv6Prefix(v)
			if err != nil || pfx.Bits() == 0 {
				bad(errorCauseInvalidVal)
				continue
			}
			if it.typ == attrFramedIPv6Prefix {
				r.prefix = pfx
			} else {
				r.delegated = pfx
			}
		case attrFramedInterfaceID:
			if len(v) != ifaceIDLen || [ifaceIDLen]byte(v) == ([ifaceIDLen]byte{}) {
				bad(errorCauseInvalidVal)
				continue
			}
			r.ifaceID = [ifaceIDLen]byte(v)
		case attrCallingStationID:
			hw, err := net.ParseMAC(string(v))
			if err != nil || len(hw) != ethAddrLen {
				bad(errorCauseInvalidVal)
				continue
			}
			m.mac = hwAddr(hw)
		case attrNASPort:
			n, ok := radUint32(v)
			if !ok || n == 0 || n > 0xffff {
				bad(errorCauseInvalidVal)
				continue
			}
			m.sid = uint16(n)
		case attrNASIdentifier:
			if string(v) != nasID {
				bad(errorCauseNASMismatch)
			}
		case attrServiceType:
			if n, _ := radUint32(v); n == 17 { // Authorize-Only: re-authentication, not done here
				bad(errorCauseUnsupSvc)
			}
		case attrNASIPAddress, attrNASIPv6Address, attrCalledStationID, attrEventTimestamp, attrMessageAuthenticator, attrState, attrProxyState, attrReplyMessage:
			// Checked before, echoed, or of no consequence here.
		case attrSessionTimeout:
			n, ok := radUint32(v)
			if !ok {
				bad(errorCauseInvalidVal)
				continue
			}
			d := time.Duration(n) * time.Second
			r.timeout = &d
		case attrFilterID:
			rl, err := parseRate(string(v))
			if err != nil {
				bad(errorCauseInvalidVal)
				continue
			}
			r.rate, r.setDown, r.setUp = rl, true, true
		case attrVendorSpecific:
			vendor, typ, val, ok := vendorAttr(v)
			if !ok || vendor != vendorWISPr || (typ != wisprMaxDown && typ != wisprMaxUp) {
				bad(errorCauseUnsupAttr)
				continue
			}
			if len(val) != 4 {
				bad(errorCauseInvalidVal)
				continue
			}
			kbps := binary.BigEndian.Uint32(val) / 1000 // bit/s in the attribute
			if typ == wisprMaxDown {
				r.rate.down, r.setDown = kbps, true
			} else {
				r.rate.up, r.setUp = kbps, true
			}
		default:
			bad(errorCauseUnsupAttr)
		}
	}
	return r
}

func (r *daeRequest) identifies6() bool {
	return r.prefix.IsValid() || r.delegated.IsValid() || r.ifaceID != ([ifaceIDLen]byte{})
}

// matches6 reports whether the session has every IPv6 identification the
// request gives: its current /64 and delegated prefix, not the ones kept
// for accounting after they went back to the pools.
func (r *daeRequest) matches6(s *session) bool {
	if r.prefix.IsValid() && s.v6.prefix != r.prefix {
		return false
	}
	if r.delegated.IsValid() && s.v6.delegated != r.delegated {
		return false
	}
	return r.ifaceID == ([ifaceIDLen]byte{}) || s.ipv6cpL.peer == r.ifaceID
}

func (e daeEvent) handle(s *server) {
	r := e.req
	m, timeout := r.match, r.timeout
	if r.errorCause != 0 {
		e.reply <- daeAnswer{errorCause: r.errorCause}
		return
	}
	if m.acctSessionID == "" && m.user == "" && !m.ip.IsValid() && m.mac == (hwAddr{}) && m.sid == 0 && !r.identifies6() {
		e.reply <- daeAnswer{errorCause: errorCauseMissingAtt}
		return
	}
	n := 0
	s.sessions.each(func(sess *session) {
		if sess.ending || !m.matches(sess) || !r.matches6(sess) {
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
		if (r.setDown || r.setUp) && sess.path != nil {
			// WISPr may change one direction and leave the other.
			rate := sess.rate
			if r.setDown {
				rate.down = r.rate.down
			}
			if r.setUp {
				rate.up = r.rate.up
			}
			sess.applyRate(rate)
		}
		sess.logger().Info("changed by the RADIUS server (CoA)", "rate", sess.rate.String())
	})
	if n == 0 {
		e.reply <- daeAnswer{errorCause: errorCauseNoSession}
		return
	}
	e.reply <- daeAnswer{count: n}
}
