#!/usr/bin/python3
"""Build golden PPPoE session frames (LCP, PAP, CHAP, IPCP, IPv6CP) with scapy.

Usage: /usr/bin/python3 scapy_ppp_frames.py [OUTDIR]   (default: this directory)

Every frame is Ether/PPPoE/PPP/<control protocol> from scapy.layers.ppp, so
scapy computes the PPPoE, packet and option lengths.  scapy has no class for
the LCP PFC/ACFC options, the IPCP IP-Compression-Protocol option or IPv6CP;
those are scapy's generic option classes with hand-made data, or (IPv6CP)
hand-made bytes under scapy's PPP layer.  Each frame is also checked against
bytes written out by hand from the RFCs (RFC 1661, 1332, 1334, 1877, 1994,
2433/2759, 5072), then re-parsed by scapy, which must give back the same bytes.

Output format (as scapy_frames.py): '#' comment lines, then the Ethernet frame
(dst MAC .. end of PPP packet, no FCS/padding) as lowercase hex, 16 bytes per
line.  Session 0x0001; client 02:00:00:00:00:02, server 02:00:00:00:00:01;
client magic 0x01020304, server magic 0x0a0b0c0d.
"""
import hashlib
import os
import struct
import sys

import scapy
from scapy.layers.l2 import Ether
from scapy.layers.ppp import (
    PPP, PPP_CHAP, PPP_CHAP_ChallengeResponse, PPP_IPCP, PPP_IPCP_Option,
    PPP_IPCP_Option_DNS1, PPP_IPCP_Option_DNS2, PPP_IPCP_Option_IPAddress,
    PPP_LCP, PPP_LCP_ACCM_Option, PPP_LCP_Auth_Protocol_Option,
    PPP_LCP_Code_Reject, PPP_LCP_Configure, PPP_LCP_Echo,
    PPP_LCP_Magic_Number_Option, PPP_LCP_MRU_Option, PPP_LCP_Option,
    PPP_LCP_Protocol_Reject, PPP_LCP_Terminate, PPP_PAP_Request,
    PPP_PAP_Response, PPPoE)
from scapy.packet import Packet, Raw

SERVER = "02:00:00:00:00:01"
CLIENT = "02:00:00:00:00:02"
SID = 0x0001
C2S, S2C = "client->server", "server->client"

LCP, PAP, CHAP, IPCP, IPV6CP = 0xC021, 0xC023, 0xC223, 0x8021, 0x8057
CLIENT_MAGIC, SERVER_MAGIC = 0x01020304, 0x0A0B0C0D

USER = PASSWORD = b"rp-pppoe"
CHALLENGE = bytes(range(16))
CHAP_ID = 1
# RFC 1994 §4.1: Response Value = MD5(Identifier || secret || Challenge).
CHAP_RESPONSE = hashlib.md5(bytes([CHAP_ID]) + PASSWORD + CHALLENGE).digest()

# IPv6CP Configure-Request (RFC 5072 §4.1): code 1, id 1, length 14, option
# Interface-Identifier (type 1, length 10) = the EUI-64 style identifier of
# the client MAC (U/L bit flipped).  scapy has no IPv6CP layer.
IPV6CP_IID = bytes.fromhex("000000fffe000002")
IPV6CP_CONFREQ = bytes([1, 1, 0, 14, 1, 10]) + IPV6CP_IID


def session(direction, proto, payload):
    src, dst = (CLIENT, SERVER) if direction == C2S else (SERVER, CLIENT)
    return (Ether(src=src, dst=dst, type=0x8864)
            / PPPoE(version=1, type=1, code=0, sessionid=SID)
            / PPP(proto=proto) / payload)


def mru(v=1492):
    return PPP_LCP_MRU_Option(max_recv_unit=v)


def magic(v):
    return PPP_LCP_Magic_Number_Option(magic_number=v)


def auth_chap(algorithm):
    return PPP_LCP_Auth_Protocol_Option(auth_protocol=CHAP, algorithm=algorithm)


def lcp_conf(code, ident, opts):
    return PPP_LCP_Configure(code=code, id=ident, options=opts)


def ipcp_conf(code, ident, opts):
    return PPP_IPCP(code=code, id=ident, options=opts)


# name, direction, PPP protocol, scapy payload, description, the PPP packet
# (after the 2-byte protocol field) written out by hand from the RFC.
FRAMES = [
    ("lcp_confreq_client", C2S, LCP,
     lcp_conf(1, 1, [mru(), magic(CLIENT_MAGIC)]),
     "LCP Configure-Request id 1: MRU 1492, Magic-Number 0x01020304",
     "01 01 000e  01 04 05d4  05 06 01020304"),
    ("lcp_confreq_server", S2C, LCP,
     lcp_conf(1, 1, [mru(), auth_chap(5), magic(SERVER_MAGIC)]),
     "LCP Configure-Request id 1: MRU 1492, Auth-Protocol CHAP (c223) MD5 (05), "
     "Magic-Number 0x0a0b0c0d",
     "01 01 0013  01 04 05d4  03 05 c223 05  05 06 0a0b0c0d"),
    ("lcp_confreq_pap", S2C, LCP,
     lcp_conf(1, 1, [mru(), PPP_LCP_Auth_Protocol_Option(auth_protocol=PAP),
                     magic(SERVER_MAGIC)]),
     "LCP Configure-Request id 1: MRU 1492, Auth-Protocol PAP (c023), "
     "Magic-Number 0x0a0b0c0d",
     "01 01 0012  01 04 05d4  03 04 c023  05 06 0a0b0c0d"),
    ("lcp_confreq_mschapv2", S2C, LCP,
     lcp_conf(1, 1, [mru(), auth_chap(0x81), magic(SERVER_MAGIC)]),
     "LCP Configure-Request id 1: MRU 1492, Auth-Protocol CHAP (c223) "
     "MS-CHAP-v2 (0x81), Magic-Number 0x0a0b0c0d",
     "01 01 0013  01 04 05d4  03 05 c223 81  05 06 0a0b0c0d"),
    ("lcp_confreq_with_accm_pfc_acfc", C2S, LCP,
     lcp_conf(1, 1, [mru(), PPP_LCP_ACCM_Option(accm=0), magic(CLIENT_MAGIC),
                     PPP_LCP_Option(type=7, data=b""),
                     PPP_LCP_Option(type=8, data=b"")]),
     "LCP Configure-Request id 1 in option-type order, as pppd sends it: "
     "MRU 1492, ACCM 0x00000000, Magic-Number 0x01020304, "
     "Protocol-Field-Compression, Address-and-Control-Field-Compression",
     "01 01 0018  01 04 05d4  02 06 00000000  05 06 01020304  07 02  08 02"),
    ("lcp_confack", S2C, LCP,
     lcp_conf(2, 1, [mru(), magic(CLIENT_MAGIC)]),
     "LCP Configure-Ack id 1 of lcp_confreq_client: MRU 1492, "
     "Magic-Number 0x01020304",
     "02 01 000e  01 04 05d4  05 06 01020304"),
    ("lcp_confnak_mru", S2C, LCP,
     lcp_conf(3, 1, [mru(1492)]),
     "LCP Configure-Nak id 1 (to a request for MRU 1500): MRU 1492",
     "03 01 0008  01 04 05d4"),
    ("lcp_confrej_accm", S2C, LCP,
     lcp_conf(4, 1, [PPP_LCP_ACCM_Option(accm=0)]),
     "LCP Configure-Reject id 1 of lcp_confreq_with_accm_pfc_acfc's ACCM: "
     "ACCM 0x00000000",
     "04 01 000a  02 06 00000000"),
    ("lcp_echoreq", C2S, LCP,
     PPP_LCP_Echo(code=9, id=7, magic_number=CLIENT_MAGIC),
     "LCP Echo-Request id 7, Magic-Number 0x01020304, no data",
     "09 07 0008  01020304"),
    ("lcp_echoreply", S2C, LCP,
     PPP_LCP_Echo(code=10, id=7, magic_number=SERVER_MAGIC),
     "LCP Echo-Reply id 7 to lcp_echoreq, the replier's Magic-Number 0x0a0b0c0d",
     "0a 07 0008  0a0b0c0d"),
    ("lcp_termreq", C2S, LCP,
     PPP_LCP_Terminate(code=5, id=2, data=b"User request"),
     "LCP Terminate-Request id 2, data 'User request' (as pppd sends)",
     "05 02 0010" + b"User request".hex()),
    ("lcp_termack", S2C, LCP,
     PPP_LCP_Terminate(code=6, id=2),
     "LCP Terminate-Ack id 2, no data",
     "06 02 0004"),
    ("lcp_protorej", S2C, LCP,
     PPP_LCP_Protocol_Reject(id=3, rejected_protocol=IPV6CP,
                             rejected_information=Raw(IPV6CP_CONFREQ)),
     "LCP Protocol-Reject id 3: Rejected-Protocol 0x8057 (IPv6CP), "
     "Rejected-Information = the IPv6CP packet of ipv6cp_confreq",
     "08 03 0014  8057" + IPV6CP_CONFREQ.hex()),
    ("lcp_coderej", S2C, LCP,
     PPP_LCP_Code_Reject(id=4, rejected_packet=PPP_LCP(code=0x20, id=5, data=b"abcd")),
     "LCP Code-Reject id 4 of an LCP packet with unknown code 0x20, id 5, "
     "data 'abcd'",
     "07 04 000c  20 05 0008 61626364"),
    ("pap_authreq", C2S, PAP,
     PPP_PAP_Request(id=1, username=USER, password=PASSWORD),
     "PAP Authenticate-Request id 1: Peer-ID 'rp-pppoe', Password 'rp-pppoe'",
     "01 01 0016  08" + USER.hex() + "08" + PASSWORD.hex()),
    ("pap_authack", S2C, PAP,
     PPP_PAP_Response(code=2, id=1, message=b"Login ok"),
     "PAP Authenticate-Ack id 1: message 'Login ok'",
     "02 01 000d  08" + b"Login ok".hex()),
    ("pap_authnak", S2C, PAP,
     PPP_PAP_Response(code=3, id=1, message=b"Login incorrect"),
     "PAP Authenticate-Nak id 1: message 'Login incorrect'",
     "03 01 0014  0f" + b"Login incorrect".hex()),
    ("chap_challenge", S2C, CHAP,
     PPP_CHAP_ChallengeResponse(code=1, id=CHAP_ID, value=CHALLENGE,
                                optional_name=b"pppoed"),
     "CHAP Challenge id 1: 16-byte value 000102..0f, name 'pppoed'",
     "01 01 001b  10" + CHALLENGE.hex() + b"pppoed".hex()),
    ("chap_response", C2S, CHAP,
     PPP_CHAP_ChallengeResponse(code=2, id=CHAP_ID, value=CHAP_RESPONSE,
                                optional_name=USER),
     "CHAP Response id 1: MD5(0x01 || 'rp-pppoe' || 000102..0f) = %s, "
     "name 'rp-pppoe'" % CHAP_RESPONSE.hex(),
     "02 01 001d  10" + CHAP_RESPONSE.hex() + USER.hex()),
    ("chap_success", S2C, CHAP,
     PPP_CHAP(code=3, id=CHAP_ID, data=b"Welcome"),
     "CHAP Success id 1: message 'Welcome'",
     "03 01 000b" + b"Welcome".hex()),
    ("chap_failure", S2C, CHAP,
     PPP_CHAP(code=4, id=CHAP_ID, data=b"E=691"),
     "CHAP Failure id 1: message 'E=691'",
     "04 01 0009" + b"E=691".hex()),
    ("ipcp_confreq_client", C2S, IPCP,
     ipcp_conf(1, 1, [PPP_IPCP_Option_IPAddress(data="0.0.0.0"),
                      PPP_IPCP_Option_DNS1(data="0.0.0.0"),
                      PPP_IPCP_Option_DNS2(data="0.0.0.0")]),
     "IPCP Configure-Request id 1: IP-Address 0.0.0.0, Primary-DNS 0.0.0.0, "
     "Secondary-DNS 0.0.0.0",
     "01 01 0016  03 06 00000000  81 06 00000000  83 06 00000000"),
    ("ipcp_confnak", S2C, IPCP,
     ipcp_conf(3, 1, [PPP_IPCP_Option_IPAddress(data="10.0.0.2"),
                      PPP_IPCP_Option_DNS1(data="218.108.248.200"),
                      PPP_IPCP_Option_DNS2(data="8.8.4.4")]),
     "IPCP Configure-Nak id 1 of ipcp_confreq_client: IP-Address 10.0.0.2, "
     "Primary-DNS 218.108.248.200, Secondary-DNS 8.8.4.4",
     "03 01 0016  03 06 0a000002  81 06 da6cf8c8  83 06 08080404"),
    ("ipcp_confreq_server", S2C, IPCP,
     ipcp_conf(1, 1, [PPP_IPCP_Option_IPAddress(data="10.0.0.1")]),
     "IPCP Configure-Request id 1: IP-Address 10.0.0.1",
     "01 01 000a  03 06 0a000001"),
    ("ipcp_confrej_vj", S2C, IPCP,
     ipcp_conf(4, 1, [PPP_IPCP_Option(type=2, data=bytes.fromhex("002d0f01"))]),
     "IPCP Configure-Reject id 1: IP-Compression-Protocol Van Jacobson "
     "(002d), Max-Slot-Id 15, Comp-Slot-Id 1",
     "04 01 000a  02 06 002d 0f 01"),
    ("ipv6cp_confreq", C2S, IPV6CP,
     Raw(IPV6CP_CONFREQ),
     "IPv6CP (0x8057) Configure-Request id 1: Interface-Identifier "
     "0000:00ff:fe00:0002 (bytes by hand; scapy has no IPv6CP layer)",
     "01 01 000e  01 0a " + IPV6CP_IID.hex()),
]


def write_hex(path, raw, comments):
    with open(path, "w") as fh:
        for c in comments:
            fh.write("# %s\n" % c)
        for i in range(0, len(raw), 16):
            fh.write(" ".join("%02x" % b for b in raw[i:i + 16]) + "\n")


def check(name, direction, proto, raw, by_hand):
    """The frame must match the hand-written bytes, and scapy must parse it
    back into the same bytes.  Returns scapy's summary of the re-parse."""
    src, dst = (CLIENT, SERVER) if direction == C2S else (SERVER, CLIENT)
    mac = lambda m: bytes.fromhex(m.replace(":", ""))
    want = (mac(dst) + mac(src) + b"\x88\x64" + b"\x11\x00"
            + struct.pack("!HH", SID, 2 + len(bytes.fromhex(by_hand)))
            + struct.pack("!H", proto) + bytes.fromhex(by_hand))
    if raw != want:
        sys.exit("scapy_ppp_frames.py: %s: scapy built\n  %s\nwant (by hand)\n  %s"
                 % (name, raw.hex(), want.hex()))
    plen = struct.unpack("!H", raw[18:20])[0]
    assert len(raw) == 20 + plen, (name, len(raw), plen)
    back = Ether(raw)
    if bytes(back) != raw:
        sys.exit("scapy_ppp_frames.py: %s: re-parse re-encodes differently:\n  %s\n  %s"
                 % (name, raw.hex(), bytes(back).hex()))
    if back[PPP].proto != proto:
        sys.exit("scapy_ppp_frames.py: %s: re-parsed protocol 0x%04x" % (name, back[PPP].proto))
    return back


def fields(p):
    """The re-parsed PPP packet's fields, options expanded, for the log."""
    if type(p) in (Raw, Packet):
        return bytes(p).hex()
    d = {}
    for k, v in p.fields.items():
        if k == "type" and isinstance(p, (PPP_LCP_Option, PPP_IPCP_Option)):
            v = p.sprintf("%type%")
        elif isinstance(v, list):
            v = [fields(o) for o in v]
        elif isinstance(v, Packet):
            v = fields(v)
        elif isinstance(v, bytes):
            v = v.hex() if any(b < 0x20 or b > 0x7e for b in v) else v.decode()
        elif k == "magic_number":
            v = "0x%08x" % v
        elif k in ("auth_protocol", "rejected_protocol"):
            v = "0x%04x" % v
        d[k] = v
    return d


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, direction, proto, payload, desc, by_hand in FRAMES:
        raw = bytes(session(direction, proto, payload))
        back = check(name, direction, proto, raw, by_hand)
        layers = "/".join(type(l).__name__ for l in back.iterpayloads())
        fname = "ppp_%s_scapy.hex" % name
        write_hex(os.path.join(out, fname), raw, [
            "scapy %s (scapy.layers.ppp %s): /usr/bin/python3 scapy_ppp_frames.py ; "
            "PPPoE session 0x%04x %s; %s" % (scapy.VERSION, layers, SID, direction, desc),
        ])
        print("scapy_ppp_frames.py: wrote %s (%d bytes): %s\n    %s"
              % (fname, len(raw), back.summary(), fields(back[PPP].payload)), file=sys.stderr)


if __name__ == "__main__":
    main()
