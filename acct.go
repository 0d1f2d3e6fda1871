// The accounting file: with --acct-file, a start record when a session's
// IPCP comes up, an interim record every acct_interim, and a stop record at
// its end, one JSON object a line, for billing scripts and `jq`.
//
// The loop encodes each record straight into the writer's buffer with
// strconv's appenders (no reflection, nothing allocated once the buffer has
// grown), under mu, and nudges runAcctWriter, which owns the file: it takes
// the buffer, writes it and goes back to wait. A slow disk so never holds
// up the loop; a buffer that grows past maxAcctBuffer (the disk has been
// failing for a while) drops new records, counted. A write error is logged
// at most once a minute and counted, and never stops the daemon. The file
// is opened append-only and reopened on SIGHUP, as logrotate expects; close
// writes what is left, so at SIGTERM every session's stop record is in the
// file before pppoed exits.

package main

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const maxAcctBuffer = 4 << 20

type acctWriter struct {
	path string
	log  *logger

	mu     sync.Mutex
	buf    []byte // records not yet written
	reopen bool   // reopen the file before the next write

	notify  chan struct{}
	done    chan struct{}
	errors  *atomic.Uint64 // the server's acct_write_errors counter
	dropped atomic.Uint64

	f       *os.File // runAcctWriter's
	lastErr time.Time
}

// openAcct opens path for appending and starts the writer.
func openAcct(path string, log *logger, errors *atomic.Uint64) (*acctWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	a := &acctWriter{path: path, log: log, f: f, notify: make(chan struct{}, 1), done: make(chan struct{}), errors: errors,
		buf: make([]byte, 0, 64<<10)}
	go a.runAcctWriter()
	return a, nil
}

// requestReopen asks the writer to reopen the file (log rotation).
func (a *acctWriter) requestReopen() error {
	a.mu.Lock()
	a.reopen = true
	a.mu.Unlock()
	a.nudge()
	return nil
}

func (a *acctWriter) nudge() {
	select {
	case a.notify <- struct{}{}:
	default:
	}
}

// close writes what is left and closes the file.
func (a *acctWriter) close() {
	close(a.notify)
	<-a.done
}

func (a *acctWriter) runAcctWriter() {
	defer close(a.done)
	var spare []byte
	for range a.notify {
		spare = a.flush(spare)
	}
	a.flush(spare)
	a.f.Close()
}

// flush writes the buffer; spare is the empty buffer to swap in.
func (a *acctWriter) flush(spare []byte) []byte {
	a.mu.Lock()
	b, reopen := a.buf, a.reopen
	a.buf, a.reopen = spare[:0], false
	a.mu.Unlock()
	if reopen {
		f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			a.failed(err)
		} else {
			a.f.Close()
			a.f = f
		}
	}
	if len(b) > 0 {
		if _, err := a.f.Write(b); err != nil {
			a.failed(err)
		}
	}
	return b
}

func (a *acctWriter) failed(err error) {
	a.errors.Add(1)
	if time.Since(a.lastErr) > time.Minute {
		a.lastErr = time.Now()
		a.log.Warn("accounting file: write failed; records are lost", "path", a.path, "err", err)
	}
}

// acctKind is a record's type.
type acctKind uint8

const (
	acctStart acctKind = iota
	acctInterim
	acctStop
)

var acctKindNames = [...]string{"start", "interim", "stop"}

// record appends one record for s at now. Loop only.
func (a *acctWriter) record(kind acctKind, s *session, now time.Time, c trafficCounts) {
	a.mu.Lock()
	if len(a.buf) > maxAcctBuffer {
		a.mu.Unlock()
		a.dropped.Add(1)
		a.errors.Add(1)
		return
	}
	a.buf = appendAcctRecord(a.buf, kind, s, now, c)
	a.mu.Unlock()
	a.nudge()
}

// appendAcctRecord encodes one record as a JSON object and a newline. The
// field names are the README's; times are RFC 3339 in UTC.
func appendAcctRecord(b []byte, kind acctKind, s *session, now time.Time, c trafficCounts) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, acctKindNames[kind]...)
	b = append(b, `","time":"`...)
	b = now.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","user":`...)
	b = appendJSONString(b, s.auth.user)
	b = append(b, `,"mac":"`...)
	b = s.peer.appendTo(b)
	b = append(b, `","sid":`...)
	b = strconv.AppendUint(b, uint64(s.id), 10)
	b = append(b, `,"ifname":`...)
	b = appendJSONString(b, s.path.ifname())
	b = append(b, `,"interface":`...)
	b = appendJSONString(b, s.iface.name)
	b = append(b, `,"ip":"`...)
	b = s.acctIP.AppendTo(b)
	if s.v6.acctPrefix.IsValid() {
		b = append(b, `","ipv6_prefix":"`...)
		b = s.v6.acctPrefix.AppendTo(b)
	}
	if s.v6.acctDelegated.IsValid() {
		b = append(b, `","ipv6_delegated":"`...)
		b = s.v6.acctDelegated.AppendTo(b)
	}
	b = append(b, `","start_time":"`...)
	b = s.acctStart.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","duration_seconds":`...)
	b = strconv.AppendInt(b, int64(now.Sub(s.acctStart)/time.Second), 10)
	b = append(b, `,"rx_bytes":`...)
	b = strconv.AppendUint(b, c.rxBytes, 10)
	b = append(b, `,"rx_packets":`...)
	b = strconv.AppendUint(b, c.rxPackets, 10)
	b = append(b, `,"tx_bytes":`...)
	b = strconv.AppendUint(b, c.txBytes, 10)
	b = append(b, `,"tx_packets":`...)
	b = strconv.AppendUint(b, c.txPackets, 10)
	if kind == acctStop {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, s.endReason)
	}
	return append(b, "}\n"...)
}
