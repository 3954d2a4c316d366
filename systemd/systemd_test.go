package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
	for _, want := range []string{"OnCalendar=*:*:0/30\n", "AccuracySec=1s\n", "RandomizedDelaySec=5s\n", "FixedRandomDelay=yes\n"} {
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

// TestIntegrationUnitExposure keeps systemd-analyze security's exposure
// score of the service at or under 2.5 (it was 2.6 before MemoryMax=,
// TasksMax= and ProtectProc=; CAP_SYS_RAWIO for the drives cost 0.2, won
// back with UMask=0077 and PrivateMounts=), and the hardening and device access this
// project relies on in place.
func TestIntegrationUnitExposure(t *testing.T) {
	need(t)
	b, err := os.ReadFile("thermal-heartbeat.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MemoryMax=", "TasksMax=", "ProtectProc=invisible", "CapabilityBoundingSet=CAP_SYS_ADMIN CAP_SYS_RAWIO\n", "DeviceAllow=block-sd r\n", "DeviceAllow=char-ipmidev r\n", "UMask=0077\n",
		"DeviceAllow=/dev/nvidiactl rw\n", "DeviceAllow=char-nvidia-frontend rw\n",
		"ReadWritePaths=/var/lib/prometheus/node-exporter\n", "--textfile-dir /var/lib/prometheus/node-exporter\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("service lacks %q", want)
		}
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=yes", "--no-pager", "thermal-heartbeat.service").CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for thermal-heartbeat.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	if score, _ := strconv.ParseFloat(string(m[1]), 64); score > 2.5 {
		t.Errorf("exposure %v, want at most 2.5:\n%s", score, out)
	}
}

// A read stuck in the kernel keeps the beat's process alive after it has
// written its textfile and checked in (an uninterruptible syscall cannot be
// abandoned by exiting). The unit's settings bound that: a oneshot is
// active until the process is gone, and a timer never starts a unit that is
// still active, so the next ticks are skipped, not stacked; TimeoutStartSec
// ends the attempt before the next tick is due, and the default KillMode
// (control-group) takes the NVML helper with it; the beat's own --timeout
// (default 5 s, reading and delivery each) fits inside TimeoutStartSec
// (issue 18).
func TestUnitBoundsAHungBeat(t *testing.T) {
	b, err := os.ReadFile("thermal-heartbeat.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			keys[k] = v
		}
	}
	if keys["Type"] != "oneshot" {
		t.Errorf("Type=%s; a oneshot keeps a stuck beat's unit active, so that the timer skips, not stacks", keys["Type"])
	}
	if km := keys["KillMode"]; km != "" && km != "control-group" {
		t.Errorf("KillMode=%s; the helper children must go with the beat", km)
	}
	timeout, err := strconv.Atoi(strings.TrimSuffix(keys["TimeoutStartSec"], "s"))
	if err != nil || timeout >= 30 || timeout < 3*5 {
		t.Errorf("TimeoutStartSec=%s; want under the timer's 30 s and over the beat's own bounds (reading, the state lock and delivery, 5 s each)", keys["TimeoutStartSec"])
	}
	if strings.Contains(keys["ExecStart"], "--timeout") {
		t.Errorf("ExecStart=%s; the default --timeout is what TimeoutStartSec is sized for", keys["ExecStart"])
	}
}
