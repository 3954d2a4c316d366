package config

import (
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// builtin is defaults.toml as Go values: a beat starts from the built-in
// rules every time, and decoding TOML cost a tenth of a small beat's CPU.
// TestBuiltinMatchesDefaultsFile keeps the two the same.
func builtin() *Config {
	f := func(v float64) *float64 { return &v }
	rule := func(line int, source, chip, sensor string, warning float64) Rule {
		return Rule{Match: Match{Source: source, Chip: chip, Sensor: sensor, Line: line}, Warning: f(warning),
			For: time.Minute, Hysteresis: 2, Repeat: time.Hour}
	}
	kind := func(line int, source, kind string, level thermal.Level, f time.Duration) Rule {
		return Rule{Match: Match{Source: source, Line: line}, Kind: kind, Level: level, For: f, Repeat: time.Hour}
	}
	return &Config{
		Rules: []Rule{
			rule(5, "hwmon", "coretemp-*", "Package id *", 85),
			rule(14, "hwmon", "k10temp-*", "Tctl", 85),
			rule(23, "hwmon", "k10temp-*", "Tdie", 85),
			rule(32, "hwmon", "cpu_thermal-*", "", 85),
			rule(41, "nvme", "", "Composite", 70),
			kind(51, "", thermal.KindFan, thermal.Critical, time.Minute),
			kind(59, "cpu", KindThrottle, thermal.Warning, 5*time.Minute),
			kind(66, "nvml", KindThrottle, thermal.Warning, 5*time.Minute),
		},
		Sentry: Sentry{Monitor: "thermal-{hostname}"},
	}
}
