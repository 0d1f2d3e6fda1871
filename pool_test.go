package main

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// refPool is the naive reference: a slice of free addresses in FIFO order.
type refPool struct {
	free  []uint32
	inUse map[uint32]bool
}

func (r *refPool) alloc() (uint32, bool) {
	if len(r.free) == 0 {
		return 0, false
	}
	a := r.free[0]
	r.free = r.free[1:]
	r.inUse[a] = true
	return a, true
}

func (r *refPool) allocAddr(a uint32) bool {
	for i, f := range r.free {
		if f == a {
			r.free = append(r.free[:i:i], r.free[i+1:]...)
			r.inUse[a] = true
			return true
		}
	}
	return false
}

func (r *refPool) release(a uint32) {
	if r.inUse[a] {
		delete(r.inUse, a)
		r.free = append(r.free, a)
	}
}

// TestPoolDifferential drives the pool and the reference with the same
// random operations and checks they agree at every step.
func TestPoolDifferential(t *testing.T) {
	const n = 50
	p, err := newRangePool(netip.MustParseAddr("10.0.0.2"), n)
	if err != nil {
		t.Fatal(err)
	}
	ref := &refPool{inUse: map[uint32]bool{}}
	for i := range n {
		ref.free = append(ref.free, addrU32(netip.MustParseAddr("10.0.0.2"))+uint32(i))
	}
	held := map[uint32]poolSlot{}
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		switch op := rng.IntN(10); {
		case op < 4:
			s, err := p.alloc()
			a, ok := ref.alloc()
			if (err == nil) != ok {
				t.Fatalf("step %d alloc: pool err %v, reference ok %v", step, err, ok)
			}
			if ok {
				if got := addrU32(p.remoteAddr(s)); got != a {
					t.Fatalf("step %d alloc: pool gave %s, reference %s", step, u32addr(got), u32addr(a))
				}
				held[a] = s
			}
		case op < 6:
			a := addrU32(netip.MustParseAddr("10.0.0.2")) + uint32(rng.IntN(n+2)) // may be outside
			s, err := p.allocAddr(u32addr(a))
			ok := ref.allocAddr(a)
			if (err == nil) != ok {
				t.Fatalf("step %d allocAddr %s: pool err %v, reference ok %v", step, u32addr(a), err, ok)
			}
			if ok {
				held[a] = s
			}
		default:
			for a, s := range held {
				p.free(s)
				p.free(s) // a double free is a no-op
				ref.release(a)
				delete(held, a)
				break
			}
		}
		if p.available() != len(ref.free) {
			t.Fatalf("step %d: available %d, reference %d", step, p.available(), len(ref.free))
		}
	}
}

func TestPoolExhaustion(t *testing.T) {
	p, _ := newRangePool(netip.MustParseAddr("10.0.0.2"), 2)
	a, _ := p.alloc()
	b, _ := p.alloc()
	if _, err := p.alloc(); err != errPoolExhausted {
		t.Fatalf("third alloc: %v", err)
	}
	if a == b {
		t.Fatal("same slot twice")
	}
	if _, err := p.allocAddr(p.remoteAddr(a)); err != errAddrInUse {
		t.Fatalf("allocAddr of a held address: %v", err)
	}
}
