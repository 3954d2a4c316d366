package nvml_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/envelope"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

// fakeLib builds the C stand-in for libnvidia-ml.so.1 with the given gcc
// flags into its own directory, for LD_LIBRARY_PATH.
func fakeLib(t *testing.T, flags ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"-shared", "-fPIC", "-Wall", "-Werror", "-o", filepath.Join(dir, "libnvidia-ml.so.1")}, flags...)
	args = append(args, "../testdata/nvml/fake_nvml.c")
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return dir
}

var (
	binOnce  sync.Once
	bins     map[string]string
	binsErr  error
	binsLogs string
)

// binaries builds thermal twice: the default build (NVML through purego)
// and the static one (-tags nonvml).
func binaries(t *testing.T) (dynamic, static string) {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "thermal-nvml")
		if err != nil {
			binsErr = err
			return
		}
		bins = map[string]string{"dynamic": filepath.Join(dir, "thermal"), "static": filepath.Join(dir, "thermal-static")}
		for name, tags := range map[string]string{"dynamic": "", "static": "nonvml"} {
			cmd := exec.Command("go", "build", "-tags", tags, "-o", bins[name], "../cmd/thermal")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				binsErr, binsLogs = err, string(out)
				return
			}
		}
	})
	if binsErr != nil {
		t.Fatalf("go build: %v\n%s", binsErr, binsLogs)
	}
	return bins["dynamic"], bins["static"]
}

type run struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

func thermal(t *testing.T, bin, libDir string, env []string, args ...string) run {
	t.Helper()
	if args[0] == "beat" && !slices.Contains(args, "--state-dir") {
		args = append(args, "--state-dir", t.TempDir()) // never the host's
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "LD_LIBRARY_PATH="+libDir), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := run{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func lines(text, prefix string) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			m[l] = true
		}
	}
	return m
}

// The fake NVML, loaded through the real dynamic-loading path by the
// default build: probe and beat report what it reports, no series for what
// a GPU does not report, the lost GPU's failures counted, the sleeping GPU
// never asked, and NVML shut down.
func TestIntegrationFakeNVML(t *testing.T) {
	testenv.Need(t, "gcc", "go")
	dynamic, _ := binaries(t)
	root := sysfstest.UnpackFile(t, "../testdata/nvml/nvidia-gpus.tree")
	lib := fakeLib(t)
	log := filepath.Join(t.TempDir(), "calls")

	r := thermal(t, dynamic, lib, []string{"FAKE_NVML_LOG=" + log}, "probe", "--json", "--sysfs", root, "--dev", "/nonexistent")
	if r.code != 0 {
		t.Fatalf("probe: exit %d: %s", r.code, r.stderr)
	}
	var inv []struct {
		Chip    string
		Status  string `json:"status"`
		Errors  int    `json:"read_errors"`
		NVML    map[string]any
		Sensors []struct {
			Sensor  string
			Celsius *float64
			Max     *float64
			Crit    *float64
			Limits  []struct {
				Limit   string
				Celsius float64
			}
			Thresholds []struct {
				Level   string
				Celsius float64
			}
			Status string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &inv); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	byChip := map[string]int{}
	for i, c := range inv {
		byChip[c.Chip] = i
	}
	a100 := inv[byChip["nvidia-pci-0100"]]
	if a100.NVML["model"] != "NVIDIA A100-SXM4-80GB" || a100.NVML["uuid"] != "GPU-5b3c1f2e-8a7d-4c21-9e0f-1a2b3c4d5e6f" || a100.NVML["slowdown"] != 90.0 {
		t.Errorf("A100 facts %v", a100.NVML)
	}
	if len(a100.Sensors) != 4 || a100.Sensors[2].Sensor != "throttling" || *a100.Sensors[0].Celsius != 54 || *a100.Sensors[1].Celsius != 61 || a100.Sensors[1].Sensor != "Memory" ||
		*a100.Sensors[0].Max != 90 || *a100.Sensors[0].Crit != 95 || len(a100.Sensors[0].Limits) != 1 || a100.Sensors[0].Limits[0].Celsius != 87 {
		t.Errorf("A100 sensors %+v", a100.Sensors)
	}
	if th := a100.Sensors[0].Thresholds; len(th) != 2 || th[0].Celsius != 90 || th[1].Celsius != 95 {
		t.Errorf("A100 thresholds %+v, want warning at slowdown, critical at shutdown", th)
	}
	rtx := inv[byChip["nvidia-pci-0200"]]
	if len(rtx.Sensors) != 7 || rtx.Sensors[0].Sensor != "GPU" || *rtx.Sensors[0].Celsius != 48 || rtx.NVML["memory_max_operating"] != nil {
		t.Errorf("RTX 4090: %+v (no Memory sensor, no memory limit)", rtx)
	}
	if lost := inv[byChip["nvidia-pci-0300"]]; lost.Errors == 0 || lost.Sensors[0].Status != "error" {
		t.Errorf("lost GPU %+v", lost)
	}
	if sleeping := inv[byChip["nvidia-pci-0400"]]; sleeping.Status != "asleep" {
		t.Errorf("suspended GPU %+v", sleeping)
	}
	if _, ok := byChip["nvidia-pci-0101"]; ok {
		t.Error("the GPU's audio function was taken for a GPU")
	}
	calls, _ := os.ReadFile(log)
	if strings.Contains(string(calls), "04:00.0") || !strings.Contains(string(calls), "nvmlShutdown") {
		t.Errorf("calls:\n%s", calls)
	}

	r = thermal(t, dynamic, lib, nil, "beat", "--dry-run", "--sysfs", root, "--dev", "/nonexistent")
	got := lines(r.stdout, "node_thermal_")
	for _, want := range []string{
		`node_thermal_celsius{chip="nvidia-pci-0100",sensor="GPU",source="nvml"} 54`,
		`node_thermal_celsius{chip="nvidia-pci-0100",sensor="Memory",source="nvml"} 61`,
		`node_thermal_celsius{chip="nvidia-pci-0200",sensor="GPU",source="nvml"} 48`,
		`node_thermal_limit_celsius{chip="nvidia-pci-0100",limit="max_operating",sensor="GPU",source="nvml"} 87`,
		`node_thermal_throttling{chip="nvidia-pci-0100",reason="sw_thermal",source="nvml"} 1`,
		`node_thermal_throttling{chip="nvidia-pci-0100",reason="hw_thermal",source="nvml"} 0`,
		`node_thermal_throttling{chip="nvidia-pci-0200",reason="sw_thermal",source="nvml"} 0`,
		`node_thermal_throttle_seconds_total{chip="nvidia-pci-0100",kind="thermal",source="nvml"} 12.5`,
		`node_thermal_gpu_info{chip="nvidia-pci-0100",model="NVIDIA A100-SXM4-80GB",source="nvml",uuid="GPU-5b3c1f2e-8a7d-4c21-9e0f-1a2b3c4d5e6f"} 1`,
		`node_thermal_read_errors{chip="nvidia-pci-0300",source="nvml"} 4`,
		// Fans and power (issue 20): the A100 is passive (no fan series),
		// the RTX 4090's second fan is commanded but stopped.
		`node_thermal_power_watts{chip="nvidia-pci-0100",sensor="GPU",source="nvml"} 215.25`,
		`node_thermal_power_limit_watts{chip="nvidia-pci-0100",sensor="GPU",source="nvml"} 400`,
		`node_thermal_power_watts{chip="nvidia-pci-0200",sensor="GPU",source="nvml"} 320.5`,
		`node_thermal_fan_duty_ratio{chip="nvidia-pci-0200",sensor="fan0",source="nvml"} 0.4`,
		`node_thermal_fan_duty_ratio{chip="nvidia-pci-0200",sensor="fan1",source="nvml"} 0.45`,
		`node_thermal_fan_rpm{chip="nvidia-pci-0200",sensor="fan0",source="nvml"} 1450`,
		`node_thermal_fan_rpm{chip="nvidia-pci-0200",sensor="fan1",source="nvml"} 0`,
		`node_thermal_fan_failed{chip="nvidia-pci-0200",sensor="fan0",source="nvml"} 0`,
		`node_thermal_fan_failed{chip="nvidia-pci-0200",sensor="fan1",source="nvml"} 1`,
		`node_thermal_chip_suspended{chip="nvidia-pci-0400",source="nvml"} 1`,
	} {
		if !got[want] {
			t.Errorf("dry run lacks %s", want)
		}
	}
	for l := range got {
		if strings.Contains(l, `chip="nvidia-pci-0100",sensor="fan`) {
			t.Errorf("a fan series for a passively cooled GPU: %s", l)
		}
		if strings.Contains(l, `chip="nvidia-pci-0200",sensor="Memory"`) || strings.Contains(l, `chip="nvidia-pci-0300",sensor="GPU"`) && strings.HasPrefix(l, "node_thermal_celsius") {
			t.Errorf("a series for what the GPU does not report: %s", l)
		}
	}
}

// Older drivers name the clock-event reasons ...ThrottleReasons; some
// libraries have neither: no throttling series then, and no error.
func TestIntegrationFakeNVMLOptionalSymbols(t *testing.T) {
	testenv.Need(t, "gcc", "go")
	dynamic, _ := binaries(t)
	root := sysfstest.UnpackFile(t, "../testdata/nvml/nvidia-gpus.tree")
	old := thermal(t, dynamic, fakeLib(t, "-DNO_EVENT_REASONS"), nil, "beat", "--dry-run", "--sysfs", root, "--dev", "/nonexistent")
	if !strings.Contains(old.stdout, `node_thermal_throttling{chip="nvidia-pci-0100",reason="sw_thermal",source="nvml"} 1`) {
		t.Errorf("the older function name is not used:\n%s", old.stdout)
	}
	none := thermal(t, dynamic, fakeLib(t, "-DNO_REASONS"), nil, "beat", "--dry-run", "--sysfs", root, "--dev", "/nonexistent")
	if strings.Contains(none.stdout, "node_thermal_throttling{") || !strings.Contains(none.stdout, `node_thermal_read_errors{chip="nvidia-pci-0100",source="nvml"} 0`) {
		t.Errorf("without the function: %s", none.stdout)
	}
}

// An init slower than the deadline does not hold the beat; no library, or
// a static build, is an absent source, not an error; a host whose only GPU
// sleeps never loads the library.
func TestIntegrationFakeNVMLDeadlineAndAbsence(t *testing.T) {
	testenv.Need(t, "gcc", "go")
	dynamic, static := binaries(t)
	root := sysfstest.UnpackFile(t, "../testdata/nvml/nvidia-gpus.tree")
	lib := fakeLib(t)

	slow := thermal(t, dynamic, lib, []string{"FAKE_NVML_INIT_DELAY_MS=4000"}, "beat", "--dry-run", "--timeout", "1s", "--sysfs", root, "--dev", "/nonexistent")
	if slow.took > 2500*time.Millisecond || slow.code != 0 {
		t.Errorf("a 4 s NVML init held a --timeout 1s beat for %v (exit %d)", slow.took, slow.code)
	}
	if !strings.Contains(slow.stdout, `node_thermal_read_errors{chip="nvidia-pci-0100",source="nvml"} 1`) {
		t.Errorf("what did not arrive is not counted:\n%s", slow.stdout)
	}

	for name, run := range map[string]run{
		"no library":   thermal(t, dynamic, t.TempDir(), nil, "probe", "--sysfs", root, "--dev", "/nonexistent"),
		"static build": thermal(t, static, lib, nil, "probe", "--sysfs", root, "--dev", "/nonexistent"),
	} {
		if run.code != 0 || !strings.Contains(run.stdout, "nvml: no NVIDIA driver") || strings.Contains(run.stdout, "nvidia-pci") {
			t.Errorf("%s: exit %d\n%s%s", name, run.code, run.stdout, run.stderr)
		}
	}

	only := sysfstest.UnpackString(t, `
cd /devices/pci0000:00/0000:00:04.0/0000:04:00.0
l subsystem -> /bus/pci
f vendor 0x10de
f class 0x030000
f power/runtime_status suspended
f power/control auto
l /bus/pci/devices/0000:04:00.0 -> /devices/pci0000:00/0000:00:04.0/0000:04:00.0
`)
	log := filepath.Join(t.TempDir(), "calls")
	thermal(t, dynamic, lib, []string{"FAKE_NVML_LOG=" + log}, "beat", "--dry-run", "--sysfs", only, "--dev", "/nonexistent")
	if calls, err := os.ReadFile(log); err == nil {
		t.Errorf("NVML was called while the only GPU slept:\n%s", calls)
	}
}

// The default build needs the system's dynamic loader and glibc (libc,
// libdl, libpthread), nothing else; the nonvml build is fully static.
func TestIntegrationBuildsLinkage(t *testing.T) {
	testenv.Need(t, "go", "ldd")
	dynamic, static := binaries(t)
	out, err := exec.Command("ldd", dynamic).CombinedOutput()
	if err != nil {
		t.Fatalf("ldd: %v\n%s", err, out)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name := strings.Fields(l)[0]
		if !strings.HasPrefix(name, "linux-vdso") && !strings.Contains(name, "ld-linux") && !strings.HasPrefix(name, "libc.so") &&
			!strings.HasPrefix(name, "libdl.so") && !strings.HasPrefix(name, "libpthread.so") {
			t.Errorf("the default build needs %s", l)
		}
	}
	out, _ = exec.Command("ldd", static).CombinedOutput()
	if !strings.Contains(string(out), "not a dynamic executable") {
		t.Errorf("the nonvml build is not static:\n%s", out)
	}
}

// A GPU breach pages with the GPU's model and UUID.
func TestIntegrationFakeNVMLBreachEvent(t *testing.T) {
	testenv.Need(t, "gcc", "go")
	dynamic, _ := binaries(t)
	root := sysfstest.UnpackFile(t, "../testdata/nvml/nvidia-gpus.tree")
	var mu sync.Mutex
	var events []map[string]any
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env, err := envelope.FromRequest(r)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		for _, it := range env.Items {
			if it.Type == "event" {
				var m map[string]any
				json.Unmarshal(it.Payload, &m)
				mu.Lock()
				events = append(events, m)
				mu.Unlock()
			}
		}
	}))
	defer ts.Close()
	cfg := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(cfg, []byte("[[rule]]\nsource = \"nvml\"\nchip = \"nvidia-pci-0100\"\nsensor = \"GPU\"\nwarning = 50.0\nfor = \"0s\"\n"), 0o644)
	r := thermal(t, dynamic, fakeLib(t), []string{"SENTRY_DSN=" + strings.Replace(ts.URL, "http://", "http://key@", 1) + "/1"},
		"beat", "--sysfs", root, "--dev", "/nonexistent", "--config", cfg, "--textfile-dir", t.TempDir(), "--state-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("beat: exit %d: %s", r.code, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	msg, _ := events[0]["message"].(string)
	tags, _ := events[0]["tags"].(map[string]any)
	if !strings.Contains(msg, "nvidia-pci-0100 (NVIDIA A100-SXM4-80GB, GPU-5b3c1f2e-8a7d-4c21-9e0f-1a2b3c4d5e6f) GPU is 54 °C") ||
		tags["model"] != "NVIDIA A100-SXM4-80GB" || tags["uuid"] != "GPU-5b3c1f2e-8a7d-4c21-9e0f-1a2b3c4d5e6f" {
		t.Errorf("event %q, tags %v", msg, tags)
	}
}

// NVML runs out of process: a segfault or an abort inside the library, or
// a call that never returns, costs the GPUs not yet read, never the beat.
// The beat writes its textfile with the GPU read before the crash, counts
// the other, checks in error (a crash; a hang is a timed-out device) and
// logs one line, not a crash trace (issue 18 #3, #4).
func TestIntegrationNVMLCrashOrHangCostsTheSourceOnly(t *testing.T) {
	testenv.Need(t, "gcc", "go")
	dynamic, _ := binaries(t)
	root := sysfstest.UnpackFile(t, "../testdata/nvml/nvidia-gpus.tree")
	lib := fakeLib(t)
	for _, tc := range []struct {
		env     string
		checkIn string
		err     string
	}{
		{"FAKE_NVML_CRASH=segv", "error", "helper process ended: exit status 2: SIGSEGV: segmentation violation"},
		{"FAKE_NVML_CRASH=abort", "error", "helper process ended: exit status 2: SIGABRT: abort"},
		{"FAKE_NVML_HANG=1", "ok", "did not complete in time"},
	} {
		var mu sync.Mutex
		var checkIns []string
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			checkIns = append(checkIns, r.URL.Query().Get("status"))
			mu.Unlock()
		}))
		textfile := t.TempDir()
		r := thermal(t, dynamic, lib, []string{tc.env, "THERMAL_CHECKIN_URL=" + ts.URL},
			"beat", "--sysfs", root, "--dev", "/nonexistent", "--config", "builtin", "--textfile-dir", textfile,
			"--state-dir", t.TempDir(), "--timeout", "2s", "-v")
		ts.Close()
		prom, _ := os.ReadFile(filepath.Join(textfile, "thermal.prom"))
		got := lines(string(prom), "node_thermal_")
		for _, want := range []string{
			`node_thermal_celsius{chip="nvidia-pci-0100",sensor="GPU",source="nvml"} 54`,
			`node_thermal_read_errors{chip="nvidia-pci-0200",source="nvml"} 1`,
			`node_thermal_chip_suspended{chip="nvidia-pci-0400",source="nvml"} 1`,
		} {
			if !got[want] {
				t.Errorf("%s: textfile lacks %s\n%s", tc.env, want, prom)
			}
		}
		mu.Lock()
		if r.code != 0 || len(checkIns) != 1 || checkIns[0] != tc.checkIn {
			t.Errorf("%s: exit %d, check-ins %v; want exit 0 and one %s", tc.env, r.code, checkIns, tc.checkIn)
		}
		mu.Unlock()
		if !strings.Contains(r.stderr, tc.err) || strings.Count(r.stderr, "\n") > 20 || strings.Contains(r.stderr, "goroutine ") {
			t.Errorf("%s: stderr (want %q, one line per problem, no trace):\n%s", tc.env, tc.err, r.stderr)
		}
		if r.took > 5*time.Second {
			t.Errorf("%s: the beat took %v with --timeout 2s", tc.env, r.took)
		}
	}
}

// An older driver without nvmlDeviceGetFanSpeed_v2 or
// nvmlDeviceGetFanSpeedRPM: fan 0's duty through the older function, no
// speed, and no error for what it does not have (issue 20).
func TestIntegrationFakeNVMLOlderFanDriver(t *testing.T) {
	testenv.Need(t, "gcc", "go")
	dynamic, _ := binaries(t)
	root := sysfstest.UnpackFile(t, "../testdata/nvml/nvidia-gpus.tree")
	r := thermal(t, dynamic, fakeLib(t, "-DNO_FAN_V2", "-DNO_FAN_RPM"), nil, "beat", "--dry-run", "--sysfs", root, "--dev", "/nonexistent")
	got := lines(r.stdout, "node_thermal_")
	if !got[`node_thermal_fan_duty_ratio{chip="nvidia-pci-0200",sensor="fan0",source="nvml"} 0.4`] || !got[`node_thermal_read_errors{chip="nvidia-pci-0200",source="nvml"} 0`] {
		t.Errorf("older driver:\n%s", r.stdout)
	}
	for l := range got {
		if strings.Contains(l, `sensor="fan1"`) || strings.HasPrefix(l, "node_thermal_fan_rpm") {
			t.Errorf("a series the driver cannot give: %s", l)
		}
	}
}

// A call a GPU answers NOT_SUPPORTED (the A100 has no fans) is learnt, kept
// in the state directory's cache, and not asked again by the next beats;
// the GPU that has fans is asked every beat (issue 20).
func TestIntegrationUnsupportedCallsAreLearnt(t *testing.T) {
	testenv.Need(t, "gcc", "go")
	dynamic, _ := binaries(t)
	root := sysfstest.UnpackFile(t, "../testdata/nvml/nvidia-gpus.tree")
	lib := fakeLib(t)
	log := filepath.Join(t.TempDir(), "calls")
	stateDir := t.TempDir()
	for range 3 {
		r := thermal(t, dynamic, lib, []string{"FAKE_NVML_LOG=" + log}, "beat", "--sysfs", root, "--dev", "/nonexistent",
			"--config", "builtin", "--textfile-dir", t.TempDir(), "--state-dir", stateDir)
		if r.code != 0 {
			t.Fatalf("beat: exit %d: %s", r.code, r.stderr)
		}
	}
	calls, _ := os.ReadFile(log)
	passive, fans := strings.Count(string(calls), "nvmlDeviceGetNumFans 1\n"), strings.Count(string(calls), "nvmlDeviceGetNumFans 2\n")
	if passive != 1 || fans != 3 {
		t.Errorf("over three beats, the passive GPU was asked for its fans %d times (want 1), the other %d (want 3)", passive, fans)
	}
}
