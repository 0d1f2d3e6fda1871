package main

import (
	"encoding/binary"
	"testing"
)

// rtnetlink messages as the kernel sends them: two in one read, each
// with its attributes; anything else and truncated ones are skipped.
func TestParseLinkChanges(t *testing.T) {
	msg := func(typ uint16, index int32, name string) []byte {
		attr := append([]byte(name), 0)
		alen := 4 + len(attr)
		body := make([]byte, 16, 16+nlmAlign(alen))
		binary.NativeEndian.PutUint32(body[4:], uint32(index))
		body = binary.NativeEndian.AppendUint16(body, uint16(alen))
		body = binary.NativeEndian.AppendUint16(body, 3) // IFLA_IFNAME
		body = append(body, attr...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		h := make([]byte, 16)
		binary.NativeEndian.PutUint32(h[0:], uint32(16+len(body)))
		binary.NativeEndian.PutUint16(h[4:], typ)
		return append(h, body...)
	}
	var b []byte
	b = append(b, msg(17, 5, "eth9")...)   // RTM_DELLINK
	b = append(b, msg(22, 5, "x")...)      // RTM_NEWADDR: not a link
	b = append(b, msg(16, 9, "br-lan")...) // RTM_NEWLINK
	trunc := msg(16, 11, "cut")
	b = append(b, trunc[:20]...)
	var got []linkChange
	parseLinkChanges(b, func(c linkChange) { got = append(got, c) })
	want := []linkChange{{index: 5, name: "eth9", deleted: true}, {index: 9, name: "br-lan"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
