package main

// The kernel-mode test boots Debian 12's own kernel under qemu, because the
// kernel that runs the tests may have no PPP (no /dev/ppp, no AF_PPPOX).
// test/vm/build.sh makes the kernel and an initramfs with Debian's pppd and
// rp-pppoe, test/vm/run.sh boots it with the directory holding pppoed
// shared at /mnt/host, and test/vm/scenarios/kernel-mode.sh runs pppoed -k
// against real clients inside, printing one PASS or FAIL line per check.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// vmAuths are the methods the scenario runs, one AC start each, in one boot.
var vmAuths = []string{"chap", "pap", "mschapv2"}

// TestVMKernelMode runs the kernel-mode scenario in the VM and reports each
// authentication method as a subtest. PPPOED_VM_AC_CMD replaces the AC
// command line (the scenario's AC_CMD), PPPOED_VM_IPERF=1 adds iperf3.
func TestVMKernelMode(t *testing.T) {
	dir, ctx := vmSetup(t)
	args := []string{"-s", dir, "-t", "900", "-e", "AUTH=" + strings.Join(vmAuths, " ")}
	if v := os.Getenv("PPPOED_VM_AC_CMD"); v != "" {
		args = append(args, "-e", "AC_CMD="+v)
	}
	if os.Getenv("PPPOED_VM_IPERF") == "1" {
		args = append(args, "-e", "IPERF=1")
	}
	args = append(args, "-f", "test/vm/scenarios/kernel-mode.sh")
	start := time.Now()
	out, err := runVM(ctx, t, args)
	t.Logf("test/vm/run.sh took %v", time.Since(start).Round(100*time.Millisecond))

	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("test/vm/run.sh: %v", err)
	}
	checks := parseVMChecks(out)
	groups := vmAuths
	if os.Getenv("PPPOED_VM_AC_CMD") == "" {
		// pppoed's own accounting (exact counters and -T), rate
		// limits and IPv6 in kernel mode.
		groups = append(groups[:len(groups):len(groups)], "accounting", "ratelimit", "ipv6")
	}
	for _, auth := range groups {
		t.Run(auth, func(t *testing.T) {
			c := checks[auth]
			if len(c.pass)+len(c.fail) == 0 {
				t.Fatalf("no check ran for %s; the VM's output:\n%s", auth, out)
			}
			for _, f := range c.fail {
				t.Errorf("FAIL %s", f)
			}
			for _, l := range c.info {
				t.Log(l)
			}
		})
	}
	switch {
	case err == nil:
	case exit.ExitCode() == 124:
		t.Errorf("the VM timed out; its output:\n%s", out)
	case exit.ExitCode() == 125:
		t.Errorf("the VM died (the console is in the stderr above); its output:\n%s", out)
	case !t.Failed():
		t.Errorf("the scenario exited %d with no FAIL line; its output:\n%s", exit.ExitCode(), out)
	default:
		t.Logf("the VM's output:\n%s", out)
	}
}

// vmSetup skips where the VM cannot run, builds pppoed for the VM into a
// directory the VM will share, and makes sure the kernel and initramfs
// are built.
func vmSetup(t *testing.T) (string, context.Context) {
	if testing.Short() {
		t.Skip("boots a VM")
	}
	if os.Geteuid() != 0 {
		skipf(t, "the VM test needs root: build.sh installs qemu with apt-get")
	}
	if runtime.GOARCH != "amd64" {
		skipf(t, "the VM test fetches Debian's amd64 kernel and packages, and this is %s", runtime.GOARCH)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		skipf(t, "the VM test needs apt-get (Debian) to fetch the kernel and packages")
	}

	dir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "pppoed"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	t.Cleanup(cancel)
	start := time.Now()
	if out, err := exec.CommandContext(ctx, "test/vm/build.sh").CombinedOutput(); err != nil {
		if _, lerr := exec.LookPath("qemu-system-x86_64"); lerr != nil {
			skipf(t, "qemu-system-x86_64 is missing and test/vm/build.sh could not install it: %v\n%s", err, out)
		}
		t.Fatalf("test/vm/build.sh: %v\n%s", err, out)
	}
	t.Logf("test/vm/build.sh took %v", time.Since(start).Round(100*time.Millisecond))
	return dir, ctx
}

// TestVMNAT runs issue 5's NAT scenario in kernel mode in the VM, for the
// nft and iptables backends: a file fetched through NAT arrives intact, the
// WAN host sees the concentrator's address and a clamped MSS, pings from
// an address the client does not own (IPv4 and IPv6) are dropped by the
// reverse-path rule while its own get through, and pppoed leaves no rule
// behind and restores ip_forward.
func TestVMNAT(t *testing.T) {
	dir, ctx := vmSetup(t)
	out, err := runVM(ctx, t, []string{"-s", dir, "-t", "600", "-f", "test/vm/scenarios/nat.sh"})
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("test/vm/run.sh: %v", err)
	}
	checks := parseVMChecks(out)
	for _, backend := range []string{"nft", "iptables"} {
		t.Run(backend, func(t *testing.T) {
			c := checks[backend]
			if len(c.pass)+len(c.fail) == 0 {
				t.Fatalf("no check ran for %s; the VM's output:\n%s", backend, out)
			}
			for _, f := range c.fail {
				t.Errorf("FAIL %s", f)
			}
		})
	}
	if err != nil && !t.Failed() {
		t.Errorf("the scenario exited %d with no FAIL line; its output:\n%s", exit.ExitCode(), out)
	}
}

// runVM runs test/vm/run.sh and returns its stdout, which the scenario's
// output is; with -v each line is logged as it comes. The console of a VM
// that died goes to stderr.
func runVM(ctx context.Context, t *testing.T, args []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "test/vm/run.sh", args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		out.Write(sc.Bytes())
		out.WriteByte('\n')
		if testing.Verbose() {
			t.Log(sc.Text())
		}
	}
	return out.Bytes(), cmd.Wait()
}

type vmChecks struct{ pass, fail, info []string }

// parseVMChecks sorts the scenario's "PASS auth/name", "FAIL auth/name: why"
// and "IPERF auth dir n Mbit/s" lines by method.
func parseVMChecks(out []byte) map[string]*vmChecks {
	m := make(map[string]*vmChecks)
	get := func(auth string) *vmChecks {
		if m[auth] == nil {
			m[auth] = new(vmChecks)
		}
		return m[auth]
	}
	for _, line := range strings.Split(string(out), "\n") {
		kind, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		auth, _, _ := strings.Cut(rest, "/")
		switch kind {
		case "PASS":
			get(auth).pass = append(get(auth).pass, rest)
		case "FAIL":
			get(auth).fail = append(get(auth).fail, rest)
		case "IPERF", "RATE":
			auth, _, _ = strings.Cut(rest, " ")
			get(auth).info = append(get(auth).info, fmt.Sprintf("%s %s", strings.ToLower(kind), rest))
		}
	}
	return m
}
