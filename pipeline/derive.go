package pipeline

import (
	"strconv"
	"strings"

	"github.com/thermal-heartbeat/thermal"
)

// History is what a beat remembers of the readings of the one before, in
// the state (state.json's spinning_fans and throttle_counts): the fans
// seen spinning, and each throttle counter's count.
type History struct {
	// Spinning holds the fans ("source/chip/sensor") seen spinning: one of
	// them at 0 RPM has stopped, while a header that always read 0 has
	// nothing plugged in.
	Spinning map[string]bool `json:"spinning_fans,omitempty"`
	// Throttles holds each throttle counter's count ("source/chip"), so
	// that the next beat tells whether it grew.
	Throttles map[string]int64 `json:"throttle_counts,omitempty"`
}

// Derive completes the snapshot with what its readings mean given the last
// beat's history (nil for none: probe, check, a first beat): which fans
// have failed (their alarm bit, a speed below their minimum, 0 RPM after
// they were seen spinning) and which chips throttle now (their flag is
// set, or their count grew since the last beat). It returns the history
// for the next beat. This is the one place where a reading's meaning
// depends on what came before; every consumer reads the result.
func (s *Snapshot) Derive(prev *History) *History {
	if prev == nil {
		prev = &History{}
	}
	read := map[string]bool{} // sources that reported chips this beat
	for i := range s.Chips {
		if src := s.Chips[i].Source; i == 0 || src != s.Chips[i-1].Source {
			read[src] = true // once for each run of a source's chips
		}
	}
	return &History{
		Spinning:  fans(s.Chips, prev.Spinning, read),
		Throttles: throttles(s.Chips, prev.Throttles, read),
	}
}

// kept reports whether a history entry ("source/chip/…") of a device not
// in this snapshot is kept: its source reported nothing this beat (it was
// abandoned at the deadline, its listing failed), so the device may well
// still be there.
func kept(key string, read map[string]bool) bool {
	source, _, _ := strings.Cut(key, "/")
	return !read[source]
}

// fans sets why each failed fan failed, and returns the fans spinning now
// or before, for the next beat. A fan present but not read this beat (its
// read failed, its chip is asleep) keeps what was seen; a fan no longer
// present is forgotten. A fan at 0 RPM that was seen spinning has stopped,
// unless its controller asks 0 of it (a fan-stop design).
func fans(chips []thermal.Chip, before map[string]bool, read map[string]bool) map[string]bool {
	now := map[string]bool{}
	for k := range before {
		if kept(k, read) {
			now[k] = true
		}
	}
	for i := range chips {
		c := &chips[i]
		if c.Err != nil || c.Asleep { // present, not read: keep its fans
			prefix := c.Source + "/" + c.Name + "/"
			for k := range before {
				if strings.HasPrefix(k, prefix) {
					now[k] = true
				}
			}
		}
		for j := range c.Sensors {
			f := &c.Sensors[j]
			if f.Kind != thermal.KindFan {
				continue
			}
			if f.Failed == "" {
				switch {
				case f.Alarm:
					f.Failed = "alarm"
				case f.Err == nil && f.FanMin != nil && f.Value < *f.FanMin:
					f.Failed = "below its minimum"
				}
			}
			k := c.Source + "/" + c.Name + "/" + f.Name
			switch {
			case f.Err != nil: // not read this beat: what was seen stands
				if before[k] {
					now[k] = true
				}
			case f.Value > 0:
				now[k] = true
			case before[k]:
				now[k] = true
				if f.Failed == "" && (f.FanTarget == nil || *f.FanTarget > 0) {
					f.Failed = "stopped after it was seen spinning"
				}
			}
		}
	}
	if len(now) == 0 {
		return nil
	}
	return now
}

// throttles sets whether each throttle sensor's chip throttles now: a
// flag that is set, or a count (a CPU package's or core's) that grew since
// the last beat. It returns the counts for the next beat; a count not read
// this beat keeps the last one, so that one failed read does not clear a
// firing alert and fire it again. The first beat, or one after a reboot
// reset the counter, says no.
func throttles(chips []thermal.Chip, before map[string]int64, read map[string]bool) map[string]int64 {
	now := map[string]int64{}
	for k, v := range before {
		if kept(k, read) {
			now[k] = v
		}
	}
	for i := range chips {
		c := &chips[i]
		// k is "source/chip", made for a chip of a count only; with no
		// count before, there is none to look up.
		k := ""
		if len(before) > 0 {
			if v, ok := before[c.Source+"/"+c.Name]; ok {
				k = c.Source + "/" + c.Name
				now[k] = v // a count not read this beat keeps the last one: no false clear
			}
		}
		for j := range c.Sensors {
			s := &c.Sensors[j]
			if s.Err != nil {
				continue
			}
			switch s.Kind {
			case thermal.KindThrottle:
				s.Throttling = s.Value > 0
			case thermal.KindThrottleCount:
				if k == "" {
					k = c.Source + "/" + c.Name
				}
				now[k] = s.Value
				prev, ok := before[k]
				s.Detail = strconv.FormatInt(s.Value, 10) + " thermal throttle events"
				s.Throttling = ok && s.Value > prev
				if s.Throttling {
					s.Detail += ", " + strconv.FormatInt(s.Value-prev, 10) + " since the last beat"
				}
			}
		}
	}
	if len(now) == 0 {
		return nil
	}
	return now
}
