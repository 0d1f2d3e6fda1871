package main

import (
	"testing"
)

// hotPaths are the per-frame operations that must not allocate. Each entry
// returns a func that performs the operation once.
func hotPaths(tb testing.TB) map[string]func() {
	s, l, ifc, _ := newTestServer(tb, func(c *config) { c.ServiceNames = []string{"svc"} })
	// Drain what the server sends so the fake link never fills up; the
	// drain itself is outside the measured function.
	l.out = make(chan []byte, 1<<20)
	padiFrame := padi(tag{tagServiceName, []byte("svc")}, tag{tagHostUniq, []byte{1, 2, 3, 4}},
		tag{tagRelaySessionID, []byte("relay")})
	var p discoveryPacket
	if err := p.parse(padiFrame); err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, 0, frameSize)

	// A started session for the lookup and PADT-from-stranger paths.
	inject(s, ifc, padiFrame)
	o := mustParse(tb, (<-l.out))
	c, _ := o.find(tagACCookie)
	inject(s, ifc, frameOf(serverMAC, clientMAC, codePADR, 0, tag{tagACCookie, c},
		tag{tagServiceName, []byte("svc")}, tag{tagHostUniq, []byte{1, 2, 3, 4}}))
	pads := mustParse(tb, <-l.out)
	sid := pads.sessionID
	strangerPADT := frameOf(serverMAC, otherMAC, codePADT, sid)
	dupPADR := frameOf(serverMAC, clientMAC, codePADR, 0, tag{tagACCookie, c},
		tag{tagServiceName, []byte("svc")}, tag{tagHostUniq, []byte{1, 2, 3, 4}})
	bad := append([]byte(nil), padiFrame...)
	bad[offVerType] = 0x22
	// From here on, writes go to a sink that keeps the last frame without
	// allocating, so the measurement sees only the server's own work.
	ifc.disc = &sinkLink{}
	ifc.discW = ifc.disc
	ifc.sess, ifc.sessW = ifc.disc, ifc.disc

	return map[string]func(){
		"parse":    func() { _ = p.parse(padiFrame) },
		"appendTo": func() { _ = p.appendTo(buf[:0]) },
		"tagIter": func() {
			it := tagIter{b: p.payload}
			for it.next() {
			}
		},
		"PADI to PADO":       func() { inject(s, ifc, padiFrame) },
		"duplicate PADR":     func() { inject(s, ifc, dupPADR) },
		"stranger's PADT":    func() { inject(s, ifc, strangerPADT) },
		"malformed frame":    func() { inject(s, ifc, bad) },
		"session lookup":     func() { _ = s.sessions.lookupPeer(ifc, clientMAC, sid) },
		"frame pool get/put": func() { putFrame(getFrame()) },
	}
}

// sinkLink keeps the last frame written to it in a fixed buffer.
type sinkLink struct {
	last frame
	n    int
}

func (l *sinkLink) readFrame([]byte) (int, error) { select {} }
func (l *sinkLink) writeFrame(b []byte) error     { l.n = copy(l.last[:], b); return nil }
func (l *sinkLink) close() error                  { return nil }
func (l *sinkLink) newWriter() frameWriter        { return l }

// TestHotPathAllocs fails if a per-frame path starts allocating.
func TestHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; make test runs this without it")
	}
	for name, fn := range hotPaths(t) {
		t.Run(name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, fn); n != 0 {
				t.Errorf("%s: %v allocs/op, want 0", name, n)
			}
		})
	}
}

func BenchmarkHotPaths(b *testing.B) {
	for name, fn := range hotPaths(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				fn()
			}
		})
	}
}
