// IPCP (RFC 1332) with the DNS and NBNS extensions (RFC 1877).
//
// As the access concentrator we ask for our own address (-L, or the
// session's local address from the pool) and tell the client its address
// and name servers by Configure-Nak: a request for 0.0.0.0 or for the wrong
// address gets the assigned one. Van Jacobson compression and anything else
// unknown is rejected. As the test client we ask for 0.0.0.0 and the name
// servers, take what the server's Nak offers, and accept the server's own
// address.

package main

import (
	"bytes"
	"net/netip"
)

type ipcpLayer struct {
	h      pppHost
	client bool

	// Our Configure-Request.
	local    netip.Addr // server: our address; client: the address we ask for
	sendAddr bool
	dns      [2]netip.Addr // client: name servers we ask for
	sendDNS  [2]bool

	// Server: what the client gets.
	peer netip.Addr
	// Server: what we hand out; zero values are not offered.
	offerDNS  [2]netip.Addr
	offerWINS [2]netip.Addr

	// Client: the server's address, from its request.
	peerAddr netip.Addr
}

func (l *ipcpLayer) resetServer(h pppHost, local, peer netip.Addr, dns, wins []netip.Addr) {
	*l = ipcpLayer{h: h, local: local, sendAddr: true, peer: peer}
	copy(l.offerDNS[:], dns)
	copy(l.offerWINS[:], wins)
}

func (l *ipcpLayer) resetClient(h pppHost) {
	z := netip.AddrFrom4([4]byte{})
	*l = ipcpLayer{h: h, client: true, local: z, sendAddr: true, dns: [2]netip.Addr{z, z}, sendDNS: [2]bool{true, true}}
}

func (l *ipcpLayer) appendConfReq(b []byte) []byte {
	if l.sendAddr {
		a := addr4(l.local)
		b = appendOpt(b, ipcpOptAddress, a[:])
	}
	for i, t := range [2]uint8{ipcpOptDNS1, ipcpOptDNS2} {
		if l.sendDNS[i] {
			a := addr4(l.dns[i])
			b = appendOpt(b, t, a[:])
		}
	}
	return b
}

// offerFor returns what we hand out for an address-valued option.
func (l *ipcpLayer) offerFor(typ uint8) (netip.Addr, bool) {
	var a netip.Addr
	switch typ {
	case ipcpOptAddress:
		a = l.peer
	case ipcpOptDNS1:
		a = l.offerDNS[0]
	case ipcpOptDNS2:
		a = l.offerDNS[1]
	case ipcpOptWINS1:
		a = l.offerWINS[0]
	case ipcpOptWINS2:
		a = l.offerWINS[1]
	}
	return a, a.IsValid()
}

func (l *ipcpLayer) checkConfReq(opts, resp []byte, rejectNaks bool) (cpCode, []byte) {
	start := len(resp)
	if resp, rejected := appendRejects(resp, opts, l.rejects); rejected {
		return cpConfRej, resp
	}
	it := optIter{b: opts}
	if l.client {
		// The server tells us its own address; take it as it is.
		for it.next() {
			if it.typ == ipcpOptAddress {
				l.peerAddr = netip.AddrFrom4([4]byte(it.val))
			}
		}
		return cpConfAck, append(resp, opts...)
	}

	sawAddr := false
	it = optIter{b: opts}
	for it.next() {
		want, _ := l.offerFor(it.typ)
		if it.typ == ipcpOptAddress {
			sawAddr = true
		}
		w := addr4(want)
		if !bytes.Equal(it.val, w[:]) {
			if rejectNaks {
				resp = append(resp, it.raw...)
			} else {
				resp = appendOpt(resp, it.typ, w[:])
			}
		}
	}
	// RFC 1661 §5.3: a Nak may add options the peer left out, to ask
	// for them. A client that did not ask for an address is told its own.
	if !sawAddr && !rejectNaks && len(resp) == start {
		p := addr4(l.peer)
		resp = appendOpt(resp, ipcpOptAddress, p[:])
		return cpConfNak, resp
	}
	if len(resp) > start {
		if rejectNaks {
			return cpConfRej, resp
		}
		return cpConfNak, resp
	}
	return cpConfAck, append(resp, opts...)
}

func (l *ipcpLayer) rejects(typ uint8, val []byte) bool {
	switch typ {
	case ipcpOptAddress:
		return len(val) != 4
	case ipcpOptDNS1, ipcpOptDNS2, ipcpOptWINS1, ipcpOptWINS2:
		if l.client || len(val) != 4 {
			return true
		}
		_, ok := l.offerFor(typ)
		return !ok
	default:
		// IP-Addresses (deprecated), IP-Compression-Protocol (VJ) and
		// anything unknown.
		return true
	}
}

func (l *ipcpLayer) ackReceived(opts []byte) bool {
	var buf [32]byte
	return bytes.Equal(opts, l.appendConfReq(buf[:0]))
}

func (l *ipcpLayer) nakReceived(opts []byte) {
	if !l.client {
		// We keep our own address whatever the client suggests, as pppd
		// does without ipcp-accept-local.
		return
	}
	it := optIter{b: opts}
	for it.next() {
		if len(it.val) != 4 {
			continue
		}
		a := netip.AddrFrom4([4]byte(it.val))
		switch it.typ {
		case ipcpOptAddress:
			l.local, l.sendAddr = a, true
		case ipcpOptDNS1:
			l.dns[0], l.sendDNS[0] = a, true
		case ipcpOptDNS2:
			l.dns[1], l.sendDNS[1] = a, true
		}
	}
}

func (l *ipcpLayer) rejReceived(opts []byte) {
	it := optIter{b: opts}
	for it.next() {
		switch it.typ {
		case ipcpOptAddress:
			l.sendAddr = false
		case ipcpOptDNS1:
			l.sendDNS[0] = false
		case ipcpOptDNS2:
			l.sendDNS[1] = false
		}
	}
}

func (l *ipcpLayer) otherCode(cpCode, uint8, []byte) bool { return false }

func (l *ipcpLayer) up()       { l.h.onIPCPUp() }
func (l *ipcpLayer) down()     { l.h.onIPCPDown() }
func (l *ipcpLayer) started()  {}
func (l *ipcpLayer) finished() { l.h.onIPCPFinished() }

// dnsServers returns the name servers the client was given.
func (l *ipcpLayer) dnsServers() []netip.Addr {
	var out []netip.Addr
	for i := range l.dns {
		if l.sendDNS[i] && !l.dns[i].IsUnspecified() {
			out = append(out, l.dns[i])
		}
	}
	return out
}

// addr4 is an IPv4 address as bytes, zero for the zero Addr, without the
// allocation of AsSlice.
func addr4(a netip.Addr) [4]byte {
	if !a.Is4() {
		return [4]byte{}
	}
	return a.As4()
}
