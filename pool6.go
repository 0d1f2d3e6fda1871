// The IPv6 prefix pools: the /64s that Router Advertisements announce, one
// per session, from ipv6_prefix_pool, and the prefixes DHCPv6 delegates,
// of ipv6_delegated_length, from ipv6_delegated_pool; plus the named ones
// of [[pool]] that RADIUS picks with Framed-IPv6-Pool and
// Delegated-IPv6-Prefix-Pool.
//
// A pool is exact and FIFO, like the IPv4 pool: a prefix is never held by
// two live sessions, prefixes never handed out go first, and one given
// back is reused only after every prefix given back before it. A pool
// uses at most maxPoolPrefixes of its prefixes (more than -N can ever
// hold), so its state is a bitmap and a queue of the returned ones.
// Prefixes RADIUS names outside every pool are held in a set, so two live
// sessions cannot get the same one either. The loop goroutine owns the
// pools; they have no lock.

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
)

const maxPoolPrefixes = 1 << 16

var (
	errPrefixExhausted = errors.New("pppoe: IPv6 prefix pool exhausted")
	errPrefixInUse     = errors.New("pppoe: IPv6 prefix already in use")
	errPrefixOverlaps  = errors.New("pppoe: IPv6 prefix overlaps a pool without being one of its prefixes")
)

type prefixPool struct {
	base  netip.Prefix
	bits  int    // the length of the prefixes handed out
	size  uint32 // how many of them the pool uses
	next  uint32 // prefixes below next have been handed out before
	inUse []uint64
	free  []uint32 // given back, oldest first, from head; may hold stale entries
	head  int
	live  int
}

// newPrefixPool splits base into prefixes of length bits.
func newPrefixPool(base netip.Prefix, bits int) (*prefixPool, error) {
	base = base.Masked()
	if !base.Addr().Is6() || base.Addr().Is4In6() {
		return nil, fmt.Errorf("%s is not an IPv6 prefix", base)
	}
	if bits < base.Bits() || bits > 64 {
		return nil, fmt.Errorf("%s cannot be split into /%d prefixes (want /%d to /64)", base, bits, base.Bits())
	}
	n := uint64(1) << min(bits-base.Bits(), 32)
	size := uint32(min(n, maxPoolPrefixes))
	return &prefixPool{base: base, bits: bits, size: size, inUse: make([]uint64, (size+63)/64)}, nil
}

func (p *prefixPool) used(i uint32) bool { return p.inUse[i/64]&(1<<(i%64)) != 0 }
func (p *prefixPool) mark(i uint32, on bool) {
	if on {
		p.inUse[i/64] |= 1 << (i % 64)
	} else {
		p.inUse[i/64] &^= 1 << (i % 64)
	}
}

// at is the pool's i-th prefix.
func (p *prefixPool) at(i uint32) netip.Prefix {
	a := p.base.Addr().As16()
	// Add i at the prefix's last bit: bits ≤ 64, so the index lands in
	// the upper half.
	hi := binary.BigEndian.Uint64(a[:8]) + uint64(i)<<(64-p.bits)
	binary.BigEndian.PutUint64(a[:8], hi)
	return netip.PrefixFrom(netip.AddrFrom16(a), p.bits)
}

// indexOf is the index of pfx in the pool, if it is one of its prefixes.
func (p *prefixPool) indexOf(pfx netip.Prefix) (uint32, bool) {
	if pfx.Bits() != p.bits || !p.base.Contains(pfx.Addr()) || pfx.Masked() != pfx {
		return 0, false
	}
	a, b := pfx.Addr().As16(), p.base.Addr().As16()
	d := (binary.BigEndian.Uint64(a[:8]) - binary.BigEndian.Uint64(b[:8])) >> (64 - p.bits)
	if d >= uint64(p.size) {
		return 0, false
	}
	return uint32(d), true
}

// alloc hands out the prefix that has waited longest.
func (p *prefixPool) alloc() (netip.Prefix, error) {
	for p.next < p.size {
		i := p.next
		p.next++
		if !p.used(i) {
			p.mark(i, true)
			p.live++
			return p.at(i), nil
		}
	}
	for p.head < len(p.free) {
		i := p.free[p.head]
		p.head++
		if p.head > 1024 && p.head*2 > len(p.free) {
			p.free = append(p.free[:0], p.free[p.head:]...)
			p.head = 0
		}
		if !p.used(i) {
			p.mark(i, true)
			p.live++
			return p.at(i), nil
		}
	}
	return netip.Prefix{}, errPrefixExhausted
}

// take holds a given prefix of the pool (one RADIUS named).
func (p *prefixPool) take(i uint32) error {
	if p.used(i) {
		return errPrefixInUse
	}
	p.mark(i, true)
	p.live++
	return nil
}

func (p *prefixPool) give(i uint32) {
	if !p.used(i) {
		return
	}
	p.mark(i, false)
	p.live--
	if i < p.next {
		p.free = append(p.free, i)
	}
}

func (p *prefixPool) available() int { return int(p.size) - p.live }

// prefixKind is every pool of one kind (the /64s, or delegated prefixes):
// the default one under "" and the named ones, plus the prefixes outside
// them that sessions hold.
type prefixKind struct {
	pools map[string]*prefixPool
	fixed map[netip.Prefix]bool
}

// get hands out the prefix of pool name that has waited longest.
func (k *prefixKind) get(name string) (netip.Prefix, error) {
	p := k.pools[name]
	if p == nil {
		return netip.Prefix{}, errPrefixExhausted
	}
	return p.alloc()
}

// put gives back a prefix get handed out.
func (k *prefixKind) put(pfx netip.Prefix) {
	if !pfx.IsValid() {
		return
	}
	for _, p := range k.pools {
		if i, ok := p.indexOf(pfx); ok {
			p.give(i)
			return
		}
	}
	delete(k.fixed, pfx)
}

// live counts the prefixes held now; size is what the pools hold in all.
func (k *prefixKind) live() (live, size int) {
	for _, p := range k.pools {
		live += p.live
		size += int(p.size)
	}
	return live + len(k.fixed), size
}

func (k *prefixKind) add(name string, p *prefixPool) {
	if k.pools == nil {
		k.pools = map[string]*prefixPool{}
	}
	k.pools[name] = p
}

// v6Pools are the server's IPv6 pools. A nil *v6Pools is IPv6 off.
type v6Pools struct {
	prefix    prefixKind // the /64s
	delegated prefixKind
	dns       []netip.Addr
}

// get hands out a prefix of kind k: want itself when it is valid (from
// RADIUS), else one from the pool name. A wanted prefix is taken out of
// its pool when it is one of the pool's prefixes, or held as a fixed one
// when it is outside every pool; one that overlaps a pool of either kind
// otherwise, or a prefix another session holds, is refused, so no two
// sessions ever route or send from the same addresses.
func (v *v6Pools) get(k *prefixKind, name string, want netip.Prefix) (netip.Prefix, error) {
	if !want.IsValid() {
		return k.get(name)
	}
	want = want.Masked()
	for _, p := range k.pools {
		if i, ok := p.indexOf(want); ok {
			return want, p.take(i)
		}
	}
	for _, kk := range []*prefixKind{&v.prefix, &v.delegated} {
		for _, p := range kk.pools {
			if p.base.Overlaps(want) {
				return netip.Prefix{}, errPrefixOverlaps
			}
		}
		for f := range kk.fixed {
			if f.Overlaps(want) {
				return netip.Prefix{}, errPrefixInUse
			}
		}
	}
	if k.fixed == nil {
		k.fixed = map[netip.Prefix]bool{}
	}
	k.fixed[want] = true
	return want, nil
}

// enabled reports whether sessions get IPv6 at all: a pool of /64s
// exists (ipv6_prefix_pool, or a [[pool]]'s).
func (v *v6Pools) enabled() bool { return v != nil && len(v.prefix.pools) > 0 }

// bases are the prefixes the pools split, every kind: the default pools
// first, then the named ones by name, so rules built from them come out
// the same every time.
func (v *v6Pools) bases() []netip.Prefix {
	var out []netip.Prefix
	for _, k := range []*prefixKind{&v.prefix, &v.delegated} {
		for _, name := range slices.Sorted(maps.Keys(k.pools)) {
			out = append(out, k.pools[name].base)
		}
	}
	return out
}

// covers reports whether a pool's prefix holds pfx.
func (v *v6Pools) covers(pfx netip.Prefix) bool {
	for _, k := range []*prefixKind{&v.prefix, &v.delegated} {
		for _, p := range k.pools {
			if p.base.Bits() <= pfx.Bits() && p.base.Contains(pfx.Addr()) {
				return true
			}
		}
	}
	return false
}

// isBase reports whether pfx is a pool's whole prefix.
func (v *v6Pools) isBase(pfx netip.Prefix) bool {
	for _, k := range []*prefixKind{&v.prefix, &v.delegated} {
		for _, p := range k.pools {
			if p.base == pfx {
				return true
			}
		}
	}
	return false
}
