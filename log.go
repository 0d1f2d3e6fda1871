// Logging: log/slog text to stderr (procd hands it to logd), and to the
// options file's logfile as well when it names one.

package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

// newLogger builds the daemon's logger. The returned closer closes the log
// file, if any.
func newLogger(cfg *config, stderr io.Writer) (*slog.Logger, func(), error) {
	level, _ := parseLevel(cfg.LogLevel)
	if cfg.opts != nil && cfg.opts.debug && level > slog.LevelDebug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	h := slog.Handler(slog.NewTextHandler(stderr, opts))
	closer := func() {}
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("logfile: %w", err)
		}
		h = slog.NewMultiHandler(h, slog.NewTextHandler(f, opts))
		closer = func() { f.Close() }
	}
	return slog.New(h), closer, nil
}
