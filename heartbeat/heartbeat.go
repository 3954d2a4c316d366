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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
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

// Files in the state directory.
const (
	// StateFile holds the breaches that are pending or firing, and the
	// outbox.
	StateFile = "state.json"
	// LastGoodConfig is a copy of the last configuration file that loaded.
	LastGoodConfig = "thermal.last-good.toml"
)

// MaxOutbox bounds the undelivered events kept: a host cut off from Sentry
// for a day does not grow its state without end. The oldest go first, and
// each one dropped is logged.
const MaxOutbox = 100

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
	Delivered       int  // events Sentry accepted in this beat
	Pending         int  // events left in the outbox
}

// cacheTTL is how long what the sources learned (hwmon labels and limits,
// NVMe limits) is trusted before a beat reads it all again (a limit written
// at run time shows up then).
const cacheTTL = 10 * time.Minute

// File is state.json.
type File struct {
	alert.State
	// Outbox holds the events committed and not yet accepted by Sentry.
	Outbox []Pending `json:"outbox,omitempty"`
	// ConfigSHA256 is the hash of the configuration file last kept as the
	// last good one.
	ConfigSHA256 string `json:"config_sha256,omitempty"`
	// Swept is when leftover temporary files were last removed.
	Swept time.Time `json:"swept,omitzero"`
	// NoSensors is set once "no sensors found" has been logged, so that a
	// VM's journal says it once, not every 30 s.
	NoSensors bool `json:"no_sensors,omitempty"`
	// Spinning holds the fans ("source/chip/sensor") seen spinning: one of
	// them at 0 RPM has stopped, while a header that always read 0 has
	// nothing plugged in.
	Spinning map[string]bool `json:"spinning_fans,omitempty"`
	// Throttles holds each CPU chip's throttle count ("source/chip"), so
	// that the next beat tells whether it grew.
	Throttles map[string]int64 `json:"throttle_counts,omitempty"`
}

// Pending is an event in the outbox.
type Pending struct {
	notify.Event
	// Lease, while in the future, says another beat is sending the event
	// right now.
	Lease    time.Time `json:"lease,omitzero"`
	Attempts int       `json:"attempts,omitempty"`
}

// validate drops what Evaluate and delivery cannot use; it returns what it
// dropped.
func (f *File) validate() int {
	n := f.State.Validate()
	kept := f.Outbox[:0]
	seen := map[string]bool{}
	for _, p := range f.Outbox {
		if len(p.ID) != 32 || !isHex(p.ID) || p.Message == "" || seen[p.ID] {
			n++
			continue
		}
		seen[p.ID] = true
		kept = append(kept, p)
	}
	f.Outbox = kept
	return n
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// Beat runs one beat.
func Beat(o Options) (res Result) {
	log := o.Log
	now := o.Now
	if now == nil {
		now = time.Now
	}
	statePath := filepath.Join(o.StateDir, StateFile)

	// The configuration: a typo must not stop the heartbeat.
	cfg, data, err := config.LoadFile(o.ConfigPath)
	if err != nil {
		res.ConfigInvalid = true
		cfg = lastGood(o.StateDir, log)
		log.Error("configuration not loaded; the beat goes on with the last good one ("+cfg.DisplayPath()+"); run thermal check", "err", err)
	}

	// Collection.
	var cache *state.Cache
	if !o.DryRun {
		cache = &state.Cache{Dir: o.StateDir, BootID: o.BootID, Scope: o.Scope, TTL: cacheTTL, Now: now()}
	}
	var snap *pipeline.Snapshot
	safely(log, "collection", func() { snap = o.Collect(cfg, cacheOrNil(cache)) })
	collected := snap != nil
	if snap == nil {
		snap = &pipeline.Snapshot{Time: now()}
	}
	for _, err := range snap.Errs {
		log.Warn("source could not be read", "err", err)
	}
	if cache != nil {
		for _, err := range cache.Warnings {
			log.Warn("cache unreadable; the sources learn afresh", "err", err)
		}
	}
	if o.Verbose {
		logDropped(log, snap.Chips)
	}
	res.Sensors, res.Read = snap.Sensors()

	// Breach state: lock, load, evaluate, commit the events.
	var unlock func()
	locked := o.DryRun
	if !o.DryRun {
		if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
			log.Warn("state directory", "err", err)
		}
		if unlock, err = state.Lock(statePath, o.Timeout); err != nil {
			// Another beat holds it (a hung one): evaluate from what is on
			// disk, but do not overwrite its state; the check-in says so.
			log.Warn("breach state not locked; evaluating anyway", "err", err)
			unlock = nil
		} else {
			locked = true
		}
	}
	st, before, writable := loadState(statePath, log)
	writable = writable && locked
	// What a fan's or a throttle counter's history says, before the
	// breaches are judged.
	st.Spinning = stoppedFans(snap.Chips, st.Spinning)
	st.Throttles = throttleGrowth(snap.Chips, st.Throttles)
	var transitions []alert.Transition
	values := snap.Values()
	ok := safely(log, "breach evaluation", func() {
		transitions = alert.Evaluate(&st.State, snap.Time, snap.Readings(), values)
	})
	if !ok {
		st.State = alert.State{} // whatever made it panic is gone from the next state
		log.Warn("breach state reset")
	}

	sending := o.SentryDSN != "" && !o.DryRun
	if sending {
		devices := map[[2]string]thermal.Attrs{}
		for _, c := range snap.Chips {
			if len(c.Attrs) > 0 {
				devices[[2]string{c.Source, c.Name}] = c.Attrs
			}
		}
		for _, t := range transitions {
			st.Outbox = append(st.Outbox, Pending{Event: notify.EventFor(o.Host, t, values, devices[[2]string{t.Source, t.Chip}])})
		}
		if over := len(st.Outbox) - MaxOutbox; over > 0 {
			for _, p := range st.Outbox[:over] {
				log.Warn("outbox full: oldest undelivered event dropped", "event_id", p.ID, "message", p.Message)
			}
			st.Outbox = append(st.Outbox[:0], st.Outbox[over:]...)
		}
	}
	// Lease what this beat will send: entries no other beat is sending.
	var batch []Pending
	if sending {
		lease := now().Add(o.Timeout + 5*time.Second)
		for i := range st.Outbox {
			if p := &st.Outbox[i]; !p.Lease.After(now()) {
				p.Lease = lease
				batch = append(batch, *p)
			}
		}
	}
	if !o.DryRun && data != nil && !res.ConfigInvalid {
		keepLastGood(o.StateDir, data, &st, log)
	}
	if !o.DryRun && now().Sub(st.Swept) > time.Hour {
		sweep(log, o.TextfileDir, "."+report.FileName+".")
		sweep(log, o.StateDir, ".")
		st.Swept = now()
	}
	if nothing := collected && len(snap.Errs) == 0 && res.Sensors == 0; nothing && !st.NoSensors {
		log.Warn("no sensors found on this host (a VM?): nothing to report, checking in ok; run thermal probe for hints (logged once)")
		st.NoSensors = true
	} else if !nothing {
		st.NoSensors = false
	}
	if !o.DryRun && writable {
		res.StateSaved = saveState(statePath, st, before, log)
	} else if !o.DryRun && !locked {
		log.Error("breach state not saved: not locked, another beat's state is left as it is")
	}
	if unlock != nil {
		unlock()
	}

	// The textfile.
	b := snap.Beat(st.FiringKeys())
	b.ConfigInvalid = res.ConfigInvalid
	b.StateUnsaved = !o.DryRun && !res.StateSaved
	if o.DryRun {
		if err := report.Write(o.Stdout, b); err != nil {
			log.Error("exposition not written", "err", err)
			return res
		}
		res.TextfileWritten = true
		return res
	}
	if _, err := report.WriteFile(o.TextfileDir, b); err != nil {
		log.Error("textfile not written; delivering anyway", "err", err)
	} else {
		res.TextfileWritten = true
	}
	if err := cache.Flush(); err != nil {
		log.Warn("cache not saved; the next beat reads labels and limits again", "err", err)
	}

	// Delivery. A host with no sensors at all (a VM) is not an error;
	// sensors that exist and none of which could be read are.
	res.CheckInOK = collected && len(snap.Errs) == 0 && !res.ConfigInvalid && res.TextfileWritten && res.StateSaved &&
		(res.Sensors == 0 || res.Read > 0)
	outcomes := deliver(o, cfg, log, res.CheckInOK, batch)
	if len(outcomes) > 0 {
		res.Delivered, res.Pending = settle(o, statePath, outcomes, log)
	} else {
		res.Pending = len(st.Outbox)
	}
	return res
}

// stoppedFans marks as failed the fans at 0 RPM that were seen spinning
// (unless their controller asks 0 of them: a fan-stop design), and returns
// the fans spinning now or before, for the next beat. A fan present but
// not read this beat (its read failed, its chip is asleep) keeps what was
// seen; a fan no longer present is forgotten.
func stoppedFans(chips []thermal.Chip, before map[string]bool) map[string]bool {
	now := map[string]bool{}
	for i := range chips {
		c := &chips[i]
		if c.Err != nil || c.Asleep { // present, not read: keep its fans
			prefix := c.Source + "/" + c.Name + "/"
			for k := range before {
				if strings.HasPrefix(k, prefix) {
					now[k] = true
				}
			}
		}
		for j := range c.Sensors {
			f := &c.Sensors[j]
			if !f.IsFan() {
				continue
			}
			k := c.Source + "/" + c.Name + "/" + f.Name
			switch {
			case f.Err != nil: // not read this beat: what was seen stands
				if before[k] {
					now[k] = true
				}
			case f.Milli > 0:
				now[k] = true
			case before[k]:
				now[k] = true
				if f.Failed == "" && (f.FanTarget == nil || *f.FanTarget > 0) {
					f.Failed = "stopped after it was seen spinning"
				}
			}
		}
	}
	if len(now) == 0 {
		return nil
	}
	return now
}

// throttleGrowth turns each throttle count (a CPU package's or core's)
// into whether it grew since the last beat (1, else 0), and returns the
// counts for the next beat. The first beat, or one after a reboot reset
// the counter, says 0.
func throttleGrowth(chips []thermal.Chip, before map[string]int64) map[string]int64 {
	now := map[string]int64{}
	for i := range chips {
		c := &chips[i]
		for j := range c.Sensors {
			s := &c.Sensors[j]
			if s.Kind != thermal.KindThrottle || s.Err != nil || !strings.HasSuffix(s.Attr, "_throttle_count") {
				continue
			}
			k := c.Source + "/" + c.Name
			now[k] = s.Milli
			prev, ok := before[k]
			s.Milli = 0
			s.Detail = strconv.FormatInt(now[k], 10) + " thermal throttle events"
			if ok && now[k] > prev {
				s.Milli = 1
				s.Detail += ", " + strconv.FormatInt(now[k]-prev, 10) + " since the last beat"
			}
		}
	}
	if len(now) == 0 {
		return nil
	}
	return now
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

// loadState reads state.json, starting fresh (with a warning) from one
// that is missing, corrupt or holds what a beat cannot use. It returns the
// bytes it read, so that an unchanged state is not written again.
//
// A file that could not be read at all (permissions, an I/O error) is not
// corrupt: keep is false then, and the beat must not write over it, or the
// events waiting in it would be lost.
func loadState(path string, log *slog.Logger) (f File, before []byte, keep bool) {
	b, err := state.ReadFile(path)
	if err != nil && !errors.Is(err, state.ErrCorrupt) {
		log.Error("breach state unreadable; this beat starts fresh and leaves the file as it is", "err", err)
		return File{}, nil, false
	}
	if err == nil && b != nil {
		if err = json.Unmarshal(b, &f); err != nil {
			err = fmt.Errorf("state: %s: %w: %v", path, state.ErrCorrupt, err)
			f = File{}
		}
	}
	if err != nil {
		log.Warn("breach state unreadable; starting fresh", "err", err)
		return File{}, nil, true
	}
	if n := f.validate(); n > 0 {
		log.Warn("breach state held entries a beat cannot use; dropped them", "dropped", n, "path", path)
	}
	return f, b, true
}

// saveState writes the state unless it is what was read.
func saveState(path string, f File, before []byte, log *slog.Logger) bool {
	b, err := json.MarshalIndent(f, "", "  ")
	if err == nil {
		b = append(b, '\n')
		if bytes.Equal(b, before) {
			return true
		}
		err = state.WriteFileAtomic(path, b)
	}
	if err != nil {
		log.Error("breach state not saved: pending breaches restart and events may not wait for the next beat", "err", err)
		return false
	}
	return true
}

// lastGood returns the configuration kept by the last beat whose
// configuration loaded, else the built-in one.
func lastGood(dir string, log *slog.Logger) *config.Config {
	path := filepath.Join(dir, LastGoodConfig)
	data, err := config.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return config.Default()
	}
	if err == nil {
		var c *config.Config
		if c, err = config.Parse(path, data); err == nil {
			return c
		}
	}
	log.Warn("last good configuration unusable; using the built-in one", "err", err)
	return config.Default()
}

// keepLastGood copies a configuration that loaded into the state directory
// when it changed.
func keepLastGood(dir string, data []byte, f *File, log *slog.Logger) {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	if h == f.ConfigSHA256 {
		return
	}
	if err := state.WriteFileAtomic(filepath.Join(dir, LastGoodConfig), data); err != nil {
		log.Warn("last good configuration not kept", "err", err)
		return
	}
	f.ConfigSHA256 = h
}

// sweep removes temporary files a killed beat left behind in dir: names
// starting with prefix and ending in .tmp, older than a minute.
func sweep(log *slog.Logger, dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".tmp") || e.IsDir() {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Minute {
			if err := os.Remove(filepath.Join(dir, name)); err == nil {
				log.Info("removed a temporary file a killed beat left behind", "file", filepath.Join(dir, name))
			}
		}
	}
}

// outcome is what became of one event sent in this beat.
type outcome struct {
	id string
	notify.Outcome
}

// deliver checks in and sends batch, all under the timeout. It returns the
// outcome of every event it sent.
func deliver(o Options, cfg *config.Config, log *slog.Logger, ok bool, batch []Pending) []outcome {
	if o.SentryDSN == "" && o.CheckInURL == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	client := o.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	var out []outcome
	var wg sync.WaitGroup
	if o.SentryDSN != "" {
		env := cfg.Sentry.Environment
		if o.Environment != "" {
			env = o.Environment
		}
		s, err := notify.NewSentry(client, notify.SentryOptions{DSN: o.SentryDSN, Release: o.Release,
			Environment: env, Host: o.Host, Monitor: config.MonitorSlug(cfg.Sentry.Monitor, o.Host)})
		if err != nil {
			log.Error("Sentry not configured; events are kept", "err", err)
			for _, p := range batch {
				out = append(out, outcome{p.ID, notify.Retry})
			}
		} else {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.CheckIn(ctx, ok); err != nil {
					log.Warn("Sentry check-in", "err", err)
				}
			}()
			for _, p := range batch {
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
	return out
}

// settle records the outcomes: accepted and refused events leave the
// outbox, the others lose their lease so that the next beat sends them.
func settle(o Options, statePath string, outcomes []outcome, log *slog.Logger) (delivered, pending int) {
	unlock, err := state.Lock(statePath, o.Timeout)
	if err != nil {
		log.Warn("outbox not updated; delivered events will be sent again (Sentry drops the duplicates)", "err", err)
		return 0, -1
	}
	defer unlock()
	f, before, writable := loadState(statePath, log)
	if !writable {
		return 0, -1
	}
	by := make(map[string]notify.Outcome, len(outcomes))
	for _, oc := range outcomes {
		by[oc.id] = oc.Outcome
		if oc.Outcome == notify.Accepted {
			delivered++
		}
	}
	kept := f.Outbox[:0]
	for _, p := range f.Outbox {
		res, sent := by[p.ID]
		if sent {
			if res != notify.Retry {
				continue
			}
			p.Lease, p.Attempts = time.Time{}, p.Attempts+1
		}
		kept = append(kept, p)
	}
	f.Outbox = kept
	saveState(statePath, f, before, log)
	return delivered, len(f.Outbox)
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
