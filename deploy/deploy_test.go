package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

// series is every metric name the textfile carries (report package).
var series = map[string]bool{
	"node_thermal_celsius": true, "node_thermal_limit_celsius": true, "node_thermal_trip_point_celsius": true,
	"node_thermal_read_errors": true, "node_thermal_chip_suspended": true, "node_thermal_collect_duration_seconds": true,
	"node_thermal_heartbeat_seconds": true, "node_thermal_threshold_celsius": true, "node_thermal_alert": true,
	"node_thermal_config_valid": true, "node_thermal_state_saved": true,
	"node_thermal_fan_rpm": true, "node_thermal_fan_min_rpm": true, "node_thermal_fan_target_rpm": true, "node_thermal_fan_failed": true,
	"node_thermal_fan_duty_ratio": true, "node_thermal_power_watts": true, "node_thermal_power_limit_watts": true,
	"node_thermal_push_failures_total":   true,
	"node_thermal_throttle_events_total": true, "node_thermal_throttle_seconds_total": true, "node_thermal_throttle_max_seconds": true,
	"node_thermal_throttling": true, "node_thermal_gpu_info": true, "node_thermal_drive_info": true,
	"node_thermal_cooling_device_state": true, "node_thermal_cooling_device_max_state": true,
	"node_thermal_nvme_info": true, "node_thermal_nvme_temperature_warning": true,
	"node_thermal_nvme_warning_temperature_time_seconds_total": true, "node_thermal_nvme_critical_temperature_time_seconds_total": true,
	"node_thermal_nvme_thermal_management_transitions_total": true, "node_thermal_nvme_thermal_management_seconds_total": true,
}

var metricRE = regexp.MustCompile(`node_thermal_[a-z_]+`)

func checkNames(t *testing.T, where, expr string) {
	t.Helper()
	for _, m := range metricRE.FindAllString(expr, -1) {
		if !series[m] {
			t.Errorf("%s uses %s, which thermal does not write", where, m)
		}
	}
}

func TestDashboardQueriesNameRealSeries(t *testing.T) {
	b, err := os.ReadFile("grafana/thermal.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct{ List []struct{ Query any } }
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			checkNames(t, p.Title, tg.Expr)
			n++
		}
	}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(string); ok {
			checkNames(t, "templating", q)
		}
	}
	if n < 8 {
		t.Errorf("only %d queries", n)
	}
}

func TestRulesNameRealSeries(t *testing.T) {
	b, err := os.ReadFile("prometheus/thermal-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			checkNames(t, "rules", line)
		}
	}
}

// TestIntegrationPromtoolRules checks and unit-tests the rules with promtool.
func TestIntegrationPromtoolRules(t *testing.T) {
	testenv.Need(t, "promtool")
	for _, args := range [][]string{{"check", "rules", "thermal-rules.yml"}, {"test", "rules", "thermal-rules.test.yml"}} {
		cmd := exec.Command("promtool", args...)
		cmd.Dir = "prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
