#!/usr/bin/python3
"""A minimal PPPoE + PPP client built on scapy, independent of pppoed's code.

Usage: /usr/bin/python3 scapy_pap_client.py [-v] IFACE USER PASSWORD

Runs discovery (PADI/PADO/PADR/PADS, RFC 2516), LCP (RFC 1661), PAP
(RFC 1334) and IPCP with DNS (RFC 1332, RFC 1877) against the first server
that answers, then tears the session down again:

  - LCP: sends MRU 1492 + Magic-Number.  Acks a server request that holds
    only MRU, Magic-Number and Auth-Protocol PAP (c023); Naks any other
    Auth-Protocol (CHAP, EAP) with PAP; Rejects every other option.  Answers
    Echo-Requests once LCP is open; Protocol-Rejects other NCPs (IPv6CP, CCP).
  - PAP: one Authenticate-Request with USER/PASSWORD (skipped if the server
    asked for no authentication).
  - IPCP: asks for IP-Address, Primary- and Secondary-DNS 0.0.0.0, takes the
    server's Nak values, Acks a server request that holds only a non-zero
    IP-Address, and Rejects anything else in it.
  - Once both IPCP sides are acked: prints "OK ip=A dns1=B dns2=C" on stdout,
    sends LCP Terminate-Request (waits briefly for the Ack) and a PADT, exits 0.

Every request is retransmitted every 1 s, up to 5 times.  Any failure, or 20 s
in all, prints "FAIL <reason>" on stdout and exits 1.  -v logs each frame on
stderr.  Needs root (AF_PACKET); tcpdump lets scapy attach the BPF filter,
without it the filtering is done here.
"""
import logging
import os
import select
import signal
import struct
import sys
import time

# scapy warns on stderr at import about interfaces without addresses, which a
# fresh network namespace is full of.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.config import conf  # noqa: E402
from scapy.arch import get_if_hwaddr  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.layers.ppp import PPP, PPP_LCP, PPPoE, PPPoED, PPPoED_Tags, PPPoETag  # noqa: E402

OVERALL_TIMEOUT = 20.0
RETRANSMIT_EVERY = 1.0
MAX_RETRANSMITS = 5

ETH_DISCOVERY, ETH_SESSION = 0x8863, 0x8864
PADI, PADO, PADR, PADS, PADT = 0x09, 0x07, 0x19, 0x65, 0xA7
TAG_SERVICE_NAME, TAG_AC_NAME, TAG_HOST_UNIQ = 0x0101, 0x0102, 0x0103
TAG_AC_COOKIE, TAG_RELAY_SESSION_ID = 0x0104, 0x0110
TAG_ERRORS = {0x0201: "Service-Name-Error", 0x0202: "AC-System-Error",
              0x0203: "Generic-Error"}

LCP, PAP, CHAP, IPCP = 0xC021, 0xC023, 0xC223, 0x8021
CONF_REQ, CONF_ACK, CONF_NAK, CONF_REJ = 1, 2, 3, 4
TERM_REQ, TERM_ACK, CODE_REJ, PROTO_REJ = 5, 6, 7, 8
ECHO_REQ, ECHO_REPLY, DISCARD_REQ = 9, 10, 11
LCP_MRU, LCP_AUTH, LCP_MAGIC = 1, 3, 5
IPCP_ADDR, IPCP_DNS1, IPCP_DNS2 = 3, 129, 131

VERBOSE = False


class Fail(Exception):
    pass


def log(fmt, *args):
    if VERBOSE:
        print("scapy_pap_client: " + (fmt % args if args else fmt), file=sys.stderr, flush=True)


def ip4(b):
    return ".".join(str(x) for x in b)


def options(data):
    """Split a Configure packet's options into (type, whole option bytes)."""
    out, i = [], 0
    while i < len(data):
        if i + 2 > len(data) or data[i + 1] < 2 or i + data[i + 1] > len(data):
            raise Fail("malformed option list %s" % data.hex())
        out.append((data[i], data[i:i + data[i + 1]]))
        i += data[i + 1]
    return out


class Pending:
    """A request that is retransmitted until answered."""

    def __init__(self, what, frame):
        self.what, self.frame, self.sent, self.next = what, frame, 0, 0.0


class Client:
    def __init__(self, iface, user, password):
        self.iface, self.user, self.password = iface, user, password
        self.mac = get_if_hwaddr(iface)
        self.sock = conf.L2socket(iface=iface, promisc=False,
                                  filter="ether proto 0x8863 or ether proto 0x8864")
        self.host_uniq = os.urandom(4)
        self.server = None
        self.sid = 0
        self.pending = {}
        self.next_id = {LCP: 1, PAP: 1, IPCP: 1}
        self.magic = struct.unpack("!I", os.urandom(4))[0] | 1
        self.mru = 1492
        self.our_lcp = [LCP_MRU, LCP_MAGIC]  # options we still send
        self.lcp_req = None                  # (id, options bytes) in flight
        self.lcp_ours_acked = self.lcp_theirs_acked = False
        self.lcp_acked_req = None
        self.auth = None                     # what the server asked for
        self.auth_done = False
        self.ipcp_vals = {IPCP_ADDR: b"\0" * 4, IPCP_DNS1: b"\0" * 4, IPCP_DNS2: b"\0" * 4}
        self.ipcp_req = None
        self.ipcp_ours_acked = self.ipcp_theirs_acked = False
        self.naks = 0

    # --- I/O ---------------------------------------------------------------

    def send(self, frame):
        if VERBOSE:
            if frame.haslayer(PPP):
                log("send proto 0x%04x %s", frame[PPP].proto, bytes(frame[PPP].payload).hex())
            else:
                log("send %s", frame.summary())
        self.sock.send(frame)

    def session_frame(self, proto, code, ident, data=b""):
        """A session frame for proto.  LCP, PAP and IPCP share the RFC 1661
        §5 Code/Identifier/Length/Data packet shape, which is scapy's generic
        PPP_LCP; scapy fills in the PPPoE and packet lengths."""
        return (Ether(src=self.mac, dst=self.server, type=ETH_SESSION)
                / PPPoE(code=0, sessionid=self.sid) / PPP(proto=proto)
                / PPP_LCP(code=code, id=ident, data=data))

    def request(self, key, what, frame):
        self.pending[key] = Pending(what, frame)

    def pump(self, handle, until):
        """Receive frames and pass them to handle until until() is true,
        retransmitting pending requests."""
        while not until():
            now = time.monotonic()
            for p in list(self.pending.values()):
                if now >= p.next:
                    if p.sent > MAX_RETRANSMITS:
                        raise Fail("no answer to %s after %d tries" % (p.what, p.sent))
                    self.send(p.frame)
                    p.sent += 1
                    p.next = now + RETRANSMIT_EVERY
            wait = min([p.next for p in self.pending.values()], default=now + RETRANSMIT_EVERY) - now
            r, _, _ = select.select([self.sock], [], [], max(wait, 0.01))
            if not r:
                continue
            _, raw, _ = self.sock.recv_raw()
            if raw is None or len(raw) < 20:
                continue
            dst, src = raw[0:6], raw[6:12]
            ethertype = struct.unpack("!H", raw[12:14])[0]
            if ethertype not in (ETH_DISCOVERY, ETH_SESSION):
                continue
            if dst != bytes.fromhex(self.mac.replace(":", "")):
                continue
            if raw[14] != 0x11:
                log("drop: ver/type 0x%02x", raw[14])
                continue
            code, sid, plen = raw[15], *struct.unpack("!HH", raw[16:20])
            if 20 + plen > len(raw):
                log("drop: PPPoE length %d > frame", plen)
                continue
            payload = raw[20:20 + plen]  # without Ethernet padding
            srcmac = src.hex(":")
            if self.server is not None and srcmac != self.server:
                continue
            if ethertype == ETH_DISCOVERY and code == PADT and self.sid and sid == self.sid:
                raise Fail("server sent PADT%s" % tag_text(payload))
            handle(ethertype, code, sid, payload, srcmac)

    # --- discovery ------------------------------------------------------------

    def discovery(self):
        padi = (Ether(src=self.mac, dst="ff:ff:ff:ff:ff:ff", type=ETH_DISCOVERY)
                / PPPoED(code=PADI, sessionid=0)
                / PPPoED_Tags(tag_list=[PPPoETag(tag_type=TAG_SERVICE_NAME, tag_value=b""),
                                        PPPoETag(tag_type=TAG_HOST_UNIQ, tag_value=self.host_uniq)]))
        self.request("disc", "PADI", padi)
        offer = {}

        def on_pado(eth, code, sid, payload, src):
            if eth != ETH_DISCOVERY or code != PADO:
                return
            tags = parse_tags(payload)
            if tags.get(TAG_HOST_UNIQ, [None])[0] != self.host_uniq:
                log("drop: PADO without our Host-Uniq")
                return
            offer["src"], offer["tags"] = src, tags
        self.pump(on_pado, lambda: offer)
        self.server = offer["src"]
        tags = offer["tags"]
        log("PADO from %s AC-Name %r", self.server, tags.get(TAG_AC_NAME, [b""])[0])
        echo = [PPPoETag(tag_type=TAG_SERVICE_NAME, tag_value=b""),
                PPPoETag(tag_type=TAG_HOST_UNIQ, tag_value=self.host_uniq)]
        for t in (TAG_AC_COOKIE, TAG_RELAY_SESSION_ID):
            if t in tags:
                echo.append(PPPoETag(tag_type=t, tag_value=tags[t][0]))
        padr = (Ether(src=self.mac, dst=self.server, type=ETH_DISCOVERY)
                / PPPoED(code=PADR, sessionid=0) / PPPoED_Tags(tag_list=echo))
        self.request("disc", "PADR", padr)

        def on_pads(eth, code, sid, payload, src):
            if eth != ETH_DISCOVERY or code != PADS:
                return
            tags = parse_tags(payload)
            if tags.get(TAG_HOST_UNIQ, [None])[0] != self.host_uniq:
                return
            if sid == 0 or any(t in tags for t in TAG_ERRORS):
                raise Fail("PADS refused%s" % tag_text(payload))
            self.sid = sid
        self.pump(on_pads, lambda: self.sid)
        del self.pending["disc"]
        log("session 0x%04x with %s", self.sid, self.server)

    # --- PPP ---------------------------------------------------------------------

    def send_lcp_req(self):
        opts = b""
        if LCP_MRU in self.our_lcp:
            opts += struct.pack("!BBH", LCP_MRU, 4, self.mru)
        if LCP_MAGIC in self.our_lcp:
            opts += struct.pack("!BBI", LCP_MAGIC, 6, self.magic)
        ident = self.take_id(LCP)
        self.lcp_req = (ident, opts)
        self.request("lcp", "LCP Configure-Request", self.session_frame(LCP, CONF_REQ, ident, opts))

    def send_ipcp_req(self):
        opts = b"".join(struct.pack("!BB", t, 6) + v for t, v in self.ipcp_vals.items())
        ident = self.take_id(IPCP)
        self.ipcp_req = (ident, opts)
        self.request("ipcp", "IPCP Configure-Request", self.session_frame(IPCP, CONF_REQ, ident, opts))

    def take_id(self, proto):
        i = self.next_id[proto]
        self.next_id[proto] = (i + 1) & 0xFF
        return i

    def lcp_open(self):
        return self.lcp_ours_acked and self.lcp_theirs_acked

    def ipcp_open(self):
        return self.ipcp_ours_acked and self.ipcp_theirs_acked

    def on_session(self, eth, code, sid, payload, src):
        if eth != ETH_SESSION or code != 0 or sid != self.sid or len(payload) < 1:
            return
        if payload[0] & 1:  # RFC 1661 §6.5 Protocol-Field-Compression
            proto, pkt = payload[0], payload[1:]
        else:
            proto, pkt = struct.unpack("!H", payload[:2])[0], payload[2:]
        if proto == CHAP:
            raise Fail("server uses CHAP after our Nak for PAP")
        if proto >= 0x8000 and proto not in (LCP, PAP, IPCP):
            # RFC 1661 §5.7: an unsupported protocol (IPv6CP, CCP, EAP...).
            # Network-layer data (0x0021 IP, 0x0057 IPv6) is just ignored.
            if self.lcp_open():
                log("Protocol-Reject 0x%04x", proto)
                self.send(self.session_frame(LCP, PROTO_REJ, self.take_id(LCP),
                                             struct.pack("!H", proto) + pkt))
            return
        if len(pkt) < 4:
            return
        code, ident, length = pkt[0], pkt[1], struct.unpack("!H", pkt[2:4])[0]
        if length < 4 or length > len(pkt):
            log("drop: bad length %d in protocol 0x%04x", length, proto)
            return
        data = pkt[4:length]
        log("recv proto 0x%04x code %d id %d data %s", proto, code, ident, data.hex())
        if proto == LCP:
            self.on_lcp(code, ident, data)
        elif proto == PAP:
            self.on_pap(code, ident, data)
        elif proto == IPCP:
            self.on_ipcp(code, ident, data)

    def on_lcp(self, code, ident, data):
        if code == CONF_REQ:
            if self.lcp_open():
                if (ident, data) == self.lcp_acked_req:  # our Ack crossed a retransmission
                    self.send(self.session_frame(LCP, CONF_ACK, ident, data))
                    return
                raise Fail("server restarted LCP negotiation")
            rej, nak, auth = b"", b"", None
            for typ, opt in options(data):
                if typ == LCP_MRU and len(opt) == 4:
                    continue
                if typ == LCP_MAGIC and len(opt) == 6:
                    if struct.unpack("!I", opt[2:])[0] == self.magic:
                        raise Fail("looped-back link: server magic equals ours")
                    continue
                if typ == LCP_AUTH and len(opt) >= 4:
                    auth = struct.unpack("!H", opt[2:4])[0]
                    if auth != PAP or len(opt) != 4:
                        nak += struct.pack("!BBH", LCP_AUTH, 4, PAP)
                    continue
                rej += opt
            if rej:
                self.send(self.session_frame(LCP, CONF_REJ, ident, rej))
            elif nak:
                self.naks += 1
                if self.naks > 5:
                    raise Fail("server keeps asking for Auth-Protocol 0x%04x" % auth)
                self.send(self.session_frame(LCP, CONF_NAK, ident, nak))
            else:
                self.auth = auth
                self.lcp_theirs_acked = True
                self.lcp_acked_req = (ident, data)
                self.send(self.session_frame(LCP, CONF_ACK, ident, data))
        elif code in (CONF_ACK, CONF_NAK, CONF_REJ):
            if self.lcp_req is None or ident != self.lcp_req[0]:
                log("drop: LCP reply id %d, want %s", ident, self.lcp_req and self.lcp_req[0])
                return
            self.pending.pop("lcp", None)
            if code == CONF_ACK:
                if data != self.lcp_req[1]:
                    raise Fail("LCP Configure-Ack options %s differ from ours %s" % (data.hex(), self.lcp_req[1].hex()))
                self.lcp_ours_acked = True
                return
            for typ, opt in options(data):
                if code == CONF_REJ:
                    if typ in self.our_lcp:
                        self.our_lcp.remove(typ)
                elif typ == LCP_MRU and len(opt) == 4:
                    self.mru = struct.unpack("!H", opt[2:])[0]
                elif typ == LCP_MAGIC:
                    self.magic = struct.unpack("!I", os.urandom(4))[0] | 1
            self.naks += 1
            if self.naks > 10:
                raise Fail("LCP does not converge")
            self.send_lcp_req()
        elif code == TERM_REQ:
            self.send(self.session_frame(LCP, TERM_ACK, ident))
            raise Fail("server sent LCP Terminate-Request %r" % data)
        elif code in (CODE_REJ, PROTO_REJ):
            raise Fail("server sent LCP %s %s" % ("Code-Reject" if code == CODE_REJ else "Protocol-Reject", data.hex()))
        elif code == ECHO_REQ:
            if self.lcp_open():  # RFC 1661 §5.8: only in the Opened state
                self.send(self.session_frame(LCP, ECHO_REPLY, ident,
                                             struct.pack("!I", self.magic) + data[4:]))
        elif code in (TERM_ACK, ECHO_REPLY, DISCARD_REQ):
            pass
        else:
            self.send(self.session_frame(LCP, CODE_REJ, self.take_id(LCP),
                                         bytes([code, ident]) + struct.pack("!H", 4 + len(data)) + data))

    def on_pap(self, code, ident, data):
        if "pap" not in self.pending or ident != self.pap_id:
            return
        msg = data[1:1 + data[0]] if data else b""
        if code == 2:
            self.pending.pop("pap")
            self.auth_done = True
            log("PAP Ack %r", msg)
        elif code == 3:
            raise Fail("PAP Authenticate-Nak %r" % msg.decode("utf-8", "replace"))

    def on_ipcp(self, code, ident, data):
        if not self.auth_done:
            return  # RFC 1661 §3.5: NCPs wait for the Network phase
        if code == CONF_REQ:
            rej, ok = b"", False
            for typ, opt in options(data):
                if typ == IPCP_ADDR and len(opt) == 6 and opt[2:] != b"\0\0\0\0":
                    ok = True
                    self.server_ip = ip4(opt[2:])
                else:
                    rej += opt
            if rej:
                self.send(self.session_frame(IPCP, CONF_REJ, ident, rej))
            elif not ok:
                raise Fail("server IPCP Configure-Request without its IP-Address")
            else:
                self.ipcp_theirs_acked = True
                self.send(self.session_frame(IPCP, CONF_ACK, ident, data))
        elif code in (CONF_ACK, CONF_NAK, CONF_REJ):
            if self.ipcp_req is None or ident != self.ipcp_req[0]:
                return
            self.pending.pop("ipcp", None)
            if code == CONF_ACK:
                if data != self.ipcp_req[1]:
                    raise Fail("IPCP Configure-Ack options %s differ from ours %s" % (data.hex(), self.ipcp_req[1].hex()))
                if self.ipcp_vals[IPCP_ADDR] == b"\0\0\0\0":
                    raise Fail("server acked IP-Address 0.0.0.0")
                self.ipcp_ours_acked = True
                return
            for typ, opt in options(data):
                if code == CONF_REJ:
                    if typ == IPCP_ADDR:
                        raise Fail("server rejected IP-Address")
                    self.ipcp_vals.pop(typ, None)
                elif typ in self.ipcp_vals and len(opt) == 6:
                    self.ipcp_vals[typ] = opt[2:]
            self.naks += 1
            if self.naks > 10:
                raise Fail("IPCP does not converge")
            self.send_ipcp_req()
        elif code == TERM_REQ:
            self.send(self.session_frame(IPCP, TERM_ACK, ident))
            raise Fail("server sent IPCP Terminate-Request %r" % data)
        elif code == CODE_REJ:
            raise Fail("server sent IPCP Code-Reject %s" % data.hex())

    def ppp(self):
        self.send_lcp_req()
        self.pump(self.on_session, self.lcp_open)
        log("LCP open, auth 0x%04x", self.auth or 0)
        if self.auth == PAP:
            self.pap_id = self.take_id(PAP)
            u, p = self.user.encode(), self.password.encode()
            self.request("pap", "PAP Authenticate-Request", self.session_frame(
                PAP, 1, self.pap_id, bytes([len(u)]) + u + bytes([len(p)]) + p))
            self.pump(self.on_session, lambda: self.auth_done)
        else:
            self.auth_done = True
        self.naks = 0
        self.send_ipcp_req()
        self.pump(self.on_session, self.ipcp_open)

    def teardown(self):
        """Terminate-Request, up to 2 s waiting for the Ack, then PADT.  The
        session is already proven, so nothing here fails the run."""
        self.pending.clear()
        ident = self.take_id(LCP)
        acked = []

        def on_term(eth, code, sid, payload, src):
            if eth == ETH_SESSION and payload[:2] == b"\xc0\x21" and len(payload) >= 4 \
                    and payload[2] == TERM_ACK and payload[3] == ident:
                acked.append(True)
        try:
            term = self.session_frame(LCP, TERM_REQ, ident, b"User request")
            for _ in range(2):
                self.send(term)
                end = time.monotonic() + RETRANSMIT_EVERY
                self.pump(on_term, lambda: acked or time.monotonic() >= end)
                if acked:
                    break
            log("Terminate-Ack %s", "received" if acked else "not received")
        except Fail as e:  # e.g. the server's PADT came first
            log("teardown: %s", e)
        finally:
            self.send_padt()

    def send_padt(self):
        self.send(Ether(src=self.mac, dst=self.server, type=ETH_DISCOVERY)
                  / PPPoED(code=PADT, sessionid=self.sid) / PPPoED_Tags(tag_list=[]))


def parse_tags(payload):
    tags, i = {}, 0
    while i + 4 <= len(payload):
        t, n = struct.unpack("!HH", payload[i:i + 4])
        if t == 0 or i + 4 + n > len(payload):  # End-Of-List or truncated
            break
        tags.setdefault(t, []).append(payload[i + 4:i + 4 + n])
        i += 4 + n
    return tags


def tag_text(payload):
    tags = parse_tags(payload)
    return "".join(" %s %r" % (name, tags[t][0].decode("utf-8", "replace"))
                   for t, name in TAG_ERRORS.items() if t in tags)


def on_alarm(signum, frame):
    raise Fail("timeout after %g s" % OVERALL_TIMEOUT)


def main(argv):
    global VERBOSE
    args = argv[1:]
    if args and args[0] == "-v":
        VERBOSE, args = True, args[1:]
    if len(args) != 3:
        print("usage: scapy_pap_client.py [-v] IFACE USER PASSWORD", file=sys.stderr)
        return 2
    iface, user, password = args
    conf.verb = 0
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, OVERALL_TIMEOUT)
    c = None
    try:
        c = Client(iface, user, password)
        c.discovery()
        c.ppp()
        signal.setitimer(signal.ITIMER_REAL, 0)
        print("OK ip=%s dns1=%s dns2=%s" % (
            ip4(c.ipcp_vals[IPCP_ADDR]),
            ip4(c.ipcp_vals[IPCP_DNS1]) if IPCP_DNS1 in c.ipcp_vals else "none",
            ip4(c.ipcp_vals[IPCP_DNS2]) if IPCP_DNS2 in c.ipcp_vals else "none"), flush=True)
        signal.setitimer(signal.ITIMER_REAL, 5)  # teardown must not hang either
        try:
            c.teardown()
        except Exception as e:
            log("teardown: %s", e)
        signal.setitimer(signal.ITIMER_REAL, 0)
        return 0
    except Fail as e:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if c is not None and c.sid:
            try:
                c.send_padt()
            except Exception:
                pass
        print("FAIL %s" % e, flush=True)
        return 1
    except Exception as e:  # scapy or socket errors: still one FAIL line
        signal.setitimer(signal.ITIMER_REAL, 0)
        print("FAIL %s: %s" % (type(e).__name__, e), flush=True)
        return 1
    finally:
        if c is not None:
            c.sock.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
