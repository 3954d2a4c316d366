package main

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

// TestMain runs the package's tests without the host's SENTRY_DSN and
// THERMAL_CHECKIN_URL: a test that wants one sets its own.
func TestMain(m *testing.M) {
	testenv.Hermetic()
	os.Exit(m.Run())
}

// The suite is hermetic (issue 19 #1): run as on a host where thermal is
// installed, with SENTRY_DSN and THERMAL_CHECKIN_URL pointing at a live
// endpoint, the tests that beat send that endpoint nothing and leave the
// host's state and textfile as they were.
func TestSuiteLeavesTheHostAlone(t *testing.T) {
	testenv.Need(t)
	if os.Getenv("THERMAL_HERMETIC_CHILD") != "" {
		t.Skip("the child run itself")
	}
	var hits atomic.Int32
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer host.Close()
	stamp := func() map[string]string {
		m := map[string]string{}
		for _, p := range []string{"/var/lib/thermal-heartbeat/state.json", "/var/lib/thermal-heartbeat/thermal.last-good.toml",
			"/var/lib/prometheus/node-exporter/thermal.prom"} {
			if st, err := os.Stat(p); err == nil {
				m[p] = st.ModTime().String()
			}
		}
		return m
	}
	before := stamp()
	cmd := exec.Command(os.Args[0], "-test.run", "^(TestBeatWithoutSensorsStillBeats|TestExitCodes|TestBeatWritesTextfile|TestBeatDryRunGolden|TestSentryCheckInAndBreachEvent|TestCheck)$", "-test.count=1")
	cmd.Env = append(os.Environ(), "THERMAL_HERMETIC_CHILD=1",
		"SENTRY_DSN="+strings.Replace(host.URL, "http://", "http://hostkey@", 1)+"/1", "THERMAL_CHECKIN_URL="+host.URL+"/ping")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tests failed under the host's environment: %v\n%s", err, out)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the tests sent %d requests to the host's Sentry and check-in URL", n)
	}
	if after := stamp(); !maps.Equal(before, after) {
		t.Errorf("the host's state or textfile changed: %v -> %v", before, after)
	}
}
