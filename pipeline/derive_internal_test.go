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
	seen := fans(fan(1200, nil), nil)
	seen = fans(fan(0, errors.New("read: EIO")), seen)
	asleep := fan(0, nil)
	asleep[0].Asleep, asleep[0].Sensors = true, nil
	seen = fans(asleep, seen)
	chips := fan(0, nil)
	fans(chips, seen)
	if got := chips[0].Sensors[0].Failed; got == "" {
		t.Fatal("a fan seen spinning, missed twice, then at 0 RPM: not failed")
	}
	if got := fans(nil, seen); got != nil {
		t.Errorf("a fan no longer present: still remembered: %v", got)
	}
}
