package main

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/report"
	"github.com/thermal-heartbeat/thermal/state"
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
		dir := b.TempDir()
		beat := func(steady bool) {
			var cache *state.Cache
			var c thermal.Cache
			if steady {
				cache = &state.Cache{Dir: dir, BootID: "bench", Scope: root, TTL: time.Hour, Now: time.Now()}
				c = cache
			}
			snap := collect(src, time.Now, cfg, c)
			if err := report.Write(io.Discard, report.Beat{Time: snap.Time, Chips: snap.Chips, Durations: snap.Durations}); err != nil {
				b.Fatal(err)
			}
			if err := cache.Flush(); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("full/sensors=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				beat(false)
			}
		})
		b.Run(fmt.Sprintf("steady/sensors=%d", n), func(b *testing.B) {
			beat(true)
			b.ReportAllocs()
			for b.Loop() {
				beat(true)
			}
		})
	}
}

// BenchmarkBeatCommand measures the beat command in process, all of it
// (flags, config, state, collection, thresholds, textfile), steady state, on
// the realistic trees of make bench (sysfstest.Realistic). B/op and
// allocs/op at 35 and 355 sensors give the memory a sensor adds: in a beat
// process every byte allocated is a page the kernel clears (the heap never
// reaches a collection), so allocations are CPU as well as memory.
func BenchmarkBeatCommand(b *testing.B) {
	for _, n := range []int{35, 355} {
		root := sysfstest.UnpackString(b, sysfstest.Realistic(n))
		dir := b.TempDir()
		args := []string{"beat", "--config", "builtin", "--sysfs", root, "--dev", b.TempDir(), "--textfile-dir", dir, "--state-dir", dir}
		e := env{stdout: io.Discard, stderr: io.Discard, now: time.Now}
		if code := run(args, e); code != 0 {
			b.Fatalf("beat exited %d", code)
		}
		b.Run(fmt.Sprintf("sensors=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				run(args, e)
			}
		})
	}
}
