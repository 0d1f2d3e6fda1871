package main

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// addGoldenSeeds seeds a fuzz target with every golden frame.
func addGoldenSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/golden/*.hex")
	for _, p := range paths {
		f.Add(readHexFile(f, p))
	}
	f.Add(padi(tag{tagServiceName, nil}, tag{tagHostUniq, []byte{1, 2}}))
}

// FuzzParseDiscovery: parsing never panics, and a frame that parses
// re-encodes to the same bytes (less any Ethernet padding and anything
// after an End-Of-List tag), which parse again to the same packet.
func FuzzParseDiscovery(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var p discoveryPacket
		if err := p.parse(b); err != nil {
			return
		}
		enc := p.appendTo(nil)
		var q discoveryPacket
		if err := q.parse(enc); err != nil {
			t.Fatalf("re-encoded frame does not parse: %v%s", err, hexDiff(b, enc))
		}
		if q.pppoeHeader.dst != p.dst || q.src != p.src || q.code != p.code || q.sessionID != p.sessionID || q.ntags != p.ntags {
			t.Fatalf("header or tag count changed%s", hexDiff(b, enc))
		}
		for i := range p.ntags {
			if p.tags[i].typ != q.tags[i].typ || !bytes.Equal(p.tags[i].val, q.tags[i].val) {
				t.Fatalf("tag %d changed%s", i, hexDiff(b, enc))
			}
		}
		if again := q.appendTo(nil); !bytes.Equal(again, enc) {
			t.Fatalf("encoding is not stable%s", hexDiff(enc, again))
		}
	})
}

// FuzzTagIter: the iterator never panics, never reads past the payload, and
// the tags it yields tile a prefix of the payload exactly.
func FuzzTagIter(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		it := tagIter{b: payload}
		off := 0
		for it.next() {
			n := tagHdrLen + len(it.val)
			if off+n > len(payload) || !bytes.Equal(payload[off+tagHdrLen:off+n], it.val) {
				t.Fatalf("tag at %d does not match the payload", off)
			}
			off += n
		}
		if it.err == nil && off != len(payload) {
			// Only an End-Of-List tag may stop the walk early.
			if off+tagHdrLen > len(payload) || payload[off] != 0 || payload[off+1] != 0 {
				t.Fatalf("walk stopped at %d of %d without error or End-Of-List", off, len(payload))
			}
		}
		_, _ = parseBBFVendorTag(payload)
	})
}

func TestMain(m *testing.M) { os.Exit(integrationMain(m)) }

// checkResponse is the oracle for the option fuzzers: the reply must be a
// valid option list, and an Ack must echo the request.
func checkResponse(t *testing.T, code cpCode, req, resp []byte) {
	switch code {
	case cpConfAck:
		if !bytes.Equal(req, resp) {
			t.Fatalf("Ack %x does not echo the request %x", resp, req)
		}
	case cpConfNak, cpConfRej:
		if len(resp) == 0 {
			t.Fatalf("empty %v for %x", code, req)
		}
		if code == cpConfRej {
			// A reject only lists what the request held (or the
			// unparsable tail of it).
			if !bytes.Contains(req, resp[:min(len(resp), 2)]) {
				t.Fatalf("Reject %x lists what the request %x does not hold", resp, req)
			}
			return
		}
		it := optIter{b: resp}
		for it.next() {
		}
		if it.err != nil {
			t.Fatalf("Nak %x is not a valid option list", resp)
		}
	default:
		t.Fatalf("reply code %v", code)
	}
}

func addOptionSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/golden/ppp_*_scapy.hex")
	for _, p := range paths {
		b := readHexFile(f, p)
		if len(b) > headroom+cpHdrLen {
			f.Add(b[headroom+cpHdrLen:])
		}
	}
}

// FuzzParseLCP feeds arbitrary option lists to LCP in both roles.
func FuzzParseLCP(f *testing.F) {
	addOptionSeeds(f)
	var f0 fsm
	f.Fuzz(func(t *testing.T, opts []byte) {
		for _, client := range []bool{false, true} {
			var l lcpLayer
			l.reset(nil, &f0, client, []authMethod{authMSCHAPv2, authCHAP, authPAP}, 0, 0)
			for _, rejectNaks := range []bool{false, true} {
				code, resp := l.checkConfReq(opts, nil, rejectNaks)
				checkResponse(t, code, opts, resp)
				if rejectNaks && code == cpConfNak {
					t.Fatal("Nak with rejectNaks set")
				}
			}
			l.nakReceived(opts)
			l.rejReceived(opts)
			_ = l.ackReceived(opts)
		}
	})
}

// FuzzParseIPCP feeds arbitrary option lists to IPCP in both roles.
func FuzzParseIPCP(f *testing.F) {
	addOptionSeeds(f)
	a := netip.MustParseAddr
	f.Fuzz(func(t *testing.T, opts []byte) {
		var l ipcpLayer
		l.resetServer(nil, a("10.0.0.1"), a("10.0.0.2"), []netip.Addr{a("8.8.8.8")}, nil)
		code, resp := l.checkConfReq(opts, nil, false)
		checkResponse(t, code, opts, resp)
		l.resetClient(nil)
		code, resp = l.checkConfReq(opts, nil, false)
		checkResponse(t, code, opts, resp)
		l.nakReceived(opts)
		l.rejReceived(opts)
	})
}

// FuzzAuthMessages feeds arbitrary PAP and CHAP packets to a server
// session in its authentication phase, for each method.
func FuzzAuthMessages(f *testing.F) {
	for _, name := range []string{"pap_authreq", "chap_response", "chap_challenge", "pap_authack"} {
		b := readHexFile(f, "testdata/golden/ppp_"+name+"_scapy.hex")
		f.Add(uint8(0), b[headroom:])
		f.Add(uint8(1), b[headroom:])
	}
	f.Add(uint8(2), append([]byte{2, 1, 0, 4 + 1 + 49 + 1, 49}, make([]byte, 50)...))
	h := newPPPHarness(f, "require-pap\n", "rp-pppoe * rp-pppoe *\n")
	h.openLCP()
	sess := h.s.sessions.lookup(h.sid)
	methods := []authMethod{authPAP, authCHAP, authMSCHAPv2}
	f.Fuzz(func(t *testing.T, which uint8, pkt []byte) {
		m := methods[int(which)%len(methods)]
		proto := protoCHAP
		if m == authPAP {
			proto = protoPAP
		}
		sess.phase = phaseAuthenticate
		sess.auth = authState{method: m, id: 1, deadline: h.s.clock.Add(time.Minute)}
		sess.lcp.state = stOpened
		sess.ending, sess.closeReason = false, ""
		sess.handleAuth(proto, pkt)
		// The authenticator's answer, without reaping: the session must
		// live on for the next input.
		for {
			ev, ok := h.s.events.pop()
			if !ok {
				break
			}
			ev.handle(h.s)
		}
		h.s.reapq = h.s.reapq[:0]
		sess.leaveNetworkPhase()
		h.sl.sent()
	})
}

// FuzzParseRadius: parsing never panics and never reads past the packet's
// own length; the attributes of a packet that parses tile it exactly and
// re-encode to the same bytes; and what the authenticator, the accounting
// and the DAE listener read from one (reply attributes, vendor
// attributes, Disconnect and CoA requests) never panics either.
func FuzzParseRadius(f *testing.F) {
	var auth [radAuthLen]byte
	b := appendRadiusHeader(nil, radAccessAccept, 7, &auth)
	b = appendAttrString(b, attrReplyMessage, "welcome\r\n")
	b = appendAttr(b, attrFramedIPAddress, []byte{10, 0, 0, 9})
	b = appendAttr32(b, attrSessionTimeout, 3600)
	b = appendAttr32(b, attrAcctInterimInterval, 5)
	b = appendAttrString(b, attrFilterID, "2048/1024")
	b = appendAttrString(b, attrClass, "gold")
	b = appendVendorAttr(b, vendorWISPr, wisprMaxDown, []byte{0, 0x1f, 0x40, 0})
	b = appendAttrIPv6Prefix(b, attrFramedIPv6Prefix, netip.MustParsePrefix("2001:db8:77:1::/64"))
	b = appendAttrIPv6Prefix(b, attrDelegatedIPv6Prefix, netip.MustParsePrefix("2001:db8:88:100::/56"))
	b = appendAttrString(b, attrDelegatedIPv6PrefixPool, "pd")
	b, _ = appendMessageAuthenticator(b)
	patchRadiusLength(b)
	f.Add(b)
	d := appendRadiusHeader(nil, radCoARequest, 1, &auth)
	d = appendAttrString(d, attrUserName, "alice")
	d = appendAttrString(d, attrCallingStationID, "02:cc:00:00:00:02")
	d = appendAttr32(d, attrEventTimestamp, 1_800_000_000)
	d = appendVendorAttr(d, vendorWISPr, wisprMaxUp, []byte{0, 0x0f, 0x42, 0x40})
	d = appendAttr(d, attrFramedIPv6Prefix, []byte{0, 61, 0x20, 0x01, 0x0d, 0xb8, 0, 0x88, 0x01, 0xff})
	patchRadiusLength(d)
	f.Add(d)
	f.Add([]byte{2, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p radiusPacket
		if p.parse(b) != nil {
			return
		}
		if len(p.raw) > len(b) || len(p.raw) != radHdrLen+len(p.attrs) {
			t.Fatalf("parsed %d bytes of %d, attributes %d", len(p.raw), len(b), len(p.attrs))
		}
		enc := appendRadiusHeader(nil, p.code, p.id, &p.auth)
		it := radAttrIter{b: p.attrs}
		for it.next() {
			enc = appendAttr(enc, it.typ, it.val)
			if it.typ == attrVendorSpecific {
				if _, _, v, ok := vendorAttr(it.val); ok && len(v) > len(it.val)-6 {
					t.Fatalf("vendor value of %d bytes in an attribute of %d", len(v), len(it.val))
				}
			}
		}
		if it.err != nil {
			t.Fatalf("parse accepted what the iterator refuses: %v", it.err)
		}
		patchRadiusLength(enc)
		if !bytes.Equal(enc, p.raw) {
			t.Fatalf("re-encoded %x, was %x", enc, p.raw)
		}
		res := radiusResult(&p, nil, nil)
		if res.ok != (p.code == radAccessAccept) || (!res.ok && res.reason == "") {
			t.Fatalf("code %d gave ok %v reason %q", p.code, res.ok, res.reason)
		}
		if res.acctInterim != 0 && res.acctInterim < 10*time.Second {
			t.Fatalf("interim %v below the floor", res.acctInterim)
		}
		if p := res.ipv6Prefix; p.IsValid() && (p.Bits() != 64 || p.Masked() != p || !p.Addr().Is6()) {
			t.Fatalf("Framed-IPv6-Prefix taken as %v", p)
		}
		if p := res.delegated; p.IsValid() && (p.Bits() < 1 || p.Bits() > 64 || p.Masked() != p || !p.Addr().Is6()) {
			t.Fatalf("Delegated-IPv6-Prefix taken as %v", p)
		}
		r := parseDAEAttrs(p.attrs, "nas")
		if r.match.ip.IsValid() && !r.match.ip.Is4() {
			t.Fatalf("DAE match on %v", r.match.ip)
		}
		for _, pfx := range []netip.Prefix{r.prefix, r.delegated} {
			if pfx.IsValid() && (pfx.Masked() != pfx || pfx.Bits() == 0) {
				t.Fatalf("DAE match on the prefix %v", pfx)
			}
		}
		h := newRadiusHasher()
		h.checkMessageAuthenticator(&p, &auth, "s")
		h.checkResponseAuthenticator(&p, &auth, "s")
		h.checkRequestAuthenticator(&p, "s")
	})
}

// FuzzRadcliConfig: radcli's radiusclient.conf and servers file, as pppd's
// radius.so setups have them. Nothing panics, a refusal is one line, and
// what is accepted passes the [radius] checks or is refused by them in
// one line too.
func FuzzRadcliConfig(f *testing.F) {
	f.Add("authserver 192.0.2.10:1645,localhost\nacctserver 192.0.2.10\nservers /s\nradius_timeout 7\nradius_retries 4\nradius_deadtime 60\nnas-identifier oldbox\nbindaddr *\n",
		"# c\n192.0.2.10 s3cret\nlocalhost:1812 other\n")
	f.Add("authserver 10.0.0.1:1812:inline\n", "")
	f.Add("authserver\t:0\nradius_timeout x\n", "h\n")
	f.Fuzz(func(t *testing.T, conf, servers string) {
		open := func(name string) (io.ReadCloser, error) {
			if name == "/conf" {
				return io.NopCloser(strings.NewReader(conf)), nil
			}
			return io.NopCloser(strings.NewReader(servers)), nil
		}
		var rc radiusConfig
		err := readRadcli("/conf", &rc, open)
		if err == nil {
			err = rc.finish(&config{ACName: "ac", AcctInterim: time.Minute})
		}
		if err != nil {
			if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error %q is not one line", msg)
			}
			return
		}
		for _, s := range append(rc.Server, rc.AcctServer...) {
			if s.Secret == "" || s.AuthPort < 1 || s.AuthPort > 65535 || s.AcctPort < 1 || s.AcctPort > 65535 {
				t.Fatalf("accepted server %+v", s)
			}
			if _, err := hostAddr(s.Address); err != nil {
				t.Fatalf("accepted address %q: %v", s.Address, err)
			}
		}
	})
}

// FuzzParseDHCPv6: parsing never panics and keeps no more IAs than it has
// room for. A message that parses is answered, without panic, for a session
// with a prefix and an address and for one with neither, unbound and bound
// to its first IAs; each reply we would send parses, is an Advertise or a
// Reply, echoes the transaction and client IDs, names us, and a client's
// Renew built from it parses too.
func FuzzParseDHCPv6(f *testing.F) {
	paths, _ := filepath.Glob("testdata/ipv6/dhcp6_*.hex")
	for _, p := range paths {
		f.Add(readHexFile(f, p)[ip6HdrLen+udpHdrLen:])
	}
	f.Add(appendDHCP6Solicit(nil, [3]byte{1, 2, 3}, fx6ClientDUID, 1, true, true, true))
	f.Add(appendDHCP6InfoRequest(nil, [3]byte{1, 2, 3}, fx6ClientDUID))
	srv := newDHCP6Server(fx6ServerMAC, fx6DNS, true)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m dhcp6Msg
		if parseDHCPv6(b, &m) != nil {
			return
		}
		if m.nNA > dhcp6MaxIA || m.nPD > dhcp6MaxIA || m.ndns > dhcp6MaxDNS || len(m.oro)%2 != 0 ||
			(m.clientID != nil && (len(m.clientID) < dhcp6MinDUID || len(m.clientID) > dhcp6MaxDUID)) {
			t.Fatalf("parsed %+v", m)
		}
		for _, withAddrs := range []bool{true, false} {
			for _, bound := range []bool{false, true} {
				sess := &fakeSess6{}
				if withAddrs {
					sess.pd, sess.na = fx6PD, fx6NA
				}
				var st dhcp6State
				if bound && m.clientID != nil {
					st.setClient(m.clientID)
					st.na, st.naIAID = fx6NA, m.na[0].iaid
					st.pd, st.pdIAID = fx6PD, m.pd[0].iaid
				}
				out, ok := srv.handle(nil, &m, &st, sess)
				if !ok {
					if len(out) != 0 {
						t.Fatalf("dropped but wrote % x", out)
					}
					continue
				}
				var r dhcp6Msg
				if err := parseDHCPv6(out, &r); err != nil {
					t.Fatalf("our reply does not parse: %v%s", err, hexDiff(nil, out))
				}
				if (r.typ != dhcp6Reply && r.typ != dhcp6Advertise) || r.txid != m.txid ||
					!bytes.Equal(r.clientID, m.clientID) || !bytes.Equal(r.serverID, srv.duid) {
					t.Fatalf("reply %+v to %+v", r, m)
				}
				if sess.releases > 1 {
					t.Fatalf("released %d times", sess.releases)
				}
				var fu dhcp6Msg
				if err := parseDHCPv6(appendDHCP6Followup(nil, dhcp6Renew, r.txid, fx6ClientDUID, &r), &fu); err != nil {
					t.Fatalf("a Renew from our reply does not parse: %v", err)
				}
			}
		}
	})
}

// FuzzParseICMPv6: raw is an ICMPv6 message (type onward). Neither it as a
// whole packet nor it wrapped in an IPv6 header with hop limit 255 and a
// right checksum makes a parser panic; wrapped, it parses unless it is a
// Neighbor Discovery message with a nonzero code. An RA that parses builds
// back, from what was read, into one that reads the same; an NS's target
// goes into an NA, and an echo request's body into a reply, that parse.
func FuzzParseICMPv6(f *testing.F) {
	for _, name := range []string{"rs", "ra", "ns", "echo_request", "mld_report"} {
		g := readHexFile(f, filepath.Join("testdata", "ipv6", name+".hex"))
		f.Add(g[ip6HdrLen:])
		f.Add(g)
	}
	f.Add(appendRA(nil, &fx6RA))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if p, err := parseIPv6(raw); err == nil {
			_, _, _, _ = parseICMPv6(p)
			_, _, _, _ = parseUDP(p)
		}
		if len(raw) < icmp6HdrLen || len(raw) > 0xffff {
			return
		}
		typ, code, body, err := parseICMPv6(mustIPv6(t, ip6Frame(fx6Client, fx6Server, ipProtoICMPv6, 255, raw)))
		if err != nil {
			if raw[0] >= icmp6RS && raw[0] <= icmp6Redirect && raw[1] != 0 {
				return
			}
			t.Fatalf("a well-formed packet does not parse: %v", err)
		}
		if typ != raw[0] || code != raw[1] || !bytes.Equal(body, raw[icmp6HdrLen:]) {
			t.Fatalf("type %d code %d body % x", typ, code, body)
		}
		switch typ {
		case icmp6RA:
			r, err := parseRA(body)
			if err != nil {
				return
			}
			p := raParams{curHopLimit: r.curHopLimit, managed: r.managed, other: r.other, routerLifetime: r.routerLifetime,
				reachable: r.reachable, retrans: r.retrans, mtu: r.mtu, rdnss: [2]netip.Addr(r.rdnss[:2]), rdnssLifetime: r.rdnssLifetime}
			if r.nprefixes > 0 {
				x := r.prefixes[0]
				p.prefix, p.validLifetime, p.preferredLifetime = x.prefix, x.validLifetime, x.preferredLifetime
			}
			typ2, body2 := mustICMPv6(t, ip6Frame(fx6Server, ip6AllNodes, ipProtoICMPv6, 255, appendRA(nil, &p)))
			q, err := parseRA(body2)
			if err != nil || typ2 != icmp6RA {
				t.Fatalf("our RA does not parse: %v", err)
			}
			if q.curHopLimit != r.curHopLimit || q.managed != r.managed || q.other != r.other ||
				q.routerLifetime != r.routerLifetime || q.reachable != r.reachable || q.retrans != r.retrans ||
				q.mtu != r.mtu || q.nprefixes != min(r.nprefixes, 1) || q.nrdnss != min(r.nrdnss, 2) ||
				(q.nrdnss > 0 && (q.rdnssLifetime != r.rdnssLifetime || q.rdnss[0] != r.rdnss[0])) ||
				(q.nprefixes > 0 && (q.prefixes[0].prefix != p.prefix.Masked() || q.prefixes[0].validLifetime != p.validLifetime ||
					!q.prefixes[0].onLink || !q.prefixes[0].auto)) {
				t.Fatalf("RA read %+v, built back reads %+v", r, q)
			}
		case icmp6NS:
			target, err := parseNS(body)
			if err != nil {
				return
			}
			typ2, body2 := mustICMPv6(t, ip6Frame(fx6Server, fx6Client, ipProtoICMPv6, 255, appendNA(nil, target, true, true, true)))
			if typ2 != icmp6NA || !bytes.Equal(body2[4:20], target[:]) || body2[0] != 0xe0 {
				t.Fatalf("NA % x for target %x", body2, target)
			}
		case icmp6EchoRequest:
			typ2, body2 := mustICMPv6(t, ip6Frame(fx6Server, fx6Client, ipProtoICMPv6, 64, appendEchoReply(nil, body)))
			if typ2 != icmp6EchoReply || !bytes.Equal(body2, body) {
				t.Fatalf("echo reply type %d body differs", typ2)
			}
		}
	})
}
