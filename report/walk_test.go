package report

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// pick returns one of vs.
func pick[T any](r *rand.Rand, vs ...T) T { return vs[r.IntN(len(vs))] }

// maybe returns a pointer to a random limit, or nil.
func maybe(r *rand.Rand) *int64 {
	if r.IntN(3) == 0 {
		return nil
	}
	return ptr(pick[int64](r, 88000, 98000, -5500, 1e9, 45123))
}

// randomSensor is a sensor of any kind, its names and label values drawn
// from small sets so that they repeat, collide once made valid UTF-8 or
// need escaping.
func randomSensor(r *rand.Rand) thermal.Sensor {
	s := thermal.Sensor{
		Name:  pick(r, "Core 0", "Core 1", "Core 10", "Core 2", "temp1", "\xff", "\xfe", "a\nb", "", "Core 1"),
		Kind:  pick(r, thermal.KindTemperature, thermal.KindTemperature, thermal.KindTemperature, thermal.KindFan, thermal.KindDuty, thermal.KindPower, thermal.KindThrottle, thermal.KindThrottleCount),
		Value: pick[int64](r, 0, 1000, 45500, -5500, 123456789, 2e9, r.Int64N(200000)-50000),
		Max:   maybe(r), Crit: maybe(r), Emergency: maybe(r), CritHyst: maybe(r), FanMin: maybe(r), FanTarget: maybe(r),
		Failed: pick(r, "", "", "alarm"),
	}
	if r.IntN(5) == 0 {
		s.Err = thermal.ErrFault
	}
	for range r.IntN(3) {
		s.Limits = append(s.Limits, thermal.Limit{Name: pick(r, "max", "max_operating", "crit", "\xff", "\xfe", `x"y`), Milli: r.Int64N(120000)})
	}
	for range r.IntN(4) {
		s.Thresholds = append(s.Thresholds, thermal.Threshold{Level: pick(r, thermal.Warning, thermal.Critical, thermal.Critical, "\xff", "\xfe", `a\b`),
			Celsius: pick(r, 85, 98.5, -1, math.NaN(), math.Inf(1), r.Float64()*100)})
	}
	for range pick(r, 0, 0, 1, 2, 3, 40) { // past 12, sorts are not insertion sorts
		s.Trips = append(s.Trips, thermal.Trip{Index: pick(r, 0, 1, 2, 10, 11, 100, -1), Type: pick(r, "hot", "critical", "\xff", "\xfe", `p"q`), Milli: r.Int64N(120000)})
	}
	return s
}

func b2i(v bool) int { return int(b2f(v)) }

// randomBeat is a beat of a few chips of random sensors, whose chip
// names and sources repeat.
func randomBeat(r *rand.Rand) Beat {
	b := Beat{Time: time.Unix(1763731200, r.Int64N(1e9)), ConfigInvalid: r.IntN(2) == 0, StateUnsaved: r.IntN(2) == 0,
		Durations: map[string]time.Duration{}}
	for range r.IntN(3) {
		b.Durations[pick(r, "hwmon", "nvme", "\xff")] = time.Duration(r.Int64N(1e9))
	}
	for range r.IntN(7) {
		c := thermal.Chip{Source: pick(r, "hwmon", "hwmon", "nvme", "thermal_zone", "\xff"),
			Name:   pick(r, "c0", "c1", "c1", "coretemp-isa-0000", `we"ird`, "\xfe", "\xff", ""),
			Errors: r.IntN(3), Asleep: r.IntN(4) == 0, Aux: r.IntN(8) == 0}
		for range r.IntN(9) * b2i(!c.Aux) { // an Aux chip has series only
			c.Sensors = append(c.Sensors, randomSensor(r))
		}
		for range r.IntN(3) {
			c.Series = append(c.Series, info(pick(r, "m", "\xff"), pick(r, "s1", "s2"), "fw"))
		}
		b.Chips = append(b.Chips, c)
	}
	if r.IntN(4) > 0 {
		b.Firing = func(id thermal.SensorID, level thermal.Level) bool {
			h := fnv.New32a()
			fmt.Fprint(h, id.Source, id.Chip, id.Sensor, level)
			return h.Sum32()%3 == 0
		}
	}
	return b
}

// Beats of random chips and sensors, with every kind of repetition the
// walks over sorted sensors must get right, render as the registry does.
func TestRandomBeatsMatchRegistry(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 3000 {
		t.Run(fmt.Sprint(i), func(t *testing.T) { CheckMatchesRegistry(t, randomBeat(r)) })
		if t.Failed() {
			break
		}
	}
}

// The sensors' keys sort packed as they do by comparison, the fallback
// where they do not fit a word.
func TestSortKeysPackedAsCompared(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 200 {
		b := randomBeat(r)
		var w writer
		w.init(b)
		w.addBeat(b)
		w.rankStrings()
		w.rankKeys()
		want := slices.Clone(w.ukeys)
		slices.SortFunc(want, cmpKey)
		if w.sortKeys(); !slices.Equal(w.ukeys, want) {
			t.Fatalf("packed keys sort as\n%v\nwant\n%v", w.ukeys, want)
		}
	}
}

// A line longer than the buffer, and than the room made for a line's
// start, is written whole.
func TestLongLabelValues(t *testing.T) {
	long := string(slices.Repeat([]byte("x\""), 40000))
	b := Beat{Time: time.Unix(0, 0), Chips: []thermal.Chip{{Source: "hwmon", Name: long,
		Sensors: []thermal.Sensor{{Name: long, Max: ptr(1), Thresholds: []thermal.Threshold{{Level: thermal.Level(long)}}}}}}}
	CheckMatchesRegistry(t, b)
	// Through a 16-byte buffer, every line grows past it: the same text.
	var small, whole bytes.Buffer
	buf := bufio.NewWriterSize(&small, 16)
	render(buf, b)
	if err := buf.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := Write(&whole, b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(small.Bytes(), whole.Bytes()) {
		t.Errorf("through a 16-byte buffer: %d bytes, unlike the %d written whole", small.Len(), whole.Len())
	}
}
