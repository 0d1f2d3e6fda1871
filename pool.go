// The client address pool.
//
// The pool is fixed at start: from -R/-N as one range, or from an rp-pppoe
// pool file, plus the named pools of [[pool]] that RADIUS picks with
// Framed-Pool. Every address has a slot, whichever pool it is in; each pool
// keeps its free addresses on an intrusive doubly linked FIFO list over slot
// indexes, so allocating a pool's oldest-freed address, freeing, and taking
// a specific address (a static IP from the secrets file or RADIUS) are all
// O(1) and allocate nothing. The loop goroutine owns the pool; it has no
// lock.

package main

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

var (
	errPoolExhausted = errors.New("pppoe: address pool exhausted")
	errAddrInUse     = errors.New("pppoe: address already in use")
	errAddrNotInPool = errors.New("pppoe: address not in pool")
)

// poolSlot indexes an address in the pool.
type poolSlot int32

const noSlot poolSlot = -1

type ipPool struct {
	remote []uint32 // client address per slot
	local  []uint32 // server address per slot, 0 for the global -L
	byAddr map[uint32]poolSlot
	group  []uint8  // the pool each slot belongs to; 0 is -R/-N's
	names  []string // the pools' names; names[0] is ""

	inUse      []bool
	next, prev []poolSlot
	head, tail []poolSlot // per pool
	freeIn     []int      // free addresses per pool
	nfree      int
}

func newPool(remote, local []uint32) (*ipPool, error) {
	n := len(remote)
	p := &ipPool{
		remote: remote,
		local:  local,
		byAddr: make(map[uint32]poolSlot, n),
		group:  make([]uint8, n),
		names:  []string{""},
		inUse:  make([]bool, n),
		next:   make([]poolSlot, n),
		prev:   make([]poolSlot, n),
		head:   []poolSlot{noSlot},
		tail:   []poolSlot{noSlot},
		freeIn: []int{0},
	}
	for i, a := range remote {
		if _, dup := p.byAddr[a]; dup {
			return nil, fmt.Errorf("%s is listed twice", u32addr(a))
		}
		p.byAddr[a] = poolSlot(i)
		p.pushBack(poolSlot(i))
	}
	return p, nil
}

// newRangePool is the -R/-N pool: n addresses counting up from first.
func newRangePool(first netip.Addr, n int) (*ipPool, error) {
	start := addrU32(first)
	if uint64(start)+uint64(n)-1 > 0xfffffffe {
		return nil, fmt.Errorf("%s plus %d addresses runs past the IPv4 address space", first, n)
	}
	remote := make([]uint32, n)
	for i := range remote {
		remote[i] = start + uint32(i)
	}
	return newPool(remote, nil)
}

// loadPoolFile reads rp-pppoe's pool file formats, one entry a line:
//
//	a.b.c.d            one client address
//	a.b.c.d-e          a.b.c.d up to a.b.c.e (the ends may come in either order)
//	l.l.l.l:r.r.r.r    client address r with its own server address l
//
// Blank lines and lines starting with # are skipped; anything else is an
// error that names the line, and so is an address in an unusable block
// (loopback, 0.0.0.0/8, multicast, broadcast).
func loadPoolFile(path string) (*ipPool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var remote, local []uint32
	hasLocal := false
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		bad := func(why string) error { return fmt.Errorf("%s:%d: %q: %s", path, line, s, why) }
		switch {
		case strings.Contains(s, ":"):
			l, r, _ := strings.Cut(s, ":")
			la, err1 := parseIPv4(l)
			ra, err2 := parseIPv4(r)
			if err1 != nil || err2 != nil {
				return nil, bad("want local:remote IPv4 addresses")
			}
			for _, a := range []netip.Addr{la, ra} {
				if _, why, ok := unusableIn(a, 1); ok {
					return nil, bad(fmt.Sprintf("%s is in %s", a, why))
				}
			}
			remote = append(remote, addrU32(ra))
			local = append(local, addrU32(la))
			hasLocal = true
		case strings.Contains(s, "-"):
			a, e, _ := strings.Cut(s, "-")
			aa, err := parseIPv4(a)
			last, err2 := strconv.ParseUint(e, 10, 8)
			if err != nil || err2 != nil {
				return nil, bad("want a.b.c.d-e")
			}
			base := addrU32(aa) &^ 0xff
			lo, hi := addrU32(aa)&0xff, uint32(last)
			if hi < lo {
				lo, hi = hi, lo
			}
			if a, why, ok := unusableIn(u32addr(base|lo), int(hi-lo+1)); ok {
				return nil, bad(fmt.Sprintf("%s is in %s", a, why))
			}
			for d := lo; d <= hi; d++ {
				remote = append(remote, base|d)
				local = append(local, 0)
			}
		default:
			a, err := parseIPv4(s)
			if err != nil {
				return nil, bad("not an IPv4 address")
			}
			if _, why, ok := unusableIn(a, 1); ok {
				return nil, bad(fmt.Sprintf("%s is in %s", a, why))
			}
			remote = append(remote, addrU32(a))
			local = append(local, 0)
		}
		if len(remote) > 65534 {
			return nil, fmt.Errorf("%s: more than 65534 addresses", path)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(remote) == 0 {
		return nil, fmt.Errorf("%s: no addresses", path)
	}
	if !hasLocal {
		local = nil
	}
	return newPool(remote, local)
}

// setIncrementingLocal gives slot i the server address first+i (rp-pppoe -l).
func (p *ipPool) setIncrementingLocal(first netip.Addr) error {
	start := addrU32(first)
	if uint64(start)+uint64(len(p.remote))-1 > 0xfffffffe {
		return fmt.Errorf("%s plus %d addresses runs past the IPv4 address space", first, len(p.remote))
	}
	p.local = make([]uint32, len(p.remote))
	for i := range p.local {
		a := start + uint32(i)
		if _, clash := p.byAddr[a]; clash {
			return fmt.Errorf("server address %s is also a client address", u32addr(a))
		}
		p.local[i] = a
	}
	return nil
}

func (p *ipPool) size() int      { return len(p.remote) }
func (p *ipPool) available() int { return p.nfree }

// addNamed adds a named pool of n addresses counting up from first.
func (p *ipPool) addNamed(name string, first netip.Addr, n int) error {
	if name == "" || len(p.names) == 255 {
		return errors.New("a pool needs a name, and there can be at most 254")
	}
	if _, ok := p.groupOf(name); ok {
		return fmt.Errorf("pool %q is named twice", name)
	}
	start := addrU32(first)
	if n < 1 || uint64(start)+uint64(n)-1 > 0xfffffffe {
		return fmt.Errorf("pool %q: %s plus %d addresses is not a range", name, first, n)
	}
	g := uint8(len(p.names))
	p.names = append(p.names, name)
	p.head, p.tail, p.freeIn = append(p.head, noSlot), append(p.tail, noSlot), append(p.freeIn, 0)
	for i := range uint32(n) {
		a := start + i
		if _, dup := p.byAddr[a]; dup {
			return fmt.Errorf("pool %q: %s is in another pool too", name, u32addr(a))
		}
		s := poolSlot(len(p.remote))
		p.remote = append(p.remote, a)
		if p.local != nil {
			p.local = append(p.local, 0)
		}
		p.group = append(p.group, g)
		p.inUse = append(p.inUse, false)
		p.next, p.prev = append(p.next, noSlot), append(p.prev, noSlot)
		p.byAddr[a] = s
		p.pushBack(s)
	}
	return nil
}

// groupOf finds a named pool.
func (p *ipPool) groupOf(name string) (uint8, bool) {
	for i, n := range p.names {
		if n == name {
			return uint8(i), true
		}
	}
	return 0, false
}

// sizeOf is how many addresses pool g has.
func (p *ipPool) sizeOf(g uint8) int {
	n := 0
	for _, x := range p.group {
		if x == g {
			n++
		}
	}
	return n
}

func (p *ipPool) contains(a netip.Addr) bool {
	_, ok := p.byAddr[addrU32(a)]
	return ok
}

// alloc takes the address of the -R/-N pool that has been free the
// longest.
func (p *ipPool) alloc() (poolSlot, error) { return p.allocIn(0) }

// allocIn is alloc for pool g.
func (p *ipPool) allocIn(g uint8) (poolSlot, error) {
	s := p.head[g]
	if s == noSlot {
		return noSlot, errPoolExhausted
	}
	p.unlink(s)
	return s, nil
}

// allocAddr takes a specific address, for a static IP from the secrets file.
func (p *ipPool) allocAddr(a netip.Addr) (poolSlot, error) {
	s, ok := p.byAddr[addrU32(a)]
	if !ok {
		return noSlot, errAddrNotInPool
	}
	if p.inUse[s] {
		return noSlot, errAddrInUse
	}
	p.unlink(s)
	return s, nil
}

// free returns a slot to the back of the free list. Freeing a free slot is a
// no-op, so a session's single teardown path can call it unconditionally.
func (p *ipPool) free(s poolSlot) {
	if s < 0 || int(s) >= len(p.inUse) || !p.inUse[s] {
		return
	}
	p.pushBack(s)
}

// remoteAddr is the client address of slot s.
func (p *ipPool) remoteAddr(s poolSlot) netip.Addr { return u32addr(p.remote[s]) }

// localAddr is the server address for slot s, or def when the slot has none.
func (p *ipPool) localAddr(s poolSlot, def netip.Addr) netip.Addr {
	if p.local == nil || p.local[s] == 0 {
		return def
	}
	return u32addr(p.local[s])
}

func (p *ipPool) pushBack(s poolSlot) {
	g := p.group[s]
	p.inUse[s] = false
	p.next[s], p.prev[s] = noSlot, p.tail[g]
	if p.tail[g] != noSlot {
		p.next[p.tail[g]] = s
	} else {
		p.head[g] = s
	}
	p.tail[g] = s
	p.freeIn[g]++
	p.nfree++
}

func (p *ipPool) unlink(s poolSlot) {
	g := p.group[s]
	n, pr := p.next[s], p.prev[s]
	if pr != noSlot {
		p.next[pr] = n
	} else {
		p.head[g] = n
	}
	if n != noSlot {
		p.prev[n] = pr
	} else {
		p.tail[g] = pr
	}
	p.inUse[s] = true
	p.freeIn[g]--
	p.nfree--
}

// unusableBlocks are the IPv4 blocks that can be neither end of a PPP
// link, in ascending order: "this network" and loopback, which RFC 1122
// §3.2.1.3 forbids as a source or destination on the wire; multicast
// (RFC 5771); and the limited broadcast address (RFC 919). pppd refuses
// loopback, multicast and broadcast for a peer too (bad_ip_adrs in ipcp.c).
var unusableBlocks = []struct {
	first, last uint32
	what        string
}{
	{0x00000000, 0x00ffffff, "0.0.0.0/8 (this network)"},
	{0x7f000000, 0x7fffffff, "127.0.0.0/8 (loopback)"},
	{0xe0000000, 0xefffffff, "224.0.0.0/4 (multicast)"},
	{0xffffffff, 0xffffffff, "255.255.255.255 (broadcast)"},
}

// unusableIn returns the lowest of the n addresses counting up from first
// that lies in an unusable block, and that block; ok is false if none does.
func unusableIn(first netip.Addr, n int) (a netip.Addr, block string, ok bool) {
	if n < 1 {
		return netip.Addr{}, "", false
	}
	lo := uint64(addrU32(first))
	hi := lo + uint64(n) - 1
	for _, b := range unusableBlocks {
		if lo <= uint64(b.last) && hi >= uint64(b.first) {
			return u32addr(uint32(max(lo, uint64(b.first)))), b.what, true
		}
	}
	return netip.Addr{}, "", false
}

func addrU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func u32addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
