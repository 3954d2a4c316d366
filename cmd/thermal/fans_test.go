package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// fanFixture: a super-I/O with one fan spinning (fan1 at RPM), an
// unplugged header (fan2, always 0), a CPU package temperature, and the
// package's throttle count.
func fanFixture(t *testing.T, rpm, throttles string) string {
	return sysfstest.UnpackString(t, `
cd /devices/platform/nct6775.656
l subsystem -> /bus/platform
hwmon hwmon1 /devices/platform/nct6775.656
f name nct6798
f temp1_input 35000
f fan1_input `+rpm+`
f fan2_input 0
cd /devices/platform/coretemp.0
l subsystem -> /bus/platform
hwmon hwmon0 /devices/platform/coretemp.0
f name coretemp
f temp1_label Package id 0
f temp1_input 97000
cd /devices/system/cpu/cpu0
f topology/physical_package_id 0
f topology/core_id 0
f thermal_throttle/package_throttle_count `+throttles+`
f thermal_throttle/core_throttle_count 0
`)
}

// A fan that stops after it was seen spinning pages (a header that always
// read 0 does not); a CPU package whose throttle count keeps growing pages,
// naming the chip, the count and the package's temperature. Both clear.
func TestFanAndThrottleBreaches(t *testing.T) {
	srv := newSentry(t, "11")
	cfg := t.TempDir() + "/thermal.toml"
	writeFile(t, cfg, `
[[rule]]
kind = "fan"
level = "critical"
for = "0s"

[[rule]]
kind = "throttle"
source = "cpu"
for = "0s"
`)
	stateDir := t.TempDir()
	beatWith := func(at time.Time, root string) string {
		code, stderr := beatAt(t, at, "--sysfs", root, "--dev", noDev, "--config", cfg, "--textfile-dir", t.TempDir(), "--state-dir", stateDir)
		if code != exitOK {
			t.Fatalf("beat: exit %d: %s", code, stderr)
		}
		return stderr
	}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	beatWith(t0, fanFixture(t, "1200", "5"))                     // spinning; first count
	beatWith(t0.Add(30*time.Second), fanFixture(t, "0", "7"))    // stopped; 2 more events
	beatWith(t0.Add(60*time.Second), fanFixture(t, "1100", "7")) // spins again; no more events
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var msgs []string
	for _, ev := range srv.events {
		msgs = append(msgs, ev["level"].(string)+" "+ev["message"].(string))
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"error " + hostname() + ": fan fan1 of nct6798-isa-0290 failed: stopped after it was seen spinning, 0 RPM",
		"warning " + hostname() + ": package0 keeps throttling for heat",
		"7 thermal throttle events, 2 since the last beat; coretemp-isa-0000 Package id 0 at 97 °C",
		"info " + hostname() + ": nct6798-isa-0290 fan1 works again (1100 RPM)",
		"info " + hostname() + ": package0 stopped throttling for heat",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("events lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "fan2") {
		t.Errorf("the unplugged header paged:\n%s", all)
	}
	for _, ev := range srv.events {
		tags, _ := ev["tags"].(map[string]any)
		if tags["sensor"] != "fan1" && tags["sensor"] != "throttling" {
			continue // the package's own temperature breach
		}
		if tags["kind"] == nil || tags["celsius"] != nil {
			t.Errorf("tags %v: want kind, no celsius", tags)
		}
	}
}
