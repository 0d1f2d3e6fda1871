package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The pppoed binary the integration tests run is built on first use, like
// a release (CGO_ENABLED=0, -trimpath), so unit runs and fuzz workers do
// not pay for it.
var (
	binOnce  sync.Once
	binDir   string
	binPath  string
	binError error
)

func pppoedBinary() (string, error) {
	binOnce.Do(func() {
		binDir, binError = os.MkdirTemp("", "pppoed-test-")
		if binError != nil {
			return
		}
		binPath = filepath.Join(binDir, "pppoed")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binError = fmt.Errorf("building pppoed for the integration tests: %v\n%s", err, out)
		}
	})
	return binPath, binError
}

// integrationMain runs the tests and removes the binary afterwards.
func integrationMain(m *testing.M) int {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	return code
}
