package config

import (
	"github.com/thermal-heartbeat/thermal"
)

// Threshold is a threshold in force for one sensor.
type Threshold = thermal.Threshold

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
	return c.AppendThresholds(nil, &chip, &s, kernelName)
}

// AppendThresholds appends the sensor's thresholds (see Thresholds) to dst.
func (c *Config) AppendThresholds(dst []Threshold, chip *thermal.Chip, s *thermal.Sensor, kernelName string) []Threshold {
	if s.Kind != "" {
		// A fan fails or not, a chip throttles or not: the first rule of
		// that kind that matches says at which level and after how long.
		for i := range c.Rules {
			r := &c.Rules[i]
			if r.Kind == s.Kind && r.Matches(chip.Source, chip.Name, kernelName, s.Name) {
				return append(dst, Threshold{Kind: s.Kind, Level: r.Level, Origin: c.origin(i, r), For: r.For, Repeat: r.Repeat})
			}
		}
		return dst
	}
	hwWarn, hwCrit := hardware(chip, s)
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Kind != "" || !r.Matches(chip.Source, chip.Name, kernelName, s.Name) {
			continue
		}
		origin := c.origin(i, r)
		var warn, crit Threshold
		if r.Warning != nil {
			warn = Threshold{Level: thermal.Warning, Celsius: *r.Warning, Origin: origin, For: r.For, Hysteresis: r.Hysteresis, Repeat: r.Repeat}
		}
		if r.Critical != nil {
			crit = Threshold{Level: thermal.Critical, Celsius: *r.Critical, Origin: origin, For: r.For, Hysteresis: r.Hysteresis, Repeat: r.Repeat}
		}
		if warn.Level == "" && hwWarn.Level != "" && hwWarn.Celsius < crit.Celsius {
			warn = hwWarn
		}
		if crit.Level == "" && hwCrit.Level != "" && hwCrit.Celsius > warn.Celsius {
			crit = hwCrit
		}
		return appendSet(dst, warn, crit)
	}
	if hwWarn.Level != "" && hwCrit.Level != "" && hwWarn.Celsius >= hwCrit.Celsius {
		hwWarn = Threshold{}
	}
	return appendSet(dst, hwWarn, hwCrit)
}

// origin says where rule i came from.
func (c *Config) origin(i int, r *Rule) thermal.Origin {
	switch {
	case r.Builtin > 0:
		return thermal.Origin{Rule: r.Builtin}
	case c.Path == "":
		return thermal.Origin{Rule: i + 1}
	}
	return thermal.Origin{Rule: i + 1, File: c.DisplayPath(), Line: r.Line}
}

// appendSet appends the thresholds that are set (Level != "").
func appendSet(dst []Threshold, ts ...Threshold) []Threshold {
	for _, t := range ts {
		if t.Level != "" {
			dst = append(dst, t)
		}
	}
	return dst
}

// hardware returns the thresholds the hardware's own limits give; an unset
// one has Level "".
func hardware(chip *thermal.Chip, s *thermal.Sensor) (warn, crit Threshold) {
	if chip.Twin != "" && chip.Source != thermal.SourceZone {
		// One physical sensor pages once: the zone that exports this hwmon
		// chip owns the trip points.
		return warn, crit
	}
	hw := func(level thermal.Level, milli *int64, attr, limit string) Threshold {
		if milli == nil || *milli <= 0 {
			return Threshold{}
		}
		return Threshold{Level: level, Celsius: thermal.Celsius(*milli), Origin: thermal.Origin{Attr: attr, Limit: limit},
			For: DefaultFor, Hysteresis: DefaultHysteresis, Repeat: DefaultRepeat}
	}
	switch chip.Source {
	case thermal.SourceNVMe:
		warn = hw(thermal.Warning, s.Max, "", "NVMe WCTEMP")
		crit = hw(thermal.Critical, s.Crit, "", "NVMe CCTEMP")
	case thermal.SourceZone:
		crit = hw(thermal.Critical, s.Crit, "", "critical trip point")
	case thermal.SourceNVML:
		// An NVIDIA GPU: warning at the driver's slowdown temperature
		// (the memory's maximum operating one for Memory), critical at
		// shutdown.
		limit := "NVML slowdown"
		if s.Attr == "memory" {
			limit = "NVML memory max operating"
		}
		warn = hw(thermal.Warning, s.Max, "", limit)
		crit = hw(thermal.Critical, s.Crit, "", "NVML shutdown")
	default:
		warn = hw(thermal.Warning, s.Max, s.Attr, "_max")
		crit = hw(thermal.Critical, s.Crit, s.Attr, "_crit")
		if crit.Level == "" {
			crit = hw(thermal.Critical, s.Emergency, s.Attr, "_emergency")
		}
	}
	return warn, crit
}
