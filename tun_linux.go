// The TUN device of the userspace data path.
//
// openTUN binds /dev/net/tun to an interface with TUNSETIFF (IFF_TUN|IFF_NO_PI:
// every read and write is exactly one IP packet with no header in front), and
// hands the non-blocking fd to the runtime poller through os.NewFile, so reads
// park the goroutine instead of a thread and close wakes a pending read with
// os.ErrClosed. One goroutine reads (TUN→link) and one writes (link→TUN);
// os.File holds separate read and write locks, so the two may run at once.
//
// The interface is configured through ioctls on an AF_INET socket opened
// together with the device. Keeping that socket means setAddr acts in the
// network namespace the device was created in, whatever thread calls it.
// openTUN, setAddr and close belong to the loop; only readPacket and
// writePacket run on the data-path goroutines.

package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

type tunDevice struct {
	file   *os.File
	ctl    int // AF_INET datagram socket for interface ioctls
	ifname string
}

// openTUN creates the TUN interface name, or attaches to an existing
// persistent one (ip tuntap add ... mode tun), sets its MTU and brings it up.
// An empty name or one with %d lets the kernel pick; name() reports it.
func openTUN(name string, mtu int) (*tunDevice, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return nil, fmt.Errorf("open tun %q: %w", name, err)
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open tun %q: %w", name, os.NewSyscallError("open /dev/net/tun", err))
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open tun %q: %w", name, os.NewSyscallError("TUNSETIFF", err))
	}
	name = ifr.Name()
	// os.NewFile registers the fd with the poller only if it is already
	// non-blocking.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open tun %s: %w", name, os.NewSyscallError("setnonblock", err))
	}
	t := &tunDevice{file: os.NewFile(uintptr(fd), name), ctl: -1, ifname: name}
	if t.ctl, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
		t.file.Close()
		return nil, fmt.Errorf("open tun %s: %w", name, os.NewSyscallError("socket", err))
	}
	if err := t.up(mtu); err != nil {
		t.close()
		return nil, fmt.Errorf("open tun %s: %w", name, err)
	}
	return t, nil
}

func (t *tunDevice) up(mtu int) error {
	ifr, err := unix.NewIfreq(t.ifname)
	if err != nil {
		return err
	}
	ifr.SetUint32(uint32(mtu))
	if err := unix.IoctlIfreq(t.ctl, unix.SIOCSIFMTU, ifr); err != nil {
		return os.NewSyscallError("SIOCSIFMTU", err)
	}
	if err := unix.IoctlIfreq(t.ctl, unix.SIOCGIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("SIOCGIFFLAGS", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(t.ctl, unix.SIOCSIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("SIOCSIFFLAGS", err)
	}
	return nil
}

func (t *tunDevice) name() string { return t.ifname }

// readPacket reads one IP packet into b and returns its length; a packet
// longer than b is truncated. It does not allocate. The caller keeps b; the
// data path passes a pooled frame past the room it needs for the Ethernet,
// PPPoE and PPP headers, and fills those in place.
func (t *tunDevice) readPacket(b []byte) (int, error) { return t.file.Read(b) }

// writePacket writes the IP packet b. It does not allocate. The caller keeps b.
func (t *tunDevice) writePacket(b []byte) error {
	_, err := t.file.Write(b)
	return err
}

// close unblocks a pending readPacket and removes the interface, unless it
// is persistent.
func (t *tunDevice) close() error {
	err := t.file.Close()
	if t.ctl >= 0 {
		err = errors.Join(err, unix.Close(t.ctl))
		t.ctl = -1
	}
	return err
}

// setAddr gives the interface local/32 and, when peer is valid, makes it a
// point-to-point link to peer, as pppd does for a ppp interface
// ("inet local peer peer/32"). An invalid peer clears an earlier one.
func (t *tunDevice) setAddr(local, peer netip.Addr) error {
	if !local.Is4() || (peer.IsValid() && !peer.Is4()) {
		return fmt.Errorf("set address of %s: %v peer %v: not IPv4", t.ifname, local, peer)
	}
	if !peer.IsValid() {
		// A TUN is IFF_POINTOPOINT, so the kernel keeps the "peer" in
		// ifa_address; setting it to the local address removes the peer.
		peer = local
	}
	ifr, err := unix.NewIfreq(t.ifname)
	if err != nil {
		return err
	}
	for _, op := range []struct {
		req  uint
		name string
		addr [4]byte
	}{
		{unix.SIOCSIFADDR, "SIOCSIFADDR", local.As4()},
		{unix.SIOCSIFNETMASK, "SIOCSIFNETMASK", [4]byte{255, 255, 255, 255}},
		{unix.SIOCSIFDSTADDR, "SIOCSIFDSTADDR", peer.As4()},
	} {
		if err := ifr.SetInet4Addr(op.addr[:]); err != nil {
			return err
		}
		if err := unix.IoctlIfreq(t.ctl, op.req, ifr); err != nil {
			return fmt.Errorf("set address of %s to %v peer %v: %w", t.ifname, local, peer, os.NewSyscallError(op.name, err))
		}
	}
	return nil
}

// addAddr6 adds an IPv6 address to the device (SIOCSIFADDR on an AF_INET6
// socket, as ifconfig does).
func (t *tunDevice) addAddr6(a netip.Addr, bits int) error {
	if !a.Is6() {
		return fmt.Errorf("add address to %s: %v is not IPv6", t.ifname, a)
	}
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("add address to %s: %w", t.ifname, os.NewSyscallError("socket", err))
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(t.ifname)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return fmt.Errorf("add address to %s: %w", t.ifname, os.NewSyscallError("SIOCGIFINDEX", err))
	}
	// struct in6_ifreq: the address, the prefix length, the ifindex.
	var req struct {
		addr    [16]byte
		bits    uint32
		ifindex int32
	}
	req.addr, req.bits, req.ifindex = a.As16(), uint32(bits), int32(ifr.Uint32())
	if err := ioctlPtr(fd, unix.SIOCSIFADDR, unsafe.Pointer(&req)); err != nil {
		return fmt.Errorf("add address %v/%d to %s: %w", a, bits, t.ifname, os.NewSyscallError("SIOCSIFADDR", err))
	}
	return nil
}
