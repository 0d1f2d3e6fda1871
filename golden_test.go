package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goldenFrames are frames captured from rp-pppoe's pppoe-server and pppoe,
// pppd's pppoe-discovery, and built with scapy (testdata/golden/capture.sh
// regenerates them). Each row says what the frame must decode to.
var goldenFrames = []struct {
	file string
	code discoveryCode
	sid  uint16
	tags []tagType
}{
	{"padi_pppoe_discovery.hex", codePADI, 0, []tagType{tagServiceName}},
	{"padi_rp_pppoe.hex", codePADI, 0, []tagType{tagServiceName, tagHostUniq}},
	{"pado_rp_pppoe_server.hex", codePADO, 0, []tagType{tagACName, tagServiceName, tagServiceName, tagACCookie, tagHostUniq}},
	{"padr_rp_pppoe.hex", codePADR, 0, []tagType{tagServiceName, tagHostUniq, tagACCookie}},
	{"pads_rp_pppoe_server.hex", codePADS, 1, []tagType{tagServiceName, tagHostUniq}},
	{"padt_rp_pppoe.hex", codePADT, 1, []tagType{tagGenericError}},
	{"padt_rp_pppoe_server.hex", codePADT, 1, []tagType{tagGenericError}},
	{"padi_scapy_tags.hex", codePADI, 0, []tagType{tagServiceName, tagHostUniq, tagRelaySessionID, tagPPPMaxPayload, 0x01ff, tagVendorSpecific}},
	{"pads_scapy_service_error.hex", codePADS, 0, []tagType{tagServiceNameError}},
	{"pads_scapy_system_error.hex", codePADS, 0, []tagType{tagACSystemError}},
	{"padm_scapy.hex", codePADM, 1, []tagType{tagHURL, tagMOTM}},
	{"padt_scapy.hex", codePADT, 0x1234, []tagType{tagGenericError}},
}

func golden(t *testing.T, name string) []byte {
	return readHexFile(t, filepath.Join("testdata", "golden", name))
}

// TestGoldenFrames decodes each golden frame and re-encodes it: the bytes
// must come back unchanged.
func TestGoldenFrames(t *testing.T) {
	for _, g := range goldenFrames {
		t.Run(g.file, func(t *testing.T) {
			b := golden(t, g.file)
			var p discoveryPacket
			if err := p.parse(b); err != nil {
				t.Fatal(err)
			}
			if p.code != g.code || p.sessionID != g.sid || p.etherType != etherTypeDiscovery {
				t.Errorf("code %v sid %#x ethertype %#x, want %v %#x", p.code, p.sessionID, p.etherType, g.code, g.sid)
			}
			var got []tagType
			for _, tg := range tagsOf(&p) {
				got = append(got, tg.typ)
			}
			if !equal(got, g.tags) {
				t.Errorf("tags %v, want %v", got, g.tags)
			}
			if enc := p.appendTo(nil); !bytes.Equal(enc, b) {
				t.Errorf("re-encoding differs (-want +got)%s", hexDiff(b, enc))
			}
		})
	}
}

func TestGoldenLineID(t *testing.T) {
	var p discoveryPacket
	if err := p.parse(golden(t, "padi_scapy_tags.hex")); err != nil {
		t.Fatal(err)
	}
	v, _ := p.find(tagVendorSpecific)
	id, ok := parseBBFVendorTag(v)
	if !ok || string(id.circuitID) != "eth 1/1/1:100" || string(id.remoteID) != "remote-42" {
		t.Fatalf("line ID %q %q %v", id.circuitID, id.remoteID, ok)
	}
}

// withMACs rewrites a golden frame's addresses to the test server's.
func withMACs(b []byte, dst, src hwAddr) []byte {
	b = append([]byte(nil), b...)
	copy(b[0:6], dst[:])
	copy(b[6:12], src[:])
	return b
}

// TestAnswersMatchRPPPPoE feeds the PADI and PADR that rp-pppoe's client sent
// to our server, configured as rp-pppoe's was, and compares our PADO and PADS
// with rp-pppoe's own, byte for byte except for the cookie's value.
func TestAnswersMatchRPPPPoE(t *testing.T) {
	s, l, ifc, _ := newTestServer(t, func(c *config) { c.ACName = "goldenAC"; c.ServiceNames = []string{"svc1", "svc2"} })
	inject(s, ifc, withMACs(golden(t, "padi_rp_pppoe.hex"), broadcastAddr, clientMAC))
	fs := l.sent()
	if len(fs) != 1 {
		t.Fatalf("sent %d frames", len(fs))
	}
	ours := fs[0]
	theirs := withMACs(golden(t, "pado_rp_pppoe_server.hex"), clientMAC, serverMAC)
	o := mustParse(t, ours)
	ck, _ := o.find(tagACCookie)
	cookie := append([]byte(nil), ck...)
	their := mustParse(t, theirs)
	tc, _ := their.find(tagACCookie)
	copy(tc, cookie) // the cookie's value is each server's own
	if want := their.appendTo(nil); !bytes.Equal(ours, want) {
		t.Fatalf("PADO differs from rp-pppoe's (-want +got)%s", hexDiff(want, ours))
	}

	padr := mustParse(t, withMACs(golden(t, "padr_rp_pppoe.hex"), serverMAC, clientMAC))
	rc, _ := padr.find(tagACCookie)
	copy(rc, cookie)
	inject(s, ifc, padr.appendTo(nil))
	fs = l.sent()
	if len(fs) != 1 {
		t.Fatalf("sent %d frames for the PADR", len(fs))
	}
	want := withMACs(golden(t, "pads_rp_pppoe_server.hex"), clientMAC, serverMAC)
	if !bytes.Equal(fs[0], want) {
		t.Fatalf("PADS differs from rp-pppoe's (-want +got)%s", hexDiff(want, fs[0]))
	}
}

// TestScapyDecodesOurFrames has scapy, an implementation independent of ours,
// decode the frames we build.
func TestScapyDecodesOurFrames(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		skipf(t, "%s is missing", py)
	}
	if err := exec.Command(py, "-c", "import scapy.layers.ppp").Run(); err != nil {
		skipf(t, "python3-scapy is not installed: %v", err)
	}
	s, l, ifc, _ := newTestServer(t, func(c *config) { c.ServiceNames = []string{"svc1"}; c.MOTM = "motd" })
	ifc.mtu = 1508
	inject(s, ifc, padi(tag{tagServiceName, []byte("svc1")}, tag{tagHostUniq, []byte{7, 7}},
		tag{tagPPPMaxPayload, binary.BigEndian.AppendUint16(nil, 1500)}, tag{tagRelaySessionID, []byte("r")}))
	pado := l.sent()[0]
	c, _ := mustParse(t, pado).find(tagACCookie)
	inject(s, ifc, frameOf(serverMAC, clientMAC, codePADR, 0, tag{tagServiceName, []byte("svc1")},
		tag{tagACCookie, append([]byte(nil), c...)}, tag{tagHostUniq, []byte{7, 7}}))
	frames := append([][]byte{pado}, l.sent()...) // PADO, PADS, PADM
	s.shutdown()
	frames = append(frames, l.sent()...) // PADT
	if len(frames) != 4 {
		t.Fatalf("got %d frames, want PADO, PADS, PADM and PADT", len(frames))
	}

	const script = `
import sys, json
from scapy.layers.l2 import Ether
from scapy.layers.ppp import PPPoED
out = []
for line in sys.stdin:
    p = Ether(bytes.fromhex(line.strip()))
    d = p[PPPoED]
    # Walk the tags from scapy's own view of the payload length.
    raw = bytes(d.payload)[:d.len]
    tags, i = [], 0
    while i + 4 <= len(raw):
        t, n = int.from_bytes(raw[i:i+2], "big"), int.from_bytes(raw[i+2:i+4], "big")
        tags.append([t, raw[i+4:i+4+n].hex()])
        i += 4 + n
    out.append({"dst": p.dst, "src": p.src, "type": p.type, "version": d.version, "ptype": d.type,
                "code": d.code, "sessionid": d.sessionid, "len": d.len, "tags": tags})
print(json.dumps(out))
`
	var in strings.Builder
	for _, f := range frames {
		in.WriteString(hex.EncodeToString(f) + "\n")
	}
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scapy: %v", err)
	}
	var got []struct {
		Dst, Src                   string
		Type, Version, Ptype, Code int
		Sessionid, Len             int
		Tags                       [][2]any
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for i, f := range frames {
		p := mustParse(t, f)
		g := got[i]
		if g.Dst != p.dst.String() || g.Src != p.src.String() || g.Type != 0x8863 || g.Version != 1 || g.Ptype != 1 ||
			g.Code != int(p.code) || g.Sessionid != int(p.sessionID) || g.Len != len(p.payload) {
			t.Errorf("frame %d (%v): scapy saw %+v", i, p.code, g)
			continue
		}
		if len(g.Tags) != p.ntags {
			t.Errorf("frame %d (%v): scapy saw %d tags, we wrote %d", i, p.code, len(g.Tags), p.ntags)
			continue
		}
		for j, tg := range tagsOf(p) {
			if int(g.Tags[j][0].(float64)) != int(tg.typ) || g.Tags[j][1].(string) != hex.EncodeToString(tg.val) {
				t.Errorf("frame %d tag %d: scapy saw %v, we wrote %v %x", i, j, g.Tags[j], tg.typ, tg.val)
			}
		}
	}
}
