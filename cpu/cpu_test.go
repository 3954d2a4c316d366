package cpu

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
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

// A steady beat reads the online CPUs and the counters it reports, not
// every CPU's topology: while the CPUs listed and the online ones are the
// same, they come from the cache. A CPU taken offline changes both, and the
// CPUs are found afresh.
func TestTopologyCached(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree")
	cpuDir := root + "/devices/system/cpu"
	os.WriteFile(cpuDir+"/online", []byte("0-3\n"), 0o444)
	fs, err := NewFS(root, true)
	if err != nil {
		t.Fatal(err)
	}
	var reads []string
	fs.read = func(path string, buf []byte) ([]byte, error) {
		reads = append(reads, strings.TrimPrefix(path, cpuDir))
		return sysread.ReadFile(path, buf)
	}
	cache := sysfstest.MemCache{}
	req := &thermal.Request{Cache: cache}
	show := func() string {
		t.Helper()
		reads = nil
		chips, err := fs.Read(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, c := range chips {
			fmt.Fprintf(&b, "%s %v;", c.Name, c.Series)
		}
		return b.String()
	}
	first := show()
	if got := show(); got != first {
		t.Errorf("steady beat:\n%s\nfirst:\n%s", got, first)
	}
	for _, r := range reads {
		if strings.Contains(r, "/topology/") || r != "/online" && !strings.Contains(r, "_throttle_") {
			t.Errorf("steady beat read %s", r)
		}
	}
	// cpu3 goes offline: its counters go, and the online list changes.
	if err := os.RemoveAll(cpuDir + "/cpu3/thermal_throttle"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cpuDir+"/online", []byte("0-2\n"), 0o444)
	if got := show(); got == first || strings.Contains(got, "cpu3 ") {
		t.Errorf("after cpu3 went offline: %s", got)
	}
	cache[topologyKey] = []byte(topologyMagic + "garbage\n")
	if got := show(); strings.Contains(got, "cpu3 ") || got == "" {
		t.Errorf("after a corrupt entry: %s", got)
	}
	if _, ok := decodeTopology(cache[topologyKey], 1, "x", cpuDir); ok {
		t.Error("a topology decoded under another fingerprint")
	}
}

// A CPU brought online before its counters exist (the kernel makes the
// thermal_throttle group after it marks the CPU online) is not cached as
// having none: the next beat finds it. A long online list (SMT off, CPUs
// taken offline one by one) is read whole.
func TestTopologyWaitsForCountersAndReadsLongOnlineLists(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree")
	cpuDir := root + "/devices/system/cpu"
	fs, err := NewFS(root, true)
	if err != nil {
		t.Fatal(err)
	}
	cache := sysfstest.MemCache{}
	req := &thermal.Request{Cache: cache}
	names := func() string {
		t.Helper()
		chips, err := fs.Read(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range chips {
			out = append(out, c.Name)
		}
		return strings.Join(out, " ")
	}
	os.WriteFile(cpuDir+"/online", []byte("0-3\n"), 0o444)
	os.Rename(cpuDir+"/cpu3/thermal_throttle", cpuDir+"/cpu3/thermal_throttle.later")
	if got := names(); strings.Contains(got, "cpu3") {
		t.Errorf("cpu3 without counters reported: %s", got)
	}
	if cache[topologyKey] != nil {
		t.Errorf("a topology with an online CPU missing its counters was cached: %q", cache[topologyKey])
	}
	os.Rename(cpuDir+"/cpu3/thermal_throttle.later", cpuDir+"/cpu3/thermal_throttle")
	if got := names(); !strings.Contains(got, "cpu3") {
		t.Errorf("cpu3 with its counters since: %s", got)
	}
	// Online: 0-3 and a hundred more CPUs, every other number: a list of
	// over 256 bytes. Taking cpu3 offline changes only its start.
	var long strings.Builder
	long.WriteString("0-3")
	for n := 100; n < 300; n += 2 {
		fmt.Fprintf(&long, ",%d", n)
		d := fmt.Sprintf("%s/cpu%d", cpuDir, n)
		os.MkdirAll(d+"/thermal_throttle", 0o755)
		os.MkdirAll(d+"/topology", 0o755)
		os.WriteFile(d+"/thermal_throttle/package_throttle_count", []byte("0\n"), 0o444)
		os.WriteFile(d+"/thermal_throttle/core_throttle_count", []byte("0\n"), 0o444)
		os.WriteFile(d+"/topology/physical_package_id", []byte("0\n"), 0o444)
		os.WriteFile(d+"/topology/core_id", []byte(fmt.Sprintf("%d\n", n)), 0o444)
	}
	os.WriteFile(cpuDir+"/online", []byte(long.String()+"\n"), 0o444)
	names()
	if !strings.Contains(string(cache[topologyKey]), ",298") {
		t.Fatalf("the long online list is not what was cached: %q", cache[topologyKey])
	}
	os.Rename(cpuDir+"/cpu3/thermal_throttle", cpuDir+"/cpu3/thermal_throttle.off")
	os.WriteFile(cpuDir+"/online", []byte("0-2"+long.String()[3:]+"\n"), 0o444)
	if got := names(); strings.Contains(got, "cpu3 ") || strings.HasSuffix(got, "cpu3") {
		t.Errorf("cpu3, offline since, reported: %s", got)
	}
}

// settled takes the kernel's range lists.
func TestSettled(t *testing.T) {
	cpus := []logical{{n: 0}, {n: 1}, {n: 2}, {n: 5}}
	for online, want := range map[string]bool{"0-2,5": true, "0-2": true, "0-3": false, "0-2,5-6": false, "": true, "x": false, "3-1": false, "0,1,2,5": true} {
		if got := settled(cpus, online); got != want {
			t.Errorf("settled(%q) = %v, want %v", online, got, want)
		}
	}
	if !settled(nil, "0-7") {
		t.Error("a kernel without counters is not settled")
	}
}
