package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// A served interface deleted ends its sessions (no PADT: it cannot be
// sent) and closes its sockets; created again with a new index it is
// opened afresh and served; frames the old sockets read before they closed
// are dropped.
func TestIfaceDeletedAndRecreated(t *testing.T) {
	s, l, ifc, clk := newTestServer(t, nil)
	var logBuf bytes.Buffer
	s.log = newTextLogger(levelInfo, &logBuf)
	ifc.index = 3
	pads := request(t, s, l, ifc, clientMAC, offer(t, s, l, ifc, clientMAC), tag{tagServiceName, nil})
	if pads.code != codePADS || s.sessions.lookup(pads.sessionID) == nil {
		t.Fatalf("got %v for session %d, want a PADS and a session", pads.code, pads.sessionID)
	}
	var opened []*iface
	s.openIface = func(name string) (*iface, error) {
		if name != "veth0" {
			t.Errorf("opened %q, want veth0", name)
		}
		n := &iface{name: name, index: 7, mac: otherMAC, mtu: 1500, disc: newFakeLink(), sess: newFakeLink()}
		opened = append(opened, n)
		return n, nil
	}
	// Another interface's change is nothing to us.
	s.onLinkChange(linkChange{index: 4, name: "veth1", deleted: true})
	if ifc.gone {
		t.Fatal("gone after another interface was deleted")
	}

	s.onLinkChange(linkChange{index: 3, name: "veth0", deleted: true})
	s.settle()
	if !ifc.gone || s.sessions.active != 0 {
		t.Fatalf("after the delete: gone %v, %d sessions, want gone and none", ifc.gone, s.sessions.active)
	}
	if f := l.sent(); len(f) != 0 {
		t.Errorf("sent %d frames on a deleted interface, want none", len(f))
	}
	for _, fl := range []*fakeLink{l, ifc.sess.(*fakeLink)} {
		select {
		case <-fl.done:
		default:
			t.Error("a socket of the deleted interface is still open")
		}
	}
	if !strings.Contains(logBuf.String(), `reason="interface gone"`) || !strings.Contains(logBuf.String(), `msg="interface gone; its sessions ended`) {
		t.Errorf("log lacks the session's end or the interface's:\n%s", logBuf.String())
	}
	// A frame the old socket read just before: dropped, not answered on
	// a closed socket.
	inject(s, ifc, padi())
	if f := l.sent(); len(f) != 0 {
		t.Errorf("answered a frame of the deleted interface: %d frames", len(f))
	}

	// A new interface of another name is not ours; one of ours is.
	s.onLinkChange(linkChange{index: 7, name: "veth9"})
	if len(opened) != 0 {
		t.Fatal("opened an interface for another name")
	}
	clk.advance(2 * time.Second)
	s.clock = clk.now()
	s.onLinkChange(linkChange{index: 7, name: "veth0"})
	if len(opened) != 1 || s.ifaces[0] != opened[0] {
		t.Fatalf("opened %d, serving %+v; want the new interface served", len(opened), s.ifaces[0])
	}
	n := opened[0]
	if !strings.Contains(logBuf.String(), `msg="interface is back; serving it again" iface=veth0 index=7`) {
		t.Errorf("log lacks the interface's return:\n%s", logBuf.String())
	}
	// Its readers run (startReaders): a PADI on the new socket reaches
	// the loop's queue.
	n.disc.(*fakeLink).in <- padi()
	select {
	case fr := <-s.rxPADI:
		if fr.ifc != n {
			t.Errorf("frame posted for %p, want the new interface %p", fr.ifc, n)
		}
		s.handleFrame(fr, fr.bytes())
		fr.release()
	case <-time.After(5 * time.Second):
		t.Fatal("the new interface's reader posted nothing")
	}
	s.settle()
	if o := onlyFrame(t, n.disc.(*fakeLink)); o.code != codePADO || o.src != otherMAC {
		t.Errorf("answered %v from %v, want a PADO from the new interface's MAC %v", o.code, o.src, otherMAC)
	}
	// Still served after its wait would have run out.
	clk.advance(s.cfg.IfaceWait + time.Second)
	s.onTick(clk.now())
	if s.fatal != nil {
		t.Errorf("stopping after the interface came back: %v", s.fatal)
	}
	n.closeSockets()
	s.wg.Wait()
}

// An interface that does not come back within --iface-wait stops the
// server with an error, which makes pppoed exit with status 1; one that
// comes back but cannot be opened yet is tried again at its next change.
func TestIfaceGoneForGood(t *testing.T) {
	s, _, ifc, clk := newTestServer(t, func(c *config) { c.IfaceWait = 10 * time.Second })
	ifc.index = 3
	stopped := false
	s.stop = func() { stopped = true }
	tries := 0
	s.openIface = func(string) (*iface, error) {
		tries++
		return nil, errors.New(`interface "veth0" is not an Ethernet interface`)
	}
	s.onLinkChange(linkChange{index: 3, name: "veth0", deleted: true})
	s.onLinkChange(linkChange{index: 8, name: "veth0"})
	s.onLinkChange(linkChange{index: 8, name: "veth0", flags: 1})
	if tries != 2 || !s.ifaces[0].gone {
		t.Errorf("%d tries, gone %v; want 2 tries and still gone", tries, s.ifaces[0].gone)
	}
	clk.advance(9 * time.Second)
	s.onTick(clk.now())
	if s.fatal != nil || stopped {
		t.Fatalf("stopped before --iface-wait: %v", s.fatal)
	}
	clk.advance(time.Second)
	s.onTick(clk.now())
	if s.fatal == nil || !stopped {
		t.Fatal("not stopped after --iface-wait")
	}
	if want := `interface "veth0" was deleted and has not come back within 10s (--iface-wait)`; s.fatal.Error() != want {
		t.Errorf("error %q, want %q", s.fatal, want)
	}
}
