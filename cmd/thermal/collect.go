package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/hwmon"
	"github.com/thermal-heartbeat/thermal/report"
	"github.com/thermal-heartbeat/thermal/zones"
)

// sourceFlags are the flags shared by every command that reads sensors.
type sourceFlags struct {
	sysfs   string
	dev     string
	timeout time.Duration
}

func (s *sourceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.sysfs, "sysfs", "/sys", "sysfs mount point to read (a captured or fixture tree in tests)")
	fs.StringVar(&s.dev, "dev", "/dev", "device directory holding the NVMe controller nodes")
	fs.DurationVar(&s.timeout, "timeout", 5*time.Second, "deadline for reading the sensors; what has not arrived by then is counted as an error and left out")
}

func (s *sourceFlags) validate() error {
	if s.timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %v", s.timeout)
	}
	if s.sysfs == "" {
		return fmt.Errorf("--sysfs must not be empty")
	}
	return nil
}

// collect reads every source concurrently under one deadline. Problems that
// stop a whole source (its class directory cannot be listed) come back as
// errors; everything else is on the chips.
func collect(s sourceFlags, now func() time.Time) (report.Beat, []error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	beat := report.Beat{Time: now(), Durations: map[string]time.Duration{}}
	type result struct {
		source string
		chips  []thermal.Chip
		err    error
		took   time.Duration
	}
	readers := map[string]func() ([]thermal.Chip, error){}
	if fs, err := hwmon.NewFS(s.sysfs, thermal.DefaultRange); err == nil {
		readers[thermal.SourceHwmon] = func() ([]thermal.Chip, error) { return fs.Chips(ctx) }
	}
	if fs, err := zones.NewFS(s.sysfs, thermal.DefaultRange); err == nil {
		readers[thermal.SourceZone] = func() ([]thermal.Chip, error) { return fs.Zones(ctx) }
	}
	results := make(chan result, len(readers))
	for source, read := range readers {
		go func() {
			start := now()
			chips, err := read()
			results <- result{source, chips, err, now().Sub(start)}
		}()
	}
	var errs []error
	for range readers {
		r := <-results
		beat.Chips = append(beat.Chips, r.chips...)
		beat.Durations[r.source] = r.took
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	sort.SliceStable(beat.Chips, func(i, j int) bool {
		a, b := beat.Chips[i], beat.Chips[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Name < b.Name
	})
	return beat, errs
}
