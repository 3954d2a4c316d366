package alert

import (
	"time"

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
	kind, failing, ok := judgeable(sn)
	if !ok {
		return rs
	}
	var d string
	if kind != thermal.KindTemperature {
		d = detail(sn)
	}
	for k := range sn.Thresholds {
		r := readingOf(c, sn, kind, failing, &sn.Thresholds[k])
		r.Detail = d
		rs = append(rs, r)
	}
	return rs
}

// EvaluateChips is Evaluate with the readings of the chips (Readings) and
// every sensor of theirs read this beat, of any kind but a fan's duty and
// a power reading (which have no thresholds, and may share a
// temperature's name): what a beat judges. It walks the chips instead of
// building either, so that a beat where nothing is pending, firing or
// breaching allocates nothing.
func EvaluateChips(st *State, now time.Time, chips []thermal.Chip, announce bool) []Transition {
	e := evaluation{now: now, announce: announce}
	e.load(st)
	for i := range chips {
		c := &chips[i]
		for j := range c.Sensors {
			if sn := &c.Sensors[j]; len(sn.Thresholds) > 0 {
				e.sensor(c, sn)
			}
		}
	}
	return e.finish(st, func(id thermal.SensorID) (float64, bool) {
		return readValue(chips, id)
	})
}

// sensor judges sensor sn of chip c against each of its thresholds, as
// Evaluate judges its readings (see Readings), building a reading only
// when there is something to judge.
func (e *evaluation) sensor(c *thermal.Chip, sn *thermal.Sensor) {
	kind, failing, ok := judgeable(sn)
	if !ok {
		return
	}
	for k := range sn.Thresholds {
		t := &sn.Thresholds[k]
		if v, th := value(sn, kind, failing, t); !(v > th) && !e.holds(c, sn, t.Level) {
			continue // nothing to judge
		}
		r := readingOf(c, sn, kind, failing, t)
		if e.judge(&r) && kind != thermal.KindTemperature {
			e.out[len(e.out)-1].Detail = detail(sn) // made for events only
		}
	}
}

// holds reports whether a breach of sensor sn of chip c at level is
// pending or firing.
func (e *evaluation) holds(c *thermal.Chip, sn *thermal.Sensor, level thermal.Level) bool {
	return len(e.byKey) > 0 && e.byKey[Key{SensorID: c.ID(sn), Level: level}] != nil
}

// judgeable says whether sensor sn's readings are judged in this beat
// (see Readings), as what kind of rule, and whether a fan has failed or a
// chip throttles.
func judgeable(sn *thermal.Sensor) (kind thermal.Kind, failing, ok bool) {
	kind = sn.Kind.RuleKind()
	switch kind {
	case thermal.KindTemperature:
		return kind, false, sn.Err == nil
	case thermal.KindFan:
		return kind, sn.Failed != "", sn.Err == nil || sn.Failed != ""
	}
	return kind, sn.Throttling, sn.Err == nil
}

// value is sensor sn's reading, judged as kind, and threshold t as
// Evaluate compares them (see Readings).
func value(sn *thermal.Sensor, kind thermal.Kind, failing bool, t *thermal.Threshold) (celsius, threshold float64) {
	if kind == thermal.KindTemperature {
		return sn.Celsius(), t.Celsius
	}
	return b2f(failing), 0.5
}

// readingOf is sensor sn of chip c, judged as kind, against threshold t,
// without its Detail (see Readings).
func readingOf(c *thermal.Chip, sn *thermal.Sensor, kind thermal.Kind, failing bool, t *thermal.Threshold) Reading {
	r := Reading{Key: Key{SensorID: c.ID(sn), Level: t.Level}, For: t.For, Repeat: t.Repeat}
	r.Celsius, r.Threshold = value(sn, kind, failing, t)
	if kind == thermal.KindTemperature {
		r.Hysteresis = t.Hysteresis
	} else {
		r.Kind, r.Related = kind, c.Related
	}
	return r
}

// readValue returns the value of sensor id as read in this beat, in its
// unit, and whether it was read: the last sensor of the chips by that name
// without an error that is neither a duty nor a power reading.
func readValue(chips []thermal.Chip, id thermal.SensorID) (float64, bool) {
	for i := len(chips) - 1; i >= 0; i-- {
		c := &chips[i]
		if c.Source != id.Source || c.Name != id.Chip {
			continue
		}
		for j := len(c.Sensors) - 1; j >= 0; j-- {
			sn := &c.Sensors[j]
			if sn.Name == id.Sensor && sn.Err == nil && sn.Kind != thermal.KindDuty && sn.Kind != thermal.KindPower {
				return sn.Float(), true
			}
		}
	}
	return 0, false
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
