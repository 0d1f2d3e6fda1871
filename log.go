// Logging: one text line per event to stderr (procd hands it to logd), and
// to the options file's logfile as well when it names one. The line has the
// form log/slog's text handler writes (time=… level=INFO msg="…" key=value),
// which operators and our tests grep for; the package itself is not used
// because it, with the encoding/json it pulls in, costs the router binary
// about 130 KB.
//
// A logger is safe for use by any goroutine: lines are formatted in a
// buffer of the caller's and written whole under the output's lock.

package main

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

type logLevel int8

// The values are slog's, so that "level=DEBUG+2" style arithmetic is never
// needed: there are exactly four.
const (
	levelDebug logLevel = -4
	levelInfo  logLevel = 0
	levelWarn  logLevel = 4
	levelError logLevel = 8
)

func (l logLevel) String() string {
	switch l {
	case levelDebug:
		return "DEBUG"
	case levelInfo:
		return "INFO"
	case levelWarn:
		return "WARN"
	}
	return "ERROR"
}

func parseLevel(s string) (logLevel, error) {
	for _, l := range []logLevel{levelDebug, levelInfo, levelWarn, levelError} {
		if equalFoldASCII(s, l.String()) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// logOutput is where the lines of a logger and all its With children go.
type logOutput struct {
	level logLevel
	mu    sync.Mutex // guards writes to w
	w     []io.Writer
}

// logger writes leveled key=value lines. attrs holds what With added,
// already formatted (" k=v k=v").
type logger struct {
	out   *logOutput
	attrs string
}

func newTextLogger(level logLevel, w ...io.Writer) *logger {
	return &logger{out: &logOutput{level: level, w: w}}
}

// discardLogger logs nothing.
func discardLogger() *logger { return newTextLogger(levelError + 1) }

// newLogger builds the daemon's logger. The returned closer closes the log
// file, if any.
func newLogger(cfg *config, stderr io.Writer) (*logger, func(), error) {
	level, _ := parseLevel(cfg.LogLevel)
	if cfg.opts != nil && cfg.opts.debug && level > levelDebug {
		level = levelDebug
	}
	if cfg.LogFile == "" {
		return newTextLogger(level, stderr), func() {}, nil
	}
	f, err := os.OpenFile(cfg.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("logfile: %w", err)
	}
	return newTextLogger(level, stderr, f), func() { f.Close() }, nil
}

// enabled reports whether a line at level would be written; callers check
// it before building expensive arguments.
func (l *logger) enabled(level logLevel) bool { return level >= l.out.level }

func (l *logger) Debug(msg string, args ...any) { l.log(levelDebug, msg, args) }
func (l *logger) Info(msg string, args ...any)  { l.log(levelInfo, msg, args) }
func (l *logger) Warn(msg string, args ...any)  { l.log(levelWarn, msg, args) }
func (l *logger) Error(msg string, args ...any) { l.log(levelError, msg, args) }

// With returns a logger that adds args (key, value, …) to every line.
func (l *logger) With(args ...any) *logger {
	return &logger{out: l.out, attrs: l.attrs + string(appendLogArgs(nil, "", args))}
}

var logBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func (l *logger) log(level logLevel, msg string, args []any) {
	if !l.enabled(level) {
		return
	}
	bp := logBufs.Get().(*[]byte)
	b := append((*bp)[:0], "time="...)
	b = time.Now().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, " level="...)
	b = append(b, level.String()...)
	b = append(b, " msg="...)
	b = appendLogString(b, msg)
	b = append(b, l.attrs...)
	b = appendLogArgs(b, "", args)
	b = append(b, '\n')
	l.out.mu.Lock()
	for _, w := range l.out.w {
		w.Write(b)
	}
	l.out.mu.Unlock()
	*bp = b
	logBufs.Put(bp)
}

// logGroup is implemented by values that log as several fields, each key
// prefixed with the value's own key and a dot (entry.client=alice).
type logGroup interface {
	logFields() []any
}

// appendLogArgs appends " key=value" for each pair in args. A key without
// a value is logged as !BADKEY=key, as slog does.
func appendLogArgs(b []byte, prefix string, args []any) []byte {
	for i := 0; i < len(args); i++ {
		key, ok := args[i].(string)
		var v any
		if !ok {
			key, v = "!BADKEY", args[i]
		} else if i+1 < len(args) {
			i++
			v = args[i]
		} else {
			key, v = "!BADKEY", key
		}
		if g, ok := v.(logGroup); ok && !isNilPointer(v) {
			b = appendLogArgs(b, prefix+key+".", g.logFields())
			continue
		}
		b = append(b, ' ')
		b = append(b, prefix...)
		b = append(b, key...)
		b = append(b, '=')
		b = appendLogValue(b, v)
	}
	return b
}

func appendLogValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "<nil>"...)
	case string:
		return appendLogString(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case uint:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10)
	case bool:
		return strconv.AppendBool(b, v)
	case float64:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case time.Duration:
		return appendLogString(b, v.String())
	case time.Time:
		return v.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	if isNilPointer(v) {
		return append(b, "<nil>"...)
	}
	return appendLogString(b, logText(v))
}

// logText is what a value says through Error, String or fmt. A method
// that panics must not take the daemon down with it: as slog does, the
// line says !PANIC instead.
func logText(v any) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("!PANIC: %v", r)
		}
	}()
	switch v := v.(type) {
	case error:
		return v.Error()
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// isNilPointer reports a nil pointer in an interface, whose methods
// would be called on nil.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// appendLogString writes s bare when it can be read back unambiguously,
// quoted otherwise, by slog's rule: quote when empty or when it holds a
// space, '=', '"' or anything unprintable. (slog leaves DEL bare; we
// quote it, as we do every other control character.)
func appendLogString(b []byte, s string) []byte {
	if logNeedsQuote(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func logNeedsQuote(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		// slog asks unicode.IsPrint; strconv.IsPrint is the same test on
		// tables the binary has anyway (strconv.Quote), where unicode's
		// would add 7 KB.
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !strconv.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
