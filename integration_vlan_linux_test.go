package main

// VLAN-tagged frames, built by scapy, on an interface served untagged: the
// socket reports them, and the daemon neither offers nor gives them a
// session, nor lets them reach a live one.

import (
	"encoding/binary"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// requireScapy returns the python that has scapy, or skips (fails under CI).
func requireScapy(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import scapy.layers.ppp, scapy.layers.l2").Run(); err != nil {
		skipf(t, "python3-scapy is not installed: %v", err)
	}
	return py
}

// The discovery socket reports a PADI tagged 802.1Q VLAN 10 and one tagged
// 802.1ad VLAN 20 as errVLANTagged, and reads on to a priority-tagged and
// an untagged PADI, which it returns.
//
// What the kernel does with the tag here (Linux 6.18, veth, no 8021q
// module; the test logs it on every run): it takes the tag off, and since
// no VLAN interface claims the frame it clears it again before the
// 0x8863 socket's handler runs, so tpacket_auxdata has no
// TP_STATUS_VLAN_VALID; the frame arrives looking untagged, with
// sll_pkttype PACKET_OTHERHOST. A priority tag (VLAN 0) arrives as an
// untagged PACKET_BROADCAST.
func TestIntegrationVLANTaggedSocket(t *testing.T) {
	l := newLab(t)
	py := requireScapy(t)
	srv := l.openRaw(l.srvNS, l.srvIf, etherTypeDiscovery)
	script := `
import sys, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import sendp
from scapy.layers.l2 import Ether, Dot1Q, Dot1AD
from scapy.layers.ppp import PPPoED, PPPoED_Tags, PPPoETag
from scapy.arch import get_if_hwaddr
iface = sys.argv[1]
eth = Ether(src=get_if_hwaddr(iface), dst="ff:ff:ff:ff:ff:ff")
for i, tag in enumerate([Dot1Q(vlan=10), Dot1AD(vlan=20), Dot1Q(vlan=0, prio=5), None]):
    padi = PPPoED(code=0x09) / PPPoED_Tags(tag_list=[PPPoETag(tag_type=0x0103, tag_value=bytes([i]))])
    sendp(eth / padi if tag is None else eth / tag / padi, iface=iface, verbose=False)
`
	if out, err := l.client(30*time.Second, py, "-c", script, l.cliIf); err != nil {
		t.Fatalf("scapy: %v\n%s", err, out)
	}
	buf := make([]byte, frameSize)
	for i, want := range []string{"VLAN 10", "802.1ad VLAN 20", "priority tag", "untagged"} {
		srv.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, err := srv.readFrame(buf)
		status := uint32(0)
		if h, data, _, perr := unix.ParseOneSocketControlMessage(srv.oob[:srv.msg.Controllen]); perr == nil &&
			h.Level == unix.SOL_PACKET && h.Type == unix.PACKET_AUXDATA && len(data) >= auxdataLen {
			status = binary.NativeEndian.Uint32(data)
		}
		t.Logf("PADI %s: kernel says sll_pkttype %d, TP_STATUS_VLAN_VALID %v; readFrame: %d bytes, %v",
			want, srv.from.Pkttype, status&unix.TP_STATUS_VLAN_VALID != 0, n, err)
		if i < 2 {
			if err != errVLANTagged {
				t.Errorf("PADI %s: readFrame returned %d bytes, %v; want errVLANTagged", want, n, err)
			}
			continue
		}
		var p discoveryPacket
		if err != nil {
			t.Fatalf("PADI %s: %v", want, err)
		}
		if err := p.parse(buf[:n]); err != nil || p.code != codePADI || p.src != l.cliMAC {
			t.Fatalf("PADI %s: read %v from %v (%v), want a PADI from %v", want, p.code, p.src, err, l.cliMAC)
		}
		if hu, _ := p.find(tagHostUniq); len(hu) != 1 || int(hu[0]) != i {
			t.Errorf("PADI %s: Host-Uniq %x, want %02x", want, hu, i)
		}
	}
}

// A tagged PADI gets no PADO, a tagged PADR no session, and tagged LCP and
// PADT frames do not reach a live session; the untagged frames in between
// are served, a priority-tagged PADI (VLAN 0) too. Every tagged frame is
// counted as drop reason VLANTagged.
func TestIntegrationVLANTagged(t *testing.T) {
	l := newLab(t)
	py := requireScapy(t)
	sock := filepath.Join(t.TempDir(), "pppoed.sock")
	srv := l.startServer("--setup-timeout", "60s", "--ctl-socket", sock)
	out, err := l.client(60*time.Second, py, "test/scapy_vlan_probe.py", l.cliIf)
	if err != nil {
		t.Fatalf("scapy_vlan_probe.py: %v\n%s", err, out)
	}
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("scapy_vlan_probe.py printed %q:\n%s", line, out)
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatalf("scapy_vlan_probe.py printed %q:\n%s", line, out)
		}
		got[f[0]] = n
	}
	// The answers each step got; padt_vlan10 counts the LCP replies after
	// the tagged PADT, which the session must still be there to give.
	want := map[string]int{
		"padi_vlan10": 0, "padi_svlan20": 0, "padi_prio": 1, "padi": 1,
		"padr_vlan10": 0, "padr": 1,
		"lcp_vlan10": 0, "lcp": 1, "padt_vlan10": 1, "padt": 0,
	}
	for k, w := range want {
		if n, ok := got[k]; !ok || n != w {
			t.Errorf("%s: %d answers (reported %v), want %d", k, n, ok, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	srv.waitLog(`reason="peer sent PADT"`, 5*time.Second)
	if n := strings.Count(srv.log.String(), `msg="session started"`); n != 1 {
		t.Errorf("%d sessions started, want 1", n)
	}
	if n := strings.Count(srv.log.String(), `msg="session ended"`); n != 1 {
		t.Errorf("%d sessions ended, want 1 (by the untagged PADT)", n)
	}
	var st statInfo
	if err := json.Unmarshal([]byte(cli(t, "show", "stat", "--json", "--ctl-socket", sock)), &st); err != nil {
		t.Fatal(err)
	}
	// padi_vlan10, padi_svlan20, padr_vlan10, lcp_vlan10, padt_vlan10.
	if n := st.Drops["VLANTagged"]; n != 5 {
		t.Errorf("drops_total %v: VLANTagged %d, want 5", st.Drops, n)
	}
	prom := cli(t, "show", "stat", "--format", "prometheus", "--ctl-socket", sock)
	if w := `pppoed_frames_dropped_total{reason="VLANTagged"} 5`; !strings.Contains(prom, w) {
		t.Errorf("prometheus output lacks %q:\n%s", w, prom)
	}
}
