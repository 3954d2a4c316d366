package report

import (
	"bufio"
	"bytes"
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

// Keys pack while the rows' positions and label values fit 64 bits, and
// the output is the registry's either way.
func TestLayoutMatchesRegistry(t *testing.T) {
	for _, tc := range []struct {
		sensors int
		packed  bool
	}{{20, true}, {1500, false}} {
		t.Run(fmt.Sprint(tc.sensors), func(t *testing.T) {
			b := wideBeat(tc.sensors)
			var w writer
			w.init(b)
			if w.lay.packed != tc.packed {
				t.Fatalf("packed = %v, want %v (%+v)", w.lay.packed, tc.packed, w.lay)
			}
			CheckMatchesRegistry(t, b)
		})
	}
}

// renderUnpacked renders b as render does, with keys that do not pack.
func renderUnpacked(b Beat) []byte {
	var out bytes.Buffer
	buf := bufio.NewWriter(&out)
	var w writer
	w.init(b)
	w.lay.packed = false
	w.alloc()
	w.addBeat(b)
	w.write(buf)
	buf.Flush()
	return out.Bytes()
}

// Rows whose keys do not pack render as those that do: escapes, invalid
// UTF-8, duplicates and all.
func TestUnpackedMatchesPacked(t *testing.T) {
	beats := map[string]Beat{"sample": sampleBeat(), "kinds": kindsBeat(), "big": bigBeat(300), "wide": wideBeat(20),
		"empty": {Time: time.Unix(0, 0), ConfigInvalid: true}}
	for name, b := range beats {
		var packed bytes.Buffer
		if err := Write(&packed, b); err != nil {
			t.Fatal(err)
		}
		if unpacked := renderUnpacked(b); !bytes.Equal(unpacked, packed.Bytes()) {
			t.Errorf("%s: unpacked keys render\n%s\nwant\n%s", name, unpacked, packed.Bytes())
		}
	}
}
