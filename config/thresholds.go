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

// AppendThresholds appends the thresholds in force for a sensor to dst,
// warning first: those of the first matching rule; a level that rule
// leaves unset, and every level when no rule matches, comes from the
// hardware's own limits (hwWarn, hwCrit: what the sensor's source makes of
// its limits, see thermal.Limiter; Level "" when unset), as long as the
// warning stays below the critical. kernelName is the sensor's name before
// any [[label]], s.Name after; a rule may use either. A fan or a throttle
// sensor gets the first rule of its kind that matches.
func (c *Config) AppendThresholds(dst []Threshold, chip *thermal.Chip, s *thermal.Sensor, kernelName string, hwWarn, hwCrit Threshold) []Threshold {
	kind := s.Kind.RuleKind()
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Kind == kind && r.Matches(chip.Source, chip.Name, kernelName, s.Name) {
			return appendRule(dst, r, kind, c.origin(i, r), hwWarn, hwCrit)
		}
	}
	return appendHardware(dst, kind, hwWarn, hwCrit)
}

// appendRule appends the thresholds that rule r, of origin, sets for a
// sensor whose kind it is: a fan or a throttle sensor's level, a
// temperature's warning and critical, a level the rule leaves unset from
// the hardware's limits (as AppendThresholds says).
func appendRule(dst []Threshold, r *Rule, kind thermal.Kind, origin thermal.Origin, hwWarn, hwCrit Threshold) []Threshold {
	if kind != thermal.KindTemperature {
		// A fan fails or not, a chip throttles or not: the rule says at
		// which level and after how long.
		return append(dst, Threshold{Kind: kind, Level: r.Level, Origin: origin, For: r.For, Repeat: r.Repeat})
	}
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

// appendHardware appends the thresholds of a sensor no rule matched: a
// temperature's hardware limits, the warning only below the critical.
func appendHardware(dst []Threshold, kind thermal.Kind, hwWarn, hwCrit Threshold) []Threshold {
	if kind != thermal.KindTemperature {
		return dst
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
