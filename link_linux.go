// AF_PACKET sockets, one per interface and ethertype.
//
// packet.Listen sets the socket up; the read and write paths then go straight
// to recvmsg(2) and write(2) on the bound SOCK_RAW socket through the runtime
// poller, with closures built once, because packet.Conn's ReadFrom/WriteTo
// allocate on every frame (and so does unix.Recvmsg, for the source
// address). A packetLink has one reader goroutine and one writer (the loop);
// readFrame and writeFrame each keep their own state, so they may run
// concurrently with each other but not with themselves.
//
// VLAN tags: we serve an interface untagged, and a VLAN by running on its
// VLAN interface (-I eth0.10). The kernel moves an 802.1Q/802.1ad tag off
// the frame before a socket bound to 0x8863/0x8864 sees it, so a frame from
// another VLAN of a trunk port looks untagged in the buffer; readFrame drops
// it (errVLANTagged) by what recvmsg says about it, see vlanTagged.

package main

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

const (
	rcvBuf = 2 << 20

	// auxdataLen is the size of struct tpacket_auxdata.
	auxdataLen = int(unsafe.Sizeof(unix.TpacketAuxdata{}))
)

type packetLink struct {
	conn   *packet.Conn
	closed atomic.Bool // close was called: a read error is net.ErrClosed
	rc     syscall.RawConn
	mac    hwAddr // the interface's, for vlanTagged

	// The reader's recvmsg state, reused for every frame: msg points at
	// iov, from and oob, and iov at the caller's buffer during a read.
	readFn func(fd uintptr) bool
	msg    unix.Msghdr
	iov    unix.Iovec
	from   unix.RawSockaddrLinklayer
	oob    []byte // PACKET_AUXDATA; its own allocation, so cmsg-aligned
	rn     int
	rerr   error

	w *linkWriter // the owner's writer; other goroutines use newWriter
}

// linkWriter writes frames to a packetLink. Each writing goroutine has its
// own, because the closure's state is per call.
type linkWriter struct {
	rc      syscall.RawConn
	writeFn func(fd uintptr) bool
	wbuf    []byte
	werr    error
}

// openPacketLink opens a raw packet socket on ifi for one ethertype.
func openPacketLink(ifi *net.Interface, etherType uint16) (*packetLink, error) {
	c, err := packet.Listen(ifi, packet.Raw, int(etherType), nil)
	if err != nil {
		return nil, fmt.Errorf("open packet socket on %s for 0x%04x: %w", ifi.Name, etherType, err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	l := &packetLink{conn: c, rc: rc, oob: make([]byte, unix.CmsgSpace(auxdataLen))}
	copy(l.mac[:], ifi.HardwareAddr)
	l.msg.Name = (*byte)(unsafe.Pointer(&l.from))
	l.msg.Iov = &l.iov
	l.msg.SetIovlen(1)
	l.msg.Control = &l.oob[0]
	var auxErr error
	// Our own transmissions would otherwise be looped back to us
	// (packet(7), PACKET_IGNORE_OUTGOING, Linux 4.20+). Older kernels are
	// still safe: the loop drops frames whose source is our own address.
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
		// A burst of clients (a switch reboot brings them all back at
		// once) must not overflow the default ~200 KB queue while the
		// loop catches up. Memory is only used while frames wait.
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf)
		}
		// packet(7): the tag the kernel took off a frame, if it kept it.
		auxErr = unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_AUXDATA, 1)
	})
	if auxErr != nil {
		c.Close()
		return nil, fmt.Errorf("open packet socket on %s: %w", ifi.Name, os.NewSyscallError("setsockopt PACKET_AUXDATA", auxErr))
	}
	l.readFn = func(fd uintptr) bool {
		// unix.Recvmsg would allocate a Sockaddr per frame; the raw
		// call fills l.from and l.oob in place.
		l.msg.Namelen = unix.SizeofSockaddrLinklayer
		l.msg.SetControllen(len(l.oob))
		l.msg.Flags = 0
		n, _, errno := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&l.msg)), 0)
		if errno != 0 {
			l.rn, l.rerr = 0, errno
			return errno != unix.EAGAIN
		}
		l.rn, l.rerr = int(n), nil
		return true
	}
	l.w = l.newWriter().(*linkWriter)
	return l, nil
}

func (l *packetLink) newWriter() frameWriter {
	w := &linkWriter{rc: l.rc}
	w.writeFn = func(fd uintptr) bool {
		_, w.werr = unix.Write(int(fd), w.wbuf)
		return w.werr != unix.EAGAIN
	}
	return w
}

// readFrame reads one whole Ethernet frame into b. The caller keeps b. It
// returns errVLANTagged, and the frame is to be dropped, if the frame came
// with a VLAN tag.
func (l *packetLink) readFrame(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errShortFrame
	}
	l.iov.Base = &b[0]
	l.iov.SetLen(len(b))
	err := l.rc.Read(l.readFn)
	l.iov.Base = nil
	if err != nil {
		if l.closed.Load() {
			// What SyscallConn's Read returns for a closed socket
			// matches neither net.ErrClosed nor os.ErrClosed.
			return 0, net.ErrClosed
		}
		return 0, err
	}
	if l.rerr != nil {
		return 0, os.NewSyscallError("recvmsg", l.rerr)
	}
	n := min(l.rn, len(b))
	if vlanTagged(l.from.Pkttype, b[:n], l.mac, l.oob[:l.msg.Controllen]) {
		return 0, errVLANTagged
	}
	return n, nil
}

// vlanTagged reports whether a frame, b, came with a VLAN tag other than a
// priority tag (VLAN ID 0, which IEEE 802.1Q counts as untagged, and which
// the kernel delivers as untagged too). pkttype is sll_pkttype, mac the
// interface's address, oob the control messages recvmsg returned.
//
// The kernel takes the tag off in __netif_receive_skb_core and, when no
// VLAN interface claims the frame, clears it before the protocol handlers
// (our 0x8863/0x8864 sockets) run, marking the frame PACKET_OTHERHOST
// instead. TestIntegrationVLANTagged saw exactly that here (Linux 6.18,
// veth, no 8021q module): no TP_STATUS_VLAN_VALID in the aux data, and
// PACKET_OTHERHOST on a broadcast PADI tagged VLAN 10. Only an ETH_P_ALL
// socket, which runs before the tag is cleared, sees it in the aux data.
// So a group-addressed frame or one to our own address that is still
// PACKET_OTHERHOST was tagged; a unicast frame for another host (in
// promiscuous mode) is left to the NotForUs checks. The aux data's tag
// is checked too, for a kernel that keeps it. A frame with the tag still
// in it (ethertype 0x8100 or 0x88a8) never reaches a socket bound to a
// PPPoE ethertype.
func vlanTagged(pkttype uint8, b []byte, mac hwAddr, oob []byte) bool {
	if pkttype == unix.PACKET_OTHERHOST && len(b) >= ethAddrLen &&
		(b[0]&1 != 0 || hwAddr(b[:ethAddrLen]) == mac) {
		return true
	}
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return false
		}
		if h.Level == unix.SOL_PACKET && h.Type == unix.PACKET_AUXDATA && len(data) >= auxdataLen {
			// struct tpacket_auxdata: tp_status at 0, tp_vlan_tci at 16.
			status := binary.NativeEndian.Uint32(data[0:])
			tci := binary.NativeEndian.Uint16(data[16:])
			return status&unix.TP_STATUS_VLAN_VALID != 0 && tci&vlanIDMask != 0
		}
		oob = rest
	}
	return false
}

// writeFrame sends one whole Ethernet frame with the owner's writer. The
// caller keeps b.
func (l *packetLink) writeFrame(b []byte) error { return l.w.writeFrame(b) }

func (w *linkWriter) writeFrame(b []byte) error {
	w.wbuf = b
	err := w.rc.Write(w.writeFn)
	w.wbuf = nil
	if err != nil {
		return err
	}
	if w.werr != nil {
		return os.NewSyscallError("write", w.werr)
	}
	return nil
}

func (l *packetLink) close() error {
	l.closed.Store(true)
	return l.conn.Close()
}

// setPromiscuous puts the interface in promiscuous mode while the socket
// is open (the kernel undoes it when the socket closes).
func (l *packetLink) setPromiscuous(on bool) error { return l.conn.SetPromiscuous(on) }

// kernelDrops returns how many frames the kernel dropped for want of room
// in the socket's receive buffer since the last call (PACKET_STATISTICS,
// which resets as it is read).
func (l *packetLink) kernelDrops() (uint64, error) {
	var st *unix.TpacketStats
	var gerr error
	if err := l.rc.Control(func(fd uintptr) {
		st, gerr = unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
	}); err != nil {
		return 0, err
	}
	if gerr != nil {
		return 0, os.NewSyscallError("getsockopt PACKET_STATISTICS", gerr)
	}
	return uint64(st.Drops), nil
}

// Batched sending. The loop answers a burst of received frames with a
// burst of its own (PADOs, PADSes, LCP, authentication, IPCP); one write(2)
// each was most of its time under load. A batchWriter copies each frame
// into an arena and sends what it holds with one sendmmsg(2) when the loop
// flushes, which it does once per batch of received frames, or earlier
// when the arena is full. The loop owns it; the socket may have other
// writers (packetLink.newWriter) at the same time.
const (
	txBatchFrames = 64
	txBatchBytes  = 32 << 10
)

var errBatchFrame = errors.New("pppoe: empty frame, or larger than the send batch")

type batchWriter struct {
	rc     syscall.RawConn
	arena  []byte
	used   int
	n      int
	iov    [txBatchFrames]unix.Iovec
	msgs   [txBatchFrames]unix.Mmsghdr
	off    int // the first message sendFn sends
	sent   int
	errno  unix.Errno
	sendFn func(fd uintptr) bool
	// What sends that made room in writeFrame failed, reported by the
	// next flush.
	failed int
	err    error
}

// newBatchWriter returns a batching writer on l's socket.
func (l *packetLink) newBatchWriter() frameFlusher {
	w := &batchWriter{rc: l.rc, arena: make([]byte, txBatchBytes)}
	for i := range w.msgs {
		w.msgs[i].Hdr.Iov = &w.iov[i]
		w.msgs[i].Hdr.SetIovlen(1)
	}
	w.sendFn = func(fd uintptr) bool {
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.msgs[w.off])), uintptr(w.n-w.off), 0, 0, 0)
		if errno == unix.EAGAIN {
			return false
		}
		w.sent, w.errno = int(r), errno
		return true
	}
	return w
}

// writeFrame queues a copy of b; the caller keeps b. It fails only for a
// frame it cannot queue; sends that fail are the next flush's to report.
func (w *batchWriter) writeFrame(b []byte) error {
	if len(b) == 0 || len(b) > len(w.arena) {
		return errBatchFrame
	}
	if w.n == txBatchFrames || w.used+len(b) > len(w.arena) {
		failed, err := w.send()
		w.failed += failed
		w.err = cmp.Or(w.err, err)
	}
	copy(w.arena[w.used:], b)
	w.iov[w.n].Base = &w.arena[w.used]
	w.iov[w.n].SetLen(len(b))
	w.used += len(b)
	w.n++
	return nil
}

// flush sends the queued frames. A frame the kernel refuses is skipped and
// counted in failed, and the first such error returned; the rest are sent.
// The count includes what failed while writeFrame made room.
func (w *batchWriter) flush() (failed int, err error) {
	failed, err = w.send()
	failed, err = failed+w.failed, cmp.Or(w.err, err)
	w.failed, w.err = 0, nil
	return failed, err
}

func (w *batchWriter) send() (failed int, err error) {
	for w.off = 0; w.off < w.n; {
		if rerr := w.rc.Write(w.sendFn); rerr != nil {
			failed += w.n - w.off
			err = cmp.Or(err, rerr)
			break
		}
		if w.errno != 0 {
			// sendmmsg reports the first message's error only
			// when it sent none.
			failed++
			err = cmp.Or(err, error(os.NewSyscallError("sendmmsg", w.errno)))
			w.off++
			continue
		}
		w.off += w.sent
	}
	w.n, w.used, w.off = 0, 0, 0
	return failed, err
}
