// Package testenv holds what several packages' tests share: whether an
// integration test can run here (Need), a free local address (FreeAddr),
// and a clean environment (Hermetic). Tests only: no product code imports
// it.
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

// HostVariables are the environment variables a beat reads from the host:
// its credentials and endpoints. A test that inherited them would check in
// for the host's monitor and page its Sentry.
var HostVariables = []string{"SENTRY_DSN", "THERMAL_CHECKIN_URL"}

// Hermetic clears the host's variables from the test process (and so from
// every process it starts), for TestMain: a test that wants one sets its
// own with t.Setenv. The suite then passes on a host where thermal is
// installed and its timer runs, and never talks to that host's Sentry.
func Hermetic() {
	for _, v := range HostVariables {
		os.Unsetenv(v)
	}
}
