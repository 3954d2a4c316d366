package cpu

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

func series(t *testing.T, tree string, perCore bool) []string {
	t.Helper()
	fs, err := NewFS(sysfstest.UnpackFile(t, "../testdata/sysfs/"+tree), perCore)
	if err != nil {
		t.Fatal(err)
	}
	chips, err := fs.Read(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range chips {
		if c.Errors != 0 {
			t.Errorf("%s: %d errors", c.Name, c.Errors)
		}
		for _, s := range c.Series {
			out = append(out, fmt.Sprintf("%s %s %s %g", c.Name, s.Name, s.Labels[0].Value, s.Value))
		}
	}
	sort.Strings(out)
	return out
}

// A 6.x kernel counts and times; one chip per package by default, read
// from its first CPU; an offline CPU is skipped.
func TestPackagesOnNewKernel(t *testing.T) {
	got := series(t, "intel-server.tree", false)
	want := []string{
		"package0 node_thermal_throttle_events_total package 5",
		"package0 node_thermal_throttle_max_seconds package 0.4",
		"package0 node_thermal_throttle_seconds_total package 1.25",
		"package1 node_thermal_throttle_events_total package 0",
		"package1 node_thermal_throttle_max_seconds package 0",
		"package1 node_thermal_throttle_seconds_total package 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s", strings.Join(got, "\n"))
	}
}

// per_core adds one chip per physical core: hyperthread siblings (cpu0 and
// cpu2 share core 0) share the counter and are reported once.
func TestPerCore(t *testing.T) {
	got := strings.Join(series(t, "intel-server.tree", true), "\n")
	for _, want := range []string{"cpu0 node_thermal_throttle_events_total core 12", "cpu1 node_thermal_throttle_events_total core 0",
		"cpu3 node_thermal_throttle_events_total core 0", "cpu0 node_thermal_throttle_seconds_total core 0.34"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if strings.Contains(got, "cpu2 ") {
		t.Error("cpu2, a sibling of cpu0, reported as a core")
	}
}

// Older kernels count only: no time series, no errors.
func TestOldKernelCountsOnly(t *testing.T) {
	got := series(t, "exotic.tree", false)
	if strings.Join(got, "\n") != "package0 node_thermal_throttle_events_total package 1" {
		t.Errorf("got %v", got)
	}
}

// A host without the counters (AMD, a VM) has no cpu chips.
func TestNoCounters(t *testing.T) {
	if got := series(t, "amd-workstation.tree", false); len(got) != 0 {
		t.Errorf("got %v", got)
	}
}
