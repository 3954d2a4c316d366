package config

import (
	"path"
	"reflect"
	"strconv"
	"testing"

	"github.com/thermal-heartbeat/thermal"
)

// globSeeds are patterns of every shape compileGlob tells apart, malformed
// ones included (a Config built in Go is not validated).
var globSeeds = []string{"", "*", "**", "Core 1", "Core*", "*TIN", "*-isa-0000", "coretemp-*", "a/*", "*/b",
	"Core\\ 1", "?ore 1", "[A-C]*", "[^a]x", "*a*", "a*b", "[", "\\", "a[", "*[", "[]a]", "[a-", "é*", "*é"}

// globNames are names to match them against: slashes, empty, non-UTF-8.
var globNames = []string{"", "Core 1", "Core 10", "Core", "SYSTIN", "CPUTIN", "coretemp-isa-0000", "a/b", "a/", "/b",
	"x/Core 1", "Core/1", "aTIN/TIN", "é", "éx", "\xff*", "]a", "a"}

// A compiled glob agrees with Match's: "" matches anything, else
// path.Match, a malformed pattern nothing.
func FuzzGlob(f *testing.F) {
	for _, p := range globSeeds {
		for _, s := range globNames {
			f.Add(p, s)
		}
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		ok, _ := path.Match(pattern, name)
		want := pattern == "" || ok
		if got := compileGlob(pattern).match(name); got != want {
			t.Fatalf("glob %q on %q = %v, path.Match says %v", pattern, name, got, want)
		}
	})
}

// selectorConfigs are configurations a Selector must agree with the
// Config on: the built-in one, a file of every glob shape, one built in Go
// with malformed globs.
func selectorConfigs(t *testing.T) map[string]*Config {
	t.Helper()
	file, err := Parse("t.toml", []byte(`
[[rule]]
chip = "coretemp-*"
sensor = "Core 1*"
warning = 30.0
[[rule]]
source = "h*"
chip = "*-isa-0000"
sensor = "*2"
critical = 42.0
[[rule]]
sensor = "[A-C]*"
warning = 20.0
[[rule]]
kind = "fan"
chip = "nct*"
sensor = "fan[12]"
[[ignore]]
chip = "nct*"
sensor = "AUXTIN*"
[[ignore]]
chip = "tmp421-*"
[[label]]
chip = "nct*"
sensor = "SYSTIN"
as = "Board"
[[label]]
sensor = "?PUTIN"
as = "CPU"
`))
	if err != nil {
		t.Fatal(err)
	}
	w := 50.0
	malformed := &Config{Path: "m.toml",
		Rules:   []Rule{{Match: Match{Chip: "a[", Sensor: "*"}, Warning: &w}, {Match: Match{Sensor: "[", Line: 3}, Warning: &w}, {Match: Match{Sensor: "Core*"}, Warning: &w}},
		Ignores: []Match{{Source: "\\"}, {Chip: "*[", Sensor: "x"}, {Source: "hwmon", Chip: "tmp*"}},
		Labels:  []Label{{Match: Match{Sensor: "[]a]"}, As: "A"}, {Match: Match{Sensor: "*"}, As: "any"}}}
	return map[string]*Config{"builtin": Default(), "file": file, "malformed": malformed}
}

// A Selector answers Ignored, Rename and AppendThresholds as the Config
// does, for every chip and sensor.
func TestSelectorAgreesWithConfig(t *testing.T) {
	kinds := []thermal.Kind{thermal.KindTemperature, thermal.KindFan, thermal.KindThrottle, thermal.KindThrottleCount, thermal.KindDuty}
	hw := []Threshold{{}, {Level: thermal.Warning, Celsius: 60}, {Level: thermal.Critical, Celsius: 95}, {Level: thermal.Critical, Celsius: 10}}
	sources := []string{"hwmon", "nvme", "disk", "cpu", "h/x", ""}
	chips := []string{"coretemp-isa-0000", "nct6798-isa-0290", "tmp421-i2c-0-4c", "a[", "nvme-pci-0100", "", "a/b"}
	for name, cfg := range selectorConfigs(t) {
		sel := cfg.Selector()
		for _, source := range sources {
			for _, chip := range chips {
				c := thermal.Chip{Source: source, Name: chip}
				if got, want := sel.Select(source, chip), cfg.Ignored(source, chip, ""); got != want {
					t.Errorf("%s: %s/%s ignored = %v, want %v", name, source, chip, got, want)
				}
				for _, sensor := range append(globNames, "AUXTIN0", "SYSTIN", "CPUTIN", "fan1", "Package id 0", "Composite", "temp1", "under_voltage") {
					if got, want := sel.Ignored(sensor), cfg.Ignored(source, chip, sensor); got != want {
						t.Errorf("%s: %s/%s/%s ignored = %v, want %v", name, source, chip, sensor, got, want)
					}
					renamed := cfg.Rename(source, chip, sensor)
					if got := sel.Rename(sensor); got != renamed {
						t.Errorf("%s: %s/%s/%s renamed %q, want %q", name, source, chip, sensor, got, renamed)
					}
					for i, kind := range kinds {
						s := thermal.Sensor{Kind: kind, Name: renamed, Attr: "temp" + strconv.Itoa(i)}
						w, cr := hw[i%len(hw)], hw[(i+2)%len(hw)]
						want := cfg.AppendThresholds(nil, &c, &s, sensor, w, cr)
						if got := sel.AppendThresholds(nil, &s, sensor, w, cr); !reflect.DeepEqual(got, want) {
							t.Errorf("%s: %s/%s/%s (%q) thresholds %+v, want %+v", name, source, chip, sensor, kind, got, want)
						}
					}
				}
			}
		}
	}
}

// Whatever the globs, a Selector agrees with the Config.
func FuzzSelector(f *testing.F) {
	for i, p := range globSeeds {
		f.Add(p, globSeeds[(i+3)%len(globSeeds)], globSeeds[(i+7)%len(globSeeds)], "hwmon", "coretemp-isa-0000", globNames[i%len(globNames)])
	}
	f.Fuzz(func(t *testing.T, source, chip, sensor, src, chipName, name string) {
		w := 70.0
		m := Match{Source: source, Chip: chip, Sensor: sensor}
		cfg := &Config{Rules: []Rule{{Match: m, Warning: &w}, {Match: m, Kind: thermal.KindFan, Level: thermal.Critical}},
			Ignores: []Match{m}, Labels: []Label{{Match: m, As: "x"}}}
		sel := cfg.Selector()
		if got, want := sel.Select(src, chipName), cfg.Ignored(src, chipName, ""); got != want {
			t.Fatalf("chip ignored = %v, want %v", got, want)
		}
		if got, want := sel.Ignored(name), cfg.Ignored(src, chipName, name); got != want {
			t.Fatalf("ignored = %v, want %v", got, want)
		}
		if got, want := sel.Rename(name), cfg.Rename(src, chipName, name); got != want {
			t.Fatalf("renamed %q, want %q", got, want)
		}
		c := thermal.Chip{Source: src, Name: chipName}
		for _, kind := range []thermal.Kind{thermal.KindTemperature, thermal.KindFan} {
			s := thermal.Sensor{Kind: kind, Name: name}
			want := cfg.AppendThresholds(nil, &c, &s, "kernel", Threshold{}, Threshold{})
			if got := sel.AppendThresholds(nil, &s, "kernel", Threshold{}, Threshold{}); !reflect.DeepEqual(got, want) {
				t.Fatalf("%q thresholds %+v, want %+v", kind, got, want)
			}
		}
	})
}
