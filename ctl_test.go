package main

import (
	"testing"
)

// TestCtlSessionsBySID: show sessions lists every session once, in
// ascending session ID whatever order the table holds them in.
func TestCtlSessionsBySID(t *testing.T) {
	h := newFakeHarness(t, "", nil, func(c *config) { c.MaxStarting, c.RandomSessionIDs = 64, true })
	rep := h.s.answerCtl(&ctlRequest{Cmd: "sessions", User: "nobody"})
	if !rep.OK || len(rep.Sessions) != 0 {
		t.Fatalf("no match: %+v, want no sessions", rep)
	}

	want := map[uint16]string{h.sid: clientMAC.String()}
	for i := range 20 {
		mac := macN(i + 1)
		c := offer(t, h.s, h.l, h.ifc, mac)
		want[request(t, h.s, h.l, h.ifc, mac, c, tag{tagServiceName, nil}).sessionID] = mac.String()
	}
	rep = h.s.answerCtl(&ctlRequest{Cmd: "sessions"})
	if !rep.OK || len(rep.Sessions) != len(want) {
		t.Fatalf("got %d sessions (%+v), want %d", len(rep.Sessions), rep, len(want))
	}
	for i, si := range rep.Sessions {
		if i > 0 && si.SID <= rep.Sessions[i-1].SID {
			t.Errorf("session %d has SID %d after %d", i, si.SID, rep.Sessions[i-1].SID)
		}
		if want[si.SID] != si.MAC {
			t.Errorf("SID %d: MAC %s, want %s", si.SID, si.MAC, want[si.SID])
		}
	}
}
