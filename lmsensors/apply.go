package lmsensors

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// Resolve returns the configuration with every chip pattern's i2c bus
// number translated, through the file's bus statements, to the number of
// this host's adapter of that name (read from <sysfs>/class/i2c-adapter).
// A pattern whose bus statement names no adapter here matches nothing; a
// bus number without a bus statement is taken as it is.
func (c *Config) Resolve(sysfs string) *Config {
	if c == nil {
		return nil
	}
	adapters := map[string][]int{} // name -> numbers
	dir := filepath.Join(sysfs, "class", "i2c-adapter")
	if names, err := sysread.ReadDirNames(dir, make([]byte, 8192)); err == nil {
		for _, n := range names {
			nr, err := strconv.Atoi(strings.TrimPrefix(n, "i2c-"))
			if err != nil {
				continue
			}
			if b, err := sysread.ReadFile(filepath.Join(dir, n, "name"), make([]byte, 256)); err == nil {
				name := sysread.Text(b)
				adapters[name] = append(adapters[name], nr)
			}
		}
	}
	bus := map[string][]int{} // "i2c-N" of the file -> numbers here
	for _, b := range c.Buses {
		var nrs []int
		for name, ns := range adapters {
			if glob(b.Adapter, name) {
				nrs = append(nrs, ns...)
			}
		}
		bus[b.Name] = nrs // the latest statement for a bus wins
	}
	out := &Config{Buses: c.Buses, Chips: make([]Chip, len(c.Chips))}
	for i, ch := range c.Chips {
		ch.Patterns = nil
		for _, p := range c.Chips[i].Patterns {
			m := i2cRE().FindStringSubmatchIndex(p)
			if m == nil {
				ch.Patterns = append(ch.Patterns, p)
				continue
			}
			nrs, declared := bus["i2c-"+p[m[2]:m[3]]]
			if !declared {
				ch.Patterns = append(ch.Patterns, p)
				continue
			}
			for _, nr := range nrs {
				ch.Patterns = append(ch.Patterns, p[:m[2]]+strconv.Itoa(nr)+p[m[3]:])
			}
		}
		out.Chips[i] = ch
	}
	return out
}

// i2cRE is compiled on first use: a beat without a sensors.conf bus
// statement never needs it, and every command's start paid for it.
var i2cRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`-i2c-(\d+)(-|$)`) })

// glob matches s against a pattern in which * stands for any run of
// characters, as libsensors' chip and adapter names use it.
func glob(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, part := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, part)
		}
		j := strings.Index(s, part)
		if j < 0 {
			return false
		}
		s = s[j+len(part):]
	}
	return true
}

// feature is the lm-sensors feature name of a sensor: its hwmon attribute
// prefix (temp1); for an NVMe controller read through the ioctl, the
// attribute the kernel's nvme hwmon chip gives the same sensor (Composite
// is temp1, Sensor N is temp(N+1)).
func feature(s *thermal.Sensor) string {
	if s.Attr == "composite" {
		return "temp1"
	}
	if n, ok := strings.CutPrefix(s.Attr, "sensor"); ok {
		if k, err := strconv.Atoi(n); err == nil {
			return "temp" + strconv.Itoa(k+1)
		}
	}
	return s.Attr
}

// matching returns the chip statements that match name, latest first.
func (c *Config) matching(name string) []*Chip {
	var out []*Chip
	for i := len(c.Chips) - 1; i >= 0; i-- {
		for _, p := range c.Chips[i].Patterns {
			if glob(p, name) {
				out = append(out, &c.Chips[i])
				break
			}
		}
	}
	return out
}

// Apply applies the statements that match chip to its sensors: ignored
// ones are dropped, labelled ones renamed, computed ones transformed
// (value and limits), then checked against rng. A chip on no bus (a
// thermal zone, a CPU's throttle counters) is not an lm-sensors chip and is
// left alone.
func (c *Config) Apply(chip *thermal.Chip, rng thermal.Range) {
	if c == nil || chip.Bus == "" {
		return
	}
	blocks := c.matching(chip.Name)
	if len(blocks) == 0 {
		return
	}
	kept := chip.Sensors[:0]
	for _, s := range chip.Sensors {
		f := feature(&s)
		ignored := false
		for _, b := range blocks {
			if b.Ignores[f] {
				ignored = true
				break
			}
		}
		if ignored {
			if s.Err != nil {
				chip.Errors--
			}
			continue
		}
		for _, b := range blocks {
			if l, ok := b.Labels[f]; ok {
				s.Name = l
				break
			}
		}
		for _, b := range blocks {
			if e, ok := b.Computes[f]; ok {
				compute(&s, e, rng, chip)
				break
			}
		}
		kept = append(kept, s)
	}
	chip.Sensors = kept
}

// compute transforms a sensor's value and limits by e, as libsensors does
// for every subfeature of the feature.
func compute(s *thermal.Sensor, e Expr, rng thermal.Range, chip *thermal.Chip) {
	if s.Kind == thermal.KindPower || s.Kind == thermal.KindDuty {
		return // computes are applied to temperatures and fans only
	}
	if s.IsFan() {
		computeFan(s, e, chip)
		return
	}
	apply := func(milli int64) (int64, error) {
		v, err := e.Eval(thermal.Celsius(milli))
		if err != nil {
			return 0, err
		}
		return int64(v*1000 + copysign(0.5, v)), nil
	}
	for _, l := range []**int64{&s.Max, &s.Crit, &s.Emergency, &s.CritHyst} {
		if *l == nil {
			continue
		}
		if v, err := apply(**l); err == nil {
			*l = rng.Limit(v)
		} else {
			*l = nil
		}
	}
	for i := range s.Trips {
		if v, err := apply(s.Trips[i].Milli); err == nil {
			s.Trips[i].Milli = v
		}
	}
	if s.Err != nil {
		return
	}
	v, err := apply(s.Value)
	if err == nil {
		err = rng.Check(v)
	}
	if err != nil {
		s.Err = fmt.Errorf("lm_sensors compute for %s: %w", feature(s), err)
		chip.Errors++
		return
	}
	s.Value = v
}

func copysign(a, b float64) float64 {
	if b < 0 {
		return -a
	}
	return a
}

// computeFan transforms a fan's speed, minimum and target (RPM).
func computeFan(s *thermal.Sensor, e Expr, chip *thermal.Chip) {
	apply := func(rpm int64) (int64, error) {
		v, err := e.Eval(float64(rpm))
		if err != nil {
			return 0, err
		}
		return int64(v + copysign(0.5, v)), nil
	}
	for _, l := range []**int64{&s.FanMin, &s.FanTarget} {
		if *l != nil {
			if v, err := apply(**l); err == nil {
				*l = &v
			} else {
				*l = nil
			}
		}
	}
	if s.Err != nil {
		return
	}
	v, err := apply(s.Value)
	if err == nil && v < 0 {
		err = fmt.Errorf("%d RPM: %w", v, thermal.ErrOutOfRange)
	}
	if err != nil {
		s.Err = fmt.Errorf("lm_sensors compute for %s: %w", feature(s), err)
		chip.Errors++
		return
	}
	s.Value = v
}
