package report

import (
	"bytes"
	"fmt"
	"strings"
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
	CheckMatchesRegistry(t, kindsBeat())
}

// kindsBeat has a reading of every kind: an NVIDIA GPU's fans (RPM and
// duty, sharing a name) and power with its limit, a CPU's throttle count.
func kindsBeat() Beat {
	limit, min := int64(450000), int64(300)
	return Beat{Time: time.Unix(1763731200, 0), Chips: []thermal.Chip{
		{Source: "nvml", Name: "nvidia-pci-0100", Sensors: []thermal.Sensor{
			{Name: "GPU", Value: 54000},
			{Name: "GPU", Kind: thermal.KindPower, Value: 215250, Max: &limit},
			{Name: "fan0", Kind: thermal.KindFan, Value: 1450, FanMin: &min},
			{Name: "fan0", Kind: thermal.KindDuty, Value: 400000},
			{Name: "fan1", Kind: thermal.KindDuty, Err: thermal.ErrFault},
			{Name: "Memory", Kind: thermal.KindPower, Err: thermal.ErrTimeout},
		}},
		{Source: "cpu", Name: "package0", Sensors: []thermal.Sensor{{Name: "throttling", Kind: thermal.KindThrottleCount, Value: 12}}},
	}}
}

// The new kinds render as their own families, in their units.
func TestKindsRender(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, kindsBeat()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`node_thermal_power_watts{chip="nvidia-pci-0100",sensor="GPU",source="nvml"} 215.25`,
		`node_thermal_power_limit_watts{chip="nvidia-pci-0100",sensor="GPU",source="nvml"} 450`,
		`node_thermal_power_limit_watts{chip="nvidia-pci-0100",sensor="Memory",source="nvml"}`,
		`node_thermal_fan_duty_ratio{chip="nvidia-pci-0100",sensor="fan0",source="nvml"} 0.4`,
		`node_thermal_fan_rpm{chip="nvidia-pci-0100",sensor="fan0",source="nvml"} 1450`,
	} {
		if strings.Contains(want, "Memory") == strings.Contains(b.String(), want) {
			t.Errorf("want %s %v in\n%s", want, !strings.Contains(want, "Memory"), b.String())
		}
	}
	if strings.Contains(b.String(), `sensor="fan1"`) || strings.Contains(b.String(), "node_thermal_celsius{chip=\"package0\"") {
		t.Errorf("a reading that failed, or a count, rendered as a value:\n%s", b.String())
	}
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
