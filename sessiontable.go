// The session table.
//
// The table preallocates one slot per session ID at start (-N of them), so
// looking a session up by ID is an index and creating one takes a slot
// rather than allocating. Free IDs wait in a FIFO ring: the ID freed longest
// ago is reused first, so a stale frame for an old session is unlikely to hit
// a new one. Each slot counts its uses (gen), so an answer that comes back
// for an earlier session in the same slot is recognised. The loop goroutine
// owns the table; it has no lock. The IDs in use are also kept in a dense
// list, so that walking the live sessions (the tick, the control socket)
// costs what there is, not -N slots.
//
// RFC 2516 §4 identifies a session by the peer's MAC and the session ID
// together, so every lookup from the wire checks both.

package main

import "encoding/binary"

// startKey finds a session by the PADR that opened it: the peer and the
// cookie's MAC, which is unique per PADO.
type startKey struct {
	peer   hwAddr
	cookie [cookieMACLen]byte
}

type sessionTable struct {
	offset uint16
	slots  []session
	free   idRing
	live   []uint16 // the IDs in use, in no order; slot.liveAt indexes it
	active int
	// inSetup counts sessions not yet up once (PADS sent, IPCP not
	// opened), which the setup cap bounds.
	inSetup int

	perMAC   map[hwAddr]int
	byCookie map[startKey]uint16 // every live session, by its PADR
}

func newSessionTable(n, offset int, random bool) *sessionTable {
	t := &sessionTable{
		offset:   uint16(offset),
		slots:    make([]session, n),
		free:     idRing{ids: make([]uint16, n)},
		live:     make([]uint16, 0, n),
		perMAC:   make(map[hwAddr]int),
		byCookie: make(map[startKey]uint16),
	}
	ids := make([]uint16, n)
	for i := range ids {
		ids[i] = uint16(offset + 1 + i)
		t.slots[i].id = ids[i]
		t.slots[i].slot = noSlot
	}
	if random {
		shuffle(ids)
	}
	for _, id := range ids {
		t.free.push(id)
	}
	return t
}

// shuffle is a Fisher-Yates shuffle driven by crypto/rand, so session IDs do
// not follow a guessable sequence.
func shuffle(ids []uint16) {
	var b [8]byte
	for i := len(ids) - 1; i > 0; i-- {
		fillRandom(b[:])
		j := int(binary.LittleEndian.Uint64(b[:]) % uint64(i+1))
		ids[i], ids[j] = ids[j], ids[i]
	}
}

func (t *sessionTable) size() int  { return len(t.slots) }
func (t *sessionTable) full() bool { return t.free.n == 0 }

// lookup returns the live session with this ID, or nil.
func (t *sessionTable) lookup(id uint16) *session {
	i := int(id) - int(t.offset) - 1
	if i < 0 || i >= len(t.slots) || t.slots[i].state == stateFree {
		return nil
	}
	return &t.slots[i]
}

// lookupPeer is lookup that also requires the peer's MAC and interface to
// match, as RFC 2516 keys a session by both.
func (t *sessionTable) lookupPeer(ifc *iface, peer hwAddr, id uint16) *session {
	s := t.lookup(id)
	if s == nil || s.peer != peer || s.iface != ifc {
		return nil
	}
	return s
}

// each calls fn for every live session, in no particular order.
func (t *sessionTable) each(fn func(*session)) {
	for i := 0; i < len(t.live); i++ {
		fn(&t.slots[int(t.live[i])-int(t.offset)-1])
	}
}

// create takes a free ID for peer. It returns nil when the table is full.
func (t *sessionTable) create(srv *server, ifc *iface, peer hwAddr, cookieMAC [cookieMACLen]byte) *session {
	id, ok := t.free.pop()
	if !ok {
		return nil
	}
	s := &t.slots[int(id)-int(t.offset)-1]
	*s = session{srv: srv, id: id, gen: s.gen + 1, state: stateStarting, iface: ifc, peer: peer, cookieMAC: cookieMAC, slot: noSlot,
		liveAt: int32(len(t.live))}
	t.live = append(t.live, id)
	t.active++
	t.inSetup++
	t.perMAC[peer]++
	t.byCookie[startKey{peer, cookieMAC}] = id
	return s
}

// findByPADR returns the live session a PADR with this cookie opened, for a
// retransmitted PADR. A client that starts over sends a PADI first and so
// a PADR with another cookie; the same cookie is always the same PADR,
// even after the session has gone on (our PADS was slow, not lost).
func (t *sessionTable) findByPADR(peer hwAddr, cookieMAC [cookieMACLen]byte) *session {
	id, ok := t.byCookie[startKey{peer, cookieMAC}]
	if !ok {
		return nil
	}
	return t.lookup(id)
}

// markActive records that the peer has spoken PPP.
func (t *sessionTable) markActive(s *session) {
	s.state = stateActive
}

// setUp records that s has been up once: it no longer counts against the
// sessions in setup.
func (t *sessionTable) setUp(s *session) {
	if !s.setupDone {
		s.setupDone = true
		t.inSetup--
	}
}

// release frees s and its ID. It is the only place a session leaves the
// table; only the loop's reaper calls it.
func (t *sessionTable) release(s *session) {
	if s.state == stateFree {
		return
	}
	if k := (startKey{s.peer, s.cookieMAC}); t.byCookie[k] == s.id {
		// Not another interface's session with the same key.
		delete(t.byCookie, k)
	}
	if t.perMAC[s.peer]--; t.perMAC[s.peer] <= 0 {
		delete(t.perMAC, s.peer)
	}
	if !s.setupDone {
		t.inSetup--
	}
	id, gen := s.id, s.gen
	last := t.live[len(t.live)-1]
	t.live[s.liveAt] = last
	t.slots[int(last)-int(t.offset)-1].liveAt = s.liveAt
	t.live = t.live[:len(t.live)-1]
	*s = session{id: id, gen: gen, slot: noSlot}
	t.active--
	t.free.push(id)
}

// idRing is a FIFO of free session IDs.
type idRing struct {
	ids     []uint16
	head, n int
}

func (r *idRing) push(id uint16) {
	r.ids[(r.head+r.n)%len(r.ids)] = id
	r.n++
}

func (r *idRing) pop() (uint16, bool) {
	if r.n == 0 {
		return 0, false
	}
	id := r.ids[r.head]
	r.head = (r.head + 1) % len(r.ids)
	r.n--
	return id, true
}
