package config

import (
	"fmt"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// Threshold is a threshold in force for one sensor, with where it came from.
type Threshold struct {
	Level      thermal.Level
	Celsius    float64
	Origin     string // "rule 2 (/etc/thermal-heartbeat/thermal.toml:14)", "hardware tempN_max", …
	For        time.Duration
	Hysteresis float64 // °C
	Repeat     time.Duration
}

// Ignored reports whether the sensor (or, with sensor "", the whole chip)
// is to be neither read nor reported.
func (c *Config) Ignored(source, chip, sensor string) bool {
	for _, m := range c.Ignores {
		if sensor == "" {
			if m.Sensor == "" && m.Matches(source, chip, "") {
				return true
			}
			continue
		}
		if m.Matches(source, chip, sensor) {
			return true
		}
	}
	return false
}

// Rename returns the name a sensor is reported under: the first matching
// [[label]]'s, else its own.
func (c *Config) Rename(source, chip, sensor string) string {
	for _, l := range c.Labels {
		if l.Matches(source, chip, sensor) {
			return l.As
		}
	}
	return sensor
}

// Thresholds returns the thresholds in force for a sensor, warning first:
// those of the first matching rule; a level that rule leaves unset, and
// every level when no rule matches, comes from the hardware's own limits
// (hwmon max and crit, or emergency when there is no crit; NVMe WCTEMP and
// CCTEMP; a zone's critical trip point), as long as the warning stays below
// the critical. Hardware limits at or below 0 °C are taken
// as unset (tmp102 powers up with max = 0). kernelName is the sensor's
// name before any [[label]], name after; a rule may use either.
func (c *Config) Thresholds(chip thermal.Chip, s thermal.Sensor, kernelName string) []Threshold {
	hwWarn, hwCrit := hardware(chip, s)
	for i, r := range c.Rules {
		if !r.Matches(chip.Source, chip.Name, kernelName, s.Name) {
			continue
		}
		origin := fmt.Sprintf("rule %d (%s:%d)", i+1, c.DisplayPath(), r.Line)
		if c.Path == "" {
			origin = fmt.Sprintf("built-in rule %d", i+1)
		}
		rule := func(level thermal.Level, v float64) *Threshold {
			return &Threshold{Level: level, Celsius: v, Origin: origin, For: r.For, Hysteresis: r.Hysteresis, Repeat: r.Repeat}
		}
		var warn, crit *Threshold
		if r.Warning != nil {
			warn = rule(thermal.Warning, *r.Warning)
		}
		if r.Critical != nil {
			crit = rule(thermal.Critical, *r.Critical)
		}
		if warn == nil && hwWarn != nil && hwWarn.Celsius < crit.Celsius {
			warn = hwWarn
		}
		if crit == nil && hwCrit != nil && hwCrit.Celsius > warn.Celsius {
			crit = hwCrit
		}
		return pair(warn, crit)
	}
	if hwWarn != nil && hwCrit != nil && hwWarn.Celsius >= hwCrit.Celsius {
		hwWarn = nil
	}
	return pair(hwWarn, hwCrit)
}

func pair(warn, crit *Threshold) []Threshold {
	var out []Threshold
	for _, t := range []*Threshold{warn, crit} {
		if t != nil {
			out = append(out, *t)
		}
	}
	return out
}

// hardware returns the thresholds the hardware's own limits give.
func hardware(chip thermal.Chip, s thermal.Sensor) (warn, crit *Threshold) {
	if chip.Twin != "" && chip.Source != thermal.SourceZone {
		// One physical sensor pages once: the zone that exports this hwmon
		// chip owns the trip points.
		return nil, nil
	}
	hw := func(level thermal.Level, milli *int64, origin string) *Threshold {
		if milli == nil || *milli <= 0 {
			return nil
		}
		return &Threshold{Level: level, Celsius: thermal.Celsius(*milli), Origin: origin,
			For: DefaultFor, Hysteresis: DefaultHysteresis, Repeat: DefaultRepeat}
	}
	switch chip.Source {
	case thermal.SourceNVMe:
		warn = hw(thermal.Warning, s.Max, "hardware: NVMe WCTEMP")
		crit = hw(thermal.Critical, s.Crit, "hardware: NVMe CCTEMP")
	case thermal.SourceZone:
		crit = hw(thermal.Critical, s.Crit, "hardware: critical trip point")
	default:
		warn = hw(thermal.Warning, s.Max, "hardware: "+s.Attr+"_max")
		crit = hw(thermal.Critical, s.Crit, "hardware: "+s.Attr+"_crit")
		if crit == nil {
			crit = hw(thermal.Critical, s.Emergency, "hardware: "+s.Attr+"_emergency")
		}
	}
	return warn, crit
}
