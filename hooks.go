// Running programs for sessions: pppd's ip-up and ip-down scripts, and the
// tc commands of kernel-mode rate limits.
//
// Nothing here runs on the loop goroutine. The loop calls run, which
// starts a goroutine and returns at once with a channel that closes when
// the job is done; a job may be told to wait for an earlier one (a
// session's ip-down waits for its ip-up, a rate change for the last). Each
// program runs with an argv, never through a shell, in its own process
// group, and is killed, group and all, at the timeout. At most maxHooks
// run at once; the others wait their turn. A job's outcome is logged from
// its goroutine.

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const maxHooks = 32

type hookRunner struct {
	log      *logger
	timeout  time.Duration
	slots    chan struct{}
	wg       sync.WaitGroup
	failures *atomic.Uint64 // the server's hook_failures counter; may be nil

	mu     sync.Mutex
	warned map[string]bool // scripts already warned about
}

func newHookRunner(log *logger, timeout time.Duration) *hookRunner {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &hookRunner{log: log, timeout: timeout, slots: make(chan struct{}, maxHooks), warned: map[string]bool{}}
}

// job is one program to run.
type job struct {
	argv []string
	env  []string // nil: the daemon's own
	// script: a missing file is no error, a file that is not executable
	// is warned about once.
	script bool
}

// run runs the jobs one after the other, after after is closed (nil: at
// once). The returned channel closes when they are done. attrs go on every
// log line.
func (h *hookRunner) run(after <-chan struct{}, attrs []any, jobs ...job) <-chan struct{} {
	done := make(chan struct{})
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer close(done)
		if after != nil {
			<-after
		}
		for _, j := range jobs {
			h.slots <- struct{}{}
			h.runOne(j, attrs)
			<-h.slots
		}
	}()
	return done
}

func (h *hookRunner) runOne(j job, attrs []any) {
	if j.script {
		st, err := os.Stat(j.argv[0])
		if errors.Is(err, fs.ErrNotExist) {
			return // as pppd: no script, nothing to run
		}
		if err == nil && (st.IsDir() || st.Mode().Perm()&0o111 == 0) {
			h.mu.Lock()
			first := !h.warned[j.argv[0]]
			h.warned[j.argv[0]] = true
			h.mu.Unlock()
			if first {
				h.log.Warn("script is not executable; not running it", "script", j.argv[0])
			}
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, j.argv[0], j.argv[1:]...)
	cmd.Env = j.env
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Kill the whole group: a script's children must not outlive it.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start).Round(time.Millisecond)
	a := append([]any{"cmd", strings.Join(j.argv, " "), "took", took}, attrs...)
	switch {
	case ctx.Err() != nil:
		h.fail()
		h.log.Warn("killed: still running at the timeout", append(a, "timeout", h.timeout)...)
	case err != nil:
		h.fail()
		h.log.Warn("failed", append(a, "err", err, "output", tail(out, 200))...)
	default:
		h.log.Debug("ran", a...)
	}
}

func (h *hookRunner) fail() {
	if h.failures != nil {
		h.failures.Add(1)
	}
}

// wait waits for every job, at shutdown.
func (h *hookRunner) wait() { h.wg.Wait() }

// tail is the last n bytes of a program's output, for the log.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// hookEnv is the environment pppd gives ip-up and ip-down (pppd(8),
// SCRIPTS), as far as it means anything here.
func hookEnv(pairs ...string) []string {
	env := []string{"PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", fmt.Sprintf("PPPD_PID=%d", os.Getpid()), "PPPLOGNAME=root", "ORIG_UID=0"}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			env = append(env, pairs[i]+"="+pairs[i+1])
		}
	}
	return env
}
