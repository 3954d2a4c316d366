package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/lmsensors"
)

// Source is a source in the pipeline and the sources it waits for: those
// whose chips may own devices it would otherwise read (hwmon waits for
// nvme, so that the kernel's nvme chip of a controller read through the
// ioctl is never read). A source others wait for gets half the deadline,
// so that those keep the other half.
type Source struct {
	thermal.Source
	After []string
}

// Pipeline collects one snapshot. Config must be set; Timeout bounds the
// whole collection; Cache (may be nil) is handed to the sources.
type Pipeline struct {
	Sources []Source
	Config  *config.Config
	Timeout time.Duration
	Cache   thermal.Cache
	Now     func() time.Time // time.Now when nil
	// LMSensors, when set, is lm-sensors' configuration with its buses
	// resolved for this host (lmsensors.Config.Resolve).
	LMSensors *lmsensors.Config
}

// Snapshot is what one collection produced, with the configuration applied.
type Snapshot struct {
	Time      time.Time // when collection started
	Chips     []thermal.Chip
	Durations map[string]time.Duration // per source
	// Errs are problems that stopped a whole source (its class directory
	// could not be listed); everything else is on the chips.
	Errs []error
	// Notes say, per source, why it read nothing when that is not an
	// error ("no NVIDIA driver"), for probe.
	Notes map[string]string
}

// Collect runs every source under the deadline and applies the
// configuration.
func (p *Pipeline) Collect() *Snapshot {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	snap := &Snapshot{Time: now(), Durations: make(map[string]time.Duration, len(p.Sources))}
	ctx, cancel := context.WithTimeout(context.Background(), p.Timeout)
	defer cancel()

	waitedFor := map[string]bool{}
	for _, s := range p.Sources {
		for _, a := range s.After {
			waitedFor[a] = true
		}
	}
	var (
		mu      sync.Mutex
		claimed = map[[2]string]bool{}         // (source, chip) read by a source that finished
		yielded = map[[2]string]thermal.Chip{} // left to another source, with what is known of it
		chips   []thermal.Chip
		over    bool // the deadline passed: what arrives later is dropped
	)
	admit := func(c *thermal.Chip) bool {
		relabel(c)
		k := [2]string{c.Source, c.Name}
		mu.Lock()
		taken := claimed[k]
		mu.Unlock()
		return !taken && !p.Config.Ignored(c.Source, c.Name, "")
	}
	done := make(map[string]chan struct{}, len(p.Sources))
	for _, s := range p.Sources {
		done[s.Name()] = make(chan struct{})
	}
	var wg sync.WaitGroup
	for _, s := range p.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[s.Name()])
			for _, a := range s.After {
				if ch, ok := done[a]; ok {
					select {
					case <-ch:
					case <-ctx.Done():
					}
				}
			}
			sctx := ctx
			if waitedFor[s.Name()] {
				var c context.CancelFunc
				sctx, c = context.WithTimeout(ctx, p.Timeout/2)
				defer c()
			}
			start := now()
			got, err := s.Read(sctx, &thermal.Request{Admit: admit, Ignore: p.Config.Ignored, Cache: p.Cache})
			mu.Lock()
			defer mu.Unlock()
			if over {
				return // abandoned at the deadline; already counted
			}
			snap.Durations[s.Name()] = now().Sub(start)
			if err != nil {
				snap.Errs = append(snap.Errs, err)
			}
			for _, c := range got {
				relabel(&c)
				k := [2]string{c.Source, c.Name}
				if c.Yield != "" {
					yielded[k] = c
					continue
				}
				claimed[k] = true
				chips = append(chips, c)
			}
		}()
	}
	// Sources read chips under ctx and return with what arrived; one stuck
	// before it got that far (a hung read while listing its devices) is
	// abandoned to its syscall at the deadline, with a little grace for
	// the others to hand over what they have.
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	select {
	case <-all:
	case <-ctx.Done():
		select {
		case <-all:
		case <-time.After(p.Timeout/20 + 10*time.Millisecond):
		}
	}
	mu.Lock()
	over = true
	for _, s := range p.Sources {
		if _, ok := snap.Durations[s.Name()]; !ok {
			snap.Durations[s.Name()] = now().Sub(snap.Time)
			snap.Errs = append(snap.Errs, fmt.Errorf("%s: %w: still listing its devices at the deadline (%v)", s.Name(), thermal.ErrTimeout, p.Timeout))
		}
	}
	chips = slices.Clone(chips)
	mu.Unlock()
	for _, s := range p.Sources {
		if n, ok := s.Source.(interface{ Note() string }); ok {
			if note := n.Note(); note != "" {
				if snap.Notes == nil {
					snap.Notes = map[string]string{}
				}
				snap.Notes[s.Name()] = note
			}
		}
	}
	// A device yielded by one source and read by another carries what the
	// first knew of it; one read by nobody is left out.
	for i := range chips {
		if y, ok := yielded[[2]string{chips[i].Source, chips[i].Name}]; ok {
			adopt(&chips[i], y)
		}
	}
	// NVMe-over-fabrics controllers all share a name; hwmon tells its own
	// chips apart already.
	thermal.UniqueChipNames(chips)
	sort.SliceStable(chips, func(i, j int) bool {
		return cmp.Or(cmp.Compare(chips[i].Source, chips[j].Source), cmp.Compare(chips[i].Name, chips[j].Name)) < 0
	})
	twins(chips)
	snap.Chips = Apply(p.Config, p.LMSensors, chips)
	return snap
}

// Apply applies lm-sensors' configuration when there is one (label,
// ignore, compute, as `sensors` shows the chips), then drops ignored chips
// and sensors (sources skip them before reading where they can; this
// catches the rest), renames sensors with a [[label]], and sets every
// remaining sensor's thresholds.
func Apply(cfg *config.Config, lm *lmsensors.Config, chips []thermal.Chip) []thermal.Chip {
	n := 0
	for _, c := range chips {
		n += len(c.Sensors)
	}
	// One backing array for every sensor's thresholds (at most two each).
	arena := make([]thermal.Threshold, 0, 2*n)
	out := chips[:0]
	var kernel []string
	for _, c := range chips {
		if cfg.Ignored(c.Source, c.Name, "") {
			continue
		}
		lm.Apply(&c, thermal.DefaultRange)
		kept := c.Sensors[:0]
		kernel = kernel[:0]
		for _, s := range c.Sensors {
			if cfg.Ignored(c.Source, c.Name, s.Name) {
				if s.Err != nil {
					c.Errors-- // an ignored sensor's failure is not ours to count
				}
				continue
			}
			kernel = append(kernel, s.Name)
			s.Name = cfg.Rename(c.Source, c.Name, s.Name)
			kept = append(kept, s)
		}
		// Two sensors renamed alike stay two series.
		thermal.UniqueSensorNames(kept)
		for i := range kept {
			if f := &kept[i]; f.IsFan() && f.Failed == "" {
				switch {
				case f.Alarm:
					f.Failed = "alarm"
				case f.Err == nil && f.FanMin != nil && f.Milli < *f.FanMin:
					f.Failed = "below its minimum"
				}
			}
			start := len(arena)
			arena = cfg.AppendThresholds(arena, &c, &kept[i], kernel[i])
			if len(arena) > start {
				kept[i].Thresholds = arena[start:len(arena):len(arena)]
			}
		}
		c.Sensors = kept
		out = append(out, c)
	}
	return out
}

// Values maps every sensor with a value in this snapshot to it, in °C.
func (s *Snapshot) Values() map[thermal.SensorID]float64 {
	m := make(map[thermal.SensorID]float64, 4*len(s.Chips))
	for i := range s.Chips {
		c := &s.Chips[i]
		for j := range c.Sensors {
			if c.Sensors[j].Err == nil && c.Sensors[j].Kind == thermal.KindTemperature {
				m[c.ID(&c.Sensors[j])] = c.Sensors[j].Celsius()
			}
		}
	}
	return m
}

// Sensors counts the sensors present (read or not) and those with a value.
func (s *Snapshot) Sensors() (present, read int) {
	for _, c := range s.Chips {
		present += len(c.Sensors)
		for _, x := range c.Sensors {
			if x.Err == nil {
				read++
			}
		}
	}
	return present, read
}
