package report_test

import (
	"bufio"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/pipeline"
	"github.com/thermal-heartbeat/thermal/report"
	_ "github.com/thermal-heartbeat/thermal/sources" // every source, registered, as in the beat command
)

// realisticBeat collects a beat from sysfstest.Realistic(n) the way the
// beat command does, with some breaches firing.
func realisticBeat(tb testing.TB, n int) report.Beat {
	tb.Helper()
	root := sysfstest.UnpackString(tb, sysfstest.Realistic(n))
	p := pipeline.Pipeline{Config: config.Default(), Timeout: time.Minute, Now: time.Now,
		Env: thermal.Env{Sysfs: root, Dev: tb.TempDir(), Range: thermal.DefaultRange}}
	snap := p.Collect()
	return report.Beat{Time: snap.Time, Chips: snap.Chips, Durations: snap.Durations,
		Firing: func(id thermal.SensorID, _ thermal.Level) bool { return len(id.Sensor)%4 == 0 }}
}

// BenchmarkWriteRealistic measures the writer alone on the realistic trees of
// BenchmarkBeatCommand, through a bufio.Writer of WriteFile's size as
// sysread.WriteAtomicFunc hands it (so the buffer itself is not counted).
// B/op and allocs/op are the writer's share of a beat's allocations.
func BenchmarkWriteRealistic(b *testing.B) {
	for _, n := range []int{35, 355} {
		beat := realisticBeat(b, n)
		b.Run(fmt.Sprintf("sensors=%d", n), func(b *testing.B) {
			bw := bufio.NewWriterSize(io.Discard, 64<<10)
			b.ReportAllocs()
			for b.Loop() {
				if err := report.Write(bw, beat); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
