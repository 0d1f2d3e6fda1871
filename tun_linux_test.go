package main

// Root-only tests of the TUN device and the rtnetlink routes. Each test makes
// its own network namespace and removes it in t.Cleanup; the TUN lives in
// it, and the only traffic is between the test and that namespace's kernel.

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	tunLocal = netip.MustParseAddr("10.99.0.1")
	tunPeer  = netip.MustParseAddr("10.99.0.2")
)

// tunNetns is a namespace of the test's own, with a unique TUN name for it.
type tunNetns struct {
	t      *testing.T
	ns     string
	ifname string
}

func newTunNetns(t *testing.T) *tunNetns {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: unit tests only")
	}
	if os.Geteuid() != 0 {
		skipf(t, "TUN tests need root")
	}
	requireTool(t, "ip")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		skipf(t, "no TUN support: %v", err)
	}
	var b [3]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	n := &tunNetns{t: t, ns: "pppoed-tun-" + id, ifname: "pdtun" + id}
	if out, err := exec.Command("ip", "netns", "add", n.ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", n.ns, err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.ns).Run() })
	n.ip("link", "set", "lo", "up")
	// No IPv6 on the TUN: its link-local chatter would be read back
	// between our echo replies.
	n.do(func() error {
		os.WriteFile("/proc/sys/net/ipv6/conf/default/disable_ipv6", []byte("1"), 0)
		return nil
	})
	return n
}

// do runs fn on a thread inside the namespace and fails the test if fn
// fails. fn must not call t.Fatal: it runs on another goroutine.
func (n *tunNetns) do(fn func() error) {
	n.t.Helper()
	var err error
	inNetns(n.t, n.ns, func() { err = fn() })
	if err != nil {
		n.t.Fatal(err)
	}
}

// ip runs ip -n NS args and returns its output.
func (n *tunNetns) ip(args ...string) string {
	n.t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", n.ns}, args...)...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("ip -n %s %s: %v\n%s", n.ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// open opens the namespace's TUN and closes it in t.Cleanup.
func (n *tunNetns) open(mtu int) *tunDevice {
	n.t.Helper()
	var tun *tunDevice
	n.do(func() (err error) { tun, err = openTUN(n.ifname, mtu); return err })
	n.t.Cleanup(func() { tun.close() })
	return tun
}

func TestTUNOpen(t *testing.T) {
	n := newTunNetns(t)
	tun := n.open(1400)
	if tun.name() != n.ifname {
		t.Errorf("name() = %q, want %q", tun.name(), n.ifname)
	}
	var ifi *net.Interface
	n.do(func() (err error) { ifi, err = net.InterfaceByName(n.ifname); return err })
	if ifi.MTU != 1400 || ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagPointToPoint == 0 {
		t.Errorf("%s: mtu %d flags %v, want mtu 1400, up, pointtopoint", ifi.Name, ifi.MTU, ifi.Flags)
	}
	if out := n.ip("-o", "link", "show", "dev", n.ifname); !strings.Contains(out, "mtu 1400") || !strings.Contains(out, "UP") {
		t.Errorf("ip link show: %s", out)
	}
	// The device is not persistent: it goes away with its fd.
	tun.close()
	n.do(func() error {
		if _, err := net.InterfaceByName(n.ifname); err == nil {
			return errors.New(n.ifname + " still exists after close")
		}
		return nil
	})
}

func TestTUNAttachPersistent(t *testing.T) {
	n := newTunNetns(t)
	n.ip("tuntap", "add", "dev", n.ifname, "mode", "tun")
	tun := n.open(1280)
	if out := n.ip("-o", "link", "show", "dev", n.ifname); !strings.Contains(out, "mtu 1280") || !strings.Contains(out, ",UP") {
		t.Errorf("ip link show: %s", out)
	}
	tun.close()
	if out := n.ip("-o", "link", "show", "dev", n.ifname); !strings.Contains(out, n.ifname) {
		t.Errorf("persistent %s is gone after close: %s", n.ifname, out)
	}
}

func TestTUNOpenErrors(t *testing.T) {
	n := newTunNetns(t)
	n.open(1500)
	n.do(func() error {
		if tun, err := openTUN(n.ifname, 1500); err == nil || !errors.Is(err, unix.EBUSY) {
			if tun != nil {
				tun.close()
			}
			return errors.New("second openTUN of a busy device: want EBUSY, got " + errString(err))
		}
		if _, err := openTUN("a-name-longer-than-ifnamsiz", 1500); err == nil {
			return errors.New("openTUN accepted a 27-byte name")
		}
		return nil
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestTUNSetAddr(t *testing.T) {
	n := newTunNetns(t)
	tun := n.open(1492)
	show := func() string { return n.ip("-4", "-o", "addr", "show", "dev", n.ifname) }

	if err := tun.setAddr(tunLocal, tunPeer); err != nil {
		t.Fatal(err)
	}
	if out := show(); !strings.Contains(out, "inet 10.99.0.1 peer 10.99.0.2/32") {
		t.Errorf("after setAddr(local, peer):\n%s", out)
	}
	if out := n.ip("-4", "route", "show", "dev", n.ifname); !strings.Contains(out, "10.99.0.2 proto kernel scope link src 10.99.0.1") {
		t.Errorf("no kernel route to the peer:\n%s", out)
	}
	// Idempotent, and a new peer replaces the old one.
	if err := tun.setAddr(tunLocal, tunPeer); err != nil {
		t.Fatal(err)
	}
	if err := tun.setAddr(tunLocal, netip.MustParseAddr("10.99.0.3")); err != nil {
		t.Fatal(err)
	}
	if out := show(); strings.Count(out, "inet ") != 1 || !strings.Contains(out, "inet 10.99.0.1 peer 10.99.0.3/32") {
		t.Errorf("after a new peer:\n%s", out)
	}
	if err := tun.setAddr(tunLocal, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if out := show(); strings.Count(out, "inet ") != 1 || !strings.Contains(out, "inet 10.99.0.1/32") || strings.Contains(out, "peer") {
		t.Errorf("after clearing the peer:\n%s", out)
	}
	if err := tun.setAddr(netip.MustParseAddr("::1"), netip.Addr{}); err == nil {
		t.Error("setAddr accepted an IPv6 address")
	}
}

func TestRouteAddDel(t *testing.T) {
	n := newTunNetns(t)
	tun := n.open(1492)
	if err := tun.setAddr(tunLocal, tunPeer); err != nil {
		t.Fatal(err)
	}
	n.ip("tuntap", "add", "dev", n.ifname+"d", "mode", "tun") // stays down
	routes := func() string { return n.ip("-4", "route", "show") }
	pool := netip.MustParsePrefix("10.98.0.0/24")

	n.do(func() error { return addRoute(n.ifname, pool) })
	if out := routes(); !strings.Contains(out, "10.98.0.0/24 dev "+n.ifname+" scope link") {
		t.Errorf("after addRoute:\n%s", out)
	}
	// NLM_F_REPLACE: adding it again is not an error.
	n.do(func() error { return addRoute(n.ifname, pool) })
	if out := routes(); strings.Count(out, "10.98.0.0/24") != 1 {
		t.Errorf("after a second addRoute:\n%s", out)
	}
	n.do(func() error { return delRoute(n.ifname, pool) })
	if out := routes(); strings.Contains(out, "10.98.0.0") {
		t.Errorf("after delRoute:\n%s", out)
	}
	n.do(func() error {
		if err := delRoute(n.ifname, pool); !errors.Is(err, unix.ESRCH) {
			return errors.New("delRoute of a missing route: want ESRCH, got " + errString(err))
		}
		if err := addRoute("pdnosuchdev", pool); !errors.Is(err, unix.ENODEV) {
			return errors.New("addRoute on a missing device: want ENODEV, got " + errString(err))
		}
		// The kernel adds an extended-ACK reason here; only the errno is
		// stable across kernel versions.
		if err := addRoute(n.ifname+"d", pool); !errors.Is(err, unix.ENETDOWN) {
			return errors.New("addRoute on a down device: want ENETDOWN, got " + errString(err))
		}
		if err := addRoute(n.ifname, netip.MustParsePrefix("2001:db8::/64")); err == nil {
			return errors.New("addRoute accepted an IPv6 prefix")
		}
		return nil
	})

	// An unmasked prefix is masked, as ip route add would refuse it.
	n.do(func() error { return addRoute(n.ifname, netip.MustParsePrefix("10.97.1.77/16")) })
	if out := routes(); !strings.Contains(out, "10.97.0.0/16 dev "+n.ifname) {
		t.Errorf("after addRoute of 10.97.1.77/16:\n%s", out)
	}

	// The seed pool, 10.0.0.2 x 64, in six routes.
	var addrs []netip.Addr
	for a, i := netip.MustParseAddr("10.0.0.2"), 0; i < 64; a, i = a.Next(), i+1 {
		addrs = append(addrs, a)
	}
	prefixes := coveringPrefixes(addrs)
	n.do(func() error {
		for _, p := range prefixes {
			if err := addRoute(n.ifname, p); err != nil {
				return err
			}
		}
		return nil
	})
	out := routes()
	for _, p := range prefixes {
		if !strings.Contains(out, p.String()+" dev "+n.ifname) && !(p.Bits() == 32 && strings.Contains(out, p.Addr().String()+" dev "+n.ifname)) {
			t.Errorf("route to %v missing:\n%s", p, out)
		}
	}
	n.do(func() error {
		for _, p := range prefixes {
			if err := delRoute(n.ifname, p); err != nil {
				return err
			}
		}
		return nil
	})
	if out := routes(); strings.Contains(out, "10.0.0.") {
		t.Errorf("pool routes left after delRoute:\n%s", out)
	}
}

func TestRouteDefault(t *testing.T) {
	n := newTunNetns(t)
	n.open(1492)
	n.do(func() error { return addDefaultRoute(n.ifname) })
	if out := n.ip("-4", "route", "show", "default"); !strings.Contains(out, "default dev "+n.ifname+" scope link") {
		t.Errorf("after addDefaultRoute:\n%s", out)
	}
	n.do(func() error {
		if err := addDefaultRoute(n.ifname); !errors.Is(err, unix.EEXIST) {
			return errors.New("second addDefaultRoute: want EEXIST, got " + errString(err))
		}
		return delRoute(n.ifname, netip.MustParsePrefix("0.0.0.0/0"))
	})
	if out := n.ip("-4", "route", "show", "default"); out != "" {
		t.Errorf("after delRoute 0.0.0.0/0:\n%s", out)
	}
}

// TestAddr6AddDel gives a TUN the link-local pair a kernel-mode session's
// pppN gets, routes a delegated prefix via the peer and a /64 to the
// device, and takes them away again.
func TestAddr6AddDel(t *testing.T) {
	n := newTunNetns(t)
	n.open(1492)
	// No link-local address of the kernel's (addr_gen_mode 1): a pppN
	// gets none either.
	n.do(func() error {
		if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+n.ifname+"/addr_gen_mode", []byte("1"), 0); err != nil {
			return err
		}
		return os.WriteFile("/proc/sys/net/ipv6/conf/"+n.ifname+"/disable_ipv6", []byte("0"), 0)
	})
	local, peer := netip.MustParseAddr("fe80::1:2:3:4"), netip.MustParseAddr("fe80::5:6:7:8")
	pd := netip.MustParsePrefix("2001:db8:200:100::/56")
	n.do(func() error { return addAddr6(n.ifname, local, peer) })
	// NLM_F_REPLACE: adding it again is not an error.
	n.do(func() error { return addAddr6(n.ifname, local, peer) })
	out := n.ip("-6", "addr", "show", "dev", n.ifname)
	if !strings.Contains(out, "inet6 fe80::1:2:3:4 peer fe80::5:6:7:8/128 scope link") || strings.Count(out, "inet6") != 1 {
		t.Errorf("after addAddr6:\n%s", out)
	}
	if out := n.ip("-6", "route", "show", "dev", n.ifname); !strings.Contains(out, "fe80::5:6:7:8 proto kernel") {
		t.Errorf("no route to the peer after addAddr6:\n%s", out)
	}
	n.do(func() error { return addRouteVia(n.ifname, pd, peer) })
	if out := n.ip("-6", "route", "show", "dev", n.ifname); !strings.Contains(out, "2001:db8:200:100::/56 via fe80::5:6:7:8 metric") {
		t.Errorf("after addRouteVia:\n%s", out)
	}
	n.do(func() error { return addRoute(n.ifname, netip.MustParsePrefix("2001:db8:100:7::/64")) })
	if out := n.ip("-6", "route", "show", "dev", n.ifname); !strings.Contains(out, "2001:db8:100:7::/64 metric") {
		t.Errorf("after addRoute:\n%s", out)
	}
	n.do(func() error {
		if err := delRoute(n.ifname, pd); err != nil {
			return err
		}
		return delAddr6(n.ifname, local, peer)
	})
	if out := n.ip("-6", "addr", "show", "dev", n.ifname); strings.Contains(out, "inet6") {
		t.Errorf("after delAddr6:\n%s", out)
	}
	if out := n.ip("-6", "route", "show", "dev", n.ifname); strings.Contains(out, "fe80::5:6:7:8") || strings.Contains(out, "2001:db8:200") {
		t.Errorf("routes left after delRoute and delAddr6:\n%s", out)
	}
	n.do(func() error {
		if err := delAddr6(n.ifname, local, peer); !errors.Is(err, unix.EADDRNOTAVAIL) {
			return errors.New("delAddr6 of a missing address: want EADDRNOTAVAIL, got " + errString(err))
		}
		if err := addAddr6(n.ifname, netip.MustParseAddr("10.0.0.1"), peer); err == nil {
			return errors.New("addAddr6 accepted an IPv4 address")
		}
		return nil
	})
}

// TestTUNPing writes an ICMP echo request from the peer to the TUN's local
// address and reads the kernel's echo reply back, first one at a time, then
// with a reader and a writer goroutine running at once.
func TestTUNPing(t *testing.T) {
	n := newTunNetns(t)
	tun := n.open(1492)
	if err := tun.setAddr(tunLocal, tunPeer); err != nil {
		t.Fatal(err)
	}
	tun.file.SetReadDeadline(time.Now().Add(10 * time.Second))
	payload := []byte("pppoed tun test 0123456789")
	buf := make([]byte, frameSize)

	for seq := range uint16(3) {
		req := echoRequest(tunPeer, tunLocal, 0x4242, seq, payload)
		if err := tun.writePacket(req); err != nil {
			t.Fatal(err)
		}
		nr, err := tun.readPacket(buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkEchoReply(buf[:nr], tunLocal, tunPeer, 0x4242, seq, payload); err != nil {
			t.Fatalf("seq %d: %v\n%s", seq, err, hex.Dump(buf[:nr]))
		}
	}

	t.Run("concurrent", func(t *testing.T) {
		const count = 200
		var wg sync.WaitGroup
		errc := make(chan error, 2)
		wg.Go(func() {
			for seq := range uint16(count) {
				if err := tun.writePacket(echoRequest(tunPeer, tunLocal, 0x4343, seq, payload)); err != nil {
					errc <- err
					return
				}
			}
		})
		wg.Go(func() {
			b := make([]byte, frameSize)
			seen := make([]bool, count)
			for range count {
				nr, err := tun.readPacket(b)
				if err != nil {
					errc <- err
					return
				}
				seq := binary.BigEndian.Uint16(b[26:])
				if err := checkEchoReply(b[:nr], tunLocal, tunPeer, 0x4343, seq, payload); err != nil || int(seq) >= count || seen[seq] {
					errc <- errors.New("bad or repeated reply: " + errString(err) + "\n" + hex.Dump(b[:nr]))
					return
				}
				seen[seq] = true
			}
		})
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
	})
}

func TestTUNCloseUnblocksRead(t *testing.T) {
	n := newTunNetns(t)
	tun := n.open(1492)
	errc := make(chan error, 1)
	go func() {
		_, err := tun.readPacket(make([]byte, frameSize))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := tun.close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("readPacket after close: %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("close did not unblock readPacket")
	}
	if err := tun.writePacket([]byte{0x45}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("writePacket after close: %v, want os.ErrClosed", err)
	}
}

// TestTUNAllocs: one write and one read through the kernel cost nothing.
func TestTUNAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	n := newTunNetns(t)
	tun := n.open(1492)
	if err := tun.setAddr(tunLocal, tunPeer); err != nil {
		t.Fatal(err)
	}
	tun.file.SetReadDeadline(time.Now().Add(30 * time.Second))
	req := echoRequest(tunPeer, tunLocal, 0x4444, 1, []byte("allocs"))
	f := getFrame()
	defer putFrame(f)
	var err error
	allocs := testing.AllocsPerRun(1000, func() {
		if err = tun.writePacket(req); err != nil {
			return
		}
		_, err = tun.readPacket(f[headroomForTest:])
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("writePacket+readPacket: %v allocs per run, want 0", allocs)
	}
}

// headroomForTest is the 14+6+2 bytes the data path leaves in front of a
// packet read from the TUN.
const headroomForTest = ethHdrLen + pppoeHdrLen + 2

// echoRequest builds an IPv4 ICMP echo request by hand (RFC 791, RFC 792).
func echoRequest(src, dst netip.Addr, id, seq uint16, payload []byte) []byte {
	const ipHdr, icmpHdr = 20, 8
	b := make([]byte, ipHdr+icmpHdr+len(payload))
	b[0] = 0x45 // version 4, IHL 5
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], seq) // identification
	binary.BigEndian.PutUint16(b[6:], 0x4000)
	b[8] = 64 // TTL
	b[9] = unix.IPPROTO_ICMP
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], inetChecksum(b[:ipHdr]))
	icmp := b[ipHdr:]
	icmp[0] = 8 // echo request
	binary.BigEndian.PutUint16(icmp[4:], id)
	binary.BigEndian.PutUint16(icmp[6:], seq)
	copy(icmp[icmpHdr:], payload)
	binary.BigEndian.PutUint16(icmp[2:], inetChecksum(icmp))
	return b
}

// checkEchoReply checks that b is the kernel's echo reply to echoRequest.
func checkEchoReply(b []byte, src, dst netip.Addr, id, seq uint16, payload []byte) error {
	switch {
	case len(b) < 28 || b[0] != 0x45 || int(binary.BigEndian.Uint16(b[2:])) != len(b):
		return errors.New("not an IPv4 packet of the right length")
	case inetChecksum(b[:20]) != 0:
		return errors.New("bad IP header checksum")
	case b[9] != unix.IPPROTO_ICMP || netip.AddrFrom4([4]byte(b[12:16])) != src || netip.AddrFrom4([4]byte(b[16:20])) != dst:
		return errors.New("wrong protocol or addresses")
	case inetChecksum(b[20:]) != 0:
		return errors.New("bad ICMP checksum")
	case b[20] != 0 || b[21] != 0:
		return errors.New("not an echo reply")
	case binary.BigEndian.Uint16(b[24:]) != id || binary.BigEndian.Uint16(b[26:]) != seq || !bytes.Equal(b[28:], payload):
		return errors.New("id, sequence or payload differ")
	}
	return nil
}

// inetChecksum is the RFC 1071 Internet checksum. Over a block that holds a
// correct checksum it returns 0.
func inetChecksum(b []byte) uint16 {
	var sum uint32
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
