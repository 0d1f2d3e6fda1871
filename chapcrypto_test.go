package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/bits"
	"strings"
	"testing"

	"golang.org/x/crypto/md4"
)

// mustHex decodes a hex string written in a test, spaces allowed.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// RFC 2759 §9.2, "Sample MS-CHAPv2 Authenticator Response". Every
// intermediate value of the RFC is checked, so a failure names the step.
var (
	rfc2759User          = "User"
	rfc2759Password      = "clientPass"
	rfc2759AuthChallenge = "5B5D7C7D7B3F2F3E3C2C602132262628"
	rfc2759PeerChallenge = "21402324255E262A28295F2B3A337C7E"
	rfc2759Challenge     = "D02E4386BCE91226"
	rfc2759PasswordHash  = "44EBBA8D5312B8D611474411F56989AE"
	rfc2759HashHash      = "41C00C584BD2D91C4017A2A12FA59F3F"
	rfc2759NTResponse    = "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"
	rfc2759AuthResponse  = "S=407A5589115FD0D6209F510FE9C04566932CDA56"
)

func TestMSCHAPv2RFC2759Vectors(t *testing.T) {
	auth := [16]byte(mustHex(t, rfc2759AuthChallenge))
	peer := [16]byte(mustHex(t, rfc2759PeerChallenge))
	wantPwHash := [16]byte(mustHex(t, rfc2759PasswordHash))
	wantNT := [24]byte(mustHex(t, rfc2759NTResponse))

	t.Run("ChallengeHash", func(t *testing.T) {
		got := challengeHash(peer, auth, rfc2759User)
		if want := mustHex(t, rfc2759Challenge); !bytes.Equal(got[:], want) {
			t.Errorf("(-want +got)%s", hexDiff(want, got[:]))
		}
	})
	t.Run("NtPasswordHash", func(t *testing.T) {
		got := ntPasswordHash(rfc2759Password)
		if got != wantPwHash {
			t.Errorf("(-want +got)%s", hexDiff(wantPwHash[:], got[:]))
		}
	})
	t.Run("HashNtPasswordHash", func(t *testing.T) {
		got := hashNTPasswordHash(wantPwHash)
		if want := mustHex(t, rfc2759HashHash); !bytes.Equal(got[:], want) {
			t.Errorf("(-want +got)%s", hexDiff(want, got[:]))
		}
	})
	t.Run("ChallengeResponse", func(t *testing.T) {
		got := challengeResponse([8]byte(mustHex(t, rfc2759Challenge)), wantPwHash)
		if got != wantNT {
			t.Errorf("(-want +got)%s", hexDiff(wantNT[:], got[:]))
		}
	})
	t.Run("GenerateNTResponse", func(t *testing.T) {
		got := generateNTResponse(auth, peer, rfc2759User, rfc2759Password)
		if got != wantNT {
			t.Errorf("(-want +got)%s", hexDiff(wantNT[:], got[:]))
		}
	})
	t.Run("GenerateAuthenticatorResponse", func(t *testing.T) {
		got := generateAuthenticatorResponse(rfc2759Password, wantNT, peer, auth, rfc2759User)
		if got != rfc2759AuthResponse {
			t.Errorf("got %s, want %s", got, rfc2759AuthResponse)
		}
	})
}

func TestMSCHAPv2MagicLengths(t *testing.T) {
	// RFC 2759 §8.7 spells both out as byte arrays of these lengths.
	if len(mschapv2Magic1) != 39 || len(mschapv2Magic2) != 41 {
		t.Errorf("magic lengths %d, %d; want 39, 41", len(mschapv2Magic1), len(mschapv2Magic2))
	}
}

func TestMSCHAPv2NTResponseDependsOnEveryInput(t *testing.T) {
	auth := [16]byte(mustHex(t, rfc2759AuthChallenge))
	peer := [16]byte(mustHex(t, rfc2759PeerChallenge))
	base := generateNTResponse(auth, peer, rfc2759User, rfc2759Password)
	auth2, peer2 := auth, peer
	auth2[15] ^= 1
	peer2[0] ^= 1
	tests := []struct {
		name string
		got  [24]byte
	}{
		{"auth challenge", generateNTResponse(auth2, peer, rfc2759User, rfc2759Password)},
		{"peer challenge", generateNTResponse(auth, peer2, rfc2759User, rfc2759Password)},
		{"user name case", generateNTResponse(auth, peer, "user", rfc2759Password)},
		{"password", generateNTResponse(auth, peer, rfc2759User, "clientPasS")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got == base {
				t.Errorf("changing the %s left the NT-Response at %X", tt.name, base)
			}
		})
	}
}

func TestMSCHAPv2NTPasswordHashUnicode(t *testing.T) {
	// NtPasswordHash hashes UTF-16LE, so a non-ASCII password is two bytes
	// per BMP code point and a surrogate pair above that, not its UTF-8.
	// Rows with want are published NT hashes; rows with utf16le compare
	// with MD4 over hand-written UTF-16LE, which pins the encoding step.
	tests := []struct {
		name     string
		password string
		want     string // the NT hash, when published
		utf16le  string // else the encoding to hash
	}{
		// RFC 1320 A.5: MD4("") = 31d6cfe0d16ae931b73c59d7e0c089c0.
		{name: "empty", password: "", want: "31D6CFE0D16AE931B73C59D7E0C089C0"},
		// The NT hash of "password", as every NTLM reference lists it.
		{name: "password", password: "password", want: "8846F7EAEE8FB117AD06BDD830B7586C"},
		{name: "latin1", password: "pä", utf16le: "7000 e400"},
		{name: "astral", password: "\U0001F600", utf16le: "3dd8 00de"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []byte
			if tt.want != "" {
				want = mustHex(t, tt.want)
			} else {
				h := md4.New()
				h.Write(mustHex(t, tt.utf16le))
				want = h.Sum(nil)
			}
			if got := ntPasswordHash(tt.password); !bytes.Equal(got[:], want) {
				t.Errorf("(-want +got)%s", hexDiff(want, got[:]))
			}
		})
	}
}

func TestMSCHAPv2DESKeyExpansion(t *testing.T) {
	tests := []struct {
		name string
		key7 string
		want string
	}{
		// All ones: each byte is 1111111 then a parity bit that makes the
		// count odd: 7 ones already, so 0xFE.
		{name: "ones", key7: "FFFFFFFFFFFFFF", want: "FEFEFEFEFEFEFEFE"},
		// All zeros: 0000000 plus parity 1.
		{name: "zeros", key7: "00000000000000", want: "0101010101010101"},
		// The first 7 bytes of the RFC 2759 §9.2 password hash, in 7-bit
		// groups 0100010 0111010 1110111 0101000 1101010 1001100 0100101
		// 0111000, each shifted left and given odd parity. Computed apart with
		// /usr/bin/python3 -c 's=bin(int("44EBBA8D5312B8",16))[2:].zfill(56); print(bytes((int(s[i:i+7],2)<<1)|(1-s[i:i+7].count("1")%2) for i in range(0,56,7)).hex().upper())'
		{name: "rfc2759 key 1", key7: "44EBBA8D5312B8", want: "4575EF51D5984A70"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := desKey([7]byte(mustHex(t, tt.key7)))
			if want := mustHex(t, tt.want); !bytes.Equal(got[:], want) {
				t.Errorf("(-want +got)%s", hexDiff(want, got[:]))
			}
			for i, b := range got {
				if bits.OnesCount8(b)%2 != 1 {
					t.Errorf("byte %d = %#02x has even parity", i, b)
				}
			}
		})
	}
}

func TestCHAPMD5Response(t *testing.T) {
	tests := []struct {
		name      string
		id        uint8
		secret    string
		challenge []byte
		want      string
	}{
		{
			name: "seed secret", id: 0x2a, secret: "rp-pppoe",
			challenge: mustHex(t, "00112233445566778899aabbccddeeff"),
			// /usr/bin/python3 -c 'import hashlib; print(hashlib.md5(bytes([0x2a])+b"rp-pppoe"+bytes.fromhex("00112233445566778899aabbccddeeff")).hexdigest())'
			want: "02c605091ffe338da5d8777784d94f6d",
		},
		{
			name: "empty secret and challenge", id: 0, secret: "", challenge: nil,
			// /usr/bin/python3 -c 'import hashlib; print(hashlib.md5(bytes([0])+b""+b"").hexdigest())'
			want: "93b885adfe0da089cdf634904fd59f71",
		},
		{
			name: "utf-8 secret, 64-byte challenge", id: 0xff, secret: "pässwörd",
			challenge: func() []byte {
				b := make([]byte, 64)
				for i := range b {
					b[i] = byte(i)
				}
				return b
			}(),
			// /usr/bin/python3 -c 'import hashlib; print(hashlib.md5(bytes([0xff])+"pässwörd".encode()+bytes(range(64))).hexdigest())'
			want: "dfe684dfac93323799879d3dfe389c09",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chapMD5Response(tt.id, []byte(tt.secret), tt.challenge)
			if want := mustHex(t, tt.want); !bytes.Equal(got[:], want) {
				t.Errorf("(-want +got)%s", hexDiff(want, got[:]))
			}
		})
	}
}

// rfc2759ResponseValue is the 49-byte Response Value the §9.2 peer would
// send, built field by field.
func rfc2759ResponseValue(t testing.TB) []byte {
	var v []byte
	v = append(v, mustHex(t, rfc2759PeerChallenge)...) // Peer-Challenge
	v = append(v, make([]byte, 8)...)                  // Reserved
	v = append(v, mustHex(t, rfc2759NTResponse)...)    // NT-Response
	v = append(v, 0)                                   // Flags
	return v
}

func TestParseMSCHAPv2Response(t *testing.T) {
	good := rfc2759ResponseValue(t)
	tests := []struct {
		name    string
		val     []byte
		wantErr error
	}{
		{name: "rfc2759 9.2", val: good},
		{name: "nonzero reserved and flags ignored", val: func() []byte {
			v := bytes.Clone(good)
			v[offMSCHAPv2Reserved] = 0xAA
			v[offMSCHAPv2Flags] = 1
			return v
		}()},
		{name: "empty", val: nil, wantErr: errMSCHAPv2Length},
		{name: "one short", val: good[:48], wantErr: errMSCHAPv2Length},
		{name: "one long", val: append(bytes.Clone(good), 0), wantErr: errMSCHAPv2Length},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer, nt, err := parseMSCHAPv2Response(tt.val)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if want := mustHex(t, rfc2759PeerChallenge); !bytes.Equal(peer[:], want) {
				t.Errorf("peer challenge (-want +got)%s", hexDiff(want, peer[:]))
			}
			if want := mustHex(t, rfc2759NTResponse); !bytes.Equal(nt[:], want) {
				t.Errorf("NT-Response (-want +got)%s", hexDiff(want, nt[:]))
			}
		})
	}
}

func TestParseMSCHAPv2ResponseCopies(t *testing.T) {
	v := rfc2759ResponseValue(t)
	peer, nt, err := parseMSCHAPv2Response(v)
	if err != nil {
		t.Fatal(err)
	}
	clear(v)
	if peer == ([16]byte{}) || nt == ([24]byte{}) {
		t.Error("results alias the input buffer")
	}
}

func TestMSCHAPv2Failure(t *testing.T) {
	auth := [16]byte(mustHex(t, rfc2759AuthChallenge))
	tests := []struct {
		name string
		code int
		msg  string
		want string
	}{
		{
			name: "authentication failure", code: 691, msg: "Authentication failed",
			want: "E=691 R=0 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 M=Authentication failed",
		},
		{
			name: "restricted logon hours", code: 646, msg: "",
			want: "E=646 R=0 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 M=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mschapv2Failure(tt.code, auth, tt.msg); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// FuzzParseMSCHAPv2Response: no panic, a result only for exactly 49 bytes,
// and the fields are the bytes at the RFC 2759 §4 offsets.
func FuzzParseMSCHAPv2Response(f *testing.F) {
	f.Add(rfc2759ResponseValue(f))
	f.Add([]byte{})
	f.Add(make([]byte, 48))
	f.Add(make([]byte, 50))
	f.Fuzz(func(t *testing.T, val []byte) {
		peer, nt, err := parseMSCHAPv2Response(val)
		if len(val) != mschapv2ResponseLen {
			if !errors.Is(err, errMSCHAPv2Length) {
				t.Fatalf("%d bytes: err = %v", len(val), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("49 bytes: %v", err)
		}
		if !bytes.Equal(peer[:], val[offPeerChallenge:offPeerChallenge+16]) ||
			!bytes.Equal(nt[:], val[offNTResponse:offNTResponse+24]) {
			t.Fatalf("fields do not match the input %x", val)
		}
	})
}
