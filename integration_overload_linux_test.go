package main

import (
	"encoding/json"
	"path/filepath"
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

// TestIntegrationPADIFlood: a flood of PADIs from made-up MACs, as fast as
// one goroutine can write them, costs a live session neither a keepalive
// nor a control frame. The server echoes every second and gives up after
// two misses; the session stays up through the flood, and every frame the
// readers dropped was a PADI. (Before, one queue took the flood and the
// session's frames alike.)
func TestIntegrationPADIFlood(t *testing.T) {
	l := newLab(t)
	sock := filepath.Join(t.TempDir(), "pppoed.sock")
	srv := l.startServer(append(l.pppFiles("require-pap\nlcp-echo-interval 1\nlcp-echo-failure 2\n", "alice * pw *\n"),
		"-L", "10.0.0.1", "-R", "10.0.0.2", "-N", "64", "--ctl-socket", sock)...)
	cl := l.startClient("-u", "alice", "-p", "pw", "--auth", "pap")
	cl.waitLog("summary: 1 of 1 sessions up", 15*time.Second)

	flood := l.openRaw(l.cliNS, l.cliIf, etherTypeDiscovery)
	var padis [][]byte
	for i := range 4096 {
		padis = append(padis, frameOf(broadcastAddr, macN(2000+i), codePADI, 0, tag{tagServiceName, nil}))
	}
	const span = 4 * time.Second
	start := time.Now()
	sent := 0
	for time.Since(start) < span {
		for range 256 {
			if flood.writeFrame(padis[sent%len(padis)]) == nil {
				sent++
			}
		}
	}
	took := time.Since(start)
	t.Logf("FLOOD: %d PADIs in %v, %.0f/s", sent, took.Round(time.Millisecond), float64(sent)/took.Seconds())
	// Three more echo intervals after the flood: a session that lost its
	// echoes would have ended by then.
	time.Sleep(3 * time.Second)
	if strings.Contains(srv.log.String(), `msg="session ended"`) {
		t.Fatalf("the session ended during the flood:\n%s", srv.log.String())
	}
	select {
	case <-cl.done:
		t.Fatalf("the client exited during the flood:\n%s", cl.log.String())
	default:
	}
	var st statInfo
	if err := json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &st); err != nil {
		t.Fatal(err)
	}
	full, padi := st.Counters["rx_queue_full"], st.Counters["rx_padi_queue_full"]
	t.Logf("FLOOD: reader drops %d, of them PADIs %d; PADOs sent %d", full, padi, st.Counters["pado_sent"])
	if full != padi {
		t.Errorf("the readers dropped %d frames, of which only %d PADIs: a session frame was dropped", full, padi)
	}
	if st.SessionsUp != 1 {
		t.Errorf("%d sessions up after the flood, want 1", st.SessionsUp)
	}
}
