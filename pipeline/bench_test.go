package pipeline

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	_ "github.com/thermal-heartbeat/thermal/sources"
)

// realistic collects sysfstest.Realistic(n) through the registered
// sources with the built-in configuration: the snapshot, and the sources
// by name as apply takes them.
func realistic(b *testing.B, n int) (*Snapshot, map[string]thermal.Source) {
	b.Helper()
	root := sysfstest.UnpackString(b, sysfstest.Realistic(n))
	p := Pipeline{Config: config.Default(), Timeout: time.Minute,
		Env: thermal.Env{Sysfs: root, Dev: b.TempDir(), Range: thermal.DefaultRange}}
	snap := p.Collect()
	byName := map[string]thermal.Source{}
	for _, s := range p.Sources {
		byName[s.Name()] = s.Source
	}
	return snap, byName
}

// unapplied is a deep copy of chips without their thresholds: what apply
// is handed.
func unapplied(chips []thermal.Chip) []thermal.Chip {
	out := slices.Clone(chips)
	for i := range out {
		out[i].Sensors = slices.Clone(out[i].Sensors)
		for j := range out[i].Sensors {
			out[i].Sensors[j].Thresholds = nil
		}
	}
	return out
}

// BenchmarkApply measures apply (ignores, labels, unique names,
// thresholds) on the chips of a realistic host with the built-in rules.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{35, 355} {
		snap, byName := realistic(b, n)
		cfg := config.Default()
		b.Run(fmt.Sprintf("sensors=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				chips := unapplied(snap.Chips)
				b.StartTimer()
				apply(cfg, nil, byName, chips)
			}
		})
	}
}

// BenchmarkDerive measures a steady beat's Derive: the history of the
// beat before in hand.
func BenchmarkDerive(b *testing.B) {
	snap, _ := realistic(b, 355)
	h := snap.Derive(nil)
	b.ReportAllocs()
	for b.Loop() {
		snap.Derive(h)
	}
}
