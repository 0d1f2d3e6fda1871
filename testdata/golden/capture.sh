#!/usr/bin/env bash
# Regenerate the golden PPPoE discovery frames in this directory.
#
# Frames come from independent implementations:
#   - rp-pppoe (pppoe, pppoe-server) and pppd's pppoe-discovery, talking to
#     each other across a veth pair between two private network namespaces
#     and captured with tcpdump on the client side;
#   - scapy (scapy_frames.py), for tags the live tools never emit.
#
# Needs root, iproute2, tcpdump, ppp, pppoe and python3-scapy (Debian).
# All traffic stays inside the two namespaces this script creates; everything
# it creates is removed on exit.
#
# Output: *.hex files, one Ethernet frame each (dst MAC .. end of PPPoE
# payload, no FCS, no padding), lowercase hex, 16 bytes per line, '#' comments.
set -euo pipefail

OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3

[[ $(id -u) -eq 0 ]] || { echo "capture.sh: must run as root" >&2; exit 1; }
for t in ip tcpdump pppoe pppoe-server pppoe-discovery timeout; do
	command -v "$t" >/dev/null || { echo "capture.sh: missing $t" >&2; exit 1; }
done

NS_S="gold-s-$$"
NS_C="gold-c-$$"
VETH_S="gs$$"           # <= 15 chars
VETH_C="gc$$"
MAC_S=02:00:00:00:00:01
MAC_C=02:00:00:00:00:02

TMP="$(mktemp -d /tmp/pppoe-golden.XXXXXX)"
PIDS=()

cleanup() {
	local rc=$?
	set +e
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	# Anything still alive inside our namespaces (e.g. a pppd forked by
	# pppoe-server) is ours; kill it by pid.
	for ns in "$NS_S" "$NS_C"; do
		if ip netns pids "$ns" >/dev/null 2>&1; then
			for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null; done
		fi
	done
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	ip link del "$VETH_S" 2>/dev/null   # normally gone with the netns
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "capture.sh: $*" >&2; }

# --- topology --------------------------------------------------------------
ip netns add "$NS_S"
ip netns add "$NS_C"
# Create the pair directly inside the namespaces, so it never exists in the
# caller's namespace.
ip link add "$VETH_S" netns "$NS_S" address "$MAC_S" type veth \
	peer name "$VETH_C" netns "$NS_C" address "$MAC_C"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$VETH_S" up
ip -n "$NS_C" link set "$VETH_C" up
# Keep IPv6 autoconf/DAD chatter off the link (not captured anyway).
for pair in "$NS_S:$VETH_S" "$NS_C:$VETH_C"; do
	ip netns exec "${pair%%:*}" sh -c "echo 1 > /proc/sys/net/ipv6/conf/${pair#*:}/disable_ipv6" 2>/dev/null || true
done

C() { ip netns exec "$NS_C" "$@"; }

# --- capture + server ------------------------------------------------------
PCAP="$TMP/discovery.pcap"
# Started directly (not via a shell function) so $! is tcpdump's own pid
# ('ip netns exec' execs the command).  Background jobs of a non-interactive
# shell ignore SIGINT, so it is stopped with SIGTERM, which also flushes.
ip netns exec "$NS_C" tcpdump -n -U -Z root -i "$VETH_C" -w "$PCAP" ether proto 0x8863 \
	2>"$TMP/tcpdump.log" &
TCPDUMP_PID=$!
PIDS+=("$TCPDUMP_PID")

: >"$TMP/pppoe-server-options"   # empty: don't read /etc/ppp
SERVER_CMD=(pppoe-server -F -I "$VETH_S" -C goldenAC -S svc1 -S svc2
	-L 10.9.0.1 -R 10.9.0.2 -N 4 -O "$TMP/pppoe-server-options")
ip netns exec "$NS_S" "${SERVER_CMD[@]}" >"$TMP/pppoe-server.log" 2>&1 &
PIDS+=($!)
sleep 1.2

# --- client runs -------------------------------------------------------------
run() { # run <logname> cmd...  (never fails the script; logs rc)
	local name=$1; shift
	local rc=0
	C timeout 20 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || rc=$?
	log "$* -> rc=$rc: $(tr '\n' ' ' <"$TMP/$name.out")"
	sleep 0.3
	return 0
}

run discovery pppoe-discovery -I "$VETH_C"
run acnames   pppoe -I "$VETH_C" -A
run session   pppoe -I "$VETH_C" -d -S svc1 -U
SESS="$(grep -Eo '^[0-9]+:([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}' "$TMP/session.out" | head -n1 || true)"
[[ -n $SESS ]] || { log "no session from pppoe -d; stderr:"; cat "$TMP/session.err" >&2; exit 1; }
log "session $SESS"
run padt      pppoe -I "$VETH_C" -k -e "$SESS"
sleep 0.5

# Stop tcpdump gracefully so the pcap is complete.
kill -TERM "$TCPDUMP_PID" 2>/dev/null || true
wait "$TCPDUMP_PID" 2>/dev/null || true

# --- extract frames ------------------------------------------------------------
SID="${SESS%%:*}" SERVER_CMD="${SERVER_CMD[*]}" VETH_C="$VETH_C" MAC_S="$MAC_S" MAC_C="$MAC_C" \
RP_VER="$(pppoe -V 2>&1 | grep -Eo 'Version [0-9.]+' | head -n1 || true)" \
PD_VER="$(pppoe-discovery -V 2>&1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true)" \
"$PY" - "$PCAP" "$OUT" <<'PYEOF'
import os, sys
import scapy.layers.l2  # noqa: F401  (registers DLT_EN10MB for rdpcap)
from scapy.utils import rdpcap

pcap, out = sys.argv[1], sys.argv[2]
E = os.environ
mac_s = bytes.fromhex(E["MAC_S"].replace(":", ""))
mac_c = bytes.fromhex(E["MAC_C"].replace(":", ""))
sid = int(E["SID"])
veth = E["VETH_C"]

frames = []
for p in rdpcap(pcap):
    raw = bytes(p)
    if len(raw) < 20 or raw[12:14] != b"\x88\x63":
        continue
    plen = int.from_bytes(raw[18:20], "big")
    frames.append({"raw": raw[:20 + plen], "wire": len(raw),
                   "dst": raw[0:6], "src": raw[6:12], "code": raw[15],
                   "sid": int.from_bytes(raw[16:18], "big")})

def tags(payload):
    i, r = 0, []
    while i + 4 <= len(payload):
        t = int.from_bytes(payload[i:i+2], "big")
        l = int.from_bytes(payload[i+2:i+4], "big")
        r.append((t, payload[i+4:i+4+l]))
        i += 4 + l
    return r

for f in frames:
    f["tags"] = tags(f["raw"][20:])
    f["hu"] = next((v for t, v in f["tags"] if t == 0x0103), None)
    print("capture.sh: frame code=0x%02x src=%s sid=0x%04x wire=%d pppoe=%d tags=%s" % (
        f["code"], f["src"].hex(":"), f["sid"], f["wire"], len(f["raw"]),
        [hex(t) for t, _ in f["tags"]]), file=sys.stderr)

def one(pred, what):
    for f in frames:
        if pred(f):
            return f
    sys.exit("capture.sh: no frame for %s" % what)

PADI, PADO, PADR, PADS, PADT = 0x09, 0x07, 0x19, 0x65, 0xa7
from_c = lambda f: f["src"] == mac_c
from_s = lambda f: f["src"] == mac_s

padi_disc = one(lambda f: from_c(f) and f["code"] == PADI, "pppoe-discovery PADI")
padi_rp = one(lambda f: from_c(f) and f["code"] == PADI and f["hu"] is not None
              and any(t == 0x0101 and v == b"svc1" for t, v in f["tags"]),
              "pppoe -d -U PADI")
hu = padi_rp["hu"]
pado = one(lambda f: from_s(f) and f["code"] == PADO and f["hu"] == hu, "PADO echoing Host-Uniq")
padr = one(lambda f: from_c(f) and f["code"] == PADR and f["hu"] == hu, "PADR")
pads = one(lambda f: from_s(f) and f["code"] == PADS and f["hu"] == hu, "PADS")
if pads["sid"] != sid:
    sys.exit("capture.sh: PADS session 0x%04x != printed %d" % (pads["sid"], sid))
padt = one(lambda f: from_c(f) and f["code"] == PADT and f["sid"] == sid, "client PADT")
# pppoe-server also sends a PADT of its own once its pppd fails to start (no
# /dev/ppp here); keep it as an extra golden frame when it shows up.
padt_srv = next((f for f in frames if from_s(f) and f["code"] == PADT and f["sid"] == sid), None)

rp, pd = E.get("RP_VER", ""), E.get("PD_VER", "")
srv = E["SERVER_CMD"]
out_files = [
    ("padi_pppoe_discovery.hex", padi_disc,
     "pppoe-discovery (pppd %s): pppoe-discovery -I %s" % (pd, veth)),
    ("padi_rp_pppoe.hex", padi_rp,
     "rp-pppoe pppoe (%s): pppoe -I %s -d -S svc1 -U" % (rp, veth)),
    ("pado_rp_pppoe_server.hex", pado,
     "rp-pppoe pppoe-server (%s): %s ; answering pppoe -d -S svc1 -U" % (rp, srv)),
    ("padr_rp_pppoe.hex", padr,
     "rp-pppoe pppoe (%s): pppoe -I %s -d -S svc1 -U" % (rp, veth)),
    ("pads_rp_pppoe_server.hex", pads,
     "rp-pppoe pppoe-server (%s): %s ; answering pppoe -d -S svc1 -U" % (rp, srv)),
    ("padt_rp_pppoe.hex", padt,
     "rp-pppoe pppoe (%s): pppoe -I %s -k -e %d:%s" % (rp, veth, sid, mac_s.hex(":"))),
]
if padt_srv is not None:
    out_files.append(("padt_rp_pppoe_server.hex", padt_srv,
        "rp-pppoe pppoe-server (%s): %s ; sent on its own after its pppd "
        "failed to start for session %d" % (rp, srv, sid)))
else:
    print("capture.sh: note: no server PADT seen; padt_rp_pppoe_server.hex not updated",
          file=sys.stderr)
for name, f, comment in out_files:
    raw = f["raw"]
    with open(os.path.join(out, name), "w") as fh:
        fh.write("# %s\n" % comment)
        fh.write("# captured by capture.sh with tcpdump on the client veth; "
                 "%d bytes (on the wire: %d)\n" % (len(raw), f["wire"]))
        for i in range(0, len(raw), 16):
            fh.write(" ".join("%02x" % b for b in raw[i:i+16]) + "\n")
    print("capture.sh: wrote %s (%d bytes)" % (name, len(raw)), file=sys.stderr)
PYEOF

# --- scapy-built frames --------------------------------------------------------
"$PY" "$OUT/scapy_frames.py" "$OUT"
"$PY" "$OUT/scapy_ppp_frames.py" "$OUT"   # PPP session frames (LCP, PAP, CHAP, IPCP)

log "server log:"; sed 's/^/  /' "$TMP/pppoe-server.log" >&2 || true
log "done"
