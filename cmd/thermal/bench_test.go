package main

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/report"
)

// BenchmarkBeat measures a whole dry-run beat (collection and exposition)
// over generated trees; ns/op divided by the sensor count is the cost per
// sensor.
func BenchmarkBeat(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 5000} {
		b.Run(fmt.Sprintf("sensors=%d", n), func(b *testing.B) {
			root := sysfstest.UnpackString(b, sysfstest.Generate(n))
			src := sourceFlags{sysfs: root, dev: root, timeout: time.Minute}
			b.ReportAllocs()
			for b.Loop() {
				beat := collect(src, time.Now, nil, config.Default(), nil).beat
				if err := report.Write(io.Discard, beat); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
