// Package testenv holds what several packages' tests share: whether an
// integration test can run here (Need) and a free local address
// (FreeAddr). Tests only: no product code imports it.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Need skips an integration test under -short, and when a tool (or "root")
// is missing. With THERMAL_INTEGRATION=require, as make test and CI set it,
// a missing tool fails the test instead: CI must not pass by skipping.
func Need(tb testing.TB, tools ...string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("integration test; skipped with -short")
	}
	skip := tb.Skipf
	if os.Getenv("THERMAL_INTEGRATION") == "require" {
		skip = tb.Fatalf
	}
	for _, tool := range tools {
		if tool == "root" {
			if os.Geteuid() != 0 {
				skip("needs root")
			}
			continue
		}
		if _, err := exec.LookPath(tool); err != nil {
			skip("%s not installed (make deps installs it)", tool)
		}
	}
}
