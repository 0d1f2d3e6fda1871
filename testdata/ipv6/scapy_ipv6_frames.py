#!/usr/bin/python3
"""Build golden IPv6 control packets (ICMPv6 ND, echo, MLD, DHCPv6) with scapy.

Usage: /usr/bin/python3 scapy_ipv6_frames.py [OUTDIR]   (default: this directory)

Each packet is what a PPP IPv6 frame (protocol 0x0057) carries: the IPv6
header onward, built from scapy.layers.inet6 and scapy.layers.dhcp6, so scapy
computes every length and checksum.  Each is re-parsed by scapy, which must
give back the same bytes, and the hex is written out as the other golden
files are ('#' comment lines, then 16 bytes per line).

The values match the fixture in ipv6_test.go and dhcp6_test.go: the server
(the concentrator) is fe80::1 with MAC 02:00:00:00:00:01, so its DUID-LL is
0003 0001 020000000001; the client is fe80::2 with a DUID-LLT for MAC
02:00:00:00:00:02 at time 0x12345678; the session's /64 is 2001:db8:0:1::/64,
its IA_NA address 2001:db8:0:1::2 and its delegated prefix 2001:db8:1200::/56;
DNS 2001:db8::53 and 2001:db8::54.  The client's messages that follow an
Advertise or Reply carry its IAs as pppoed's client helpers write them
(IAID 1, T1/T2 and lifetimes 0), so those helpers can be compared byte for
byte.
"""
import os
import sys

import scapy
from scapy.layers.dhcp6 import (
    DHCP6_Confirm, DHCP6_Decline, DHCP6_InfoRequest, DHCP6_Rebind,
    DHCP6_Release, DHCP6_Renew, DHCP6_Request, DHCP6_Solicit,
    DHCP6OptClientId, DHCP6OptElapsedTime, DHCP6OptIA_NA, DHCP6OptIA_PD,
    DHCP6OptIAAddress, DHCP6OptIAPrefix, DHCP6OptOptReq,
    DHCP6OptRapidCommit, DHCP6OptServerId, DUID_LL, DUID_LLT)
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    ICMPv6EchoRequest, ICMPv6MLDMultAddrRec, ICMPv6MLReport2, ICMPv6ND_NS,
    ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRDNSS, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrHopByHop,
    RouterAlert)

SERVER, CLIENT = "fe80::1", "fe80::2"
SERVER_DUID = DUID_LL(lladdr="02:00:00:00:00:01")
CLIENT_DUID = DUID_LLT(lladdr="02:00:00:00:00:02", timeval=0x12345678)
NA_ADDR = "2001:db8:0:1::2"
PD_PREFIX, PD_LEN = "2001:db8:1200::", 56
DNS = ["2001:db8::53", "2001:db8::54"]


def to_server(msg):
    # RFC 8415 §7.1: to All_DHCP_Relay_Agents_and_Servers, from port 546.
    return IPv6(src=CLIENT, dst="ff02::1:2", hlim=1) / UDP(sport=546, dport=547) / msg


def head(cls, trid, server=False, oro=True):
    """Client-ID, [Server-ID], Elapsed Time 0, [ORO for DNS], as pppoed's client writes them."""
    p = cls(trid=trid) / DHCP6OptClientId(duid=CLIENT_DUID)
    if server:
        p /= DHCP6OptServerId(duid=SERVER_DUID)
    p /= DHCP6OptElapsedTime(elapsedtime=0)
    if oro:
        p /= DHCP6OptOptReq(reqopts=[23])
    return p


def ia_na():
    return DHCP6OptIA_NA(iaid=1, T1=0, T2=0, ianaopts=[DHCP6OptIAAddress(addr=NA_ADDR, preflft=0, validlft=0)])


def ia_pd():
    return DHCP6OptIA_PD(iaid=1, T1=0, T2=0, iapdopt=[
        DHCP6OptIAPrefix(preflft=0, validlft=0, plen=PD_LEN, prefix=PD_PREFIX)])


PACKETS = [
    ("rs", "Router Solicitation, no options",
     IPv6(src=CLIENT, dst="ff02::2", hlim=255) / ICMPv6ND_RS()),
    ("ra", "Router Advertisement: hop limit 64, O, lifetime 1800 s, Prefix Information "
     "2001:db8:0:1::/64 L A 7200/3600 s, MTU 1492, RDNSS 2001:db8::53 2001:db8::54 1800 s",
     IPv6(src=SERVER, dst="ff02::1", hlim=255)
     / ICMPv6ND_RA(chlim=64, M=0, O=1, prf=0, routerlifetime=1800, reachabletime=0, retranstimer=0)
     / ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, validlifetime=7200, preferredlifetime=3600,
                             prefix="2001:db8:0:1::")
     / ICMPv6NDOptMTU(mtu=1492)
     / ICMPv6NDOptRDNSS(lifetime=1800, dns=DNS)),
    ("ns", "Neighbor Solicitation for fe80::1 with a source link-layer address option",
     IPv6(src=CLIENT, dst="ff02::1:ff00:1", hlim=255)
     / ICMPv6ND_NS(tgt=SERVER) / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:02")),
    ("echo_request", "Echo Request id 0x1234 seq 7 data 'pppoed ping'",
     IPv6(src=NA_ADDR, dst=SERVER, hlim=64) / ICMPv6EchoRequest(id=0x1234, seq=7, data=b"pppoed ping")),
    ("mld_report", "MLDv2 Report behind a Hop-by-Hop header with Router Alert",
     IPv6(src=CLIENT, dst="ff02::16", hlim=1)
     / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
     / ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4, dst="ff02::1:ff00:2")])),
    ("dhcp6_solicit", "Solicit txid 010203: IA_NA and IA_PD IAID 1, no Rapid Commit",
     to_server(head(DHCP6_Solicit, 0x010203)
               / DHCP6OptIA_NA(iaid=1, T1=0, T2=0) / DHCP6OptIA_PD(iaid=1, T1=0, T2=0))),
    ("dhcp6_solicit_rapid", "Solicit txid 040506: ORO DNS and domain list, Rapid Commit, "
     "IA_NA IAID 7, IA_PD IAID 8 with a /56 hint",
     to_server(DHCP6_Solicit(trid=0x040506) / DHCP6OptClientId(duid=CLIENT_DUID)
               / DHCP6OptElapsedTime(elapsedtime=100) / DHCP6OptOptReq(reqopts=[23, 24])
               / DHCP6OptRapidCommit() / DHCP6OptIA_NA(iaid=7, T1=0, T2=0)
               / DHCP6OptIA_PD(iaid=8, T1=0, T2=0, iapdopt=[
                   DHCP6OptIAPrefix(preflft=0, validlft=0, plen=56, prefix="::")]))),
    ("dhcp6_request", "Request txid 0a0b0c for the advertised address and prefix",
     to_server(head(DHCP6_Request, 0x0A0B0C, server=True) / ia_na() / ia_pd())),
    ("dhcp6_renew", "Renew txid 111213",
     to_server(head(DHCP6_Renew, 0x111213, server=True) / ia_na() / ia_pd())),
    ("dhcp6_rebind", "Rebind txid 212223",
     to_server(head(DHCP6_Rebind, 0x212223) / ia_na() / ia_pd())),
    ("dhcp6_release", "Release txid 313233",
     to_server(head(DHCP6_Release, 0x313233, server=True, oro=False) / ia_na() / ia_pd())),
    ("dhcp6_decline", "Decline txid 414243 of the address",
     to_server(head(DHCP6_Decline, 0x414243, server=True, oro=False) / ia_na())),
    ("dhcp6_confirm", "Confirm txid 515253 of the address",
     to_server(head(DHCP6_Confirm, 0x515253, oro=False) / ia_na())),
    ("dhcp6_inforeq", "Information-request txid 616263",
     to_server(head(DHCP6_InfoRequest, 0x616263))),
]


def write_hex(path, raw, comments):
    with open(path, "w") as fh:
        for c in comments:
            fh.write("# %s\n" % c)
        for i in range(0, len(raw), 16):
            fh.write(" ".join("%02x" % b for b in raw[i:i + 16]) + "\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, desc, pkt in PACKETS:
        raw = bytes(pkt)
        back = IPv6(raw)
        if bytes(back) != raw:
            sys.exit("scapy_ipv6_frames.py: %s does not re-encode to the same bytes" % name)
        layers = "/".join(type(l).__name__ for l in back.iterpayloads())
        write_hex(os.path.join(out, name + ".hex"), raw, [
            "scapy %s (%s): /usr/bin/python3 scapy_ipv6_frames.py ; %s" % (scapy.VERSION, layers, desc),
        ])
        print("scapy_ipv6_frames.py: wrote %s.hex (%d bytes): %s" % (name, len(raw), back.summary()),
              file=sys.stderr)


if __name__ == "__main__":
    main()
