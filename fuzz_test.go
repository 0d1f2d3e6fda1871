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
