package pipeline

import (
	"github.com/thermal-heartbeat/thermal/alert"
	"github.com/thermal-heartbeat/thermal/report"
)

// Readings pairs every reading of the snapshot with each of its thresholds,
// for alert.Evaluate.
func (s *Snapshot) Readings() []alert.Reading {
	var rs []alert.Reading
	for i := range s.Chips {
		c := &s.Chips[i]
		for j := range c.Sensors {
			sn := &c.Sensors[j]
			if sn.Err != nil {
				continue
			}
			id := c.ID(sn)
			for _, t := range s.Thresholds[id] {
				rs = append(rs, alert.Reading{Key: alert.Key{SensorID: id, Level: t.Level},
					Celsius: sn.Celsius(), Threshold: t.Celsius, For: t.For, Hysteresis: t.Hysteresis, Repeat: t.Repeat})
			}
		}
	}
	return rs
}

// Beat is the snapshot as report renders it, with the breaches firing now.
func (s *Snapshot) Beat(firing map[alert.Key]bool) report.Beat {
	b := report.Beat{Time: s.Time, Chips: s.Chips, Durations: s.Durations}
	for _, id := range s.ThresholdIDs() {
		for _, t := range s.Thresholds[id] {
			b.Thresholds = append(b.Thresholds, report.Threshold{SensorID: id, Level: t.Level, Celsius: t.Celsius,
				Firing: firing[alert.Key{SensorID: id, Level: t.Level}]})
		}
	}
	return b
}
