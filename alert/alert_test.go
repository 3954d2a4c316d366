package alert

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

var key = Key{SensorID: thermal.SensorID{Source: "hwmon", Chip: "coretemp-isa-0000", Sensor: "Package id 0"}, Level: thermal.Warning}

func reading(c float64) Reading {
	return Reading{Key: key, Celsius: c, Threshold: 85, For: time.Minute, Hysteresis: 2, Repeat: 5 * time.Minute}
}

// run feeds one reading per step (a negative temperature means no reading
// that beat) and returns the transitions of each beat.
func run(t *testing.T, st *State, start time.Time, step time.Duration, temps ...float64) []string {
	t.Helper()
	var out []string
	now := start
	for _, c := range temps {
		var rs []Reading
		if c >= 0 {
			rs = []Reading{reading(c)}
		}
		var kinds []string
		for _, tr := range Evaluate(st, now, rs, nil, true) {
			kinds = append(kinds, string(tr.Kind))
		}
		out = append(out, strings.Join(kinds, "+"))
		now = now.Add(step)
	}
	return out
}

func TestForHysteresisRepeat(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		desc  string
		step  time.Duration
		temps []float64
		want  string
	}{
		{"fires once the breach held for `for` (3 beats at 30 s: 0, 30, 60 s)", 30 * time.Second,
			[]float64{86, 87, 88, 88}, ",,fired,"},
		{"a dip at or below the threshold resets pending", 30 * time.Second,
			[]float64{86, 87, 85, 86, 87, 88}, ",,,,,fired"},
		{"no reading keeps pending (a failed read is not a recovery)", 30 * time.Second,
			[]float64{86, -1, 87}, ",,fired"},
		{"hysteresis: firing holds down to threshold-2, clears below", 30 * time.Second,
			[]float64{90, 90, 90, 84, 83.5, 82.9, 86}, ",,fired,,,cleared,"},
		{"a gap longer than the window resets pending", 2 * time.Minute,
			[]float64{90, 90, 90}, ",,"},
		{"re-announced after repeat (5 min here) while firing", 30 * time.Second,
			[]float64{90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90}, ",,fired,,,,,,,,,,repeat,"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			st := &State{}
			got := strings.Join(run(t, st, t0, tc.step, tc.temps...), ",")
			if got != tc.want {
				t.Errorf("transitions %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFiringStateSurvivesAndForgets(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	st := &State{}
	r := reading(95)
	r.For = 0
	if tr := Evaluate(st, t0, []Reading{r}, nil, true); len(tr) != 1 || tr[0].Kind != Fired {
		t.Fatalf("for=0 did not fire at once: %+v", tr)
	}
	if !st.FiringKeys()[key] {
		t.Fatal("not firing")
	}
	Evaluate(st, t0.Add(25*time.Hour), nil, nil, true)
	if len(st.Breaches) != 0 {
		t.Errorf("a breach not seen for a day is kept: %+v", st.Breaches)
	}
}

// A firing breach whose threshold is gone (the rule was removed) clears
// once, as long as the sensor itself is still read.
func TestThresholdRemovedClears(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	st := &State{}
	r := reading(95)
	r.For = 0
	Evaluate(st, t0, []Reading{r}, nil, true)
	id := key.SensorID
	if tr := Evaluate(st, t0.Add(30*time.Second), nil, nil, true); len(tr) != 0 || len(st.Breaches) != 1 {
		t.Fatalf("an unread sensor changed the state: %+v", tr)
	}
	tr := Evaluate(st, t0.Add(time.Minute), nil, map[thermal.SensorID]float64{id: 95}, true)
	if len(tr) != 1 || tr[0].Kind != Cleared || len(st.Breaches) != 0 {
		t.Errorf("transitions %+v, breaches %+v; want one clear", tr, st.Breaches)
	}
}

// Of a sensor read this beat, a breach its readings judge stays as they
// say, one at a level it no longer has a threshold for clears, and one
// started again after a gap in the beats stays pending.
func TestOnlyUnjudgedBreachesOfReadSensorsClear(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	warn, crit, other := reading(95), reading(95), reading(95)
	crit.Level, crit.Threshold = thermal.Critical, 90
	other.Sensor = "Package id 1"
	for _, r := range []*Reading{&warn, &crit} {
		r.For, r.Repeat = 0, 0
	}
	st := &State{}
	Evaluate(st, t0, []Reading{warn, crit, other}, nil, true)
	read := map[thermal.SensorID]float64{key.SensorID: 95, other.SensorID: 95}
	// Ten minutes without a beat: other's pending breach starts again.
	tr := Evaluate(st, t0.Add(10*time.Minute), []Reading{warn, other}, read, true)
	if len(tr) != 1 || tr[0].Kind != Cleared || tr[0].Level != thermal.Critical {
		t.Fatalf("transitions %+v; want the critical one cleared", tr)
	}
	if len(st.Breaches) != 2 || !st.Breaches[0].Firing() || st.Breaches[0].Key != warn.Key ||
		st.Breaches[1].Key != other.Key || !st.Breaches[1].PendingSince.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("breaches %+v; want the warning firing, the other pending again", st.Breaches)
	}
}

// A state file holding null, nameless, unknown-level or non-finite breaches
// used to panic every beat ({"breaches":[null]}): Validate drops them.
func TestValidateDropsWhatEvaluateCannotUse(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	good := &Breach{Key: key, PendingSince: t0, LastSeen: t0, Celsius: 90, Threshold: 85}
	st := State{Breaches: []*Breach{nil, good,
		{Key: Key{Level: thermal.Warning}, PendingSince: t0},
		{Key: Key{SensorID: key.SensorID, Level: "hot"}, PendingSince: t0},
		{Key: key, PendingSince: t0, Celsius: math.NaN()},
		{Key: key, PendingSince: t0, LastSeen: t0}, // the same key again
	}}
	if n := st.Validate(); n != 5 || len(st.Breaches) != 1 || st.Breaches[0] != good {
		t.Errorf("dropped %d, kept %+v", n, st.Breaches)
	}
}

// Whatever a state file decodes to, Validate and Evaluate neither panic nor
// keep what they cannot use.
func FuzzStateLoadEvaluate(f *testing.F) {
	f.Add([]byte(`{"breaches":[null]}`), 91.0)
	f.Add([]byte(`{"version":1,"breaches":[{"source":"hwmon","chip":"coretemp-isa-0000","sensor":"Package id 0","level":"warning","pending_since":"2026-11-21T12:00:00Z","last_seen":"2026-11-21T12:00:00Z","celsius":90,"threshold":85}]}`), 80.0)
	f.Add([]byte(`{"breaches":[{"level":"critical","firing_since":"0001-01-01T00:00:00Z"}]}`), 1e308)
	f.Add([]byte(`{"breaches":{}}`), 0.0)
	f.Fuzz(func(t *testing.T, data []byte, celsius float64) {
		var st State
		if json.Unmarshal(data, &st) != nil {
			return
		}
		st.Validate()
		now := time.Date(2026, 11, 21, 12, 1, 0, 0, time.UTC)
		r := Reading{Key: key, Celsius: celsius, Threshold: 85, For: time.Minute, Hysteresis: 2, Repeat: time.Hour}
		Evaluate(&st, now, []Reading{r}, map[thermal.SensorID]float64{key.SensorID: celsius}, true)
		Evaluate(&st, now.Add(2*time.Minute), []Reading{r}, map[thermal.SensorID]float64{key.SensorID: celsius}, true)
		for _, b := range st.Breaches {
			if b == nil {
				t.Fatal("nil breach after Evaluate")
			}
		}
		if n := st.Validate(); n != 0 {
			t.Fatalf("Evaluate left %d breaches Validate drops", n)
		}
	})
}

// A breach that fires when nothing can announce it is announced, as fired
// with its first firing time, by the first beat that can; one that clears
// before is never announced, nor its recovery (issue 18 #8).
func TestUnannouncedBreachIsAnnouncedLater(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	hot, cool := reading(95), reading(20)
	hot.For, cool.For, hot.Repeat = 0, 0, 0
	st := &State{}
	Evaluate(st, t0, []Reading{hot}, nil, false)
	Evaluate(st, t0.Add(time.Minute), []Reading{hot}, nil, false)
	tr := Evaluate(st, t0.Add(2*time.Minute), []Reading{hot}, nil, true)
	if len(tr) != 1 || tr[0].Kind != Fired || !tr[0].Since.Equal(t0) {
		t.Fatalf("once announcing: %+v; want it fired since %v", tr, t0)
	}
	if tr := Evaluate(st, t0.Add(3*time.Minute), []Reading{hot}, nil, true); len(tr) != 0 {
		t.Errorf("announced twice: %+v", tr)
	}
	st = &State{}
	Evaluate(st, t0, []Reading{hot}, nil, false)
	if tr := Evaluate(st, t0.Add(time.Minute), []Reading{cool}, nil, true); len(tr) != 0 {
		t.Errorf("a breach never announced, cleared: %+v; want nothing", tr)
	}
}
