// Temporary: RA and DHCPv6 arrive with the IPv6 codecs (ipv6.go, dhcp6.go).

package main

type dhcp6State struct{}

func (s *session) handleIPv6(pkt []byte) { s.srv.drop(s.iface, dropBadPPP, pkt) }

func (s *session) sendRA() { s.nextRA(s.srv.clock) }
