package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// pppoedBin is the pppoed binary the integration tests run, built like a
// release (CGO_ENABLED=0, -trimpath) by integrationMain. Empty when not root.
var pppoedBin string

// integrationMain builds the binary for the root-only integration tests,
// runs the tests and removes the binary.
func integrationMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "pppoed-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	pppoedBin = filepath.Join(dir, "pppoed")
	cmd := exec.Command("go", "build", "-trimpath", "-o", pppoedBin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building pppoed for the integration tests: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}
