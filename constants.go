// Wire constants for PPPoE discovery (RFC 2516), its extensions (RFC 4638,
// RFC 4937, TR-101) and the Ethernet framing under it. Everything that names a
// byte on the wire lives here so the codecs read as plain offsets.

package main

// Ethernet framing.
const (
	ethAddrLen  = 6
	ethHdrLen   = 14 // dst, src, ethertype
	pppoeHdrLen = 6  // ver/type, code, session ID, length
	tagHdrLen   = 4  // type, length

	// discoveryHdrLen is where the first tag of a discovery frame starts.
	discoveryHdrLen = ethHdrLen + pppoeHdrLen

	// Offsets into a whole Ethernet frame.
	offEtherType = 12
	offVerType   = 14
	offCode      = 15
	offSessionID = 16
	offLength    = 18

	// verType is RFC 2516 §4: VER = 1 and TYPE = 1 packed into one byte.
	verType = 0x11

	// maxDiscoveryPayload bounds a discovery payload: RFC 2516 §4 keeps a
	// discovery frame within an untagged 1500-byte Ethernet payload with room
	// for the PPPoE header and a VLAN tag's worth of slack, as rp-pppoe does.
	maxDiscoveryPayload = 1484

	// frameSize is the size of every pooled frame buffer. It holds an
	// RFC 4638 baby-jumbo frame (14 + 1508) and leaves room for a VLAN tag.
	frameSize = 2048

	// ethPPPoEMTU is RFC 2516 §7: the largest MRU without RFC 4638.
	ethPPPoEMTU = 1492
	// pppoeOverhead is what PPPoE and PPP add inside the Ethernet payload
	// when computing the largest PPP-Max-Payload an interface can carry.
	pppoeOverhead = 8

	// vlanIDMask picks the VLAN ID out of an IEEE 802.1Q tag control
	// field; the top 4 bits are the priority and DEI, and ID 0 marks a
	// priority-only tag.
	vlanIDMask = 0x0fff
)

// Ethertypes of RFC 2516 §4.
const (
	etherTypeDiscovery uint16 = 0x8863
	etherTypeSession   uint16 = 0x8864
)

// discoveryCode is the CODE field of a PPPoE frame, RFC 2516 §5 and RFC 4937 §3.
type discoveryCode uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=discoveryCode,tagType -output=constants_string.go

const (
	codeSession discoveryCode = 0x00 // session stage (ethertype 0x8864)
	codePADO    discoveryCode = 0x07
	codePADI    discoveryCode = 0x09
	codePADR    discoveryCode = 0x19
	codePADS    discoveryCode = 0x65
	codePADT    discoveryCode = 0xa7
	codePADM    discoveryCode = 0xd3 // RFC 4937 §3.1: PPPoE Active Discovery Message
	codePADN    discoveryCode = 0xd4 // RFC 4937 §3.2: PPPoE Active Discovery Network
)

// tagType is the TAG_TYPE of a discovery TLV, RFC 2516 Appendix A.
type tagType uint16

const (
	tagEndOfList        tagType = 0x0000
	tagServiceName      tagType = 0x0101
	tagACName           tagType = 0x0102
	tagHostUniq         tagType = 0x0103
	tagACCookie         tagType = 0x0104
	tagVendorSpecific   tagType = 0x0105
	tagCredits          tagType = 0x0106 // RFC 5578
	tagMetrics          tagType = 0x0107 // RFC 5578
	tagSequenceNumber   tagType = 0x0108 // RFC 5578
	tagCreditScale      tagType = 0x0109 // RFC 5578
	tagRelaySessionID   tagType = 0x0110
	tagHURL             tagType = 0x0111 // RFC 4937 §4.1
	tagMOTM             tagType = 0x0112 // RFC 4937 §4.2
	tagPPPMaxPayload    tagType = 0x0120 // RFC 4638 §4
	tagIPRouteAdd       tagType = 0x0121 // RFC 4937 §4.3
	tagServiceNameError tagType = 0x0201
	tagACSystemError    tagType = 0x0202
	tagGenericError     tagType = 0x0203
)

// Broadband Forum TR-101 §3.9.3: the Vendor-Specific tag that carries line
// identification starts with the BBF's IANA enterprise number 3561.
const (
	vendorBBF          uint32 = 3561
	bbfAgentCircuitID  uint8  = 0x01
	bbfAgentRemoteID   uint8  = 0x02
	vendorIDLen               = 4
	bbfSubOptionHdrLen        = 2
)

// AC-Cookie layout: a 4-byte big-endian expiry in Unix seconds followed by a
// truncated HMAC-SHA256 over our MAC, the peer's MAC, Host-Uniq and the expiry.
const (
	cookieExpiryLen = 4
	cookieMACLen    = 16
	cookieLen       = cookieExpiryLen + cookieMACLen
)

// PPP protocol numbers (RFC 1661 §2, IANA PPP DLL protocol numbers).
const (
	protoIPv4   uint16 = 0x0021
	protoIPv6   uint16 = 0x0057
	protoLCP    uint16 = 0xc021
	protoPAP    uint16 = 0xc023
	protoCHAP   uint16 = 0xc223
	protoIPCP   uint16 = 0x8021
	protoIPv6CP uint16 = 0x8057
	protoCCP    uint16 = 0x80fd

	pppProtoLen = 2
	optHdrLen   = 2 // option type and length (RFC 1661 §6)
)

// LCP configuration options (RFC 1661 §6, RFC 1570).
const (
	lcpOptMRU     = 1
	lcpOptACCM    = 2
	lcpOptAuth    = 3
	lcpOptQuality = 4
	lcpOptMagic   = 5
	lcpOptPFC     = 7
	lcpOptACFC    = 8
)

// IPCP configuration options (RFC 1332 §3, RFC 1877 §1).
const (
	ipcpOptAddresses   = 1 // deprecated IP-Addresses
	ipcpOptCompression = 2 // Van Jacobson and friends
	ipcpOptAddress     = 3
	ipcpOptDNS1        = 129
	ipcpOptWINS1       = 130
	ipcpOptDNS2        = 131
	ipcpOptWINS2       = 132
)

// Authentication (RFC 1334, RFC 1994, RFC 2759).
const (
	chapAlgMD5      = 5
	chapAlgMSCHAPv2 = 0x81

	papAuthReq = 1
	papAuthAck = 2
	papAuthNak = 3

	chapChallenge = 1
	chapResponse  = 2
	chapSuccess   = 3
	chapFailure   = 4

	chapChallengeLen = 16
	mschapv2RespLen  = 49
	defaultMRU       = 1500 // RFC 1661 §6.1 when none is negotiated
	minMRU           = 128  // as pppd
)
