package main

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// auxOOB is the control message recvmsg returns for PACKET_AUXDATA, with
// the given tp_status and tp_vlan_tci.
func auxOOB(status uint32, tci uint16) []byte {
	oob := make([]byte, unix.CmsgSpace(auxdataLen))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = unix.SOL_PACKET, unix.PACKET_AUXDATA
	h.SetLen(unix.CmsgLen(auxdataLen))
	data := oob[unix.CmsgLen(0):]
	binary.NativeEndian.PutUint32(data[0:], status)
	binary.NativeEndian.PutUint16(data[16:], tci)
	binary.NativeEndian.PutUint16(data[18:], 0x8100)
	return oob
}

func TestVLANTagged(t *testing.T) {
	padi := frameOf(broadcastAddr, clientMAC, codePADI, 0)
	toUs := frameOf(serverMAC, clientMAC, codePADR, 0)
	toOther := frameOf(otherMAC, clientMAC, codePADR, 0)
	multicast := frameOf(hwAddr{0x01, 0x80, 0xc2, 0, 0, 0x03}, clientMAC, codePADI, 0)
	valid := uint32(unix.TP_STATUS_USER | unix.TP_STATUS_VLAN_VALID | unix.TP_STATUS_VLAN_TPID_VALID)
	for _, tt := range []struct {
		name    string
		pkttype uint8
		b       []byte
		oob     []byte
		want    bool
	}{
		// What this kernel does (TestIntegrationVLANTaggedSocket): the
		// tag is gone, the frame is marked for another host.
		{"broadcast marked other host", unix.PACKET_OTHERHOST, padi, auxOOB(unix.TP_STATUS_USER, 0), true},
		{"multicast marked other host", unix.PACKET_OTHERHOST, multicast, auxOOB(unix.TP_STATUS_USER, 0), true},
		{"to us marked other host", unix.PACKET_OTHERHOST, toUs, auxOOB(unix.TP_STATUS_USER, 0), true},
		{"to another host, promiscuous", unix.PACKET_OTHERHOST, toOther, auxOOB(unix.TP_STATUS_USER, 0), false},
		{"broadcast", unix.PACKET_BROADCAST, padi, auxOOB(unix.TP_STATUS_USER, 0), false},
		{"to us", unix.PACKET_HOST, toUs, auxOOB(unix.TP_STATUS_USER, 0), false},
		{"no control message", unix.PACKET_HOST, toUs, nil, false},
		// A kernel that keeps the tag in the aux data.
		{"aux VLAN 10", unix.PACKET_BROADCAST, padi, auxOOB(valid, 10), true},
		{"aux VLAN 4094 priority 7", unix.PACKET_HOST, toUs, auxOOB(valid, 7<<13|4094), true},
		{"aux priority tag, VLAN 0", unix.PACKET_BROADCAST, padi, auxOOB(valid, 5<<13), false},
		{"aux tci without VLAN_VALID", unix.PACKET_BROADCAST, padi, auxOOB(unix.TP_STATUS_USER, 10), false},
		{"aux truncated", unix.PACKET_BROADCAST, padi, auxOOB(valid, 10)[:unix.CmsgLen(0)+8], false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := vlanTagged(tt.pkttype, tt.b, serverMAC, tt.oob); got != tt.want {
				t.Errorf("vlanTagged(pkttype %d, dst %x, oob %x) = %v, want %v", tt.pkttype, tt.b[:6], tt.oob, got, tt.want)
			}
		})
	}
}
