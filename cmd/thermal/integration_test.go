package main

// Integration tests: real lm-sensors, node_exporter and promtool from
// Debian's packages (make deps installs them). They skip under -short; they
// skip when a tool is missing unless THERMAL_INTEGRATION=require (set by
// make test and CI), where a missing tool is a failure.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/thermal-heartbeat/thermal/internal/oracle"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

func needIntegration(t *testing.T, tools ...string) { testenv.Need(t, tools...) }

// sensorsOverTree runs Debian's sensors -j with the fixture's class, devices
// and bus directories bind-mounted over /sys in a private mount namespace,
// and no sensors.conf, so that labels are the kernel's.
// sensorsOverTreeWith runs sensors -j with the configuration file conf.
func sensorsOverTreeWith(t *testing.T, root, conf string) []oracle.Chip {
	t.Helper()
	script := `set -e
for d in class devices bus; do mount --bind "$ROOT/$d" "/sys/$d"; done
exec sensors -c "$CONF" -j`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "ROOT="+root, "CONF="+conf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sensors -j over the fixture: %v\n%s", err, stderr.String())
	}
	chips, err := oracle.ParseSensorsJSON(out)
	if err != nil {
		t.Fatalf("parsing sensors -j: %v\n%s", err, out)
	}
	if len(chips) == 0 {
		t.Fatal("sensors -j listed no chips: the bind mounts did not take")
	}
	return chips
}

func parseExposition(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parsing exposition: %v\n%s", err, text)
	}
	return mfs
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

var tempInput = regexp.MustCompile(`^temp(\d+)_input$`)
var fanInput = regexp.MustCompile(`^fan(\d+)_input$`)
var powerInput = regexp.MustCompile(`^power(\d+)_(?:input|average)$`)
var lcritAlarm = regexp.MustCompile(`^in(\d+)_lcrit_alarm$`)

// TestIntegrationLMSensorsOracle checks, for every fixture tree, that every
// temperature `sensors -j` lists appears in `thermal beat --dry-run` with the
// same chip name, sensor name and value, unless a documented rule drops it
// (and then that the rule really applies), and that thermal reports no
// hwmon temperature lm-sensors does not know.
func TestIntegrationLMSensorsOracle(t *testing.T) {
	needIntegration(t, "root", "sensors", "unshare", "mount")
	for _, tree := range fixtures(t) {
		t.Run(treeName(tree), func(t *testing.T) {
			compareWithSensors(t, sysfstest.UnpackFile(t, tree), "")
		})
	}
}

// TestIntegrationLMSensorsConfigOracle: with [lm_sensors] config = FILE,
// thermal names, ignores and computes what `sensors -c FILE -j` does, for
// real-world configuration files over every fixture.
func TestIntegrationLMSensorsConfigOracle(t *testing.T) {
	needIntegration(t, "root", "sensors", "unshare", "mount")
	confs, _ := filepath.Glob("../../testdata/sensors-conf/*.conf")
	if len(confs) < 4 {
		t.Fatalf("%d configuration files", len(confs))
	}
	for _, conf := range confs {
		abs, _ := filepath.Abs(conf)
		for _, tree := range fixtures(t) {
			t.Run(filepath.Base(conf)+"/"+treeName(tree), func(t *testing.T) {
				compareWithSensors(t, sysfstest.UnpackFile(t, tree), abs)
			})
		}
	}
}

// compareWithSensors holds thermal's names and values over root against
// sensors -j, both with the lm-sensors configuration conf ("" for none).
func compareWithSensors(t *testing.T, root, conf string) {
	t.Helper()
	dupSuffix := regexp.MustCompile(`#\d+$`)
	{
		{
			lmConf, args := "/dev/null", []string{}
			if conf != "" {
				lmConf = conf
				cfg := filepath.Join(t.TempDir(), "thermal.toml")
				os.WriteFile(cfg, []byte(fmt.Sprintf("[lm_sensors]\nconfig = %q\n", conf)), 0o644)
				args = []string{"--config", cfg}
			}
			theirs := sensorsOverTreeWith(t, root, lmConf)

			code, text, stderr := runThermal(t, append([]string{"beat", "--dry-run", "--sysfs", root}, args...)...)
			if code != exitOK {
				t.Fatalf("beat exit %d: %s", code, stderr)
			}
			reported := map[string]float64{} // chip \x00 sensor -> °C, hwmon and nvme sources
			for _, m := range parseExposition(t, text)["node_thermal_celsius"].GetMetric() {
				l := labelsOf(m)
				if l["source"] == "hwmon" || l["source"] == "nvme" || l["source"] == "disk" {
					reported[l["chip"]+"\x00"+l["sensor"]] = m.GetGauge().GetValue()
				}
			}
			code, js, _ := runThermal(t, append([]string{"probe", "--json", "--sysfs", root}, args...)...)
			if code != exitOK {
				t.Fatal("probe failed")
			}
			var inv []probeChip
			if err := json.Unmarshal([]byte(js), &inv); err != nil {
				t.Fatal(err)
			}
			// Our chips by lm-sensors name; the #N suffix of a name collision
			// is ours, lm-sensors lists the name again.
			ours := map[string][]probeChip{}
			for _, c := range inv {
				if c.Source == "hwmon" || c.Source == "nvme" || c.Source == "disk" {
					base := dupSuffix.ReplaceAllString(c.Chip, "")
					ours[base] = append(ours[base], c)
				}
			}
			byName := map[string][]oracle.Chip{}
			for _, c := range theirs {
				byName[c.Name] = append(byName[c.Name], c)
			}
			matched := 0
			for name, lcs := range byName {
				ocs := ours[name]
				if len(ocs) != len(lcs) {
					t.Errorf("lm-sensors lists chip %s %d times, thermal %d times", name, len(lcs), len(ocs))
					continue
				}
				// Pair same-named chips by their readings (sensors lists them
				// in readdir order, thermal in device order).
				used := make([]bool, len(ocs))
				for _, lc := range lcs {
					var errs []string
					found := false
					for i, oc := range ocs {
						if used[i] {
							continue
						}
						errs = compareChip(lc, oc, reported)
						if len(errs) == 0 {
							used[i], found = true, true
							break
						}
					}
					if !found {
						t.Errorf("chip %s: %s", name, strings.Join(errs, "; "))
					}
				}
				for _, oc := range ocs {
					for _, s := range oc.Sensors {
						if s.Status == "ok" && s.Kind == "" {
							matched++
						}
					}
				}
			}
			for name := range ours {
				if _, ok := byName[name]; !ok {
					t.Errorf("thermal reports chip %s, which lm-sensors does not list", name)
				}
			}
			if matched != len(reported) {
				t.Errorf("thermal reports %d hwmon/nvme temperatures, lm-sensors accounts for %d", len(reported), matched)
			}
		}
	}
}

// compareChip checks one thermal chip against one lm-sensors chip.
func compareChip(lc oracle.Chip, oc probeChip, reported map[string]float64) []string {
	var errs []string
	if oc.Status == "asleep" {
		// Rule: a runtime-suspended device is not read. lm-sensors reads it.
		return nil
	}
	byAttr := map[string]probeSensor{}
	for _, s := range oc.Sensors {
		byAttr[s.Attr] = s
	}
	seen := map[string]bool{}
	for _, f := range lc.Features {
		for sub, v := range f.Subs {
			if m := fanInput.FindStringSubmatch(sub); m != nil {
				attr := "fan" + m[1]
				seen[attr] = true
				// A channel its driver disabled (fanN_enable = 0, which
				// sensors does not show): thermal leaves it out on purpose.
				if b, err := os.ReadFile(oc.Path + "/" + attr + "_enable"); err == nil && strings.TrimSpace(string(b)) == "0" {
					continue
				}
				s, ok := byAttr[attr]
				switch {
				case !ok:
					errs = append(errs, fmt.Sprintf("fan %s (%s = %.0f) missing from thermal", f.Name, sub, v))
				case s.Name != f.Name:
					errs = append(errs, fmt.Sprintf("%s is named %q by thermal, %q by lm-sensors", attr, s.Name, f.Name))
				case f.Subs["fan"+m[1]+"_fault"] == 1:
					if s.RPM != nil || s.Failed == "" {
						errs = append(errs, fmt.Sprintf("fan %s faulted for lm-sensors, thermal has %v RPM, failed %q", f.Name, s.RPM, s.Failed))
					}
				case s.RPM == nil || float64(*s.RPM) != v:
					errs = append(errs, fmt.Sprintf("fan %s: thermal %v RPM, lm-sensors %.0f", f.Name, s.RPM, v))
				}
				continue
			}
			if m := powerInput.FindStringSubmatch(sub); m != nil {
				attr := "power" + m[1]
				seen[attr] = true
				s, ok := byAttr[attr]
				switch {
				case !ok:
					errs = append(errs, fmt.Sprintf("power %s (%s = %.3f) missing from thermal", f.Name, sub, v))
				case s.Name != f.Name:
					errs = append(errs, fmt.Sprintf("%s is named %q by thermal, %q by lm-sensors", attr, s.Name, f.Name))
				case s.Watts == nil || math.Abs(*s.Watts-v) > 0.0005:
					errs = append(errs, fmt.Sprintf("power %s: thermal %v W, lm-sensors %.3f W", f.Name, s.Watts, v))
				case f.Subs[attr+"_cap"] != 0 && (s.LimitWatts == nil || math.Abs(*s.LimitWatts-f.Subs[attr+"_cap"]) > 0.0005):
					errs = append(errs, fmt.Sprintf("power %s: thermal's cap %v W, lm-sensors %.3f W", f.Name, s.LimitWatts, f.Subs[attr+"_cap"]))
				}
				continue
			}
			if m := lcritAlarm.FindStringSubmatch(sub); m != nil && oc.Driver == "rpi_volt" {
				// The Raspberry Pi's under-voltage flag: thermal's
				// under_voltage throttle sensor.
				attr := "in" + m[1] + "_lcrit_alarm"
				seen[attr] = true
				if s, ok := byAttr[attr]; !ok || s.Throttling != (v == 1) {
					errs = append(errs, fmt.Sprintf("%s: lm-sensors %.0f, thermal %+v", attr, v, s))
				}
				continue
			}
			m := tempInput.FindStringSubmatch(sub)
			if m == nil {
				continue
			}
			attr := "temp" + m[1]
			seen[attr] = true
			s, ok := byAttr[attr]
			switch {
			case !ok:
				errs = append(errs, fmt.Sprintf("%s (%s = %.3f) missing from thermal", f.Name, sub, v))
			case s.Name != f.Name:
				errs = append(errs, fmt.Sprintf("%s is named %q by thermal, %q by lm-sensors", attr, s.Name, f.Name))
			case s.Status == "ok":
				got, ok := reported[oc.Chip+"\x00"+s.Name]
				if !ok || math.Abs(got-v) > 0.0005 {
					errs = append(errs, fmt.Sprintf("%s: dry-run has %v (present %v), lm-sensors %.3f", f.Name, got, ok, v))
				}
			case s.Status == "fault":
				if f.Subs["temp"+m[1]+"_fault"] != 1 {
					errs = append(errs, fmt.Sprintf("%s dropped as faulted but lm-sensors shows no fault", f.Name))
				}
			case s.Status == "out_of_range":
				if v >= -40 && v <= 150 {
					errs = append(errs, fmt.Sprintf("%s dropped as out of range but lm-sensors reads %.3f", f.Name, v))
				}
			default:
				errs = append(errs, fmt.Sprintf("%s: thermal could not read it (%s), lm-sensors reads %.3f", f.Name, s.Error, v))
			}
		}
	}
	for _, s := range oc.Sensors {
		if s.Kind == "duty" {
			// sensors has no PWM feature: the file is the oracle.
			b, err := os.ReadFile(oc.Path + "/" + s.Attr)
			raw, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || s.Duty == nil || math.Abs(*s.Duty-float64(raw)/255) > 1e-6 {
				errs = append(errs, fmt.Sprintf("%s: thermal's duty %v, the file %d/255", s.Attr, s.Duty, raw))
			}
			continue
		}
		if (s.Status == "ok" || s.Kind == "fan") && !seen[s.Attr] {
			errs = append(errs, fmt.Sprintf("thermal reports %s (%s), lm-sensors does not", s.Name, s.Attr))
		}
	}
	return errs
}

// TestIntegrationNodeExporter serves the beat's textfile through Debian's
// prometheus-node-exporter and checks that the scrape carries exactly the
// dry run's node_thermal_* series, without a textfile error.
func TestIntegrationNodeExporter(t *testing.T) {
	needIntegration(t, "prometheus-node-exporter")
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/intel-server.tree")
	dir := t.TempDir()
	if code, _, stderr := runThermal(t, "beat", "--sysfs", root, "--textfile-dir", dir, "--state-dir", t.TempDir()); code != exitOK {
		t.Fatalf("beat exit %d: %s", code, stderr)
	}
	_, dry, _ := runThermal(t, "beat", "--dry-run", "--sysfs", root)

	addr := testenv.FreeAddr(t)
	cmd := exec.Command("prometheus-node-exporter",
		"--web.listen-address="+addr,
		"--collector.disable-defaults",
		"--collector.textfile",
		"--collector.textfile.directory="+dir)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				body = string(b)
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node_exporter did not serve /metrics: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	scraped := parseExposition(t, body)
	if v := scraped["node_textfile_scrape_error"].GetMetric(); len(v) != 1 || v[0].GetGauge().GetValue() != 0 {
		t.Fatalf("node_textfile_scrape_error = %v, want 0\n%s", v, logs.String())
	}
	want := seriesSet(parseExposition(t, dry))
	got := seriesSet(scraped)
	if len(want) < 40 {
		t.Fatalf("dry run has only %d node_thermal series", len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("scrape: %s = %v (present %v), dry run %v", k, g, ok, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("scrape has %s, the dry run does not", k)
		}
	}
}

// seriesSet flattens the node_thermal_* families into "name{labels}" -> value.
func seriesSet(mfs map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "node_thermal_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for k, v := range labelsOf(m) {
				ls = append(ls, k+"="+v)
			}
			sort.Strings(ls)
			out[name+"{"+strings.Join(ls, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestIntegrationPromtool runs `promtool check metrics` on the dry run of
// every fixture tree: names, HELP, units and types pass Prometheus' linter.
func TestIntegrationPromtool(t *testing.T) {
	needIntegration(t, "promtool")
	for _, tree := range fixtures(t) {
		t.Run(treeName(tree), func(t *testing.T) {
			root := sysfstest.UnpackFile(t, tree)
			_, dry, _ := runThermal(t, "beat", "--dry-run", "--sysfs", root)
			cmd := exec.Command("promtool", "check", "metrics")
			cmd.Stdin = strings.NewReader(dry)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
		})
	}
}
