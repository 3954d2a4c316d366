package config

import (
	"slices"
	"sync"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// fanRule is the built-in rule of no particular source: any fan that
// fails pages.
var fanRule = thermal.Rule{Kind: thermal.KindFan, Level: thermal.Critical, For: time.Minute, Repeat: time.Hour,
	Comment: "Fans: any fan that fails (a fault or alarm bit, below its minimum, or\nstopped after it was seen spinning)."}

// builtinRule is one built-in rule and the source that ships it ("" for
// one of no particular source).
type builtinRule struct {
	Source string
	thermal.Rule
}

// builtinRules returns the built-in rules in the order they are tried: the
// temperature rules of the registered sources (by source name), the fan
// rule, then the other kinds' rules of the sources. defaults.toml is these
// rules written out (a test in package sources keeps the two the same).
func builtinRules() []builtinRule {
	regs := thermal.Registered()
	var out []builtinRule
	for _, r := range regs {
		for _, rule := range r.Rules {
			if rule.Kind == thermal.KindTemperature {
				out = append(out, builtinRule{r.Name, rule})
			}
		}
	}
	out = append(out, builtinRule{"", fanRule})
	for _, r := range regs {
		for _, rule := range r.Rules {
			if rule.Kind != thermal.KindTemperature {
				out = append(out, builtinRule{r.Name, rule})
			}
		}
	}
	return out
}

// builtin is the built-in configuration as Go values: a beat starts from
// the built-in rules every time, and decoding TOML cost a tenth of a small
// beat's CPU.
func builtin() *Config {
	brs := builtinRules()
	c := &Config{Rules: make([]Rule, 0, len(brs)), Sentry: Sentry{Monitor: "thermal-{hostname}"}}
	for _, br := range brs {
		r := Rule{Match: Match{Source: br.Source, Chip: br.Chip, Sensor: br.Sensor}, Kind: br.Kind,
			For: br.For, Repeat: br.Repeat, Hysteresis: br.Hysteresis, Level: br.Level}
		if br.Kind == thermal.KindTemperature {
			r.Level = ""
			if br.Warning != 0 {
				r.Warning = &br.Warning
			}
			if br.Critical != 0 {
				r.Critical = &br.Critical
			}
		}
		c.Rules = append(c.Rules, r)
	}
	return c
}

// The built-in configuration is built once per registry: a test that
// registers a source of its own sees its rules.
var (
	defaultMu   sync.Mutex
	defaultCfg  *Config
	defaultRegs []string
)

func defaultConfig() *Config {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	var names []string
	for _, r := range thermal.Registered() {
		names = append(names, r.Name)
	}
	if defaultCfg == nil || !slices.Equal(names, defaultRegs) {
		defaultCfg, defaultRegs = builtin(), names
	}
	return defaultCfg
}
