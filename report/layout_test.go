package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// wideBeat has n sensors of distinct names over chips of ten, each with
// thresholds and trip points, one sensor named twice per chip, a family of
// seven labels and series of no chip.
func wideBeat(n int) Beat {
	b := Beat{Time: time.Unix(1763731200, 0), Durations: map[string]time.Duration{"hwmon": time.Millisecond, "thermal_zone": 2}}
	for c := 0; c*10 < n; c++ {
		chip := thermal.Chip{Source: "hwmon", Name: fmt.Sprintf("chip%d", c), Series: []thermal.Series{{
			Name: "node_thermal_wide", Help: "Seven labels.", Value: float64(c),
			Labels: []thermal.Label{{Name: "e", Value: "x"}, {Name: "d", Value: fmt.Sprint(c % 3)}, {Name: "c", Value: "y"}, {Name: "b", Value: "z"}, {Name: "a", Value: fmt.Sprint(c % 2)}}}}}
		for s := 0; s < 10; s++ {
			crit := int64(95000 + s)
			chip.Sensors = append(chip.Sensors, thermal.Sensor{Name: fmt.Sprintf("s%d-%d", c, s%9), Value: int64(40000 + s*125 + c), Crit: &crit,
				Thresholds: []thermal.Threshold{{Level: thermal.Warning, Celsius: 90}, {Level: thermal.Critical, Celsius: 95}},
				Trips:      []thermal.Trip{{Index: s, Type: "hot", Milli: crit}, {Index: 100 + c, Type: "critical", Milli: crit + 1}}})
		}
		b.Chips = append(b.Chips, chip)
	}
	b.Chips = append(b.Chips, thermal.Chip{Aux: true, Series: []thermal.Series{
		{Name: "node_thermal_cooling_device_state", Help: "State.", Labels: []thermal.Label{{Name: "type", Value: "Fan"}, {Name: "device", Value: "cooling_device0"}}, Value: 1},
	}})
	b.Firing = func(id thermal.SensorID, level thermal.Level) bool {
		return len(id.Sensor)%2 == 0 && level == thermal.Warning
	}
	return b
}

// Beats of many sensors, some named twice, and a family of seven labels
// render as the registry does.
func TestWideBeatsMatchRegistry(t *testing.T) {
	for _, n := range []int{20, 1500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { CheckMatchesRegistry(t, wideBeat(n)) })
	}
}
