package alert_test

import (
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

// BenchmarkEvaluate measures a beat's Evaluate over a realistic host's
// readings: quiet (nothing pending or firing), and firing (a tenth of
// the readings breach and have fired, a few breaches' sensors lost their
// thresholds).
func BenchmarkEvaluate(b *testing.B) {
	snap := snapshot(b)
	rs, read := alert.Readings(snap.Chips), snap.Read()
	now := time.Now()
	b.Run("quiet", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			alert.Evaluate(&alert.State{}, now, rs, read, true)
		}
	})
	hot := make([]alert.Reading, len(rs))
	var firing []alert.Breach
	for i, r := range rs {
		if i%10 == 0 {
			r.Celsius = r.Threshold + 1
			firing = append(firing, alert.Breach{Key: r.Key, PendingSince: now.Add(-time.Hour),
				FiringSince: now.Add(-time.Hour), LastSent: now.Add(-time.Minute), LastSeen: now.Add(-30 * time.Second)})
		}
		hot[i] = r
	}
	hot = hot[:len(hot)-5] // these five lost their thresholds: they clear
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
			alert.Evaluate(st, now, hot, read, true)
		}
	})
}
