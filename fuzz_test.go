package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// addGoldenSeeds seeds a fuzz target with every golden frame.
func addGoldenSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/golden/*.hex")
	for _, p := range paths {
		f.Add(readHexFile(f, p))
	}
	f.Add(padi(tag{tagServiceName, nil}, tag{tagHostUniq, []byte{1, 2}}))
}

// FuzzParseDiscovery: parsing never panics, and a frame that parses
// re-encodes to the same bytes (less any Ethernet padding and anything
// after an End-Of-List tag), which parse again to the same packet.
func FuzzParseDiscovery(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var p discoveryPacket
		if err := p.parse(b); err != nil {
			return
		}
		enc := p.appendTo(nil)
		var q discoveryPacket
		if err := q.parse(enc); err != nil {
			t.Fatalf("re-encoded frame does not parse: %v%s", err, hexDiff(b, enc))
		}
		if q.pppoeHeader.dst != p.dst || q.src != p.src || q.code != p.code || q.sessionID != p.sessionID || q.ntags != p.ntags {
			t.Fatalf("header or tag count changed%s", hexDiff(b, enc))
		}
		for i := range p.ntags {
			if p.tags[i].typ != q.tags[i].typ || !bytes.Equal(p.tags[i].val, q.tags[i].val) {
				t.Fatalf("tag %d changed%s", i, hexDiff(b, enc))
			}
		}
		if again := q.appendTo(nil); !bytes.Equal(again, enc) {
			t.Fatalf("encoding is not stable%s", hexDiff(enc, again))
		}
	})
}

// FuzzTagIter: the iterator never panics, never reads past the payload, and
// the tags it yields tile a prefix of the payload exactly.
func FuzzTagIter(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		it := tagIter{b: payload}
		off := 0
		for it.next() {
			n := tagHdrLen + len(it.val)
			if off+n > len(payload) || !bytes.Equal(payload[off+tagHdrLen:off+n], it.val) {
				t.Fatalf("tag at %d does not match the payload", off)
			}
			off += n
		}
		if it.err == nil && off != len(payload) {
			// Only an End-Of-List tag may stop the walk early.
			if off+tagHdrLen > len(payload) || payload[off] != 0 || payload[off+1] != 0 {
				t.Fatalf("walk stopped at %d of %d without error or End-Of-List", off, len(payload))
			}
		}
		_, _ = parseBBFVendorTag(payload)
	})
}

func TestMain(m *testing.M) { os.Exit(integrationMain(m)) }
