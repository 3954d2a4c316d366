// Package gather runs the per-chip reads of a beat concurrently under one
// deadline. A read that hangs in the kernel (a wedged i2c bus, a driver
// waiting on firmware) cannot be interrupted, so gather stops waiting for it:
// the beat goes on with every sensor that arrived in time, and the stuck
// chip is reported with the reads it still owed counted as errors.
package gather

import (
	"context"
	"fmt"
	"sync"

	"github.com/thermal-heartbeat/thermal"
)

// Job reads the sensors of one chip.
type Job struct {
	Chip thermal.Chip
	// Expect is how many sensors Read will add; the ones missing at the
	// deadline are counted as errors.
	Expect int
	// Read reads the chip and calls add once per sensor, in order. It may
	// block; add is safe to call after Run has returned.
	Read func(add func(thermal.Sensor))
}

type slot struct {
	mu      sync.Mutex
	sensors []thermal.Sensor
	done    bool
}

// Run runs jobs concurrently and returns their chips when all are done or
// ctx is done, whichever comes first. Each chip's Errors is set to the
// number of its sensors with an Err, plus their AuxErrors, plus, for a chip whose read had not
// finished, the sensors it still owed; such a chip's Err wraps
// thermal.ErrTimeout.
func Run(ctx context.Context, jobs []Job) []thermal.Chip {
	slots := make([]slot, len(jobs))
	finished := make(chan struct{}, len(jobs))
	for i := range jobs {
		if jobs[i].Read == nil {
			slots[i].done = true
			finished <- struct{}{}
			continue
		}
		s := &slots[i]
		s.sensors = make([]thermal.Sensor, 0, jobs[i].Expect)
		go func(read func(func(thermal.Sensor))) {
			read(func(sn thermal.Sensor) {
				s.mu.Lock()
				s.sensors = append(s.sensors, sn)
				s.mu.Unlock()
			})
			s.mu.Lock()
			s.done = true
			s.mu.Unlock()
			finished <- struct{}{}
		}(jobs[i].Read)
	}
wait:
	for n := 0; n < len(jobs); n++ {
		select {
		case <-finished:
		case <-ctx.Done():
			break wait
		}
	}
	chips := make([]thermal.Chip, len(jobs))
	for i := range jobs {
		s := &slots[i]
		c := jobs[i].Chip
		s.mu.Lock()
		c.Sensors = append([]thermal.Sensor(nil), s.sensors...)
		done := s.done
		s.mu.Unlock()
		for _, sn := range c.Sensors {
			if sn.Err != nil {
				c.Errors++
			}
			c.Errors += sn.AuxErrors
		}
		if !done {
			owed := jobs[i].Expect - len(c.Sensors)
			if owed < 1 {
				owed = 1
			}
			c.Errors += owed
			c.Err = fmt.Errorf("%s: %d of %d sensors read before the deadline: %w", c.Path, len(c.Sensors), jobs[i].Expect, thermal.ErrTimeout)
		}
		chips[i] = c
	}
	return chips
}
