// PPPoE discovery (RFC 2516 §5): PADI → PADO, PADR → PADS, PADT, PADM, and
// the AC-Cookie.
//
// All of it runs on the loop goroutine. A handler parses the received frame
// into s.pkt (aliasing the receive buffer), builds its answer in s.out and
// encodes it into s.tx, so answering a PADI allocates nothing. Nothing is
// kept per PADI: the AC-Cookie in the PADO carries its own expiry and an
// HMAC, and a PADR is only believed if it brings a cookie we signed.

package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"time"
)

// cookieJar signs and checks AC-Cookies. The key is random per process, so
// a restart invalidates outstanding cookies, which only makes clients start
// discovery again. It is owned by the loop goroutine.
type cookieJar struct {
	h        hash.Hash
	lifetime time.Duration
	hdr      [2*ethAddrLen + cookieExpiryLen]byte
	sum      [sha256.Size]byte
}

func newCookieJar(lifetime time.Duration) *cookieJar {
	key := make([]byte, 32)
	fillRandom(key)
	return &cookieJar{h: hmac.New(sha256.New, key), lifetime: lifetime}
}

// sign computes the truncated HMAC over our MAC, the peer's MAC, the expiry
// and Host-Uniq. The result aliases c.sum.
func (c *cookieJar) sign(our, peer hwAddr, expiry uint32, hostUniq []byte) []byte {
	copy(c.hdr[0:], our[:])
	copy(c.hdr[ethAddrLen:], peer[:])
	binary.BigEndian.PutUint32(c.hdr[2*ethAddrLen:], expiry)
	c.h.Reset()
	c.h.Write(c.hdr[:])
	c.h.Write(hostUniq)
	return c.h.Sum(c.sum[:0])[:cookieMACLen]
}

// appendCookie appends a fresh cookie value to b.
func (c *cookieJar) appendCookie(b []byte, our, peer hwAddr, hostUniq []byte, now time.Time) []byte {
	expiry := uint32(now.Add(c.lifetime).Unix())
	b = binary.BigEndian.AppendUint32(b, expiry)
	return append(b, c.sign(our, peer, expiry, hostUniq)...)
}

// check reports whether cookie is one we signed for this pair of MACs and
// Host-Uniq and has not expired.
func (c *cookieJar) check(cookie []byte, our, peer hwAddr, hostUniq []byte, now time.Time) bool {
	if len(cookie) != cookieLen {
		return false
	}
	expiry := binary.BigEndian.Uint32(cookie)
	if int64(expiry) < now.Unix() {
		return false
	}
	return hmac.Equal(c.sign(our, peer, expiry, hostUniq), cookie[cookieExpiryLen:])
}

// discoveryTags are the tags a handler cares about, each the first of its
// type. Values alias the received frame.
type discoveryTags struct {
	serviceName, hostUniq, relayID, cookie []byte
	hasService, hasHostUniq, hasRelayID    bool
	hasCookie                              bool
	maxPayload                             uint16
	line                                   lineID
	hasLine                                bool
}

func (d *discoveryTags) collect(p *discoveryPacket) {
	*d = discoveryTags{}
	for i := range p.ntags {
		t := &p.tags[i]
		switch t.typ {
		case tagServiceName:
			if !d.hasService {
				d.serviceName, d.hasService = t.val, true
			}
		case tagHostUniq:
			if !d.hasHostUniq {
				d.hostUniq, d.hasHostUniq = t.val, true
			}
		case tagRelaySessionID:
			if !d.hasRelayID {
				d.relayID, d.hasRelayID = t.val, true
			}
		case tagACCookie:
			if !d.hasCookie {
				d.cookie, d.hasCookie = t.val, true
			}
		case tagPPPMaxPayload:
			if len(t.val) == 2 {
				d.maxPayload = binary.BigEndian.Uint16(t.val)
			}
		case tagVendorSpecific:
			if !d.hasLine {
				d.line, d.hasLine = parseBBFVendorTag(t.val)
			}
		}
	}
}

// handleDiscovery handles one received discovery frame. b aliases a frame
// buffer the caller keeps.
func (s *server) handleDiscovery(ifc *iface, b []byte) {
	p := &s.pkt
	if err := p.parse(b); err != nil {
		s.drop(ifc, parseDropReason(err), b)
		return
	}
	if p.src == ifc.mac {
		s.drop(ifc, dropOwnFrame, b)
		return
	}
	if !p.src.isUnicast() {
		s.drop(ifc, dropSourceNotUnicast, b)
		return
	}
	s.tags.collect(p)
	switch p.code {
	case codePADI:
		s.onPADI(ifc, p, &s.tags)
	case codePADR:
		s.onPADR(ifc, p, &s.tags)
	case codePADT:
		s.onPADT(ifc, p)
	default:
		s.drop(ifc, dropUnexpectedCode, b)
	}
}

// onPADI answers a PADI with a PADO (RFC 2516 §5.1, §5.2).
func (s *server) onPADI(ifc *iface, p *discoveryPacket, t *discoveryTags) {
	switch {
	case p.sessionID != 0:
		s.drop(ifc, dropPADISessionID, nil)
		return
	case p.dst != broadcastAddr && p.dst != ifc.mac:
		s.drop(ifc, dropNotForUs, nil)
		return
	case t.hasService && len(t.serviceName) > 0 && !s.offers(t.serviceName):
		// RFC 2516 §5.2: an AC that cannot serve the PADI does not answer.
		s.drop(ifc, dropUnknownService, nil)
		return
	case s.cfg.NoPADOWhenFull && s.sessions.full():
		s.drop(ifc, dropFull, nil)
		return
	case s.atMACLimit(p.src):
		s.drop(ifc, dropMACLimit, nil)
		return
	case s.sessions.inSetup >= s.maxStarting && !s.sessions.full():
		// No PADO while too many sessions are in setup: the client tries
		// again in a second or two, by when some have finished. (A full
		// table is -i's business, as before.)
		s.drop(ifc, dropTooManyStarting, nil)
		return
	}
	delay, ok := padoDelay(s.cfg.padoDelay, s.sessions.active)
	if !ok {
		s.drop(ifc, dropFull, nil)
		return
	}

	o := &s.out
	o.reset(p.src, ifc.mac, codePADO, 0)
	o.add(tagACName, s.acName)
	if mp := maxPayloadFor(ifc, t.maxPayload); mp != 0 {
		o.add(tagPPPMaxPayload, binary.BigEndian.AppendUint16(s.mpBuf[:0], mp))
	}
	switch {
	case len(s.services) > 0:
		for _, name := range s.services {
			o.add(tagServiceName, name)
		}
	case t.hasService:
		// With no -S every service is accepted; echo the one asked for,
		// since clients such as pppd's plugin ignore a PADO that does not
		// list the service they asked for.
		o.add(tagServiceName, t.serviceName)
	default:
		o.add(tagServiceName, nil)
	}
	o.add(tagACCookie, s.cookies.appendCookie(s.cookieBuf[:0], ifc.mac, p.src, t.hostUniq, s.clock))
	if t.hasRelayID {
		o.add(tagRelaySessionID, t.relayID)
	}
	if t.hasHostUniq {
		o.add(tagHostUniq, t.hostUniq)
	}
	if delay > 0 {
		o.etherType = s.cfg.discoveryType
		f := o.appendTo(nil)
		time.AfterFunc(delay, func() { s.events.post(delayedPADO{ifc, f}) })
		return
	}
	s.stats.add(statPADO)
	s.countOffer()
	s.send(ifc, o)
}

// onPADR answers a PADR with a PADS and starts a session (RFC 2516 §5.3, §5.4).
func (s *server) onPADR(ifc *iface, p *discoveryPacket, t *discoveryTags) {
	switch {
	case p.dst == broadcastAddr:
		s.drop(ifc, dropPADRBroadcast, nil)
		return
	case p.dst != ifc.mac:
		s.drop(ifc, dropNotForUs, nil)
		return
	case p.sessionID != 0:
		s.drop(ifc, dropPADRSessionID, nil)
		return
	case !t.hasCookie:
		s.drop(ifc, dropNoCookie, nil)
		return
	case !s.cookies.check(t.cookie, ifc.mac, p.src, t.hostUniq, s.clock):
		s.drop(ifc, dropBadCookie, nil)
		return
	}
	s.offered = max(s.offered-1, 0) // a PADO answered, with a good cookie
	var cm [cookieMACLen]byte
	copy(cm[:], t.cookie[cookieExpiryLen:])

	// A PADR retransmitted because our PADS was lost must not open a second
	// session (rp-pppoe issue #6): answer it with the same PADS. One that
	// comes after the client has started PPP (our PADS was late, not
	// lost) needs no answer, and must not open a session either, which
	// would sit silent until it timed out, holding a slot.
	if old := s.sessions.findByPADR(p.src, cm); old != nil && old.iface == ifc {
		s.stats.add(statDuplicatePADR)
		if old.state == stateStarting {
			s.sendPADS(old)
		}
		return
	}

	// RFC 2516 §5.4: a refusal is a PADS with SESSION_ID 0 and an error tag.
	// The tag carries a short fixed text; the details only go to the log.
	switch {
	case !t.hasService:
		s.refusePADR(ifc, p, t, tagServiceNameError, "no Service-Name tag")
		return
	case len(t.serviceName) > 0 && !s.offers(t.serviceName):
		s.refusePADR(ifc, p, t, tagServiceNameError, "service not offered")
		return
	case s.atMACLimit(p.src):
		s.refusePADR(ifc, p, t, tagACSystemError, "too many sessions from this MAC")
		return
	case s.sessions.inSetup >= s.maxStarting && !s.sessions.full():
		// No PADS, and no refusal either: the client sends its PADR
		// again shortly, and may find room then. A full table refuses
		// below, as before.
		s.drop(ifc, dropTooManyStarting, nil)
		return
	}
	sess := s.sessions.create(s, ifc, p.src, cm)
	s.churnAt = s.clock
	if sess == nil {
		s.refusePADR(ifc, p, t, tagACSystemError, "no free session slots")
		return
	}
	now := s.clock
	switch {
	case len(t.serviceName) == 0 && len(s.services) > 0:
		sess.serviceName = s.services[0]
	default:
		sess.serviceName = append([]byte(nil), t.serviceName...)
	}
	if t.hasHostUniq {
		sess.hostUniq = append([]byte{}, t.hostUniq...)
	}
	if t.hasRelayID {
		sess.relayID = append([]byte{}, t.relayID...)
	}
	sess.maxPayload = maxPayloadFor(ifc, t.maxPayload)
	if t.hasLine {
		sess.line = &lineID{circuitID: bytes.Clone(t.line.circuitID), remoteID: bytes.Clone(t.line.remoteID)}
	}
	if s.radAcct != nil {
		s.acctSeq++
		sess.acctSessionID = s.radAcct.sessionID(s.acctSeq)
	}
	sess.started = now
	sess.deadline = now.Add(s.cfg.SetupTimeout)
	// The data path is ready before the PADS: in kernel mode the kernel's
	// session must own the client's first LCP frame.
	path, err := s.path.open(sess)
	if err != nil {
		sess.logger().Warn("data path setup failed", "err", err)
		s.sessions.release(sess)
		s.refusePADR(ifc, p, t, tagACSystemError, "session setup failed")
		return
	}
	sess.path = path
	if l := sess.logger(); l.enabled(levelInfo) {
		// The logger quotes any value that needs it, so strings
		// from the wire are logged as they are.
		attrs := []any{"service", string(sess.serviceName)}
		if t.hasLine {
			attrs = append(attrs, "circuit_id", string(t.line.circuitID), "remote_id", string(t.line.remoteID))
		}
		if sess.maxPayload != 0 {
			attrs = append(attrs, "max_payload", sess.maxPayload)
		}
		l.Info("session started", attrs...)
	}
	s.stats.add(statSessionsStarted)
	s.sendPADS(sess)
	if s.cfg.MOTM != "" || s.cfg.HURL != "" {
		s.sendPADM(sess)
	}
	sess.start()
}

// onPADT ends a session at the peer's request (RFC 2516 §5.5). Both the
// session ID and the source MAC must match: anyone else on the segment could
// otherwise tear down other people's sessions.
func (s *server) onPADT(ifc *iface, p *discoveryPacket) {
	if p.dst != ifc.mac {
		s.drop(ifc, dropNotForUs, nil)
		return
	}
	sess := s.sessions.lookupPeer(ifc, p.src, p.sessionID)
	if sess == nil {
		s.drop(ifc, dropPADTUnknown, nil)
		return
	}
	sess.end("peer sent PADT", false)
}

// refusePADR sends a PADS with session ID 0 and an error tag. A client can
// replay its PADR at will, so the refusal is counted and logged at most
// once a second.
func (s *server) refusePADR(ifc *iface, p *discoveryPacket, t *discoveryTags, errTag tagType, text string) {
	s.stats.add(statRefused)
	if s.logLimit.allow(logRefused, s.clock) {
		s.log.Info("session refused", "iface", ifc.name, "mac", p.src.String(), "reason", text, "service", string(t.serviceName),
			"refused_total", s.stats.c[statRefused].Load())
	}
	o := &s.out
	o.reset(p.src, ifc.mac, codePADS, 0)
	if t.hasService {
		o.add(tagServiceName, t.serviceName)
	}
	o.add(errTag, []byte(text))
	if t.hasRelayID {
		o.add(tagRelaySessionID, t.relayID)
	}
	if t.hasHostUniq {
		o.add(tagHostUniq, t.hostUniq)
	}
	s.send(ifc, o)
}

// sendPADS confirms a session. Tag order follows rp-pppoe's server.
func (s *server) sendPADS(sess *session) {
	o := &s.out
	o.reset(sess.peer, sess.iface.mac, codePADS, sess.id)
	o.add(tagServiceName, sess.serviceName)
	if sess.maxPayload != 0 {
		o.add(tagPPPMaxPayload, binary.BigEndian.AppendUint16(s.mpBuf[:0], sess.maxPayload))
	}
	if sess.relayID != nil {
		o.add(tagRelaySessionID, sess.relayID)
	}
	if sess.hostUniq != nil {
		o.add(tagHostUniq, sess.hostUniq)
	}
	s.send(sess.iface, o)
}

// sendPADM sends the configured HURL and MOTM (RFC 4937 §3.1).
func (s *server) sendPADM(sess *session) {
	o := &s.out
	o.reset(sess.peer, sess.iface.mac, codePADM, sess.id)
	if s.cfg.HURL != "" {
		o.add(tagHURL, []byte(s.cfg.HURL))
	}
	if s.cfg.MOTM != "" {
		o.add(tagMOTM, []byte(s.cfg.MOTM))
	}
	s.send(sess.iface, o)
}

// sendPADT tells the peer its session is over.
func (s *server) sendPADT(sess *session) {
	// What the session said last (its Terminate-Request) goes before
	// the PADT, though they leave by different sockets' batches.
	if !sess.iface.gone {
		s.flushWriter(sess.iface, sess.iface.sessW)
	}
	o := &s.out
	o.reset(sess.peer, sess.iface.mac, codePADT, sess.id)
	s.send(sess.iface, o)
}

func (s *server) offers(name []byte) bool {
	if len(s.services) == 0 {
		return true
	}
	for _, n := range s.services {
		if string(n) == string(name) {
			return true
		}
	}
	return false
}

func (s *server) atMACLimit(peer hwAddr) bool {
	lim := s.cfg.MaxSessionsPerMAC
	return lim > 0 && s.sessions.perMAC[peer] >= lim
}

// maxPayloadFor is the RFC 4638 PPP-Max-Payload to grant: the requested
// value capped at what the interface carries, or 0 when the client did not
// ask for more than 1492 or the interface cannot give it.
func maxPayloadFor(ifc *iface, requested uint16) uint16 {
	if requested <= ethPPPoEMTU {
		return 0
	}
	v := min(int(requested), ifc.mtu-pppoeOverhead)
	if v <= ethPPPoEMTU {
		return 0
	}
	return uint16(v)
}
