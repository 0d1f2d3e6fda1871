// Served interfaces that go away and come back.
//
// An AF_PACKET socket is bound to an interface index. When the interface is
// deleted, the socket is left bound to nothing, and a new interface of the
// same name (a bridge netifd rebuilt, a USB NIC plugged in again) has
// another index: the old sockets would never see a frame again. So the
// link watcher (linkwatch_linux.go) reports link changes to the loop, which
// owns s.ifaces, and here:
//
//   - a served interface deleted (its index gone) ends its sessions, without
//     PADT or Terminate-Request, which could not be sent, with reason
//     "interface gone", and closes its sockets, which ends their readers;
//   - an interface of that name created again is opened afresh (a new
//     iface, new sockets, new readers) and served at once;
//   - one that has not come back within --iface-wait makes the server stop
//     with an error, so that pppoed exits with status 1 and procd or
//     systemd restarts it.
//
// Frames the old readers posted before they stopped carry the old iface and
// are dropped by the loop. Everything here runs on the loop goroutine.

package main

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// linkChange is a link added, changed or deleted, as rtnetlink reports it;
// with resync set, changes were lost and every served interface must be
// looked up again.
type linkChange struct {
	index   int
	name    string
	flags   uint32
	deleted bool
	resync  bool
}

func (c linkChange) handle(s *server) { s.onLinkChange(c) }

// openIface opens the sockets of the interface called name: a discovery
// socket and, unless the kernel moves session frames, a session socket.
func openIface(name string, cfg *config, kernel bool) (*iface, error) {
	ifi, err := ifaceInfo(name)
	if err != nil {
		return nil, err
	}
	return openIfaceOn(ifi, name, cfg, kernel)
}

func openIfaceOn(ifi *net.Interface, name string, cfg *config, kernel bool) (*iface, error) {
	disc, err := openPacketLink(ifi, cfg.discoveryType)
	if err != nil {
		return nil, err
	}
	ifc := &iface{name: name, index: ifi.Index, mtu: ifi.MTU, disc: disc}
	copy(ifc.mac[:], ifi.HardwareAddr)
	if kernel {
		// The kernel moves session frames; a session socket would only
		// copy every data packet to us.
		return ifc, nil
	}
	sl, err := openPacketLink(ifi, cfg.sessionType)
	if err != nil {
		disc.close()
		return nil, err
	}
	ifc.sess = sl
	return ifc, nil
}

// closeSockets closes ifc's sockets, which stops their readers.
func (ifc *iface) closeSockets() {
	ifc.disc.close()
	if ifc.sess != nil {
		ifc.sess.close()
	}
}

func (s *server) onLinkChange(c linkChange) {
	if c.resync {
		s.resyncIfaces()
		return
	}
	for i, ifc := range s.ifaces {
		switch {
		case !ifc.gone && c.deleted && c.index == ifc.index:
			s.ifaceGone(ifc, "deleted")
		case ifc.gone && !c.deleted && c.name == ifc.name:
			s.ifaceBack(i)
		}
	}
}

// resyncIfaces looks every served interface up again, after the link
// watcher lost changes.
func (s *server) resyncIfaces() {
	for i, ifc := range s.ifaces {
		ifi, err := net.InterfaceByName(ifc.name)
		if err != nil && !strings.Contains(err.Error(), "no such network interface") {
			// A failed lookup (the very overflow that made us look
			// again, say) is not a missing interface.
			s.log.Warn("cannot look the interface up", "iface", ifc.name, "err", err)
			continue
		}
		if !ifc.gone && (err != nil || ifi.Index != ifc.index) {
			s.ifaceGone(ifc, "missing")
		}
		if err == nil && s.ifaces[i].gone {
			s.ifaceBack(i)
		}
	}
}

// ifaceGone ends the sessions on ifc and closes its sockets.
func (s *server) ifaceGone(ifc *iface, why string) {
	n := 0
	s.sessions.each(func(sess *session) {
		if sess.iface == ifc {
			sess.end("interface gone", false)
			n++
		}
	})
	s.reap()
	s.flush() // what is queued for it fails, and is counted
	ifc.gone, ifc.goneAt = true, s.clock
	ifc.closeSockets()
	s.log.Warn("interface gone; its sessions ended, waiting for it to come back", "iface", ifc.name, "why", why,
		"index", ifc.index, "sessions", n, "wait", s.cfg.IfaceWait)
}

// ifaceBack opens the interface s.ifaces[i] names again, which was gone,
// and starts serving it. It stays gone if that fails; the next change of
// a link of that name tries again.
func (s *server) ifaceBack(i int) {
	old := s.ifaces[i]
	if s.openIface == nil {
		return
	}
	ifc, err := s.openIface(old.name)
	if err != nil {
		s.log.Warn("interface is back but cannot be served yet", "iface", old.name, "err", err)
		return
	}
	s.ifaces[i] = ifc
	s.startReaders(ifc)
	s.log.Info("interface is back; serving it again", "iface", ifc.name, "index", ifc.index,
		"mac", ifc.mac.String(), "after", s.clock.Sub(old.goneAt).Round(time.Millisecond))
}

// startReaders gives the loop its writers on ifc's sockets, batching where
// the socket can, and starts their readers.
func (s *server) startReaders(ifc *iface) {
	ifc.discW = loopWriter(ifc.disc)
	if ifc.sess != nil {
		ifc.sessW = loopWriter(ifc.sess)
		if ifc.dataW == nil {
			ifc.dataW = ifc.sess.newWriter()
		}
	}
	s.wg.Add(1)
	go s.runReader(ifc, ifc.disc, rxDiscovery)
	if ifc.sess != nil {
		s.wg.Add(1)
		go s.runReader(ifc, ifc.sess, rxSession)
	}
}

func loopWriter(l link) frameWriter {
	if b, ok := l.(batchLink); ok {
		if w := b.newBatchWriter(); w != nil {
			return w
		}
	}
	return l
}

// checkIfaceWait stops the server if an interface has been gone for
// longer than --iface-wait.
func (s *server) checkIfaceWait() {
	if s.fatal != nil {
		return
	}
	for _, ifc := range s.ifaces {
		if ifc.gone && s.clock.Sub(ifc.goneAt) >= s.cfg.IfaceWait {
			s.fatal = fmt.Errorf("interface %q was deleted and has not come back within %v (--iface-wait)", ifc.name, s.cfg.IfaceWait)
			s.log.Error("stopping: an interface we serve is gone", "iface", ifc.name, "wait", s.cfg.IfaceWait)
			if s.stop != nil {
				s.stop()
			}
			return
		}
	}
}
