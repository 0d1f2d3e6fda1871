package main

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestLoop runs the real loop and reader over a fake link under synctest,
// so the setup timeout and shutdown are checked without waiting.
func TestLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(t, func(c *config) { c.SetupTimeout = 5 * time.Second })
		l := newFakeLink()
		ifc := &iface{name: "veth0", mac: serverMAC, mtu: 1500, disc: l, sess: newFakeLink()}
		s := newServer(cfg, testLogger(t), []*iface{ifc}, newTUNPath(cfg, newFakeTUN(), "pppoed0"), nil, time.Now)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.run(ctx); close(done) }()

		next := func() *discoveryPacket {
			t.Helper()
			select {
			case f := <-l.out:
				return mustParse(t, f)
			case <-time.After(time.Minute):
				t.Fatal("no frame from the server")
				return nil
			}
		}
		dial := func(mac hwAddr) uint16 {
			l.in <- frameOf(broadcastAddr, mac, codePADI, 0, tag{tagServiceName, nil})
			c, _ := next().find(tagACCookie)
			l.in <- frameOf(serverMAC, mac, codePADR, 0, tag{tagServiceName, nil}, tag{tagACCookie, c})
			p := next()
			if p.code != codePADS || p.sessionID == 0 {
				t.Fatalf("got %v sid %d", p.code, p.sessionID)
			}
			return p.sessionID
		}

		start := time.Now()
		sid := dial(clientMAC)
		p := next() // PADT when PPP setup times out
		if p.code != codePADT || p.sessionID != sid || p.dst != clientMAC {
			t.Fatalf("got %v sid %d to %v, want PADT for %d", p.code, p.sessionID, p.dst, sid)
		}
		if d := time.Since(start); d < 5*time.Second || d > 7*time.Second {
			t.Errorf("setup timeout fired after %v, want about 5s", d)
		}
		synctest.Wait()
		if s.sessions.active != 0 {
			t.Fatalf("%d sessions left after the timeout", s.sessions.active)
		}

		a, b := dial(clientMAC), dial(otherMAC)
		cancel()
		<-done
		got := map[uint16]bool{}
		for _, f := range l.sent() {
			if p := mustParse(t, f); p.code == codePADT {
				got[p.sessionID] = true
			}
		}
		if !got[a] || !got[b] || len(got) != 2 {
			t.Fatalf("PADTs at shutdown for %v, want %d and %d", got, a, b)
		}
	})
}
