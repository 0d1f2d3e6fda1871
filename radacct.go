// RADIUS accounting (RFC 2866, 2869) that loses nothing: Accounting-On at
// start, Start, Interim-Update and Stop per session, Accounting-Off at a
// clean stop.
//
// The event loop (and main, for Accounting-On and -Off) encodes each
// record's attributes into a pooled acctRec (nothing allocated once the
// pool is warm) and posts it; runRadius owns everything else here. Records wait in a FIFO and go out oldest first, at
// most acctWindow at a time, each with an Acct-Delay-Time of its age at
// every transmission. When no server answers, the record goes back to the
// head of the queue and sending pauses for a while. Past acctMemQueue
// records the queue spills to the spool file, and while the spool holds
// anything new records go there too, so the order holds; the spool is read
// back as the queue empties, and truncated once all of it is delivered. At
// a clean stop what is still waiting is written to the spool, oldest
// first, and the next start sends it before anything new. At a clean
// stop, only a spool that cannot be written loses records, each logged and
// counted. A crash loses what was only in memory (up to acctMemQueue
// queued and acctWindow in flight; the spool is not synced per record),
// cuts at most the last spooled line short (dropped and counted at the
// next start), and can send spooled records a second time (the spool does
// not remember how far it was delivered).

package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	acctWindow   = 32   // records in flight at once
	acctMemQueue = 4096 // records kept in memory before the spool
	acctPause    = 5 * time.Second
)

// acctRec is one accounting record waiting to be delivered.
type acctRec struct {
	a     *radiusAccounting
	b     []byte // the attributes, Acct-Delay-Time aside
	event time.Time
	req   radReq
	slot  int // in sending, while in flight
}

// acctRecPool holds records with their buffers and done functions made,
// so posting a record allocates nothing once it is warm.
var acctRecPool sync.Pool

func init() {
	// In init: a record's done function puts it back in the pool.
	acctRecPool.New = func() any {
		r := &acctRec{b: make([]byte, 0, 1024)}
		r.req.done = r.delivered
		return r
	}
}

type radiusAccounting struct {
	c      *radiusClient
	nasID  string
	acName string
	log    *logger

	stopOnce sync.Once

	mu     sync.Mutex
	in     []*acctRec // posted, not yet taken by runRadius
	inNext []*acctRec // runRadius's: the slice that becomes in next, so posting allocates nothing

	// runRadius's.
	spoolWarned time.Time // the last warning about reading or emptying the spool
	queue       acctQueue // oldest first
	sending     [acctWindow]*acctRec
	inflight    int
	pausedUntil time.Time
	spool       *acctSpool
	flushing    chan struct{} // closed when a flush is done
	flushBy     time.Time

	sent, retried, dropped, spooled atomic.Uint64
	queued, spoolPending            atomic.Int64 // gauges pump keeps, for show stat
	sessionPrefix                   string       // of Acct-Session-Ids: unique across restarts
}

// stat is show stat's RADIUS part; any goroutine.
func (a *radiusAccounting) stat(dae *daeServer) *radiusStat {
	st := &radiusStat{}
	roles := map[*radiusServer]string{}
	var order []*radiusServer
	for _, l := range []struct {
		srvs []*radiusServer
		role string
	}{{a.c.servers, "auth"}, {a.c.acctSrvs, "acct"}} {
		for _, s := range l.srvs {
			if roles[s] == "" {
				order = append(order, s)
				roles[s] = l.role
			} else if roles[s] != l.role {
				roles[s] = "auth+acct"
			}
		}
	}
	for _, s := range order {
		st.Servers = append(st.Servers, radiusServerStat{Server: s.name, Role: roles[s], Requests: s.stats.requests.Load(),
			Retransmits: s.stats.retransmits.Load(), Timeouts: s.stats.timeouts.Load(), Accepts: s.stats.accepts.Load(),
			Rejects: s.stats.rejects.Load(), AcctResponses: s.stats.acctResponses.Load(), Dropped: s.stats.dropped.Load(),
			Dead: s.stats.dead.Load()})
	}
	ac := &st.Accounting
	ac.Queued, ac.SpoolPending = a.queued.Load(), a.spoolPending.Load()
	ac.Sent, ac.Retried, ac.Spooled, ac.Dropped = a.sent.Load(), a.retried.Load(), a.spooled.Load(), a.dropped.Load()
	if dae != nil {
		st.DAEServed, st.DAEDropped = dae.served.Load(), dae.dropped.Load()
	}
	return st
}

func newRadiusAccounting(c *radiusClient, rc *radiusConfig, acName string, log *logger) (*radiusAccounting, error) {
	a := &radiusAccounting{c: c, nasID: rc.NASIdentifier, acName: acName, log: log}
	var p [4]byte
	fillRandom(p[:])
	a.sessionPrefix = fmt.Sprintf("%08X", uint32(time.Now().Unix())^uint32(p[0])<<24^uint32(p[1])<<16^uint32(p[2])<<8^uint32(p[3]))
	sp, err := openAcctSpool(rc.AcctSpool)
	if err != nil {
		return nil, err
	}
	a.spool = sp
	if sp.torn > 0 {
		a.dropped.Add(1)
		log.Warn("RADIUS accounting: the spool's last record was cut short by a crash and is lost", "bytes", sp.torn, "spool", sp.path)
	}
	if n := sp.pending(); n > 0 {
		log.Info("RADIUS accounting: records from before the last stop will be sent first", "records", n, "spool", sp.path)
	}
	c.acct = a
	return a, nil
}

// sessionID makes a session's Acct-Session-Id: this process's prefix,
// then a number that no other session of this process has.
func (a *radiusAccounting) sessionID(n uint64) string {
	return a.sessionPrefix + fmt.Sprintf("%08X", n)
}

// post hands a record to runRadius. Any goroutine.
func (a *radiusAccounting) post(r *acctRec) {
	a.mu.Lock()
	a.in = append(a.in, r)
	a.mu.Unlock()
	a.c.nudge()
}

// acctStatus maps a record kind to Acct-Status-Type.
var acctStatus = [...]uint32{acctStart: acctStatusStart, acctInterim: acctStatusInterim, acctStop: acctStatusStop}

// record encodes one record of session s and posts it. Loop only; it
// allocates nothing once the record pool is warm.
func (a *radiusAccounting) record(kind acctKind, s *session, now time.Time, c trafficCounts) {
	r := acctRecPool.Get().(*acctRec)
	r.a, r.event = a, now
	b := appendAttr32(r.b[:0], attrAcctStatusType, acctStatus[kind])
	b = appendAttrString(b, attrUserName, s.auth.user)
	b = radiusNASAttrs(b, a.nasID, a.c, a.acName, s.id, s.iface.name, s.peer, s.iface.mac, s.acctSessionID, s.line)
	if s.acctIP.Is4() {
		ip := s.acctIP.As4()
		b = appendAttr(b, attrFramedIPAddress, ip[:])
	}
	// IPv6 (RFC 3162, 4818): the /64 is the session's from the network
	// phase on, so a Start has it; the delegated prefix comes with the
	// first DHCPv6 exchange, after the Start when IPCP came up first, and
	// the Interims and the Stop carry it. Both stay after they went back to
	// the pools, for the Stop.
	if s.v6.acctPrefix.IsValid() {
		b = appendAttrIPv6Prefix(b, attrFramedIPv6Prefix, s.v6.acctPrefix)
	}
	if s.v6.acctDelegated.IsValid() {
		b = appendAttrIPv6Prefix(b, attrDelegatedIPv6Prefix, s.v6.acctDelegated)
	}
	if id := s.ipv6cpL.peer; id != ([ifaceIDLen]byte{}) {
		b = appendAttr(b, attrFramedInterfaceID, id[:])
	}
	for _, cl := range s.auth.result.class {
		b = appendAttr(b, attrClass, cl)
	}
	authentic := uint32(acctAuthenticLocal)
	if s.auth.result.source == "radius" {
		authentic = acctAuthenticRADIUS
	}
	b = appendAttr32(b, attrAcctAuthentic, authentic)
	b = appendAttr32(b, attrEventTimestamp, uint32(now.Unix()))
	if kind != acctStart {
		b = appendAttr32(b, attrAcctSessionTime, uint32(max(now.Sub(s.acctStart), 0)/time.Second))
		// Input is what the user sent: our rx.
		b = appendAttr32(b, attrAcctInputOctets, uint32(c.rxBytes))
		b = appendAttr32(b, attrAcctInputGigawords, uint32(c.rxBytes>>32))
		b = appendAttr32(b, attrAcctOutputOctets, uint32(c.txBytes))
		b = appendAttr32(b, attrAcctOutputGigawords, uint32(c.txBytes>>32))
		b = appendAttr32(b, attrAcctInputPackets, uint32(c.rxPackets))
		b = appendAttr32(b, attrAcctOutputPackets, uint32(c.txPackets))
	}
	if kind == acctStop {
		b = appendAttr32(b, attrAcctTerminateCause, terminateCause(s.endReason))
	}
	r.b = b
	a.post(r)
}

// onOff posts Accounting-On or -Off (RFC 2866 §5.1): the NAS came up or
// goes down, so the server may close what it holds open for it.
func (a *radiusAccounting) onOff(status uint32, now time.Time) {
	r := acctRecPool.Get().(*acctRec)
	r.a, r.event = a, now
	b := appendAttr32(r.b[:0], attrAcctStatusType, status)
	b = appendAttrString(b, attrNASIdentifier, a.nasID)
	b = a.c.appendNASAddrs(b)
	b = appendAttrString(b, attrAcctSessionID, a.sessionPrefix+"00000000")
	b = appendAttr32(b, attrEventTimestamp, uint32(now.Unix()))
	r.b = b
	a.post(r)
}

// terminateCause is RFC 2866 §5.10's Acct-Terminate-Cause for an end
// reason.
func terminateCause(reason string) uint32 {
	switch reasonKind(reason) {
	case "peer sent PADT", "LCP terminated":
		return 1 // User-Request
	case "no answer to LCP echo requests":
		return 2 // Lost-Carrier
	case "idle timeout":
		return 4 // Idle-Timeout
	case "session timeout":
		return 5 // Session-Timeout
	case "admin", "disconnected by RADIUS":
		return 6 // Admin-Reset
	case "server shutting down":
		return 7 // Admin-Reboot
	case "replaced by a new login":
		return 13 // Port-Preempted
	case "address pool exhausted":
		return 15 // Service-Unavailable
	case "authentication failed":
		return 17 // User-Error
	}
	return 10 // NAS-Request
}

// delivered is a record's done function, on runRadius.
func (r *acctRec) delivered(_ *radiusPacket, _ *radiusServer, err error) {
	a := r.a
	a.sending[r.slot] = nil
	a.inflight--
	if err != nil {
		// Nobody answered: back to the head of the queue, and a pause
		// before the next try.
		a.retried.Add(1)
		a.queue.pushFront(r)
		a.pausedUntil = time.Now().Add(acctPause)
		return
	}
	a.sent.Add(1)
	r.b = r.b[:0]
	acctRecPool.Put(r)
}

// pump moves posted records into the queue or the spool, reads the spool
// back as the queue empties, and sends what the window allows. runRadius
// only.
func (a *radiusAccounting) pump(now time.Time) {
	a.mu.Lock()
	in := a.in
	a.in, a.inNext = a.inNext[:0], nil
	a.mu.Unlock()
	defer func() {
		clear(in)
		a.inNext = in[:0]
	}()
	for _, r := range in {
		if a.spool.pending() > 0 || a.queue.len() >= acctMemQueue {
			a.toSpool(r)
			continue
		}
		a.queue.push(r)
	}
	if a.queue.len() == 0 && a.spool.pending() > 0 {
		rs, err := a.spool.read(acctMemQueue / 2)
		if err != nil && now.Sub(a.spoolWarned) >= time.Minute {
			// Tried again at every pump: said once a minute.
			a.spoolWarned = now
			a.log.Warn("RADIUS accounting: reading the spool failed", "spool", a.spool.path, "err", err)
		}
		for _, r := range rs {
			r.a = a
			a.queue.push(r)
		}
	}
	if a.inflight == 0 && a.queue.len() == 0 && a.spool.pending() == 0 && a.spool.dirty() {
		if err := a.spool.truncate(); err != nil && now.Sub(a.spoolWarned) >= time.Minute {
			a.spoolWarned = now
			a.log.Warn("RADIUS accounting: emptying the spool failed", "spool", a.spool.path, "err", err)
		}
	}
	if a.flushing != nil && ((a.inflight == 0 && a.queue.len() == 0 && a.spool.pending() == 0) || now.After(a.flushBy)) {
		a.saveForNextStart()
		close(a.flushing)
		a.flushing = nil
		return
	}
	a.queued.Store(int64(a.queue.len() + a.inflight))
	a.spoolPending.Store(int64(a.spool.pending()))
	if now.Before(a.pausedUntil) {
		return
	}
	// A record that fails at once (no socket to be had) is back at the
	// head with a pause set: stop there rather than spin on it.
	for a.inflight < acctWindow && a.queue.len() > 0 && !now.Before(a.pausedUntil) {
		r := a.queue.pop()
		r.req = radReq{acct: true, code: radAccountingRequest, attrs: r.b, event: r.event, done: r.req.done}
		for i, x := range a.sending {
			if x == nil {
				a.sending[i], r.slot = r, i
				break
			}
		}
		a.inflight++
		a.c.first(&r.req, now)
	}
}

func (a *radiusAccounting) toSpool(r *acctRec) {
	if err := a.spool.append(r); err != nil {
		a.dropped.Add(1)
		a.log.Error("RADIUS accounting: record lost: the spool cannot be written", "spool", a.spool.path, "err", err)
	} else {
		a.spooled.Add(1)
	}
	r.b = r.b[:0]
	acctRecPool.Put(r)
}

// saveForNextStart writes what is undelivered to the spool, oldest first:
// what is in flight and queued, then what the spool still holds.
func (a *radiusAccounting) saveForNextStart() {
	var old []*acctRec
	for i, r := range a.sending {
		if r == nil {
			continue
		}
		// In flight and unanswered: a late answer will find nothing.
		if r.req.sock != nil {
			a.c.release(&r.req)
		}
		a.sending[i] = nil
		a.inflight--
		old = append(old, r)
	}
	slices.SortFunc(old, func(x, y *acctRec) int { return x.event.Compare(y.event) })
	rest, err := a.spool.read(-1)
	if err != nil {
		a.log.Warn("RADIUS accounting: reading the spool failed", "err", err)
	}
	for a.queue.len() > 0 {
		old = append(old, a.queue.pop())
	}
	old = append(old, rest...)
	if len(old) == 0 {
		return
	}
	if err := a.spool.rewrite(old); err != nil {
		a.dropped.Add(uint64(len(old)))
		a.log.Error("RADIUS accounting: records lost: the spool cannot be written", "records", len(old), "err", err)
		return
	}
	a.log.Info("RADIUS accounting: records kept in the spool for the next start", "records", len(old), "spool", a.spool.path)
}

// acctSpool is the spool file: one record a line, the event time in Unix
// nanoseconds and the attributes in hex. runRadius owns it.
type acctSpool struct {
	path    string
	records int   // lines in the file
	nread   int   // lines read back so far
	off     int64 // where reading goes on
	torn    int64 // bytes of a torn last line cut at open, for the log
}

func openAcctSpool(path string) (*acctSpool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("radius.acct_spool: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("radius.acct_spool: %w", err)
	}
	defer f.Close()
	s := &acctSpool{path: path}
	// Count the lines. A last line without its newline is a record that a
	// crash (or a full disk) cut short: it cannot be read back, and the
	// next record appended would be glued to it, so it goes.
	br := bufio.NewReader(f)
	var size, whole int64
	for {
		line, err := br.ReadSlice('\n')
		size += int64(len(line))
		if err == nil {
			s.records++
			whole = size
			continue
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != io.EOF {
			return nil, fmt.Errorf("radius.acct_spool: %w", err)
		}
		break
	}
	if size > whole {
		if err := f.Truncate(whole); err != nil {
			return nil, fmt.Errorf("radius.acct_spool: cutting a torn last line: %w", err)
		}
		s.torn = size - whole
	}
	return s, nil
}

func (s *acctSpool) pending() int { return s.records - s.nread }
func (s *acctSpool) dirty() bool  { return s.records > 0 }

func (s *acctSpool) append(r *acctRec) error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		if _, err = f.WriteString(spoolLine(r)); err != nil {
			// A short write (the disk is full) must not leave half a
			// line for the next record to be glued to.
			f.Truncate(fi.Size())
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		s.records++
	}
	return err
}

func spoolLine(r *acctRec) string {
	return strconv.FormatInt(r.event.UnixNano(), 10) + " " + hex.EncodeToString(r.b) + "\n"
}

// read returns up to n records (all, for n < 0) after those read before.
func (s *acctSpool) read(n int) ([]*acctRec, error) {
	if s.pending() == 0 {
		return nil, nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(s.off, io.SeekStart); err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	var out []*acctRec
	for n < 0 || len(out) < n {
		line, err := br.ReadString('\n')
		if err != nil {
			// Fewer lines than counted (the file changed under us):
			// nothing more to wait for.
			s.records = s.nread
			break
		}
		s.off += int64(len(line))
		s.nread++
		ts, h, ok := strings.Cut(strings.TrimSpace(line), " ")
		ns, err1 := strconv.ParseInt(ts, 10, 64)
		attrs, err2 := hex.DecodeString(h)
		if !ok || err1 != nil || err2 != nil {
			continue // a torn last line after a crash
		}
		r := acctRecPool.Get().(*acctRec)
		r.b, r.event = append(r.b[:0], attrs...), time.Unix(0, ns)
		out = append(out, r)
	}
	return out, nil
}

func (s *acctSpool) truncate() error {
	s.records, s.nread, s.off = 0, 0, 0
	return os.Truncate(s.path, 0)
}

// rewrite replaces the spool with rs, through a temporary file and a
// rename, so a crash leaves the old file or the new one.
func (s *acctSpool) rewrite(rs []*acctRec) error {
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, r := range rs {
		w.WriteString(spoolLine(r))
	}
	err = errors.Join(w.Flush(), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err == nil {
		s.records, s.nread, s.off = len(rs), 0, 0
	}
	return err
}

// stop is the clean stop's accounting: Accounting-Off after the sessions'
// Stop records, then up to 3 s to deliver (procd kills 5 s after its
// TERM), then the spool for the rest. The server calls it as soon as its
// loop has ended, before it waits for hooks; main calls it again in case
// the server never ran. Only the first call does anything.
func (a *radiusAccounting) stop() {
	a.stopOnce.Do(func() {
		a.onOff(acctStatusOff, time.Now())
		a.flush(3 * time.Second)
	})
}

// flush waits, at a clean stop, until every record is delivered or
// timeout has passed, then keeps the rest in the spool. Any goroutine but
// runRadius; once.
func (a *radiusAccounting) flush(timeout time.Duration) {
	done := make(chan struct{})
	select {
	case a.c.flushReq <- flushRequest{done: done, by: time.Now().Add(timeout)}:
		<-done
	case <-a.c.stop:
	}
}

type flushRequest struct {
	done chan struct{}
	by   time.Time
}

// acctQueue is a FIFO of records that reuses its array, so a steady
// stream of records through it allocates nothing.
type acctQueue struct {
	b    []*acctRec
	head int
}

func (q *acctQueue) len() int { return len(q.b) - q.head }

func (q *acctQueue) push(r *acctRec) {
	// Full, with room freed at the head: move down rather than grow, so
	// a queue that never quite empties keeps its size.
	if len(q.b) == cap(q.b) && q.head > 0 {
		n := copy(q.b, q.b[q.head:])
		clear(q.b[n:])
		q.b, q.head = q.b[:n], 0
	}
	q.b = append(q.b, r)
}

func (q *acctQueue) pop() *acctRec {
	r := q.b[q.head]
	q.b[q.head] = nil
	q.head++
	if q.head == len(q.b) {
		q.b, q.head = q.b[:0], 0
	}
	return r
}

// pushFront puts a record back at the head, for one that must be tried
// again before the others.
func (q *acctQueue) pushFront(r *acctRec) {
	if q.head > 0 {
		q.head--
		q.b[q.head] = r
		return
	}
	q.b = append(q.b, nil)
	copy(q.b[1:], q.b)
	q.b[0] = r
}
