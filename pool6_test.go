package main

import (
	"net/netip"
	"testing"
)

// TestPrefixPoolFIFO: prefixes never handed out go first, then the ones
// given back in the order they came back; none is held twice.
func TestPrefixPoolFIFO(t *testing.T) {
	p, err := newPrefixPool(netip.MustParsePrefix("2001:db8:100::/62"), 64)
	if err != nil {
		t.Fatal(err)
	}
	var got []netip.Prefix
	for range 4 {
		pfx, err := p.alloc()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pfx)
	}
	for i, want := range []string{"2001:db8:100::/64", "2001:db8:100:1::/64", "2001:db8:100:2::/64", "2001:db8:100:3::/64"} {
		if got[i].String() != want {
			t.Fatalf("prefix %d: %s, want %s", i, got[i], want)
		}
	}
	if _, err := p.alloc(); err != errPrefixExhausted {
		t.Fatalf("a fifth /64 from a /62: %v", err)
	}
	for _, i := range []int{2, 0} {
		j, _ := p.indexOf(got[i])
		p.give(j)
	}
	p.give(0) // twice: no second entry
	for _, want := range []netip.Prefix{got[2], got[0]} {
		pfx, err := p.alloc()
		if err != nil || pfx != want {
			t.Fatalf("after frees: %v %v, want %s", pfx, err, want)
		}
	}
	if _, err := p.alloc(); err != errPrefixExhausted {
		t.Fatalf("exhausted again: %v", err)
	}
	if p.available() != 0 {
		t.Fatalf("available %d", p.available())
	}
}

// TestPrefixKindExact: a prefix RADIUS names is taken out of its pool or
// held as a fixed one, and a second session cannot get it.
func TestPrefixKindExact(t *testing.T) {
	v := &v6Pools{}
	k := &v.delegated
	pool, _ := newPrefixPool(netip.MustParsePrefix("2001:db8:200::/40"), 56)
	k.add("", pool)
	p64, _ := newPrefixPool(netip.MustParsePrefix("2001:db8:100::/48"), 64)
	v.prefix.add("", p64)
	in := netip.MustParsePrefix("2001:db8:200:100::/56")
	if pfx, err := v.get(k, "", in); err != nil || pfx != in {
		t.Fatalf("in-pool prefix: %v %v", pfx, err)
	}
	if _, err := v.get(k, "", in); err != errPrefixInUse {
		t.Fatalf("the same prefix again: %v", err)
	}
	// The pool hands out everything else but that one.
	seen := map[netip.Prefix]bool{}
	for {
		pfx, err := k.get("")
		if err != nil {
			break
		}
		if pfx == in || seen[pfx] {
			t.Fatalf("%s handed out twice", pfx)
		}
		seen[pfx] = true
	}
	if len(seen) != 1<<16-1 {
		t.Fatalf("%d prefixes from a /40 split in /56s, want 65535", len(seen))
	}
	out := netip.MustParsePrefix("2001:db8:99::/56")
	if _, err := v.get(k, "", out); err != nil {
		t.Fatal(err)
	}
	if _, err := v.get(k, "", out); err != errPrefixInUse {
		t.Fatalf("a fixed prefix twice: %v", err)
	}
	if live, size := k.live(); live != 1<<16+1 || size != 1<<16 {
		t.Fatalf("live %d size %d", live, size)
	}
	// Overlaps are refused: with a pool of either kind unless it is one
	// of the pool's own prefixes, and with a prefix a session holds.
	for _, bad := range []string{"2001:db8:200::/48", "2001:db8:100:5::/64", "2001:db8::/32", "2001:db8:99::/60", "2001:db8:98::/47"} {
		if _, err := v.get(k, "", netip.MustParsePrefix(bad)); err == nil {
			t.Errorf("%s overlaps a pool or a held prefix but was handed out", bad)
		}
	}
	if _, err := v.get(&v.prefix, "", netip.MustParsePrefix("2001:db8:99::/64")); err != errPrefixInUse {
		t.Errorf("a /64 inside another session's delegated prefix: %v", err)
	}
	k.put(out)
	k.put(in)
	if pfx, err := k.get(""); err != nil || pfx != in {
		t.Fatalf("after put: %v %v, want %s back", pfx, err, in)
	}
	if _, err := v.get(k, "", out); err != nil {
		t.Fatalf("a fixed prefix after put: %v", err)
	}
}

func TestPrefixPoolErrors(t *testing.T) {
	for _, c := range []struct {
		base string
		bits int
	}{{"2001:db8::/64", 56}, {"2001:db8::/48", 65}, {"10.0.0.0/8", 16}} {
		if _, err := newPrefixPool(netip.MustParsePrefix(c.base), c.bits); err == nil {
			t.Errorf("%s in /%d: no error", c.base, c.bits)
		}
	}
}
