package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

func TestCheck(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/intel-server.tree")
	code, out, stderr := runThermal(t, "check", "--sysfs", root)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkGolden(t, "intel-server.check.txt", out)

	bad := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(bad, []byte("[[rule]]\nchip = \"coretemp-*\"\nwarning = 90.0\ncritical = 80.0\n"), 0o644)
	code, _, stderr = runThermal(t, "check", "--sysfs", root, "--config", bad)
	if code != exitUsage || stderr != "thermal check: "+bad+":3: rule 1: warning 90 °C must be below critical 80 °C\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runThermal(t, "beat", "--dry-run", "--sysfs", root, "--config", filepath.Join(t.TempDir(), "missing.toml"))
	// A beat goes on with the last good (here the built-in) configuration,
	// says why, and exits 1.
	if code != exitFail || !strings.Contains(stderr, "missing.toml: no such file or directory") {
		t.Errorf("missing explicit config: exit %d, stderr %q", code, stderr)
	}
}

// TestProbeTOMLIsAcceptedByCheck: the starter file goes through check
// unchanged and yields the same thresholds, now from the file.
func TestProbeTOMLIsAcceptedByCheck(t *testing.T) {
	for _, tree := range fixtures(t) {
		t.Run(treeName(tree), func(t *testing.T) {
			root := sysfstest.UnpackFile(t, tree)
			code, starter, stderr := runThermal(t, "probe", "--toml", "--sysfs", root)
			if code != exitOK {
				t.Fatalf("probe --toml: exit %d: %s", code, stderr)
			}
			path := filepath.Join(t.TempDir(), "thermal.toml")
			os.WriteFile(path, []byte(starter), 0o644)
			code, out, stderr := runThermal(t, "check", "--sysfs", root, "--config", path)
			if code != exitOK {
				t.Fatalf("check rejects the starter file: %s\n%s", stderr, starter)
			}
			code1, before, _ := runThermal(t, "beat", "--dry-run", "--sysfs", root)
			code2, after, _ := runThermal(t, "beat", "--dry-run", "--sysfs", root, "--config", path)
			if code1 != exitOK || code2 != exitOK || !strings.Contains(before, "node_thermal_threshold_celsius") {
				t.Fatalf("dry runs exit %d and %d, thresholds present: %v", code1, code2, strings.Contains(before, "node_thermal_threshold_celsius"))
			}
			pick := func(s string) string {
				var keep []string
				for _, l := range strings.Split(s, "\n") {
					if strings.HasPrefix(l, "node_thermal_threshold_celsius") {
						keep = append(keep, l)
					}
				}
				return strings.Join(keep, "\n")
			}
			if pick(before) != pick(after) {
				t.Errorf("thresholds change under the starter file:\n%s", diffLines(pick(before), pick(after)))
			}
			// A quiet first day: the super-I/O's unwired inputs and the
			// faulted diode are ignored, so they neither count as read
			// errors nor breach.
			for _, bogus := range []string{`sensor="AUXTIN0"`, `sensor="AUXTIN1"`, `sensor="AUXTIN2"`, `chip="tmp421-i2c-0-4c",sensor="temp2"`} {
				if strings.Contains(after, bogus) {
					t.Errorf("the starter file does not ignore %s", bogus)
				}
			}
			if strings.Contains(out, "built-in rule ") {
				t.Errorf("check still uses built-in rules with the starter file:\n%s", out)
			}
		})
	}
}

// Renaming two sensors alike must not cost the textfile (a registry refuses
// duplicate series): the second becomes "Core (temp3)".
func TestCollidingLabelsStillWriteTheTextfile(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/intel-server.tree")
	path := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(path, []byte("[[label]]\nchip = \"coretemp-*\"\nsensor = \"Core *\"\nas = \"Core\"\n"), 0o644)
	dir := t.TempDir()
	code, _, stderr := runThermal(t, "beat", "--sysfs", root, "--config", path, "--textfile-dir", dir, "--state-dir", t.TempDir())
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "thermal.prom"))
	for _, want := range []string{
		`node_thermal_celsius{chip="coretemp-isa-0000",sensor="Core",source="hwmon"} 43`,
		`node_thermal_celsius{chip="coretemp-isa-0000",sensor="Core (temp3)",source="hwmon"} 44`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("textfile lacks %s", want)
		}
	}
}

func TestIgnoreAndLabel(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/intel-server.tree")
	path := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(path, []byte(`
[[ignore]]
chip = "nct6798-*"
sensor = "AUXTIN*"

[[ignore]]
chip = "iwlwifi_1-*"

[[label]]
chip = "nct6798-*"
sensor = "SYSTIN"
as = "Motherboard"

[[rule]]
chip = "nct6798-*"
sensor = "Motherboard"
warning = 30.0
`), 0o644)
	code, out, stderr := runThermal(t, "beat", "--dry-run", "--sysfs", root, "--config", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, absent := range []string{"AUXTIN", "iwlwifi_1-virtual-0", `sensor="SYSTIN"`} {
		if strings.Contains(out, absent) {
			t.Errorf("output still has %s", absent)
		}
	}
	for _, present := range []string{
		`node_thermal_celsius{chip="nct6798-isa-0290",sensor="Motherboard",source="hwmon"} 35`,
		`node_thermal_threshold_celsius{chip="nct6798-isa-0290",level="warning",sensor="Motherboard",source="hwmon"} 30`,
		// The ignored AUXTIN1 (-62 °C) is not counted as an error any more;
		// PCH_CHIP_TEMP (unreadable) and fan5 (faulted) are.
		`node_thermal_read_errors{chip="nct6798-isa-0290",source="hwmon"} 2`,
		// With for = 1m the 35 °C breach of 30 °C is pending, not firing.
		`node_thermal_alert{chip="nct6798-isa-0290",level="warning",sensor="Motherboard",source="hwmon"} 0`,
	} {
		if !strings.Contains(out, present) {
			t.Errorf("output lacks %s", present)
		}
	}
}

// lm-sensors files that would hang the beat (a FIFO, /dev/zero) are
// refused: the beat goes on with the built-in configuration, writes its
// textfile with node_thermal_config_valid 0 and exits 1, and check names
// the file and line (issue 18 #7).
func TestUnboundedLMSensorsFilesDoNotHangTheBeat(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/intel-server.tree")
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, target := range []string{"/dev/zero", fifo} {
		cfg := filepath.Join(dir, "thermal.toml")
		os.WriteFile(cfg, []byte("[lm_sensors]\nconfig = \""+target+"\"\n"), 0o644)
		textfile := t.TempDir()
		done := make(chan struct{})
		var code int
		var stderr string
		go func() {
			defer close(done)
			code, _, stderr = runThermal(t, "beat", "--sysfs", root, "--config", cfg, "--textfile-dir", textfile, "--state-dir", t.TempDir())
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("[lm_sensors] config = %q: the beat hung", target)
		}
		prom, _ := os.ReadFile(filepath.Join(textfile, "thermal.prom"))
		if code != exitFail || !strings.Contains(stderr, target+": not a regular file") || !strings.Contains(string(prom), "node_thermal_config_valid 0") {
			t.Errorf("%s: exit %d, stderr %q, textfile written: %v", target, code, stderr, len(prom) > 0)
		}
		if code, _, stderr := runThermal(t, "check", "--sysfs", root, "--config", cfg); code != exitUsage || !strings.Contains(stderr, "thermal.toml:2: lm_sensors: "+target+": not a regular file") {
			t.Errorf("check %s: exit %d, %q", target, code, stderr)
		}
	}
}
