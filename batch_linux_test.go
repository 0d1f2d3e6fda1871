package main

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// The loop's batching writer sends every queued frame, whole and in order,
// across the arena's and the message count's limits, with one sendmmsg per
// flush, and without allocating.
func TestBatchWriter(t *testing.T) {
	l := newLab(t)
	srv := l.openRaw(l.srvNS, l.srvIf, etherTypeDiscovery)
	cli := l.openRaw(l.cliNS, l.cliIf, etherTypeDiscovery)
	w := srv.newBatchWriter()
	// 200 frames of 60 to 1514 bytes: the 64-frame and the 32 KiB
	// limits both force sends before the flush.
	var want [][]byte
	for i := range 200 {
		n := 60 + (i*97)%1455
		b := make([]byte, n)
		copy(b[0:6], l.cliMAC[:])
		copy(b[6:12], l.srvMAC[:])
		binary.BigEndian.PutUint16(b[12:], etherTypeDiscovery)
		binary.BigEndian.PutUint32(b[14:], uint32(i))
		want = append(want, b)
		if err := w.writeFrame(b); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if failed, err := w.flush(); failed != 0 || err != nil {
		t.Fatalf("flush: %d failed, %v", failed, err)
	}
	buf := make([]byte, frameSize)
	for i, wb := range want {
		cli.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := cli.readFrame(buf)
		if err != nil {
			t.Fatalf("frame %d of %d: %v", i, len(want), err)
		}
		if !bytes.Equal(buf[:n], wb) {
			t.Fatalf("frame %d: got %d bytes (seq %d), want %d bytes (seq %d)", i, n,
				binary.BigEndian.Uint32(buf[14:]), len(wb), i)
		}
	}
	if failed, err := w.flush(); failed != 0 || err != nil {
		t.Errorf("empty flush: %d failed, %v", failed, err)
	}
	if raceEnabled {
		return // allocation counts mean nothing under -race
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, b := range want[:10] {
			w.writeFrame(b)
		}
		w.flush()
	}); n != 0 {
		t.Errorf("batch of 10 and flush: %v allocs/op, want 0", n)
	}
}
