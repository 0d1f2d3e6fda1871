// A session's IPv6: IPv6CP beside IPCP, the /64 its Router Advertisements
// announce, and the prefix DHCPv6 delegates to it.
//
// IPv6 is on when the server has a pool of /64s (cfg.v6). The session
// takes its /64 as it enters the network phase, before IPv6CP opens: from
// the authenticator's Framed-IPv6-Prefix, else from the pool its
// Framed-IPv6-Pool names, else the default pool. Without one, IPv6CP never
// opens (the peer's requests get Terminate-Ack) and IPv4 goes on. The
// delegated prefix is taken when the peer first asks for it over DHCPv6,
// and both go back to their pools when the session leaves the network
// phase. Either NCP may fail without the other: the link closes only when
// neither is open or opening.
//
// Everything here runs on the loop goroutine.

package main

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// sessionV6 is the IPv6 state of a session.
type sessionV6 struct {
	prefix    netip.Prefix // the /64 of RAs; invalid: none
	delegated netip.Prefix // from IA_PD; invalid: none yet
	up        bool         // IPv6CP is open and the data path forwards IPv6
	hookUp    bool         // ipv6-up ran for the IPv6CP that is up

	// For accounting and show: the last /64 and delegated prefix the
	// session had, kept after they go back to the pools.
	acctPrefix    netip.Prefix
	acctDelegated netip.Prefix

	raAt    time.Time // the next unsolicited RA
	raLast  time.Time // the last RA sent
	raFirst int       // initial RAs still to send at short intervals
	dhcp    dhcp6State
}

// accountNow sends an interim accounting record at once, when the
// session's IPv6 changed after its start record: RADIUS servers (and
// FreeRADIUS's default queries) record the prefixes from Start and
// Interim-Update only.
func (s *session) accountNow() {
	srv := s.srv
	if s.acctStart.IsZero() || s.path == nil {
		return
	}
	srv.account(acctInterim, s, srv.clock, s.path.counters())
	if s.acctInterval > 0 {
		s.acctNext = srv.clock.Add(s.acctInterval)
	}
}

// takePrefix6 takes the session's /64 as it enters the network phase. It
// reports whether IPv6CP may open.
func (s *session) takePrefix6() bool {
	v := s.srv.cfg.v6
	if !v.enabled() {
		return false
	}
	if s.v6.prefix.IsValid() {
		return true
	}
	res := &s.auth.result
	pfx, err := v.get(&v.prefix, res.ipv6Pool, res.ipv6Prefix)
	if err != nil && res.ipv6Prefix.IsValid() {
		s.logger().Info("the authenticator's IPv6 prefix is unavailable; using the pool", "prefix", res.ipv6Prefix.String(), "err", err)
		pfx, err = v.prefix.get(res.ipv6Pool)
	}
	if err == errPrefixExhausted && res.ipv6Pool != "" && v.prefix.pools[res.ipv6Pool] == nil {
		s.logger().Warn("the authenticator named an IPv6 pool there is no [[pool]] for; using the default one", "pool", res.ipv6Pool)
		pfx, err = v.prefix.get("")
	}
	if err != nil {
		live, size := v.prefix.live()
		s.logger().Warn("IPv6 prefix pool exhausted: IPv6 refused, IPv4 goes on", "live", live, "pool_size", size)
		s.srv.stats.add(statIPv6Refused)
		return false
	}
	s.v6.prefix = pfx
	return true
}

// openIPv6CP starts IPv6CP beside IPCP, if the session gets its /64.
func (s *session) openIPv6CP() {
	srv := s.srv
	if !srv.cfg.v6.enabled() {
		return
	}
	s.ipv6cpL.reset(s, false, rand64)
	if !s.takePrefix6() {
		// IPv6CP stays Closed: a request from the peer gets a
		// Terminate-Ack (RFC 1661 §4.3, RCR in Closed). After an LCP
		// renegotiation the automaton waits in Starting, where Up
		// would send a request: Close takes it to Initial first.
		if s.ipv6cp.state == stStarting {
			s.ipv6cp.close(srv.clock)
		}
		s.ipv6cp.up(srv.clock)
		return
	}
	s.ipv6cp.up(srv.clock)
	s.ipv6cp.open(srv.clock)
}

// leaveIPv6 gives the prefixes back as the session leaves the network
// phase.
func (s *session) leaveIPv6() {
	v := s.srv.cfg.v6
	if s.phase == phaseNetwork {
		s.ipv6cp.down(s.srv.clock)
	}
	s.stopIPv6()
	if v == nil {
		return
	}
	v.delegated.put(s.v6.delegated)
	v.prefix.put(s.v6.prefix)
	s.v6.prefix, s.v6.delegated = netip.Prefix{}, netip.Prefix{}
	s.v6.dhcp = dhcp6State{}
}

func (s *session) onIPv6CPUp() {
	srv := s.srv
	mtu := int(min(s.lcpL.peerMRU, s.lcpL.maxMRU()))
	if err := s.path.up6(s.ipv6cpL.local, s.ipv6cpL.peer, s.v6.prefix, mtu); err != nil {
		s.logger().Warn("bringing the session's IPv6 up failed", "ifname", s.path.ifname(), "err", err)
		s.ipv6cp.close(srv.clock)
		return
	}
	s.v6.up = true
	s.v6.acctPrefix = s.v6.prefix
	if s.v6.delegated.IsValid() {
		// IPv6CP renegotiated: the delegation still stands.
		if err := s.path.route6(s.v6.delegated); err != nil {
			s.logger().Warn("routing the delegated prefix failed", "prefix", s.v6.delegated.String(), "err", err)
		}
	}
	s.logger().Info("IPv6 up", "prefix", s.v6.prefix.String(), "ifname", s.path.ifname(),
		"local", netip.AddrFrom16(linkLocal(s.ipv6cpL.local)).String(), "remote", netip.AddrFrom16(linkLocal(s.ipv6cpL.peer)).String())
	srv.stats.add(statIPv6Up)
	switch {
	case !s.acctStart.IsZero():
		// Accounting started with IPv4: tell it about IPv6 now, not at
		// the next interim.
		s.accountNow()
	case !negotiating(&s.ipcp):
		// With IPCP still negotiating, the session comes up with it, so
		// accounting starts with the IPv4 address.
		s.networkUp()
	}
	// RFC 4861 §6.2.4: the first few RAs come quickly.
	s.v6.raFirst = raInitialCount
	s.v6.raAt = srv.clock
	s.sendRA()
	s.runIPv6Hook(true)
}

func (s *session) onIPv6CPDown() { s.stopIPv6() }

// stopIPv6 stops the session's IPv6 forwarding and RAs.
func (s *session) stopIPv6() {
	if !s.v6.up {
		return
	}
	s.path.down6()
	s.v6.up = false
	s.v6.raAt = time.Time{}
	if s.ipcp.state != stOpened {
		s.upAt = time.Time{}
	}
	s.runIPv6Hook(false)
}

func (s *session) onIPv6CPFinished() {
	if s.lcp.state == stOpened && !s.ncpAlive(protoIPv6CP) {
		s.closeLCP("no network protocol converged")
	}
}

// ncpAlive reports whether an NCP other than except is open or still
// negotiating.
func (s *session) ncpAlive(except uint16) bool {
	alive := func(f *fsm) bool { return f.state == stOpened || negotiating(f) }
	if except != protoIPCP && alive(&s.ipcp) {
		return true
	}
	return except != protoIPv6CP && alive(&s.ipv6cp)
}

func negotiating(f *fsm) bool {
	switch f.state {
	case stReqSent, stAckRcvd, stAckSent:
		return true
	}
	return false
}

// ncpUp reports whether IPCP or IPv6CP is open: the session is up.
func (s *session) ncpUp() bool {
	return s.phase == phaseNetwork && (s.ipcp.state == stOpened || s.ipv6cp.state == stOpened)
}

// tick6 sends the periodic RAs.
func (s *session) tick6(now time.Time) {
	if s.v6.up && !s.v6.raAt.IsZero() && !now.Before(s.v6.raAt) {
		s.sendRA()
	}
}

// RA timing (RFC 4861 §6.2.1, §6.2.4, §10): the first three RAs at most
// 16 s apart, then every 200 to 600 s; an RS is answered at once unless an
// RA went out less than 3 s ago, and then 3 s after that one.
const (
	raInitialCount    = 3
	raInitialInterval = 16 * time.Second
	raMinInterval     = 200 * time.Second
	raMaxInterval     = 600 * time.Second
	raMinDelay        = 3 * time.Second
	raRouterLifetime  = 1800
	raValidLifetime   = 7200
	raPreferred       = 3600
)

// solicited schedules an RA in answer to a Router Solicitation.
func (s *session) solicited() {
	now := s.srv.clock
	at := s.v6.raLast.Add(raMinDelay)
	if at.Before(now) {
		s.sendRA()
		return
	}
	if s.v6.raAt.IsZero() || at.Before(s.v6.raAt) {
		s.v6.raAt = at
	}
}

// schedule the next unsolicited RA after one went out now.
func (s *session) nextRA(now time.Time) {
	s.v6.raLast = now
	if s.v6.raFirst > 0 {
		s.v6.raFirst--
	}
	if s.v6.raFirst > 0 {
		s.v6.raAt = now.Add(raInitialInterval)
		return
	}
	span := uint64(raMaxInterval - raMinInterval)
	s.v6.raAt = now.Add(raMinInterval + time.Duration(rand64()%span))
}

// runIPv6Hook runs pppd's ipv6-up or ipv6-down script with pppd's argv
// (interface, device, speed, local and remote link-local address, ipparam)
// and environment. ipv6-down runs only if ipv6-up did.
func (s *session) runIPv6Hook(up bool) {
	srv := s.srv
	o := srv.ppp.opts
	script := o.ipv6UpScript
	if !up {
		if !s.v6.hookUp {
			return
		}
		script = o.ipv6DownScript
	}
	s.v6.hookUp = up
	if script == "" {
		return
	}
	ifname := s.path.ifname()
	local := netip.AddrFrom16(linkLocal(s.ipv6cpL.local)).String()
	remote := netip.AddrFrom16(linkLocal(s.ipv6cpL.peer)).String()
	env := []string{"IFNAME", ifname, "DEVICE", s.iface.name, "SPEED", "0",
		"LLLOCAL", local, "LLREMOTE", remote, "PEERNAME", s.auth.user,
		"MACREMOTE", strings.ToUpper(s.peer.String()), "IPPARAM", o.ipparam,
		"PPPOE_SESSIONID", strconv.Itoa(int(s.id)), "IPV6PREFIX", s.v6.prefix.String()}
	if s.v6.delegated.IsValid() {
		env = append(env, "IPV6DELEGATED", s.v6.delegated.String())
	}
	argv := []string{script, ifname, s.iface.name, "0", local, remote, o.ipparam}
	s.hookDone = srv.hooks.run(s.hookDone, []any{"sid", s.id, "user", s.auth.user},
		job{argv: argv, env: hookEnv(env...), script: true})
}

// The session is the DHCPv6 server's view of its binding (dhcp6.go).

func (s *session) delegatedPrefix() (netip.Prefix, bool) {
	if s.v6.delegated.IsValid() {
		return s.v6.delegated, true
	}
	v := s.srv.cfg.v6
	if v == nil {
		return netip.Prefix{}, false
	}
	res := &s.auth.result
	pfx, err := v.get(&v.delegated, res.delegatedPool, res.delegated)
	if err != nil && res.delegated.IsValid() {
		s.logger().Info("the authenticator's delegated prefix is unavailable; using the pool", "prefix", res.delegated.String(), "err", err)
		pfx, err = v.delegated.get(res.delegatedPool)
	}
	if err == errPrefixExhausted && res.delegatedPool != "" && v.delegated.pools[res.delegatedPool] == nil {
		pfx, err = v.delegated.get("")
	}
	if err != nil {
		if s.srv.logLimit.allow(logPDExhausted, s.srv.clock) {
			live, size := v.delegated.live()
			s.logger().Warn("no prefix to delegate: DHCPv6 answers NoPrefixAvail", "live", live, "pool_size", size)
		}
		s.srv.stats.add(statIPv6PDRefused)
		return netip.Prefix{}, false
	}
	if err := s.path.route6(pfx); err != nil {
		s.logger().Warn("routing the delegated prefix failed", "prefix", pfx.String(), "err", err)
		v.delegated.put(pfx)
		return netip.Prefix{}, false
	}
	s.v6.delegated, s.v6.acctDelegated = pfx, pfx
	s.logger().Info("prefix delegated", "prefix", pfx.String())
	s.accountNow()
	return pfx, true
}

func (s *session) releaseDelegated() {
	if !s.v6.delegated.IsValid() {
		return
	}
	if s.v6.up {
		s.path.route6(netip.Prefix{})
	}
	s.logger().Info("delegated prefix released", "prefix", s.v6.delegated.String())
	s.srv.cfg.v6.delegated.put(s.v6.delegated)
	s.v6.delegated = netip.Prefix{}
}

func (s *session) naAddress() (netip.Addr, bool) {
	if !s.srv.cfg.IPv6IANA || !s.v6.prefix.IsValid() {
		return netip.Addr{}, false
	}
	a := s.v6.prefix.Addr().As16()
	copy(a[8:], s.ipv6cpL.peer[:])
	return netip.AddrFrom16(a), true
}

// rand64 is a random number from the kernel.
func rand64() uint64 {
	var b [8]byte
	fillRandom(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func (s *session) onLink() (netip.Prefix, bool) { return s.v6.prefix, s.v6.prefix.IsValid() }
