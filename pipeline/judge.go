package pipeline

import (
	"strconv"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
	"github.com/thermal-heartbeat/thermal/report"
)

// Readings pairs every reading of the snapshot with each of its thresholds,
// for alert.Evaluate.
func (s *Snapshot) Readings() []alert.Reading {
	n := 0
	for i := range s.Chips {
		for j := range s.Chips[i].Sensors {
			n += len(s.Chips[i].Sensors[j].Thresholds)
		}
	}
	rs := make([]alert.Reading, 0, n)
	for i := range s.Chips {
		c := &s.Chips[i]
		for j := range c.Sensors {
			sn := &c.Sensors[j]
			switch sn.Kind {
			case thermal.KindFan:
				// A failed fan is 1 against a threshold of 0.5; a faulted
				// one has no speed but has failed. One that could not be
				// read says nothing: its breach neither fires nor clears.
				if sn.Err != nil && sn.Failed == "" {
					continue
				}
				for _, t := range sn.Thresholds {
					rs = append(rs, alert.Reading{Key: alert.Key{SensorID: c.ID(sn), Level: t.Level}, Kind: thermal.KindFan,
						Celsius: b2f(sn.Failed != ""), Threshold: 0.5, For: t.For, Repeat: t.Repeat, Detail: fanDetail(sn)})
				}
				continue
			case thermal.KindThrottle:
				if sn.Err != nil {
					continue
				}
				for _, t := range sn.Thresholds {
					rs = append(rs, alert.Reading{Key: alert.Key{SensorID: c.ID(sn), Level: t.Level}, Kind: thermal.KindThrottle,
						Celsius: b2f(sn.Milli > 0), Threshold: 0.5, For: t.For, Repeat: t.Repeat, Detail: sn.Detail})
				}
				continue
			}
			if sn.Err != nil {
				continue
			}
			for _, t := range sn.Thresholds {
				rs = append(rs, alert.Reading{Key: alert.Key{SensorID: c.ID(sn), Level: t.Level},
					Celsius: sn.Celsius(), Threshold: t.Celsius, For: t.For, Hysteresis: t.Hysteresis, Repeat: t.Repeat})
			}
		}
	}
	return rs
}

func b2f(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// fanDetail says how a fan is doing, for its event.
func fanDetail(s *thermal.Sensor) string {
	d := "no speed"
	if s.Err == nil {
		d = strconv.FormatInt(s.Milli, 10) + " RPM"
	}
	if s.Failed != "" {
		d = s.Failed + ", " + d
	}
	return d
}

// Beat is the snapshot as report renders it, with the breaches firing now.
func (s *Snapshot) Beat(firing map[alert.Key]bool) report.Beat {
	b := report.Beat{Time: s.Time, Chips: s.Chips, Durations: s.Durations}
	if len(firing) > 0 {
		b.Firing = func(id thermal.SensorID, level thermal.Level) bool {
			return firing[alert.Key{SensorID: id, Level: level}]
		}
	}
	return b
}
