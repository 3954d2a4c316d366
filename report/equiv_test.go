package report

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// CheckMatchesRegistry fails t when the fast path and client_golang's
// registry + expfmt render b differently.
func CheckMatchesRegistry(t testing.TB, b Beat) {
	t.Helper()
	var fast, ref bytes.Buffer
	if err := Write(&fast, b); err != nil {
		t.Fatal(err)
	}
	if err := referenceWrite(&ref, b); err != nil {
		t.Fatalf("registry refused the beat: %v", err)
	}
	if !bytes.Equal(fast.Bytes(), ref.Bytes()) {
		t.Fatalf("fast path and registry differ\n--- registry\n%s\n--- fast\n%s", ref.String(), fast.String())
	}
}

func TestWriteMatchesRegistry(t *testing.T) {
	CheckMatchesRegistry(t, sampleBeat())
	CheckMatchesRegistry(t, Beat{Time: time.Unix(0, 0), ConfigInvalid: true})
	CheckMatchesRegistry(t, bigBeat(300))
}

// Label values as sysfs and drives may spell them: quotes, backslashes,
// newlines, invalid UTF-8, empty; the same value twice.
func FuzzWriteMatchesRegistry(f *testing.F) {
	for _, seed := range [][3]string{
		{"coretemp-isa-0000", "Package id 0", "Samsung"},
		{`we"ird`, `back\slash`, "new\nline"},
		{"\xff\xfe", "", "\x00"},
		{"dup", "dup", "dup"},
		{`\`, `"`, "\n\n"},
	} {
		f.Add(seed[0], seed[1], seed[2], 42.5)
	}
	f.Fuzz(func(t *testing.T, chip, sensor, model string, v float64) {
		milli := int64(v * 1000)
		b := Beat{Time: time.Unix(1763731200, 0), Chips: []thermal.Chip{
			{Source: "hwmon", Name: chip, Errors: 1, Sensors: []thermal.Sensor{{Name: sensor, Value: milli, Max: &milli,
				Thresholds: []thermal.Threshold{{Level: thermal.Warning, Celsius: v}}}, {Name: sensor + "x", Value: -milli}, {Name: sensor, Value: 1}}},
			{Source: "nvme", Name: chip, Series: []thermal.Series{info(model, sensor, chip), info(model, sensor, chip)}},
			{Source: "thermal_zone", Name: sensor, Sensors: []thermal.Sensor{{Name: chip, Value: milli, Trips: []thermal.Trip{{Index: 0, Type: model, Milli: milli}}}}},
		}, Firing: func(thermal.SensorID, thermal.Level) bool { return true },
			Durations: map[string]time.Duration{chip: time.Duration(milli)}}
		CheckMatchesRegistry(t, b)
	})
}

// bigBeat is n sensors over n/10 chips, each with limits and thresholds.
func bigBeat(n int) Beat {
	b := Beat{Time: time.Unix(1763731200, 0), Durations: map[string]time.Duration{"hwmon": time.Millisecond}}
	for c := 0; c < n/10; c++ {
		chip := thermal.Chip{Source: "hwmon", Name: fmt.Sprintf("chip%d-isa-%04x", c, c)}
		for s := 0; s < 10; s++ {
			m, crit := int64(40000+s*100+c), int64(95000)
			chip.Sensors = append(chip.Sensors, thermal.Sensor{Name: fmt.Sprintf("Core %d", s), Value: m, Max: &crit, Crit: &crit,
				Thresholds: []thermal.Threshold{{Level: thermal.Warning, Celsius: 90}, {Level: thermal.Critical, Celsius: 95}}})
		}
		b.Chips = append(b.Chips, chip)
	}
	return b
}

// BenchmarkWrite renders the exposition of n sensors; ns/op over n is the
// exposition's cost per sensor.
func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{100, 1000} {
		beat := bigBeat(n)
		b.Run(fmt.Sprintf("fast/sensors=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				Write(&buf, beat)
			}
		})
		b.Run(fmt.Sprintf("registry/sensors=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				referenceWrite(&buf, beat)
			}
		})
	}
}
