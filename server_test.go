package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"net"
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

// taggedLink is a fakeLink on which a nil frame stands for one the kernel
// handed over with a VLAN tag: readFrame reports it as packetLink does.
type taggedLink struct{ *fakeLink }

func (l taggedLink) readFrame(b []byte) (int, error) {
	select {
	case f := <-l.in:
		if f == nil {
			return 0, errVLANTagged
		}
		return copy(b, f), nil
	case <-l.done:
		return 0, net.ErrClosed
	}
}

// The reader of either socket counts a VLAN-tagged frame as its own drop
// reason and reads on; neither the loop nor the data path sees the frame.
func TestReaderDropsVLANTagged(t *testing.T) {
	sessFrame := make([]byte, headroom+4)
	putSessionHeader(sessFrame, serverMAC, clientMAC, etherTypeSession, 0x1234, protoLCP)
	for _, tt := range []struct {
		name string
		kind rxKind
		next []byte
	}{
		{"discovery", rxDiscovery, padi()},
		{"session", rxSession, sessFrame},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, _, ifc, _ := newTestServer(t, nil)
				l := taggedLink{newFakeLink()}
				s.wg.Add(1)
				go s.runReader(ifc, l, tt.kind)
				l.in <- nil
				l.in <- nil
				l.in <- tt.next
				synctest.Wait()
				if got := s.stats.drops[dropVLANTagged].Load(); got != 2 {
					t.Errorf("drop_VLANTagged = %d, want 2", got)
				}
				q := s.rxSess
				if tt.kind == rxDiscovery {
					q = s.rxPADI
				}
				select {
				case fr := <-q:
					if got := fr.bytes(); !bytes.Equal(got, tt.next) || fr.kind != tt.kind {
						t.Errorf("posted kind %d frame\n%s, want kind %d\n%s", fr.kind, hex.Dump(got), tt.kind, hex.Dump(tt.next))
					}
					fr.release()
				default:
					t.Fatal("the untagged frame after the tagged ones was not posted")
				}
				if n := len(s.rxSess) + len(s.rxDisc) + len(s.rxPADI); n != 0 {
					t.Errorf("%d more frames posted, want none", n)
				}
				l.close()
				s.wg.Wait()
			})
		})
	}
}
