package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/testenv"
	"github.com/thermal-heartbeat/thermal/nvme"
	"github.com/thermal-heartbeat/thermal/report"
)

// The real pipeline an operator runs: thermal beats write textfiles;
// Debian's node_exporter serves them; Debian's Prometheus scrapes them with
// the shipped rules (under the job name kube-prometheus uses) and sends to
// Debian's Alertmanager, configured with the shipped inhibit rule; Debian's
// VictoriaMetrics scrapes the same node_exporters. The breach and stale
// alerts fire, the inhibit silences the warning of a sensor whose critical
// fires, and every dashboard query returns data from both servers.
//
// The rules' `for` durations are set to 0s in the copy Prometheus loads, so
// that the test takes seconds; their expressions are the shipped ones.
func TestIntegrationMonitoringPipeline(t *testing.T) {
	testenv.Need(t, "go", "prometheus", "prometheus-node-exporter", "prometheus-alertmanager", "amtool", "victoria-metrics")
	work := t.TempDir()

	// amtool checks the shipped Alertmanager file first.
	if out, err := exec.Command("amtool", "check-config", "alertmanager/alertmanager.yml").CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}

	bin := filepath.Join(work, "thermal")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/thermal").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Host a: the Intel server fixture, with rules that make both levels of
	// the CPU packages fire at once.
	hostA := filepath.Join(work, "a")
	os.MkdirAll(hostA, 0o755)
	cfg := filepath.Join(work, "thermal.toml")
	os.WriteFile(cfg, []byte("[[rule]]\nchip = \"coretemp-*\"\nsensor = \"Package id *\"\nwarning = 40.0\ncritical = 44.0\nfor = \"0s\"\n"), 0o644)
	root := sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree")
	beat := exec.Command(bin, "beat", "--sysfs", root, "--dev", "/nonexistent", "--config", cfg, "--textfile-dir", hostA, "--state-dir", filepath.Join(work, "state-a"))
	if out, err := beat.CombinedOutput(); err != nil {
		t.Fatalf("beat: %v\n%s", err, out)
	}
	// Host a's NVMe drive read through the ioctl (which needs a real
	// controller, see e2e/): its series as the nvme source renders them.
	log := nvme.SMARTLog{CriticalWarning: 2, Composite: 330, WarningTempMinutes: 3, CriticalTempMinutes: 1}
	drive := thermal.Chip{Source: "nvme", Name: "nvme-pci-0300",
		Series:  append([]thermal.Series{nvme.InfoSeries("Example NVMe", "S123", "1.0")}, nvme.SMARTSeries(&log)...),
		Sensors: []thermal.Sensor{{Name: "Composite", Value: nvme.KelvinToMilli(330)}}}
	// And a GPU throttling for heat, as the nvml source reports one (its
	// own test drives NVML through a stand-in library).
	limit := int64(400000)
	gpu := thermal.Chip{Source: "nvml", Name: "nvidia-pci-0100", Series: []thermal.Series{
		thermal.Throttling("sw_thermal", true)}, Sensors: []thermal.Sensor{
		{Kind: thermal.KindPower, Name: "GPU", Value: 380000, Max: &limit},
		{Kind: thermal.KindDuty, Name: "fan0", Value: 600000}}}
	// And a Raspberry Pi's supply below its critical voltage.
	pi := thermal.Chip{Source: "hwmon", Name: "rpi_volt-isa-0000", Series: []thermal.Series{thermal.Throttling("under_voltage", true)}}
	drivePath := filepath.Join(hostA, "nvme-ioctl.prom")
	f, _ := os.Create(drivePath)
	// Only the drive's own series: the rest is in thermal.prom.
	var b strings.Builder
	report.Write(&b, report.Beat{Time: time.Now(), Chips: []thermal.Chip{drive, gpu, pi}})
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if strings.Contains(line, "node_thermal_nvme_") || strings.Contains(line, "node_thermal_throttling") ||
			strings.Contains(line, "node_thermal_power_") || strings.Contains(line, "node_thermal_fan_duty_ratio") {
			f.WriteString(line)
		}
	}
	f.Close()

	// Host b: beats stopped ten minutes ago.
	hostB := filepath.Join(work, "b")
	os.MkdirAll(hostB, 0o755)
	beat = exec.Command(bin, "beat", "--sysfs", root, "--dev", "/nonexistent", "--config", "builtin", "--textfile-dir", hostB, "--state-dir", filepath.Join(work, "state-b"))
	if out, err := beat.CombinedOutput(); err != nil {
		t.Fatalf("beat: %v\n%s", err, out)
	}
	prom, _ := os.ReadFile(filepath.Join(hostB, "thermal.prom"))
	stale := regexp.MustCompile(`(?m)^node_thermal_heartbeat_seconds .*$`).ReplaceAllString(string(prom),
		fmt.Sprintf("node_thermal_heartbeat_seconds %d", time.Now().Add(-10*time.Minute).Unix()))
	os.WriteFile(filepath.Join(hostB, "thermal.prom"), []byte(stale), 0o644)
	// Host c: node_exporter with a textfile collector, no thermal at all.
	hostC := filepath.Join(work, "c")
	os.MkdirAll(hostC, 0o755)

	var targets []string
	for _, dir := range []string{hostA, hostB, hostC} {
		addr := testenv.FreeAddr(t)
		start(t, "prometheus-node-exporter", "--web.listen-address="+addr, "--collector.disable-defaults",
			"--collector.textfile", "--collector.textfile.directory="+dir)
		waitHTTP(t, "http://"+addr+"/metrics")
		targets = append(targets, addr)
	}
	hosts := map[string]string{"a": targets[0], "b": targets[1], "c": targets[2]}

	amAddr := testenv.FreeAddr(t)
	start(t, "prometheus-alertmanager", "--config.file=alertmanager/alertmanager.yml", "--storage.path="+filepath.Join(work, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	waitHTTP(t, "http://"+amAddr+"/-/ready")

	rules, _ := os.ReadFile("prometheus/thermal-rules.yml")
	fast := regexp.MustCompile(`(?m)^(\s+for:) \S+$`).ReplaceAllString(string(rules), "$1 0s")
	os.WriteFile(filepath.Join(work, "rules.yml"), []byte(fast), 0o644)
	scrape := fmt.Sprintf(`
scrape_configs:
  - job_name: node-exporter
    scrape_interval: 1s
    static_configs:
      - targets: ['%s']
`, strings.Join(targets, "', '"))
	promCfg := filepath.Join(work, "prometheus.yml")
	os.WriteFile(promCfg, []byte(fmt.Sprintf(`
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
%s`, filepath.Join(work, "rules.yml"), amAddr, scrape)), 0o644)
	promAddr := testenv.FreeAddr(t)
	start(t, "prometheus", "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(work, "tsdb"), "--web.listen-address="+promAddr)
	waitHTTP(t, "http://"+promAddr+"/-/ready")

	vmCfg := filepath.Join(work, "vm-scrape.yml")
	os.WriteFile(vmCfg, []byte(scrape), 0o644)
	vmAddr := testenv.FreeAddr(t)
	start(t, "victoria-metrics", "-promscrape.config="+vmCfg, "-storageDataPath="+filepath.Join(work, "vm"),
		"-httpListenAddr="+vmAddr, "-search.latencyOffset=1s", "-search.disableCache")
	waitHTTP(t, "http://"+vmAddr+"/health")

	// Prometheus: the breach (both levels), the stale and the missing
	// heartbeat fire; the breach's value is the temperature.
	want := map[string]func(map[string]string, string) bool{
		"critical breach": func(l map[string]string, v string) bool {
			return l["alertname"] == "ThermalSensorBreach" && l["level"] == "critical" && l["instance"] == hosts["a"] && l["sensor"] == "Package id 0" && v == "45"
		},
		"warning breach": func(l map[string]string, _ string) bool {
			return l["alertname"] == "ThermalSensorBreach" && l["level"] == "warning" && l["instance"] == hosts["a"] && l["sensor"] == "Package id 0"
		},
		"stale heartbeat": func(l map[string]string, _ string) bool {
			return l["alertname"] == "ThermalHeartbeatStale" && l["instance"] == hosts["b"]
		},
		"missing heartbeat": func(l map[string]string, _ string) bool {
			return l["alertname"] == "ThermalHeartbeatMissing" && l["instance"] == hosts["c"]
		},
		"NVMe warning": func(l map[string]string, _ string) bool {
			return l["alertname"] == "ThermalNVMeTemperatureWarning" && l["instance"] == hosts["a"]
		},
	}
	var firing []map[string]any
	eventually(t, 60*time.Second, "Prometheus alerts firing", func() (bool, string) {
		var resp struct {
			Data struct {
				Alerts []struct {
					Labels      map[string]string
					Annotations map[string]string
					State       string
					Value       string
				}
			}
		}
		if err := getJSON("http://"+promAddr+"/api/v1/alerts", &resp); err != nil {
			return false, err.Error()
		}
		missing := []string{}
		for name, match := range want {
			found := false
			for _, a := range resp.Data.Alerts {
				v := a.Value
				if f, err := parseFloat(v); err == nil {
					v = fmt.Sprint(f)
				}
				if a.State == "firing" && match(a.Labels, v) {
					found = true
					if name == "critical breach" && !strings.Contains(a.Annotations["description"], "above its critical threshold of 44.0 °C") {
						return false, "description " + a.Annotations["description"]
					}
				}
			}
			if !found {
				missing = append(missing, name)
			}
		}
		b, _ := json.Marshal(resp.Data.Alerts)
		json.Unmarshal(b, &firing)
		return len(missing) == 0, fmt.Sprintf("missing %v in %s", missing, b)
	})

	// Alertmanager: the critical breach silences the same sensor's warning.
	eventually(t, 30*time.Second, "the inhibit", func() (bool, string) {
		var alerts []struct {
			Labels map[string]string
			Status struct {
				State       string
				InhibitedBy []string
			}
		}
		if err := getJSON("http://"+amAddr+"/api/v2/alerts", &alerts); err != nil {
			return false, err.Error()
		}
		var warnSuppressed, critActive bool
		for _, a := range alerts {
			if a.Labels["alertname"] != "ThermalSensorBreach" || a.Labels["sensor"] != "Package id 0" {
				continue
			}
			switch a.Labels["level"] {
			case "warning":
				warnSuppressed = a.Status.State == "suppressed" && len(a.Status.InhibitedBy) > 0
			case "critical":
				critActive = a.Status.State == "active"
			}
		}
		b, _ := json.Marshal(alerts)
		return warnSuppressed && critActive, string(b)
	})

	// Every dashboard query answers, from Prometheus and from
	// VictoriaMetrics, with the variables set to every host, chip, sensor.
	queries := dashboardQueries(t)
	for name, base := range map[string]string{"Prometheus": "http://" + promAddr, "VictoriaMetrics": "http://" + vmAddr} {
		for _, q := range queries {
			eventually(t, 30*time.Second, name+": "+q, func() (bool, string) {
				var resp struct {
					Status string
					Data   struct{ Result []json.RawMessage }
					Error  string
				}
				if err := getJSON(base+"/api/v1/query?query="+url.QueryEscape(q), &resp); err != nil {
					return false, err.Error()
				}
				return resp.Status == "success" && len(resp.Data.Result) > 0, resp.Status + " " + resp.Error
			})
		}
		var labels struct{ Data []string }
		getJSON(base+"/api/v1/label/instance/values?match[]=node_thermal_heartbeat_seconds", &labels)
		if len(labels.Data) != 2 {
			t.Errorf("%s: the Host variable's values %v, want hosts a and b", name, labels.Data)
		}
	}
}

// dashboardQueries are the dashboard's queries with its variables set to
// all values.
func dashboardQueries(t *testing.T) []string {
	b, err := os.ReadFile("grafana/thermal.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Targets []struct{ Expr string }
		}
	}
	json.Unmarshal(b, &d)
	var out []string
	r := strings.NewReplacer("$instance", ".*", "$chip", ".*", "$sensor", ".*")
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, r.Replace(tg.Expr))
		}
	}
	return out
}

func parseFloat(s string) (float64, error) {
	var f float64
	_, err := fmt.Sscan(s, &f)
	return f, err
}

// start runs a server for the length of the test, in its own process group.
func start(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, tail(logs.String(), 3000))
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func waitHTTP(t *testing.T, u string) {
	t.Helper()
	eventually(t, 30*time.Second, u, func() (bool, string) {
		resp, err := http.Get(u)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
}

func eventually(t *testing.T, limit time.Duration, what string, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, why := f()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %s", what, limit, why)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func getJSON(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v: %s", u, err, b)
	}
	return nil
}
