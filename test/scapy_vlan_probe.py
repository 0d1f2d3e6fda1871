#!/usr/bin/python3
"""Sends PPPoE frames built by scapy, some of them VLAN-tagged, to a server
that serves IFACE's link untagged, and reports how many answers each got.

Usage: /usr/bin/python3 scapy_vlan_probe.py IFACE

Each step sends one frame, waits WAIT seconds and prints "STEP N", N being
the answers of the kind the step asks for:

  padi_vlan10  PADI tagged 802.1Q VLAN 10            PADOs
  padi_svlan20 PADI tagged 802.1ad (S-tag) VLAN 20   PADOs
  padi_prio    PADI priority-tagged (VLAN 0, PCP 5)  PADOs
  padi         PADI untagged                         PADOs
  padr_vlan10  PADR tagged VLAN 10, valid cookie     PADSs with a session ID
  padr         PADR untagged, same cookie            PADSs with a session ID
  lcp_vlan10   LCP Configure-Request tagged VLAN 10  Configure-Ack/Nak/Reject
  lcp          LCP Configure-Request untagged        Configure-Ack/Nak/Reject
  padt_vlan10  PADT tagged VLAN 10, then an untagged
               LCP Configure-Request                 Configure-Ack/Nak/Reject
               (the session must still be there)
  padt         PADT untagged                         (prints 0; the server logs it)

Each PADI has its own Host-Uniq and only PADOs that echo it count, so a
late answer is never counted for the wrong step.  A step that needs what
an earlier one did not get (no PADO, no session) prints "FAIL ..." and the
script exits 1.  Needs root (AF_PACKET).
"""
import logging
import os
import select
import socket
import struct
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.arch import get_if_hwaddr  # noqa: E402
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether  # noqa: E402
from scapy.layers.ppp import PPP, PPP_LCP, PPPoE, PPPoED, PPPoED_Tags, PPPoETag  # noqa: E402

WAIT = 1.0
ETH_P_ALL, PACKET_OUTGOING = 0x0003, 4
ETH_DISCOVERY, ETH_SESSION = 0x8863, 0x8864
PADI, PADO, PADR, PADS, PADT = 0x09, 0x07, 0x19, 0x65, 0xA7
TAG_SERVICE_NAME, TAG_HOST_UNIQ, TAG_AC_COOKIE = 0x0101, 0x0103, 0x0104
LCP, CONF_REQ, CONF_ACK, CONF_NAK, CONF_REJ = 0xC021, 1, 2, 3, 4
BROADCAST = "ff:ff:ff:ff:ff:ff"


def parse_tags(payload):
    tags, i = {}, 0
    while i + 4 <= len(payload):
        t, n = struct.unpack("!HH", payload[i:i + 4])
        if t == 0 or i + 4 + n > len(payload):
            break
        tags.setdefault(t, payload[i + 4:i + 4 + n])
        i += 4 + n
    return tags


class Probe:
    def __init__(self, iface):
        self.mac = get_if_hwaddr(iface)
        self.macb = bytes.fromhex(self.mac.replace(":", ""))
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((iface, ETH_P_ALL))
        self.server = None
        self.sid = 0

    def send(self, frame):
        self.sock.send(bytes(frame))

    def l2(self, dst, tag):
        """The Ethernet header to dst, with the VLAN tag layer tag if any;
        scapy fills in each ethertype from the layer that follows."""
        e = Ether(src=self.mac, dst=dst)
        return e if tag is None else e / tag

    def answers(self, match):
        """Frames to us from the server for WAIT seconds; counts those for
        which match(ethertype, code, sid, payload, src) is true."""
        n, end = 0, time.monotonic() + WAIT
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return n
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            raw, addr = self.sock.recvfrom(4096)
            if addr[2] == PACKET_OUTGOING or len(raw) < 20 or raw[0:6] != self.macb:
                continue
            eth = struct.unpack("!H", raw[12:14])[0]
            if eth not in (ETH_DISCOVERY, ETH_SESSION) or raw[14] != 0x11:
                continue
            code, sid, plen = raw[15], *struct.unpack("!HH", raw[16:20])
            if match(eth, code, sid, raw[20:20 + plen], raw[6:12].hex(":")):
                n += 1

    def padi(self, tag):
        """Sends a PADI with the VLAN tag layer tag (None: untagged); returns
        the PADOs that echo its Host-Uniq, as (server MAC, cookie,
        Host-Uniq): the cookie is signed for that Host-Uniq."""
        hu = os.urandom(4)
        self.send(self.l2(BROADCAST, tag) / PPPoED(code=PADI, sessionid=0)
                  / PPPoED_Tags(tag_list=[PPPoETag(tag_type=TAG_SERVICE_NAME, tag_value=b""),
                                          PPPoETag(tag_type=TAG_HOST_UNIQ, tag_value=hu)]))
        offers = []

        def pado(eth, code, sid, payload, src):
            tags = parse_tags(payload)
            if eth == ETH_DISCOVERY and code == PADO and tags.get(TAG_HOST_UNIQ) == hu:
                offers.append((src, tags.get(TAG_AC_COOKIE, b""), hu))
                return True
            return False
        self.answers(pado)
        return offers

    def padr(self, tag, server, cookie, hu):
        self.send(self.l2(server, tag) / PPPoED(code=PADR, sessionid=0)
                  / PPPoED_Tags(tag_list=[PPPoETag(tag_type=TAG_SERVICE_NAME, tag_value=b""),
                                          PPPoETag(tag_type=TAG_HOST_UNIQ, tag_value=hu),
                                          PPPoETag(tag_type=TAG_AC_COOKIE, tag_value=cookie)]))
        sids = []

        def pads(eth, code, sid, payload, src):
            if eth == ETH_DISCOVERY and code == PADS and sid != 0 and parse_tags(payload).get(TAG_HOST_UNIQ) == hu:
                sids.append(sid)
                return True
            return False
        self.answers(pads)
        return sids

    def lcp(self, tag, ident):
        """Sends an LCP Configure-Request without options in the session;
        counts the server's replies to it (its own requests do not count)."""
        self.send(self.l2(self.server, tag) / PPPoE(code=0, sessionid=self.sid)
                  / PPP(proto=LCP) / PPP_LCP(code=CONF_REQ, id=ident))

        def reply(eth, code, sid, payload, src):
            return (eth == ETH_SESSION and sid == self.sid and len(payload) >= 6
                    and payload[:2] == b"\xc0\x21" and payload[2] in (CONF_ACK, CONF_NAK, CONF_REJ)
                    and payload[3] == ident)
        return self.answers(reply)

    def padt(self, tag):
        self.send(self.l2(self.server, tag) / PPPoED(code=PADT, sessionid=self.sid)
                  / PPPoED_Tags(tag_list=[]))


def main(argv):
    if len(argv) != 2:
        print("usage: scapy_vlan_probe.py IFACE", file=sys.stderr)
        return 2
    p = Probe(argv[1])
    untagged = None
    vlan10 = Dot1Q(vlan=10)
    report = lambda step, n: print("%s %d" % (step, n), flush=True)  # noqa: E731

    report("padi_vlan10", len(p.padi(vlan10)))
    report("padi_svlan20", len(p.padi(Dot1AD(vlan=20))))
    report("padi_prio", len(p.padi(Dot1Q(vlan=0, prio=5))))
    offers = p.padi(untagged)
    report("padi", len(offers))
    if not offers:
        print("FAIL no PADO to an untagged PADI", flush=True)
        return 1
    p.server, cookie, hu = offers[0]
    report("padr_vlan10", len(p.padr(vlan10, p.server, cookie, hu)))
    sids = p.padr(untagged, p.server, cookie, hu)
    report("padr", len(sids))
    if not sids:
        print("FAIL no session for an untagged PADR", flush=True)
        return 1
    p.sid = sids[0]
    report("lcp_vlan10", p.lcp(vlan10, 0x42))
    report("lcp", p.lcp(untagged, 0x43))
    p.padt(vlan10)
    report("padt_vlan10", p.lcp(untagged, 0x44))
    p.padt(untagged)
    report("padt", 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
