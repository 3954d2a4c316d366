package main

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/hwmon"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/report"
)

// BenchmarkBeat measures a whole beat's work in process (collection,
// thresholds, exposition) over generated trees of 10 to 5,000 sensors:
// "full" reads names, labels and limits as a first beat does, "steady"
// starts from the previous beat's inventory as the timer's beats do. ns/op
// divided by the sensor count is the cost per sensor; B/op and allocs/op
// stay flat from one iteration to the next, so memory does not grow with
// beats.
func BenchmarkBeat(b *testing.B) {
	cfg := config.Default()
	for _, n := range []int{10, 100, 1000, 5000} {
		root := sysfstest.UnpackString(b, sysfstest.Generate(n))
		src := sourceFlags{sysfs: root, dev: root, timeout: time.Minute}
		beat := func(inv *hwmon.Inventory) *hwmon.Inventory {
			c := collect(src, time.Now, nil, cfg, inv)
			chips, th := applyConfig(cfg, c.beat.Chips)
			c.beat.Chips = chips
			c.beat.Thresholds = reportThresholds(th, nil)
			if err := report.Write(io.Discard, c.beat); err != nil {
				b.Fatal(err)
			}
			return c.inventory
		}
		b.Run(fmt.Sprintf("full/sensors=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				beat(nil)
			}
		})
		b.Run(fmt.Sprintf("steady/sensors=%d", n), func(b *testing.B) {
			inv := beat(nil)
			b.ReportAllocs()
			for b.Loop() {
				beat(inv)
			}
		})
	}
}
