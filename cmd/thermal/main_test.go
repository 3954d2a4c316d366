package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/thermal-heartbeat/thermal/internal/golden"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// noDev is the --dev of fixture runs: a directory that does not exist.
const noDev = "/nonexistent-dev"

// fixedNow is the clock of every golden run: durations come out as 0.
func fixedNow() time.Time { return time.Unix(1763731200, 0) }

// runThermal runs the command in-process and returns its exit code, stdout
// and stderr.
func runThermal(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if len(args) > 0 && args[0] != "version" && !slices.Contains(args, "--dev") {
		// Fixture trees have no device nodes; never reach this machine's.
		args = append(args, "--dev", noDev)
	}
	if len(args) > 0 && args[0] != "version" && !slices.Contains(args, "--config") {
		// Hermetic: the built-in defaults, whatever this machine has in /etc.
		args = append(args, "--config", "builtin")
	}
	if len(args) > 0 && args[0] == "beat" && !slices.Contains(args, "--help") {
		// Hermetic: never the host's /var/lib/thermal-heartbeat (a dry run
		// reads the state too) or its textfile directory.
		if !slices.Contains(args, "--state-dir") {
			args = append(args, "--state-dir", t.TempDir())
		}
		if !slices.Contains(args, "--textfile-dir") {
			args = append(args, "--textfile-dir", t.TempDir())
		}
	}
	code := run(args, env{stdout: &out, stderr: &errb, now: fixedNow})
	return code, out.String(), errb.String()
}

func fixtures(t *testing.T) []string {
	t.Helper()
	trees, err := filepath.Glob("../../testdata/sysfs/*.tree")
	if err != nil || len(trees) == 0 {
		t.Fatalf("no fixture trees: %v", err)
	}
	return trees
}

func treeName(path string) string { return strings.TrimSuffix(filepath.Base(path), ".tree") }

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("../../testdata/golden", name), got, *update)
}

func diffLines(want, got string) string { return golden.Diff(want, got) }

func TestBeatDryRunGolden(t *testing.T) {
	for _, tree := range fixtures(t) {
		t.Run(treeName(tree), func(t *testing.T) {
			root := sysfstest.UnpackFile(t, tree)
			code, out, stderr := runThermal(t, "beat", "--dry-run", "--sysfs", root)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			checkGolden(t, treeName(tree)+".prom", out)
		})
	}
}

func TestProbeGolden(t *testing.T) {
	for _, tree := range fixtures(t) {
		t.Run(treeName(tree), func(t *testing.T) {
			root := sysfstest.UnpackFile(t, tree)
			for _, tc := range []struct{ suffix, flag string }{{".probe.txt", ""}, {".probe.wide.txt", "--wide"}, {".probe.json", "--json"}} {
				args := []string{"probe", "--sysfs", root}
				if tc.flag != "" {
					args = append(args, tc.flag)
				}
				code, out, stderr := runThermal(t, args...)
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				checkGolden(t, treeName(tree)+tc.suffix, strings.ReplaceAll(out, root, "/sys"))
				if tc.flag == "" {
					for _, line := range strings.Split(out, "\n") {
						if n := utf8.RuneCountInString(line); n > 80 && !strings.Contains(line, root) {
							t.Errorf("a line of %d columns: %q", n, line)
						}
					}
				}
			}
		})
	}
}

func TestBeatWritesTextfile(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/intel-server.tree")
	dir := t.TempDir()
	code, out, stderr := runThermal(t, "beat", "--sysfs", root, "--textfile-dir", dir, "--state-dir", t.TempDir())
	if code != exitOK || out != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want a quiet success", code, out, stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "thermal.prom"))
	if err != nil {
		t.Fatal(err)
	}
	_, dry, _ := runThermal(t, "beat", "--dry-run", "--sysfs", root)
	if string(got) != dry {
		t.Errorf("textfile and --dry-run differ:\n%s", diffLines(dry, string(got)))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("textfile directory holds %d entries, want thermal.prom only", len(entries))
	}
}

func TestBeatDryRunTouchesNothing(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/qemu-6.1.tree")
	dir, state := t.TempDir(), t.TempDir()
	if code, _, stderr := runThermal(t, "beat", "--dry-run", "--sysfs", root, "--textfile-dir", dir, "--state-dir", state); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, d := range []string{dir, state} {
		if entries, _ := os.ReadDir(d); len(entries) != 0 {
			t.Errorf("--dry-run wrote into %s", d)
		}
	}
}

func TestBeatWithoutSensorsStillBeats(t *testing.T) {
	code, out, stderr := runThermal(t, "beat", "--dry-run", "--sysfs", t.TempDir())
	if code != exitOK || !strings.Contains(stderr, "no sensors found on this host") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "node_thermal_heartbeat_seconds 1.7637312e+09\n") || strings.Contains(out, "node_thermal_celsius") {
		t.Errorf("want a heartbeat and no readings, got:\n%s", out)
	}
}

func TestExitCodes(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/qemu-6.1.tree")
	for _, tc := range []struct {
		desc   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", nil, exitUsage, "usage: thermal"},
		{"unknown command", []string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{"unknown flag", []string{"beat", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{"stray argument", []string{"beat", "extra"}, exitUsage, `unexpected argument "extra"`},
		{"bad timeout", []string{"beat", "--timeout", "0s"}, exitUsage, "--timeout must be positive"},
		{"unparsable timeout", []string{"probe", "--timeout", "soon"}, exitUsage, "invalid value"},
		{"missing textfile dir", []string{"beat", "--sysfs", root, "--textfile-dir", "/nonexistent/dir"}, exitFail,
			"textfile directory /nonexistent/dir does not exist"},
		{"version", []string{"version"}, exitOK, ""},
		{"version --json", []string{"version", "--json"}, exitOK, ""},
		{"version with a stray flag", []string{"version", "--bogus"}, exitUsage, "unexpected argument"},
		{"beat --help", []string{"beat", "--help"}, exitOK, ""},
		{"probe -h", []string{"probe", "-h"}, exitOK, ""},
		{"check --help", []string{"check", "--help"}, exitOK, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			code, _, stderr := runThermal(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

func TestBeatVerboseNamesDroppedSensors(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/intel-server.tree")
	code, _, stderr := runThermal(t, "beat", "--dry-run", "-v", "--sysfs", root)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{`chip=nct6798-isa-0290 sensor=AUXTIN1 err=`, `chip=tmp421-i2c-0-4c sensor=temp2 err=`, "sensor reports a fault"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
