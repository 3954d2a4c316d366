// Package gather runs the per-device reads of a beat, each device under a
// deadline of its own inside the beat's. A read that hangs in the kernel (a
// wedged i2c bus, a driver waiting on firmware, a drive failing a command)
// cannot be interrupted, so gather stops waiting for it: the beat goes on
// with every sensor that arrived in time, and the stuck device is reported
// with the reads it still owed counted as errors.
//
// Devices are read one after another by a single worker, which keeps a
// beat to one thread and a few syscalls per sensor. A device that has taken
// longer than Stall is presumed stuck: the devices still queued go to new
// workers, as many as there are stuck ones (so that ten wedged chips cost
// about four Stalls, not ten), and the stuck workers are abandoned to their
// syscalls. Healthy devices are read whatever the others do, and a device
// that has taken its Deadline is not waited for any longer.
package gather

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/stackgrow"
)

// Stall is how long one device may go without progress (a sensor read)
// before the devices after it are handed to other workers. Sysfs reads take microseconds to a few
// milliseconds (SMBus chips); a quarter second is a hang.
const Stall = 250 * time.Millisecond

// Deadline is how long one device may go without progress at most: once
// every device still being read has been silent this long, and none is
// queued, Run returns without them (they are reported as timed out),
// whatever is left of the beat's deadline. A slow device that keeps
// returning sensors is waited for until the beat's deadline.
const Deadline = 4 * Stall

// maxWorkers bounds the threads a beat spends on stuck devices.
const maxWorkers = 64

// Job reads the sensors of one device.
type Job struct {
	// Chip is the device as known before it is touched. When Prepare is
	// set, it is what is reported if Prepare does not finish in time (named
	// after the device's class entry).
	Chip thermal.Chip
	// Expect is how many sensors Read will add; the ones missing at the
	// deadline are counted as errors.
	Expect int
	// Read reads the chip and calls add once per sensor, in order. It may
	// block; add is safe to call after Run has returned.
	Read func(add func(thermal.Sensor))
	// Prepare, when set, runs first, under the device's deadline: it
	// inspects the device (its name, its channels) and returns the chip,
	// its Expect and Read, and keep = false to leave the device out
	// unread. What it returns replaces Chip, Expect and Read.
	Prepare func() (chip thermal.Chip, expect int, read func(add func(thermal.Sensor)), keep bool)
}

// Result is what became of one job.
type Result struct {
	Chip thermal.Chip
	// Prepared: Prepare (when set) returned in time, and Dropped is what
	// it said about keeping the chip.
	Prepared, Dropped bool
	// Done: the job finished in time.
	Done bool
}

// slot is what became of one job so far.
type slot struct {
	mu sync.Mutex
	// chip is what Prepare returned; nil before, and for a job without
	// Prepare (its Chip stands).
	chip     *thermal.Chip
	expect   int
	sensors  []thermal.Sensor
	prepared bool
	dropped  bool
	done     bool
}

// Run reads the jobs and returns their chips (those that Prepare did not
// drop) when all are done or ctx is done, whichever comes first. See
// RunJobs.
func Run(ctx context.Context, jobs []Job) []thermal.Chip {
	res := RunJobs(ctx, jobs)
	chips := make([]thermal.Chip, 0, len(res))
	for i := range res {
		if !res[i].Dropped {
			chips = append(chips, res[i].Chip)
		}
	}
	return chips
}

// RunJobs reads the jobs and returns what became of each, in order, when
// all are done or ctx is done, whichever comes first. Each chip's Errors is
// set to the number of its sensors with an Err, plus their AuxErrors, plus,
// for a chip whose read had not finished, the sensors it still owed; such
// a chip's Err wraps thermal.ErrTimeout.
func RunJobs(ctx context.Context, jobs []Job) []Result {
	slots := newSlots(jobs)
	p := pool{jobs: jobs, slots: slots, all: make(chan struct{})}
	if len(jobs) == 0 {
		close(p.all)
	} else {
		p.spawn(1)
	}
	p.supervise(ctx)
	out := make([]Result, len(jobs))
	for i := range jobs {
		out[i] = slots[i].result(&jobs[i])
	}
	return out
}

// newSlots returns the jobs' slots. Their sensors are allocated before any
// worker starts: RunJobs reads them at the deadline while a stuck worker
// may still hold its slot. The jobs without Prepare, whose sensor counts
// are known, share one array, each its own part of it.
func newSlots(jobs []Job) []slot {
	slots := make([]slot, len(jobs))
	known := 0
	for i := range jobs {
		if jobs[i].Prepare == nil {
			known += jobs[i].Expect
		}
	}
	sensors := make([]thermal.Sensor, known)
	for i := range jobs {
		slots[i].expect = jobs[i].Expect
		if n := jobs[i].Expect; jobs[i].Prepare == nil {
			slots[i].sensors, sensors = sensors[:0:n], sensors[n:]
			slots[i].prepared = true
		}
	}
	return slots
}

// pool is the workers of one Run. The waiter is woken once, when the last
// job is done, not once per job: a beat reads hundreds of chips and each
// wakeup is a context switch. Stuck workers are found by polling.
type pool struct {
	jobs  []Job
	slots []slot
	next  atomic.Int64 // index of the next job to hand out
	done  atomic.Int64 // jobs finished
	all   chan struct{}

	mu      sync.Mutex
	workers []*worker
}

// worker is one reader of the queue: busy while it holds a job, and its
// progress (jobs begun and sensors read), by which the supervisor tells a
// slow device still answering from a stuck one.
type worker struct {
	busy     atomic.Bool
	progress atomic.Int64
	// Read by the supervisor only: the progress it last saw, and since when.
	seen  int64
	since time.Time
}

func (p *pool) spawn(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range n {
		if len(p.workers) >= maxWorkers {
			return
		}
		w := &worker{seen: -1}
		w.busy.Store(true)
		p.workers = append(p.workers, w)
		go p.work(w)
	}
}

func (p *pool) work(w *worker) {
	stackgrow.Worker()
	defer w.busy.Store(false)
	for {
		i := int(p.next.Add(1) - 1)
		if i >= len(p.jobs) {
			return
		}
		w.progress.Add(1)
		p.slots[i].run(&p.jobs[i], &w.progress)
		if p.done.Add(1) == int64(len(p.jobs)) {
			close(p.all)
		}
	}
}

// supervise waits for the jobs, handing the queue to new workers whenever
// every worker is stuck on one device.
func (p *pool) supervise(ctx context.Context) {
	tick := time.NewTicker(Stall / 4)
	defer tick.Stop()
	for {
		select {
		case <-p.all:
			return
		case <-ctx.Done():
			return
		case now := <-tick.C:
			p.mu.Lock()
			busy, stuck, over := 0, 0, 0
			for _, w := range p.workers {
				if !w.busy.Load() {
					continue
				}
				busy++
				if pr := w.progress.Load(); pr != w.seen {
					w.seen, w.since = pr, now // it moved: a device answering, however slowly
				}
				if d := now.Sub(w.since); d > Deadline {
					over++
					stuck++
				} else if d > Stall {
					stuck++
				}
			}
			p.mu.Unlock()
			queued := int(p.next.Load()) < len(p.jobs)
			switch {
			case !queued && busy > 0 && over == busy:
				return // only devices past their deadline are left
			case queued && busy > 0 && stuck == busy:
				p.spawn(stuck)
			}
		}
	}
}

// run runs one job into the slot, counting each sensor as progress.
func (s *slot) run(j *Job, progress *atomic.Int64) {
	read := j.Read
	if j.Prepare != nil {
		chip, expect, r, keep := j.Prepare()
		s.mu.Lock()
		s.chip, s.expect, s.prepared, s.dropped = &chip, expect, true, !keep
		s.sensors = make([]thermal.Sensor, 0, expect)
		s.mu.Unlock()
		read = r
		if !keep {
			read = nil
		}
	}
	if read != nil {
		read(func(sn thermal.Sensor) {
			s.mu.Lock()
			s.sensors = append(s.sensors, sn)
			s.mu.Unlock()
			progress.Add(1)
		})
	}
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
}

// result is the slot of job j as it stands, counted.
func (s *slot) result(j *Job) Result {
	s.mu.Lock()
	r := Result{Chip: j.Chip, Prepared: s.prepared, Dropped: s.dropped, Done: s.done}
	if s.chip != nil {
		r.Chip = *s.chip
	}
	r.Chip.Sensors = s.sensors
	if !s.done {
		// A stuck worker may still add to the slot: keep a copy.
		r.Chip.Sensors = append([]thermal.Sensor(nil), s.sensors...)
	}
	expect := s.expect
	s.mu.Unlock()
	c := &r.Chip
	for i := range c.Sensors {
		if c.Sensors[i].Err != nil {
			c.Errors++
		}
		c.Errors += c.Sensors[i].AuxErrors
	}
	if !r.Done {
		owed := max(expect-len(c.Sensors), 1)
		c.Errors += owed
		what := fmt.Sprintf("%d of %d sensors read", len(c.Sensors), expect)
		if !r.Prepared {
			what = "not named"
		}
		c.Err = fmt.Errorf("%s: %s before the deadline: %w", c.Path, what, thermal.ErrTimeout)
	}
	return r
}
