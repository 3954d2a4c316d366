package report

import (
	"bytes"
	"cmp"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/thermal-heartbeat/thermal"
)

// The families of the chips and sensors are not stored as rows: their
// rows are read off the chips and sensors as they are written. The chips
// and the sensors are sorted once each, by their label values (chip,
// sensor, source: the label names' order), then as added, and each family
// is written by walking them in that order. A family with a label between
// chip and sensor (a threshold's level, a limit's name) is walked once per
// chip value and value of that label. Of rows with equal label sets, the
// first as added is written, as the registry keeps it.

// walk says where a family's rows come from.
type walk uint8

const (
	walkRows   walk = iota // the writer's general rows
	walkChip               // a row per chip: {chip, source}
	walkSensor             // a row per sensor at most: {chip, sensor, source}
	walkExtra              // a row per threshold or limit of a sensor: {chip, level|limit, sensor, source}
	walkTrip               // a row per trip point of a zone: {chip, sensor, source, trip, type}
)

func init() {
	famErrors.walk, famErrors.value = walkChip, func(c *thermal.Chip, _ *thermal.Sensor) float64 { return float64(c.Errors) }
	famSuspended.walk, famSuspended.value = walkChip, func(c *thermal.Chip, _ *thermal.Sensor) float64 { return b2f(c.Asleep) }
	for f, v := range map[*family]func(_ *thermal.Chip, s *thermal.Sensor) float64{
		famCelsius:    func(_ *thermal.Chip, s *thermal.Sensor) float64 { return s.Celsius() },
		famFanFailed:  func(_ *thermal.Chip, s *thermal.Sensor) float64 { return b2f(s.Failed != "") },
		famFanMin:     func(_ *thermal.Chip, s *thermal.Sensor) float64 { return float64(*s.FanMin) },
		famFanTarget:  func(_ *thermal.Chip, s *thermal.Sensor) float64 { return float64(*s.FanTarget) },
		famFanRPM:     func(_ *thermal.Chip, s *thermal.Sensor) float64 { return float64(s.Value) },
		famDuty:       func(_ *thermal.Chip, s *thermal.Sensor) float64 { return s.Float() },
		famPower:      func(_ *thermal.Chip, s *thermal.Sensor) float64 { return s.Float() },
		famPowerLimit: func(_ *thermal.Chip, s *thermal.Sensor) float64 { return s.Kind.Float(*s.Max) },
	} {
		f.walk, f.value = walkSensor, v
	}
	famAlert.walk, famThreshold.walk, famLimit.walk = walkExtra, walkExtra, walkExtra
	famTrip.walk = walkTrip
	for _, f := range fixedFamilies {
		if f.walk != walkRows {
			f.open = f.name + `{chip="`
		}
		if f.walk == walkExtra {
			f.mid = `",` + f.labels[1] + `="`
		}
	}
}

// bit returns f's bit in a unit's mask.
func bit(f *family) uint32 { return 1 << f.id }

// when returns f's bit when c holds.
func when(c bool, f *family) uint32 {
	if c {
		return bit(f)
	}
	return 0
}

// sensorMask returns the bits of the families s has rows in: a temperature
// its reading, limits and trip points (unless it failed) and thresholds, a
// fan, duty or power reading theirs, and any sensor an alert per threshold
// (a fan's failure, a chip's throttling).
func sensorMask(s *thermal.Sensor) uint32 {
	m := when(len(s.Thresholds) > 0, famAlert)
	switch s.Kind {
	case thermal.KindTemperature:
		m |= when(len(s.Thresholds) > 0, famThreshold)
		if s.Err == nil {
			limits := s.Max != nil || s.Crit != nil || s.Emergency != nil || s.CritHyst != nil || len(s.Limits) > 0
			m |= bit(famCelsius) | when(limits, famLimit) | when(len(s.Trips) > 0, famTrip)
		}
	case thermal.KindFan:
		m |= bit(famFanFailed) | when(s.FanMin != nil, famFanMin) | when(s.FanTarget != nil, famFanTarget) | when(s.Err == nil, famFanRPM)
	case thermal.KindDuty:
		m |= when(s.Err == nil, famDuty)
	case thermal.KindPower:
		m |= when(s.Err == nil, famPower) | when(s.Max != nil, famPowerLimit)
	}
	return m
}

// unit is a sensor to render.
type unit struct {
	s    *thermal.Sensor
	chip uint32    // its chip's index in chips
	mask uint32    // bit(f) for each family f it has rows in
	xoff uint32    // where its extra label values start in xs
	frag [2]uint32 // where its fragment is in frags: `…",source="…"} `, after `sensor="`
	// xm holds the extras indexes of its thresholds' levels and of its
	// limits' names, as sets (see xbit).
	xm [2]uint16
}

// noKey is no sensor's or chip's key.
var noKey = key{^uint64(0), ^uint64(0)}

// sameLabels reports whether the sensors of keys a and b have equal label
// values.
func sameLabels(a, b key) bool { return a.hi == b.hi && a.lo>>32 == b.lo>>32 }

// sortChips puts the chips' keys in order: by chip value, source value,
// then as added.
func (w *writer) sortChips() {
	for i := range w.ckeys {
		w.ckeys[i].hi = w.ranked(w.ckeys[i].hi)
	}
	slices.SortFunc(w.ckeys, cmpKey)
}

// fragEnd is how a fragment ends: the end of the label set, before the
// value.
const fragEnd = `"} `

// sortUnits puts the sensors' keys in order, by chip, sensor and source
// value, then as added, and renders each label set's fragment once.
func (w *writer) sortUnits() {
	w.rankKeys()
	n := 0
	for _, k := range w.ukeys {
		n += len(`",source=""} `) + len(w.value(k.hi)) + len(w.value(k.lo>>32))
	}
	w.sortKeys()
	w.frags = make([]byte, 0, n+preRoom)
	for i, k := range w.ukeys {
		u := &w.units[uint32(k.lo)]
		if i > 0 && sameLabels(k, w.ukeys[i-1]) {
			u.frag = w.units[uint32(w.ukeys[i-1].lo)].frag
			continue
		}
		start := len(w.frags)
		w.frags = append(w.frags, w.value(k.hi)...)
		w.frags = append(w.frags, `",source="`...)
		w.frags = append(w.frags, w.value(k.lo>>32)...)
		w.frags = append(w.frags, fragEnd...)
		u.frag = [2]uint32{uint32(start), uint32(len(w.frags))}
	}
}

// rankKeys puts in the sensors' keys their label values' ranks in place
// of their ids.
func (w *writer) rankKeys() {
	for i := range w.ukeys {
		k := &w.ukeys[i]
		k.hi, k.lo = w.ranked(k.hi), uint64(w.rank[k.lo>>32])<<32|uint64(uint32(k.lo))
	}
}

// sortKeys sorts the sensors' keys: packed into one word each where their
// ranks and positions fit, as they do but for some 2^16 values and
// sensors or more, so that they sort without a comparison function.
func (w *writer) sortKeys() {
	rb, ib := bitsFor(len(w.strs)), bitsFor(len(w.ukeys))
	if 3*rb+ib > 64 {
		slices.SortFunc(w.ukeys, cmpKey)
		return
	}
	packed := make([]uint64, len(w.ukeys))
	for i, k := range w.ukeys {
		packed[i] = (k.hi>>32<<rb|uint64(uint32(k.hi)))<<(rb+ib) | k.lo>>32<<ib | uint64(uint32(k.lo))
	}
	slices.Sort(packed)
	rm, im := uint64(1)<<rb-1, uint64(1)<<ib-1
	for i, p := range packed {
		w.ukeys[i] = key{p>>(2*rb+ib)<<32 | p>>(rb+ib)&rm, p>>ib&rm<<32 | p&im}
	}
}

// bitsFor returns the bits that hold the numbers below n.
func bitsFor(n int) uint {
	return uint(bits.Len(uint(max(n, 1) - 1)))
}

// frag returns u's fragment.
func (w *writer) frag(u *unit) []byte { return w.frags[u.frag[0]:u.frag[1]] }

// start starts a run of lines of family f of the sensors of a chip value:
// the start of the lines up to the sensor's value, with, in a walkExtra
// family, the value x of its extra label.
func (o *out) start(f *family, chip, x string) {
	o.pre = append(append(o.pre[:0], f.open...), chip...)
	if f.walk == walkExtra {
		o.pre = append(append(o.pre, f.mid...), x...)
	}
	o.pre = append(o.pre, `",sensor="`...)
}

// emitChips writes family f, a row per chip.
func (w *writer) emitChips(o *out, f *family) {
	for i, k := range w.ckeys {
		if i > 0 && k.hi == w.ckeys[i-1].hi {
			continue // a chip of the same name and source
		}
		o.pre = append(append(o.pre[:0], f.open...), w.value(k.hi>>32)...)
		o.pre = append(append(append(o.pre, `",source="`...), w.value(k.hi)...), fragEnd...)
		o.line(nil, f.value(&w.chips[k.lo], nil))
	}
}

// emitSensors writes family f, a row per sensor at most.
func (w *writer) emitSensors(o *out, f *family) {
	fb, last, b := bit(f), noKey, o.b
	for _, k := range w.ukeys {
		u := &w.units[uint32(k.lo)]
		if u.mask&fb == 0 || sameLabels(k, last) {
			continue
		}
		if k.hi>>32 != last.hi>>32 {
			o.start(f, w.value(k.hi>>32), "")
		}
		frag := w.frag(u)
		b = o.appendStart(o.fit(b, len(o.pre)+len(frag)+maxFloat+1), frag)
		if f == famCelsius {
			b = appendCelsius(b, u.s.Value) // as appendFloat writes s.Celsius()
		} else {
			b = appendFloat(b, f.value(nil, u.s))
		}
		b = append(b, '\n')
		last = k
	}
	o.b = b
}

// emitExtras writes family f, whose label between chip and sensor (a
// level, a limit) sorts before the sensor: for each chip value, each value
// of that label in turn.
func (w *writer) emitExtras(o *out, f *family) {
	for i := 0; i < len(w.ukeys); {
		j := i + 1
		for j < len(w.ukeys) && w.ukeys[j].hi>>32 == w.ukeys[i].hi>>32 {
			j++
		}
		w.emitGroup(o, f, w.ukeys[i:j])
		i = j
	}
}

// emitGroup writes the rows of family f of the sensors of keys, which
// share a chip value: those of each value of f's extra label in turn.
func (w *writer) emitGroup(o *out, f *family, keys []key) {
	b, m, present := bit(f), xset(f), uint16(0)
	for _, k := range keys {
		if u := &w.units[uint32(k.lo)]; u.mask&b != 0 {
			present |= u.xm[m]
		}
	}
	for _, e := range w.extras.ents {
		switch {
		case present&e.set == 0:
		case f == famLimit:
			w.emitLimits(o, keys, e.id, e.set)
		default:
			w.emitLevels(o, f, keys, e.id, e.set)
		}
	}
}

// xset returns which of a unit's xm holds the extra label values of
// family f.
func xset(f *family) int {
	if f == famLimit {
		return 1
	}
	return 0
}

// emitLevels writes the rows of family f, alert or threshold, of the
// sensors of keys whose threshold's level has rank x, of the indexes in
// set: each sensor's first such threshold.
func (w *writer) emitLevels(o *out, f *family, keys []key, x uint32, set uint16) {
	fb, last, b := bit(f), noKey, o.b
	for _, k := range keys {
		u := &w.units[uint32(k.lo)]
		if u.mask&fb == 0 || u.xm[0]&set == 0 || sameLabels(k, last) {
			continue
		}
		s := u.s
		j := index(w.xs[u.xoff:][:len(s.Thresholds)], x)
		if j < 0 {
			continue
		}
		v := s.Thresholds[j].Celsius
		if f == famAlert {
			v = b2f(w.firing != nil && w.firing(w.chips[u.chip].ID(s), s.Thresholds[j].Level))
		}
		if last == noKey {
			o.start(f, w.value(k.hi>>32), w.value(uint64(x)))
		}
		frag := w.frag(u)
		b = o.appendLine(o.fit(b, len(o.pre)+len(frag)+maxFloat+1), frag, v)
		last = k
	}
	o.b = b
}

// emitLimits writes the limit rows of the sensors of keys whose limit's
// name has rank x, of the indexes in set: each sensor's first such limit,
// of its fields (limitNames) and then of its Limits.
func (w *writer) emitLimits(o *out, keys []key, x uint32, set uint16) {
	fb, last, b := bit(famLimit), noKey, o.b
	field := slices.Index(w.extras.limits[:], x) // the field of limitNames x names, or -1
	for _, k := range keys {
		u := &w.units[uint32(k.lo)]
		if u.mask&fb == 0 || u.xm[1]&set == 0 || sameLabels(k, last) {
			continue
		}
		s, milli := u.s, (*int64)(nil)
		if field >= 0 {
			milli = limitAt(s, field)
		}
		if milli == nil {
			j := index(w.xs[u.xoff:][len(s.Thresholds):][:len(s.Limits)], x)
			if j < 0 {
				continue
			}
			milli = &s.Limits[j].Milli
		}
		if last == noKey {
			o.start(famLimit, w.value(k.hi>>32), w.value(uint64(x)))
		}
		frag := w.frag(u)
		b = append(appendCelsius(o.appendStart(o.fit(b, len(o.pre)+len(frag)+maxFloat+1), frag), *milli), '\n')
		last = k
	}
	o.b = b
}

// index returns the index of the first x in ranks, or -1.
func index(ranks []uint32, x uint32) int {
	for j, r := range ranks {
		if r == x {
			return j
		}
	}
	return -1
}

// addExtra adds an extra label value of a sensor to xs and returns its
// bit in the sensor's xm.
func (w *writer) addExtra(s string) uint16 {
	i := w.extraIndex(s)
	w.xs = append(w.xs, i)
	return xbit(i)
}

// xbit is the bit of extras index i in a set: the indexes from 15 on share
// one. A set says which values a sensor may have: one of a rank's bits in
// it is where to look.
func xbit(i uint32) uint16 { return 1 << min(i, 15) }

// limitsMask returns the set of the extras indexes of limitNames that s
// has fields of.
func limitsMask(s *thermal.Sensor) uint16 {
	var m uint16
	for j := range limitNames {
		if limitAt(s, j) != nil {
			m |= xbit(uint32(levels + j))
		}
	}
	return m
}

// limitNames are the limit label values of a sensor's fields, in the order
// they are added.
var limitNames = [...]string{"max", "crit", "emergency", "crit_hyst"}

// limitAt returns the field of s named limitNames[j].
func limitAt(s *thermal.Sensor, j int) *int64 {
	switch j {
	case 0:
		return s.Max
	case 1:
		return s.Crit
	case 2:
		return s.Emergency
	}
	return s.CritHyst
}

// tripRow is a trip point to render.
type tripRow struct {
	index int
	typ   string // valid UTF-8
	milli int64
}

// emitTrips writes family f, the zones' trip points: a sensor's sorted by
// index and type (as the strings they are written as).
func (w *writer) emitTrips(o *out, f *family) {
	var buf [8]tripRow
	block := noKey
	for i := 0; i < len(w.ukeys); {
		j := i + 1
		for j < len(w.ukeys) && sameLabels(w.ukeys[j], w.ukeys[i]) {
			j++
		}
		if rows := w.trips(buf[:0], bit(f), w.ukeys[i:j]); len(rows) > 0 {
			k := w.ukeys[i]
			if k.hi>>32 != block.hi>>32 {
				o.start(f, w.value(k.hi>>32), "")
				block = k
			}
			frag := w.frag(&w.units[uint32(k.lo)])
			o.tripLines(frag[:len(frag)-len(fragEnd)], rows)
		}
		i = j
	}
}

// trips appends to rows the trip points of the sensors of keys, whose
// label values are equal, sorted: by index and type, then as added.
func (w *writer) trips(rows []tripRow, b uint32, keys []key) []tripRow {
	for _, k := range keys {
		if u := &w.units[uint32(k.lo)]; u.mask&b != 0 {
			for _, t := range u.s.Trips {
				rows = append(rows, tripRow{t.Index, valid(t.Type), t.Milli})
			}
		}
	}
	slices.SortStableFunc(rows, cmpTrip)
	return rows
}

// cmpTrip orders trip points by index and type, as they are written.
func cmpTrip(a, b tripRow) int {
	var x, y [24]byte
	if c := bytes.Compare(strconv.AppendInt(x[:0], int64(a.index), 10), strconv.AppendInt(y[:0], int64(b.index), 10)); c != 0 {
		return c
	}
	return strings.Compare(a.typ, b.typ)
}

// tripLines writes the lines of a sensor's sorted trip points, the first
// of equal label sets only; frag is the sensor's fragment less its end.
func (o *out) tripLines(frag []byte, rows []tripRow) {
	for i, r := range rows {
		if i > 0 && r.index == rows[i-1].index && r.typ == rows[i-1].typ {
			continue
		}
		b := append(o.fit(o.b, len(o.pre)+len(frag)+2*len(r.typ)+64+maxFloat), o.pre...)
		b = append(b, frag...)
		b = append(b, `",trip="`...)
		b = strconv.AppendInt(b, int64(r.index), 10)
		b = append(b, `",type="`...)
		b = appendEscaped(b, r.typ, true)
		b = append(b, fragEnd...)
		b = appendCelsius(b, r.milli)
		o.b = append(b, '\n')
	}
}

// extras are the values of the label between chip and sensor: the levels
// of thresholds and the names of limits. They are few (the two levels, the
// limits' names): each is looked up by a scan once, as it is added, and
// then by its index.
type extras struct {
	ents   []extra
	limits [len(limitNames)]uint32 // the ranks of limitNames
}

// extra is an extra label value. From rankExtras on, the values are
// sorted and one per rank.
type extra struct {
	raw string
	id  uint32 // its id; from rankExtras on, its rank
	set uint16 // from rankExtras on, the set of the indexes it had (see xbit)
}

// levels is how many extras come before limitNames: see initExtras.
const levels = 2

// initExtras adds the usual extra label values, first.
func (w *writer) initExtras() {
	w.extras.ents = make([]extra, 0, levels+len(limitNames))
	for _, s := range [...]string{string(thermal.Warning), string(thermal.Critical)} {
		w.extraIndex(s)
	}
	for _, s := range limitNames {
		w.extraIndex(s)
	}
}

// extraIndex returns the index of extra label value s, added unless it
// was already.
func (w *writer) extraIndex(s string) uint32 {
	x := &w.extras
	for i := range x.ents {
		if x.ents[i].raw == s {
			return uint32(i)
		}
	}
	x.ents = append(x.ents, extra{raw: s, id: w.newID(s)})
	return uint32(len(x.ents) - 1)
}

// rankExtras puts the extra label values' ranks in xs and limits, and
// sorts the values by rank, one per rank.
func (w *writer) rankExtras() {
	x := &w.extras
	for i := range x.ents {
		x.ents[i].id, x.ents[i].set = w.rank[x.ents[i].id], xbit(uint32(i))
	}
	for i, e := range w.xs {
		w.xs[i] = x.ents[e].id
	}
	for j := range limitNames {
		x.limits[j] = x.ents[levels+j].id
	}
	slices.SortFunc(x.ents, func(a, b extra) int { return cmp.Compare(a.id, b.id) })
	n := 0
	for _, e := range x.ents {
		if n > 0 && e.id == x.ents[n-1].id {
			x.ents[n-1].set |= e.set // equal once valid UTF-8
			continue
		}
		x.ents[n] = e
		n++
	}
	x.ents = x.ents[:n]
}
