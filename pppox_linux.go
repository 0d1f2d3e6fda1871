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
// the channel fd and IPCP on the unit fd, and a reader goroutine per fd
// wraps each one in the Ethernet and PPPoE headers the session would have
// had on the wire and posts it to the loop, so the protocol engine is the
// same in both modes. IP never reaches userspace. Closing the fds ends the
// session in the kernel and removes pppN.
//
// ioctl numbers and struct layouts come from golang.org/x/sys per
// architecture; the one layout x/sys lacks (struct npioctl, two C ints) is
// spelled out below and checked under qemu-user on mips and mipsle.

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pppProtoIP is PPP_IP from linux/ppp_defs.h, for PPPIOCSNPMODE.
const (
	pppProtoIP  = 0x21
	npmodePass  = 0 // NPMODE_PASS
	npmodeDrop  = 1 // NPMODE_DROP
	devPPP      = "/dev/ppp"
	pxProtoOE   = 0 // PX_PROTO_OE
	sockaddrLen = 2 + 4 + 2 + ethAddrLen + unix.IFNAMSIZ
)

// npioctl is struct npioctl from linux/ppp-ioctl.h: two C ints, the same
// size on every Linux architecture.
type npioctl struct {
	protocol int32
	mode     int32
}

// kernelSession is one session's kernel objects. The loop owns it.
type kernelSession struct {
	sock  int      // the AF_PPPOX socket
	ch    *os.File // /dev/ppp attached to the channel
	unit  *os.File // /dev/ppp attached to the unit, once authenticated
	unitN int
	name  string // pppN
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
	ks := &kernelSession{sock: fd, unitN: -1}
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

// openPPPDev opens /dev/ppp and attaches it with req (PPPIOCATTCHAN or
// PPPIOCNEWUNIT) before handing it to the runtime poller. The order
// matters: ppp_poll registers no wait queue for a /dev/ppp fd that is
// attached to nothing yet, so an fd added to epoll before the ioctl would
// never report a frame. The fd stays non-blocking, and all later ioctls
// go through rawFd, because os.File.Fd would switch it to blocking mode.
func openPPPDev(req uint, arg *int32) (*os.File, error) {
	fd, err := unix.Open(devPPP, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("open "+devPPP, err)
	}
	if err := ioctlInt32(fd, req, arg); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError(pppIoctlName(req), err)
	}
	return os.NewFile(uintptr(fd), devPPP), nil
}

func pppIoctlName(req uint) string {
	if req == unix.PPPIOCATTCHAN {
		return "PPPIOCATTCHAN"
	}
	return "PPPIOCNEWUNIT"
}

// rawFd runs fn with f's descriptor without changing its blocking mode.
func rawFd(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
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
	if err := rawFd(ks.ch, func(fd int) error { return ioctlInt32(fd, unix.PPPIOCCONNECT, &n) }); err != nil {
		return os.NewSyscallError("PPPIOCCONNECT", err)
	}
	m := int32(mru)
	if err := rawFd(u, func(fd int) error { return ioctlInt32(fd, unix.PPPIOCSMRU, &m) }); err != nil {
		return os.NewSyscallError("PPPIOCSMRU", err)
	}
	return nil
}

// setNPMode lets IP through the unit, or drops it.
func (ks *kernelSession) setNPMode(pass bool) error {
	if ks.unit == nil {
		return nil
	}
	np := npioctl{protocol: pppProtoIP, mode: npmodeDrop}
	if pass {
		np.mode = npmodePass
	}
	if err := rawFd(ks.unit, func(fd int) error { return ioctlPtr(fd, unix.PPPIOCSNPMODE, unsafe.Pointer(&np)) }); err != nil {
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

// write sends a PPP frame (protocol and packet) on the channel.
func (ks *kernelSession) write(b []byte) error {
	_, err := ks.ch.Write(b)
	return err
}

// close releases everything; the kernel then removes pppN and forgets the
// session. Closing the files unblocks their readers.
func (ks *kernelSession) close() error {
	var errs []error
	if ks.unit != nil {
		errs = append(errs, ks.unit.Close())
	}
	if ks.ch != nil {
		errs = append(errs, ks.ch.Close())
	}
	if ks.sock >= 0 {
		errs = append(errs, unix.Close(ks.sock))
		ks.sock = -1
	}
	return errors.Join(errs...)
}

func ioctlInt32(fd int, req uint, v *int32) error {
	return ioctlPtr(fd, req, unsafe.Pointer(v))
}

func ioctlPtr(fd int, req uint, p unsafe.Pointer) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(p)); e != 0 {
		return syscall.Errno(e)
	}
	return nil
}
