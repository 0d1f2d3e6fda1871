package main

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func TestCoveringPrefixes(t *testing.T) {
	tests := []struct {
		name  string
		addrs []string
		want  []string
	}{
		{"empty", nil, nil},
		{"one address", []string{"10.0.0.7"}, []string{"10.0.0.7/32"}},
		{"aligned pair", []string{"10.0.0.6", "10.0.0.7"}, []string{"10.0.0.6/31"}},
		{"unaligned pair", []string{"10.0.0.7", "10.0.0.8"}, []string{"10.0.0.7/32", "10.0.0.8/32"}},
		{"aligned /30", []string{"10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"}, []string{"10.0.0.4/30"}},
		{"gap", []string{"10.0.0.4", "10.0.0.5", "10.0.0.7"}, []string{"10.0.0.4/31", "10.0.0.7/32"}},
		// The seed's -R 10.0.0.2 -N 64.
		{"seed pool 10.0.0.2 x64", rangeOf("10.0.0.2", 64), []string{
			"10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/29", "10.0.0.16/28", "10.0.0.32/27", "10.0.0.64/31"}},
		{"whole /24", rangeOf("192.168.1.0", 256), []string{"192.168.1.0/24"}},
		{"across an octet", rangeOf("10.0.0.254", 4), []string{"10.0.0.254/31", "10.0.1.0/31"}},
		{"unsorted with duplicates", []string{"10.0.0.3", "10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.0"}, []string{"10.0.0.0/30"}},
		{"IPv6 skipped", []string{"10.0.0.0", "::1", "10.0.0.1"}, []string{"10.0.0.0/31"}},
		{"bottom of the space", rangeOf("0.0.0.0", 3), []string{"0.0.0.0/31", "0.0.0.2/32"}},
		{"top of the space", rangeOf("255.255.255.253", 3), []string{"255.255.255.253/32", "255.255.255.254/31"}},
		{"top /24", rangeOf("255.255.255.0", 256), []string{"255.255.255.0/24"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addrs []netip.Addr
			for _, s := range tt.addrs {
				addrs = append(addrs, netip.MustParseAddr(s))
			}
			var got []string
			for _, p := range coveringPrefixes(addrs) {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("(-want +got)\n-%v\n+%v", tt.want, got)
			}
		})
	}
}

// TestCoveringPrefixesRandom compares coveringPrefixes with a naive
// reference, buddy merging of /32s until nothing merges, on random pools
// with a fixed seed: same prefixes, and they expand back to the input set.
func TestCoveringPrefixesRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		base := rng.Uint32() &^ 0x3ff
		if i%50 == 0 {
			base = 0xfffffc00 // the top of the space, where hi+1 wraps
		}
		set := map[uint32]bool{}
		var addrs []netip.Addr
		for range rng.IntN(300) {
			v := base + rng.Uint32N(1024)
			if rng.IntN(4) == 0 { // runs, not just scattered addresses
				for k := range rng.Uint32N(64) {
					if v+k >= base {
						set[v+k] = true
						addrs = append(addrs, u32addr(v+k))
					}
				}
			}
			set[v] = true
			addrs = append(addrs, u32addr(v))
		}
		rng.Shuffle(len(addrs), func(a, b int) { addrs[a], addrs[b] = addrs[b], addrs[a] })

		got := coveringPrefixes(addrs)
		want := buddyMerge(set)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: %d addresses\ngot  %v\nwant %v", i, len(set), got, want)
		}
		n := 0
		for _, p := range got {
			for a := p.Addr(); p.Contains(a); a = a.Next() {
				if !set[addrU32(a)] {
					t.Fatalf("case %d: %v covers %v, which is not in the set", i, p, a)
				}
				n++
				if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
					break
				}
			}
		}
		if n != len(set) {
			t.Fatalf("case %d: prefixes cover %d addresses, want %d", i, n, len(set))
		}
	}
}

// buddyMerge is the reference: start from one /32 per address and merge
// two sibling prefixes into their parent until no pair merges.
func buddyMerge(set map[uint32]bool) []netip.Prefix {
	type pfx struct {
		v    uint32
		bits int
	}
	cur := map[pfx]bool{}
	for v := range set {
		cur[pfx{v, 32}] = true
	}
	for bits := 32; bits > 0; bits-- {
		for p := range cur {
			if p.bits != bits {
				continue
			}
			sib := pfx{p.v ^ 1<<(32-bits), bits}
			if cur[sib] {
				delete(cur, p)
				delete(cur, sib)
				cur[pfx{p.v &^ (1 << (32 - bits)), bits - 1}] = true
			}
		}
	}
	var out []netip.Prefix
	for p := range cur {
		out = append(out, netip.PrefixFrom(u32addr(p.v), p.bits))
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	return out
}

func rangeOf(first string, n int) []string {
	a := netip.MustParseAddr(first)
	var out []string
	for range n {
		out = append(out, a.String())
		a = a.Next()
	}
	return out
}
