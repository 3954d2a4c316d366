package config

import (
	"github.com/thermal-heartbeat/thermal"
)

// Selector answers Ignored, Rename and AppendThresholds for the sensors of
// one chip at a time, exactly as the Config's methods of those names do,
// for less: every glob is compiled once, and the source and chip globs
// are matched once per chip (Select) instead of once per sensor. A
// Selector serves one goroutine, and the Config as it was when the
// Selector was made.
type Selector struct {
	cfg     *Config
	rules   []Rule  // cfg.Rules when made
	labels  []Label // cfg.Labels when made
	ignores []matcher
	labelMs []matcher // of labels
	ruleMs  []matcher // of rules
	display string    // cfg.DisplayPath(), once needed
	// Of the selected chip: the ignores, labels and rules (by index) whose
	// source and chip globs match it, in order.
	ignoreOn, labelOn, ruleOn []int
}

// Selector returns a Selector of the configuration, no chip selected.
func (c *Config) Selector() Selector {
	s := Selector{cfg: c, rules: c.Rules, labels: c.Labels}
	ni, nl, n := len(c.Ignores), len(c.Labels), len(c.Ignores)+len(c.Labels)+len(c.Rules)
	all := make([]matcher, 0, n)
	for i := range c.Ignores {
		all = append(all, compileMatch(&c.Ignores[i]))
	}
	for i := range c.Labels {
		all = append(all, compileMatch(&c.Labels[i].Match))
	}
	for i := range c.Rules {
		all = append(all, compileMatch(&c.Rules[i].Match))
	}
	s.ignores, s.labelMs, s.ruleMs = all[:ni:ni], all[ni:ni+nl:ni+nl], all[ni+nl:]
	on := make([]int, n)
	s.ignoreOn, s.labelOn, s.ruleOn = on[:0:ni], on[ni:ni:ni+nl], on[ni+nl:ni+nl]
	return s
}

// Select makes the chip source/chip the one whose sensors the Selector
// answers for, and reports whether it is ignored whole (Ignored with
// sensor "").
func (s *Selector) Select(source, chip string) (ignored bool) {
	s.ignoreOn = selectOn(s.ignoreOn, s.ignores, source, chip)
	s.labelOn = selectOn(s.labelOn, s.labelMs, source, chip)
	s.ruleOn = selectOn(s.ruleOn, s.ruleMs, source, chip)
	return s.Ignored("")
}

// selectOn sets on to the indices of the matchers whose source and chip
// globs match.
func selectOn(on []int, ms []matcher, source, chip string) []int {
	on = on[:0]
	for i := range ms {
		if ms[i].matchesChip(source, chip) {
			on = append(on, i)
		}
	}
	return on
}

// Ignored reports whether the selected chip's sensor is to be neither read
// nor reported; with sensor "", whether the whole chip is.
func (s *Selector) Ignored(sensor string) bool {
	for _, i := range s.ignoreOn {
		m := &s.ignores[i]
		if sensor == "" && m.sensor.op == globAny || sensor != "" && m.sensor.match(sensor) {
			return true
		}
	}
	return false
}

// Rename returns the name the selected chip's sensor is reported under.
func (s *Selector) Rename(sensor string) string {
	for _, i := range s.labelOn {
		if s.labelMs[i].sensor.match(sensor) {
			return s.labels[i].As
		}
	}
	return sensor
}

// AppendThresholds appends the thresholds in force for a sensor of the
// selected chip to dst (see Config.AppendThresholds).
func (s *Selector) AppendThresholds(dst []Threshold, sn *thermal.Sensor, kernelName string, hwWarn, hwCrit Threshold) []Threshold {
	kind := sn.Kind.RuleKind()
	for _, i := range s.ruleOn {
		r, m := &s.rules[i], &s.ruleMs[i]
		if r.Kind == kind && (m.sensor.match(kernelName) || m.sensor.match(sn.Name)) {
			return appendRule(dst, r, kind, s.origin(i, r), hwWarn, hwCrit)
		}
	}
	return appendHardware(dst, kind, hwWarn, hwCrit)
}

// origin is Config.origin, the configuration's path made absolute once.
func (s *Selector) origin(i int, r *Rule) thermal.Origin {
	if r.Builtin > 0 || s.cfg.Path == "" {
		return s.cfg.origin(i, r)
	}
	if s.display == "" {
		s.display = s.cfg.DisplayPath()
	}
	return thermal.Origin{Rule: i + 1, File: s.display, Line: r.Line}
}
