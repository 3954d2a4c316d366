// Package alert decides, beat after beat, when a sensor past its threshold
// starts and stops paging. The semantics are a Prometheus alert's: a breach
// is pending until it has held on every beat for the rule's `for`; it then
// fires, and stays firing until the reading drops below threshold −
// hysteresis. While firing it is re-announced at most every `repeat`. A gap
// in the beats longer than the `for` window (or one minute, whichever is
// longer) resets a pending breach.
//
// Each beat is a fresh process, so the state lives in a file (see
// package state); Evaluate is pure and takes the clock as an argument.
package alert

import (
	"math"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// Key names one sensor at one level.
type Key struct {
	thermal.SensorID
	Level thermal.Level `json:"level"`
}

// Breach is the state of one key that is pending or firing.
type Breach struct {
	Key
	PendingSince time.Time `json:"pending_since"`
	FiringSince  time.Time `json:"firing_since,omitzero"`
	LastSent     time.Time `json:"last_sent,omitzero"` // last time the breach was announced
	LastSeen     time.Time `json:"last_seen"`          // last beat that saw it breaching
	Celsius      float64   `json:"celsius"`
	Threshold    float64   `json:"threshold"`
	// Unsent marks a breach that fired while nothing could announce it
	// (no SENTRY_DSN): it is announced as fired once something can.
	Unsent bool `json:"unsent,omitempty"`
}

// Firing reports whether the breach has fired.
func (b *Breach) Firing() bool { return !b.FiringSince.IsZero() }

// State is every pending or firing breach.
type State struct {
	Version  int       `json:"version"`
	Breaches []*Breach `json:"breaches"`
}

// Validate drops what a state file may hold but Evaluate cannot use: null
// or nameless breaches, unknown levels, non-finite temperatures, a key
// that appears twice. It returns how many it dropped. A file written by
// this program never has any; one edited, truncated or corrupted may.
func (st *State) Validate() (dropped int) {
	seen := make(map[Key]bool, len(st.Breaches))
	kept := st.Breaches[:0]
	for _, b := range st.Breaches {
		switch {
		case b == nil, b.Source == "", b.Chip == "", b.Sensor == "",
			b.Level != thermal.Warning && b.Level != thermal.Critical,
			math.IsNaN(b.Celsius) || math.IsInf(b.Celsius, 0), math.IsNaN(b.Threshold) || math.IsInf(b.Threshold, 0),
			b.PendingSince.IsZero(), seen[b.Key]:
			dropped++
			continue
		}
		seen[b.Key] = true
		kept = append(kept, b)
	}
	clear(st.Breaches[len(kept):])
	st.Breaches = kept
	return dropped
}

// Reading is one sensor against one threshold in this beat.
type Reading struct {
	Key
	// Kind is KindTemperature for a temperature against a threshold (°C),
	// or the kind of a fan's failure or a chip's throttling, then Celsius
	// is 1 while failing and Threshold 0.5; Detail says how it is doing,
	// in its unit, for events.
	Kind   thermal.Kind
	Detail string
	// Related names a reading of another chip an event quotes (see
	// thermal.Sensor.Related).
	Related    *thermal.SensorID
	Celsius    float64
	Threshold  float64
	For        time.Duration
	Hysteresis float64
	Repeat     time.Duration // 0: announce once
}

// Kind of a transition.
type Kind string

// Transitions a beat can cause.
const (
	Fired   Kind = "fired"   // the breach held for `for`: announce it
	Repeat  Kind = "repeat"  // still firing and `repeat` has passed: announce again
	Cleared Kind = "cleared" // a firing breach recovered: announce once
)

// Transition is something to announce.
type Transition struct {
	Kind Kind
	Reading
	Since time.Time // when the breach started to fire
	At    time.Time // the beat that caused it
}

// minGap is the shortest gap between beats that resets a pending breach:
// two missed 30 s beats.
const minGap = time.Minute

// forgetAfter drops breaches of sensors that have not been read for this
// long (a removed drive, a renamed sensor), without announcing anything.
const forgetAfter = 24 * time.Hour

// Evaluate advances the state by one beat at now with this beat's readings
// and returns what is to be announced. read holds every sensor read this
// beat (°C): a firing breach of a sensor that was read but no longer has a
// threshold at that level (the configuration changed) clears. Keys of
// sensors not read in this beat (a failed read, a sleeping device) keep
// their state.
//
// announce says whether the transitions can be announced in this beat (a
// Sentry DSN is set). A breach that fires while they cannot is kept as
// unsent and announced as fired, with its first firing time, by the first
// beat that can; if it clears before that, nothing is announced of it.
func Evaluate(st *State, now time.Time, readings []Reading, read map[thermal.SensorID]float64, announce bool) []Transition {
	e := evaluation{now: now, announce: announce}
	e.load(st)
	for i := range readings {
		e.judge(&readings[i])
	}
	return e.finish(st, func(id thermal.SensorID) (float64, bool) {
		c, ok := read[id]
		return c, ok
	})
}

// evaluation is one beat's Evaluate in progress.
type evaluation struct {
	now      time.Time
	announce bool
	// byKey holds the breaches as the readings so far left them; nil
	// while there are none, so that a quiet beat makes no map (the maps
	// are made on the heap: the struct's content escapes).
	byKey map[Key]*Breach
	// The keys of byKey that a reading judged: made when there is one,
	// not for every reading of a beat where nothing breaches.
	judged map[Key]bool
	out    []Transition // what is to be announced
}

// load indexes the state's breaches by key.
func (e *evaluation) load(st *State) {
	if len(st.Breaches) == 0 {
		return
	}
	e.byKey = make(map[Key]*Breach, len(st.Breaches))
	for _, b := range st.Breaches {
		e.byKey[b.Key] = b
	}
}

// judge advances the breach of r's key by reading r. It reports whether
// that is to be announced: it appended a transition (one at most).
func (e *evaluation) judge(r *Reading) bool {
	n := len(e.out)
	b := e.byKey[r.Key]
	if b != nil {
		e.judged = mark(e.judged, r.Key, len(e.byKey))
	}
	switch {
	case b != nil && b.Firing():
		e.firing(b, r)
	case r.Celsius > r.Threshold:
		e.breaching(b, r)
	case b != nil:
		delete(e.byKey, r.Key) // a pending breach that did not hold
	}
	return len(e.out) > n
}

// firing advances b, which has fired, by reading r: it clears below the
// threshold less the hysteresis, else holds, is announced once something
// can, and is repeated.
func (e *evaluation) firing(b *Breach, r *Reading) {
	if r.Celsius < r.Threshold-r.Hysteresis {
		if !b.Unsent {
			e.announced(Cleared, r, b.FiringSince)
		}
		delete(e.byKey, r.Key)
		return
	}
	b.LastSeen, b.Celsius, b.Threshold = e.now, r.Celsius, r.Threshold
	if b.Unsent && e.announce {
		b.Unsent, b.LastSent = false, e.now
		e.announced(Fired, r, b.FiringSince)
		return
	}
	if r.Repeat > 0 && e.now.Sub(b.LastSent) >= r.Repeat {
		b.LastSent = e.now
		e.announced(Repeat, r, b.FiringSince)
	}
}

// breaching advances b (nil for none), pending, by reading r, which
// breaches: it starts pending (again, after a gap in the beats), and fires
// once it has held for r.For.
func (e *evaluation) breaching(b *Breach, r *Reading) {
	if b == nil || e.now.Sub(b.LastSeen) > max(r.For, minGap) {
		b = &Breach{Key: r.Key, PendingSince: e.now}
		if e.byKey == nil {
			e.byKey = map[Key]*Breach{}
		}
		e.byKey[r.Key] = b
		e.judged = mark(e.judged, r.Key, len(e.byKey))
	}
	b.LastSeen, b.Celsius, b.Threshold = e.now, r.Celsius, r.Threshold
	if e.now.Sub(b.PendingSince) >= r.For {
		b.FiringSince, b.LastSent, b.Unsent = e.now, e.now, !e.announce
		e.announced(Fired, r, e.now)
	}
}

// announced appends a transition of kind by reading r of a breach firing
// since.
func (e *evaluation) announced(kind Kind, r *Reading, since time.Time) {
	e.out = append(e.out, Transition{Kind: kind, Reading: *r, Since: since})
}

// finish clears the breaches whose threshold is gone (read says whether
// a sensor was read this beat, and its value), forgets those not seen for
// long, and writes the breaches back to st. It returns the transitions.
func (e *evaluation) finish(st *State, read func(thermal.SensorID) (float64, bool)) []Transition {
	out := clearUnjudged(e.out, e.byKey, e.judged, read)
	st.Breaches = st.Breaches[:0]
	for _, b := range e.byKey {
		if e.now.Sub(b.LastSeen) < forgetAfter {
			st.Breaches = append(st.Breaches, b)
		}
	}
	sortBreaches(st.Breaches)
	st.Version = 1
	for i := range out {
		out[i].At = e.now
	}
	return out
}

// mark adds k to the set m, made for about n keys when nil.
func mark(m map[Key]bool, k Key, n int) map[Key]bool {
	if m == nil {
		m = make(map[Key]bool, n)
	}
	m[k] = true
	return m
}

// clearUnjudged drops from byKey each breach that no reading judged but
// whose sensor was read: its threshold at that level is gone. One that
// fired, and was announced, clears.
func clearUnjudged(out []Transition, byKey map[Key]*Breach, judged map[Key]bool, read func(thermal.SensorID) (float64, bool)) []Transition {
	for k, b := range byKey {
		if judged[k] {
			continue
		}
		c, wasRead := read(k.SensorID)
		if !wasRead {
			continue
		}
		if b.Firing() && !b.Unsent {
			out = append(out, Transition{Kind: Cleared, Since: b.FiringSince,
				Reading: Reading{Key: k, Celsius: c, Threshold: b.Threshold}})
		}
		delete(byKey, k)
	}
	return out
}

// FiringKeys returns the keys that are firing now; nil when none is.
func (st *State) FiringKeys() map[Key]bool {
	var m map[Key]bool
	for _, b := range st.Breaches {
		if b.Firing() {
			m = mark(m, b.Key, len(st.Breaches))
		}
	}
	return m
}
