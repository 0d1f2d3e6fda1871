package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

// fakeSess6 is a session with one delegated prefix (pd; invalid means the
// pool is exhausted) and one IA_NA address (na; invalid means none).
type fakeSess6 struct {
	pd       netip.Prefix
	na       netip.Addr
	taken    bool
	takes    int // prefixes taken from the pool
	releases int
}

func (f *fakeSess6) delegatedPrefix() (netip.Prefix, bool) {
	if !f.pd.IsValid() {
		return netip.Prefix{}, false
	}
	if !f.taken {
		f.taken = true
		f.takes++
	}
	return f.pd, true
}

func (f *fakeSess6) releaseDelegated() {
	f.releases++
	f.taken = false
}

func (f *fakeSess6) naAddress() (netip.Addr, bool) { return f.na, f.na.IsValid() }

func (f *fakeSess6) onLink() (netip.Prefix, bool) {
	return netip.PrefixFrom(f.na, 64).Masked(), f.na.IsValid()
}

// dh6 is a server, one session's state and the session, with helpers to
// build requests and check replies.
type dh6 struct {
	t    *testing.T
	srv  *dhcp6Server
	st   dhcp6State
	sess *fakeSess6
}

func newDH6(t *testing.T) *dh6 {
	return &dh6{t: t, srv: newDHCP6Server(fx6ServerMAC, fx6DNS, true), sess: &fakeSess6{pd: fx6PD, na: fx6NA}}
}

// send hands req to the server. ok is false when it drops it; otherwise
// the reply must parse and echo the transaction and client IDs.
func (h *dh6) send(req []byte) (dhcp6Msg, bool) {
	h.t.Helper()
	var m dhcp6Msg
	if err := parseDHCPv6(req, &m); err != nil {
		h.t.Fatalf("request does not parse: %v%s", err, hexDiff(nil, req))
	}
	out, ok := h.srv.handle(make([]byte, 0, 512), &m, &h.st, h.sess)
	if !ok {
		if len(out) != 0 {
			h.t.Fatalf("dropped, but wrote % x", out)
		}
		return dhcp6Msg{}, false
	}
	var r dhcp6Msg
	if err := parseDHCPv6(bytes.Clone(out), &r); err != nil {
		h.t.Fatalf("reply does not parse: %v%s", err, hexDiff(nil, out))
	}
	if r.txid != m.txid || !bytes.Equal(r.clientID, m.clientID) || !bytes.Equal(r.serverID, h.srv.duid) {
		h.t.Fatalf("reply txid %x client %x server %x", r.txid, r.clientID, r.serverID)
	}
	return r, true
}

func (h *dh6) mustSend(req []byte, typ dhcp6MsgType) dhcp6Msg {
	h.t.Helper()
	r, ok := h.send(req)
	if !ok {
		h.t.Fatalf("%v dropped", dhcp6MsgType(req[0]))
	}
	if r.typ != typ {
		h.t.Fatalf("reply is %v, want %v", r.typ, typ)
	}
	return r
}

// Request building blocks.
func dmsg(typ dhcp6MsgType, opts ...[]byte) []byte {
	return slices.Concat(append([][]byte{{byte(typ), 0xa1, 0xb2, 0xc3}}, opts...)...)
}

func dopt(code dhcp6Opt, parts ...[]byte) []byte {
	return appendOpt6(nil, code, slices.Concat(parts...))
}

func dia(code dhcp6Opt, iaid uint32, subs ...[]byte) []byte {
	v := binary.BigEndian.AppendUint32(nil, iaid)
	return dopt(code, v, make([]byte, 8), slices.Concat(subs...))
}

func daddr(a string) []byte   { return appendIAAddr(nil, netip.MustParseAddr(a), 0, 0) }
func dprefix(p string) []byte { return appendIAPrefix(nil, netip.MustParsePrefix(p), 0, 0) }

var (
	dcid    = dopt(opt6ClientID, fx6ClientDUID)
	dsid    = dopt(opt6ServerID, appendDUIDLL(nil, fx6ServerMAC))
	dother  = dopt(opt6ServerID, appendDUIDLL(nil, hwAddr{2, 0, 0, 0, 0, 9}))
	drapid  = dopt(opt6RapidCommit)
	doroDNS = dopt(opt6ORO, []byte{0, 23})
)

// ia finds the IA with iaid among ias.
func ia(t *testing.T, ias []dhcp6IA, iaid uint32) dhcp6IA {
	t.Helper()
	for _, x := range ias {
		if x.iaid == iaid {
			return x
		}
	}
	t.Fatalf("no IA %d among %+v", iaid, ias)
	return dhcp6IA{}
}

func wantGrant(t *testing.T, x dhcp6IA, srv *dhcp6Server, addr netip.Addr, prefix netip.Prefix) {
	t.Helper()
	if !x.hasAddr || x.status != dhcp6StatusSuccess || x.addr != addr || x.prefix != prefix ||
		x.t1 != srv.t1 || x.t2 != srv.t2 || x.preferred != srv.preferred || x.valid != srv.valid {
		t.Errorf("IA %d: %+v, want %v%v with T1 %d T2 %d, %d/%d s", x.iaid, x, addr, prefix, srv.t1, srv.t2, srv.preferred, srv.valid)
	}
}

func wantStatus(t *testing.T, x dhcp6IA, st dhcp6Status) {
	t.Helper()
	if !x.hasStatus || x.status != st || x.hasAddr || x.t1 != 0 || x.t2 != 0 {
		t.Errorf("IA %d: %+v, want only status %v", x.iaid, x, st)
	}
}

func wantDNS(t *testing.T, r dhcp6Msg, want bool) {
	t.Helper()
	if got := r.ndns == 2 && r.dns[0] == fx6DNS[0] && r.dns[1] == fx6DNS[1]; got != want || (!want && r.ndns != 0) {
		t.Errorf("DNS %v (%d), want %v", r.dns, r.ndns, want)
	}
}

func TestParseDHCPv6Errors(t *testing.T) {
	ianaOpt := func(sub []byte) []byte { return dia(opt6IANA, 1, sub) }
	tests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"short", []byte{1, 2, 3}, errDHCP6Short},
		{"relay-forward", dmsg(dhcp6RelayForw), errDHCP6Relay},
		{"relay-reply", dmsg(dhcp6RelayRepl), errDHCP6Relay},
		{"option header cut", dmsg(dhcp6Solicit, dcid, []byte{0, 8, 0}), errDHCP6Option},
		{"option length past the end", dmsg(dhcp6Solicit, dcid, []byte{0, 8, 0, 3, 0, 0}), errDHCP6Option},
		{"option length 0xffff", dmsg(dhcp6Solicit, []byte{0, 1, 0xff, 0xff, 0, 3, 0, 1, 2}), errDHCP6Option},
		{"client DUID too short", dmsg(dhcp6Solicit, dopt(opt6ClientID, []byte{0, 3})), errDHCP6DUID},
		{"client DUID too long", dmsg(dhcp6Solicit, dopt(opt6ClientID, make([]byte, 131))), errDHCP6DUID},
		{"server DUID empty", dmsg(dhcp6Request, dcid, dopt(opt6ServerID)), errDHCP6DUID},
		{"two client IDs", dmsg(dhcp6Solicit, dcid, dcid), errDHCP6Repeated},
		{"two server IDs", dmsg(dhcp6Request, dcid, dsid, dother), errDHCP6Repeated},
		{"IA_NA of 11 bytes", dmsg(dhcp6Solicit, dcid, dopt(opt6IANA, make([]byte, 11))), errDHCP6OptLen},
		{"IA_PD of 11 bytes", dmsg(dhcp6Solicit, dcid, dopt(opt6IAPD, make([]byte, 11))), errDHCP6OptLen},
		{"IA_TA of 3 bytes", dmsg(dhcp6Solicit, dcid, dopt(opt6IATA, make([]byte, 3))), errDHCP6OptLen},
		{"IA_TA option past its end", dmsg(dhcp6Solicit, dcid, dopt(opt6IATA, make([]byte, 4), []byte{0, 5, 0, 1})), errDHCP6Option},
		{"IA_NA option past its end", dmsg(dhcp6Solicit, dcid, ianaOpt([]byte{0, 5, 0, 24, 1})), errDHCP6Option},
		{"IAADDR of 23 bytes", dmsg(dhcp6Solicit, dcid, ianaOpt(dopt(opt6IAAddr, make([]byte, 23)))), errDHCP6OptLen},
		{"IAADDR status of 1 byte", dmsg(dhcp6Solicit, dcid, ianaOpt(dopt(opt6IAAddr, make([]byte, 24), dopt(opt6StatusCode, []byte{0})))), errDHCP6OptLen},
		{"IAADDR option past its end", dmsg(dhcp6Solicit, dcid, ianaOpt(dopt(opt6IAAddr, make([]byte, 24), []byte{0, 13, 0, 9}))), errDHCP6Option},
		{"IAPREFIX of 24 bytes", dmsg(dhcp6Solicit, dcid, dia(opt6IAPD, 1, dopt(opt6IAPrefix, make([]byte, 24)))), errDHCP6OptLen},
		{"IAPREFIX length 129", dmsg(dhcp6Solicit, dcid, dia(opt6IAPD, 1, dopt(opt6IAPrefix, make([]byte, 8), []byte{129}, make([]byte, 16)))), errDHCP6OptLen},
		{"IAPREFIX option past its end", dmsg(dhcp6Solicit, dcid, dia(opt6IAPD, 1, dopt(opt6IAPrefix, make([]byte, 25), []byte{0}))), errDHCP6Option},
		{"IA status of 1 byte", dmsg(dhcp6Solicit, dcid, ianaOpt(dopt(opt6StatusCode, []byte{0}))), errDHCP6OptLen},
		{"ORO of odd length", dmsg(dhcp6Solicit, dcid, dopt(opt6ORO, []byte{0, 23, 0})), errDHCP6OptLen},
		{"Rapid Commit with data", dmsg(dhcp6Solicit, dcid, dopt(opt6RapidCommit, []byte{1})), errDHCP6OptLen},
		{"Elapsed Time of 3 bytes", dmsg(dhcp6Solicit, dcid, dopt(opt6ElapsedTime, []byte{0, 0, 0})), errDHCP6OptLen},
		{"Preference of 2 bytes", dmsg(dhcp6Advertise, dcid, dopt(opt6Preference, []byte{0, 0})), errDHCP6OptLen},
		{"status of 1 byte", dmsg(dhcp6Reply, dcid, dopt(opt6StatusCode, []byte{0})), errDHCP6OptLen},
		{"DNS of 17 bytes", dmsg(dhcp6Reply, dcid, dopt(opt6DNSServers, make([]byte, 17))), errDHCP6OptLen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m dhcp6Msg
			if err := parseDHCPv6(tt.b, &m); !errors.Is(err, tt.err) {
				t.Errorf("err %v, want %v%s", err, tt.err, hexDiff(nil, tt.b))
			}
		})
	}
}

func TestParseDHCPv6Fields(t *testing.T) {
	// An IA_NA an unknown option inside, IAADDR with a status, IA_PD with a
	// hint, more IA_PDs than kept, an IA_TA, unknown options.
	b := dmsg(dhcp6Reply, dcid, dsid, dopt(opt6ORO, []byte{0, 23, 0, 24}), drapid,
		dopt(opt6Preference, []byte{7}), dopt(99, []byte("x")),
		dia(opt6IANA, 5, dopt(99), appendIAAddr(nil, fx6NA, 10, 20)[:4+24], dopt(opt6StatusCode, []byte{0, 2}, []byte("no"))),
		dia(opt6IAPD, 1, dopt(opt6IAPrefix, []byte{0, 0, 0, 1, 0, 0, 0, 2, 56}, make([]byte, 16), dopt(opt6StatusCode, []byte{0, 6}))),
		dia(opt6IAPD, 2), dia(opt6IAPD, 3), dia(opt6IAPD, 4), dia(opt6IAPD, 5),
		dopt(opt6IATA, []byte{0, 0, 0, 1}), dopt(opt6StatusCode, []byte{0, 3}, []byte("gone")),
		dopt(opt6DNSServers, make([]byte, 16*5)))
	var m dhcp6Msg
	if err := parseDHCPv6(b, &m); err != nil {
		t.Fatal(err)
	}
	na := m.na[0]
	if m.typ != dhcp6Reply || m.txid != [3]byte{0xa1, 0xb2, 0xc3} || !bytes.Equal(m.clientID, fx6ClientDUID) ||
		!bytes.Equal(m.serverID, appendDUIDLL(nil, fx6ServerMAC)) || !m.rapidCommit || m.preference != 7 ||
		!m.requested(opt6DNSServers) || !m.requested(24) || m.requested(opt6ClientID) ||
		m.nNA != 1 || m.nPD != dhcp6MaxIA || m.nTA != 1 || m.ndns != dhcp6MaxDNS ||
		!m.hasStatus || m.status != dhcp6StatusNoBinding || string(m.statusMsg) != "gone" {
		t.Errorf("parsed %+v", m)
	}
	if na.iaid != 5 || !na.hasAddr || na.addr != fx6NA || na.preferred != 10 || na.valid != 20 ||
		!na.hasStatus || na.status != dhcp6StatusNoAddrsAvail || na.hasSub {
		t.Errorf("IA_NA %+v", na)
	}
	pd := m.pd[0]
	if pd.prefix != netip.MustParsePrefix("::/56") || pd.preferred != 1 || pd.valid != 2 || !pd.hasSub ||
		pd.addrStatus != dhcp6StatusNoPrefixAvail || pd.hasStatus {
		t.Errorf("IA_PD %+v", pd)
	}
	if _, ok := granted(m.pd[:m.nPD]); ok {
		t.Error("an IA_PD with NoPrefixAvail inside its prefix counts as granted")
	}
}

// RFC 8415 §16: which messages must, may or must not name a server, and
// need a Client Identifier.
func TestDHCP6ServerIDChecks(t *testing.T) {
	na := dia(opt6IANA, 1, daddr("2001:db8:0:1::2"))
	for _, tt := range []struct {
		typ                  dhcp6MsgType
		none, ours, other    bool // answered with no server ID, ours, another's
		needsClient, extraIA bool
	}{
		{dhcp6Solicit, true, false, false, true, false},
		{dhcp6Request, false, true, false, true, false},
		{dhcp6Confirm, true, false, false, true, false},
		{dhcp6Renew, false, true, false, true, false},
		{dhcp6Rebind, true, false, false, true, false},
		{dhcp6Release, false, true, false, true, false},
		{dhcp6Decline, false, true, false, true, false},
		{dhcp6InformationRequest, true, true, false, false, false},
	} {
		for _, c := range []struct {
			name string
			sid  []byte
			want bool
		}{{"no server ID", nil, tt.none}, {"our server ID", dsid, tt.ours}, {"another server ID", dother, tt.other}} {
			t.Run(fmt.Sprintf("%v %s", tt.typ, c.name), func(t *testing.T) {
				ias := na
				if tt.typ == dhcp6InformationRequest {
					ias = nil
				}
				h := newDH6(t)
				if _, ok := h.send(dmsg(tt.typ, dcid, c.sid, ias)); ok != c.want {
					t.Errorf("answered %v, want %v", ok, c.want)
				}
				h = newDH6(t)
				if _, ok := h.send(dmsg(tt.typ, c.sid, ias)); ok != (c.want && !tt.needsClient) {
					t.Errorf("without a client ID: answered %v", ok)
				}
			})
		}
	}
	// §16.12: an Information-request with an IA is dropped.
	h := newDH6(t)
	for _, x := range [][]byte{na, dia(opt6IAPD, 1), dopt(opt6IATA, []byte{0, 0, 0, 1})} {
		if _, ok := h.send(dmsg(dhcp6InformationRequest, dcid, x)); ok {
			t.Errorf("Information-request with % x answered", x[:2])
		}
	}
	// Messages a server does not take.
	for _, typ := range []dhcp6MsgType{dhcp6Advertise, dhcp6Reply, dhcp6Reconfigure, 0, 14, 255} {
		if _, ok := h.send(dmsg(typ, dcid, dsid)); ok {
			t.Errorf("%v answered", typ)
		}
	}
}

func TestDHCP6SolicitAdvertise(t *testing.T) {
	h := newDH6(t)
	r := h.mustSend(appendDHCP6Solicit(nil, [3]byte{1, 2, 3}, fx6ClientDUID, 9, true, true, false), dhcp6Advertise)
	if r.preference != 255 || r.rapidCommit || r.nNA != 1 || r.nPD != 1 || r.hasStatus {
		t.Errorf("advertise %+v", r)
	}
	wantGrant(t, ia(t, r.na[:r.nNA], 9), h.srv, fx6NA, netip.Prefix{})
	wantGrant(t, ia(t, r.pd[:r.nPD], 9), h.srv, netip.Addr{}, fx6PD)
	wantDNS(t, r, true)
	// An Advertise binds nothing (RFC 8415 §18.3.9), though the session
	// has taken its prefix from the pool.
	if h.st.na.IsValid() || h.st.pd.IsValid() || h.st.duidLen != 0 || h.sess.takes != 1 {
		t.Errorf("state after Advertise %+v, takes %d", h.st, h.sess.takes)
	}
}

func TestDHCP6SolicitRapidCommit(t *testing.T) {
	h := newDH6(t)
	r := h.mustSend(appendDHCP6Solicit(nil, [3]byte{1, 2, 3}, fx6ClientDUID, 9, true, true, true), dhcp6Reply)
	if !r.rapidCommit || r.preference != 0 {
		t.Errorf("reply %+v", r)
	}
	wantGrant(t, ia(t, r.na[:r.nNA], 9), h.srv, fx6NA, netip.Prefix{})
	wantGrant(t, ia(t, r.pd[:r.nPD], 9), h.srv, netip.Addr{}, fx6PD)
	if h.st.na != fx6NA || h.st.naIAID != 9 || h.st.pd != fx6PD || h.st.pdIAID != 9 || !h.st.sameClient(fx6ClientDUID) {
		t.Errorf("state %+v", h.st)
	}
}

// The whole exchange with our own client helpers: Solicit, Request, Renew,
// Rebind, Release.
func TestDHCP6ClientHelpersExchange(t *testing.T) {
	h := newDH6(t)
	adv := h.mustSend(appendDHCP6Solicit(nil, [3]byte{1}, fx6ClientDUID, 3, true, true, false), dhcp6Advertise)
	rep := h.mustSend(appendDHCP6Request(nil, [3]byte{2}, fx6ClientDUID, &adv), dhcp6Reply)
	pd, ok := granted(rep.pd[:rep.nPD])
	na, ok2 := granted(rep.na[:rep.nNA])
	if !ok || !ok2 || pd.prefix != fx6PD || na.addr != fx6NA || h.st.pd != fx6PD || h.st.na != fx6NA {
		t.Fatalf("after Request: %+v %+v, state %+v", pd, na, h.st)
	}
	for _, typ := range []dhcp6MsgType{dhcp6Renew, dhcp6Rebind} {
		r := h.mustSend(appendDHCP6Followup(nil, typ, [3]byte{3}, fx6ClientDUID, &rep), dhcp6Reply)
		wantGrant(t, ia(t, r.pd[:r.nPD], 3), h.srv, netip.Addr{}, fx6PD)
		wantGrant(t, ia(t, r.na[:r.nNA], 3), h.srv, fx6NA, netip.Prefix{})
		wantDNS(t, r, true)
	}
	r := h.mustSend(appendDHCP6Followup(nil, dhcp6Release, [3]byte{4}, fx6ClientDUID, &rep), dhcp6Reply)
	if r.status != dhcp6StatusSuccess || !r.hasStatus || r.nNA+r.nPD != 0 || h.sess.releases != 1 ||
		h.st.pd.IsValid() || h.st.na.IsValid() {
		t.Errorf("after Release: %+v, state %+v, releases %d", r, h.st, h.sess.releases)
	}
	wantDNS(t, r, false)
	// A second Release finds no binding.
	r = h.mustSend(appendDHCP6Followup(nil, dhcp6Release, [3]byte{5}, fx6ClientDUID, &rep), dhcp6Reply)
	wantStatus(t, ia(t, r.pd[:r.nPD], 3), dhcp6StatusNoBinding)
	wantStatus(t, ia(t, r.na[:r.nNA], 3), dhcp6StatusNoBinding)
	if h.sess.releases != 1 {
		t.Errorf("released %d times", h.sess.releases)
	}
}

// Pool exhausted: the IA_PD gets NoPrefixAvail, the IA_NA its address.
func TestDHCP6NoPrefixAvail(t *testing.T) {
	h := newDH6(t)
	h.sess.pd = netip.Prefix{}
	r := h.mustSend(dmsg(dhcp6Request, dcid, dsid, dia(opt6IANA, 1), dia(opt6IAPD, 2)), dhcp6Reply)
	wantStatus(t, ia(t, r.pd[:r.nPD], 2), dhcp6StatusNoPrefixAvail)
	wantGrant(t, ia(t, r.na[:r.nNA], 1), h.srv, fx6NA, netip.Prefix{})
	if h.st.pd.IsValid() || h.st.na != fx6NA {
		t.Errorf("state %+v", h.st)
	}
	// An Advertise that would give nothing says only NoAddrsAvail (RFC
	// 8415 §18.3.9).
	r = h.mustSend(dmsg(dhcp6Solicit, dcid, dia(opt6IAPD, 2)), dhcp6Advertise)
	if !r.hasStatus || r.status != dhcp6StatusNoAddrsAvail || r.nPD != 0 || r.preference != 0 || r.ndns != 0 {
		t.Errorf("advertise %+v", r)
	}
	// A Rapid Commit Reply says it per IA.
	r = h.mustSend(dmsg(dhcp6Solicit, dcid, drapid, dia(opt6IAPD, 2)), dhcp6Reply)
	wantStatus(t, ia(t, r.pd[:r.nPD], 2), dhcp6StatusNoPrefixAvail)
}

// IA_NA off, or no /64: NoAddrsAvail in the IA_NA, the prefix unaffected.
func TestDHCP6NoAddrsAvail(t *testing.T) {
	for _, c := range []struct {
		name    string
		offerNA bool
		na      netip.Addr
	}{{"IA_NA off", false, fx6NA}, {"no /64", true, netip.Addr{}}} {
		t.Run(c.name, func(t *testing.T) {
			h := newDH6(t)
			h.srv.offerNA, h.sess.na = c.offerNA, c.na
			r := h.mustSend(dmsg(dhcp6Request, dcid, dsid, dia(opt6IANA, 1), dia(opt6IAPD, 2)), dhcp6Reply)
			wantStatus(t, ia(t, r.na[:r.nNA], 1), dhcp6StatusNoAddrsAvail)
			wantGrant(t, ia(t, r.pd[:r.nPD], 2), h.srv, netip.Addr{}, fx6PD)
		})
	}
}

// One prefix per session: a second IA_PD gets NoPrefixAvail, and the
// IA it is bound to keeps it whatever the order.
func TestDHCP6OnePrefixPerSession(t *testing.T) {
	h := newDH6(t)
	r := h.mustSend(dmsg(dhcp6Request, dcid, dsid, dia(opt6IAPD, 1), dia(opt6IAPD, 2)), dhcp6Reply)
	wantGrant(t, ia(t, r.pd[:r.nPD], 1), h.srv, netip.Addr{}, fx6PD)
	wantStatus(t, ia(t, r.pd[:r.nPD], 2), dhcp6StatusNoPrefixAvail)
	r = h.mustSend(dmsg(dhcp6Request, dcid, dsid, dia(opt6IAPD, 2), dia(opt6IAPD, 1)), dhcp6Reply)
	wantGrant(t, ia(t, r.pd[:r.nPD], 1), h.srv, netip.Addr{}, fx6PD)
	wantStatus(t, ia(t, r.pd[:r.nPD], 2), dhcp6StatusNoPrefixAvail)
	if h.sess.takes != 1 {
		t.Errorf("%d prefixes taken", h.sess.takes)
	}
}

// What a Request lists besides what it gets goes back with lifetimes 0;
// what a Solicit lists is a hint and does not come back.
func TestDHCP6StaleAndHints(t *testing.T) {
	h := newDH6(t)
	r := h.mustSend(dmsg(dhcp6Request, dcid, dsid, dia(opt6IAPD, 1, dprefix("2001:db8:9900::/56"), dprefix("::/48")),
		dia(opt6IANA, 1, daddr("2001:db8:0:9::2"), daddr("2001:db8:0:1::2"))), dhcp6Reply)
	pd, na := ia(t, r.pd[:r.nPD], 1), ia(t, r.na[:r.nNA], 1)
	wantGrant(t, pd, h.srv, netip.Addr{}, fx6PD)
	wantGrant(t, na, h.srv, fx6NA, netip.Prefix{})
	for _, c := range []struct {
		opts    []byte
		prefix  bool
		listed  string
		present bool
	}{
		{pd.opts, true, "2001:db8:9900::/56", true},
		{pd.opts, true, "::/48", false},
		{na.opts, false, "2001:db8:0:9::2", true},
	} {
		found := false
		it := dhcp6OptIter{b: c.opts}
		for it.next() {
			switch {
			case c.prefix && it.code == opt6IAPrefix:
				x := netip.PrefixFrom(netip.AddrFrom16([16]byte(it.val[9:25])), int(it.val[8]))
				if x.String() == c.listed {
					found = binary.BigEndian.Uint32(it.val) == 0 && binary.BigEndian.Uint32(it.val[4:]) == 0
				}
			case !c.prefix && it.code == opt6IAAddr:
				if netip.AddrFrom16([16]byte(it.val[:16])).String() == c.listed {
					found = binary.BigEndian.Uint32(it.val[16:]) == 0 && binary.BigEndian.Uint32(it.val[20:]) == 0
				}
			}
		}
		if found != c.present {
			t.Errorf("%s back with lifetimes 0: %v, want %v", c.listed, found, c.present)
		}
	}
	r = h.mustSend(dmsg(dhcp6Solicit, dcid, dia(opt6IAPD, 1, dprefix("2001:db8:9900::/56"))), dhcp6Advertise)
	if x := ia(t, r.pd[:r.nPD], 1); iaHasPrefix(x.opts, netip.MustParsePrefix("2001:db8:9900::/56")) {
		t.Error("a Solicit's hint came back")
	}
	// A Rebind listing only a hint has nothing to give back: NoBinding.
	h = newDH6(t)
	h.sess.pd = netip.Prefix{}
	r = h.mustSend(dmsg(dhcp6Rebind, dcid, dia(opt6IAPD, 1, dprefix("::/56"))), dhcp6Reply)
	wantStatus(t, ia(t, r.pd[:r.nPD], 1), dhcp6StatusNoBinding)
}

// A Request from a new DUID on the session (the CPE restarted) moves the
// bindings to it.
func TestDHCP6NewClientTakesOver(t *testing.T) {
	h := newDH6(t)
	h.mustSend(dmsg(dhcp6Request, dcid, dsid, dia(opt6IANA, 1), dia(opt6IAPD, 1)), dhcp6Reply)
	other := dopt(opt6ClientID, []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 0x22})
	h.mustSend(dmsg(dhcp6Request, other, dsid, dia(opt6IAPD, 7)), dhcp6Reply)
	if !h.st.sameClient(other[4:]) || h.st.pdIAID != 7 || h.st.na.IsValid() {
		t.Errorf("state %+v", h.st)
	}
	// The old client's Renew of its address finds no binding now.
	r := h.mustSend(dmsg(dhcp6Renew, dcid, dsid, dia(opt6IANA, 1)), dhcp6Reply)
	wantStatus(t, ia(t, r.na[:r.nNA], 1), dhcp6StatusNoBinding)
}

func TestDHCP6Renew(t *testing.T) {
	bound := func(t *testing.T) *dh6 {
		h := newDH6(t)
		h.mustSend(dmsg(dhcp6Request, dcid, dsid, dia(opt6IANA, 1), dia(opt6IAPD, 2)), dhcp6Reply)
		return h
	}
	t.Run("bound IAs listing their address and prefix", func(t *testing.T) {
		h := bound(t)
		r := h.mustSend(dmsg(dhcp6Renew, dcid, dsid, dia(opt6IANA, 1, daddr("2001:db8:0:1::2")),
			dia(opt6IAPD, 2, dprefix("2001:db8:1200::/56"))), dhcp6Reply)
		wantGrant(t, ia(t, r.na[:r.nNA], 1), h.srv, fx6NA, netip.Prefix{})
		wantGrant(t, ia(t, r.pd[:r.nPD], 2), h.srv, netip.Addr{}, fx6PD)
		wantDNS(t, r, true)
	})
	t.Run("bound IAs listing nothing", func(t *testing.T) {
		h := bound(t)
		r := h.mustSend(dmsg(dhcp6Renew, dcid, dsid, dia(opt6IANA, 1), dia(opt6IAPD, 2)), dhcp6Reply)
		wantGrant(t, ia(t, r.na[:r.nNA], 1), h.srv, fx6NA, netip.Prefix{})
		wantGrant(t, ia(t, r.pd[:r.nPD], 2), h.srv, netip.Addr{}, fx6PD)
	})
	t.Run("the session's prefix and an old one", func(t *testing.T) {
		h := bound(t)
		r := h.mustSend(dmsg(dhcp6Renew, dcid, dsid, dia(opt6IAPD, 2, dprefix("2001:db8:9900::/56"), dprefix("2001:db8:1200::/56"))), dhcp6Reply)
		x := ia(t, r.pd[:r.nPD], 2)
		wantGrant(t, x, h.srv, netip.Addr{}, fx6PD)
		if !iaHasPrefix(x.opts, netip.MustParsePrefix("2001:db8:9900::/56")) {
			t.Errorf("the old prefix is not in the reply")
		}
	})
	t.Run("another prefix gets NoBinding", func(t *testing.T) {
		h := bound(t)
		r := h.mustSend(dmsg(dhcp6Renew, dcid, dsid, dia(opt6IAPD, 2, dprefix("2001:db8:9900::/56")),
			dia(opt6IANA, 1, daddr("2001:db8:0:9::2"))), dhcp6Reply)
		wantStatus(t, ia(t, r.pd[:r.nPD], 2), dhcp6StatusNoBinding)
		wantStatus(t, ia(t, r.na[:r.nNA], 1), dhcp6StatusNoBinding)
	})
	t.Run("unbound empty IAs get NoBinding", func(t *testing.T) {
		h := newDH6(t)
		r := h.mustSend(dmsg(dhcp6Renew, dcid, dsid, dia(opt6IAPD, 2), dia(opt6IANA, 1)), dhcp6Reply)
		wantStatus(t, ia(t, r.pd[:r.nPD], 2), dhcp6StatusNoBinding)
		wantStatus(t, ia(t, r.na[:r.nNA], 1), dhcp6StatusNoBinding)
		if h.sess.takes != 0 {
			t.Error("a Renew with nothing to compare took a prefix from the pool")
		}
	})
	t.Run("another IAID bound", func(t *testing.T) {
		h := bound(t)
		r := h.mustSend(dmsg(dhcp6Renew, dcid, dsid, dia(opt6IAPD, 5)), dhcp6Reply)
		wantStatus(t, ia(t, r.pd[:r.nPD], 5), dhcp6StatusNoBinding)
	})
	t.Run("the session's prefix on a fresh session", func(t *testing.T) {
		// pppoed restarted, RADIUS gave the same prefix back.
		h := newDH6(t)
		r := h.mustSend(dmsg(dhcp6Renew, dcid, dsid, dia(opt6IAPD, 2, dprefix("2001:db8:1200::/56"))), dhcp6Reply)
		wantGrant(t, ia(t, r.pd[:r.nPD], 2), h.srv, netip.Addr{}, fx6PD)
		if h.st.pd != fx6PD || h.st.pdIAID != 2 {
			t.Errorf("state %+v", h.st)
		}
	})
}

func TestDHCP6Rebind(t *testing.T) {
	t.Run("unknown prefix and address back with lifetimes 0", func(t *testing.T) {
		h := newDH6(t)
		r := h.mustSend(dmsg(dhcp6Rebind, dcid, dia(opt6IAPD, 2, dprefix("2001:db8:9900::/56")),
			dia(opt6IANA, 1, daddr("2001:db8:0:9::2"))), dhcp6Reply)
		pd, na := ia(t, r.pd[:r.nPD], 2), ia(t, r.na[:r.nNA], 1)
		if pd.prefix != netip.MustParsePrefix("2001:db8:9900::/56") || pd.valid != 0 || pd.preferred != 0 || pd.t1 != 0 || pd.t2 != 0 || pd.hasStatus {
			t.Errorf("IA_PD %+v", pd)
		}
		if na.addr != netip.MustParseAddr("2001:db8:0:9::2") || na.valid != 0 || na.preferred != 0 || na.t1 != 0 || na.hasStatus {
			t.Errorf("IA_NA %+v", na)
		}
		wantDNS(t, r, true)
	})
	t.Run("unbound empty IA gets NoBinding", func(t *testing.T) {
		h := newDH6(t)
		r := h.mustSend(dmsg(dhcp6Rebind, dcid, dia(opt6IAPD, 2)), dhcp6Reply)
		wantStatus(t, ia(t, r.pd[:r.nPD], 2), dhcp6StatusNoBinding)
	})
	t.Run("bound", func(t *testing.T) {
		h := newDH6(t)
		h.mustSend(dmsg(dhcp6Solicit, dcid, drapid, dia(opt6IAPD, 2), dia(opt6IANA, 1)), dhcp6Reply)
		r := h.mustSend(dmsg(dhcp6Rebind, dcid, dia(opt6IAPD, 2), dia(opt6IANA, 1, daddr("2001:db8:0:1::2"))), dhcp6Reply)
		wantGrant(t, ia(t, r.pd[:r.nPD], 2), h.srv, netip.Addr{}, fx6PD)
		wantGrant(t, ia(t, r.na[:r.nNA], 1), h.srv, fx6NA, netip.Prefix{})
	})
	t.Run("IA_NA off", func(t *testing.T) {
		h := newDH6(t)
		h.srv.offerNA = false
		r := h.mustSend(dmsg(dhcp6Rebind, dcid, dia(opt6IANA, 1, daddr("2001:db8:0:1::2"))), dhcp6Reply)
		if x := ia(t, r.na[:r.nNA], 1); x.addr != fx6NA || x.valid != 0 {
			t.Errorf("IA_NA %+v", x)
		}
	})
}

func TestDHCP6ReleaseAndDecline(t *testing.T) {
	bound := func(t *testing.T) *dh6 {
		h := newDH6(t)
		h.mustSend(dmsg(dhcp6Request, dcid, dsid, dia(opt6IANA, 1), dia(opt6IAPD, 2)), dhcp6Reply)
		return h
	}
	t.Run("Release of another prefix releases nothing", func(t *testing.T) {
		h := bound(t)
		r := h.mustSend(dmsg(dhcp6Release, dcid, dsid, dia(opt6IAPD, 2, dprefix("2001:db8:9900::/56"))), dhcp6Reply)
		if r.status != dhcp6StatusSuccess || r.nPD != 0 || h.sess.releases != 0 || h.st.pd != fx6PD {
			t.Errorf("%+v, releases %d", r, h.sess.releases)
		}
	})
	t.Run("Release of an unknown IA", func(t *testing.T) {
		h := bound(t)
		r := h.mustSend(dmsg(dhcp6Release, dcid, dsid, dia(opt6IAPD, 9, dprefix("2001:db8:1200::/56"))), dhcp6Reply)
		wantStatus(t, ia(t, r.pd[:r.nPD], 9), dhcp6StatusNoBinding)
		if r.status != dhcp6StatusSuccess || h.sess.releases != 0 {
			t.Errorf("%+v", r)
		}
	})
	t.Run("Release by another client", func(t *testing.T) {
		h := bound(t)
		other := dopt(opt6ClientID, []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 0x22})
		r := h.mustSend(dmsg(dhcp6Release, other, dsid, dia(opt6IAPD, 2, dprefix("2001:db8:1200::/56"))), dhcp6Reply)
		wantStatus(t, ia(t, r.pd[:r.nPD], 2), dhcp6StatusNoBinding)
		if h.sess.releases != 0 {
			t.Error("released")
		}
	})
	t.Run("Decline of the address", func(t *testing.T) {
		h := bound(t)
		r := h.mustSend(dmsg(dhcp6Decline, dcid, dsid, dia(opt6IANA, 1, daddr("2001:db8:0:1::2"))), dhcp6Reply)
		if r.status != dhcp6StatusSuccess || r.nNA != 0 || h.st.na.IsValid() || !h.st.naDeclined {
			t.Errorf("%+v, state %+v", r, h.st)
		}
		r = h.mustSend(dmsg(dhcp6Request, dcid, dsid, dia(opt6IANA, 1), dia(opt6IAPD, 2)), dhcp6Reply)
		wantStatus(t, ia(t, r.na[:r.nNA], 1), dhcp6StatusNoAddrsAvail)
		wantGrant(t, ia(t, r.pd[:r.nPD], 2), h.srv, netip.Addr{}, fx6PD)
	})
	t.Run("Decline of the prefix gives it back", func(t *testing.T) {
		h := bound(t)
		h.mustSend(dmsg(dhcp6Decline, dcid, dsid, dia(opt6IAPD, 2, dprefix("2001:db8:1200::/56"))), dhcp6Reply)
		if h.sess.releases != 1 || h.st.pd.IsValid() {
			t.Errorf("releases %d, state %+v", h.sess.releases, h.st)
		}
	})
}

func TestDHCP6Confirm(t *testing.T) {
	for _, c := range []struct {
		name string
		na   netip.Addr
		ias  [][]byte
		want dhcp6Status
		drop bool
	}{
		{"on link", fx6NA, [][]byte{dia(opt6IANA, 1, daddr("2001:db8:0:1::2"), daddr("2001:db8:0:1::99"))}, dhcp6StatusSuccess, false},
		{"one address off link", fx6NA, [][]byte{dia(opt6IANA, 1, daddr("2001:db8:0:1::2")), dia(opt6IANA, 2, daddr("2001:db8:0:2::2"))}, dhcp6StatusNotOnLink, false},
		{"no /64 on the session", netip.Addr{}, [][]byte{dia(opt6IANA, 1, daddr("2001:db8:0:1::2"))}, dhcp6StatusNotOnLink, false},
		{"no addresses", fx6NA, [][]byte{dia(opt6IANA, 1)}, 0, true},
		{"no IAs", fx6NA, nil, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newDH6(t)
			h.sess.na = c.na
			r, ok := h.send(dmsg(dhcp6Confirm, append([][]byte{dcid}, c.ias...)...))
			if ok == c.drop {
				t.Fatalf("answered %v", ok)
			}
			if ok && (r.typ != dhcp6Reply || !r.hasStatus || r.status != c.want || r.nNA != 0) {
				t.Errorf("reply %+v", r)
			}
		})
	}
}

func TestDHCP6InformationRequest(t *testing.T) {
	h := newDH6(t)
	r := h.mustSend(appendDHCP6InfoRequest(nil, [3]byte{9, 9, 9}, fx6ClientDUID), dhcp6Reply)
	wantDNS(t, r, true)
	if r.nNA+r.nPD != 0 || r.hasStatus || h.sess.takes != 0 {
		t.Errorf("reply %+v", r)
	}
	// Without a client ID, the reply has none either.
	r = h.mustSend(dmsg(dhcp6InformationRequest, dsid), dhcp6Reply)
	wantDNS(t, r, true)
	// No DNS configured: no DNS option at all.
	h.srv.dns = [2]netip.Addr{}
	r = h.mustSend(dmsg(dhcp6InformationRequest, dcid), dhcp6Reply)
	wantDNS(t, r, false)
}

func TestDHCP6Strings(t *testing.T) {
	if s := dhcp6InformationRequest.String(); s != "InformationRequest" {
		t.Errorf("%q", s)
	}
	if s := dhcp6StatusNoPrefixAvail.String(); s != "NoPrefixAvail" {
		t.Errorf("%q", s)
	}
	if s := dhcp6MsgType(99).String(); s != "dhcp6MsgType(99)" {
		t.Errorf("%q", s)
	}
}

// TestDHCP6GoldenScapy runs a client's conversation from the messages scapy
// built (testdata/ipv6), and checks our client helpers write the same
// bytes as scapy for each.
func TestDHCP6GoldenScapy(t *testing.T) {
	h := newDH6(t)
	txid := func(m *dhcp6Msg) [3]byte { return m.txid }
	// in parses a golden packet's DHCPv6 message.
	in := func(name string) ([]byte, dhcp6Msg) {
		t.Helper()
		g := golden6(t, name)
		_, _, data, err := parseUDP(mustIPv6(t, g))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var m dhcp6Msg
		if err := parseDHCPv6(data, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return g, m
	}
	// same checks that our client helper wrote what scapy did.
	same := func(name string, g, msg []byte) {
		t.Helper()
		if b := udp6Frame(fx6Client, ip6AllDHCPServers, 1, dhcp6ClientPort, dhcp6ServerPort, msg); !bytes.Equal(b, g) {
			t.Errorf("%s: our client helper differs from scapy (-scapy +ours)%s", name, hexDiff(g, b))
		}
	}

	g, m := in("dhcp6_solicit")
	if m.typ != dhcp6Solicit || m.rapidCommit || m.nNA != 1 || m.nPD != 1 || !m.requested(opt6DNSServers) {
		t.Fatalf("solicit %+v", m)
	}
	same("solicit", g, appendDHCP6Solicit(nil, txid(&m), fx6ClientDUID, 1, true, true, false))
	adv := h.mustSend(g[ip6HdrLen+udpHdrLen:], dhcp6Advertise)

	g, m = in("dhcp6_request")
	same("request", g, appendDHCP6Request(nil, txid(&m), fx6ClientDUID, &adv))
	rep := h.mustSend(g[ip6HdrLen+udpHdrLen:], dhcp6Reply)
	wantGrant(t, ia(t, rep.na[:rep.nNA], 1), h.srv, fx6NA, netip.Prefix{})
	wantGrant(t, ia(t, rep.pd[:rep.nPD], 1), h.srv, netip.Addr{}, fx6PD)

	for _, c := range []struct {
		name   string
		typ    dhcp6MsgType
		grants bool
	}{{"dhcp6_renew", dhcp6Renew, true}, {"dhcp6_rebind", dhcp6Rebind, true}, {"dhcp6_confirm", dhcp6Confirm, false}} {
		g, m = in(c.name)
		same(c.name, g, appendDHCP6Followup(nil, c.typ, txid(&m), fx6ClientDUID, &rep))
		r := h.mustSend(g[ip6HdrLen+udpHdrLen:], dhcp6Reply)
		if c.grants {
			wantGrant(t, ia(t, r.na[:r.nNA], 1), h.srv, fx6NA, netip.Prefix{})
			wantGrant(t, ia(t, r.pd[:r.nPD], 1), h.srv, netip.Addr{}, fx6PD)
		} else if r.status != dhcp6StatusSuccess || !r.hasStatus {
			t.Errorf("%s: %+v", c.name, r)
		}
	}

	g, m = in("dhcp6_inforeq")
	same("inforeq", g, appendDHCP6InfoRequest(nil, txid(&m), fx6ClientDUID))
	wantDNS(t, h.mustSend(g[ip6HdrLen+udpHdrLen:], dhcp6Reply), true)

	g, m = in("dhcp6_decline")
	same("decline", g, appendDHCP6Followup(nil, dhcp6Decline, txid(&m), fx6ClientDUID, &rep))
	if r := h.mustSend(g[ip6HdrLen+udpHdrLen:], dhcp6Reply); r.status != dhcp6StatusSuccess || !h.st.naDeclined {
		t.Errorf("decline: %+v", r)
	}

	g, m = in("dhcp6_release")
	same("release", g, appendDHCP6Followup(nil, dhcp6Release, txid(&m), fx6ClientDUID, &rep))
	if r := h.mustSend(g[ip6HdrLen+udpHdrLen:], dhcp6Reply); r.status != dhcp6StatusSuccess || h.sess.releases != 1 {
		t.Errorf("release: %+v, releases %d", r, h.sess.releases)
	}

	// Rapid Commit with a /56 hint and IAIDs 7 and 8, on a fresh session.
	h = newDH6(t)
	_, m = in("dhcp6_solicit_rapid")
	if !m.rapidCommit || m.na[0].iaid != 7 || m.pd[0].iaid != 8 || m.pd[0].prefix != netip.MustParsePrefix("::/56") {
		t.Fatalf("rapid solicit %+v", m)
	}
	r := h.mustSend(golden6(t, "dhcp6_solicit_rapid")[ip6HdrLen+udpHdrLen:], dhcp6Reply)
	wantGrant(t, ia(t, r.na[:r.nNA], 7), h.srv, fx6NA, netip.Prefix{})
	wantGrant(t, ia(t, r.pd[:r.nPD], 8), h.srv, netip.Addr{}, fx6PD)
	if !r.rapidCommit || h.st.pdIAID != 8 || h.st.naIAID != 7 {
		t.Errorf("reply %+v state %+v", r, h.st)
	}
}

// TestScapyDecodesOurDHCPv6 has scapy decode every kind of reply we send,
// in IPv6 and UDP, and recompute the lengths and the UDP checksum.
func TestScapyDecodesOurDHCPv6(t *testing.T) {
	replies := map[string][]byte{}
	reply := func(name string, h *dh6, req []byte) {
		t.Helper()
		var m dhcp6Msg
		if err := parseDHCPv6(req, &m); err != nil {
			t.Fatal(err)
		}
		out, ok := h.srv.handle(nil, &m, &h.st, h.sess)
		if !ok {
			t.Fatalf("%s: dropped", name)
		}
		replies[name] = udp6Frame(fx6Server, fx6Client, 255, dhcp6ServerPort, dhcp6ClientPort, out)
	}
	data := func(name string) []byte { return golden6(t, name)[ip6HdrLen+udpHdrLen:] }
	h := newDH6(t)
	reply("advertise", h, data("dhcp6_solicit"))
	reply("request", h, data("dhcp6_request"))
	reply("renew", h, data("dhcp6_renew"))
	reply("confirm", h, data("dhcp6_confirm"))
	reply("inforeq", h, data("dhcp6_inforeq"))
	reply("decline", h, data("dhcp6_decline"))
	reply("release", h, data("dhcp6_release"))
	reply("rebind_unknown", h, data("dhcp6_rebind"))
	h = newDH6(t)
	h.sess.pd = netip.Prefix{}
	reply("rapid_no_prefix", h, data("dhcp6_solicit_rapid"))
	h = newDH6(t)
	h.sess.na = netip.MustParseAddr("2001:db8:0:2::2")
	reply("confirm_not_on_link", h, data("dhcp6_confirm"))

	got := scapyFields(t, replies)
	ids := []string{"UDP.sport=547", "UDP.dport=546",
		"DHCP6OptClientId.duid.DUID_LLT.lladdr=02:00:00:00:00:02", "DHCP6OptClientId.duid.DUID_LLT.timeval=305419896",
		"DHCP6OptServerId.duid.DUID_LL.type=3", "DHCP6OptServerId.duid.DUID_LL.hwtype=1", "DHCP6OptServerId.duid.DUID_LL.lladdr=02:00:00:00:00:01"}
	dns := "DHCP6OptDNSServers.dnsservers=2001:db8::53,2001:db8::54"
	grants := []string{
		"DHCP6OptIA_NA.iaid=1", "DHCP6OptIA_NA.T1=1800", "DHCP6OptIA_NA.T2=2880",
		"DHCP6OptIA_NA.ianaopts.DHCP6OptIAAddress.addr=2001:db8:0:1::2",
		"DHCP6OptIA_NA.ianaopts.DHCP6OptIAAddress.preflft=3600", "DHCP6OptIA_NA.ianaopts.DHCP6OptIAAddress.validlft=7200",
		"DHCP6OptIA_PD.iaid=1", "DHCP6OptIA_PD.T1=1800", "DHCP6OptIA_PD.T2=2880",
		"DHCP6OptIA_PD.iapdopt.DHCP6OptIAPrefix.prefix=2001:db8:1200::", "DHCP6OptIA_PD.iapdopt.DHCP6OptIAPrefix.plen=56",
		"DHCP6OptIA_PD.iapdopt.DHCP6OptIAPrefix.preflft=3600", "DHCP6OptIA_PD.iapdopt.DHCP6OptIAPrefix.validlft=7200",
	}
	for name, want := range map[string][]string{
		"advertise": slices.Concat(ids, grants, []string{"DHCP6_Advertise.trid=66051", "DHCP6OptPref.prefval=255", dns}),
		"request":   slices.Concat(ids, grants, []string{"DHCP6_Reply.trid=658188", dns}),
		"renew":     slices.Concat(ids, grants, []string{"DHCP6_Reply.trid=1118739", dns}),
		"confirm":   slices.Concat(ids, []string{"DHCP6OptStatusCode.statuscode=0"}),
		"inforeq":   slices.Concat(ids, []string{"DHCP6_Reply.trid=6382179", dns}),
		"decline":   slices.Concat(ids, []string{"DHCP6OptStatusCode.statuscode=0"}),
		"release":   slices.Concat(ids, []string{"DHCP6OptStatusCode.statuscode=0"}),
		// After the Decline and Release: the address and prefix come back
		// with lifetimes 0 (the address was declined, the prefix released
		// and the fake pool hands the same one out again, so it is kept).
		"rebind_unknown": slices.Concat(ids, []string{
			"DHCP6OptIA_NA.T1=0", "DHCP6OptIA_NA.ianaopts.DHCP6OptIAAddress.addr=2001:db8:0:1::2",
			"DHCP6OptIA_NA.ianaopts.DHCP6OptIAAddress.validlft=0", "DHCP6OptIA_PD.T1=1800",
			"DHCP6OptIA_PD.iapdopt.DHCP6OptIAPrefix.validlft=7200", dns}),
		"rapid_no_prefix": slices.Concat(ids, []string{"DHCP6OptRapidCommit.optcode=14",
			"DHCP6OptIA_NA.iaid=7", "DHCP6OptIA_NA.ianaopts.DHCP6OptIAAddress.addr=2001:db8:0:1::2",
			"DHCP6OptIA_PD.iaid=8", "DHCP6OptIA_PD.iapdopt.DHCP6OptStatusCode.statuscode=6", dns}),
		"confirm_not_on_link": slices.Concat(ids, []string{"DHCP6OptStatusCode.statuscode=4"}),
	} {
		d, ok := got[name]
		if !ok {
			t.Errorf("%s: scapy returned nothing", name)
			continue
		}
		d.check(t, name, want...)
	}
}

// TestDHCP6Allocs fails if parsing a message or answering it allocates.
func TestDHCP6Allocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	data := func(name string) []byte { return golden6(t, name)[ip6HdrLen+udpHdrLen:] }
	srv := newDHCP6Server(fx6ServerMAC, fx6DNS, true)
	sess := &fakeSess6{pd: fx6PD, na: fx6NA}
	var st dhcp6State
	out := make([]byte, 0, 1500)
	var m dhcp6Msg
	for _, name := range []string{"dhcp6_solicit", "dhcp6_solicit_rapid", "dhcp6_request", "dhcp6_renew",
		"dhcp6_rebind", "dhcp6_confirm", "dhcp6_inforeq", "dhcp6_decline", "dhcp6_release"} {
		req := data(name)
		t.Run(name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, func() {
				_ = parseDHCPv6(req, &m)
				_, _ = srv.handle(out[:0], &m, &st, sess)
			}); n != 0 {
				t.Errorf("%v allocs/op, want 0", n)
			}
		})
	}
	t.Run("client helpers", func(t *testing.T) {
		var adv dhcp6Msg
		b, _ := srv.handle(nil, func() *dhcp6Msg { _ = parseDHCPv6(data("dhcp6_solicit"), &m); return &m }(), &st, sess)
		_ = parseDHCPv6(b, &adv)
		if n := testing.AllocsPerRun(1000, func() {
			_ = appendDHCP6Solicit(out[:0], [3]byte{1}, fx6ClientDUID, 1, true, true, true)
			_ = appendDHCP6Request(out[:0], [3]byte{1}, fx6ClientDUID, &adv)
			_ = dhcp6Reply.String()
		}); n != 0 {
			t.Errorf("%v allocs/op, want 0", n)
		}
	})
}
