// Kernel mode: each session handed to the kernel's PPPoE driver, with no
// pppd.
//
// Per session, as pppd's rp-pppoe plugin and ppp_generic expect:
//
//	socket(AF_PPPOX, SOCK_STREAM, PX_PROTO_OE); connect(sid, peer, dev)
//	PPPIOCGCHAN -> channel index; open /dev/ppp; PPPIOCATTCHAN -> channel fd
//	(after authentication) open /dev/ppp; PPPIOCNEWUNIT -> pppN
//	PPPIOCCONNECT the channel to the unit; PPPIOCSMRU
//	(IPCP open) PPPIOCSNPMODE IP PASS; addresses on pppN; pppN up
//
// The socket is connected before the PADS goes out, so the kernel already
// owns the session when the client's first LCP frame arrives. From then on
// the kernel moves the session's frames: LCP and authentication arrive on
// the channel fd and IPCP on the unit fd. One reader goroutine for all of
// them (kernelPoller: epoll, non-blocking fds, pooled buffers; no
// goroutine, os.File or buffer per session) posts each PPP frame as it is
// to the loop, tagged with the session ID and the slot's generation. We
// write every control frame to the channel, the IPv6 packets the loop
// answers with (RAs, DHCPv6) as well. IP never reaches userspace, but for
// the peer's IPv6 control packets that one AF_PACKET socket picks off the
// pppN units (pppox6_linux.go). The session's traffic counters are the unit's
// (SIOCGPPPSTATS, less the NCP frames we read from the unit fd, which the
// kernel counts too) and its data idleness is the unit's (PPPIOCGIDLE).
// Closing the fds ends the session in the kernel and removes pppN.
//
// kernelPath and each kernelSession belong to the loop; the poller only
// posts, and counts what it reads from a unit fd in atomics. The poller's
// table of descriptors, and its table of pppN interface indexes, are shared
// under its mutex: the loop adds and removes (and closes) descriptors and
// publishes indexes under it, the poller reads under it, so a descriptor
// number the loop closed and the kernel gave out again is never read for
// the session that had it.
//
// ioctl numbers and struct layouts come from golang.org/x/sys per
// architecture; the layouts x/sys lacks (struct npioctl, struct ppp_idle,
// struct ppp_stats) are spelled out below and checked under qemu-user on
// mips and mipsle.

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pppProtoIP and pppProtoIPv6 are PPP_IP and PPP_IPV6 from
// linux/ppp_defs.h, for PPPIOCSNPMODE.
const (
	pppProtoIP   = 0x21
	pppProtoIPv6 = 0x57
	npmodePass   = 0 // NPMODE_PASS
	npmodeDrop   = 1 // NPMODE_DROP
	devPPP       = "/dev/ppp"
	pxProtoOE    = 0 // PX_PROTO_OE
	sockaddrLen  = 2 + 4 + 2 + ethAddrLen + unix.IFNAMSIZ
)

// npioctl is struct npioctl from linux/ppp-ioctl.h: two C ints, the same
// size on every Linux architecture.
type npioctl struct {
	protocol int32
	mode     int32
}

// pppStats is struct ppp_stats from linux/ppp_defs.h: struct pppstat
// then struct vjstat, all __u32.
type pppStats struct {
	discards, ibytes, ioctets, ipackets, ierrors, ilqrs uint32
	obytes, ooctets, opackets, oerrors, olqrs           uint32
	vj                                                  [8]uint32
}

// ifreqData is struct ifreq with ifr_data set, padded past the largest
// struct ifreq (40 bytes on 64-bit).
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24]byte
}

// kernelPath is the data path of kernel mode.
type kernelPath struct {
	srv         *server
	ctl         int // AF_INET datagram socket for SIOCGPPPSTATS
	unitFromSID bool
	offset      int
	poll        *kernelPoller
	ctl6        int         // the AF_PACKET socket of IPv6 control packets; -1: IPv6 is off
	warnedFwd   bool        // the loop warned that IPv6 forwarding is off
	closeq      chan [3]int // descriptors for the closers
	closers     sync.WaitGroup
}

// closeWorkers close sessions' descriptors off the loop. Closing the unit's
// descriptor is where the kernel removes pppN (unregister_netdev, which
// waits for RCU grace periods: about 20 ms a session in the VM); the loop
// hands the descriptors over instead of waiting, so ending 1,000 sessions
// does not stall it for 20 s, and the kernel's waits overlap.
const closeWorkers = 4

func newKernelPath(cfg *config) (*kernelPath, error) {
	ctl, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	p, err := newKernelPoller()
	if err != nil {
		unix.Close(ctl)
		return nil, err
	}
	k := &kernelPath{ctl: ctl, unitFromSID: cfg.UnitFromSession, offset: cfg.SessionOffset, poll: p, ctl6: -1,
		closeq: make(chan [3]int, min(cfg.MaxSessions, 4096))}
	if cfg.v6.enabled() {
		if k.ctl6, err = openIPv6Control(unix.ARPHRD_PPP); err == nil {
			err = p.add(k.ctl6, pollEntry{ctl6: true})
		}
		if err != nil {
			k.close()
			return nil, fmt.Errorf("IPv6 control socket: %w", err)
		}
	}
	return k, nil
}

func (k *kernelPath) mode() string                { return "kernel" }
func (k *kernelPath) forward(*iface, []byte) bool { return false }
func (k *kernelPath) tick(time.Time)              {}

func (k *kernelPath) start(srv *server) {
	k.srv = srv
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		k.poll.run(srv)
	}()
	for range closeWorkers {
		k.closers.Add(1)
		go func() {
			defer k.closers.Done()
			for fds := range k.closeq {
				closeFds(fds)
			}
		}()
	}
}

// close waits for the closers to close every session's descriptors (so
// every pppN is gone when pppoed exits), then stops the poller.
func (k *kernelPath) close() error {
	if k.ctl < 0 {
		return nil
	}
	close(k.closeq)
	k.closers.Wait()
	k.poll.close()
	err := unix.Close(k.ctl)
	k.ctl = -1
	if k.ctl6 >= 0 {
		k.poll.forget(k.ctl6)
		unix.Close(k.ctl6)
		k.ctl6 = -1
	}
	return err
}

// open connects the kernel's session and starts reading its channel.
func (k *kernelPath) open(sess *session) (sessionPath, error) {
	ks, err := openKernelSession(sess.iface.name, sess.id, sess.peer)
	if err != nil {
		return nil, err
	}
	ks.k, ks.sid, ks.gen = k, sess.id, sess.gen
	if err := k.poll.add(ks.ch, pollEntry{ks: ks, sid: ks.sid, gen: ks.gen}); err != nil {
		ks.close()
		return nil, err
	}
	return ks, nil
}

// kernelPoller reads every session's channel and unit descriptors with one
// goroutine: epoll_wait, then up to pollReads non-blocking reads of each
// ready descriptor into pooled buffers, each frame posted to the loop. An
// eventfd wakes it to stop.
type kernelPoller struct {
	ep, wake int
	mu       sync.Mutex
	fds      map[int32]pollEntry
	byIndex  map[int32]pollEntry // pppN's interface index: its session
}

type pollEntry struct {
	ks   *kernelSession
	sid  uint16
	gen  uint32
	unit bool // a unit fd: what is read is counted
	ctl6 bool // the IPv6 control socket, of no session
}

// pollReads bounds the reads of one descriptor per wakeup, so one busy
// session cannot hold the others up.
const pollReads = 8

func newKernelPoller() (*kernelPoller, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ep)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(ep)
		unix.Close(wake)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return &kernelPoller{ep: ep, wake: wake, fds: map[int32]pollEntry{}, byIndex: map[int32]pollEntry{}}, nil
}

// add starts reading fd for e: a session's channel or unit, or the IPv6
// control socket.
func (p *kernelPoller) add(fd int, e pollEntry) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(p.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	p.fds[int32(fd)] = e
	return nil
}

// forget stops reading the descriptors (those not -1); the caller closes
// them after.
func (p *kernelPoller) forget(fds ...int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, fd := range fds {
		if fd >= 0 {
			delete(p.fds, int32(fd))
			_ = unix.EpollCtl(p.ep, unix.EPOLL_CTL_DEL, fd, nil)
		}
	}
}

func (p *kernelPoller) run(srv *server) {
	var events [64]unix.EpollEvent
	for {
		n, err := unix.EpollWait(p.ep, events[:], -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			srv.log.Error("kernel-mode poller failed", "err", os.NewSyscallError("epoll_wait", err))
			return
		}
		for i := range n {
			fd := events[i].Fd
			if int(fd) == p.wake {
				return
			}
			p.read(srv, fd)
		}
	}
}

// read posts what fd holds, up to pollReads frames; epoll reports it again
// if there is more.
func (p *kernelPoller) read(srv *server, fd int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.fds[fd]
	if !ok {
		return // closed since epoll_wait returned
	}
	if e.ctl6 {
		p.readIPv6Locked(srv, fd)
		return
	}
	for range pollReads {
		fr := getFrame()
		n, err := unix.Read(int(fd), fr[:])
		if err != nil || n <= 0 {
			putFrame(fr)
			if err == unix.EAGAIN || err == unix.EINTR {
				return
			}
			// The kernel is done with it (the session went away
			// under us): stop watching, or a hang-up would be
			// reported for ever. The loop still closes it.
			_ = unix.EpollCtl(p.ep, unix.EPOLL_CTL_DEL, int(fd), nil)
			srv.log.Debug("kernel reader stopped", "sid", e.sid, "unit", e.unit, "err", err)
			return
		}
		if e.unit && n >= pppProtoLen {
			e.ks.unitRxPackets.Add(1)
			e.ks.unitRxBytes.Add(uint64(n - pppProtoLen))
		}
		srv.post(rxFrame{f: fr, n: n, kind: rxPPP, sid: e.sid, gen: e.gen})
	}
}

// close stops run.
func (p *kernelPoller) close() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(p.wake, one[:])
}

// kernelSession is one session's kernel objects. The loop owns it.
type kernelSession struct {
	k     *kernelPath
	sid   uint16
	gen   uint32
	sock  int // the AF_PPPOX socket
	ch    int // /dev/ppp attached to the channel, non-blocking; -1: none
	unit  int // /dev/ppp attached to the unit, once authenticated; -1: none
	unitN int
	name  string // pppN

	// What the unit reader took off the unit fd: NCP frames the kernel
	// counted as traffic.
	unitRxPackets, unitRxBytes atomic.Uint64
	// The unit's 32-bit counters widened: last is the previous reading,
	// total the sum of the deltas since.
	last  [4]uint32
	total trafficCounts

	isUp    bool
	v6      kernelSession6
	rate    rateLimit       // wanted
	applied rateLimit       // what the last tc commands set
	tcDone  <-chan struct{} // the last tc job; the next one waits for it
}

// kernelPPPAvailable reports whether this kernel can do PPPoE itself,
// loading the module first as pppd would.
func kernelPPPAvailable() error {
	_ = exec.Command("modprobe", "pppoe").Run()
	if _, err := os.Stat(devPPP); err != nil {
		return fmt.Errorf("%s: %w", devPPP, err)
	}
	fd, err := unix.Socket(unix.AF_PPPOX, unix.SOCK_STREAM, pxProtoOE)
	if err != nil {
		return fmt.Errorf("AF_PPPOX socket: %w", err)
	}
	unix.Close(fd)
	return nil
}

// pppoxSockaddr is struct sockaddr_pppox for PX_PROTO_OE: sa_family and
// sa_protocol in host byte order, then struct pppoe_addr with the session
// ID in network byte order, the peer's MAC and the device name.
func pppoxSockaddr(sid uint16, remote hwAddr, dev string) ([sockaddrLen]byte, error) {
	var b [sockaddrLen]byte
	if len(dev) > unix.IFNAMSIZ-1 {
		return b, fmt.Errorf("device name %q too long", dev)
	}
	binary.NativeEndian.PutUint16(b[0:], unix.AF_PPPOX)
	binary.NativeEndian.PutUint32(b[2:], pxProtoOE)
	binary.BigEndian.PutUint16(b[6:], sid)
	copy(b[8:], remote[:])
	copy(b[14:], dev)
	return b, nil
}

// openKernelSession connects a PPPoX socket for the session and attaches
// a /dev/ppp fd to its channel.
func openKernelSession(dev string, sid uint16, peer hwAddr) (*kernelSession, error) {
	fd, err := unix.Socket(unix.AF_PPPOX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, pxProtoOE)
	if err != nil {
		return nil, os.NewSyscallError("socket AF_PPPOX", err)
	}
	ks := &kernelSession{sock: fd, ch: -1, unit: -1, unitN: -1}
	sa, err := pppoxSockaddr(sid, peer, dev)
	if err == nil {
		_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
		if e != 0 {
			err = os.NewSyscallError("connect AF_PPPOX", e)
		}
	}
	if err != nil {
		ks.close()
		return nil, err
	}
	var ch int32
	if err := ioctlInt32(fd, unix.PPPIOCGCHAN, &ch); err != nil {
		ks.close()
		return nil, os.NewSyscallError("PPPIOCGCHAN", err)
	}
	ks.ch, err = openPPPDev(unix.PPPIOCATTCHAN, &ch)
	if err != nil {
		ks.close()
		return nil, err
	}
	return ks, nil
}

// openPPPDev opens /dev/ppp, non-blocking, and attaches it with req
// (PPPIOCATTCHAN or PPPIOCNEWUNIT) before the poller gets it. The order
// matters: ppp_poll registers no wait queue for a /dev/ppp fd that is
// attached to nothing yet, so an fd added to epoll before the ioctl would
// never report a frame.
func openPPPDev(req uint, arg *int32) (int, error) {
	fd, err := unix.Open(devPPP, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("open "+devPPP, err)
	}
	if err := ioctlInt32(fd, req, arg); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError(pppIoctlName(req), err)
	}
	return fd, nil
}

func pppIoctlName(req uint) string {
	if req == unix.PPPIOCATTCHAN {
		return "PPPIOCATTCHAN"
	}
	return "PPPIOCNEWUNIT"
}

// sendControl writes the PPP frame (protocol and packet) to the channel.
// A channel takes a frame at once or queues it; EAGAIN is an error here,
// as a lost frame is for the peer (our automata retransmit).
func (ks *kernelSession) sendControl(proto uint16, b []byte) error {
	f := b[headroom-pppProtoLen:]
	binary.BigEndian.PutUint16(f, proto)
	if _, err := unix.Write(ks.ch, f); err != nil {
		return os.NewSyscallError("write "+devPPP, err)
	}
	return nil
}

func (ks *kernelSession) ifname() string { return ks.name }

// enterNetwork creates the session's unit, once: pppN follows the session
// ID with rp-pppoe's -u, else the kernel picks N.
func (ks *kernelSession) enterNetwork(mru int) error {
	if ks.unit >= 0 {
		return nil
	}
	unit := -1
	if ks.k.unitFromSID {
		unit = int(ks.sid) - 1 - ks.k.offset
	}
	if err := ks.newUnit(unit, mru); err != nil {
		return err
	}
	return ks.k.poll.add(ks.unit, pollEntry{ks: ks, sid: ks.sid, gen: ks.gen, unit: true})
}

func (ks *kernelSession) up(local, peer netip.Addr, mtu int) error {
	if err := ks.configure(local, peer, mtu); err != nil {
		return err
	}
	if err := ks.setNPMode(pppProtoIP, true); err != nil {
		return err
	}
	ks.isUp = true
	ks.applyRate()
	return nil
}

func (ks *kernelSession) down() {
	if ks.unit >= 0 {
		ks.setNPMode(pppProtoIP, false)
	}
	ks.isUp = false
}

// setRate limits pppN with tc, as accel-ppp's shaper does: a tbf qdisc
// shapes what the subscriber receives, an ingress police action drops
// what it sends over its rate. tc runs off the loop (hooks.go), one
// session's commands in order; before pppN is up the limit waits for up.
func (ks *kernelSession) setRate(r rateLimit) {
	ks.rate = r
	if ks.isUp {
		ks.applyRate()
	}
}

func (ks *kernelSession) applyRate() {
	r, was, dev := ks.rate, ks.applied, ks.name
	if r == was {
		return
	}
	ks.applied = r
	var jobs []job
	tc := func(args ...string) { jobs = append(jobs, job{argv: append([]string{"tc"}, args...)}) }
	kbit := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) + "kbit" }
	burst := func(v uint32) string { return strconv.FormatInt(burstBytes(v), 10) }
	switch {
	case r.down > 0:
		// Shaped, with burstBytes of room and at most 50 ms of queue.
		tc("qdisc", "replace", "dev", dev, "root", "tbf", "rate", kbit(r.down), "burst", burst(r.down), "latency", "50ms")
	case was.down > 0:
		tc("qdisc", "del", "dev", dev, "root")
	}
	switch {
	case r.up > 0:
		if was.up == 0 {
			tc("qdisc", "replace", "dev", dev, "handle", "ffff:", "ingress")
		} else {
			// matchall cannot change a filter in place (EEXIST).
			tc("filter", "del", "dev", dev, "parent", "ffff:", "protocol", "all", "prio", "1")
		}
		tc("filter", "add", "dev", dev, "parent", "ffff:", "protocol", "all", "prio", "1", "matchall",
			"action", "police", "rate", kbit(r.up), "burst", burst(r.up), "conform-exceed", "drop")
	case was.up > 0:
		tc("qdisc", "del", "dev", dev, "handle", "ffff:", "ingress")
	}
	srv := ks.k.srv
	ks.tcDone = srv.hooks.run(ks.tcDone, []any{"sid", ks.sid, "ifname", dev}, jobs...)
}

// counters reads the unit's statistics and takes out the NCP frames the
// unit reader saw. SIOCGPPPSTATS's counters are 32 bits wide: each reading
// adds the difference to the last one, which stays right as long as fewer
// than 4 GiB pass between two readings (the loop reads every session's
// counters at least every statsEvery).
func (ks *kernelSession) counters() trafficCounts {
	if ks.unit < 0 {
		return trafficCounts{}
	}
	var st pppStats
	req := ifreqData{data: unsafe.Pointer(&st)}
	copy(req.name[:], ks.name)
	if err := ioctlPtr(ks.k.ctl, unix.SIOCGPPPSTATS, unsafe.Pointer(&req)); err == nil {
		now := [4]uint32{st.ibytes, st.ipackets, st.obytes, st.opackets}
		ks.total.rxBytes += uint64(now[0] - ks.last[0])
		ks.total.rxPackets += uint64(now[1] - ks.last[1])
		ks.total.txBytes += uint64(now[2] - ks.last[2])
		ks.total.txPackets += uint64(now[3] - ks.last[3])
		ks.last = now
	}
	c := ks.total
	c.rxBytes -= min(c.rxBytes, ks.unitRxBytes.Load())
	c.rxPackets -= min(c.rxPackets, ks.unitRxPackets.Load())
	return c
}

// lastData asks the unit how long it has been idle in each direction; the
// kernel counts only network-protocol frames (PPPIOCGIDLE, whole seconds).
func (ks *kernelSession) lastData() (rx, tx time.Time) {
	if ks.unit < 0 {
		return time.Time{}, time.Time{}
	}
	var idle [2]int // struct ppp_idle: xmit_idle, recv_idle as C longs
	if err := ioctlPtr(ks.unit, unix.PPPIOCGIDLE, unsafe.Pointer(&idle)); err != nil {
		return time.Time{}, time.Time{}
	}
	now := ks.k.srv.clock
	return now.Add(-time.Duration(idle[1]) * time.Second), now.Add(-time.Duration(idle[0]) * time.Second)
}

// newUnit creates pppN (N = want, or any with want < 0) and connects the
// channel to it.
func (ks *kernelSession) newUnit(want int, mru int) error {
	n := int32(want)
	u, err := openPPPDev(unix.PPPIOCNEWUNIT, &n)
	if err != nil {
		return err
	}
	ks.unit, ks.unitN, ks.name = u, int(n), fmt.Sprintf("ppp%d", n)
	if err := ioctlInt32(ks.ch, unix.PPPIOCCONNECT, &n); err != nil {
		return os.NewSyscallError("PPPIOCCONNECT", err)
	}
	m := int32(mru)
	if err := ioctlInt32(u, unix.PPPIOCSMRU, &m); err != nil {
		return os.NewSyscallError("PPPIOCSMRU", err)
	}
	// A new unit passes every protocol. Once one NCP brings pppN up, what
	// the peer sends of the other's protocol before that NCP is open
	// would reach the kernel's stack (and be forwarded, from any source),
	// and the kernel's own (MLD reports) the peer; up and up6 let each
	// through.
	if err := ks.setNPMode(pppProtoIP, false); err != nil {
		return err
	}
	return ks.setNPMode(pppProtoIPv6, false)
}

// setNPMode lets a network protocol (pppProtoIP, pppProtoIPv6) through the
// unit, or drops it.
func (ks *kernelSession) setNPMode(proto int32, pass bool) error {
	np := npioctl{protocol: proto, mode: npmodeDrop}
	if pass {
		np.mode = npmodePass
	}
	if err := ioctlPtr(ks.unit, unix.PPPIOCSNPMODE, unsafe.Pointer(&np)); err != nil {
		return os.NewSyscallError("PPPIOCSNPMODE", err)
	}
	return nil
}

// configure gives pppN its addresses and MTU and brings it up.
func (ks *kernelSession) configure(local, peer netip.Addr, mtu int) error {
	ctl, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(ctl)
	d := &tunDevice{ctl: ctl, ifname: ks.name}
	if err := d.setAddr(local, peer); err != nil {
		return err
	}
	return d.up(mtu)
}

// close releases everything; the kernel then removes pppN and forgets the
// session. The poller stops reading the descriptors at once; a closer
// closes them (the unit first, so pppN goes, then the channel and the
// socket), or this does when the session never reached the path.
func (ks *kernelSession) close() error {
	fds := [3]int{ks.unit, ks.ch, ks.sock}
	ks.unit, ks.ch, ks.sock = -1, -1, -1
	if ks.k == nil {
		return closeFds(fds)
	}
	if ks.v6.up {
		// pppN's removal takes its addresses and routes.
		ks.k.poll.unwatch6(ks.v6.ifindex)
		ks.v6 = kernelSession6{}
	}
	ks.k.poll.forget(fds[0], fds[1])
	select {
	case ks.k.closeq <- fds:
	default: // the closers are a whole table behind: close here
		return closeFds(fds)
	}
	return nil
}

func closeFds(fds [3]int) error {
	var errs []error
	for _, fd := range fds {
		if fd >= 0 {
			errs = append(errs, unix.Close(fd))
		}
	}
	return errors.Join(errs...)
}

func ioctlInt32(fd int, req uint, v *int32) error {
	return ioctlPtr(fd, req, unsafe.Pointer(v))
}

func ioctlPtr(fd int, req uint, p unsafe.Pointer) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(p)); e != 0 {
		return e
	}
	return nil
}
