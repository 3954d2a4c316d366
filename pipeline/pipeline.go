package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/internal/stackgrow"
	"github.com/thermal-heartbeat/thermal/lmsensors"
)

// Source is a source in the pipeline and the sources it waits for: those
// whose chips may claim devices it would otherwise read (hwmon waits for
// nvme, so that the kernel's nvme chip of a controller read through the
// ioctl is never read). A source others wait for gets half the deadline,
// so that those keep the other half.
type Source struct {
	thermal.Source
	After []string
}

// registered builds every registered source for env, with its options
// from cfg, in the order of its registration's After and Before. A source
// whose constructor fails (no root given) is left out.
func registered(env thermal.Env, cfg *config.Config) []Source {
	regs := thermal.Registered()
	after := map[string][]string{}
	for _, r := range regs {
		after[r.Name] = append(after[r.Name], r.After...)
		for _, b := range r.Before {
			after[b] = append(after[b], r.Name)
		}
	}
	out := make([]Source, 0, len(regs))
	for _, r := range regs {
		e := env
		e.Options = cfg.Sources[r.Name]
		if s, err := r.New(e); err == nil {
			out = append(out, Source{Source: s, After: after[r.Name]})
		}
	}
	return out
}

// Pipeline collects one snapshot. Config must be set; Timeout bounds the
// whole collection; Cache (may be nil) is handed to the sources.
type Pipeline struct {
	// Sources are the sources to read; nil reads the registered ones
	// (built for Env with their options from Config).
	Sources []Source
	Env     thermal.Env
	Config  *config.Config
	Timeout time.Duration
	Cache   thermal.Cache
	Now     func() time.Time // time.Now when nil
	// LMSensors, when set, is lm-sensors' configuration with its buses
	// resolved for this host (lmsensors.Config.Resolve); nil resolves the
	// Config's against Env.Sysfs.
	LMSensors *lmsensors.Config
}

// Snapshot is what one collection produced, with the configuration
// applied. Derive completes it with what the history says (fans stopped,
// throttle counts that grew) before anything reads it.
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

// Collect runs every source under the deadline, settles which source owns
// each device, and applies the configuration.
func (p *Pipeline) Collect() *Snapshot {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	if p.Sources == nil {
		p.Sources = registered(p.Env, p.Config)
	}
	if p.LMSensors == nil && p.Config.LMSensors != nil {
		p.LMSensors = p.Config.LMSensors.Resolve(p.Env.Sysfs)
	}
	r := run{p: p, now: now, snap: &Snapshot{Time: now(), Durations: make(map[string]time.Duration, len(p.Sources))},
		claimed: map[[2]string]bool{}, yielded: map[[2]string]*thermal.Chip{}, byName: map[string]thermal.Source{}, finished: map[string]bool{},
		got: make([][]thermal.Chip, 0, len(p.Sources))}
	for _, s := range p.Sources {
		r.byName[s.Name()] = s.Source
	}
	for _, s := range p.Sources { // in their order, not the map's: one claim stands before the next
		if cl, ok := s.Source.(thermal.Claimer); ok {
			r.claimers = append(r.claimers, claimer{s.Name(), cl})
		}
	}
	r.req = &thermal.Request{Admit: r.admit, Ignore: p.Config.Ignored, Cache: p.Cache}
	chips := r.read()
	snap := r.snap
	for _, s := range p.Sources {
		// Only a source whose Read returned: an abandoned one may still be
		// writing its note.
		if n, ok := s.Source.(thermal.Noter); ok && r.finished[s.Name()] {
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
		if y, ok := r.yielded[[2]string{chips[i].Source, chips[i].Name}]; ok {
			if a, ok := r.byName[chips[i].Source].(thermal.Adopter); ok {
				a.Adopt(&chips[i], *y)
			} else {
				thermal.MergeYielded(&chips[i], *y)
			}
		}
	}
	// NVMe-over-fabrics controllers all share a name; hwmon tells its own
	// chips apart already.
	thermal.UniqueChipNames(chips)
	sortChips(chips)
	twins(chips, r.byName)
	snap.Chips = apply(p.Config, p.LMSensors, r.byName, chips)
	return snap
}

// sortChips orders chips by source, then name, equals as they came.
func sortChips(chips []thermal.Chip) {
	thermal.SortChips(chips, func(a, b *thermal.Chip) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), strings.Compare(a.Name, b.Name))
	})
}

// run is one collection in progress.
type run struct {
	p      *Pipeline
	now    func() time.Time
	snap   *Snapshot
	byName map[string]thermal.Source
	// claimers are the sources of byName that claim others' chips, found
	// once: relabel asks them about every chip, twice.
	claimers []claimer
	req      *thermal.Request // what every source is asked

	mu       sync.Mutex
	claimed  map[[2]string]bool          // (source, chip) read by a source that finished
	finished map[string]bool             // sources whose Read returned in time
	yielded  map[[2]string]*thermal.Chip // left to another source, with what is known of it
	// got holds what each source that finished in time returned, in the
	// order they finished; kept of it are the chips not yielded.
	got  [][]thermal.Chip
	kept int
	over bool // the deadline passed: what arrives later is dropped
}

// read runs the sources, each after those it waits for, and returns the
// chips that arrived by the deadline.
func (r *run) read() []thermal.Chip {
	ctx, cancel := context.WithTimeout(context.Background(), r.p.Timeout)
	defer cancel()
	// A source others wait for gets half the deadline, made up front so
	// that the waiters stop waiting when it is over, even if the source
	// itself is stuck in a syscall and never returns.
	sctx := make(map[string]context.Context, len(r.p.Sources))
	done := make(map[string]chan struct{}, len(r.p.Sources))
	for _, s := range r.p.Sources {
		done[s.Name()] = make(chan struct{})
		sctx[s.Name()] = ctx
	}
	for _, s := range r.p.Sources {
		for _, a := range s.After {
			if _, ok := done[a]; ok && sctx[a] == ctx {
				c, cancel := context.WithTimeout(ctx, r.p.Timeout/2)
				defer cancel()
				sctx[a] = c
			}
		}
	}
	var wg sync.WaitGroup
	for _, s := range r.p.Sources {
		wg.Go(func() {
			stackgrow.Worker()
			defer close(done[s.Name()])
			for _, a := range s.After {
				if ch, ok := done[a]; ok {
					select {
					case <-ch:
					case <-sctx[a].Done():
						// Its half is over: a little grace to hand over
						// what it read (and claimed), then go on without it.
						select {
						case <-ch:
						case <-time.After(r.p.Timeout/20 + 10*time.Millisecond):
						}
					}
				}
			}
			r.source(sctx[s.Name()], s)
		})
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
		case <-time.After(r.p.Timeout/20 + 10*time.Millisecond):
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.over = true
	for _, s := range r.p.Sources {
		if _, ok := r.snap.Durations[s.Name()]; !ok {
			r.snap.Durations[s.Name()] = r.now().Sub(r.snap.Time)
			r.snap.Errs = append(r.snap.Errs, fmt.Errorf("%s: %w: still listing its devices at the deadline (%v)", s.Name(), thermal.ErrTimeout, r.p.Timeout))
		}
	}
	chips := make([]thermal.Chip, 0, r.kept)
	for _, got := range r.got {
		for i := range got {
			if got[i].Yield == "" {
				chips = append(chips, got[i])
			}
		}
	}
	return chips
}

// source reads one source and hands over its chips.
func (r *run) source(ctx context.Context, s Source) {
	start := r.now()
	got, err := s.Read(ctx, r.req)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.over {
		return // abandoned at the deadline; already counted
	}
	r.snap.Durations[s.Name()] = r.now().Sub(start)
	r.finished[s.Name()] = true
	if err != nil {
		r.snap.Errs = append(r.snap.Errs, err)
	}
	for i := range got {
		c := &got[i] // not a copy: a chip handed to a source's method would escape
		r.relabel(c)
		k := [2]string{c.Source, c.Name}
		if c.Yield != "" {
			r.yielded[k] = c
			continue
		}
		r.claimed[k] = true
		r.kept++
	}
	r.got = append(r.got, got) // copied out once all are in (read)
}

// admit is asked by the sources about every chip before it is read.
func (r *run) admit(c *thermal.Chip) bool {
	r.relabel(c)
	k := [2]string{c.Source, c.Name}
	r.mu.Lock()
	taken := r.claimed[k]
	r.mu.Unlock()
	return !taken && !r.p.Config.Ignored(c.Source, c.Name, "")
}

// claimer is a source that claims others' chips, by name.
type claimer struct {
	name string
	thermal.Claimer
}

// relabel gives c the source that claims its device (see thermal.Claimer).
func (r *run) relabel(c *thermal.Chip) {
	for _, cl := range r.claimers {
		if cl.name != c.Source && cl.Claims(c) {
			c.Source = cl.name
			return
		}
	}
}

// twins marks each chip that another source's chip reports the same
// physical sensors as (a thermal zone's hwmon chip), and that chip: one
// physical sensor, two series, and hardware limits that apply to the
// owner's chip only (see thermal.TwinOwner).
func twins(chips []thermal.Chip, byName map[string]thermal.Source) {
	owners := map[string]int{}
	owner := sourceAs[thermal.TwinOwner]{sources: byName}
	for i := range chips {
		if o, ok := owner.of(chips[i].Source); ok {
			if k := o.TwinKey(&chips[i]); k != "" {
				owners[k] = i
			}
		}
	}
	if len(owners) == 0 {
		return
	}
	for i := range chips {
		c := &chips[i]
		if c.Device == "" {
			continue
		}
		if z, ok := owners[c.Device]; ok && chips[z].Source != c.Source {
			c.Twin = chips[z].Source + "/" + chips[z].Name
			chips[z].Twin = c.Source + "/" + c.Name
			chips[z].TwinOwner = true
		}
	}
}

// apply applies lm-sensors' configuration when there is one (label,
// ignore, compute, as `sensors` shows the chips), then drops ignored chips
// and sensors (sources skip them before reading where they can; this
// catches the rest), renames sensors with a [[label]], and sets every
// remaining sensor's thresholds. sources (by name) say which hardware
// limits are default thresholds (thermal.Limiter).
func apply(cfg *config.Config, lm *lmsensors.Config, sources map[string]thermal.Source, chips []thermal.Chip) []thermal.Chip {
	n := 0
	for i := range chips {
		n += len(chips[i].Sensors)
	}
	// One backing array for every sensor's thresholds (at most two each).
	arena := make([]thermal.Threshold, 0, 2*n)
	sel := cfg.Selector()
	out := chips[:0]
	var kernel []string
	limiters := sourceAs[thermal.Limiter]{sources: sources}
	for ci := range chips {
		c := &chips[ci] // not a copy: a chip handed to a source's method would escape
		if sel.Select(c.Source, c.Name) {
			continue
		}
		lm.Apply(c, thermal.DefaultRange) // names sensors, not chips: the selection stands
		kernel = label(&sel, c, kernel)
		limiter, _ := limiters.of(c.Source)
		arena = setThresholds(&sel, limiter, c, kernel, arena)
		out = append(out, *c)
	}
	return out
}

// sourceAs finds what of T the source of a chip implements, once for each
// run of chips of one source (they come sorted by source).
type sourceAs[T any] struct {
	sources map[string]thermal.Source // by name
	name    string                    // the source last asked about
	asked   bool
	as      T
	ok      bool
}

// of returns source name as a T, and whether it is one.
func (s *sourceAs[T]) of(name string) (T, bool) {
	if !s.asked || name != s.name {
		s.as, s.ok = s.sources[name].(T)
		s.name, s.asked = name, true
	}
	return s.as, s.ok
}

// label drops the selected chip c's ignored sensors and renames the others
// as [[label]]s say, two renamed alike staying two. It returns each kept
// sensor's name before, in kernel (its backing array reused).
func label(sel *config.Selector, c *thermal.Chip, kernel []string) []string {
	kernel = slices.Grow(kernel[:0], len(c.Sensors))
	kept := 0
	for i := range c.Sensors {
		s := &c.Sensors[i]
		if sel.Ignored(s.Name) {
			if s.Err != nil {
				c.Errors-- // an ignored sensor's failure is not ours to count
			}
			continue
		}
		kernel = append(kernel, s.Name)
		if kept != i {
			c.Sensors[kept] = *s
		}
		c.Sensors[kept].Name = sel.Rename(s.Name)
		kept++
	}
	c.Sensors = c.Sensors[:kept]
	thermal.UniqueSensorNames(c.Sensors)
	return kernel
}

// setThresholds sets the thresholds of the selected chip c's sensors
// (kernel: their names before any [[label]]), appending them to arena,
// and returns arena.
func setThresholds(sel *config.Selector, limiter thermal.Limiter, c *thermal.Chip, kernel []string, arena []thermal.Threshold) []thermal.Threshold {
	for i := range c.Sensors {
		s := &c.Sensors[i]
		var warn, crit thermal.Threshold
		// One physical sensor pages once: of two twins, the owner's chip
		// has the hardware limits.
		switch {
		case c.Twin != "" && !c.TwinOwner:
		case limiter != nil:
			warn, crit = limiter.HardwareThresholds(c, s)
		default:
			warn, crit = thermal.HardwareThresholds(c, s)
		}
		start := len(arena)
		arena = sel.AppendThresholds(arena, s, kernel[i], warn, crit)
		if len(arena) > start {
			s.Thresholds = arena[start:len(arena):len(arena)]
		}
	}
	return arena
}

// Values maps every temperature with a value in this snapshot to it, in °C.
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
// A chip that failed before any of its sensors was known (its listing or
// name read hung, it could not be inspected) counts as one sensor present
// and not read: sensors exist there, and a beat that read none of them is
// not a host without sensors.
func (s *Snapshot) Sensors() (present, read int) {
	for i := range s.Chips {
		c := &s.Chips[i] // not copies: a chip and a sensor are large
		present += len(c.Sensors)
		if c.Err != nil && len(c.Sensors) == 0 && !c.Aux {
			present++
		}
		for j := range c.Sensors {
			if c.Sensors[j].Err == nil {
				read++
			}
		}
	}
	return present, read
}
