package alert_test

import (
	"slices"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/pipeline"
	_ "github.com/thermal-heartbeat/thermal/sources"
)

// snapshot collects sysfstest.Realistic(355) with the built-in rules.
func snapshot(b *testing.B) *pipeline.Snapshot {
	b.Helper()
	root := sysfstest.UnpackString(b, sysfstest.Realistic(355))
	p := pipeline.Pipeline{Config: config.Default(), Timeout: time.Minute,
		Env: thermal.Env{Sysfs: root, Dev: b.TempDir(), Range: thermal.DefaultRange}}
	snap := p.Collect()
	snap.Derive(nil)
	return snap
}

// BenchmarkReadings measures pairing a realistic host's 355 sensors with
// their thresholds.
func BenchmarkReadings(b *testing.B) {
	snap := snapshot(b)
	b.ReportAllocs()
	for b.Loop() {
		alert.Readings(snap.Chips)
	}
}

// BenchmarkEvaluateChips measures a beat's EvaluateChips over a realistic
// host: quiet, and firing (a tenth of the thresholds breached and have
// fired, a few breaches' sensors lost their thresholds).
func BenchmarkEvaluateChips(b *testing.B) {
	snap := snapshot(b)
	now := time.Now()
	b.Run("quiet", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			alert.EvaluateChips(&alert.State{}, now, snap.Chips, true)
		}
	})
	hot, firing := hotChips(snap.Chips, now)
	b.Run("firing", func(b *testing.B) {
		b.ReportAllocs()
		st := &alert.State{}
		for b.Loop() {
			b.StopTimer()
			st.Breaches = st.Breaches[:0]
			for i := range firing {
				bb := firing[i]
				st.Breaches = append(st.Breaches, &bb)
			}
			b.StartTimer()
			alert.EvaluateChips(st, now, hot, true)
		}
	})
}

// hotChips copies chips with a tenth of their temperature thresholds
// lowered below the reading, and returns the copy and their breaches,
// firing for an hour; the last five sensors with thresholds lose them
// (the breach of any of them clears).
func hotChips(chips []thermal.Chip, now time.Time) ([]thermal.Chip, []alert.Breach) {
	hot := slices.Clone(chips)
	var firing []alert.Breach
	var last []*thermal.Sensor
	n := 0
	for i := range hot {
		c := &hot[i]
		c.Sensors = slices.Clone(c.Sensors)
		for j := range c.Sensors {
			s := &c.Sensors[j]
			s.Thresholds = slices.Clone(s.Thresholds)
			for k := range s.Thresholds {
				if t := &s.Thresholds[k]; s.Kind == thermal.KindTemperature && s.Err == nil {
					if n++; n%10 == 0 {
						t.Celsius = s.Celsius() - 1
						firing = append(firing, alert.Breach{Key: alert.Key{SensorID: c.ID(s), Level: t.Level}, PendingSince: now.Add(-time.Hour),
							FiringSince: now.Add(-time.Hour), LastSent: now.Add(-time.Minute), LastSeen: now.Add(-30 * time.Second)})
					}
				}
			}
			if len(s.Thresholds) > 0 {
				last = append(last, s)
			}
		}
	}
	for _, s := range last[len(last)-5:] {
		s.Thresholds = nil
	}
	return hot, firing
}
