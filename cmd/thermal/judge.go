package main

import (
	"cmp"
	"slices"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/report"
)

// sensorRef names a sensor as it is reported.
type sensorRef struct{ source, chip, sensor string }

// applyConfig drops ignored chips and sensors (hwmon skips them before
// reading; this catches the other sources), renames sensors with a
// [[label]], and returns the thresholds in force for every remaining sensor.
func applyConfig(cfg *config.Config, chips []thermal.Chip) ([]thermal.Chip, map[sensorRef][]config.Threshold) {
	th := map[sensorRef][]config.Threshold{}
	out := chips[:0]
	for _, c := range chips {
		if cfg.Ignored(c.Source, c.Name, "") {
			continue
		}
		kept := c.Sensors[:0]
		var kernel []string
		for _, s := range c.Sensors {
			if cfg.Ignored(c.Source, c.Name, s.Name) {
				if s.Err != nil {
					c.Errors-- // an ignored sensor's failure is not ours to count
				}
				continue
			}
			kernel = append(kernel, s.Name)
			s.Name = cfg.Rename(c.Source, c.Name, s.Name)
			kept = append(kept, s)
		}
		// Two sensors renamed alike stay two series.
		thermal.UniqueSensorNames(kept)
		for i, s := range kept {
			if t := cfg.Thresholds(c, s, kernel[i]); len(t) > 0 {
				th[sensorRef{c.Source, c.Name, s.Name}] = t
			}
		}
		c.Sensors = kept
		out = append(out, c)
	}
	return out, th
}

// alertReadings pairs every reading of the beat with its thresholds.
func alertReadings(chips []thermal.Chip, th map[sensorRef][]config.Threshold) []alert.Reading {
	var rs []alert.Reading
	for _, c := range chips {
		for _, s := range c.Sensors {
			if s.Err != nil {
				continue
			}
			for _, t := range th[sensorRef{c.Source, c.Name, s.Name}] {
				rs = append(rs, alert.Reading{
					Key:     alert.Key{Source: c.Source, Chip: c.Name, Sensor: s.Name, Level: string(t.Level)},
					Celsius: s.Celsius(), Threshold: t.Celsius, For: t.For, Hysteresis: t.Hysteresis, Repeat: t.Repeat,
				})
			}
		}
	}
	return rs
}

// reportThresholds lists the thresholds for the textfile, with whether each
// is firing.
func reportThresholds(th map[sensorRef][]config.Threshold, firing map[alert.Key]bool) []report.Threshold {
	var out []report.Threshold
	for ref, ts := range th {
		for _, t := range ts {
			out = append(out, report.Threshold{Source: ref.source, Chip: ref.chip, Sensor: ref.sensor, Level: string(t.Level), Celsius: t.Celsius,
				Firing: firing[alert.Key{Source: ref.source, Chip: ref.chip, Sensor: ref.sensor, Level: string(t.Level)}]})
		}
	}
	slices.SortFunc(out, func(a, b report.Threshold) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Chip, b.Chip), cmp.Compare(a.Sensor, b.Sensor), cmp.Compare(a.Level, b.Level))
	})
	return out
}

// sensorsRead maps every sensor with a value in this beat to it, in °C.
func sensorsRead(chips []thermal.Chip) map[alert.SensorID]float64 {
	m := map[alert.SensorID]float64{}
	for _, c := range chips {
		for _, s := range c.Sensors {
			if s.Err == nil {
				m[alert.SensorID{Source: c.Source, Chip: c.Name, Sensor: s.Name}] = s.Celsius()
			}
		}
	}
	return m
}

// readingCount is how many sensors produced a value.
func readingCount(chips []thermal.Chip) int {
	n := 0
	for _, c := range chips {
		for _, s := range c.Sensors {
			if s.Err == nil {
				n++
			}
		}
	}
	return n
}
