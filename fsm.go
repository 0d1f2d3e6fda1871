// The RFC 1661 option-negotiation automaton that LCP and IPCP share.
//
// Flow: the loop goroutine feeds one fsm per layer with the events of
// RFC 1661 §4.1: up and down from the layer below, open and close from
// policy, timeout once f.deadline has passed, input for each received control
// packet of f.proto, and protocolRejected when LCP hears a Protocol-Reject
// that names f.proto. The automaton answers through its host's sendPPP and
// leaves the options, and what This-Layer-Up/Down/Started/Finished mean, to
// its fsmLayer.
//
// Ownership: the loop owns the fsm, its layer and f.tx, so nothing here locks.
// Every packet is built in place at f.tx[headroom:] and handed to the host's
// sendPPP, which must be done with it when it returns, because the next
// packet reuses the buffer. A received packet must therefore not alias f.tx.
// The automaton never reads the clock and never allocates: the owner passes
// now in and watches f.deadline.
//
// Callback order: tld runs first, while the state is still Opened; tls, tlu
// and tlf run last, once the new state is set, so a callback that feeds this
// automaton another event finds it settled.
//
// RFC 1661 §4.1, action/new-state. '-' cannot happen and is ignored.
//
//	      | 0         1         2         3         4         5
//	Events| Initial   Starting  Closed    Stopped   Closing   Stopping
//	------+-----------------------------------------------------------
//	 Up   |    2     irc,scr/6     -         -         -         -
//	 Down |    -         -         0       tls/1       0         1
//	 Open |  tls/1       1     irc,scr/6     3r        5r        5r
//	 Close|    0       tlf/0       2         2         4         4
//	  TO+ |    -         -         -         -       str/4     str/5
//	  TO- |    -         -         -         -       tlf/2     tlf/3
//	 RCR+ |    -         -       sta/2 irc,scr,sca/8   4         5
//	 RCR- |    -         -       sta/2 irc,scr,scn/6   4         5
//	 RCA  |    -         -       sta/2     sta/3       4         5
//	 RCN  |    -         -       sta/2     sta/3       4         5
//	 RTR  |    -         -       sta/2     sta/3     sta/4     sta/5
//	 RTA  |    -         -         2         3       tlf/2     tlf/3
//	 RUC  |    -         -       scj/2     scj/3     scj/4     scj/5
//	 RXJ+ |    -         -         2         3         4         5
//	 RXJ- |    -         -       tlf/2     tlf/3     tlf/2     tlf/3
//	 RXR  |    -         -         2         3         4         5
//
//	      | 6         7         8           9
//	Events| Req-Sent  Ack-Rcvd  Ack-Sent    Opened
//	------+-----------------------------------------
//	 Up   |    -         -         -           -
//	 Down |    1         1         1         tld/1
//	 Open |    6         7         8           9r
//	 Close|irc,str/4 irc,str/4 irc,str/4 tld,irc,str/4
//	  TO+ |  scr/6     scr/6     scr/8         -
//	  TO- |  tlf/3p    tlf/3p    tlf/3p        -
//	 RCR+ |  sca/8   sca,tlu/9   sca/8   tld,scr,sca/8
//	 RCR- |  scn/6     scn/7     scn/6   tld,scr,scn/6
//	 RCA  |  irc/7     scr/6x  irc,tlu/9   tld,scr/6x
//	 RCN  |irc,scr/6   scr/6x  irc,scr/8   tld,scr/6x
//	 RTR  |  sta/6     sta/6     sta/6   tld,zrc,sta/5
//	 RTA  |    6         6         8       tld,scr/6
//	 RUC  |  scj/6     scj/7     scj/8       scj/9
//	 RXJ+ |    6         6         8           9
//	 RXJ- |  tlf/3     tlf/3     tlf/3   tld,irc,str/5
//	 RXR  |    6         7         8         ser/9
//
// Footnotes: r, the optional restart (Down then Up on Open), is not
// implemented, so those cells only change state as printed; p, the optional
// passive wait, is not implemented, so TO- does tlf; x, a crossed connection,
// is logged as §4.3 RCA asks. ser is the layer's, through otherCode.

package main

import (
	"encoding/binary"
	"time"
)

// cpCode is the Code field of an LCP/NCP control packet (RFC 1661 §5).
type cpCode uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=cpCode -trimprefix=cp

const (
	cpConfReq cpCode = iota + 1
	cpConfAck
	cpConfNak
	cpConfRej
	cpTermReq
	cpTermAck
	cpCodeRej
	// LCP only (RFC 1661 §5.7-§5.9); other layers Code-Reject them.
	cpProtoRej
	cpEchoReq
	cpEchoReply
	cpDiscardReq
)

const (
	cpHdrLen = 4 // code, identifier, length

	// headroom is where a PPP control packet starts inside a frame buffer:
	// Ethernet, PPPoE and the 2-byte PPP protocol field come first.
	headroom = ethHdrLen + pppoeHdrLen + 2

	// maxCodeRejLen bounds a whole Code-Reject. RFC 1661 §5.6: the
	// Rejected-Packet MUST be truncated to the peer's MRU; 1484 stays under
	// RFC 2516 §7's 1492 with the PPP protocol field, whatever MRU was agreed.
	maxCodeRejLen = 1484
)

// fsmState is a state of RFC 1661 §4.2, numbered as in the §4.1 table.
type fsmState uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=fsmState -trimprefix=st

const (
	stInitial fsmState = iota
	stStarting
	stClosed
	stStopped
	stClosing
	stStopping
	stReqSent
	stAckRcvd
	stAckSent
	stOpened
)

// fsmLayer is what LCP or IPCP plugs into the automaton.
type fsmLayer interface {
	// appendConfReq appends the options of our next Configure-Request. A
	// retransmission calls it again and must get the same options.
	appendConfReq(b []byte) []byte
	// checkConfReq judges the peer's Configure-Request options (opts aliases
	// the received packet). It appends the options of the reply to resp and
	// returns the reply code: cpConfAck (then resp must hold opts unchanged),
	// cpConfNak or cpConfRej. When rejectNaks is true (Max-Failure reached,
	// RFC 1661 §4.6) the layer must answer with cpConfRej for anything it
	// would otherwise Nak.
	checkConfReq(opts []byte, resp []byte, rejectNaks bool) (cpCode, []byte)
	// ackReceived reports whether a Configure-Ack's options match what we
	// sent; a mismatch is discarded (RFC 1661 §5.2). It is asked about every
	// Configure-Ack with the right Identifier, whatever the state.
	ackReceived(opts []byte) bool
	nakReceived(opts []byte) // adjust our request
	rejReceived(opts []byte) // drop the rejected options from our request
	// otherCode handles codes the automaton does not know (for LCP:
	// Protocol-Reject, Echo-Request/Reply, Discard-Request) in every state but
	// Initial and Starting; the layer reads the fsm's state itself, e.g. to
	// answer an Echo-Request only in Opened (RFC 1661 §5.8). It returns false
	// for an unknown code, and the automaton then sends a Code-Reject (RUC).
	// It also sees each permitted Code-Reject (RXJ+), after the transition, so
	// the layer can stop sending the rejected code (RFC 1661 §4.3); the result
	// is ignored then. data aliases the received packet.
	otherCode(code cpCode, id uint8, data []byte) bool
	up()       // This-Layer-Up
	down()     // This-Layer-Down
	started()  // This-Layer-Started
	finished() // This-Layer-Finished
}

// fsmConfig holds the counters and timer of RFC 1661 §4.6.
type fsmConfig struct {
	restart                                time.Duration
	maxConfigure, maxTerminate, maxFailure int
}

// defaultFSMConfig returns the defaults RFC 1661 §4.6 suggests.
func defaultFSMConfig() fsmConfig {
	return fsmConfig{restart: 3 * time.Second, maxConfigure: 10, maxTerminate: 2, maxFailure: 5}
}

// fsm is one layer's automaton. The loop goroutine owns it.
type fsm struct {
	proto uint16 // PPP protocol number, e.g. 0xc021, 0x8021 (for logs and Protocol-Reject)
	layer fsmLayer
	cfg   fsmConfig
	host  fsmHost // the session: sends what we build and logs for us
	tx    *frame  // shared, loop-owned transmit buffer; packets are built at tx[headroom:]

	state    fsmState
	deadline time.Time // restart timer; zero when stopped
	restarts int       // Restart counter: transmissions left before TO-
	naks     int       // Configure-Naks sent since our last Configure-Ack, for Max-Failure
	id       uint8     // last Identifier we chose (Configure-Request, Terminate-Request, Code-Reject)
	reqID    uint8     // Identifier of our outstanding Configure-Request
}

// init readies f in the Initial state, bound to its layer and to host. It
// keeps no earlier state.
func (f *fsm) init(proto uint16, layer fsmLayer, host fsmHost, cfg fsmConfig, tx *frame) {
	*f = fsm{proto: proto, layer: layer, host: host, cfg: cfg, tx: tx}
}

// up is the lower layer's Up event.
func (f *fsm) up(now time.Time) {
	switch f.state {
	case stInitial:
		f.enter(stClosed)
	case stStarting:
		f.irc(f.cfg.maxConfigure)
		f.scr(now, false)
		f.enter(stReqSent)
	}
}

// down is the lower layer's Down event.
func (f *fsm) down(now time.Time) {
	switch f.state {
	case stClosed, stClosing: // the Close still stands, so wait in Initial
		f.enter(stInitial)
	case stStopped: // RFC 1661 §4.1 Stopped+Down: tls, we still want the link
		f.enter(stStarting)
		f.layer.started()
	case stStopping, stReqSent, stAckRcvd, stAckSent:
		f.enter(stStarting)
	case stOpened:
		f.layer.down()
		f.enter(stStarting)
	}
}

// open is the administrative Open event.
func (f *fsm) open(now time.Time) {
	switch f.state {
	case stInitial:
		f.enter(stStarting)
		f.layer.started()
	case stClosed:
		f.irc(f.cfg.maxConfigure)
		f.scr(now, false)
		f.enter(stReqSent)
	case stClosing: // 5r: the Terminate exchange finishes, then we wait in Stopped
		f.enter(stStopping)
	}
}

// close is the administrative Close event.
func (f *fsm) close(now time.Time) {
	switch f.state {
	case stStarting:
		f.tlf(stInitial)
	case stStopped:
		f.enter(stClosed)
	case stStopping:
		f.enter(stClosing)
	case stOpened:
		f.layer.down()
		fallthrough
	case stReqSent, stAckRcvd, stAckSent:
		f.irc(f.cfg.maxTerminate)
		f.str(now)
		f.enter(stClosing)
	}
}

// timeout is the restart timer's expiry. The owner calls it once now reaches
// a non-zero f.deadline; an early or stale call does nothing.
func (f *fsm) timeout(now time.Time) {
	if f.deadline.IsZero() || now.Before(f.deadline) {
		return
	}
	if f.restarts > 0 { // TO+
		switch f.state {
		case stClosing, stStopping:
			f.str(now)
		case stReqSent, stAckRcvd:
			f.scr(now, true)
			f.enter(stReqSent)
		case stAckSent:
			f.scr(now, true)
		}
		return
	}
	switch f.state { // TO-
	case stClosing:
		f.tlf(stClosed)
	case stStopping, stReqSent, stAckRcvd, stAckSent:
		f.tlf(stStopped)
	}
}

// protocolRejected is RXJ- for this layer: LCP received a Protocol-Reject
// naming f.proto, and RFC 1661 §5.7 says to stop sending it at once.
func (f *fsm) protocolRejected(now time.Time) {
	if f.state != stInitial && f.state != stStarting {
		f.rxjBad(now)
	}
}

// input handles one received control packet: code, identifier, length, data.
// pkt must not alias f.tx; the layer's hooks see sub-slices of it.
func (f *fsm) input(now time.Time, pkt []byte) {
	if len(pkt) < cpHdrLen {
		return
	}
	// RFC 1661 §5: octets past Length are padding (Ethernet pads short
	// frames); a Length beyond what arrived makes the packet invalid.
	n := int(binary.BigEndian.Uint16(pkt[2:4]))
	if n < cpHdrLen || n > len(pkt) {
		return
	}
	pkt = pkt[:n]
	if f.state == stInitial || f.state == stStarting {
		return // '-': with the lower layer down nothing can arrive
	}
	code, id, data := cpCode(pkt[0]), pkt[1], pkt[cpHdrLen:]
	switch code {
	case cpConfReq:
		f.rcr(now, id, data)
	case cpConfAck:
		f.rca(now, id, data)
	case cpConfNak, cpConfRej:
		f.rcn(now, code, id, data)
	case cpTermReq:
		f.rtr(now, id)
	case cpTermAck:
		f.rta(now)
	case cpCodeRej:
		if len(data) == 0 {
			return // names no code, so neither RXJ+ nor RXJ-
		}
		// RFC 1661 §4.3: a Code-Reject of a code the automaton itself needs
		// (Configure-Request is the RFC's example) is catastrophic, RXJ-.
		if rej := cpCode(data[0]); rej >= cpConfReq && rej <= cpCodeRej {
			f.rxjBad(now)
			return
		}
		if f.state == stAckRcvd { // RXJ+ in Ack-Rcvd: 6
			f.enter(stReqSent)
		}
		f.layer.otherCode(code, id, data)
	default:
		if !f.layer.otherCode(code, id, data) { // RXR when it returns true
			f.scj(pkt)
		}
	}
}

func (f *fsm) rcr(now time.Time, id uint8, opts []byte) {
	switch f.state {
	case stClosed: // RFC 1661 §4.2 Closed: every Configure packet gets a Terminate-Ack
		f.sta(id)
		return
	case stClosing, stStopping: // our Terminate-Request is the answer
		return
	case stStopped: // RFC 1661 §4.2 Stopped: a Configure-Request restarts negotiation
		f.irc(f.cfg.maxConfigure)
		f.scr(now, false)
	case stOpened:
		f.layer.down()
		f.scr(now, false)
	}
	code, resp := f.layer.checkConfReq(opts, f.tx[headroom+cpHdrLen:headroom+cpHdrLen], f.naks >= f.cfg.maxFailure)
	f.emit(code, id, resp)
	if code != cpConfAck { // RCR-
		if code == cpConfNak { // RFC 1661 §4.6 Max-Failure counts Naks only
			f.naks++
		}
		if f.state != stAckRcvd { // scn/7 keeps the Ack we hold
			f.enter(stReqSent)
		}
		return
	}
	f.naks = 0
	if f.state == stAckRcvd {
		f.enter(stOpened)
		f.layer.up()
		return
	}
	f.enter(stAckSent)
}

func (f *fsm) rca(now time.Time, id uint8, opts []byte) {
	// RFC 1661 §5.2: the Identifier MUST match the last Configure-Request
	// sent and the options MUST match exactly; invalid packets are silently
	// discarded, in every state.
	if id != f.reqID || !f.layer.ackReceived(opts) {
		return
	}
	switch f.state {
	case stClosed, stStopped:
		f.sta(id)
	case stReqSent: // irc/7: the timer runs on until we Ack too
		f.irc(f.cfg.maxConfigure)
		f.enter(stAckRcvd)
	case stAckRcvd:
		f.crossed(cpConfAck)
		f.scr(now, false)
		f.enter(stReqSent)
	case stAckSent:
		f.irc(f.cfg.maxConfigure)
		f.enter(stOpened)
		f.layer.up()
	case stOpened:
		f.crossed(cpConfAck)
		f.layer.down()
		f.scr(now, false)
		f.enter(stReqSent)
	}
}

func (f *fsm) rcn(now time.Time, code cpCode, id uint8, opts []byte) {
	if id != f.reqID { // RFC 1661 §4.3 RCN: out of sequence, silently discarded
		return
	}
	switch f.state {
	case stClosed, stStopped:
		f.sta(id)
		return
	case stClosing, stStopping:
		return
	case stAckRcvd:
		f.crossed(code)
	case stOpened:
		f.crossed(code)
		f.layer.down()
	}
	if code == cpConfNak {
		f.layer.nakReceived(opts)
	} else {
		f.layer.rejReceived(opts)
	}
	switch f.state {
	case stReqSent, stAckSent: // irc,scr/6 and irc,scr/8: progress, so a fresh count
		f.irc(f.cfg.maxConfigure)
		f.scr(now, false)
	case stAckRcvd, stOpened:
		f.scr(now, false)
		f.enter(stReqSent)
	}
}

func (f *fsm) rtr(now time.Time, id uint8) {
	switch f.state {
	case stAckRcvd, stAckSent: // sta/6: what was agreed no longer holds
		f.sta(id)
		f.enter(stReqSent)
	case stOpened:
		// RFC 1661 §4.4 zrc: wait one restart period in Stopping, so the peer
		// sees our Terminate-Ack before tlf, and MUST set the timer.
		f.layer.down()
		f.zrc(now)
		f.sta(id)
		f.enter(stStopping)
	default:
		f.sta(id)
	}
}

func (f *fsm) rta(now time.Time) {
	switch f.state {
	case stClosing:
		f.tlf(stClosed)
	case stStopping:
		f.tlf(stStopped)
	case stAckRcvd: // 6: the peer's Ack no longer stands
		f.enter(stReqSent)
	case stOpened:
		f.layer.down()
		f.scr(now, false)
		f.enter(stReqSent)
	}
}

// rxjBad is RXJ-, from a Code-Reject or a Protocol-Reject.
func (f *fsm) rxjBad(now time.Time) {
	switch f.state {
	case stClosed, stClosing:
		f.tlf(stClosed)
	case stStopped, stStopping, stReqSent, stAckRcvd, stAckSent:
		f.tlf(stStopped)
	case stOpened:
		f.layer.down()
		f.irc(f.cfg.maxTerminate)
		f.str(now)
		f.enter(stStopping)
	}
}

// enter moves to s. RFC 1661 §4.2: the restart timer only runs in Closing,
// Stopping, Req-Sent, Ack-Rcvd and Ack-Sent.
func (f *fsm) enter(s fsmState) {
	f.state = s
	switch s {
	case stInitial, stStarting, stClosed, stStopped, stOpened:
		f.deadline = time.Time{}
	}
}

func (f *fsm) irc(n int) { f.restarts = n }

// tlf enters s, then reports This-Layer-Finished.
func (f *fsm) tlf(s fsmState) {
	f.enter(s)
	f.layer.finished()
}

func (f *fsm) zrc(now time.Time) {
	f.restarts = 0
	f.deadline = now.Add(f.cfg.restart)
}

// scr sends a Configure-Request. RFC 1661 §5.1: the Identifier MUST change
// with the contents, and MAY stay for a retransmission; keeping it (as pppd
// does) lets a reply that was merely slow still count.
func (f *fsm) scr(now time.Time, retransmit bool) {
	switch f.state {
	case stReqSent, stAckRcvd, stAckSent:
	default: // a new negotiation: Max-Failure counts afresh
		f.naks = 0
	}
	if !retransmit {
		f.id++
		f.reqID = f.id
	}
	b := append(f.tx[headroom:headroom], byte(cpConfReq), f.reqID, 0, 0)
	f.transmit(f.layer.appendConfReq(b))
	f.restarts--
	f.deadline = now.Add(f.cfg.restart)
}

func (f *fsm) str(now time.Time) {
	f.id++
	f.emit(cpTermReq, f.id, nil)
	f.restarts--
	f.deadline = now.Add(f.cfg.restart)
}

// sta answers with the Identifier it was asked with (RFC 1661 §5.5).
func (f *fsm) sta(id uint8) { f.emit(cpTermAck, id, nil) }

// scj rejects pkt, trimmed to its Length. RFC 1661 §5.6: the Identifier MUST
// change for each Code-Reject sent.
func (f *fsm) scj(pkt []byte) {
	f.id++
	f.emit(cpCodeRej, f.id, pkt[:min(len(pkt), maxCodeRejLen-cpHdrLen)])
}

// emit sends one packet. data may already sit at f.tx[headroom+cpHdrLen:],
// where checkConfReq builds its reply; the append then copies it onto itself.
func (f *fsm) emit(code cpCode, id uint8, data []byte) {
	b := append(f.tx[headroom:headroom], byte(code), id)
	b = binary.BigEndian.AppendUint16(b, 0)
	f.transmit(append(b, data...))
}

func (f *fsm) transmit(b []byte) {
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
	f.host.sendPPP(f.proto, b)
}

// crossed logs a reply to a Configure-Request the peer had already answered
// (footnote x): RFC 1661 §4.3 RCA says it SHOULD at least be logged. Debug,
// because the peer can repeat it at will.
func (f *fsm) crossed(code cpCode) {
	if l := f.host.logger(); l.enabled(levelDebug) {
		l.Debug("crossed connection", "proto", f.proto, "state", f.state.String(), "reason", code.String())
	}
}
