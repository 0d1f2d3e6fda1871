// AF_PACKET sockets, one per interface and ethertype.
//
// packet.Listen sets the socket up; the read and write paths then go straight
// to read(2) and write(2) on the bound SOCK_RAW socket through the runtime
// poller, with closures built once, because packet.Conn's ReadFrom/WriteTo
// allocate on every frame. A packetLink has one reader goroutine and one
// writer (the loop); readFrame and writeFrame each keep their own state, so
// they may run concurrently with each other but not with themselves.

package main

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

const rcvBuf = 2 << 20

type packetLink struct {
	conn *packet.Conn
	rc   syscall.RawConn

	readFn func(fd uintptr) bool
	rbuf   []byte
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
	l := &packetLink{conn: c, rc: rc}
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
	})
	l.readFn = func(fd uintptr) bool {
		l.rn, l.rerr = unix.Read(int(fd), l.rbuf)
		return l.rerr != unix.EAGAIN
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

// readFrame reads one whole Ethernet frame into b. The caller keeps b.
func (l *packetLink) readFrame(b []byte) (int, error) {
	l.rbuf = b
	err := l.rc.Read(l.readFn)
	l.rbuf = nil
	if err != nil {
		return 0, err
	}
	if l.rerr != nil {
		return 0, l.rerr
	}
	return l.rn, nil
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

func (l *packetLink) close() error { return l.conn.Close() }

// setPromiscuous puts the interface in promiscuous mode while the socket
// is open (the kernel undoes it when the socket closes).
func (l *packetLink) setPromiscuous(on bool) error { return l.conn.SetPromiscuous(on) }
