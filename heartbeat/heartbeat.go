// Package heartbeat is one beat from start to end: load the configuration
// (falling back to the last good one), collect a snapshot, advance the
// breach state, commit the events it causes to the outbox, write the
// textfile, then check in and deliver the outbox under the deadline. Every
// stage runs whatever the stages before it did: a broken configuration, a
// panic in a stage, an unwritable textfile or state directory each cost what
// they must and are reported (log, node_thermal_* series, check-in status),
// never the heartbeat itself.
//
// Pages are at least once and never duplicated: an event is in the outbox
// (state.json, written atomically and synced) before it is sent; it leaves
// the outbox only once Sentry has accepted it (or refused it for good); a
// re-send reuses its event_id, which Sentry drops when it already has it; a
// beat that sends an event first takes a lease on it, so that two beats
// running at once do not both send it.
package heartbeat

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/notify"
	"github.com/thermal-heartbeat/thermal/pipeline"
	"github.com/thermal-heartbeat/thermal/report"
	"github.com/thermal-heartbeat/thermal/state"
)

// Options configure one beat.
type Options struct {
	ConfigPath  string // "" for the default path, config.Builtin for the embedded defaults
	TextfileDir string
	StateDir    string
	DryRun      bool          // print the exposition to Stdout; touch nothing else
	Timeout     time.Duration // each stage that can hang: collection, the state lock, delivery
	// Collect reads the sources under cfg; cache is nil on a dry run.
	Collect func(cfg *config.Config, cache thermal.Cache) *pipeline.Snapshot
	BootID  string // the cache is keyed by it; "" disables the cache
	Scope   string // the sysfs tree, for the cache
	Now     func() time.Time
	Log     *slog.Logger
	Verbose bool // log every sensor that was dropped and why
	Stdout  io.Writer

	SentryDSN   string
	CheckInURL  string
	Release     string // thermal@<version>
	Host        string
	HTTP        *http.Client
	Environment string // overrides the config's [sentry] environment when set
}

// Result says what the beat did.
type Result struct {
	ConfigInvalid   bool // the configuration did not load; the last good or built-in one was used
	TextfileWritten bool
	StateSaved      bool
	Sensors, Read   int  // sensors present, sensors with a value
	CheckInOK       bool // the status the check-in carried
	// DeliveryInvalid: SENTRY_DSN or THERMAL_CHECKIN_URL is set but
	// malformed, so this heartbeat can page nobody through it.
	DeliveryInvalid bool
	Pushed          bool // the exposition was pushed ([push])
	Delivered       int  // events Sentry accepted in this beat
	Pending         int  // events left in the outbox
}

// cacheTTL is how long what the sources learned (hwmon labels and limits,
// NVMe limits) is trusted before a beat reads it all again (a limit written
// at run time shows up then).
const cacheTTL = 10 * time.Minute

// Beat runs one beat: its stages, each of which runs whatever the ones
// before it did.
func Beat(o Options) Result {
	b := newBeat(o)
	cfg, data := b.config()
	b.cfg = cfg
	snap, collected := b.collect(cfg)
	b.lock()
	transitions := b.judge(snap)
	b.enqueue(transitions, snap)
	batch := b.lease()
	b.housekeep(data, snap, collected)
	b.save()
	batch = b.undurable(batch)
	if !b.textfile(snap) || o.DryRun {
		return b.res
	}
	// A host with no sensors at all (a VM) is not an error; sensors that
	// exist and none of which could be read are.
	r := &b.res
	r.CheckInOK = collected && len(snap.Errs) == 0 && !r.ConfigInvalid && r.TextfileWritten && r.StateSaved &&
		(r.Sensors == 0 || r.Read > 0)
	if o.CheckInURL != "" {
		if err := notify.CheckInURLError(o.CheckInURL); err != nil {
			b.log.Error("THERMAL_CHECKIN_URL is malformed; no check-in sent: run thermal check", "err", err)
			o.CheckInURL, r.DeliveryInvalid = "", true
		}
	}
	if o.SentryDSN != "" && notify.DSNError(o.SentryDSN) != nil {
		r.DeliveryInvalid = true // deliver says why, and keeps the events
	}
	d := deliver(o, cfg, b.log, r.CheckInOK, batch, b.st.RateLimits, b.now(), b.pushBody)
	r.Pushed = b.pushBody != nil && !d.pushFailed
	if len(d.outcomes) > 0 || len(d.limits) > 0 || d.pushFailed {
		r.Delivered, r.Pending = b.settle(d)
	} else {
		r.Pending = len(b.st.Outbox)
	}
	return b.res
}

// beat is one beat in progress: what its stages share.
type beat struct {
	o         Options
	log       *slog.Logger
	now       func() time.Time
	statePath string
	res       Result
	cache     *state.Cache

	cfg      *config.Config
	pushBody []byte                      // the exposition to push, when [push] asks for it
	fresh    map[string]alert.Transition // this beat's events, by id
	unlock   func()
	locked   bool  // this beat holds the state lock (or needs none: a dry run)
	lockErr  error // why it does not
	st       state.File
	before   []byte
	writable bool // the state may be written: it was read, or is missing or corrupt, and locked
}

func newBeat(o Options) *beat {
	b := &beat{o: o, log: o.Log, now: o.Now, statePath: filepath.Join(o.StateDir, state.BeatFile)}
	if b.now == nil {
		b.now = time.Now
	}
	return b
}

// config loads the configuration: a typo must not stop the heartbeat. It
// returns the file's bytes, to be kept as the last good one.
func (b *beat) config() (*config.Config, []byte) {
	cfg, data, err := config.LoadFile(b.o.ConfigPath)
	if err == nil {
		return cfg, data
	}
	b.res.ConfigInvalid = true
	cfg, lgErr := config.LastGood(b.o.StateDir)
	if lgErr != nil {
		b.log.Warn("last good configuration unusable; using the built-in one", "err", lgErr)
	}
	b.log.Error("configuration not loaded; the beat goes on with the last good one ("+cfg.DisplayPath()+"); run thermal check", "err", err)
	return cfg, nil
}

// collect reads the sources; a panic costs the readings, not the beat.
func (b *beat) collect(cfg *config.Config) (*pipeline.Snapshot, bool) {
	if !b.o.DryRun {
		b.cache = &state.Cache{Dir: b.o.StateDir, BootID: b.o.BootID, Scope: b.o.Scope, TTL: cacheTTL, Now: b.now()}
	}
	var snap *pipeline.Snapshot
	safely(b.log, "collection", func() { snap = b.o.Collect(cfg, cacheOrNil(b.cache)) })
	collected := snap != nil
	if snap == nil {
		snap = &pipeline.Snapshot{Time: b.now()}
	}
	for _, err := range snap.Errs {
		b.log.Warn("source could not be read", "err", err)
	}
	if b.cache != nil {
		for _, err := range b.cache.Warnings {
			b.log.Warn("cache unreadable; the sources learn afresh", "err", err)
		}
	}
	if b.o.Verbose {
		logDropped(b.log, snap.Chips)
	}
	b.res.Sensors, b.res.Read = snap.Sensors()
	return snap, collected
}

// lock takes the state lock and loads the state. Another beat holding it
// (a hung one) leaves this one evaluating from what is on disk, without
// overwriting that beat's state; the check-in says so.
func (b *beat) lock() {
	b.locked = b.o.DryRun
	if !b.o.DryRun {
		if err := os.MkdirAll(b.o.StateDir, 0o755); err != nil {
			b.log.Warn("state directory", "err", err)
		}
		unlock, err := state.Lock(b.statePath, b.o.Timeout)
		if err != nil {
			b.lockErr = err
			b.log.Warn("breach state not locked; evaluating anyway", "err", err)
		} else {
			b.unlock, b.locked = unlock, true
		}
	}
	l := b.load()
	b.st, b.before, b.writable = l.File, l.Before, l.Keep && b.locked
}

// load reads state.json, logging why it starts fresh.
func (b *beat) load() state.Loaded {
	l := state.LoadFile(b.statePath)
	switch {
	case !l.Keep:
		b.log.Error("breach state unreadable; this beat starts fresh and leaves the file as it is", "err", l.Err)
	case l.Err != nil:
		b.log.Warn("breach state unreadable; starting fresh", "err", l.Err)
	case l.Dropped > 0:
		b.log.Warn("breach state held entries a beat cannot use; dropped them", "dropped", l.Dropped, "path", b.statePath)
	}
	return l
}

// judge derives what the readings mean given the history, then advances
// the breach state.
func (b *beat) judge(snap *pipeline.Snapshot) []alert.Transition {
	b.st.History = *snap.Derive(&b.st.History)
	var transitions []alert.Transition
	ok := safely(b.log, "breach evaluation", func() {
		transitions = alert.EvaluateChips(&b.st.State, snap.Time, snap.Chips, b.o.SentryDSN != "" && !b.o.DryRun)
	})
	if !ok {
		b.st.State = alert.State{} // whatever made it panic is gone from the next state
		b.log.Warn("breach state reset")
	}
	return transitions
}

// enqueue commits the events the transitions cause to the outbox.
func (b *beat) enqueue(transitions []alert.Transition, snap *pipeline.Snapshot) {
	if b.o.SentryDSN == "" || b.o.DryRun || len(transitions) == 0 {
		return
	}
	devices := map[[2]string]thermal.Attrs{}
	for _, c := range snap.Chips {
		if len(c.Attrs) > 0 {
			devices[[2]string{c.Source, c.Name}] = c.Attrs
		}
	}
	values := snap.Values()
	events := make([]notify.Event, 0, len(transitions))
	b.fresh = make(map[string]alert.Transition, len(transitions))
	for _, t := range transitions {
		e := notify.EventFor(b.o.Host, t, values, devices[[2]string{t.Source, t.Chip}], b.writable)
		b.fresh[e.ID] = t
		events = append(events, e)
	}
	for _, p := range b.st.Enqueue(events) {
		b.log.Warn("outbox full: oldest undelivered event dropped", "event_id", p.ID, "message", p.Message)
	}
}

// lease takes what this beat will send: entries no other beat is sending.
func (b *beat) lease() []state.Pending {
	if b.o.SentryDSN == "" || b.o.DryRun {
		return nil
	}
	if until, limited := b.st.RateLimits.Until("error", b.now()); limited {
		b.log.Info("Sentry asked to wait before more events; they are kept", "until", until.UTC().Format(time.RFC3339), "pending", len(b.st.Outbox))
		return nil
	}
	return b.st.Lease(b.now(), b.now().Add(b.o.Timeout+5*time.Second))
}

// housekeep keeps the last good configuration, sweeps temporary files a
// killed beat left behind, and says once that a host has no sensors.
func (b *beat) housekeep(data []byte, snap *pipeline.Snapshot, collected bool) {
	if !b.o.DryRun && data != nil && !b.res.ConfigInvalid {
		sum, err := config.KeepLastGood(b.o.StateDir, data, b.st.ConfigSHA256)
		if err != nil {
			b.log.Warn("last good configuration not kept", "err", err)
		}
		b.st.ConfigSHA256 = sum
	}
	if !b.o.DryRun && b.now().Sub(b.st.Swept) > time.Hour {
		for _, dir := range [][2]string{{b.o.TextfileDir, "." + report.FileName + "."}, {b.o.StateDir, "."}} {
			for _, f := range state.Sweep(dir[0], dir[1]) {
				b.log.Info("removed a temporary file a killed beat left behind", "file", f)
			}
		}
		b.st.Swept = b.now()
	}
	if nothing := collected && len(snap.Errs) == 0 && b.res.Sensors == 0; nothing && !b.st.NoSensors {
		b.log.Warn("no sensors found on this host (a VM?): nothing to report, checking in ok; run thermal probe for hints (logged once)")
		b.st.NoSensors = true
	} else if !nothing {
		b.st.NoSensors = false
	}
}

// save writes the state and releases the lock.
func (b *beat) save() {
	switch {
	case b.o.DryRun:
	case b.writable:
		if err := state.SaveFile(b.statePath, b.st, b.before); err != nil {
			b.log.Error("breach state not saved: pending breaches restart and events may not wait for the next beat", "err", err)
		} else {
			b.res.StateSaved = true
		}
	case !b.locked && errors.Is(b.lockErr, state.ErrLocked):
		b.log.Error("breach state not saved: another beat holds its lock, and its state is left as it is")
	case !b.locked:
		b.log.Error("breach state not saved: the state directory cannot be locked (read-only? full?); pending breaches restart and events cannot wait for the next beat", "err", b.lockErr)
	}
	if b.unlock != nil {
		b.unlock()
	}
}

// undurable renames this beat's events when the state could not be saved
// after all (a full disk): they are not in any outbox, so the next beat
// will find their breaches again and must send them under the same ids,
// which only the ids of a state that is not durable are (see
// notify.EventID). They are still sent now, best effort.
func (b *beat) undurable(batch []state.Pending) []state.Pending {
	if b.res.StateSaved || b.o.DryRun || len(b.fresh) == 0 {
		return batch
	}
	for i := range batch {
		if t, ok := b.fresh[batch[i].ID]; ok && b.writable {
			batch[i].ID = notify.EventID(b.o.Host, t, false)
		}
	}
	return batch
}

// textfile writes the exposition (to stdout on a dry run), and the cache.
// It returns false when a dry run could not print it.
func (b *beat) textfile(snap *pipeline.Snapshot) bool {
	rb := report.Beat{Time: snap.Time, Chips: snap.Chips, Durations: snap.Durations,
		ConfigInvalid: b.res.ConfigInvalid, StateUnsaved: !b.o.DryRun && !b.res.StateSaved}
	if firing := b.st.FiringKeys(); len(firing) > 0 {
		rb.Firing = func(id thermal.SensorID, level thermal.Level) bool {
			return firing[alert.Key{SensorID: id, Level: level}]
		}
	}
	if b.o.DryRun {
		if err := report.Write(b.o.Stdout, rb); err != nil {
			b.log.Error("exposition not written", "err", err)
			return false
		}
		b.res.TextfileWritten = true
		return true
	}
	if b.cfg.Push.URL != "" {
		// The push failures so far ride along, in the file and the push.
		rb.Chips = append(rb.Chips[:len(rb.Chips):len(rb.Chips)], thermal.Chip{Aux: true, Series: []thermal.Series{{
			Name: "node_thermal_push_failures_total", Counter: true, Value: float64(b.st.PushFailures),
			Help: "Pushes of the exposition to the [push] URL that failed (best effort, not retried)."}}})
		var buf bytes.Buffer
		if err := report.Write(&buf, rb); err == nil {
			b.pushBody = buf.Bytes()
		}
	}
	if _, err := report.WriteFile(b.o.TextfileDir, rb); err != nil {
		b.log.Error("textfile not written; delivering anyway", "err", err)
	} else {
		b.res.TextfileWritten = true
	}
	if err := b.cache.Flush(); err != nil {
		b.log.Warn("cache not saved; the next beat reads labels and limits again", "err", err)
	}
	return true
}

// settle records the outcomes of delivery in the outbox, and the waits
// Sentry asked for, under the lock.
func (b *beat) settle(d delivery) (delivered, pending int) {
	unlock, err := state.Lock(b.statePath, b.o.Timeout)
	if err != nil {
		b.log.Warn("outbox not updated; delivered events will be sent again (Sentry drops the duplicates)", "err", err)
		return 0, -1
	}
	defer unlock()
	l := b.load()
	if !l.Keep {
		return 0, -1
	}
	by := make(map[string]notify.Outcome, len(d.outcomes))
	for _, oc := range d.outcomes {
		by[oc.id] = oc.Outcome
	}
	delivered = l.Settle(by)
	l.RateLimits = l.RateLimits.Merge(d.limits, b.now())
	if d.pushFailed {
		l.PushFailures++
	}
	if err := state.SaveFile(b.statePath, l.File, l.Before); err != nil {
		b.log.Error("breach state not saved: pending breaches restart and events may not wait for the next beat", "err", err)
	}
	return delivered, len(l.Outbox)
}

// safely runs f; a panic is logged with its stack and reported as false, so
// that one stage's bug costs that stage only.
func safely(log *slog.Logger, stage string, f func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			log.Error(stage+" failed; the beat goes on without it", "panic", r, "stack", string(debug.Stack()))
			ok = false
		}
	}()
	f()
	return true
}

// outcome is what became of one event sent in this beat.
type outcome struct {
	id string
	notify.Outcome
}

// delivery is what became of a beat's delivery.
type delivery struct {
	outcomes   []outcome         // every event sent
	limits     notify.RateLimits // the waits Sentry's answers asked for
	pushFailed bool
}

// deliver checks in, sends batch and pushes the exposition (push, when
// set), all at once under the timeout, except what Sentry asked to wait
// for (limits).
func deliver(o Options, cfg *config.Config, log *slog.Logger, ok bool, batch []state.Pending, limits notify.RateLimits, now time.Time, push []byte) (d delivery) {
	if o.SentryDSN == "" && o.CheckInURL == "" && push == nil {
		return d
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	client := o.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	var out []outcome
	var wg sync.WaitGroup
	var s *notify.Sentry
	if o.SentryDSN != "" {
		env := cfg.Sentry.Environment
		if o.Environment != "" {
			env = o.Environment
		}
		var err error
		s, err = notify.NewSentry(client, notify.SentryOptions{DSN: o.SentryDSN, Release: o.Release,
			Environment: env, Host: o.Host, Monitor: config.MonitorSlug(cfg.Sentry.Monitor, o.Host), Now: func() time.Time { return now }})
		if err != nil {
			log.Error("SENTRY_DSN is malformed: no check-in sent, events are kept; run thermal check", "err", err)
			for _, p := range batch {
				out = append(out, outcome{p.ID, notify.Retry})
			}
		} else {
			if until, limited := limits.Until("monitor", now); limited {
				log.Info("Sentry asked to wait before more check-ins; this one is not sent", "until", until.UTC().Format(time.RFC3339))
			} else {
				wg.Go(func() {
					if _, err := s.CheckIn(ctx, ok); err != nil {
						log.Warn("Sentry check-in", "err", err)
					}
				})
			}
			for _, p := range batch {
				if until, limited := s.RateLimits().Until("error", now); limited {
					// Sentry asked to wait in this very beat: the rest
					// stay in the outbox.
					log.Info("Sentry asked to wait before more events; the rest are kept", "until", until.UTC().Format(time.RFC3339))
					out = append(out, outcome{p.ID, notify.Retry})
					continue
				}
				res, err := s.Event(ctx, p.Event)
				switch res {
				case notify.Retry:
					log.Warn("event not delivered; kept for the next beat", "event_id", p.ID, "err", err)
				case notify.Rejected:
					log.Error("event refused by Sentry; dropped", "event_id", p.ID, "message", p.Message, "err", err)
				}
				out = append(out, outcome{p.ID, res})
			}
		}
	}
	if push != nil {
		wg.Go(func() {
			if err := notify.Push(ctx, client, cfg.Push.PushURL(o.Host), push); err != nil {
				log.Warn("exposition not pushed (best effort: not retried; counted in node_thermal_push_failures_total)", "err", err)
				d.pushFailed = true
			}
		})
	}
	if o.CheckInURL != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := notify.CheckInURL(ctx, client, o.CheckInURL, ok); err != nil {
				log.Warn("heartbeat URL", "err", err)
			}
		}()
	}
	wg.Wait()
	d.outcomes = out
	if s != nil {
		d.limits = s.RateLimits()
	}
	return d
}

// cacheOrNil keeps a nil *state.Cache from becoming a non-nil interface.
func cacheOrNil(c *state.Cache) thermal.Cache {
	if c == nil {
		return nil
	}
	return c
}

// logDropped logs one line per chip problem and dropped sensor.
func logDropped(log *slog.Logger, chips []thermal.Chip) {
	for _, c := range chips {
		if c.Asleep {
			log.Info("asleep (runtime-suspended), not read", "source", c.Source, "chip", c.Name)
		}
		if c.Err != nil {
			log.Warn("chip", "source", c.Source, "chip", c.Name, "err", c.Err)
		}
		for _, s := range c.Sensors {
			if s.Err != nil {
				log.Warn("sensor dropped", "source", c.Source, "chip", c.Name, "sensor", s.Name, "err", s.Err)
			}
		}
	}
}
