package gather

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

func TestRunReturnsWhatArrivedWhenAReadHangs(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	jobs := []Job{
		{Chip: thermal.Chip{Name: "fast"}, Expect: 2, Read: func(add func(thermal.Sensor)) {
			add(thermal.Sensor{Name: "a", Value: 1000})
			add(thermal.Sensor{Name: "b", Err: thermal.ErrFault})
		}},
		{Chip: thermal.Chip{Name: "stuck", Path: "/sys/class/hwmon/hwmon9"}, Expect: 3, Read: func(add func(thermal.Sensor)) {
			add(thermal.Sensor{Name: "first", Value: 2000})
			<-hang // a read that never returns
			add(thermal.Sensor{Name: "late"})
		}},
		{Chip: thermal.Chip{Name: "asleep", Asleep: true}},
	}
	// Stuck chip first: the chips queued behind it must still be read.
	jobs[0], jobs[1] = jobs[1], jobs[0]
	jobs = append(jobs, Job{Chip: thermal.Chip{Name: "after"}, Expect: 1, Read: func(add func(thermal.Sensor)) {
		add(thermal.Sensor{Name: "late but fine", Value: 3000})
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*Stall)
	defer cancel()
	start := time.Now()
	chips := Run(ctx, jobs)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Run took %v, it must not wait for a stuck read", d)
	}
	if len(chips) != 4 {
		t.Fatalf("got %d chips, want 4", len(chips))
	}
	if c := chips[1]; len(c.Sensors) != 2 || c.Errors != 1 || c.Err != nil {
		t.Errorf("fast chip = %+v, want 2 sensors, 1 error, no chip error", c)
	}
	if c := chips[3]; len(c.Sensors) != 1 || c.Err != nil {
		t.Errorf("chip queued behind the stuck one = %+v, want it read by a new worker", c)
	}
	c := chips[0]
	if len(c.Sensors) != 1 || c.Sensors[0].Name != "first" {
		t.Errorf("stuck chip sensors = %+v, want the one read before the hang", c.Sensors)
	}
	if c.Errors != 2 || !errors.Is(c.Err, thermal.ErrTimeout) {
		t.Errorf("stuck chip Errors=%d Err=%v, want 2 owed reads and ErrTimeout", c.Errors, c.Err)
	}
	if c := chips[2]; !c.Asleep || c.Errors != 0 || c.Err != nil {
		t.Errorf("asleep chip = %+v, want untouched", c)
	}
}

func TestRunWaitsForAllWhenInTime(t *testing.T) {
	jobs := make([]Job, 20)
	for i := range jobs {
		jobs[i] = Job{Expect: 1, Read: func(add func(thermal.Sensor)) {
			time.Sleep(time.Millisecond)
			add(thermal.Sensor{Name: "t"})
		}}
	}
	for _, c := range Run(context.Background(), jobs) {
		if len(c.Sensors) != 1 || c.Err != nil {
			t.Fatalf("chip = %+v, want its sensor", c)
		}
	}
}

// The jobs whose sensor counts are known share one array, each its own
// part: a job that adds more sensors than it said grows its own slice and
// leaves the next job's sensors as they are.
func TestJobsDoNotWriteIntoEachOthersSensors(t *testing.T) {
	jobs := []Job{
		{Chip: thermal.Chip{Name: "says one, adds three"}, Expect: 1, Read: func(add func(thermal.Sensor)) {
			for _, n := range []string{"a", "b", "c"} {
				add(thermal.Sensor{Name: n})
			}
		}},
		{Chip: thermal.Chip{Name: "next"}, Expect: 2, Read: func(add func(thermal.Sensor)) {
			add(thermal.Sensor{Name: "x"})
			add(thermal.Sensor{Name: "y"})
		}},
	}
	// One worker reads in order: the first job's extra sensors, had they
	// gone into the shared array, would be written over by the second's.
	chips := Run(context.Background(), jobs)
	names := func(c thermal.Chip) (s string) {
		for _, sn := range c.Sensors {
			s += sn.Name
		}
		return s
	}
	if got := names(chips[0]) + "/" + names(chips[1]); got != "abc/xy" {
		t.Errorf("sensors %s, want abc/xy", got)
	}
}
