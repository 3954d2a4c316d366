package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// widget is a source defined only here: a chip with a temperature, a fan
// and a throttle flag, its own hardware limit, its own built-in rules. It
// proves that a source is one package: registered, it shows in every
// output without another package knowing of it.
type widget struct{}

func (widget) Name() string { return "widget" }

func (widget) Read(_ context.Context, req *thermal.Request) ([]thermal.Chip, error) {
	c := thermal.Chip{Source: "widget", Name: "widget-virtual-0", Driver: "widget", Bus: "virtual",
		Attrs: thermal.Attrs{{Key: "model", Value: "W-1"}}}
	if !req.Admits(&c) {
		return nil, nil
	}
	trip, floor := int64(90000), int64(300)
	c.Sensors = []thermal.Sensor{
		{Name: "Core", Attr: "core", Value: 72500, Max: &trip},
		{Name: "blower", Kind: thermal.KindFan, Attr: "fan1", Value: 120, FanMin: &floor},
		{Name: "throttling", Kind: thermal.KindThrottle, Attr: "hot", Value: 1, Detail: "the widget says it is hot"},
	}
	return []thermal.Chip{c}, nil
}

// HardwareThresholds: the widget's Max is a trip point, critical.
func (widget) HardwareThresholds(_ *thermal.Chip, s *thermal.Sensor) (warn, crit thermal.Threshold) {
	return warn, thermal.HardwareLimit(thermal.Critical, s.Max, "", "widget trip")
}

func registerWidget(t *testing.T) {
	t.Helper()
	thermal.Register(thermal.Registration{
		Name: "widget",
		New:  func(thermal.Env) (thermal.Source, error) { return widget{}, nil },
		Rules: []thermal.Rule{
			{Sensor: "Core", Warning: 70, Hysteresis: 1, Repeat: time.Hour},
			{Kind: thermal.KindThrottle, Level: thermal.Critical, Repeat: time.Hour},
		},
	})
	t.Cleanup(func() { thermal.Unregister("widget") })
}

func TestRegisteredSourceInEveryOutput(t *testing.T) {
	registerWidget(t)
	root := t.TempDir() // no hwmon, no zones: the widget alone
	src := []string{"--sysfs", root, "--dev", noDev, "--config", "builtin"}

	// The textfile.
	code, prom, stderr := runThermal(t, append([]string{"beat", "--dry-run"}, src...)...)
	if code != exitOK {
		t.Fatalf("beat: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		`node_thermal_celsius{chip="widget-virtual-0",sensor="Core",source="widget"} 72.5`,
		`node_thermal_threshold_celsius{chip="widget-virtual-0",level="warning",sensor="Core",source="widget"} 70`,
		`node_thermal_threshold_celsius{chip="widget-virtual-0",level="critical",sensor="Core",source="widget"} 90`,
		`node_thermal_fan_rpm{chip="widget-virtual-0",sensor="blower",source="widget"} 120`,
		`node_thermal_fan_min_rpm{chip="widget-virtual-0",sensor="blower",source="widget"} 300`,
		`node_thermal_fan_failed{chip="widget-virtual-0",sensor="blower",source="widget"} 1`,
		`node_thermal_alert{chip="widget-virtual-0",level="critical",sensor="throttling",source="widget"} 1`,
		`node_thermal_alert{chip="widget-virtual-0",level="warning",sensor="Core",source="widget"} 1`,
	} {
		if !strings.Contains(prom, want) {
			t.Errorf("textfile lacks %s\n%s", want, prom)
		}
	}

	// probe, as a table (both widths), JSON and a starter file.
	_, table, _ := runThermal(t, append([]string{"probe"}, src...)...)
	_, wide, _ := runThermal(t, append([]string{"probe", "--wide"}, src...)...)
	for name, out := range map[string]string{"probe": table, "probe --wide": wide} {
		trip := "hw widget trip"
		if name == "probe --wide" {
			trip = "hardware: widget trip"
		}
		for _, want := range []string{"widget-virtual-0", "Core", "72.5", "120 RPM", "below its minimum", trip, "built-in rule 7", "W-1"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, out)
			}
		}
	}
	_, js, _ := runThermal(t, append([]string{"probe", "--json"}, src...)...)
	var inv []probeChip
	if err := json.Unmarshal([]byte(js), &inv); err != nil || len(inv) != 1 || len(inv[0].Sensors) != 3 {
		t.Fatalf("probe --json: %v\n%s", err, js)
	}
	core, fan, hot := inv[0].Sensors[0], inv[0].Sensors[1], inv[0].Sensors[2]
	if core.Celsius == nil || *core.Celsius != 72.5 || len(core.Thresholds) != 2 || core.Thresholds[1].Origin != "hardware: widget trip" ||
		fan.RPM == nil || *fan.RPM != 120 || fan.Failed != "below its minimum" || fan.Kind != "fan" ||
		!hot.Throttling || hot.Kind != "throttle" || !strings.Contains(js, `"widget": {`) {
		t.Errorf("probe --json:\n%s", js)
	}
	_, starter, _ := runThermal(t, append([]string{"probe", "--toml"}, src...)...)
	if !strings.Contains(starter, "source = \"widget\"\nchip = \"widget-virtual-0\"\nsensor = \"Core\"\nwarning = 70.0\ncritical = 90.0\n") {
		t.Errorf("probe --toml:\n%s", starter)
	}
	cfg := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(cfg, []byte(starter), 0o644)
	if code, _, stderr := runThermal(t, "check", "--sysfs", root, "--config", cfg); code != exitOK {
		t.Errorf("check of the starter file: exit %d: %s", code, stderr)
	}

	// check: each reading and threshold in its unit.
	_, out, _ := runThermal(t, append([]string{"check"}, src...)...)
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	for _, want := range []string{
		// The linked sources' 10 built-in rules and the widget's 2.
		"built-in defaults: OK (12 rules, 0 ignores, 0 labels)",
		"widget widget-virtual-0 Core 72.5 °C warning 70 °C 0s 1 °C 1h0m0s built-in rule 7",
		"widget widget-virtual-0 Core 72.5 °C critical 90 °C 1m0s 2 °C 1h0m0s hardware: widget trip",
		"widget widget-virtual-0 blower 120 RPM critical failed 1m0s - 1h0m0s built-in rule 8",
		"widget widget-virtual-0 throttling throttling critical throttling 0s - 1h0m0s built-in rule 12",
	} {
		if !slices.Contains(rows, want) {
			t.Errorf("check lacks %q:\n%s", want, out)
		}
	}

	// Events: the temperature, the fan and the throttling page.
	srv := newSentry(t, "7")
	stateDir, textfile := t.TempDir(), t.TempDir()
	args := []string{"--sysfs", root, "--dev", noDev, "--config", "builtin", "--textfile-dir", textfile, "--state-dir", stateDir}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if code, stderr := beatAt(t, t0.Add(time.Duration(i)*time.Minute), args...); code != exitOK {
			t.Fatalf("beat %d: exit %d: %s", i, code, stderr)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var msgs []string
	for _, ev := range srv.events {
		msgs = append(msgs, ev["message"].(string))
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"widget-virtual-0 (W-1) Core is 72.5 °C, above its warning threshold 70 °C",
		"fan blower of widget-virtual-0 (W-1) failed: below its minimum, 120 RPM",
		"widget-virtual-0 (W-1) keeps throttling for heat",
		": the widget says it is hot",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no event says %q; events:\n%s", want, all)
		}
	}
	if len(srv.events) != 3 {
		t.Errorf("%d events, want one per breach:\n%s", len(srv.events), all)
	}
}
