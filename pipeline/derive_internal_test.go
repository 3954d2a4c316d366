package pipeline

import (
	"errors"
	"testing"

	"github.com/thermal-heartbeat/thermal"
)

// A fan that could not be read, or whose chip slept, keeps "seen
// spinning": when it is read again at 0 RPM it has stopped.
func TestStoppedFansRemembersThroughMissedReads(t *testing.T) {
	fan := func(rpm int64, err error) []thermal.Chip {
		return []thermal.Chip{{Source: "hwmon", Name: "nct6798-isa-0290",
			Sensors: []thermal.Sensor{{Name: "fan1", Kind: thermal.KindFan, Value: rpm, Err: err}}}}
	}
	seen := fans(fan(1200, nil), nil, map[string]bool{"hwmon": true})
	seen = fans(fan(0, errors.New("read: EIO")), seen, map[string]bool{"hwmon": true})
	asleep := fan(0, nil)
	asleep[0].Asleep, asleep[0].Sensors = true, nil
	seen = fans(asleep, seen, map[string]bool{"hwmon": true})
	chips := fan(0, nil)
	fans(chips, seen, map[string]bool{"hwmon": true})
	if got := chips[0].Sensors[0].Failed; got == "" {
		t.Fatal("a fan seen spinning, missed twice, then at 0 RPM: not failed")
	}
	if got := fans(nil, seen, map[string]bool{"hwmon": true}); got != nil {
		t.Errorf("a fan no longer present: still remembered: %v", got)
	}
}

// A throttle count not read this beat keeps the last one, so that the next
// beat still sees it grow (a failed read used to clear a firing alert and
// fire it again); a source that reported nothing this beat (abandoned at
// the deadline) keeps its fans' history.
func TestDeriveKeepsWhatWasNotRead(t *testing.T) {
	pkg := func(count int64, err error) *Snapshot {
		return &Snapshot{Chips: []thermal.Chip{{Source: "cpu", Name: "package0",
			Sensors: []thermal.Sensor{{Name: "throttling", Kind: thermal.KindThrottleCount, Value: count, Err: err}}}}}
	}
	h := pkg(10, nil).Derive(nil)
	h = pkg(0, errors.New("read: EIO")).Derive(h)
	s := pkg(15, nil)
	s.Derive(h)
	if !s.Chips[0].Sensors[0].Throttling {
		t.Error("a count that grew across a failed read: not throttling")
	}
	fan := &Snapshot{Chips: []thermal.Chip{{Source: "hwmon", Name: "nct6798-isa-0290",
		Sensors: []thermal.Sensor{{Name: "fan1", Kind: thermal.KindFan, Value: 1200}}}}}
	h = fan.Derive(nil)
	h = (&Snapshot{}).Derive(h) // hwmon abandoned: no chip at all
	stopped := &Snapshot{Chips: []thermal.Chip{{Source: "hwmon", Name: "nct6798-isa-0290",
		Sensors: []thermal.Sensor{{Name: "fan1", Kind: thermal.KindFan, Value: 0}}}}}
	stopped.Derive(h)
	if stopped.Chips[0].Sensors[0].Failed == "" {
		t.Error("a fan seen spinning, its source abandoned for a beat, then at 0 RPM: not failed")
	}
}
