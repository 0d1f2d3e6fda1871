// The DHCPv6 codec and the server that answers on a session's link
// (RFC 8415): prefix delegation (IA_PD) of the session's delegated prefix,
// optionally one address (IA_NA) from the session's /64, and DNS servers
// (RFC 3646). A few client-side builders serve the test and load client.
//
// The flow: the session's loop gets a UDP datagram to port 547 from
// parseUDP, parses it with parseDHCPv6 into a dhcp6Msg it keeps (nothing is
// allocated; the message aliases the datagram), and calls
// dhcp6Server.handle with the session's dhcp6State and the session itself
// as a dhcp6Session. handle appends the reply to a buffer the caller passes
// and says whether to send it. Everything here is pure: the server config
// is read-only once built, and the state and the session belong to the
// loop, which alone calls handle.
//
// We are on the link with the client (a PPP link has two ends), so relay
// messages are refused, and there is one client per session: a binding is
// per session, not per client DUID.

package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
)

// dhcp6MsgType is a message's msg-type (RFC 8415 §7.3).
type dhcp6MsgType uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=dhcp6MsgType -trimprefix=dhcp6
const (
	dhcp6Solicit            dhcp6MsgType = 1
	dhcp6Advertise          dhcp6MsgType = 2
	dhcp6Request            dhcp6MsgType = 3
	dhcp6Confirm            dhcp6MsgType = 4
	dhcp6Renew              dhcp6MsgType = 5
	dhcp6Rebind             dhcp6MsgType = 6
	dhcp6Reply              dhcp6MsgType = 7
	dhcp6Release            dhcp6MsgType = 8
	dhcp6Decline            dhcp6MsgType = 9
	dhcp6Reconfigure        dhcp6MsgType = 10
	dhcp6InformationRequest dhcp6MsgType = 11
	dhcp6RelayForw          dhcp6MsgType = 12
	dhcp6RelayRepl          dhcp6MsgType = 13
)

// dhcp6Opt is an option code (RFC 8415 §21, RFC 3646 §3).
type dhcp6Opt uint16

const (
	opt6ClientID     dhcp6Opt = 1
	opt6ServerID     dhcp6Opt = 2
	opt6IANA         dhcp6Opt = 3
	opt6IATA         dhcp6Opt = 4
	opt6IAAddr       dhcp6Opt = 5
	opt6ORO          dhcp6Opt = 6
	opt6Preference   dhcp6Opt = 7
	opt6ElapsedTime  dhcp6Opt = 8
	opt6StatusCode   dhcp6Opt = 13
	opt6RapidCommit  dhcp6Opt = 14
	opt6ReconfAccept dhcp6Opt = 20
	opt6DNSServers   dhcp6Opt = 23
	opt6IAPD         dhcp6Opt = 25
	opt6IAPrefix     dhcp6Opt = 26
)

// dhcp6Status is a Status Code option's status-code (RFC 8415 §21.13).
type dhcp6Status uint16

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=dhcp6Status -trimprefix=dhcp6Status
const (
	dhcp6StatusSuccess       dhcp6Status = 0
	dhcp6StatusUnspecFail    dhcp6Status = 1
	dhcp6StatusNoAddrsAvail  dhcp6Status = 2
	dhcp6StatusNoBinding     dhcp6Status = 3
	dhcp6StatusNotOnLink     dhcp6Status = 4
	dhcp6StatusUseMulticast  dhcp6Status = 5
	dhcp6StatusNoPrefixAvail dhcp6Status = 6
)

// Lengths, limits and defaults.
const (
	dhcp6HdrLen    = 4 // msg-type, transaction-id
	opt6HdrLen     = 4
	ia6HdrLen      = 12 // IAID, T1, T2
	iaAddrLen      = 24 // address, preferred, valid (RFC 8415 §21.6)
	iaPrefixLen    = 25 // preferred, valid, prefix-length, prefix (§21.22)
	dhcp6MinDUID   = 3  // a 2-byte type and at least one byte
	dhcp6MaxDUID   = 130
	dhcp6MaxIA     = 4 // IAs of each kind a dhcp6Msg keeps; more are checked and skipped
	dhcp6MaxDNS    = 4
	duidTypeLL     = 3 // RFC 8415 §11.4
	hwTypeEthernet = 1

	dhcp6DefaultPreferred = 3600 // seconds
	dhcp6DefaultValid     = 7200
	dhcp6DefaultT1        = 1800
	dhcp6DefaultT2        = 2880
)

var (
	errDHCP6Short    = errors.New("pppoe: DHCPv6 message too short")
	errDHCP6Relay    = errors.New("pppoe: DHCPv6 relay message on a direct link")
	errDHCP6Option   = errors.New("pppoe: DHCPv6 option runs past its container")
	errDHCP6OptLen   = errors.New("pppoe: DHCPv6 option length is invalid for its code")
	errDHCP6DUID     = errors.New("pppoe: DHCPv6 DUID length is invalid")
	errDHCP6Repeated = errors.New("pppoe: DHCPv6 Client or Server Identifier appears twice")
)

// dhcp6OptIter walks DHCPv6 options (RFC 8415 §21.1): code and val (aliasing
// the message). An option running past its container stops the walk with
// err set.
type dhcp6OptIter struct {
	b    []byte
	code dhcp6Opt
	val  []byte
	err  error
}

func (it *dhcp6OptIter) next() bool {
	if it.err != nil || len(it.b) == 0 {
		return false
	}
	if len(it.b) < opt6HdrLen {
		it.err = errDHCP6Option
		return false
	}
	n := opt6HdrLen + int(binary.BigEndian.Uint16(it.b[2:]))
	if n > len(it.b) {
		it.err = errDHCP6Option
		return false
	}
	it.code, it.val = dhcp6Opt(binary.BigEndian.Uint16(it.b)), it.b[opt6HdrLen:n]
	it.b = it.b[n:]
	return true
}

// dhcp6IA is one IA_NA or IA_PD (RFC 8415 §21.4, §21.21) with the first
// address or prefix in it.
type dhcp6IA struct {
	iaid, t1, t2 uint32
	// addr (IA_NA) or prefix (IA_PD) and its lifetimes are those of the
	// first IAADDR or IAPREFIX; hasAddr says there was one.
	addr              netip.Addr
	prefix            netip.Prefix
	preferred, valid  uint32
	hasAddr           bool
	status            dhcp6Status // the IA's own Status Code; Success when it has none
	opts              []byte      // the IA's options, checked, aliasing the message
	addrStatus        dhcp6Status // a Status Code inside the first IAADDR or IAPREFIX
	hasStatus, hasSub bool        // a Status Code in the IA; one in the first IAADDR/IAPREFIX
}

// dhcp6Msg is a parsed client or server message. The slices alias the
// buffer given to parseDHCPv6.
type dhcp6Msg struct {
	typ                dhcp6MsgType
	txid               [3]byte
	clientID, serverID []byte // the DUIDs; nil when absent
	rapidCommit        bool
	oro                []byte // Option Request option: option codes, 2 bytes each
	preference         uint8
	status             dhcp6Status // the message's Status Code; Success when it has none
	hasStatus          bool
	statusMsg          []byte
	dns                [dhcp6MaxDNS]netip.Addr
	ndns               int
	na                 [dhcp6MaxIA]dhcp6IA
	nNA                int
	pd                 [dhcp6MaxIA]dhcp6IA
	nPD                int
	nTA                int // IA_TAs seen; we assign no temporary addresses
}

// parseDHCPv6 reads a client or server message into m, checking every
// option's length, those inside IA_NA, IA_PD, IAADDR and IAPREFIX too.
// Relay-forward and Relay-reply are refused (we are on the client's link).
// IAs past dhcp6MaxIA of a kind, and DNS servers past dhcp6MaxDNS, are
// checked and not kept.
func parseDHCPv6(b []byte, m *dhcp6Msg) error {
	*m = dhcp6Msg{}
	if len(b) < dhcp6HdrLen {
		return errDHCP6Short
	}
	m.typ = dhcp6MsgType(b[0])
	if m.typ == dhcp6RelayForw || m.typ == dhcp6RelayRepl {
		return errDHCP6Relay
	}
	copy(m.txid[:], b[1:4])
	it := dhcp6OptIter{b: b[dhcp6HdrLen:]}
	for it.next() {
		v := it.val
		switch it.code {
		case opt6ClientID, opt6ServerID:
			if len(v) < dhcp6MinDUID || len(v) > dhcp6MaxDUID {
				return errDHCP6DUID
			}
			id := &m.clientID
			if it.code == opt6ServerID {
				id = &m.serverID
			}
			if *id != nil {
				return errDHCP6Repeated
			}
			*id = v
		case opt6IANA, opt6IAPD:
			var ia dhcp6IA
			if err := parseIA(v, it.code == opt6IAPD, &ia); err != nil {
				return err
			}
			if it.code == opt6IANA && m.nNA < dhcp6MaxIA {
				m.na[m.nNA] = ia
				m.nNA++
			} else if it.code == opt6IAPD && m.nPD < dhcp6MaxIA {
				m.pd[m.nPD] = ia
				m.nPD++
			}
		case opt6IATA:
			// RFC 8415 §21.5: IAID then options.
			if len(v) < 4 {
				return errDHCP6OptLen
			}
			if err := checkOpts6(v[4:]); err != nil {
				return err
			}
			m.nTA++
		case opt6ORO:
			if len(v)%2 != 0 {
				return errDHCP6OptLen
			}
			m.oro = v
		case opt6Preference:
			if len(v) != 1 {
				return errDHCP6OptLen
			}
			m.preference = v[0]
		case opt6ElapsedTime:
			if len(v) != 2 {
				return errDHCP6OptLen
			}
		case opt6RapidCommit, opt6ReconfAccept:
			if len(v) != 0 {
				return errDHCP6OptLen
			}
			m.rapidCommit = m.rapidCommit || it.code == opt6RapidCommit
		case opt6StatusCode:
			if len(v) < 2 {
				return errDHCP6OptLen
			}
			m.status, m.statusMsg, m.hasStatus = dhcp6Status(binary.BigEndian.Uint16(v)), v[2:], true
		case opt6DNSServers:
			if len(v)%16 != 0 {
				return errDHCP6OptLen
			}
			for ; len(v) > 0 && m.ndns < dhcp6MaxDNS; v = v[16:] {
				m.dns[m.ndns] = netip.AddrFrom16([16]byte(v[:16]))
				m.ndns++
			}
		}
	}
	return it.err
}

// parseIA reads the value of an IA_NA (pd false) or IA_PD option.
func parseIA(v []byte, pd bool, ia *dhcp6IA) error {
	if len(v) < ia6HdrLen {
		return errDHCP6OptLen
	}
	ia.iaid = binary.BigEndian.Uint32(v)
	ia.t1 = binary.BigEndian.Uint32(v[4:])
	ia.t2 = binary.BigEndian.Uint32(v[8:])
	ia.opts = v[ia6HdrLen:]
	it := dhcp6OptIter{b: ia.opts}
	for it.next() {
		a := it.val
		switch {
		case it.code == opt6StatusCode:
			if len(a) < 2 {
				return errDHCP6OptLen
			}
			ia.status, ia.hasStatus = dhcp6Status(binary.BigEndian.Uint16(a)), true
		case it.code == opt6IAAddr && !pd:
			if len(a) < iaAddrLen {
				return errDHCP6OptLen
			}
			st, has, err := subStatus(a[iaAddrLen:])
			if err != nil {
				return err
			}
			if !ia.hasAddr {
				ia.hasAddr, ia.addrStatus, ia.hasSub = true, st, has
				ia.addr = netip.AddrFrom16([16]byte(a[:16]))
				ia.preferred = binary.BigEndian.Uint32(a[16:])
				ia.valid = binary.BigEndian.Uint32(a[20:])
			}
		case it.code == opt6IAPrefix && pd:
			if len(a) < iaPrefixLen || a[8] > 128 {
				return errDHCP6OptLen
			}
			st, has, err := subStatus(a[iaPrefixLen:])
			if err != nil {
				return err
			}
			if !ia.hasAddr {
				ia.hasAddr, ia.addrStatus, ia.hasSub = true, st, has
				ia.preferred = binary.BigEndian.Uint32(a)
				ia.valid = binary.BigEndian.Uint32(a[4:])
				ia.prefix = netip.PrefixFrom(netip.AddrFrom16([16]byte(a[9:25])), int(a[8]))
			}
		}
	}
	return it.err
}

// subStatus checks the options inside an IAADDR or IAPREFIX and returns
// the Status Code among them.
func subStatus(b []byte) (dhcp6Status, bool, error) {
	var st dhcp6Status
	has := false
	it := dhcp6OptIter{b: b}
	for it.next() {
		if it.code == opt6StatusCode {
			if len(it.val) < 2 {
				return 0, false, errDHCP6OptLen
			}
			st, has = dhcp6Status(binary.BigEndian.Uint16(it.val)), true
		}
	}
	return st, has, it.err
}

// checkOpts6 checks that b is a sequence of whole options.
func checkOpts6(b []byte) error {
	it := dhcp6OptIter{b: b}
	for it.next() {
	}
	return it.err
}

// requested reports whether the Option Request option asks for code.
func (m *dhcp6Msg) requested(code dhcp6Opt) bool {
	for o := m.oro; len(o) >= 2; o = o[2:] {
		if dhcp6Opt(binary.BigEndian.Uint16(o)) == code {
			return true
		}
	}
	return false
}

// granted returns the first IA of ias that carries an address or prefix
// with a nonzero valid lifetime and no error status: what a client takes
// from an Advertise or Reply.
func granted(ias []dhcp6IA) (dhcp6IA, bool) {
	for _, ia := range ias {
		if ia.hasAddr && ia.valid != 0 && ia.status == dhcp6StatusSuccess && ia.addrStatus == dhcp6StatusSuccess {
			return ia, true
		}
	}
	return dhcp6IA{}, false
}

// appendOpt6 appends one option.
func appendOpt6(b []byte, code dhcp6Opt, val []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	b = binary.BigEndian.AppendUint16(b, uint16(len(val)))
	return append(b, val...)
}

// beginOpt6 appends an option header with length 0 and returns where it
// starts; endOpt6 patches the length once the option's value is appended.
func beginOpt6(b []byte, code dhcp6Opt) ([]byte, int) {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	return append(b, 0, 0), start
}

func endOpt6(b []byte, start int) {
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start-opt6HdrLen))
}

// appendStatus6 appends a Status Code option. msg is for the user, in
// UTF-8 (RFC 8415 §21.13); ours are fixed strings.
func appendStatus6(b []byte, st dhcp6Status, msg string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(opt6StatusCode))
	b = binary.BigEndian.AppendUint16(b, uint16(2+len(msg)))
	b = binary.BigEndian.AppendUint16(b, uint16(st))
	return append(b, msg...)
}

// beginIA appends the header of an IA_NA or IA_PD; close it with endOpt6.
func beginIA(b []byte, code dhcp6Opt, iaid, t1, t2 uint32) ([]byte, int) {
	b, start := beginOpt6(b, code)
	b = binary.BigEndian.AppendUint32(b, iaid)
	b = binary.BigEndian.AppendUint32(b, t1)
	return binary.BigEndian.AppendUint32(b, t2), start
}

// appendIAAddr appends an IAADDR option (RFC 8415 §21.6).
func appendIAAddr(b []byte, a netip.Addr, preferred, valid uint32) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(opt6IAAddr))
	b = binary.BigEndian.AppendUint16(b, iaAddrLen)
	a16 := a.As16()
	b = append(b, a16[:]...)
	b = binary.BigEndian.AppendUint32(b, preferred)
	return binary.BigEndian.AppendUint32(b, valid)
}

// appendIAPrefix appends an IAPREFIX option (RFC 8415 §21.22).
func appendIAPrefix(b []byte, p netip.Prefix, preferred, valid uint32) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(opt6IAPrefix))
	b = binary.BigEndian.AppendUint16(b, iaPrefixLen)
	b = binary.BigEndian.AppendUint32(b, preferred)
	b = binary.BigEndian.AppendUint32(b, valid)
	b = append(b, byte(p.Bits()))
	a16 := p.Addr().As16()
	return append(b, a16[:]...)
}

// appendIAStatus appends an IA that carries only a status.
func appendIAStatus(b []byte, code dhcp6Opt, iaid uint32, st dhcp6Status, msg string) []byte {
	b, start := beginIA(b, code, iaid, 0, 0)
	b = appendStatus6(b, st, msg)
	endOpt6(b, start)
	return b
}

// appendDUIDLL appends a DUID-LL (RFC 8415 §11.4) for an Ethernet address.
func appendDUIDLL(b []byte, mac hwAddr) []byte {
	b = binary.BigEndian.AppendUint16(b, duidTypeLL)
	b = binary.BigEndian.AppendUint16(b, hwTypeEthernet)
	return append(b, mac[:]...)
}

// dhcp6Session is the session a reply is for, as the server sees it.
type dhcp6Session interface {
	// delegatedPrefix returns the session's delegated prefix, taking one
	// from the pool on the first call; ok=false when none is available
	// (exhausted or not configured).
	delegatedPrefix() (netip.Prefix, bool)
	// releaseDelegated gives the delegated prefix back (Release, or a Decline).
	releaseDelegated()
	// naAddress is the address IA_NA hands out (inside the session's /64);
	// ok=false when IA_NA is off or the session has no /64.
	naAddress() (netip.Addr, bool)
	// onLink is the session's /64, which Confirm checks addresses
	// against whether or not IA_NA is offered; ok=false without one.
	onLink() (netip.Prefix, bool)
}

// dhcp6Server is the DHCPv6 configuration every session shares; read-only
// once built.
type dhcp6Server struct {
	duid    []byte // our DUID-LL, from the interface's MAC
	dns     [2]netip.Addr
	offerNA bool
	// Lifetimes and renewal times in seconds, for what we assign.
	preferred, valid, t1, t2 uint32
}

// newDHCP6Server returns a server whose DUID comes from mac, with the
// default lifetimes. dns entries that are not valid IPv6 addresses are
// left out of replies.
func newDHCP6Server(mac hwAddr, dns [2]netip.Addr, offerNA bool) *dhcp6Server {
	return &dhcp6Server{
		duid: appendDUIDLL(nil, mac), dns: dns, offerNA: offerNA,
		preferred: dhcp6DefaultPreferred, valid: dhcp6DefaultValid,
		t1: dhcp6DefaultT1, t2: dhcp6DefaultT2,
	}
}

// dhcp6State is what the server remembers of a session's client: its DUID
// and the IAs its address and prefix are bound to. The zero value is a
// session nothing has been bound to yet. Owned by the loop, like the
// session it belongs to.
type dhcp6State struct {
	duid    [dhcp6MaxDUID]byte
	duidLen uint8
	naIAID  uint32
	na      netip.Addr // the bound address; invalid when none
	pdIAID  uint32
	pd      netip.Prefix // the bound delegated prefix; invalid when none
	// naDeclined is set when the client declined the address (RFC 8415
	// §18.3.8: the server marks it unusable); the session has only one.
	naDeclined bool
}

// sameClient reports whether duid is the client the bindings belong to.
func (st *dhcp6State) sameClient(duid []byte) bool {
	return bytes.Equal(st.duid[:st.duidLen], duid)
}

// setClient makes duid the session's client. A different DUID means the
// other end restarted with a new identity, and its old bindings go: there
// is one client per session.
func (st *dhcp6State) setClient(duid []byte) {
	if st.sameClient(duid) {
		return
	}
	*st = dhcp6State{naDeclined: st.naDeclined}
	st.duidLen = uint8(copy(st.duid[:], duid))
}

// Status messages we send; fixed, so the peer never sees internal detail.
const (
	msgNoAddrs  = "no addresses available"
	msgNoPrefix = "no prefix available"
	msgNoBind   = "no binding"
	msgNotLink  = "not on link"
	msgSuccess  = "ok"
)

// handle answers req, appending the reply (msg-type onward) to out; ok is
// false when nothing is to be sent. st is updated with what the reply
// binds; sess is asked for the prefix and address.
//
// What is checked first (RFC 8415 §16): Solicit, Confirm and Rebind must
// not name a server; Request, Renew, Release and Decline must name us;
// an Information-request may name only us and carries no IA. All but
// Information-request carry a Client Identifier. Anything else is
// dropped, as are message types a server does not receive.
//
// We send no Server Unicast option, so clients send to ff02::1:2; the
// caller may drop a message sent to one of our unicast addresses (RFC 8415
// §18.3.1 would have us answer it with UseMulticast) or answer it, which
// on a point-to-point link is harmless.
func (d *dhcp6Server) handle(out []byte, req *dhcp6Msg, st *dhcp6State, sess dhcp6Session) (reply []byte, ok bool) {
	ours := req.serverID != nil && bytes.Equal(req.serverID, d.duid)
	switch req.typ {
	case dhcp6Solicit, dhcp6Confirm, dhcp6Rebind:
		if req.serverID != nil || req.clientID == nil {
			return out, false
		}
	case dhcp6Request, dhcp6Renew, dhcp6Release, dhcp6Decline:
		if !ours || req.clientID == nil {
			return out, false
		}
	case dhcp6InformationRequest:
		if (req.serverID != nil && !ours) || req.nNA+req.nPD+req.nTA > 0 {
			return out, false
		}
	default:
		return out, false
	}
	typ := dhcp6Reply
	if req.typ == dhcp6Solicit && !req.rapidCommit {
		typ = dhcp6Advertise
	}
	b := append(out, byte(typ), req.txid[0], req.txid[1], req.txid[2])
	if req.clientID != nil {
		b = appendOpt6(b, opt6ClientID, req.clientID)
	}
	b = appendOpt6(b, opt6ServerID, d.duid)
	ids := len(b)
	switch req.typ {
	case dhcp6Solicit:
		if req.rapidCommit {
			// RFC 8415 §18.3.1: we always commit on a Rapid Commit Solicit.
			b = appendOpt6(b, opt6RapidCommit, nil)
		} else {
			// Preference 255 (§18.2.1): the client takes this Advertise
			// at once instead of waiting for others; there are none on
			// a PPP link.
			b = appendOpt6(b, opt6Preference, []byte{255})
		}
		var n int
		b, n = d.appendAssigned(b, req, st, sess, req.rapidCommit)
		if n == 0 && !req.rapidCommit {
			// §18.3.9: an Advertise that would assign nothing carries
			// only the identifiers and NoAddrsAvail.
			return appendStatus6(b[:ids], dhcp6StatusNoAddrsAvail, msgNoAddrs), true
		}
	case dhcp6Request:
		b, _ = d.appendAssigned(b, req, st, sess, true)
	case dhcp6Renew, dhcp6Rebind:
		b = d.appendExtended(b, req, st, sess, req.typ == dhcp6Rebind)
	case dhcp6Release, dhcp6Decline:
		b = d.appendReleased(b, req, st, sess, req.typ == dhcp6Decline)
		// §18.3.7, §18.3.8: Success at the top, whatever the IAs said.
		return appendStatus6(b, dhcp6StatusSuccess, msgSuccess), true
	case dhcp6Confirm:
		onLink, any := d.confirm(req, sess)
		if !any {
			// §18.3.3: no addresses to judge, no reply.
			return out, false
		}
		if onLink {
			return appendStatus6(b, dhcp6StatusSuccess, msgSuccess), true
		}
		return appendStatus6(b, dhcp6StatusNotOnLink, msgNotLink), true
	}
	return d.appendDNS(b), true
}

// appendDNS appends the DNS Recursive Name Server option (RFC 3646 §3)
// with our valid IPv6 servers, if any. It goes into every Advertise and
// Reply that is not about a Release, Decline or Confirm, asked for or not
// (RFC 8415 §21.7 lets a server add options; odhcp6c and dhcpcd ask).
func (d *dhcp6Server) appendDNS(b []byte) []byte {
	b, start := beginOpt6(b, opt6DNSServers)
	for _, a := range d.dns {
		if a.IsValid() && a.Is6() {
			a16 := a.As16()
			b = append(b, a16[:]...)
		}
	}
	if len(b) == start+opt6HdrLen {
		return b[:start]
	}
	endOpt6(b, start)
	return b
}

// pick returns the index of the IA in ias that gets the session's one
// address or prefix: the one bound to it if present, else the first.
func pick(ias []dhcp6IA, bound bool, iaid uint32) int {
	if bound {
		for i := range ias {
			if ias[i].iaid == iaid {
				return i
			}
		}
	}
	return 0
}

// appendAssigned appends the IAs of a Solicit or Request with what the
// session has for them, binding them in st if commit (a Request, or a
// Rapid Commit Solicit). The session has one address and one prefix, so
// one IA of each kind gets it and the others get NoAddrsAvail or
// NoPrefixAvail (RFC 8415 §18.3.2, §18.3.9). What a Solicit lists is a
// hint and is ignored; anything else a Request lists goes back with
// lifetimes 0, as on a Renew. n counts the IAs that got something.
func (d *dhcp6Server) appendAssigned(b []byte, req *dhcp6Msg, st *dhcp6State, sess dhcp6Session, commit bool) (_ []byte, n int) {
	same := st.sameClient(req.clientID)
	if req.nNA > 0 {
		var a netip.Addr
		ok := false
		if d.offerNA && !st.naDeclined {
			a, ok = sess.naAddress()
		}
		i := pick(req.na[:req.nNA], same && st.na.IsValid(), st.naIAID)
		for j := range req.na[:req.nNA] {
			ia := &req.na[j]
			if !ok || j != i {
				b = appendIAStatus(b, opt6IANA, ia.iaid, dhcp6StatusNoAddrsAvail, msgNoAddrs)
				continue
			}
			var start int
			b, start = beginIA(b, opt6IANA, ia.iaid, d.t1, d.t2)
			b = appendIAAddr(b, a, d.preferred, d.valid)
			if req.typ == dhcp6Request {
				b = appendStale(b, opt6IANA, ia, true, a, netip.Prefix{})
			}
			endOpt6(b, start)
			n++
			if commit {
				st.setClient(req.clientID)
				st.naIAID, st.na = ia.iaid, a
			}
		}
	}
	if req.nPD > 0 {
		p, ok := sess.delegatedPrefix()
		i := pick(req.pd[:req.nPD], same && st.pd.IsValid(), st.pdIAID)
		for j := range req.pd[:req.nPD] {
			ia := &req.pd[j]
			if !ok || j != i {
				b = appendIAStatus(b, opt6IAPD, ia.iaid, dhcp6StatusNoPrefixAvail, msgNoPrefix)
				continue
			}
			var start int
			b, start = beginIA(b, opt6IAPD, ia.iaid, d.t1, d.t2)
			b = appendIAPrefix(b, p, d.preferred, d.valid)
			if req.typ == dhcp6Request {
				b = appendStale(b, opt6IAPD, ia, true, netip.Addr{}, p)
			}
			endOpt6(b, start)
			n++
			if commit {
				st.setClient(req.clientID)
				st.pdIAID, st.pd = ia.iaid, p
			}
		}
	}
	return b, n
}

// appendExtended appends the IAs of a Renew or Rebind (RFC 8415 §18.3.4,
// §18.3.5). An IA keeps the session's address or prefix, with fresh
// lifetimes, when it lists it, or lists nothing and is the IA it is bound
// to; anything else it lists is not for this link and goes back with
// lifetimes 0. Any other IA gets NoBinding on a Renew (the client then
// sends a Request) and, on a Rebind, what it lists back with lifetimes 0,
// or NoBinding if it lists nothing but hints.
func (d *dhcp6Server) appendExtended(b []byte, req *dhcp6Msg, st *dhcp6State, sess dhcp6Session, rebind bool) []byte {
	same := st.sameClient(req.clientID)
	if req.nNA > 0 {
		var a netip.Addr
		ok := false
		if d.offerNA && !st.naDeclined {
			a, ok = sess.naAddress()
		}
		given := false
		for j := range req.na[:req.nNA] {
			ia := &req.na[j]
			keep := ok && !given && (iaHasAddr(ia.opts, a) ||
				(!ia.hasAddr && same && st.na == a && st.naIAID == ia.iaid))
			if keep {
				given = true
				st.setClient(req.clientID)
				st.naIAID, st.na = ia.iaid, a
			}
			b = d.appendExtendedIA(b, opt6IANA, ia, keep, rebind, a, netip.Prefix{})
		}
	}
	if req.nPD > 0 {
		var p netip.Prefix
		ok := false
		// Only ask for the prefix when there is one to compare with: the
		// first call would take one from the pool.
		if st.pd.IsValid() || anyHasAddr(req.pd[:req.nPD]) {
			p, ok = sess.delegatedPrefix()
		}
		given := false
		for j := range req.pd[:req.nPD] {
			ia := &req.pd[j]
			keep := ok && !given && (iaHasPrefix(ia.opts, p) ||
				(!ia.hasAddr && same && st.pd == p && st.pdIAID == ia.iaid))
			if keep {
				given = true
				st.setClient(req.clientID)
				st.pdIAID, st.pd = ia.iaid, p
			}
			b = d.appendExtendedIA(b, opt6IAPD, ia, keep, rebind, netip.Addr{}, p)
		}
	}
	return b
}

// appendExtendedIA appends one IA of a Renew or Rebind reply: see
// appendExtended. a or p is the session's address or prefix.
func (d *dhcp6Server) appendExtendedIA(b []byte, code dhcp6Opt, ia *dhcp6IA, keep, rebind bool, a netip.Addr, p netip.Prefix) []byte {
	if !keep && !rebind {
		return appendIAStatus(b, code, ia.iaid, dhcp6StatusNoBinding, msgNoBind)
	}
	var t1, t2 uint32
	if keep {
		t1, t2 = d.t1, d.t2
	}
	b, start := beginIA(b, code, ia.iaid, t1, t2)
	if keep && code == opt6IANA {
		b = appendIAAddr(b, a, d.preferred, d.valid)
	} else if keep {
		b = appendIAPrefix(b, p, d.preferred, d.valid)
	}
	b = appendStale(b, code, ia, keep, a, p)
	if len(b) == start+opt6HdrLen+ia6HdrLen {
		return appendIAStatus(b[:start], code, ia.iaid, dhcp6StatusNoBinding, msgNoBind)
	}
	endOpt6(b, start)
	return b
}

// appendStale appends, with lifetimes 0, each address or prefix that ia
// lists other than the one it is given (a or p, if given): the client's
// old ones, not for this link any more (RFC 8415 §18.3.4, §18.3.5). An
// unspecified one is a hint (a prefix length, say), not a lease, and is
// left out.
func appendStale(b []byte, code dhcp6Opt, ia *dhcp6IA, given bool, a netip.Addr, p netip.Prefix) []byte {
	it := dhcp6OptIter{b: ia.opts}
	for it.next() {
		switch {
		case code == opt6IANA && it.code == opt6IAAddr:
			x := netip.AddrFrom16([16]byte(it.val[:16]))
			if !x.IsUnspecified() && (!given || x != a) {
				b = appendIAAddr(b, x, 0, 0)
			}
		case code == opt6IAPD && it.code == opt6IAPrefix:
			x := netip.PrefixFrom(netip.AddrFrom16([16]byte(it.val[9:25])), int(it.val[8]))
			if !x.Addr().IsUnspecified() && (!given || x != p) {
				b = appendIAPrefix(b, x, 0, 0)
			}
		}
	}
	return b
}

// appendReleased handles the IAs of a Release or Decline (RFC 8415
// §18.3.7, §18.3.8): an IA bound for this client gives up the address or
// prefix it lists; an IA with no binding comes back with NoBinding. A
// declined address is not offered again on this session.
func (d *dhcp6Server) appendReleased(b []byte, req *dhcp6Msg, st *dhcp6State, sess dhcp6Session, decline bool) []byte {
	same := st.sameClient(req.clientID)
	for j := range req.na[:req.nNA] {
		ia := &req.na[j]
		if !same || !st.na.IsValid() || ia.iaid != st.naIAID {
			b = appendIAStatus(b, opt6IANA, ia.iaid, dhcp6StatusNoBinding, msgNoBind)
			continue
		}
		if iaHasAddr(ia.opts, st.na) {
			st.na = netip.Addr{}
			st.naDeclined = st.naDeclined || decline
		}
	}
	for j := range req.pd[:req.nPD] {
		ia := &req.pd[j]
		if !same || !st.pd.IsValid() || ia.iaid != st.pdIAID {
			b = appendIAStatus(b, opt6IAPD, ia.iaid, dhcp6StatusNoBinding, msgNoBind)
			continue
		}
		if iaHasPrefix(ia.opts, st.pd) {
			st.pd = netip.Prefix{}
			sess.releaseDelegated()
		}
	}
	return b
}

// confirm judges the addresses of a Confirm (RFC 8415 §18.3.3): onLink when
// every one is inside the session's /64; any is false when there are none.
func (d *dhcp6Server) confirm(req *dhcp6Msg, sess dhcp6Session) (onLink, any bool) {
	link, ok := sess.onLink()
	onLink = true
	for j := range req.na[:req.nNA] {
		it := dhcp6OptIter{b: req.na[j].opts}
		for it.next() {
			if it.code == opt6IAAddr {
				any = true
				onLink = onLink && ok && link.Contains(netip.AddrFrom16([16]byte(it.val[:16])))
			}
		}
	}
	return onLink, any
}

// iaHasAddr reports whether the (checked) IA options opts list a.
func iaHasAddr(opts []byte, a netip.Addr) bool {
	it := dhcp6OptIter{b: opts}
	for it.next() {
		if it.code == opt6IAAddr && netip.AddrFrom16([16]byte(it.val[:16])) == a {
			return true
		}
	}
	return false
}

// iaHasPrefix reports whether the (checked) IA options opts list p.
func iaHasPrefix(opts []byte, p netip.Prefix) bool {
	it := dhcp6OptIter{b: opts}
	for it.next() {
		if it.code == opt6IAPrefix &&
			netip.PrefixFrom(netip.AddrFrom16([16]byte(it.val[9:25])), int(it.val[8])) == p {
			return true
		}
	}
	return false
}

func anyHasAddr(ias []dhcp6IA) bool {
	for i := range ias {
		if ias[i].hasAddr {
			return true
		}
	}
	return false
}

// appendDHCP6Solicit appends a client's Solicit (RFC 8415 §18.2.1): Client
// Identifier, Elapsed Time 0, an Option Request for DNS servers, Rapid
// Commit if rapid, and an empty IA_NA and IA_PD with iaid as asked.
func appendDHCP6Solicit(b []byte, txid [3]byte, clientDUID []byte, iaid uint32, wantPD, wantNA, rapid bool) []byte {
	b = appendClientHeader(b, dhcp6Solicit, txid, clientDUID, nil)
	if rapid {
		b = appendOpt6(b, opt6RapidCommit, nil)
	}
	var start int
	if wantNA {
		b, start = beginIA(b, opt6IANA, iaid, 0, 0)
		endOpt6(b, start)
	}
	if wantPD {
		b, start = beginIA(b, opt6IAPD, iaid, 0, 0)
		endOpt6(b, start)
	}
	return b
}

// appendClientHeader appends msg-type, transaction ID, Client Identifier,
// Server Identifier if serverID is not nil, Elapsed Time 0 and, for the
// messages that carry one (RFC 8415 §21.7), an Option Request for DNS.
func appendClientHeader(b []byte, typ dhcp6MsgType, txid [3]byte, clientDUID, serverID []byte) []byte {
	b = append(b, byte(typ), txid[0], txid[1], txid[2])
	b = appendOpt6(b, opt6ClientID, clientDUID)
	if serverID != nil {
		b = appendOpt6(b, opt6ServerID, serverID)
	}
	b = appendOpt6(b, opt6ElapsedTime, []byte{0, 0})
	switch typ {
	case dhcp6Solicit, dhcp6Request, dhcp6Renew, dhcp6Rebind, dhcp6InformationRequest:
		b = appendOpt6(b, opt6ORO, []byte{0, byte(opt6DNSServers)})
	}
	return b
}

// appendDHCP6Request appends the Request for what the Advertise adv
// offered (RFC 8415 §18.2.2).
func appendDHCP6Request(b []byte, txid [3]byte, clientDUID []byte, adv *dhcp6Msg) []byte {
	return appendDHCP6Followup(b, dhcp6Request, txid, clientDUID, adv)
}

// appendDHCP6Followup appends a client message of type typ (Request,
// Renew, Rebind, Release, Decline or Confirm) about the IAs of from, an
// Advertise or Reply: each IA with its address or prefix, if it had one,
// lifetimes and T1/T2 0 (RFC 8415 §18.2); a Confirm or Decline has the
// IA_NAs only. Server Identifier is from's for the types that name a
// server.
func appendDHCP6Followup(b []byte, typ dhcp6MsgType, txid [3]byte, clientDUID []byte, from *dhcp6Msg) []byte {
	var sid []byte
	switch typ {
	case dhcp6Request, dhcp6Renew, dhcp6Release, dhcp6Decline:
		sid = from.serverID
	}
	b = appendClientHeader(b, typ, txid, clientDUID, sid)
	var start int
	for _, ia := range from.na[:from.nNA] {
		b, start = beginIA(b, opt6IANA, ia.iaid, 0, 0)
		if ia.hasAddr {
			b = appendIAAddr(b, ia.addr, 0, 0)
		}
		endOpt6(b, start)
	}
	if typ == dhcp6Confirm || typ == dhcp6Decline {
		return b // §18.2.3, §18.2.8: addresses only
	}
	for _, ia := range from.pd[:from.nPD] {
		b, start = beginIA(b, opt6IAPD, ia.iaid, 0, 0)
		if ia.hasAddr {
			b = appendIAPrefix(b, ia.prefix, 0, 0)
		}
		endOpt6(b, start)
	}
	return b
}

// appendDHCP6InfoRequest appends an Information-request (RFC 8415
// §18.2.6) for DNS servers.
func appendDHCP6InfoRequest(b []byte, txid [3]byte, clientDUID []byte) []byte {
	return appendClientHeader(b, dhcp6InformationRequest, txid, clientDUID, nil)
}
