// CHAP-MD5 (RFC 1994) and MS-CHAPv2 (RFC 2759) arithmetic.
//
// Pure functions with no state and no locks: auth.go calls them from the
// loop goroutine with the challenge it sent and the value the peer returned.
// The function names and steps follow RFC 2759 §8 one for one, so each can
// be checked against the §9.2 test vectors.
//
// Everything here handles secrets or values derived from them. Nothing here
// logs, and callers must not log the arguments or the results either
// (STYLE.md §6): a CHAP challenge plus its response is enough for an offline
// dictionary attack on the password. Compare responses with
// crypto/subtle.ConstantTimeCompare.

package main

import (
	"crypto/des"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/md4"
)

var errMSCHAPv2Length = errors.New("pppoe: MS-CHAPv2 response value is not 49 bytes")

// MS-CHAPv2 Response value layout (RFC 2759 §4).
const (
	mschapv2ResponseLen = 49
	offPeerChallenge    = 0  // 16 bytes
	offMSCHAPv2Reserved = 16 // 8 bytes, zero
	offNTResponse       = 24 // 24 bytes
	offMSCHAPv2Flags    = 48 // 1 byte, zero
)

// RFC 2759 §8.7 magic constants for GenerateAuthenticatorResponse.
const (
	mschapv2Magic1 = "Magic server to client signing constant"   // 39 octets
	mschapv2Magic2 = "Pad to make it do more than one iteration" // 41 octets
)

// chapMD5Response is the CHAP-MD5 Response Value (RFC 1994 §4.1 and RFC 1321):
// MD5 over the Identifier, the secret and the Challenge Value, in that order.
func chapMD5Response(id uint8, secret []byte, challenge []byte) [16]byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write(secret)
	h.Write(challenge)
	var out [16]byte
	h.Sum(out[:0])
	return out
}

// ntPasswordHash is RFC 2759 §8.3 NtPasswordHash: MD4 of the password in
// UTF-16LE ("Unicode"). An invalid UTF-8 byte counts as U+FFFD.
func ntPasswordHash(password string) [16]byte {
	u := utf16.Encode([]rune(password))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	h := md4.New()
	h.Write(b)
	clear(b)
	var out [16]byte
	h.Sum(out[:0])
	return out
}

// hashNTPasswordHash is RFC 2759 §8.4 HashNtPasswordHash: MD4 of the
// password hash.
func hashNTPasswordHash(pwHash [16]byte) [16]byte {
	h := md4.New()
	h.Write(pwHash[:])
	var out [16]byte
	h.Sum(out[:0])
	return out
}

// challengeHash is RFC 2759 §8.2 ChallengeHash: the first 8 bytes of
// SHA1(PeerChallenge || AuthenticatorChallenge || UserName). The RFC wants
// the user name without any "DOMAIN\" prefix; stripping it is the caller's
// choice, this takes the bytes as given.
func challengeHash(peerChallenge, authChallenge [16]byte, username string) [8]byte {
	h := sha1.New()
	h.Write(peerChallenge[:])
	h.Write(authChallenge[:])
	h.Write([]byte(username))
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	return [8]byte(sum[:8])
}

// challengeResponse is RFC 2759 §8.5 ChallengeResponse: the 16-byte hash,
// zero-padded to 21 bytes, gives three 7-byte DES keys, and each encrypts
// the 8-byte challenge into 8 bytes of the 24-byte response.
func challengeResponse(challenge [8]byte, pwHash [16]byte) [24]byte {
	var z [21]byte
	copy(z[:], pwHash[:])
	var out [24]byte
	for i := range 3 {
		desEncrypt(out[8*i:8*i+8], challenge, [7]byte(z[7*i:7*i+7]))
	}
	return out
}

// desEncrypt is RFC 2759 §8.6 DesEncrypt: DES-ECB of one block under a
// 56-bit key given as 7 bytes.
func desEncrypt(dst []byte, block [8]byte, key7 [7]byte) {
	key := desKey(key7)
	c, err := des.NewCipher(key[:])
	if err != nil {
		panic(fmt.Sprintf("des.NewCipher with an 8-byte key: %v", err)) // cannot happen
	}
	c.Encrypt(dst, block[:])
}

// desKey spreads a 56-bit key over 8 bytes, 7 key bits in the top of each
// byte and an odd-parity bit in the bottom, as DES expects (FIPS 46-3 §3;
// RFC 2759 §8.6 leaves the parity bits to the DES implementation, and
// pppd's MakeKey and Windows insert them this way). crypto/des ignores the
// parity bit, so it only matters for a strict DES elsewhere.
func desKey(k [7]byte) [8]byte {
	var v uint64
	for _, b := range k {
		v = v<<8 | uint64(b)
	}
	var out [8]byte
	for i := range out {
		b := byte(v>>(49-7*i)) << 1
		if bits.OnesCount8(b)%2 == 0 {
			b |= 1
		}
		out[i] = b
	}
	return out
}

// generateNTResponse is RFC 2759 §8.1 GenerateNTResponse: what the peer
// puts in the NT-Response field, and what the authenticator recomputes from
// the stored password to check it.
func generateNTResponse(authChallenge, peerChallenge [16]byte, username, password string) [24]byte {
	c := challengeHash(peerChallenge, authChallenge, username)
	h := ntPasswordHash(password)
	return challengeResponse(c, h)
}

// generateAuthenticatorResponse is RFC 2759 §8.7 GenerateAuthenticatorResponse:
// the "S=" + 40 uppercase hex digits that the authenticator sends in its
// Success packet (§5) to prove it knows the password too.
func generateAuthenticatorResponse(password string, ntResponse [24]byte, peerChallenge, authChallenge [16]byte, username string) string {
	hh := hashNTPasswordHash(ntPasswordHash(password))

	h := sha1.New()
	h.Write(hh[:])
	h.Write(ntResponse[:])
	h.Write([]byte(mschapv2Magic1))
	var digest [sha1.Size]byte
	h.Sum(digest[:0])

	c := challengeHash(peerChallenge, authChallenge, username)
	h.Reset()
	h.Write(digest[:])
	h.Write(c[:])
	h.Write([]byte(mschapv2Magic2))
	h.Sum(digest[:0])

	return "S=" + strings.ToUpper(hex.EncodeToString(digest[:]))
}

// parseMSCHAPv2Response splits the Value of an MS-CHAPv2 Response packet
// (RFC 2759 §4): Peer-Challenge[16], Reserved[8], NT-Response[24], Flags[1].
// Reserved and Flags "MUST be zero" on the sender's side; as pppd does, they
// are not checked here. The results are copies; val is not kept.
func parseMSCHAPv2Response(val []byte) (peerChallenge [16]byte, ntResponse [24]byte, err error) {
	if len(val) != mschapv2ResponseLen {
		return peerChallenge, ntResponse, errMSCHAPv2Length
	}
	peerChallenge = [16]byte(val[offPeerChallenge : offPeerChallenge+16])
	ntResponse = [24]byte(val[offNTResponse : offNTResponse+24])
	return peerChallenge, ntResponse, nil
}

// mschapv2Failure is the Message of an MS-CHAPv2 Failure packet (RFC 2759 §6):
// "E=<code> R=0 C=<32 hex digits> V=3 M=<msg>". R=0 says no retry is
// allowed; C is the authenticator challenge, in uppercase hex; V=3 is the
// version the RFC says the field must be read as. msg goes to the peer: keep
// it short and fixed, never an internal error (STYLE.md §6).
func mschapv2Failure(errCode int, authChallenge [16]byte, msg string) string {
	return fmt.Sprintf("E=%d R=0 C=%s V=3 M=%s", errCode, strings.ToUpper(hex.EncodeToString(authChallenge[:])), msg)
}

// stripDomain drops a Windows domain ("DOMAIN\\user"): RFC 2759 §8.2 hashes
// the user name without it.
func stripDomain(u string) string {
	if i := strings.LastIndexByte(u, '\\'); i >= 0 {
		return u[i+1:]
	}
	return u
}
