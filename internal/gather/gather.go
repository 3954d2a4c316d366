// Package gather runs the per-chip reads of a beat under one deadline. A
// read that hangs in the kernel (a wedged i2c bus, a driver waiting on
// firmware) cannot be interrupted, so gather stops waiting for it: the beat
// goes on with every sensor that arrived in time, and the stuck chip is
// reported with the reads it still owed counted as errors.
//
// Chips are read one after another by a single worker, which keeps a beat to
// one thread and a few syscalls per sensor. When no chip has finished for
// Stall, the worker is presumed stuck and another one takes over the chips
// still queued; the stuck one is abandoned to its syscall.
package gather

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// Stall is how long a chip may take before the chips after it are handed to
// another worker. Sysfs reads take microseconds to a few milliseconds
// (SMBus chips); a quarter second is a hang.
const Stall = 250 * time.Millisecond

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

// Run reads the jobs and returns their chips when all are done or ctx is
// done, whichever comes first. Each chip's Errors is set to the number of
// its sensors with an Err, plus their AuxErrors, plus, for a chip whose read
// had not finished, the sensors it still owed; such a chip's Err wraps
// thermal.ErrTimeout.
func Run(ctx context.Context, jobs []Job) []thermal.Chip {
	slots := make([]slot, len(jobs))
	for i := range jobs {
		// Allocated before any worker starts: Run reads them at the
		// deadline while a stuck worker may still hold its slot.
		slots[i].sensors = make([]thermal.Sensor, 0, jobs[i].Expect)
	}
	// The waiter is woken once, when the last chip is done, not once per
	// chip: a beat reads hundreds of chips and each wakeup is a context
	// switch. Stalls are found by polling progress every Stall.
	var done atomic.Int64 // chips finished
	all := make(chan struct{})
	var next atomic.Int64 // index of the next job to hand out
	worker := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(jobs) {
				return
			}
			s := &slots[i]
			if jobs[i].Read != nil {
				jobs[i].Read(func(sn thermal.Sensor) {
					s.mu.Lock()
					s.sensors = append(s.sensors, sn)
					s.mu.Unlock()
				})
			}
			s.mu.Lock()
			s.done = true
			s.mu.Unlock()
			if done.Add(1) == int64(len(jobs)) {
				close(all)
			}
		}
	}
	if len(jobs) > 0 {
		go worker()
	} else {
		close(all)
	}
	stall := time.NewTicker(Stall)
	defer stall.Stop()
	progress := int64(0)
wait:
	for {
		select {
		case <-all:
			break wait
		case <-stall.C:
			if d := done.Load(); d == progress && int(next.Load()) < len(jobs) {
				go worker() // the current worker is stuck; carry on without it
			} else {
				progress = d
			}
		case <-ctx.Done():
			break wait
		}
	}
	chips := make([]thermal.Chip, len(jobs))
	for i := range jobs {
		s := &slots[i]
		c := jobs[i].Chip
		s.mu.Lock()
		done := s.done
		c.Sensors = s.sensors
		if !done {
			// A stuck worker may still add to the slot: keep a copy.
			c.Sensors = append([]thermal.Sensor(nil), s.sensors...)
		}
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
