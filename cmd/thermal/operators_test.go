package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

// A heartbeat that can never page does not look healthy: check validates
// SENTRY_DSN and THERMAL_CHECKIN_URL (exit 2, naming the variable; an
// inline comment kept by EnvironmentFile= is caught), and a beat with a
// malformed one exits 1 having written its textfile (issue 19 #3, #4).
func TestMalformedDeliveryIsAnError(t *testing.T) {
	root := sysfstest.UnpackString(t, hotFixture)
	for _, tc := range []struct {
		name, dsn, url, want string
	}{
		{"a DSN without a key", "https://sentry.example/1", "", "SENTRY_DSN: sentry: SENTRY_DSN must look like"},
		{"a DSN with a project name", "https://k@sentry.example/web", "", "SENTRY_DSN: sentry: SENTRY_DSN: the project (\"web\") must be a number"},
		{"an inline comment", "", "https://hc-ping.com/0f1e2d3c{fail}     # optional", `THERMAL_CHECKIN_URL: it holds " " at byte 34 (a comment after the value?`},
		{"no scheme", "", "hc-ping.com/0f1e2d3c", "THERMAL_CHECKIN_URL: want an http:// or https:// URL with a host"},
	} {
		t.Setenv("SENTRY_DSN", tc.dsn)
		t.Setenv("THERMAL_CHECKIN_URL", tc.url)
		code, out, stderr := runThermal(t, "check", "--sysfs", root)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("check, %s: exit %d, stderr %q; want 2 and %q", tc.name, code, stderr, tc.want)
		}
		if !strings.Contains(out, "OK (") {
			t.Errorf("check, %s: the file's verdict is missing:\n%s", tc.name, out)
		}
		textfile := t.TempDir()
		code, _, stderr = runThermal(t, "beat", "--sysfs", root, "--textfile-dir", textfile)
		if _, err := os.Stat(filepath.Join(textfile, "thermal.prom")); code != exitFail || err != nil || !strings.Contains(stderr, "malformed") {
			t.Errorf("beat, %s: exit %d (textfile: %v), stderr %q; want 1, the textfile, and why", tc.name, code, err, stderr)
		}
	}
	t.Setenv("SENTRY_DSN", "https://k@sentry.example/1")
	t.Setenv("THERMAL_CHECKIN_URL", "https://hc-ping.com/0f1e2d3c{fail}")
	if code, out, _ := runThermal(t, "check", "--sysfs", root, "--timeout", time.Second.String()); code != exitOK ||
		!strings.Contains(out, "delivery: SENTRY_DSN and THERMAL_CHECKIN_URL set and well-formed") {
		t.Errorf("well-formed: exit %d\n%s", code, out)
	}
}

// A fixture run opens no device node of this host: with --sysfs and no
// --dev, the controllers of the fixture are read through their hwmon
// chips, and say why; a dev directory beside the tree is the tree's own
// (issue 19 #5).
func TestFixtureRunOpensNoHostDevice(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/intel-server.tree")
	var out, errb strings.Builder
	code := run([]string{"probe", "--json", "--sysfs", root, "--config", "builtin"}, env{stdout: &out, stderr: &errb, now: fixedNow})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var inv []map[string]any
	if err := json.Unmarshal([]byte(out.String()), &inv); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range inv {
		if c["source"] != "nvme" {
			continue
		}
		n++
		facts, _ := c["nvme"].(map[string]any)
		if via := facts["read_via"]; via != "hwmon" || !strings.Contains(fmt.Sprint(facts["fallback"]), "no device directory") {
			t.Errorf("%s: read via %v (%v); want hwmon, because no device directory was given", c["chip"], via, facts["fallback"])
		}
	}
	if n == 0 {
		t.Fatal("the fixture has no NVMe controller")
	}
}

// A misspelled flag says so and points at --help in one more line, exit
// 2; --help is wrapped at 80 columns (issue 19 #6).
func TestUsageMessages(t *testing.T) {
	for _, cmd := range []string{"beat", "probe", "check"} {
		var out, errb strings.Builder
		code := run([]string{cmd, "--bogus"}, env{stdout: &out, stderr: &errb, now: fixedNow})
		if want := "flag provided but not defined: -bogus\nrun 'thermal " + cmd + " --help' for its flags\n"; code != exitUsage || errb.String() != want {
			t.Errorf("%s --bogus: exit %d, stderr %q; want 2 and %q", cmd, code, errb.String(), want)
		}
		out.Reset()
		if code := run([]string{cmd, "--help"}, env{stdout: &out, stderr: &errb, now: fixedNow}); code != exitOK || !strings.Contains(out.String(), "-timeout") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, out.String())
		}
		for _, l := range strings.Split(out.String(), "\n") {
			if n := utf8.RuneCountInString(l); n > 80 {
				t.Errorf("%s --help: a line of %d columns: %q", cmd, n, l)
			}
		}
	}
}

// A state directory whose lock cannot be made (here the lock's name is a
// directory; a read-only mount is the same to the beat) is not blamed on
// another beat: the message says what happened (issue 19 #6).
func TestUnlockableStateSaysWhy(t *testing.T) {
	root := sysfstest.UnpackString(t, hotFixture)
	stateDir := t.TempDir()
	os.Mkdir(filepath.Join(stateDir, "state.json.lock"), 0o755)
	code, _, stderr := runThermal(t, "beat", "--sysfs", root, "--state-dir", stateDir)
	if code != exitOK || !strings.Contains(stderr, "the state directory cannot be locked") || strings.Contains(stderr, "another beat") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// probe of a tree that is not there says so and exits 1, with no table of
// "0 problems" (issue 19 #6).
func TestProbeOfNothing(t *testing.T) {
	code, out, stderr := runThermal(t, "probe", "--sysfs", "/nonexistent")
	if code != exitFail || out != "" || !strings.Contains(stderr, "/nonexistent: no such file or directory (is --sysfs the sysfs mount point?)") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// Fans and throttle counters are shown in their units, not as °C: in
// check (RPM, events; the check golden) and in probe --json, whose fan and
// throttle thresholds carry no "celsius": 0 (issue 19 #2).
func TestKindsAreNotTemperatures(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/intel-server.tree")
	_, out, _ := runThermal(t, "probe", "--json", "--sysfs", root)
	var inv []probeChip
	if err := json.Unmarshal([]byte(out), &inv); err != nil {
		t.Fatal(err)
	}
	kinds := 0
	for _, c := range inv {
		for _, s := range c.Sensors {
			for _, th := range s.Thresholds {
				if th.Kind != "" {
					kinds++
					if th.Celsius != nil || th.Hysteresis != nil {
						t.Errorf("%s %s: a %s threshold with °C: %+v", c.Chip, s.Name, th.Kind, th)
					}
				} else if th.Celsius == nil {
					t.Errorf("%s %s: a temperature threshold without °C", c.Chip, s.Name)
				}
			}
		}
	}
	if kinds == 0 {
		t.Fatal("no fan or throttle threshold in the fixture")
	}
	_, check, _ := runThermal(t, "check", "--sysfs", root)
	if !strings.Contains(check, "1187 RPM") || !strings.Contains(check, "5 events") || strings.Contains(check, "1.187") {
		t.Errorf("check shows fans or throttle counts as temperatures:\n%s", check)
	}
}
