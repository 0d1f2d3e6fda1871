package main

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeLayer records what the automaton asks of its layer. log holds the
// This-Layer actions, otherCode calls and sent packets in order; it is
// preallocated so that recording does not allocate.
type fakeLayer struct {
	log   []string
	reply cpCode // what checkConfReq answers
	ackOK bool   // what ackReceived answers
	other bool   // what otherCode answers

	rejectNaks bool   // the last checkConfReq's flag
	gotOpts    []byte // the last opts seen by checkConfReq, ackReceived, nakReceived or rejReceived
	naks, rejs int
}

// ourOpts is what the fake asks for: MRU 1492.
var ourOpts = []byte{0x01, 0x04, 0x05, 0xd4}

func (l *fakeLayer) appendConfReq(b []byte) []byte { return append(b, ourOpts...) }

func (l *fakeLayer) checkConfReq(opts, resp []byte, rejectNaks bool) (cpCode, []byte) {
	l.rejectNaks, l.gotOpts = rejectNaks, opts
	code := l.reply
	if code == cpConfNak && rejectNaks {
		code = cpConfRej
	}
	if code == cpConfNak {
		return code, append(resp, ourOpts...)
	}
	return code, append(resp, opts...)
}

func (l *fakeLayer) ackReceived(opts []byte) bool { l.gotOpts = opts; return l.ackOK }
func (l *fakeLayer) nakReceived(opts []byte)      { l.gotOpts = opts; l.naks++ }
func (l *fakeLayer) rejReceived(opts []byte)      { l.gotOpts = opts; l.rejs++ }

func (l *fakeLayer) otherCode(code cpCode, id uint8, data []byte) bool {
	l.log = append(l.log, "other("+code.String()+")")
	return l.other
}

func (l *fakeLayer) up()       { l.log = append(l.log, "tlu") }
func (l *fakeLayer) down()     { l.log = append(l.log, "tld") }
func (l *fakeLayer) started()  { l.log = append(l.log, "tls") }
func (l *fakeLayer) finished() { l.log = append(l.log, "tlf") }

// fsmHarness is an fsm over a fakeLayer, a capturing send and a clock the
// test moves by hand.
type fsmHarness struct {
	t    testing.TB
	f    fsm
	l    fakeLayer
	tx   frame
	sent [][]byte // copies of what was sent, unless discard is set
	now  time.Time
	log  *logger

	discard bool // keep nothing but the log, so sending does not allocate
}

func newFSMHarness(t testing.TB) *fsmHarness {
	h := &fsmHarness{t: t, now: time.Unix(1_700_000_000, 0), log: discardLogger()}
	h.l = fakeLayer{log: make([]string, 0, 64), reply: cpConfAck, ackOK: true, other: true}
	h.f.init(0xc021, &h.l, h, defaultFSMConfig(), &h.tx)
	return h
}

func (h *fsmHarness) logger() *logger { return h.log }

func (h *fsmHarness) sendPPP(proto uint16, pkt []byte) {
	if proto != h.f.proto {
		h.t.Errorf("sent protocol %#x, the automaton's is %#x", proto, h.f.proto)
	}
	if len(pkt) < cpHdrLen || &pkt[0] != &h.tx[headroom] {
		h.t.Errorf("send got a packet outside tx[headroom:]")
		return
	}
	if int(binary.BigEndian.Uint16(pkt[2:])) != len(pkt) {
		h.t.Errorf("sent %v with Length %d, %d bytes", cpCode(pkt[0]), binary.BigEndian.Uint16(pkt[2:]), len(pkt))
	}
	h.l.log = append(h.l.log, cpCode(pkt[0]).String())
	if !h.discard {
		h.sent = append(h.sent, bytes.Clone(pkt))
	}
}

// force puts the automaton in s as if it had got there itself: our last
// Configure-Request had Identifier 0x30, and the restart timer runs where
// RFC 1661 §4.2 says it does.
func (h *fsmHarness) force(s fsmState, restarts int) {
	h.f.state, h.f.restarts, h.f.id, h.f.reqID, h.f.naks = s, restarts, 0x30, 0x30, 0
	h.f.deadline = time.Time{}
	if timerRuns(s) {
		h.f.deadline = h.now.Add(time.Second)
	}
	h.l.log, h.sent = h.l.log[:0], nil
}

func timerRuns(s fsmState) bool { return s >= stClosing && s <= stAckSent }

// cp builds a control packet.
func cp(code cpCode, id uint8, data []byte) []byte {
	b := append([]byte{byte(code), id}, 0, 0)
	b = append(b, data...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

var (
	peerOpts  = []byte{0x05, 0x06, 0xde, 0xad, 0xbe, 0xef} // Magic-Number
	unknownCP = cpCode(0x20)
)

// apply delivers one event of RFC 1661 §4.1. The receive events use the
// Identifiers the automaton expects, so each is valid.
func (h *fsmHarness) apply(ev string) {
	f := &h.f
	switch ev {
	case "Up":
		f.up(h.now)
	case "Down":
		f.down(h.now)
	case "Open":
		f.open(h.now)
	case "Close":
		f.close(h.now)
	case "TO+", "TO-":
		f.deadline = h.now
		f.timeout(h.now)
	case "RCR+":
		h.l.reply = cpConfAck
		f.input(h.now, cp(cpConfReq, 0x42, peerOpts))
	case "RCR-":
		h.l.reply = cpConfNak
		f.input(h.now, cp(cpConfReq, 0x42, peerOpts))
	case "RCA":
		f.input(h.now, cp(cpConfAck, f.reqID, ourOpts))
	case "RCN":
		f.input(h.now, cp(cpConfNak, f.reqID, ourOpts))
	case "RCN(Rej)":
		f.input(h.now, cp(cpConfRej, f.reqID, ourOpts))
	case "RTR":
		f.input(h.now, cp(cpTermReq, 0x43, nil))
	case "RTA":
		f.input(h.now, cp(cpTermAck, 0x44, nil))
	case "RUC":
		h.l.other = false
		f.input(h.now, cp(unknownCP, 0x45, []byte("junk")))
	case "RXJ+": // a Code-Reject of Echo-Request
		f.input(h.now, cp(cpCodeRej, 0x46, cp(cpEchoReq, 7, []byte{0, 0, 0, 0})))
	case "RXJ-": // a Code-Reject of Configure-Request
		f.input(h.now, cp(cpCodeRej, 0x46, cp(cpConfReq, 7, ourOpts)))
	case "RXJ-(Protocol-Reject)":
		f.protocolRejected(h.now)
	case "RXR":
		h.l.other = true
		f.input(h.now, cp(cpEchoReq, 0x47, []byte{0, 0, 0, 0}))
	default:
		h.t.Fatalf("no event %q", ev)
	}
}

// fsmCells is RFC 1661 §4.1, one row per cell the automaton implements, in
// the RFC's order. do is the cell's action list as the RFC writes it. The
// '-' cells are left out: Up outside Initial and Starting, Down in Initial and
// Starting, TO± where the timer is stopped, and every receive event in
// Initial and Starting (input drops packets there; see TestFSMInputWhileDown).
// Extra rows: RCN(Rej) where a Reject could act differently from a Nak, and
// RXJ- arriving as an LCP Protocol-Reject.
var fsmCells = []struct {
	from fsmState
	ev   string
	to   fsmState
	do   string
}{
	{stInitial, "Up", stClosed, ""},
	{stInitial, "Open", stStarting, "tls"},
	{stInitial, "Close", stInitial, ""},

	{stStarting, "Up", stReqSent, "irc,scr"},
	{stStarting, "Open", stStarting, ""},
	{stStarting, "Close", stInitial, "tlf"},

	{stClosed, "Down", stInitial, ""},
	{stClosed, "Open", stReqSent, "irc,scr"},
	{stClosed, "Close", stClosed, ""},
	{stClosed, "RCR+", stClosed, "sta"},
	{stClosed, "RCR-", stClosed, "sta"},
	{stClosed, "RCA", stClosed, "sta"},
	{stClosed, "RCN", stClosed, "sta"},
	{stClosed, "RTR", stClosed, "sta"},
	{stClosed, "RTA", stClosed, ""},
	{stClosed, "RUC", stClosed, "scj"},
	{stClosed, "RXJ+", stClosed, ""},
	{stClosed, "RXJ-", stClosed, "tlf"},
	{stClosed, "RXJ-(Protocol-Reject)", stClosed, "tlf"},
	{stClosed, "RXR", stClosed, ""},

	{stStopped, "Down", stStarting, "tls"},
	{stStopped, "Open", stStopped, ""}, // 3r: no restart option
	{stStopped, "Close", stClosed, ""},
	{stStopped, "RCR+", stAckSent, "irc,scr,sca"},
	{stStopped, "RCR-", stReqSent, "irc,scr,scn"},
	{stStopped, "RCA", stStopped, "sta"},
	{stStopped, "RCN", stStopped, "sta"},
	{stStopped, "RTR", stStopped, "sta"},
	{stStopped, "RTA", stStopped, ""},
	{stStopped, "RUC", stStopped, "scj"},
	{stStopped, "RXJ+", stStopped, ""},
	{stStopped, "RXJ-", stStopped, "tlf"},
	{stStopped, "RXJ-(Protocol-Reject)", stStopped, "tlf"},
	{stStopped, "RXR", stStopped, ""},

	{stClosing, "Down", stInitial, ""},
	{stClosing, "Open", stStopping, ""}, // 5r
	{stClosing, "Close", stClosing, ""},
	{stClosing, "TO+", stClosing, "str"},
	{stClosing, "TO-", stClosed, "tlf"},
	{stClosing, "RCR+", stClosing, ""},
	{stClosing, "RCR-", stClosing, ""},
	{stClosing, "RCA", stClosing, ""},
	{stClosing, "RCN", stClosing, ""},
	{stClosing, "RTR", stClosing, "sta"},
	{stClosing, "RTA", stClosed, "tlf"},
	{stClosing, "RUC", stClosing, "scj"},
	{stClosing, "RXJ+", stClosing, ""},
	{stClosing, "RXJ-", stClosed, "tlf"},
	{stClosing, "RXJ-(Protocol-Reject)", stClosed, "tlf"},
	{stClosing, "RXR", stClosing, ""},

	{stStopping, "Down", stStarting, ""},
	{stStopping, "Open", stStopping, ""}, // 5r
	{stStopping, "Close", stClosing, ""},
	{stStopping, "TO+", stStopping, "str"},
	{stStopping, "TO-", stStopped, "tlf"},
	{stStopping, "RCR+", stStopping, ""},
	{stStopping, "RCR-", stStopping, ""},
	{stStopping, "RCA", stStopping, ""},
	{stStopping, "RCN", stStopping, ""},
	{stStopping, "RTR", stStopping, "sta"},
	{stStopping, "RTA", stStopped, "tlf"},
	{stStopping, "RUC", stStopping, "scj"},
	{stStopping, "RXJ+", stStopping, ""},
	{stStopping, "RXJ-", stStopped, "tlf"},
	{stStopping, "RXJ-(Protocol-Reject)", stStopped, "tlf"},
	{stStopping, "RXR", stStopping, ""},

	{stReqSent, "Down", stStarting, ""},
	{stReqSent, "Open", stReqSent, ""},
	{stReqSent, "Close", stClosing, "irc,str"},
	{stReqSent, "TO+", stReqSent, "scr"},
	{stReqSent, "TO-", stStopped, "tlf"}, // 3p: no passive option
	{stReqSent, "RCR+", stAckSent, "sca"},
	{stReqSent, "RCR-", stReqSent, "scn"},
	{stReqSent, "RCA", stAckRcvd, "irc"},
	{stReqSent, "RCN", stReqSent, "irc,scr"},
	{stReqSent, "RCN(Rej)", stReqSent, "irc,scr"},
	{stReqSent, "RTR", stReqSent, "sta"},
	{stReqSent, "RTA", stReqSent, ""},
	{stReqSent, "RUC", stReqSent, "scj"},
	{stReqSent, "RXJ+", stReqSent, ""},
	{stReqSent, "RXJ-", stStopped, "tlf"},
	{stReqSent, "RXJ-(Protocol-Reject)", stStopped, "tlf"},
	{stReqSent, "RXR", stReqSent, ""},

	{stAckRcvd, "Down", stStarting, ""},
	{stAckRcvd, "Open", stAckRcvd, ""},
	{stAckRcvd, "Close", stClosing, "irc,str"},
	{stAckRcvd, "TO+", stReqSent, "scr"},
	{stAckRcvd, "TO-", stStopped, "tlf"}, // 3p
	{stAckRcvd, "RCR+", stOpened, "sca,tlu"},
	{stAckRcvd, "RCR-", stAckRcvd, "scn"},
	{stAckRcvd, "RCA", stReqSent, "scr"},      // 6x: crossed connection
	{stAckRcvd, "RCN", stReqSent, "scr"},      // 6x
	{stAckRcvd, "RCN(Rej)", stReqSent, "scr"}, // 6x
	{stAckRcvd, "RTR", stReqSent, "sta"},
	{stAckRcvd, "RTA", stReqSent, ""},
	{stAckRcvd, "RUC", stAckRcvd, "scj"},
	{stAckRcvd, "RXJ+", stReqSent, ""},
	{stAckRcvd, "RXJ-", stStopped, "tlf"},
	{stAckRcvd, "RXJ-(Protocol-Reject)", stStopped, "tlf"},
	{stAckRcvd, "RXR", stAckRcvd, ""},

	{stAckSent, "Down", stStarting, ""},
	{stAckSent, "Open", stAckSent, ""},
	{stAckSent, "Close", stClosing, "irc,str"},
	{stAckSent, "TO+", stAckSent, "scr"},
	{stAckSent, "TO-", stStopped, "tlf"}, // 3p
	{stAckSent, "RCR+", stAckSent, "sca"},
	{stAckSent, "RCR-", stReqSent, "scn"},
	{stAckSent, "RCA", stOpened, "irc,tlu"},
	{stAckSent, "RCN", stAckSent, "irc,scr"},
	{stAckSent, "RCN(Rej)", stAckSent, "irc,scr"},
	{stAckSent, "RTR", stReqSent, "sta"},
	{stAckSent, "RTA", stAckSent, ""},
	{stAckSent, "RUC", stAckSent, "scj"},
	{stAckSent, "RXJ+", stAckSent, ""},
	{stAckSent, "RXJ-", stStopped, "tlf"},
	{stAckSent, "RXJ-(Protocol-Reject)", stStopped, "tlf"},
	{stAckSent, "RXR", stAckSent, ""},

	{stOpened, "Down", stStarting, "tld"},
	{stOpened, "Open", stOpened, ""}, // 9r
	{stOpened, "Close", stClosing, "tld,irc,str"},
	{stOpened, "RCR+", stAckSent, "tld,scr,sca"},
	{stOpened, "RCR-", stReqSent, "tld,scr,scn"},
	{stOpened, "RCA", stReqSent, "tld,scr"},      // 6x
	{stOpened, "RCN", stReqSent, "tld,scr"},      // 6x
	{stOpened, "RCN(Rej)", stReqSent, "tld,scr"}, // 6x
	{stOpened, "RTR", stStopping, "tld,zrc,sta"},
	{stOpened, "RTA", stReqSent, "tld,scr"},
	{stOpened, "RUC", stOpened, "scj"},
	{stOpened, "RXJ+", stOpened, ""},
	{stOpened, "RXJ-", stStopping, "tld,irc,str"},
	{stOpened, "RXJ-(Protocol-Reject)", stStopping, "tld,irc,str"},
	{stOpened, "RXR", stOpened, "ser"},
}

// cellLog is what the fake records for a cell's actions: the layer
// callbacks and sent packets in order. irc and zrc show in the counter, and
// ser is the layer's, so the otherCode call that every RXR makes stands for it.
func cellLog(ev, do string) []string {
	var want []string
	switch ev {
	case "RUC":
		want = append(want, "other("+unknownCP.String()+")")
	case "RXR":
		want = append(want, "other(EchoReq)")
	}
	for _, a := range strings.Split(do, ",") {
		switch a {
		case "", "irc", "zrc", "ser":
		case "scr":
			want = append(want, "ConfReq")
		case "sca":
			want = append(want, "ConfAck")
		case "scn":
			want = append(want, "ConfNak")
		case "str":
			want = append(want, "TermReq")
		case "sta":
			want = append(want, "TermAck")
		case "scj":
			want = append(want, "CodeRej")
		default:
			want = append(want, a)
		}
	}
	if ev == "RXJ+" {
		want = append(want, "other(CodeRej)")
	}
	return want
}

func TestFSMTransitionTable(t *testing.T) {
	seen := map[string]bool{}
	for _, tt := range fsmCells {
		name := tt.from.String() + "/" + tt.ev
		if seen[name] {
			t.Fatalf("two rows for %s", name)
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			h := newFSMHarness(t)
			const start = 5 // a count no action sets, so irc and zrc show
			restarts := start
			if tt.ev == "TO-" {
				restarts = 0
			}
			h.force(tt.from, restarts)
			before := h.f.deadline
			h.apply(tt.ev)

			if h.f.state != tt.to {
				t.Errorf("state %v, want %v", h.f.state, tt.to)
			}
			if want := cellLog(tt.ev, tt.do); !slices.Equal(h.l.log, want) {
				t.Errorf("actions %q, want %q (%s)", h.l.log, want, tt.do)
			}

			acts := strings.Split(tt.do, ",")
			sends := 0
			for _, a := range acts {
				if a == "scr" || a == "str" {
					sends++
				}
			}
			wantRC := restarts - sends
			switch {
			case slices.Contains(acts, "irc") && slices.Contains(acts, "str"):
				wantRC = h.f.cfg.maxTerminate - sends
			case slices.Contains(acts, "irc"):
				wantRC = h.f.cfg.maxConfigure - sends
			case slices.Contains(acts, "zrc"):
				wantRC = 0
			}
			if h.f.restarts != wantRC {
				t.Errorf("restart counter %d, want %d", h.f.restarts, wantRC)
			}

			switch {
			case !timerRuns(tt.to):
				if !h.f.deadline.IsZero() {
					t.Errorf("timer runs in %v", tt.to)
				}
			case sends > 0 || slices.Contains(acts, "zrc"):
				if want := h.now.Add(h.f.cfg.restart); !h.f.deadline.Equal(want) {
					t.Errorf("deadline %v, want now+restart %v", h.f.deadline, want)
				}
			case !h.f.deadline.Equal(before):
				t.Errorf("deadline moved from %v to %v", before, h.f.deadline)
			}
		})
	}
}

// TestFSMInputWhileDown covers the '-' receive cells of Initial and Starting.
func TestFSMInputWhileDown(t *testing.T) {
	for _, s := range []fsmState{stInitial, stStarting} {
		for _, ev := range []string{"RCR+", "RCA", "RCN", "RTR", "RTA", "RUC", "RXJ-", "RXJ-(Protocol-Reject)", "RXR"} {
			t.Run(s.String()+"/"+ev, func(t *testing.T) {
				h := newFSMHarness(t)
				h.force(s, 0)
				h.apply(ev)
				if h.f.state != s || len(h.l.log) != 0 {
					t.Errorf("state %v, actions %q; want %v and none", h.f.state, h.l.log, s)
				}
			})
		}
	}
}

func TestFSMRestartTimerConfReq(t *testing.T) {
	h := newFSMHarness(t)
	h.f.open(h.now)
	h.f.up(h.now)
	h.f.timeout(h.now.Add(h.f.cfg.restart - time.Millisecond)) // early: nothing
	for range h.f.cfg.maxConfigure - 1 {
		h.now = h.f.deadline
		h.f.timeout(h.now)
	}
	if got := len(h.sent); got != h.f.cfg.maxConfigure {
		t.Fatalf("%d Configure-Requests, want %d", got, h.f.cfg.maxConfigure)
	}
	for i, p := range h.sent {
		// A retransmission keeps its Identifier (RFC 1661 §5.1 MAY).
		if want := cp(cpConfReq, 1, ourOpts); !bytes.Equal(p, want) {
			t.Errorf("request %d:%s", i, hexDiff(want, p))
		}
	}
	if h.f.state != stReqSent || h.f.restarts != 0 {
		t.Fatalf("after the last request: %v, counter %d", h.f.state, h.f.restarts)
	}
	h.now = h.f.deadline
	h.f.timeout(h.now) // TO-
	want := append([]string{"tls"}, slices.Repeat([]string{"ConfReq"}, h.f.cfg.maxConfigure)...)
	want = append(want, "tlf")
	if h.f.state != stStopped || !h.f.deadline.IsZero() || !slices.Equal(h.l.log, want) {
		t.Errorf("state %v, deadline %v, actions %q; want Stopped, none, %q", h.f.state, h.f.deadline, h.l.log, want)
	}
	h.f.timeout(h.now.Add(time.Hour)) // a stale timer event
	if len(h.l.log) != len(want) {
		t.Errorf("stopped timer fired: %q", h.l.log[len(want):])
	}
}

func TestFSMRestartTimerTermReq(t *testing.T) {
	t.Run("Close", func(t *testing.T) {
		h := newFSMHarness(t)
		h.force(stOpened, 10)
		h.f.close(h.now)
		for range h.f.cfg.maxTerminate {
			h.now = h.f.deadline
			h.f.timeout(h.now)
		}
		want := []string{"tld", "TermReq", "TermReq", "tlf"}
		if h.f.state != stClosed || !slices.Equal(h.l.log, want) {
			t.Fatalf("state %v, actions %q; want Closed, %q", h.f.state, h.l.log, want)
		}
		// str picks a new Identifier each time.
		if h.sent[0][1] == h.sent[1][1] {
			t.Errorf("both Terminate-Requests have Identifier %d", h.sent[0][1])
		}
	})
	t.Run("peer's TermReq in Opened waits one period", func(t *testing.T) {
		h := newFSMHarness(t)
		h.force(stOpened, 10)
		h.apply("RTR")
		h.now = h.f.deadline
		h.f.timeout(h.now)
		want := []string{"tld", "TermAck", "tlf"}
		if h.f.state != stStopped || !slices.Equal(h.l.log, want) {
			t.Fatalf("state %v, actions %q; want Stopped, %q", h.f.state, h.l.log, want)
		}
	})
}

func TestFSMIdentifiers(t *testing.T) {
	h := newFSMHarness(t)
	h.force(stReqSent, 5)
	h.f.input(h.now, cp(cpConfReq, 0x42, peerOpts))
	h.f.input(h.now, cp(cpTermReq, 0x43, []byte("bye")))
	h.apply("RCN")
	h.apply("RUC")
	want := [][]byte{
		cp(cpConfAck, 0x42, peerOpts),                            // RFC 1661 §5.2: echoes the request
		cp(cpTermAck, 0x43, nil),                                 // §5.5: echoes the request
		cp(cpConfReq, 0x31, ourOpts),                             // §5.1: new contents, new Identifier
		cp(cpCodeRej, 0x32, cp(unknownCP, 0x45, []byte("junk"))), // §5.6: new per Code-Reject
	}
	if len(h.sent) != len(want) {
		t.Fatalf("sent %d packets, want %d", len(h.sent), len(want))
	}
	for i := range want {
		if !bytes.Equal(h.sent[i], want[i]) {
			t.Errorf("packet %d:%s", i, hexDiff(want[i], h.sent[i]))
		}
	}
}

// TestFSMIdentifierMismatch: RFC 1661 §5.2-§5.4 and §4.3 RCA/RCN, a reply
// that does not answer our last Configure-Request is silently discarded.
func TestFSMIdentifierMismatch(t *testing.T) {
	for _, tt := range []struct {
		name  string
		pkt   []byte
		ackOK bool
	}{
		{"Ack for an older request", cp(cpConfAck, 0x2f, ourOpts), true},
		{"Ack for a later request", cp(cpConfAck, 0x31, ourOpts), true},
		{"Nak with wrong id", cp(cpConfNak, 0x31, ourOpts), true},
		{"Rej with wrong id", cp(cpConfRej, 0x00, ourOpts), true},
		{"Ack with other options", cp(cpConfAck, 0x30, []byte{1, 4, 5, 0xdc}), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range []fsmState{stClosed, stReqSent, stAckSent, stOpened} {
				h := newFSMHarness(t)
				h.force(s, 5)
				h.l.ackOK = tt.ackOK
				h.f.input(h.now, tt.pkt)
				if h.f.state != s || len(h.l.log) != 0 || h.l.naks+h.l.rejs != 0 {
					t.Errorf("%v: state %v, actions %q, %d naks %d rejs; want no change", s, h.f.state, h.l.log, h.l.naks, h.l.rejs)
				}
			}
		})
	}
}

// TestFSMCrossedLogged: RFC 1661 §4.3 RCA, footnote x SHOULD be logged.
func TestFSMCrossedLogged(t *testing.T) {
	var buf bytes.Buffer
	h := newFSMHarness(t)
	h.log = newTextLogger(levelDebug, &buf)
	h.force(stAckRcvd, 10)
	h.apply("RCA")
	if got := buf.String(); !strings.Contains(got, "crossed connection") || !strings.Contains(got, "reason=ConfAck") {
		t.Errorf("log %q", got)
	}
}

func TestFSMNakRejReachLayer(t *testing.T) {
	h := newFSMHarness(t)
	h.force(stReqSent, 5)
	h.f.input(h.now, cp(cpConfNak, 0x30, []byte{1, 4, 5, 0xdc}))
	if h.l.naks != 1 || h.l.rejs != 0 || !bytes.Equal(h.l.gotOpts, []byte{1, 4, 5, 0xdc}) {
		t.Errorf("Nak: %d naks, %d rejs, opts % x", h.l.naks, h.l.rejs, h.l.gotOpts)
	}
	h.f.input(h.now, cp(cpConfRej, h.f.reqID, ourOpts))
	if h.l.naks != 1 || h.l.rejs != 1 || !bytes.Equal(h.l.gotOpts, ourOpts) {
		t.Errorf("Rej: %d naks, %d rejs, opts % x", h.l.naks, h.l.rejs, h.l.gotOpts)
	}
}

// TestFSMMaxFailure: RFC 1661 §4.6, after Max-Failure Configure-Naks with no
// Configure-Ack between them, what would be Nak'd is Rejected instead.
func TestFSMMaxFailure(t *testing.T) {
	h := newFSMHarness(t)
	h.force(stReqSent, 5)
	max := h.f.cfg.maxFailure
	var flags []bool
	req := func(reply cpCode) {
		h.l.reply = reply
		h.f.input(h.now, cp(cpConfReq, 0x42, peerOpts))
		flags = append(flags, h.l.rejectNaks)
	}
	for range max + 1 {
		req(cpConfNak)
	}
	req(cpConfAck)
	req(cpConfNak)

	want := slices.Repeat([]string{"ConfNak"}, max)
	want = append(want, "ConfRej", "ConfAck", "ConfNak")
	if !slices.Equal(h.l.log, want) {
		t.Errorf("replies %q, want %q", h.l.log, want)
	}
	wantFlags := append(slices.Repeat([]bool{false}, max), true, true, false)
	if !slices.Equal(flags, wantFlags) {
		t.Errorf("rejectNaks %v, want %v", flags, wantFlags)
	}
}

func TestFSMMalformedInput(t *testing.T) {
	padded := append(cp(cpConfReq, 0x42, peerOpts), 0, 0, 0, 0)
	for _, tt := range []struct {
		name string
		pkt  []byte
		want []string // the log; nil when the packet is dropped
	}{
		{"empty", nil, nil},
		{"short header", []byte{1, 0x42, 0}, nil},
		{"Length under header", []byte{1, 0x42, 0, 3, 9}, nil},
		{"Length past the data", cp(cpConfReq, 0x42, peerOpts)[:7], nil},
		{"Code-Reject naming no code", cp(cpCodeRej, 0x46, nil), nil},
		{"Ethernet padding ignored", padded, []string{"ConfAck"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newFSMHarness(t)
			h.force(stReqSent, 5)
			h.f.input(h.now, tt.pkt)
			if !slices.Equal(h.l.log, tt.want) {
				t.Fatalf("actions %q, want %q", h.l.log, tt.want)
			}
			if tt.want != nil {
				if want := cp(cpConfAck, 0x42, peerOpts); !bytes.Equal(h.sent[0], want) {
					t.Errorf("reply:%s", hexDiff(want, h.sent[0]))
				}
			}
		})
	}
}

func TestFSMCodeReject(t *testing.T) {
	long := cp(unknownCP, 9, bytes.Repeat([]byte{0xaa}, 1800))
	for _, tt := range []struct {
		name string
		pkt  []byte
		want []byte
	}{
		{"whole packet, padding left out", append(cp(unknownCP, 9, []byte("x")), 0, 0), cp(cpCodeRej, 0x31, cp(unknownCP, 9, []byte("x")))},
		{"truncated to fit 1484", long, cp(cpCodeRej, 0x31, long[:maxCodeRejLen-cpHdrLen])},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newFSMHarness(t)
			h.force(stOpened, 10)
			h.l.other = false
			h.f.input(h.now, tt.pkt)
			if len(h.sent) != 1 || !bytes.Equal(h.sent[0], tt.want) {
				t.Fatalf("sent %d packets; first:%s", len(h.sent), hexDiff(tt.want, slices.Concat(h.sent...)))
			}
			if h.f.state != stOpened {
				t.Errorf("state %v, want Opened", h.f.state)
			}
		})
	}
}

// TestFSMInputAllocs: a Configure-Request, the one packet a peer can keep
// sending in any state, is handled without allocating.
func TestFSMInputAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	for _, s := range []fsmState{stReqSent, stOpened} {
		t.Run(s.String(), func(t *testing.T) {
			h := newFSMHarness(t)
			h.discard = true
			h.force(s, 5)
			req := cp(cpConfReq, 0x42, peerOpts)
			got := testing.AllocsPerRun(1000, func() {
				h.l.log = h.l.log[:0]
				h.f.state = s
				h.f.input(h.now, req)
			})
			if got != 0 {
				t.Errorf("%v allocs per Configure-Request, want 0", got)
			}
			want := []string{"ConfAck"}
			if s == stOpened {
				want = []string{"tld", "ConfReq", "ConfAck"}
			}
			if !slices.Equal(h.l.log, want) {
				t.Errorf("actions %q, want %q", h.l.log, want)
			}
		})
	}
}

func BenchmarkFSMInput(b *testing.B) {
	h := newFSMHarness(b)
	h.discard = true
	req := cp(cpConfReq, 0x42, peerOpts)
	b.ReportAllocs()
	for b.Loop() {
		h.l.log = h.l.log[:0]
		h.f.state = stReqSent
		h.f.input(h.now, req)
	}
}
