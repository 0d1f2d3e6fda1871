package main

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func ifaceIDOpt(id uint64) []byte {
	b := []byte{ipv6cpOptIfaceID, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(b[2:], id)
	return b
}

func withIPv6(pool string) func(*config) {
	return func(c *config) {
		c.IPv6PrefixPool = pool
		c.IPv6DelegatedPool = "2001:db8:200::/40"
		c.IPv6DNS = []string{"2001:db8::53"}
	}
}

// openIPv6CP runs IPv6CP to Opened from the server's Configure-Request in
// out: the peer first asks with a zero identifier, takes the Nak's, and
// acks the server's request.
func (h *fakeHarness) openIPv6CP(out []pppFrame) {
	h.t.Helper()
	req := find(out, protoIPv6CP, uint8(cpConfReq))
	if req == nil {
		h.t.Fatalf("no IPv6CP Configure-Request among %+v", out)
	}
	h.feed(protoIPv6CP, uint8(cpConfAck), req.id, req.data)
	nak := find(h.feed(protoIPv6CP, uint8(cpConfReq), 1, ifaceIDOpt(0)), protoIPv6CP, uint8(cpConfNak))
	if nak == nil || len(nak.data) != 10 || binary.BigEndian.Uint64(nak.data[2:]) == 0 {
		h.t.Fatalf("a zero interface identifier got %+v, want a Nak with a non-zero one", nak)
	}
	ack := find(h.feed(protoIPv6CP, uint8(cpConfReq), 2, nak.data), protoIPv6CP, uint8(cpConfAck))
	if ack == nil {
		h.t.Fatal("the Nak's own identifier was not acked")
	}
	if !h.fs.isUp6 {
		h.t.Fatal("IPv6CP did not bring IPv6 up")
	}
}

// TestIPv6CPBesideIPCP: both NCPs open on one link; the session's /64
// comes from the pool and goes back at the end.
func TestIPv6CPBesideIPCP(t *testing.T) {
	h := newFakeHarness(t, "noauth\n", nil, withIPv6("2001:db8:100::/48"))
	out := h.openLCP()
	h.openIPCP(out)
	h.openIPv6CP(out)
	if h.fs.prefix6 != netip.MustParsePrefix("2001:db8:100::/64") {
		t.Fatalf("prefix %s", h.fs.prefix6)
	}
	sess := h.sess()
	if sess.ipv6cpL.local == sess.ipv6cpL.peer || sess.ipv6cpL.local == ([8]byte{}) {
		t.Fatalf("identifiers local %x peer %x", sess.ipv6cpL.local, sess.ipv6cpL.peer)
	}
	if !strings.Contains(h.log.String(), `msg="IPv6 up"`) || !strings.Contains(h.log.String(), `prefix=2001:db8:100::/64`) {
		t.Errorf("no IPv6 up line:\n%s", h.log.String())
	}
	if info := sess.info(); info.IPv6Prefix != "2001:db8:100::/64" {
		t.Errorf("show sessions: ipv6_prefix %q", info.IPv6Prefix)
	}
	// A peer's identifier equal to ours is Naked too.
	var own [10]byte
	copy(own[:], ifaceIDOpt(binary.BigEndian.Uint64(sess.ipv6cpL.local[:])))
	if f := find(h.feed(protoIPv6CP, uint8(cpConfReq), 3, own[:]), protoIPv6CP, uint8(cpConfNak)); f == nil {
		t.Error("our own identifier from the peer was not Naked")
	}
	inject(h.s, h.ifc, frameOf(serverMAC, clientMAC, codePADT, h.sid))
	if live, _ := h.s.cfg.v6.prefix.live(); live != 0 || h.fs.isUp6 {
		t.Fatalf("after the end: %d /64s held, IPv6 up %v", live, h.fs.isUp6)
	}
}

// TestIPv6PoolExhaustedKeepsIPv4: without a /64 left IPv6CP never opens
// (the peer's request gets a Terminate-Ack) and IPv4 comes up as usual.
func TestIPv6PoolExhaustedKeepsIPv4(t *testing.T) {
	h := newFakeHarness(t, "noauth\n", nil, withIPv6("2001:db8:100::/64"))
	if _, err := h.s.cfg.v6.prefix.get(""); err != nil {
		t.Fatal(err)
	}
	out := h.openLCP()
	if find(out, protoIPv6CP, uint8(cpConfReq)) != nil {
		t.Fatal("IPv6CP asked for with no /64 left")
	}
	h.openIPCP(out)
	if f := find(h.feed(protoIPv6CP, uint8(cpConfReq), 1, ifaceIDOpt(7)), protoIPv6CP, uint8(cpTermAck)); f == nil {
		t.Fatal("the peer's IPv6CP request got no Terminate-Ack")
	}
	if !h.fs.isUp || h.fs.isUp6 || h.sess().lcp.state != stOpened {
		t.Fatalf("IPv4 up %v, IPv6 up %v, LCP %v", h.fs.isUp, h.fs.isUp6, h.sess().lcp.state)
	}
	if h.s.stats.c[statIPv6Refused].Load() != 1 {
		t.Error("ipv6_refused not counted")
	}
}

// TestIPv6OnlySession: a peer that rejects IPCP keeps the link with IPv6
// alone, and the session counts as up.
func TestIPv6OnlySession(t *testing.T) {
	h := newFakeHarness(t, "noauth\n", nil, withIPv6("2001:db8:100::/48"))
	out := h.openLCP()
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], protoIPCP)
	h.feed(protoLCP, uint8(cpProtoRej), 9, append(p[:], 1, 1, 0, 4))
	h.openIPv6CP(out)
	sess := h.sess()
	if sess.lcp.state != stOpened || sess.stateName() != "up" || h.fs.isUp {
		t.Fatalf("LCP %v, state %s, IPv4 up %v", sess.lcp.state, sess.stateName(), h.fs.isUp)
	}
	// IPv6CP going away too leaves nothing: the link closes.
	binary.BigEndian.PutUint16(p[:], protoIPv6CP)
	out = h.feed(protoLCP, uint8(cpProtoRej), 10, append(p[:], 1, 1, 0, 4))
	for range 10 {
		out = append(out, h.tick(2*time.Second)...)
	}
	if find(out, protoLCP, uint8(cpTermReq)) == nil {
		t.Fatalf("no NCP left but LCP %v and no Terminate-Request", sess.lcp.state)
	}
}

// TestIPv6CPRejectedKeepsIPv4: a peer that Protocol-Rejects IPv6CP keeps
// its IPv4 session.
func TestIPv6CPRejectedKeepsIPv4(t *testing.T) {
	h := newFakeHarness(t, "noauth\n", nil, withIPv6("2001:db8:100::/48"))
	out := h.openLCP()
	h.openIPCP(out)
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], protoIPv6CP)
	out = h.feed(protoLCP, uint8(cpProtoRej), 9, append(p[:], 1, 1, 0, 4))
	h.tick(10 * time.Second)
	if h.sess() == nil || h.sess().lcp.state != stOpened || !h.fs.isUp || find(out, protoLCP, uint8(cpTermReq)) != nil {
		t.Fatal("IPv4 went down with IPv6CP")
	}
}

// TestIPv6OffRejectsIPv6CP: without a pool of /64s IPv6CP is
// Protocol-Rejected, as before.
func TestIPv6OffRejectsIPv6CP(t *testing.T) {
	h := newFakeHarness(t, "noauth\n", nil, nil)
	out := h.openLCP()
	if find(out, protoIPv6CP, uint8(cpConfReq)) != nil {
		t.Fatal("IPv6CP asked for with IPv6 off")
	}
	h.openIPCP(out)
	if f := find(h.feed(protoIPv6CP, uint8(cpConfReq), 1, ifaceIDOpt(7)), protoLCP, uint8(cpProtoRej)); f == nil {
		t.Fatal("IPv6CP was not Protocol-Rejected")
	}
}

// TestIPv6FirstIdleCheck: with an idle limit, a session whose IPv6CP
// opens while IPCP still negotiates is not ended for idleness before it
// is up.
func TestIPv6FirstIdleCheck(t *testing.T) {
	h := newFakeHarness(t, "noauth\nidle 5\n", nil, withIPv6("2001:db8:100::/48"))
	out := h.openLCP()
	h.openIPv6CP(out)
	for range 8 {
		h.tick(time.Second)
	}
	if s := h.sess(); s == nil || s.ending || s.lcp.state != stOpened {
		t.Fatal("ended for idleness while IPCP was still negotiating")
	}
	h.openIPCP(out)
	if h.sess().upAt.IsZero() {
		t.Fatal("not up with both NCPs open")
	}
}

// TestIPv6AnswerSizes: a control packet longer than our MRU is dropped
// unanswered, and an answer longer than the peer's MRU is not sent.
func TestIPv6AnswerSizes(t *testing.T) {
	h := newFakeHarness(t, "noauth\n", nil, withIPv6("2001:db8:100::/48"))
	out := h.openLCP()
	h.openIPCP(out)
	h.openIPv6CP(out)
	sess := h.sess()
	h.fs.ipv6 = nil
	peer := linkLocal(sess.ipv6cpL.peer)
	solicit := func(pad int) []byte {
		b, _ := appendIPv6(nil, peer, allDHCP, ipProtoUDP, 1)
		b = appendUDPHeader(b, dhcp6ClientPort, dhcp6ServerPort)
		b = appendDHCP6Solicit(b, [3]byte{1, 2, 3}, appendDUIDLL(nil, clientMAC), 1, true, true, true)
		// Padding in an unknown option (65000) the server skips.
		b = binary.BigEndian.AppendUint16(b, 65000)
		b = binary.BigEndian.AppendUint16(b, uint16(pad))
		b = append(b, make([]byte, pad)...)
		finishIPv6(b, 0)
		return b
	}
	h.s.handlePPP(sess, protoIPv6, solicit(10))
	if len(h.fs.ipv6) != 1 {
		t.Fatalf("%d answers to a Solicit, want 1", len(h.fs.ipv6))
	}
	h.s.handlePPP(sess, protoIPv6, solicit(1600))
	if len(h.fs.ipv6) != 1 {
		t.Fatal("a Solicit longer than our MRU was answered")
	}
	sess.lcpL.peerMRU = 120
	errs := h.s.stats.c[statTxErrors].Load()
	h.s.handlePPP(sess, protoIPv6, solicit(10))
	if len(h.fs.ipv6) != 1 || h.s.stats.c[statTxErrors].Load() != errs+1 {
		t.Fatal("an answer longer than the peer's MRU was sent, or not counted")
	}
}
