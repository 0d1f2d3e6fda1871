// Counters, drop reasons and the log limiters.
//
// stats are atomic counters: the readers, the data path and the loop all
// add to them, and anything may read them. The log limiters are loop-owned:
// input from the network raises a counter and at most one line a second
// per kind of line, so one client replaying a frame cannot flood the log.

package main

import (
	"sync/atomic"
	"time"
)

// dropReason says why a received frame was not acted on.
type dropReason uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.39.0 -type=dropReason -trimprefix=drop

const (
	dropShortFrame dropReason = iota
	dropBadVerType
	dropBadLength
	dropPayloadTooLong
	dropBadTag
	dropTooManyTags
	dropOwnFrame
	dropSourceNotUnicast
	dropNotForUs
	dropUnexpectedCode
	dropPADISessionID
	dropUnknownService
	dropFull
	dropMACLimit
	dropPADRBroadcast
	dropPADRSessionID
	dropNoCookie
	dropBadCookie
	dropPADTUnknown
	dropBadPPP
	dropUnknownSession
	dropTooManyStarting
	// dropVLANTagged: an 802.1Q/802.1ad-tagged frame on an interface we
	// serve untagged, dropped by the socket's reader (link_linux.go).
	dropVLANTagged
	numDropReasons
)

func parseDropReason(err error) dropReason {
	switch err {
	case errShortFrame:
		return dropShortFrame
	case errBadVerType:
		return dropBadVerType
	case errBadLength:
		return dropBadLength
	case errPayloadTooLong:
		return dropPayloadTooLong
	case errTooManyTags:
		return dropTooManyTags
	default:
		return dropBadTag
	}
}

type statCounter uint8

const (
	statRxFrames statCounter = iota
	statTxFrames
	statTxErrors
	statQueueFull     // frames a reader dropped: the loop's queue was full
	statPADIQueueFull // of those, PADIs
	statPADO
	statDuplicatePADR
	statRefused
	statSessionsStarted
	statSessionsEnded
	statSessionsUp
	statAuthFailures
	statAuthLockouts  // lockouts started, of a user name or a MAC
	statAuthLockedOut // logins refused for a lockout, unchecked
	statProtocolRejects
	statDataUp
	statDataDown
	statDataDropped
	statSpoofDropped
	statNoSession
	statTooBig
	statRateDropped
	statAcctErrors
	statHookFailures
	statIPv6Up
	statIPv6Refused
	statIPv6PDRefused
	numStats
)

var statNames = [numStats]string{"rx_frames", "tx_frames", "tx_errors", "rx_queue_full", "rx_padi_queue_full", "pado_sent",
	"duplicate_padr", "padr_refused", "sessions_started", "sessions_ended", "sessions_up", "auth_failures",
	"auth_lockouts", "auth_locked_out", "protocol_rejects", "ip_up", "ip_down", "ip_dropped", "ip_spoofed", "ip_no_session", "ip_too_big", "ip_rate_dropped", "acct_write_errors", "hook_failures",
	"ipv6_up", "ipv6_refused", "ipv6_pd_refused"}

// stats are counters shared by the readers, the data path and the loop.
type stats struct {
	c     [numStats]atomic.Uint64
	drops [numDropReasons]atomic.Uint64
}

func (st *stats) add(c statCounter) { st.c[c].Add(1) }

// attrs returns the non-zero counters as log attributes.
func (st *stats) attrs() []any {
	var out []any
	for i := range st.c {
		if v := st.c[i].Load(); v != 0 {
			out = append(out, statNames[i], v)
		}
	}
	for i := range st.drops {
		if v := st.drops[i].Load(); v != 0 {
			out = append(out, "drop_"+dropReason(i).String(), v)
		}
	}
	return out
}

// rateLimiter lets one event through per second. Loop-owned.
type rateLimiter struct{ last time.Time }

func (r *rateLimiter) allow(now time.Time) bool {
	if now.Sub(r.last) < time.Second {
		return false
	}
	r.last = now
	return true
}

// logKind names a log line that input from the network can trigger; each
// has its own limiter, so a flood of one kind does not silence the others.
type logKind uint8

const (
	logDropped logKind = iota
	logRefused
	logSendFailed
	logSecrets
	logAuthAnswer
	logPDExhausted
	logIPv6
	numLogKinds
)

// logLimiters are the loop's per-kind limiters.
type logLimiters [numLogKinds]rateLimiter

func (l *logLimiters) allow(k logKind, now time.Time) bool { return l[k].allow(now) }
