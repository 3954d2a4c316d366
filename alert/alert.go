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
	byKey := make(map[Key]*Breach, len(st.Breaches))
	for _, b := range st.Breaches {
		byKey[b.Key] = b
	}
	var out []Transition
	// The keys of byKey that a reading judged: made when there is one,
	// not for every reading of a beat where nothing breaches.
	var judged map[Key]bool
	for i := range readings {
		r := &readings[i]
		b := byKey[r.Key]
		if b != nil {
			judged = mark(judged, r.Key, len(byKey))
		}
		switch {
		case b != nil && b.Firing():
			if r.Celsius < r.Threshold-r.Hysteresis {
				if !b.Unsent {
					out = append(out, Transition{Kind: Cleared, Reading: *r, Since: b.FiringSince})
				}
				delete(byKey, r.Key)
				continue
			}
			b.LastSeen, b.Celsius, b.Threshold = now, r.Celsius, r.Threshold
			if b.Unsent && announce {
				b.Unsent, b.LastSent = false, now
				out = append(out, Transition{Kind: Fired, Reading: *r, Since: b.FiringSince})
				continue
			}
			if r.Repeat > 0 && now.Sub(b.LastSent) >= r.Repeat {
				b.LastSent = now
				out = append(out, Transition{Kind: Repeat, Reading: *r, Since: b.FiringSince})
			}
		case r.Celsius > r.Threshold:
			gap := max(r.For, minGap)
			if b == nil || now.Sub(b.LastSeen) > gap {
				b = &Breach{Key: r.Key, PendingSince: now}
				byKey[r.Key] = b
				judged = mark(judged, r.Key, len(byKey))
			}
			b.LastSeen, b.Celsius, b.Threshold = now, r.Celsius, r.Threshold
			if now.Sub(b.PendingSince) >= r.For {
				b.FiringSince, b.LastSent, b.Unsent = now, now, !announce
				out = append(out, Transition{Kind: Fired, Reading: *r, Since: now})
			}
		default:
			delete(byKey, r.Key) // a pending breach that did not hold
		}
	}
	out = clearUnjudged(out, byKey, judged, read)
	st.Breaches = st.Breaches[:0]
	for _, b := range byKey {
		if now.Sub(b.LastSeen) < forgetAfter {
			st.Breaches = append(st.Breaches, b)
		}
	}
	sortBreaches(st.Breaches)
	st.Version = 1
	for i := range out {
		out[i].At = now
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
func clearUnjudged(out []Transition, byKey map[Key]*Breach, judged map[Key]bool, read map[thermal.SensorID]float64) []Transition {
	for k, b := range byKey {
		c, wasRead := read[k.SensorID]
		if judged[k] || !wasRead {
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

// FiringKeys returns the keys that are firing now.
func (st *State) FiringKeys() map[Key]bool {
	m := map[Key]bool{}
	for _, b := range st.Breaches {
		if b.Firing() {
			m[b.Key] = true
		}
	}
	return m
}
