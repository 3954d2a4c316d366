package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

func need(t *testing.T) { testenv.Need(t, "systemd-analyze") }

// TestIntegrationUnitsVerify runs systemd-analyze verify on both units, with
// ExecStart pointed at an executable that exists here.
func TestIntegrationUnitsVerify(t *testing.T) {
	need(t)
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, unit := range []string{"thermal-heartbeat.service", "thermal-heartbeat.timer"} {
		b, err := os.ReadFile(unit)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "/usr/local/bin/thermal", self)
		if err := os.WriteFile(filepath.Join(dir, unit), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("systemd-analyze", "verify", "--man=no",
		filepath.Join(dir, "thermal-heartbeat.service"), filepath.Join(dir, "thermal-heartbeat.timer"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestIntegrationTimerFiresEvery30s checks the calendar expression with
// systemd's own parser.
func TestIntegrationTimerFiresEvery30s(t *testing.T) {
	need(t)
	b, err := os.ReadFile("thermal-heartbeat.timer")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"OnCalendar=*:*:0/30\n", "AccuracySec=1s\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("timer lacks %q", want)
		}
	}
	out, err := exec.Command("systemd-analyze", "calendar", "--iterations=3", "*:*:0/30").CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze calendar: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Normalized form: *-*-* *:*:00/30") {
		t.Errorf("unexpected calendar normalisation:\n%s", out)
	}
}
