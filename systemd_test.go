package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit checks systemd/pppoed.service with systemd-analyze
// verify, pointed at a pppoed binary that exists: any complaint fails it.
func TestSystemdUnit(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		skipf(t, "systemd-analyze is not installed (make test installs Debian's systemd)")
	}
	unit, err := os.ReadFile("systemd/pppoed.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=simple", "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID", "ExecStart=/usr/sbin/pppoed "} {
		if !strings.Contains(string(unit), "\n"+want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	bin, err := os.Executable() // any executable will do for verify
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "pppoed.service")
	writeTestFile(t, p, strings.ReplaceAll(string(unit), "/usr/sbin/pppoed", bin))
	out, err := exec.Command(sa, "verify", p).CombinedOutput()
	// verify also reads the units ours pulls in; what it says of those
	// (another package's) is not ours to mend.
	var ours []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "pppoed.service") {
			ours = append(ours, line)
		}
	}
	if err != nil || len(ours) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
