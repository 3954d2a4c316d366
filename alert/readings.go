package alert

import (
	"github.com/thermal-heartbeat/thermal"
)

// Readings pairs every reading of the chips with each of its thresholds,
// for Evaluate. A temperature is judged against its threshold in °C; a fan
// or a throttle sensor is 1 while it has failed or throttles (see
// Sensor.Failed, Sensor.Throttling) against 0.5. A sensor that could not
// be read says nothing (its breach neither fires nor clears), except a fan
// that failed without a speed (its fault bit).
func Readings(chips []thermal.Chip) []Reading {
	n := 0
	for i := range chips {
		for j := range chips[i].Sensors {
			n += len(chips[i].Sensors[j].Thresholds)
		}
	}
	rs := make([]Reading, 0, n)
	for i := range chips {
		c := &chips[i]
		for j := range c.Sensors {
			if sn := &c.Sensors[j]; len(sn.Thresholds) > 0 {
				rs = appendReadings(rs, c, sn)
			}
		}
	}
	return rs
}

// appendReadings appends sensor sn of chip c against each of its
// thresholds (see Readings).
func appendReadings(rs []Reading, c *thermal.Chip, sn *thermal.Sensor) []Reading {
	id := c.ID(sn)
	kind := sn.Kind.RuleKind()
	var failing bool
	switch kind {
	case thermal.KindTemperature:
		if sn.Err != nil {
			return rs
		}
		celsius := sn.Celsius()
		for _, t := range sn.Thresholds {
			rs = append(rs, Reading{Key: Key{SensorID: id, Level: t.Level},
				Celsius: celsius, Threshold: t.Celsius, For: t.For, Hysteresis: t.Hysteresis, Repeat: t.Repeat})
		}
		return rs
	case thermal.KindFan:
		if sn.Err != nil && sn.Failed == "" {
			return rs
		}
		failing = sn.Failed != ""
	default:
		if sn.Err != nil {
			return rs
		}
		failing = sn.Throttling
	}
	d := detail(sn)
	for _, t := range sn.Thresholds {
		rs = append(rs, Reading{Key: Key{SensorID: id, Level: t.Level}, Kind: kind, Related: c.Related,
			Celsius: b2f(failing), Threshold: 0.5, For: t.For, Repeat: t.Repeat, Detail: d})
	}
	return rs
}

func b2f(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// detail says how a fan or a throttling chip is doing, for its event: why
// a fan failed and its speed; a chip's throttle count and growth.
func detail(s *thermal.Sensor) string {
	if s.Kind != thermal.KindFan {
		return s.Detail
	}
	d := "no speed"
	if s.Err == nil {
		d = s.Format()
	}
	if s.Failed != "" {
		d = s.Failed + ", " + d
	}
	return d
}
