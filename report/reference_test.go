package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/thermal-heartbeat/thermal"
)

// referenceWrite renders a beat through client_golang's registry and
// expfmt, as the exposition was written before the fast path: the oracle
// the fast path must match byte for byte.
func referenceWrite(w io.Writer, b Beat) error {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(refCollector{b}); err != nil {
		return err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return err
		}
	}
	return nil
}

func desc(f *family) *prometheus.Desc {
	return prometheus.NewDesc(f.name, f.help, labelOrder(f), nil)
}

type refCollector struct{ b Beat }

func (c refCollector) Describe(ch chan<- *prometheus.Desc) {
	seen := map[string]bool{}
	for _, f := range []*family{famCelsius, famLimit, famTrip, famErrors, famSuspended, famDuration, famThreshold, famAlert, famHeartbeat, famConfigValid, famStateSaved, famFanRPM, famFanMin, famFanTarget, famFanFailed, famDuty, famPower, famPowerLimit} {
		ch <- desc(f)
	}
	for _, chip := range c.b.Chips {
		for _, s := range chip.Series {
			if !seen[s.Name] && !fixed[s.Name] {
				seen[s.Name] = true
				ch <- desc(extraFamily(chip, s))
			}
		}
	}
}

// bareFamily is the family of a series that belongs to no chip.
func bareFamily(s thermal.Series) *family {
	var names []string
	for _, l := range s.Labels {
		names = append(names, l.Name)
	}
	return newFamily(s.Name, s.Help, s.Counter, names...)
}

func extraFamily(chip thermal.Chip, s thermal.Series) *family {
	if chip.Aux {
		return bareFamily(s)
	}
	names := []string{"source", "chip"}
	for _, l := range s.Labels {
		names = append(names, l.Name)
	}
	return newFamily(s.Name, s.Help, s.Counter, names...)
}

func (c refCollector) Collect(ch chan<- prometheus.Metric) {
	seen := map[string]bool{}
	descs := map[string]*prometheus.Desc{}
	metric := func(f *family, v float64, labels ...string) {
		for i, l := range labels {
			labels[i] = strings.ToValidUTF8(l, "\uFFFD")
		}
		key := f.name + "\x00" + strings.Join(labels, "\x00")
		if seen[key] {
			return
		}
		seen[key] = true
		d := descs[f.name]
		if d == nil {
			d = desc(f)
			descs[f.name] = d
		}
		t := prometheus.GaugeValue
		if f.counter {
			t = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	extra := map[string]*family{}
	for _, chip := range c.b.Chips {
		if chip.Aux {
			for _, s := range chip.Series {
				if fixed[s.Name] {
					continue
				}
				f := extra[s.Name]
				if f == nil {
					f = bareFamily(s)
					extra[s.Name] = f
				}
				var labels []string
				for _, l := range s.Labels {
					labels = append(labels, l.Value)
				}
				if slicesEqual(labelOrder(f), labelOrder(bareFamily(s))) {
					metric(f, s.Value, labels...)
				}
			}
			continue
		}
		metric(famErrors, float64(chip.Errors), chip.Source, chip.Name)
		metric(famSuspended, b2f(chip.Asleep), chip.Source, chip.Name)
		for _, s := range chip.Series {
			if fixed[s.Name] {
				continue
			}
			f := extra[s.Name]
			if f == nil {
				f = extraFamily(chip, s)
				extra[s.Name] = f
			}
			if !slicesEqual(labelOrder(f), labelOrder(extraFamily(chip, s))) {
				continue
			}
			labels := []string{chip.Source, chip.Name}
			for _, l := range s.Labels {
				labels = append(labels, l.Value)
			}
			metric(f, s.Value, labels...)
		}
		for _, s := range chip.Sensors {
			switch s.Kind {
			case thermal.KindThrottle, thermal.KindThrottleCount:
				continue
			case thermal.KindDuty:
				if s.Err == nil {
					metric(famDuty, float64(s.Value)/1e6, chip.Source, chip.Name, s.Name)
				}
				continue
			case thermal.KindPower:
				if s.Err == nil {
					metric(famPower, float64(s.Value)/1000, chip.Source, chip.Name, s.Name)
				}
				if s.Max != nil {
					metric(famPowerLimit, float64(*s.Max)/1000, chip.Source, chip.Name, s.Name)
				}
				continue
			}
			if s.IsFan() {
				metric(famFanFailed, b2f(s.Failed != ""), chip.Source, chip.Name, s.Name)
				if s.FanMin != nil {
					metric(famFanMin, float64(*s.FanMin), chip.Source, chip.Name, s.Name)
				}
				if s.FanTarget != nil {
					metric(famFanTarget, float64(*s.FanTarget), chip.Source, chip.Name, s.Name)
				}
				if s.Err == nil {
					metric(famFanRPM, float64(s.Value), chip.Source, chip.Name, s.Name)
				}
				continue
			}
			if s.Err != nil {
				continue
			}
			metric(famCelsius, s.Celsius(), chip.Source, chip.Name, s.Name)
			for _, l := range []struct {
				name string
				v    *int64
			}{{"max", s.Max}, {"crit", s.Crit}, {"emergency", s.Emergency}, {"crit_hyst", s.CritHyst}} {
				if l.v != nil {
					metric(famLimit, thermal.Celsius(*l.v), chip.Source, chip.Name, s.Name, l.name)
				}
			}
			for _, l := range s.Limits {
				metric(famLimit, thermal.Celsius(l.Milli), chip.Source, chip.Name, s.Name, l.Name)
			}
			for _, t := range s.Trips {
				metric(famTrip, thermal.Celsius(t.Milli), chip.Source, chip.Name, s.Name, strconv.Itoa(t.Index), t.Type)
			}
		}
	}
	for _, chip := range c.b.Chips {
		for _, s := range chip.Sensors {
			for _, t := range s.Thresholds {
				firing := c.b.Firing != nil && c.b.Firing(chip.ID(&s), t.Level)
				if s.Kind == thermal.KindTemperature {
					metric(famThreshold, t.Celsius, chip.Source, chip.Name, s.Name, string(t.Level))
				}
				metric(famAlert, b2f(firing), chip.Source, chip.Name, s.Name, string(t.Level))
			}
		}
	}
	for source, d := range c.b.Durations {
		metric(famDuration, d.Seconds(), source)
	}
	metric(famHeartbeat, float64(c.b.Time.UnixMilli())/1e3)
	metric(famConfigValid, b2f(!c.b.ConfigInvalid))
	metric(famStateSaved, b2f(!c.b.StateUnsaved))
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// labelOrder returns the label names in the order the family's values are
// passed in.
func labelOrder(f *family) []string {
	out := make([]string, len(f.perm))
	for i, p := range f.perm {
		out[i] = f.labels[p]
	}
	return out
}
