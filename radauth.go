// Authentication through RADIUS (RFC 2865, 2548 for MS-CHAPv2, 4679 for
// the line ID): the authenticator the server uses when [radius] (or pppd's
// radius.so setup) names servers.
//
// authenticate builds the Access-Request's attributes on the event loop
// and submits it to the RADIUS client; the answer comes back from the
// client's goroutine and is posted to the loop like any authenticator's.
// Nothing here touches loop-owned state after authenticate returns.

package main

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

type radiusAuthenticator struct {
	c      *radiusClient
	nasID  string
	acName string
}

// radiusNASAttrs appends the attributes that say who we are and which port
// (session) a request is about, for Access- and Accounting-Requests.
func radiusNASAttrs(b []byte, nasID string, c *radiusClient, acName string, sid uint16, ifname string, peer, ourMAC hwAddr,
	acctSessionID string, line *lineID) []byte {
	b = appendAttrString(b, attrNASIdentifier, nasID)
	b = c.appendNASAddrs(b)
	b = appendAttr32(b, attrNASPort, uint32(sid))
	b = appendAttrString(b, attrNASPortID, ifname)
	b = appendAttr32(b, attrNASPortType, nasPortTypeEthernet)
	b = appendAttr32(b, attrServiceType, serviceFramed)
	b = appendAttr32(b, attrFramedProtocol, framedPPP)
	var mac [17]byte
	b = appendAttr(b, attrCallingStationID, peer.appendTo(mac[:0]))
	// RFC 3580's MAC:name, the AC-Name where 802.1X has the SSID.
	b = append(b, byte(attrCalledStationID), 0)
	start := len(b)
	b = ourMAC.appendTo(b)
	b = append(b, ':')
	b = append(b, acName[:min(len(acName), maxAttrValue-18)]...)
	b[start-1] = byte(2 + len(b) - start)
	b = appendAttrString(b, attrAcctSessionID, acctSessionID)
	if line != nil {
		if len(line.circuitID) > 0 {
			b = appendVendorAttr(b, vendorADSLForum, adslAgentCircuit, line.circuitID)
		}
		if len(line.remoteID) > 0 {
			b = appendVendorAttr(b, vendorADSLForum, adslAgentRemoteID, line.remoteID)
		}
	}
	return b
}

// appendNASAddrs appends NAS-IP-Address and NAS-IPv6-Address (RFC 3162
// §2.1), each when we have one; NAS-Identifier goes with them always.
func (c *radiusClient) appendNASAddrs(b []byte) []byte {
	if c.nasIP.Is4() {
		a := c.nasIP.As4()
		b = appendAttr(b, attrNASIPAddress, a[:])
	}
	if c.nasIP6.Is6() {
		a := c.nasIP6.As16()
		b = appendAttr(b, attrNASIPv6Address, a[:])
	}
	return b
}

func (a *radiusAuthenticator) authenticate(req *authRequest, answer func(*authRequest, authResult)) {
	b := appendAttrString(make([]byte, 0, 512), attrUserName, req.user)
	b = radiusNASAttrs(b, a.nasID, a.c, a.acName, req.key.sid, req.iface, req.peer, req.ourMAC, req.acctSessionID, req.line)
	r := &radReq{code: radAccessRequest}
	switch req.method {
	case authPAP:
		r.password = req.password
	case authCHAP:
		// The peer chose the value's length: anything but MD5's 16
		// bytes would spill into the attributes after it.
		if len(req.response) != 16 {
			answer(req, authResult{reason: "malformed CHAP response"})
			return
		}
		b = append(b, byte(attrCHAPPassword), 2+1+16, req.chapID)
		b = append(b, req.response...)
		b = appendAttr(b, attrCHAPChallenge, req.challenge)
	case authMSCHAPv2:
		if len(req.response) != mschapv2RespLen {
			answer(req, authResult{reason: "malformed MS-CHAPv2 response"})
			return
		}
		b = appendVendorAttr(b, vendorMicrosoft, msCHAPChallenge, req.challenge)
		// RFC 2548 §2.3.2: Ident, Flags, Peer-Challenge, Reserved,
		// Response; the PPP value has them as Peer-Challenge, Reserved,
		// NT-Response, Flags.
		v := make([]byte, 0, 50)
		v = append(v, req.chapID, req.response[48])
		v = append(v, req.response[:48]...)
		b = appendVendorAttr(b, vendorMicrosoft, msCHAP2Response, v)
	}
	r.attrs = b
	r.done = func(p *radiusPacket, _ *radiusServer, err error) {
		answer(req, radiusResult(p, err, func(msg string, args ...any) {
			a.c.log.Warn(msg, append(args, "sid", req.key.sid, "user", req.user)...)
		}))
	}
	a.c.submit(r)
}

// radiusResult turns a reply into the session's answer. warn, when not
// nil, is told about attributes that say something we cannot do.
func radiusResult(p *radiusPacket, err error, warn func(msg string, args ...any)) authResult {
	if warn == nil {
		warn = func(string, ...any) {}
	}
	if err != nil {
		return authResult{reason: "no RADIUS server answered"}
	}
	res := authResult{ok: p.code == radAccessAccept, source: "radius"}
	if !res.ok {
		res.reason = "rejected by RADIUS"
		res.guess = p.code == radAccessReject
		if p.code != radAccessReject {
			res.reason = "RADIUS answered with code " + strconv.Itoa(int(p.code))
		}
	}
	it := radAttrIter{b: p.attrs}
	for it.next() {
		v := it.val
		switch it.typ {
		case attrReplyMessage:
			// Several lines make one message.
			if res.message != "" {
				res.message += " "
			}
			res.message += strings.TrimRight(string(v), "\r\n")
		case attrFramedIPAddress:
			if len(v) == 4 {
				a := netip.AddrFrom4([4]byte(v))
				// 255.255.255.254: the NAS picks from its pool;
				// 255.255.255.255: the user may choose, which here is
				// the pool too (RFC 2865 §5.8).
				if b := a.As4(); !(b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] >= 254) {
					res.addr = a
				}
			}
		case attrFramedPool:
			res.pool = string(v)
		case attrFramedIPv6Prefix, attrDelegatedIPv6Prefix:
			// RFC 3162 §2.3 allows several: the first usable one counts.
			// The /64 is what the session's RAs announce.
			dst, name, minBits, want := &res.ipv6Prefix, "Framed-IPv6-Prefix", 64, "a /64"
			if it.typ == attrDelegatedIPv6Prefix {
				dst, name, minBits, want = &res.delegated, "Delegated-IPv6-Prefix", 1, "/1 to /64"
			}
			if dst.IsValid() {
				continue
			}
			pfx, err := radIPv6Prefix(v)
			if err != nil || pfx.Bits() < minBits || pfx.Bits() > 64 {
				val := hex.EncodeToString(v)
				if err == nil {
					val = pfx.String()
				}
				warn("RADIUS: "+name+" ignored: want "+want, "value", val)
				continue
			}
			*dst = pfx
		case attrFramedIPv6Pool:
			res.ipv6Pool = string(v)
		case attrDelegatedIPv6PrefixPool:
			res.delegatedPool = string(v)
		case attrSessionTimeout:
			if n, ok := radUint32(v); ok {
				res.sessionTimeout = time.Duration(n) * time.Second
			}
		case attrIdleTimeout:
			if n, ok := radUint32(v); ok {
				res.idleTimeout = time.Duration(n) * time.Second
			}
		case attrAcctInterimInterval:
			// RFC 2869 §5.16: not below 60 s in practice; we take what
			// the server says down to 10 s. 0 says nothing (pppd's
			// plugin and accel-ppp keep their own interval then).
			if n, ok := radUint32(v); ok && n > 0 {
				res.acctInterim = max(time.Duration(n)*time.Second, 10*time.Second)
			}
		case attrClass:
			// Echoed in every accounting record, which must stay well
			// inside a packet: 1 KB of Class is plenty for any server.
			if classLen(res.class)+len(v) <= maxClassTotal {
				res.class = append(res.class, append([]byte(nil), v...))
			}
		case attrFilterID:
			// accel-ppp's shaper convention: "down/up" in kbit/s.
			if r, err := parseRate(string(v)); err == nil {
				res.rateDown, res.rateUp = r.down, r.up
			}
		case attrVendorSpecific:
			vendor, typ, val, ok := vendorAttr(v)
			if !ok {
				continue
			}
			switch {
			case vendor == vendorWISPr && (typ == wisprMaxDown || typ == wisprMaxUp) && len(val) == 4:
				kbps := binary.BigEndian.Uint32(val) / 1000
				if typ == wisprMaxDown {
					res.rateDown = kbps
				} else {
					res.rateUp = kbps
				}
			case vendor == vendorMicrosoft && typ == msCHAP2Success && len(val) > 1:
				res.chapSuccess = string(val[1:])
			case vendor == vendorMicrosoft && typ == msCHAPError && len(val) > 1:
				res.chapFailure = string(val[1:])
			}
		}
	}
	if res.ok && res.chapSuccess == "" {
		// For MS-CHAPv2 the session fails an Accept without
		// MS-CHAP2-Success: the client could not check us.
		res.mustHaveSuccess = true
	}
	return res
}

// maxClassTotal bounds the Class bytes a session keeps for its accounting.
const maxClassTotal = 1024

func classLen(cs [][]byte) int {
	n := 0
	for _, c := range cs {
		n += len(c)
	}
	return n
}
