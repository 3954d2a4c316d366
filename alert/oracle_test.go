package alert

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// The oracle: Evaluate as it was before it walked the chips, with the
// readings it was handed (Readings) and the map of every sensor read
// (pipeline's Snapshot.Read), kept as they were.

func oracleEvaluate(st *State, now time.Time, readings []Reading, read map[thermal.SensorID]float64, announce bool) []Transition {
	byKey := make(map[Key]*Breach, len(st.Breaches))
	for _, b := range st.Breaches {
		byKey[b.Key] = b
	}
	var out []Transition
	for i := range readings {
		r := &readings[i]
		b := byKey[r.Key]
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
			}
			b.LastSeen, b.Celsius, b.Threshold = now, r.Celsius, r.Threshold
			if now.Sub(b.PendingSince) >= r.For {
				b.FiringSince, b.LastSent, b.Unsent = now, now, !announce
				out = append(out, Transition{Kind: Fired, Reading: *r, Since: now})
			}
		default:
			delete(byKey, r.Key)
		}
	}
	seen := make(map[Key]bool, len(readings))
	for _, r := range readings {
		seen[r.Key] = true
	}
	for k, b := range byKey {
		c, wasRead := read[k.SensorID]
		if seen[k] || !wasRead {
			continue
		}
		if b.Firing() && !b.Unsent {
			out = append(out, Transition{Kind: Cleared, Since: b.FiringSince,
				Reading: Reading{Key: k, Celsius: c, Threshold: b.Threshold}})
		}
		delete(byKey, k)
	}
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

func oracleReadings(chips []thermal.Chip) []Reading {
	var rs []Reading
	for i := range chips {
		c := &chips[i]
		for j := range c.Sensors {
			if sn := &c.Sensors[j]; len(sn.Thresholds) > 0 {
				rs = oracleAppendReadings(rs, c, sn)
			}
		}
	}
	return rs
}

func oracleAppendReadings(rs []Reading, c *thermal.Chip, sn *thermal.Sensor) []Reading {
	id := c.ID(sn)
	kind := sn.Kind.RuleKind()
	var failing bool
	switch kind {
	case thermal.KindTemperature:
		if sn.Err != nil {
			return rs
		}
		celsius := sn.Celsius()
		for _, t := range sn.Thresholds {
			rs = append(rs, Reading{Key: Key{SensorID: id, Level: t.Level},
				Celsius: celsius, Threshold: t.Celsius, For: t.For, Hysteresis: t.Hysteresis, Repeat: t.Repeat})
		}
		return rs
	case thermal.KindFan:
		if sn.Err != nil && sn.Failed == "" {
			return rs
		}
		failing = sn.Failed != ""
	default:
		if sn.Err != nil {
			return rs
		}
		failing = sn.Throttling
	}
	d := detail(sn)
	for _, t := range sn.Thresholds {
		rs = append(rs, Reading{Key: Key{SensorID: id, Level: t.Level}, Kind: kind, Related: c.Related,
			Celsius: b2f(failing), Threshold: 0.5, For: t.For, Repeat: t.Repeat, Detail: d})
	}
	return rs
}

// oracleRead is pipeline's Snapshot.Read as it was.
func oracleRead(chips []thermal.Chip) map[thermal.SensorID]float64 {
	m := make(map[thermal.SensorID]float64, 4*len(chips))
	for i := range chips {
		c := &chips[i]
		for j := range c.Sensors {
			if sn := &c.Sensors[j]; sn.Err == nil && sn.Kind != thermal.KindDuty && sn.Kind != thermal.KindPower {
				m[c.ID(sn)] = sn.Float()
			}
		}
	}
	return m
}

// gen makes random hosts, states and beats, from few names so that
// breaches meet readings, and names repeat now and then.
type gen struct{ r *rand.Rand }

func (g gen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

func (g gen) duration(ds ...time.Duration) time.Duration { return ds[g.r.IntN(len(ds))] }

var kinds = []thermal.Kind{thermal.KindTemperature, thermal.KindTemperature, thermal.KindTemperature,
	thermal.KindFan, thermal.KindThrottle, thermal.KindThrottleCount, thermal.KindDuty, thermal.KindPower}

func (g gen) chips() []thermal.Chip {
	chips := make([]thermal.Chip, g.r.IntN(5))
	for i := range chips {
		c := &chips[i]
		c.Source, c.Name = g.pick("hwmon", "nvme"), g.pick("a", "b", "c")
		if g.r.IntN(4) == 0 {
			c.Related = &thermal.SensorID{Source: "hwmon", Chip: "a"}
		}
		c.Sensors = make([]thermal.Sensor, g.r.IntN(5))
		for j := range c.Sensors {
			c.Sensors[j] = g.sensor()
		}
	}
	return chips
}

func (g gen) sensor() thermal.Sensor {
	s := thermal.Sensor{Kind: kinds[g.r.IntN(len(kinds))], Name: g.pick("s0", "s1", "s2")}
	g.read(&s)
	for range g.r.IntN(3) {
		s.Thresholds = append(s.Thresholds, thermal.Threshold{Kind: s.Kind.RuleKind(),
			Level:      thermal.Level(g.pick(string(thermal.Warning), string(thermal.Critical))),
			Celsius:    float64(30 + g.r.IntN(60)),
			For:        g.duration(0, 30*time.Second, time.Minute, 5*time.Minute),
			Hysteresis: float64(g.r.IntN(3) * 2),
			Repeat:     g.duration(0, time.Minute, time.Hour)})
	}
	return s
}

// read gives s a new reading.
func (g gen) read(s *thermal.Sensor) {
	s.Err, s.Failed, s.Throttling, s.Detail = nil, "", g.r.IntN(2) == 0, g.pick("", "3 thermal throttle events")
	s.Value = int64(20000 + 500*g.r.IntN(160))
	if g.r.IntN(5) == 0 {
		s.Err = thermal.ErrFault
	}
	if s.Kind == thermal.KindFan {
		s.Value = int64(g.r.IntN(3) * 600)
		s.Failed = g.pick("", "", "alarm")
	}
}

// state is a valid state of breaches on the chips' sensors and others.
func (g gen) state(chips []thermal.Chip, now time.Time) *State {
	st := &State{}
	for range g.r.IntN(8) {
		id := thermal.SensorID{Source: g.pick("hwmon", "nvme"), Chip: g.pick("a", "b", "c", "d"), Sensor: g.pick("s0", "s1", "s2", "s3")}
		if len(chips) > 0 && g.r.IntN(2) == 0 {
			c := &chips[g.r.IntN(len(chips))]
			if len(c.Sensors) > 0 {
				id = c.ID(&c.Sensors[g.r.IntN(len(c.Sensors))])
			}
		}
		b := &Breach{Key: Key{SensorID: id, Level: thermal.Level(g.pick(string(thermal.Warning), string(thermal.Critical)))},
			Celsius: 90, Threshold: 85.25}
		b.PendingSince = now.Add(-g.duration(time.Minute, time.Hour, 48*time.Hour))
		b.LastSeen = now.Add(-g.duration(30*time.Second, 5*time.Minute, 25*time.Hour))
		if g.r.IntN(2) == 0 {
			b.FiringSince, b.LastSent, b.Unsent = b.PendingSince, now.Add(-g.duration(time.Minute, 2*time.Hour)), g.r.IntN(4) == 0
		}
		st.Breaches = append(st.Breaches, b)
	}
	st.Validate()
	return st
}

func cloneState(st *State) *State {
	c := &State{Version: st.Version}
	for _, b := range st.Breaches {
		bb := *b
		c.Breaches = append(c.Breaches, &bb)
	}
	return c
}

// canonical orders transitions by key: the clears of breaches no reading
// judged come in a map's order.
func canonical(ts []Transition) []Transition {
	ts = slices.Clone(ts)
	slices.SortStableFunc(ts, func(a, b Transition) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Chip, b.Chip),
			cmp.Compare(a.Sensor, b.Sensor), cmp.Compare(a.Level, b.Level), cmp.Compare(a.Kind, b.Kind))
	})
	return ts
}

// same fails unless two evaluations announced and left alike (compared
// as Go syntax, so that NaN is NaN).
func same(t *testing.T, what string, got, want []Transition, gotSt, wantSt *State) {
	t.Helper()
	if g, w := gosyntax(canonical(got)), gosyntax(canonical(want)); g != w {
		t.Fatalf("%s: transitions\n%s\nwant\n%s", what, g, w)
	}
	if g, w := dump(gotSt), dump(wantSt); g != w {
		t.Fatalf("%s: state\n%s\nwant\n%s", what, g, w)
	}
}

func gosyntax(ts []Transition) string {
	s := ""
	for _, tr := range ts {
		s += fmt.Sprintf("%#v\n", tr)
	}
	return s
}

func dump(st *State) string {
	s := fmt.Sprintf("version %d", st.Version)
	for _, b := range st.Breaches {
		s += fmt.Sprintf("\n  %#v", *b)
	}
	return s
}

// EvaluateChips and Evaluate advance random states by random beats of
// random hosts exactly as the Evaluate of readings and a map of what was
// read did: the same transitions, the same state.
func TestEvaluateMatchesOracle(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for i := range 3000 {
		chips := g.chips()
		now := t0
		oracle := g.state(chips, now)
		byChips, byReadings := cloneState(oracle), cloneState(oracle)
		for beat := range 6 {
			announce := g.r.IntN(3) > 0
			want := oracleEvaluate(oracle, now, oracleReadings(chips), oracleRead(chips), announce)
			got := EvaluateChips(byChips, now, chips, announce)
			same(t, fmt.Sprintf("case %d beat %d: EvaluateChips", i, beat), got, want, byChips, oracle)
			got = Evaluate(byReadings, now, Readings(chips), oracleRead(chips), announce)
			same(t, fmt.Sprintf("case %d beat %d: Evaluate", i, beat), got, want, byReadings, oracle)
			for c := range chips {
				for s := range chips[c].Sensors {
					if g.r.IntN(2) == 0 {
						g.read(&chips[c].Sensors[s])
					}
				}
			}
			now = now.Add(g.duration(30*time.Second, 30*time.Second, 30*time.Second, 3*time.Minute, 25*time.Hour))
		}
	}
}

// Evaluate of arbitrary readings (non-finite included) against random
// states matches the oracle.
func TestEvaluateReadingsMatchesOracle(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(3, 4))}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	values := []float64{0, 1, 84, 85, 86, 90, math.NaN(), math.Inf(1), math.Inf(-1), -1e308}
	for i := range 5000 {
		st := g.state(nil, t0)
		oracle := cloneState(st)
		var rs []Reading
		read := map[thermal.SensorID]float64{}
		for range g.r.IntN(6) {
			r := reading(values[g.r.IntN(len(values))])
			r.Source, r.Chip, r.Sensor = g.pick("hwmon", "nvme"), g.pick("a", "b", "c", "d"), g.pick("s0", "s1", "s2", "s3")
			r.Level = thermal.Level(g.pick(string(thermal.Warning), string(thermal.Critical)))
			r.For, r.Repeat = g.duration(0, time.Minute), g.duration(0, time.Minute)
			rs = append(rs, r)
			read[r.SensorID] = r.Celsius
		}
		announce := g.r.IntN(2) == 0
		want := oracleEvaluate(oracle, t0, slices.Clone(rs), read, announce)
		got := Evaluate(st, t0, rs, read, announce)
		same(t, fmt.Sprintf("case %d", i), got, want, st, oracle)
	}
}

// The generator reaches what the comparison is for: breaches that fire,
// repeat, clear by their reading and by a threshold gone, on hosts with
// names twice.
func TestOracleCoverage(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	seen := map[string]int{}
	for range 2000 {
		chips := g.chips()
		st := g.state(chips, t0)
		rs := oracleReadings(chips)
		for _, tr := range oracleEvaluate(st, t0, rs, oracleRead(chips), true) {
			if tr.Kind == Cleared && tr.Threshold == 85.25 {
				seen["cleared, threshold gone"]++
			}
			seen[string(tr.Kind)]++
		}
		keys := map[Key]bool{}
		for _, r := range rs {
			if keys[r.Key] {
				seen["duplicate keys"]++
			}
			keys[r.Key] = true
		}
		for _, c := range chips {
			for _, s := range c.Sensors {
				if errors.Is(s.Err, thermal.ErrFault) && s.Kind == thermal.KindFan && s.Failed != "" {
					seen["failed fan without a speed"]++
				}
			}
		}
	}
	for _, k := range []string{"fired", "repeat", "cleared", "cleared, threshold gone", "duplicate keys", "failed fan without a speed"} {
		if seen[k] == 0 {
			t.Errorf("no case of %s: %v", k, seen)
		}
	}
}
