package main

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestLoggerMatchesSlog: lines have the form of log/slog's text handler,
// which operators' scripts and our tests grep for, for every kind of value
// the daemon logs.
func TestLoggerMatchesSlog(t *testing.T) {
	args := []any{
		"s", "plain", "empty", "", "space", "a b", "eq", "a=b", "quote", `say "hi"`, "ctl", "a\x00b\n",
		"utf8", "café", "bad", "a\xffb", "nbsp", "a\u00a0b",
		"int", -3, "u16", uint16(1492), "u64", uint64(1 << 40), "u8", uint8(7), "i64", int64(-9), "u32", uint32(5), "bool", true,
		"dur", 1500 * time.Millisecond, "err", errors.New("no such file"), "addr", netip.MustParseAddr("10.0.0.2"),
		"ap", netip.MustParseAddrPort("192.0.2.10:1812"), "nilv", nil, "bytes", []int{1, 2},
		"lvl", levelWarn, "odd",
	}
	for _, level := range []logLevel{levelDebug, levelInfo, levelWarn, levelError} {
		var ours, theirs bytes.Buffer
		newTextLogger(levelDebug, &ours).With("session", 7, "user", "bob smith").log(level, "session ended", args)
		sl := slog.New(slog.NewTextHandler(&theirs, &slog.HandlerOptions{Level: slog.LevelDebug,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
		sl.With("session", 7, "user", "bob smith").Log(t.Context(), slog.Level(level), "session ended", args...)
		got := ours.String()
		i := strings.Index(got, " level=")
		if !strings.HasPrefix(got, "time=") || i < 0 {
			t.Fatalf("no time first: %q", got)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", got[len("time="):i]); err != nil {
			t.Errorf("time: %v", err)
		}
		if got[i+1:] != theirs.String() {
			t.Errorf("level %v:\nours   %s\nslog's %s", level, got[i+1:], theirs.String())
		}
	}
}

func TestLoggerLevel(t *testing.T) {
	var buf bytes.Buffer
	l := newTextLogger(levelWarn, &buf, &buf)
	l.Info("hidden")
	l.Debug("hidden")
	l.Warn("shown", "n", 1)
	if l.enabled(levelInfo) || !l.enabled(levelError) {
		t.Errorf("enabled: info %v error %v", l.enabled(levelInfo), l.enabled(levelError))
	}
	if n := strings.Count(buf.String(), "msg=shown n=1\n"); n != 2 || strings.Contains(buf.String(), "hidden") {
		t.Errorf("two writers, one line each: %q", buf.String())
	}
	for in, want := range map[string]logLevel{"debug": levelDebug, "INFO": levelInfo, "Warn": levelWarn, "error": levelError} {
		if got, err := parseLevel(in); err != nil || got != want {
			t.Errorf("parseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := parseLevel("verbose"); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("parseLevel(verbose): %v", err)
	}
	if testing.AllocsPerRun(100, func() { l.Debug("x", "n", 1) }) != 0 {
		t.Error("a line below the level allocates")
	}
}

type panicky struct{}

func (panicky) String() string { panic("boom") }

type nilErr struct{ msg string }

func (e *nilErr) Error() string { return e.msg }

// TestLoggerSurvivesBadValues: a value whose method panics, or a nil
// pointer behind an interface, gives a word in the line, not a crash of
// the goroutine that logs (the loop's, mostly).
func TestLoggerSurvivesBadValues(t *testing.T) {
	var buf bytes.Buffer
	l := newTextLogger(levelDebug, &buf)
	var e *nilErr
	var entry *secretEntry
	var s *secret
	l.With("entry", entry).Info("m", "p", panicky{}, "err", error(e), "s", s, "file", (*secretsFile)(nil))
	want := `msg=m entry=<nil> p="!PANIC: boom" err=<nil> s=<nil> file=<nil>` + "\n"
	if got := buf.String(); !strings.HasSuffix(got, want) {
		t.Errorf("got  %q\nwant suffix %q", got, want)
	}
}

// TestLogQuotesAsSlog: a value is quoted exactly when slog's text handler
// quotes it, for every rune outside ASCII (logNeedsQuote asks
// strconv.IsPrint where slog asks unicode.IsPrint). In ASCII, DEL is the
// one difference: we quote it, slog does not.
func TestLogQuotesAsSlog(t *testing.T) {
	var b bytes.Buffer
	h := slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key != "v" {
			return slog.Attr{}
		}
		return a
	}})
	for r := rune(utf8.RuneSelf); r <= utf8.MaxRune; r++ {
		s := "a" + string(r)
		b.Reset()
		rec := slog.NewRecord(time.Time{}, slog.LevelInfo, "", 0)
		rec.AddAttrs(slog.String("v", s))
		if err := h.Handle(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		if quoted := strings.HasPrefix(b.String(), `v="`); logNeedsQuote(s) != quoted {
			t.Errorf("%U: logNeedsQuote = %v, slog quotes: %v", r, !quoted, quoted)
		}
	}
}
