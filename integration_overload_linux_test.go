package main

import (
	"strings"
	"testing"
	"time"
)

// TestIntegrationHalfOpenFlood: 200 PADI/PADR pairs from made-up MACs that
// never speak PPP take at most the setup cap (a quarter of 64 slots: 16),
// those sessions end after a few seconds of silence, and a real client
// gets a session within a few seconds of the flood. (Before the cap and
// the silence timeout, the flood held all 64 slots for the whole setup
// timeout.)
func TestIntegrationHalfOpenFlood(t *testing.T) {
	l := newLab(t)
	srv := l.startServer(append(l.pppFiles("require-pap\n", "alice * pw *\n"), "-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "64")...)
	c := l.rawClient()
	const n = 200
	for i := range n {
		c.send(frameOf(broadcastAddr, macN(1000+i), codePADI, 0, tag{tagServiceName, nil}))
	}
	// PADR for every PADO, as they come.
	pads, padr := 0, 0
	deadline := time.After(2 * time.Second)
collect:
	for {
		select {
		case b, ok := <-c.rx:
			if !ok {
				break collect
			}
			p := new(discoveryPacket)
			if p.parse(b) != nil || p.src != l.srvMAC {
				continue
			}
			switch p.code {
			case codePADO:
				if ck, ok := p.find(tagACCookie); ok {
					c.request(p.dst, append([]byte(nil), ck...), "")
					padr++
				}
			case codePADS:
				if p.sessionID != 0 {
					pads++
				}
			}
		case <-deadline:
			break collect
		}
	}
	t.Logf("flood: %d PADI, %d PADR sent, %d sessions opened", n, padr, pads)
	if pads == 0 || pads > 16 {
		t.Errorf("the flood opened %d sessions, want 1 to 16 (the setup cap)", pads)
	}
	start := time.Now()
	cl := l.startClient("-u", "alice", "-p", "pw", "--auth", "pap")
	cl.waitLog("summary: 1 of 1 sessions up", 15*time.Second)
	t.Logf("a real client was up %v after the flood", time.Since(start).Round(100*time.Millisecond))
	if got := strings.Count(srv.log.String(), `reason="peer silent after PADS"`); got != pads {
		t.Errorf("%d flood sessions ended for silence, want %d", got, pads)
	}
}
