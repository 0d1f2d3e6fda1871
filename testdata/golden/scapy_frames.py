#!/usr/bin/python3
"""Build golden PPPoE discovery frames with scapy (scapy.layers.ppp).

Usage: /usr/bin/python3 scapy_frames.py [OUTDIR]   (default: this directory)

scapy's PPPoETag is a generic type/length/value tag, so every tag is a
PPPoETag; the Vendor-Specific (TR-101) value is assembled by hand.  The
Ethernet/PPPoED layers are scapy's, so scapy computes the PPPoE length.

Output format: '#' comment lines, then the Ethernet frame (dst MAC .. end of
PPPoE payload, no FCS/padding) as lowercase hex, 16 bytes per line.
"""
import os
import struct
import sys

import scapy
from scapy.layers.l2 import Ether
from scapy.layers.ppp import PPPoED, PPPoED_Tags, PPPoETag

SERVER = "02:00:00:00:00:01"
CLIENT = "02:00:00:00:00:02"
BCAST = "ff:ff:ff:ff:ff:ff"

PADI, PADO, PADR, PADS, PADT, PADM = 0x09, 0x07, 0x19, 0x65, 0xA7, 0xD3


def tag(t, v):
    return PPPoETag(tag_type=t, tag_value=v)


def frame(src, dst, code, sid, tags):
    return (Ether(src=src, dst=dst, type=0x8863)
            / PPPoED(version=1, type=1, code=code, sessionid=sid)
            / PPPoED_Tags(tag_list=tags))


def tr101(sub):
    """Vendor-Specific value: 4-byte vendor id (3561 = ADSL Forum/BBF) then
    TR-101 sub-options, each 1-byte type, 1-byte length, value."""
    v = struct.pack("!I", 3561)
    for t, val in sub:
        v += struct.pack("!BB", t, len(val)) + val
    return v


FRAMES = [
    ("padi_scapy_tags.hex", frame(CLIENT, BCAST, PADI, 0x0000, [
        tag(0x0101, b"svc1"),                                   # Service-Name
        tag(0x0103, bytes.fromhex("1122334455667788")),         # Host-Uniq (8)
        tag(0x0110, bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaab")), # Relay-Session-Id (12)
        tag(0x0120, struct.pack("!H", 1500)),                   # PPP-Max-Payload
        tag(0x01FF, bytes.fromhex("deadbe")),                   # unknown tag type
        tag(0x0105, tr101([(0x01, b"eth 1/1/1:100"),            # Agent-Circuit-Id
                           (0x02, b"remote-42")])),             # Agent-Remote-Id
    ]), "PADI; Service-Name svc1, Host-Uniq 1122334455667788, Relay-Session-Id "
        "a0..ab, PPP-Max-Payload 1500, unknown 0x01ff deadbe, Vendor-Specific "
        "3561 TR-101 circuit-id 'eth 1/1/1:100' remote-id 'remote-42'"),
    ("pads_scapy_service_error.hex", frame(SERVER, CLIENT, PADS, 0x0000, [
        tag(0x0201, b"unknown service"),                        # Service-Name-Error
    ]), "PADS session 0; Service-Name-Error 'unknown service'"),
    ("pads_scapy_system_error.hex", frame(SERVER, CLIENT, PADS, 0x0000, [
        tag(0x0202, b"no free sessions"),                       # AC-System-Error
    ]), "PADS session 0; AC-System-Error 'no free sessions'"),
    ("padm_scapy.hex", frame(SERVER, CLIENT, PADM, 0x0001, [
        tag(0x0111, b"http://example.com/"),                    # HURL
        tag(0x0112, b"hello"),                                  # MOTM
    ]), "PADM (0xd3) session 0x0001; HURL 'http://example.com/', MOTM 'hello'"),
    ("padt_scapy.hex", frame(SERVER, CLIENT, PADT, 0x1234, [
        tag(0x0203, b"bye"),                                    # Generic-Error
    ]), "PADT session 0x1234 (server->client); Generic-Error 'bye'"),
]


def write_hex(path, raw, comment):
    with open(path, "w") as fh:
        fh.write("# %s\n" % comment)
        for i in range(0, len(raw), 16):
            fh.write(" ".join("%02x" % b for b in raw[i:i + 16]) + "\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, pkt, desc in FRAMES:
        raw = bytes(pkt)
        plen = struct.unpack("!H", raw[18:20])[0]
        assert len(raw) == 20 + plen, (name, len(raw), plen)
        write_hex(os.path.join(out, name), raw,
                  "scapy %s (scapy.layers.ppp Ether/PPPoED/PPPoED_Tags/PPPoETag): "
                  "/usr/bin/python3 scapy_frames.py ; %s" % (scapy.VERSION, desc))
        print("scapy_frames.py: wrote %s (%d bytes)" % (name, len(raw)), file=sys.stderr)


if __name__ == "__main__":
    main()
