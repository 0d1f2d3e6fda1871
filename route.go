// Which routes send the address pool to the TUN device.
//
// coveringPrefixes turns the pool's addresses into the fewest CIDR prefixes
// that cover them and nothing else, so a /26 pool costs one route and not 64.
// It is pure and platform independent; netlink_linux.go installs the result.

package main

import (
	"math/bits"
	"net/netip"
	"slices"
)

// coveringPrefixes returns the minimal set of IPv4 prefixes whose union is
// exactly the set addrs, in ascending order. addrs may be in any order and
// hold duplicates; entries that are not IPv4 are skipped (the pool is IPv4
// only). The caller keeps addrs.
func coveringPrefixes(addrs []netip.Addr) []netip.Prefix {
	vs := make([]uint32, 0, len(addrs))
	for _, a := range addrs {
		if a.Is4() {
			vs = append(vs, addrU32(a))
		}
	}
	slices.Sort(vs)
	vs = slices.Compact(vs)
	var out []netip.Prefix
	for i := 0; i < len(vs); {
		j := i
		for j+1 < len(vs) && vs[j+1] == vs[j]+1 {
			j++
		}
		out = appendRangePrefixes(out, vs[i], vs[j])
		i = j + 1
	}
	return out
}

// appendRangePrefixes appends the CIDR split of the range lo..hi: at each
// step the largest block that starts at lo, is aligned to its size and ends
// by hi. Maximal runs split this way give the minimal cover, since a prefix
// is itself a run and cannot span a gap.
func appendRangePrefixes(out []netip.Prefix, lo, hi uint32) []netip.Prefix {
	for start, end := uint64(lo), uint64(hi); start <= end; {
		size := uint64(1) << 32
		if start != 0 {
			size = start & -start
		}
		for start+size-1 > end {
			size >>= 1
		}
		out = append(out, netip.PrefixFrom(u32addr(uint32(start)), 32-bits.TrailingZeros64(size)))
		start += size
	}
	return out
}
