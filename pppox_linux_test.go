package main

import (
	"runtime"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bigEndian says which of our target architectures store integers
// big-endian, independently of encoding/binary.NativeEndian.
func bigEndian() bool {
	switch runtime.GOARCH {
	case "mips", "mips64", "ppc64", "s390x", "sparc64":
		return true
	}
	return false
}

// TestPerArchSockaddrPPPoX checks the bytes of the sockaddr_pppox we pass
// to connect(2). Run under qemu-mips and qemu-mipsel by make test.
func TestPerArchSockaddrPPPoX(t *testing.T) {
	sa, err := pppoxSockaddr(0x1234, hwAddr{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	if len(sa) != unix.SizeofSockaddrPPPoX {
		t.Fatalf("sockaddr is %d bytes, x/sys says sockaddr_pppox is %d", len(sa), unix.SizeofSockaddrPPPoX)
	}
	want := [unix.SizeofSockaddrPPPoX]byte{
		0x18, 0x00, // sa_family AF_PPPOX, host order
		0, 0, 0, 0, // sa_protocol PX_PROTO_OE, host order
		0x12, 0x34, // sid, network order
		0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, // remote
		'e', 't', 'h', '0', // dev, NUL-padded
	}
	if bigEndian() {
		want[0], want[1] = 0x00, 0x18
	}
	if sa != want {
		t.Fatalf("%s: sockaddr_pppox\n got %x\nwant %x", runtime.GOARCH, sa, want)
	}
	if _, err := pppoxSockaddr(1, hwAddr{}, "a-name-that-is-too-long"); err == nil {
		t.Error("accepted a device name longer than IFNAMSIZ-1")
	}
}

// TestPerArchPPPIoctls recomputes the ioctl numbers from linux/ppp-ioctl.h
// with each architecture's _IOC encoding and compares them with the
// x/sys constants we use, and checks struct npioctl's size.
func TestPerArchPPPIoctls(t *testing.T) {
	// asm-generic/ioctl.h, and arch/mips/include/uapi/asm/ioctl.h.
	none, read, write, dirShift, sizeBits := uint(0), uint(2), uint(1), uint(30), uint(14)
	switch runtime.GOARCH {
	case "mips", "mipsle", "mips64", "mips64le", "ppc64", "ppc64le":
		none, read, write, dirShift, sizeBits = 1, 2, 4, 29, 13
	}
	_ = none
	ioc := func(dir, nr, size uint) uint {
		if size >= 1<<sizeBits {
			t.Fatalf("size %d does not fit", size)
		}
		return dir<<dirShift | size<<16 | 't'<<8 | nr
	}
	const intSize = 4
	for _, tt := range []struct {
		name string
		got  uint
		want uint
	}{
		{"PPPIOCGCHAN", unix.PPPIOCGCHAN, ioc(read, 55, intSize)},
		{"PPPIOCATTCHAN", unix.PPPIOCATTCHAN, ioc(write, 56, intSize)},
		{"PPPIOCCONNECT", unix.PPPIOCCONNECT, ioc(write, 58, intSize)},
		{"PPPIOCNEWUNIT", unix.PPPIOCNEWUNIT, ioc(read|write, 62, intSize)},
		{"PPPIOCSMRU", unix.PPPIOCSMRU, ioc(write, 82, intSize)},
		{"PPPIOCSNPMODE", unix.PPPIOCSNPMODE, ioc(write, 75, uint(unsafe.Sizeof(npioctl{})))},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %s = %#x, want %#x", runtime.GOARCH, tt.name, tt.got, tt.want)
		}
	}
	if unsafe.Sizeof(npioctl{}) != 8 {
		t.Errorf("struct npioctl is %d bytes, want 8", unsafe.Sizeof(npioctl{}))
	}
}
