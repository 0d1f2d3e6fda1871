package main

// Root-only tests of kernel mode's IPv6 control socket, which need no PPP:
// its filter and reads, on a TUN in a namespace of the test's own (a TUN is
// ARPHRD_NONE, so the filter is built for that device type here).

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// ipv6Packet is an IPv6 header from src to dst with next header nh and
// hop limit 255, then payload.
func ipv6Packet(src, dst string, nh uint8, payload ...byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6], b[7] = nh, 255
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

// udp6 is a UDP header from port sp to dp (no checksum: the socket under
// test never looks) and body.
func udp6(sp, dp uint16, body ...byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sp)
	b = binary.BigEndian.AppendUint16(b, dp)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(body)))
	b = append(b, 0, 0)
	return append(b, body...)
}

func TestIPv6ControlSocket(t *testing.T) {
	n := newTunNetns(t)
	tun := n.open(1492)
	const peer, local = "fe80::2", "fe80::1"
	rs := ipv6Packet(peer, "ff02::2", 58, 133, 0, 0, 0, 0, 0, 0, 0)
	solicit := ipv6Packet(peer, "ff02::1:2", 17, udp6(546, 547, 1, 0xab, 0xcd, 0xef)...)
	tests := []struct {
		name string
		pkt  []byte
		keep bool
	}{
		{"router solicitation", rs, true},
		{"DHCPv6 solicit", solicit, true},
		{"DHCPv6 unicast", ipv6Packet(peer, local, 17, udp6(546, 547, 5)...), true},
		{"echo request", ipv6Packet(peer, local, 58, 128, 0, 0, 0, 0, 1, 0, 1), false},
		{"neighbor solicitation", ipv6Packet(peer, local, 58, append([]byte{135, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 16)...)...), false},
		{"router advertisement", ipv6Packet(peer, "ff02::1", 58, 134, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), false},
		{"DHCPv6 reply to a client", ipv6Packet(peer, local, 17, udp6(547, 546, 7)...), false},
		{"DNS", ipv6Packet(peer, "2001:db8::53", 17, udp6(1053, 53, 0)...), false},
		{"TCP to 547", ipv6Packet(peer, local, 6, udp6(546, 547)...), false},
		{"RS behind hop-by-hop options", ipv6Packet(peer, "ff02::2", 0, 58, 0, 1, 4, 0, 0, 0, 0, 133, 0, 0, 0, 0, 0, 0, 0), false},
		{"truncated RS", ipv6Packet(peer, "ff02::2", 58), false},
		{"RS with a hop limit below 255", func() []byte { b := bytes.Clone(rs); b[7] = 64; return b }(), false},
		{"DHCPv6 to a global address (transit)", ipv6Packet("2001:db8:100::2", "2001:db8:ffff::547", 17, udp6(546, 547, 1)...), false},
	}

	var fd, pppFD int
	var ifindex int32
	n.do(func() (err error) {
		if fd, err = openIPv6Control(unix.ARPHRD_NONE); err != nil {
			return err
		}
		if pppFD, err = openIPv6Control(unix.ARPHRD_PPP); err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(n.ifname)
		if err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
			return err
		}
		ifindex = int32(ifr.Uint32())
		return nil
	})
	t.Cleanup(func() { unix.Close(fd); unix.Close(pppFD) })

	// A packet that passes sits in the socket as soon as the write
	// returns (a TUN write is received synchronously), so every read
	// here may be non-blocking.
	buf := make([]byte, 1500)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tun.writePacket(tt.pkt); err != nil {
				t.Fatal(err)
			}
			got, idx, err := recvIPv6Control(fd, buf)
			switch {
			case !tt.keep && err == nil:
				t.Errorf("read %d bytes from interface %d, want nothing", got, idx)
			case !tt.keep:
				if err != unix.EAGAIN {
					t.Errorf("recvfrom: %v, want EAGAIN", err)
				}
			case err != nil:
				t.Errorf("recvfrom: %v, want the packet", err)
			case idx != ifindex || string(buf[:got]) != string(tt.pkt):
				t.Errorf("read from interface %d (want %d):\n%s", idx, ifindex, hexDiff(tt.pkt, buf[:got]))
			}
			if got, _, err := recvIPv6Control(pppFD, buf); err != unix.EAGAIN {
				t.Errorf("the ARPHRD_PPP socket read %d bytes (err %v) from a TUN", got, err)
			}
		})
	}

	t.Run("too long for the buffer", func(t *testing.T) {
		tun.writePacket(solicit)
		got, _, err := recvIPv6Control(fd, buf[:len(solicit)-1])
		if err != nil || got != len(solicit) {
			t.Errorf("recvIPv6Control into %d bytes = %d, %v; want %d, nil", len(solicit)-1, got, err, len(solicit))
		}
	})

	if !raceEnabled {
		allocs := testing.AllocsPerRun(100, func() {
			tun.writePacket(rs)
			recvIPv6Control(fd, buf)
		})
		if allocs != 0 {
			t.Errorf("write and recvIPv6Control: %v allocs, want 0", allocs)
		}
	}
}
