package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	_ "github.com/thermal-heartbeat/thermal/sources" // the built-in rules and hardware limits are the sources'
)

func TestDefaults(t *testing.T) {
	c := Default()
	if len(c.Rules) != 10 || c.Sentry.Monitor != "thermal-{hostname}" {
		t.Fatalf("defaults = %+v", c)
	}
	milli := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		chip   thermal.Chip
		sensor thermal.Sensor
		want   string // level@°C from origin, …
	}{
		{thermal.Chip{Source: "hwmon", Name: "coretemp-isa-0000"}, thermal.Sensor{Name: "Package id 0", Attr: "temp1", Max: milli(88000), Crit: milli(98000)},
			"warning@85 built-in rule 2,critical@98 hardware: temp1_crit"},
		{thermal.Chip{Source: "hwmon", Name: "coretemp-isa-0000"}, thermal.Sensor{Name: "Package id 0", Attr: "temp1", Crit: milli(80000)},
			"warning@85 built-in rule 2"}, // a hardware crit below the rule's warning is left out
		{thermal.Chip{Source: "hwmon", Name: "coretemp-isa-0000"}, thermal.Sensor{Name: "Core 0", Attr: "temp2", Max: milli(88000), Crit: milli(98000)},
			"warning@88 hardware: temp2_max,critical@98 hardware: temp2_crit"},
		{thermal.Chip{Source: "hwmon", Name: "k10temp-pci-00c3"}, thermal.Sensor{Name: "Tctl", Attr: "temp1"}, "warning@85 built-in rule 3"},
		{thermal.Chip{Source: "nvme", Name: "nvme-pci-0100"}, thermal.Sensor{Name: "Composite", Max: milli(81850), Crit: milli(84850)}, "warning@70 built-in rule 6,critical@84.85 hardware: NVMe CCTEMP"},
		{thermal.Chip{Source: "nvme", Name: "nvme-pci-0100"}, thermal.Sensor{Name: "Sensor 1"}, ""},
		{thermal.Chip{Source: "disk", Name: "drivetemp-scsi-0-0"}, thermal.Sensor{Name: "temp1", Attr: "temp1", Max: milli(60000), Crit: milli(70000)},
			"warning@55 built-in rule 1,critical@70 hardware: the drive's temperature limit"},
		{thermal.Chip{Source: "disk", Name: "drivetemp-scsi-2-0"}, thermal.Sensor{Name: "temp1", Attr: "temp1"}, "warning@55 built-in rule 1"},
		{thermal.Chip{Source: "thermal_zone", Name: "thermal_zone0"}, thermal.Sensor{Name: "acpitz", Crit: milli(119000)}, "critical@119 hardware: critical trip point"},
		{thermal.Chip{Source: "hwmon", Name: "amdgpu-pci-0300"}, thermal.Sensor{Name: "edge", Attr: "temp1", Emergency: milli(105000)}, "critical@105 hardware: temp1_emergency"},
		{thermal.Chip{Source: "hwmon", Name: "tmp102-i2c-0-49"}, thermal.Sensor{Name: "temp1", Attr: "temp1", Max: milli(0)}, ""},
	} {
		var got string
		for i, th := range thresholds(c, tc.chip, tc.sensor, tc.sensor.Name) {
			if i > 0 {
				got += ","
			}
			got += string(th.Level) + "@" + formatC(th.Celsius) + " " + th.Origin.String()
		}
		if got != tc.want {
			t.Errorf("%s %s: thresholds %q, want %q", tc.chip.Name, tc.sensor.Name, got, tc.want)
		}
	}
}

func formatC(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func TestParseValid(t *testing.T) {
	c, err := Parse("thermal.toml", []byte(`
[[rule]]
chip = "nct6798-*"
sensor = "SYSTIN"
warning = 60
critical = 75.5
for = "90s"
hysteresis = 3
repeat = "30m"

[[ignore]]
chip = "nct6798-*"
sensor = "AUXTIN*"

[[label]]
chip = "nct6798-*"
sensor = "SYSTIN"
as = "Motherboard"

[sentry]
monitor = "rack1-{hostname}"
environment = "production"
`))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Rules[0]
	if *r.Warning != 60 || *r.Critical != 75.5 || r.For != 90*time.Second || r.Hysteresis != 3 || r.Repeat != 30*time.Minute || r.Line != 2 {
		t.Errorf("rule = %+v", r)
	}
	if !c.Ignored("hwmon", "nct6798-isa-0290", "AUXTIN1") || c.Ignored("hwmon", "nct6798-isa-0290", "SYSTIN") || c.Ignored("hwmon", "nct6798-isa-0290", "") {
		t.Error("ignore matching is off")
	}
	if got := c.Rename("hwmon", "nct6798-isa-0290", "SYSTIN"); got != "Motherboard" {
		t.Errorf("Rename = %q", got)
	}
	if got := MonitorSlug(c.Sentry.Monitor, "Web-01.example.com"); got != "rack1-web-01-example-com" {
		t.Errorf("slug = %q", got)
	}
	// A rule matches the renamed sensor too.
	th := thresholds(c, thermal.Chip{Source: "hwmon", Name: "nct6798-isa-0290"}, thermal.Sensor{Name: "Motherboard"}, "SYSTIN")
	if len(th) != 2 || th[0].Origin.String() != "rule 1 ("+c.DisplayPath()+":2)" {
		t.Errorf("thresholds %+v", th)
	}
}

// TestParseInvalid maps broken files to their exact messages: each names the
// file and the line to fix.
func TestParseInvalid(t *testing.T) {
	for _, tc := range []struct {
		desc, file, want string
	}{
		{"syntax error", "[[rule]\nchip = 1\n",
			"bad.toml:2: expected end of table array name delimiter ']', but got '\\n' instead"},
		{"unknown key in a rule", "[[rule]]\nchip = \"x\"\nwarning = 80.0\n\n[[rule]]\nchipp = \"y\"\nwarning = 80.0\n",
			"bad.toml:6: unknown key \"chipp\" in [rule]"},
		{"a source's option of the wrong type", "[cpu]\nper_core = \"yes\"\n",
			"bad.toml:2: cpu.per_core must be true or false (no quotes), not a string"},
		{"a name that is a number", "[[rule]]\nchip = 5\nwarning = 80.0\n",
			"bad.toml:2: rule.chip must be a string (in quotes), not a number"},
		{"a push URL without a scheme", "[push]\nurl = \"vm:8428/api/v1/import/prometheus\"\n",
			"bad.toml:2: push.url: \"vm:8428/api/v1/import/prometheus\": want an http:// or https:// URL (VictoriaMetrics' /api/v1/import/prometheus, a Pushgateway's /metrics/job/thermal/instance/{hostname})"},
		{"a warning no sensor can reach", "[[rule]]\nchip = \"x\"\nwarning = -500.0\n",
			"bad.toml:3: rule 1: warning = -500 °C is outside what a sensor can report (-40 … 150 °C)"},
		{"a critical past any reading", "[[rule]]\nchip = \"x\"\ncritical = 1e300\n",
			"bad.toml:3: rule 1: critical = 1e+300 °C is outside what a sensor can report (-40 … 150 °C)"},
		{"a repeat every nanosecond", "[[rule]]\nchip = \"x\"\nwarning = 80.0\nrepeat = \"1ns\"\n",
			"bad.toml:4: rule 1: repeat = \"1ns\": 0 (announce once) or at least 1m: a beat runs every 30 s"},
		{"a for of a century", "[[rule]]\nchip = \"x\"\nwarning = 80.0\nfor = \"1000000h\"\n",
			"bad.toml:4: rule 1: for = \"1000000h\": at most 168h0m0s (a week)"},
		{"a hysteresis past reason", "[[rule]]\nchip = \"x\"\nwarning = 80.0\nhysteresis = 500.0\n",
			"bad.toml:4: rule 1: hysteresis must be 0 to 50 °C, not 500"},
		{"unknown top-level table", "[alerts]\nx = 1\n",
			"bad.toml:1: unknown key \"alerts\" (want rule, ignore, label, sentry, push, defaults, lm_sensors or cpu)"},
		{"unknown key in sentry", "[sentry]\ndsn = \"https://x\"\n",
			"bad.toml:2: unknown key \"dsn\" in [sentry]"},
		{"wrong type", "[[rule]]\nwarning = \"hot\"\n",
			"bad.toml:2: rule.warning must be a number (80 or 80.5, no quotes), not a string"},
		{"bad glob", "[[rule]]\nwarning = 80.0\n\n[[rule]]\nsensor = \"Core [\"\nwarning = 80.0\n",
			"bad.toml:5: rule 2: sensor = \"Core [\" is not a valid glob: syntax error in pattern"},
		{"bad duration", "[[rule]]\nwarning = 80.0\nfor = \"5 minutes\"\n",
			"bad.toml:3: rule 1: for = \"5 minutes\" is not a duration (like \"90s\", \"5m\", \"1h\")"},
		{"negative repeat", "[[rule]]\nwarning = 80.0\nrepeat = \"-1h\"\n",
			"bad.toml:3: rule 1: repeat = \"-1h\" is not a duration (like \"90s\", \"5m\", \"1h\")"},
		{"warning at critical", "[[rule]]\nchip = \"x\"\nwarning = 90.0\ncritical = 90.0\n",
			"bad.toml:3: rule 1: warning 90 °C must be below critical 90 °C"},
		{"NaN", "[[rule]]\nwarning = nan\n",
			"bad.toml:2: rule 1: warning must be a temperature in °C, not NaN"},
		{"infinite critical", "[[rule]]\ncritical = inf\n",
			"bad.toml:2: rule 1: critical must be a temperature in °C, not +Inf"},
		{"rule without thresholds", "\n[[rule]]\nchip = \"x\"\n",
			"bad.toml:2: rule 1: set warning, critical or both"},
		{"negative hysteresis", "[[rule]]\nwarning = 80.0\nhysteresis = -1.0\n",
			"bad.toml:3: rule 1: hysteresis must be 0 to 50 °C, not -1"},
		{"empty ignore", "[[ignore]]\n",
			"bad.toml:1: ignore 1: set source, chip or sensor (an empty ignore would ignore everything)"},
		{"label without as", "[[label]]\nsensor = \"SYSTIN\"\n",
			"bad.toml:1: label 1: set as = \"new name\""},
		{"[rule] for [[rule]]", "[rule]\nchip = \"x\"\nwarning = 80.0\n",
			"bad.toml:1: [rule] must be written [[rule]]: each rule is one entry of a list"},
		{"line after a multi-line string holding a table and a key", "[sentry]\nmonitor = \"\"\"\n[[rule]]\nwarnin = 1\n\"\"\"\n\n[[rule]]\nchip = \"x\"\nwarnin = 3\n",
			"bad.toml:9: unknown key \"warnin\" in [rule]"},
		{"quoted key", "[[rule]]\nchip = \"x\"\n\"warnin\" = 3\n",
			"bad.toml:3: unknown key \"warnin\" in [rule]"},
		{"too deep", "[[rule]]\nchip = \"x\"\nwarning = 1.0\nx = " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n",
			"bad.toml:4: tables and arrays nest 40 deep; at most 16"},
		{"bad slug", "[sentry]\nmonitor = \"Thermal Host\"\n",
			"bad.toml:2: sentry.monitor \"Thermal Host\" makes the slug \"Thermal Host\"; use lowercase letters, digits, - and _"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(tc.file))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Error("an explicitly given missing file loaded")
	}
	path := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(path, []byte("[[rule]]\nwarning = 1.0\ncritical = 0.5\n"), 0o644)
	if _, err := Load(path); err == nil || err.Error() != path+":2: rule 1: warning 1 °C must be below critical 0.5 °C" {
		t.Errorf("error = %v", err)
	}
}

// Whatever the file, Parse returns a config or an error naming the file,
// never panics, and a line it names is a line of the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(defaults))
	f.Add([]byte("[[rule]]\nchip = \"x\"\nwarnin = 3\n"))
	f.Add([]byte("[sentry]\nmonitor = \"\"\"\n[[rule]]\n\"\"\"\n"))
	f.Add([]byte("[rule]\n"))
	f.Add([]byte("x = {a={b={c=1}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.toml", data)
		if err == nil {
			if c == nil {
				t.Fatal("no config and no error")
			}
			return
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "f.toml:") {
			t.Fatalf("error does not name the file: %q", msg)
		}
		rest := strings.TrimPrefix(msg, "f.toml:")
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil && (n < 1 || n > bytes.Count(data, []byte("\n"))+1) {
				t.Fatalf("line %d outside the file's %d lines: %q", n, bytes.Count(data, []byte("\n"))+1, msg)
			}
		}
	})
}

// The built-in rules as Go values are the embedded defaults.toml, parsed.
func TestBuiltinMatchesDefaultsFile(t *testing.T) {
	parsed, err := Parse("", defaults)
	if err != nil {
		t.Fatal(err)
	}
	for i := range parsed.Rules {
		parsed.Rules[i].Line = 0 // the file's layout, not the rule
	}
	if got := builtin(); !reflect.DeepEqual(got, parsed) {
		t.Errorf("builtin() = %+v\nParse(defaults.toml) = %+v", got, parsed)
	}
}

// A user's file adds to the built-in rules (its own are tried first): one
// rule for a super-I/O must not drop the NVMe 70 °C warning (issue 12).
func TestUserRulesLayerOverTheDefaults(t *testing.T) {
	milli := func(v int64) *int64 { return &v }
	nvme := thermal.Chip{Source: "nvme", Name: "nvme-pci-0100"}
	composite := thermal.Sensor{Name: "Composite", Max: milli(81850), Crit: milli(84850)}
	c, err := Parse("my.toml", []byte("[[rule]]\nchip = \"nct*\"\nwarning = 60.0\n\n[[rule]]\nsensor = \"Composite\"\nchip = \"nvme-pci-0200\"\nwarning = 50.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	th := thresholds(c, nvme, composite, "Composite")
	if len(th) != 2 || th[0].Celsius != 70 || th[0].Origin.String() != "built-in rule 6" {
		t.Errorf("NVMe thresholds under a user file: %+v", th)
	}
	other := thermal.Chip{Source: "nvme", Name: "nvme-pci-0200"}
	if th := thresholds(c, other, composite, "Composite"); th[0].Celsius != 50 || !strings.HasSuffix(th[0].Origin.String(), "my.toml:5)") {
		t.Errorf("the user's rule does not come first: %+v", th)
	}
	c, err = Parse("my.toml", []byte("defaults = false\n\n[[rule]]\nchip = \"nct*\"\nwarning = 60.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if th := thresholds(c, nvme, composite, "Composite"); len(th) != 2 || th[0].Celsius != 81.85 {
		t.Errorf("defaults = false: %+v, want the drive's own limits", th)
	}
}

// thresholds is what the pipeline sets: the configuration's thresholds
// over the hardware limits as the chip's source names them.
func thresholds(c *Config, chip thermal.Chip, s thermal.Sensor, kernelName string) []Threshold {
	limits := thermal.HardwareThresholds
	if reg, ok := thermal.Lookup(chip.Source); ok {
		if src, err := reg.New(thermal.Env{Sysfs: "/nonexistent", Dev: "/nonexistent"}); err == nil {
			if l, ok := src.(thermal.Limiter); ok {
				limits = l.HardwareThresholds
			}
		}
	}
	warn, crit := limits(&chip, &s)
	return c.AppendThresholds(nil, &chip, &s, kernelName, warn, crit)
}
