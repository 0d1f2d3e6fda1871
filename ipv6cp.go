// IPv6CP (RFC 5072): the NCP that brings IPv6 up on a PPP link.
//
// Its one option is the Interface-Identifier: the low 64 bits of each end's
// link-local address. As the access concentrator we send a random non-zero
// identifier of our own and accept the peer's when it is non-zero and not
// ours; otherwise we Nak with one we choose (RFC 5072 §4.1). A peer that
// sends none gets one chosen for it by Nak, as pppd does. Nothing else is
// negotiated: IPv6-Compression-Protocol and anything unknown are rejected.
// As the test client we send our identifier and take the one a Nak offers.
//
// Like the other layers, this runs on the goroutine that owns its session.

package main

import (
	"bytes"
	"encoding/binary"
)

const (
	ipv6cpOptIfaceID = 1
	ifaceIDLen       = 8
)

type ipv6cpLayer struct {
	h      pppHost
	client bool
	rand   func() uint64 // a fresh random identifier source

	local   [ifaceIDLen]byte // our identifier
	sendID  bool
	peer    [ifaceIDLen]byte // the peer's, once acked (or suggested)
	suggest [ifaceIDLen]byte // what we Nak with while the peer's is unusable
}

func (l *ipv6cpLayer) reset(h pppHost, client bool, rand func() uint64) {
	*l = ipv6cpLayer{h: h, client: client, rand: rand, sendID: true}
	l.local = l.fresh()
}

// fresh returns a random identifier that is neither zero nor ours nor the
// peer's.
func (l *ipv6cpLayer) fresh() [ifaceIDLen]byte {
	var id [ifaceIDLen]byte
	for {
		binary.BigEndian.PutUint64(id[:], l.rand())
		if id != ([ifaceIDLen]byte{}) && id != l.local && id != l.peer {
			return id
		}
	}
}

func (l *ipv6cpLayer) appendConfReq(b []byte) []byte {
	if l.sendID {
		b = appendOpt(b, ipv6cpOptIfaceID, l.local[:])
	}
	return b
}

func (l *ipv6cpLayer) checkConfReq(opts, resp []byte, rejectNaks bool) (cpCode, []byte) {
	start := len(resp)
	if resp, rejected := appendRejects(resp, opts, l.rejects); rejected {
		return cpConfRej, resp
	}
	saw := false
	it := optIter{b: opts}
	for it.next() {
		if it.typ != ipv6cpOptIfaceID {
			continue
		}
		saw = true
		id := [ifaceIDLen]byte(it.val)
		if id != ([ifaceIDLen]byte{}) && id != l.local {
			l.peer = id
			continue
		}
		if rejectNaks {
			resp = append(resp, it.raw...)
			continue
		}
		if l.suggest == ([ifaceIDLen]byte{}) || l.suggest == id {
			l.suggest = l.fresh()
		}
		resp = appendOpt(resp, ipv6cpOptIfaceID, l.suggest[:])
	}
	if !saw && !l.client && !rejectNaks && len(resp) == start {
		// RFC 1661 §5.3: ask for the option the peer left out.
		if l.suggest == ([ifaceIDLen]byte{}) {
			l.suggest = l.fresh()
		}
		return cpConfNak, appendOpt(resp, ipv6cpOptIfaceID, l.suggest[:])
	}
	if len(resp) > start {
		if rejectNaks {
			return cpConfRej, resp
		}
		return cpConfNak, resp
	}
	if !saw {
		// Max-Failure reached without an identifier: choose one for
		// the routes and the link-local address ourselves.
		if l.suggest == ([ifaceIDLen]byte{}) {
			l.suggest = l.fresh()
		}
		l.peer = l.suggest
	}
	return cpConfAck, append(resp, opts...)
}

func (l *ipv6cpLayer) rejects(typ uint8, val []byte) bool {
	return typ != ipv6cpOptIfaceID || len(val) != ifaceIDLen
}

func (l *ipv6cpLayer) ackReceived(opts []byte) bool {
	var buf [16]byte
	return bytes.Equal(opts, l.appendConfReq(buf[:0]))
}

func (l *ipv6cpLayer) nakReceived(opts []byte) {
	it := optIter{b: opts}
	for it.next() {
		if it.typ != ipv6cpOptIfaceID || len(it.val) != ifaceIDLen {
			continue
		}
		id := [ifaceIDLen]byte(it.val)
		if id != ([ifaceIDLen]byte{}) && id != l.peer {
			l.local = id
		} else {
			l.local = l.fresh()
		}
		l.sendID = true
	}
}

func (l *ipv6cpLayer) rejReceived(opts []byte) {
	it := optIter{b: opts}
	for it.next() {
		if it.typ == ipv6cpOptIfaceID {
			l.sendID = false
		}
	}
}

func (l *ipv6cpLayer) otherCode(cpCode, uint8, []byte) bool { return false }

func (l *ipv6cpLayer) up()       { l.h.onIPv6CPUp() }
func (l *ipv6cpLayer) down()     { l.h.onIPv6CPDown() }
func (l *ipv6cpLayer) started()  {}
func (l *ipv6cpLayer) finished() { l.h.onIPv6CPFinished() }

// linkLocal is fe80::/64 with identifier id.
func linkLocal(id [ifaceIDLen]byte) [16]byte {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	copy(a[8:], id[:])
	return a
}
