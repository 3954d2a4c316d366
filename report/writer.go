package report

import (
	"bufio"
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/thermal-heartbeat/thermal"
)

// writer collects the beat, then renders it sorted. Label values are given
// ids as they are added, then ranked in byte order and escaped once each.
// The chips' and sensors' own families are not stored as rows: a sort key
// per chip and per sensor orders them once, and each such family is
// rendered by walking the chips or sensors in that order (sensors.go). The
// rest, the general rows (the sources' own series, the beat's), are stored
// and sorted per family.
type writer struct {
	rows   []row      // the general rows, as added; then sorted
	ids    []uint32   // the general rows' label value ids
	strs   []interned // by id until rankStrings, then by rank
	rank   []uint32   // id -> rank of the value in byte order
	recent [4]recent  // by label position

	chips  []thermal.Chip   // the beat's
	prev   []thermal.Sensor // the sensors of the chip added last
	prevAt int              // where their keys are in ukeys
	ckeys  []key            // by chip: its chip and source values, its index in chips
	units  []unit           // the sensors, as added
	mask   uint32           // the units' masks or'd: the families they have rows in
	ukeys  []key            // by sensor: its chip and sensor values, its source value and index in units
	frags  []byte           // the units' fragments; after them, room for a line's start
	extras extras
	// xs holds, for each sensor in turn, the extras index (from
	// rankExtras on, the rank) of each of its thresholds' levels, then of
	// its limits' names.
	xs     []uint32
	firing func(thermal.SensorID, thermal.Level) bool
}

// interned is a label value and its id; from rankStrings on, the value is
// escaped.
type interned struct {
	s  string
	id uint32
}

// init sizes the writer for b from count's estimate: most of what it adds
// is allocated once, at its size or a little over, and in few blocks (in a
// fresh process every byte allocated is a page cleared); what the estimate
// misses grows as append grows it.
func (w *writer) init(b Beat) {
	n := count(b)
	labels, xs := n.labels, n.xs
	w.rows = make([]row, 0, n.series+len(b.Durations)+3)
	ids := make([]uint32, labels+xs+n.strs)
	w.ids, w.xs, w.rank = ids[:0:labels], ids[labels:labels:labels+xs], ids[labels+xs:]
	w.strs = append(make([]interned, 0, n.strs), interned{})
	keys := make([]key, n.chips+n.sensors)
	w.ckeys, w.ukeys = keys[:0:n.chips], keys[n.chips:n.chips]
	w.chips = b.Chips
	w.units = make([]unit, 0, n.sensors)
	w.initExtras()
	w.firing = b.Firing
}

// counts are what a beat adds to a writer, as count estimates it: a
// source's own limit names, and a value pushed out of recent and seen
// again, are not counted.
type counts struct {
	chips, sensors, series int
	labels                 int // label value ids of general rows
	xs                     int // thresholds and Limits
	strs                   int // ids: the empty string's, then each new one
}

// count counts what b adds to a writer. A source is counted where it
// changes from chip to chip, as intern gives it a new id no more often; a
// sensor's name where it does not repeat the chip before's (see repeats).
func count(b Beat) counts {
	var n counts
	prev, prevSensors := "\x00", []thermal.Sensor(nil) // no source, no sensors
	for i := range b.Chips {
		c := &b.Chips[i]
		values := 0
		for _, s := range c.Series {
			values += len(s.Labels)
		}
		n.series, n.labels, n.strs = n.series+len(c.Series), n.labels+values, n.strs+values
		if c.Aux {
			continue
		}
		n.chips, n.sensors, n.labels = n.chips+1, n.sensors+len(c.Sensors), n.labels+2*len(c.Series) // source and chip
		n.strs++
		if c.Source != prev {
			n.strs, prev = n.strs+1, c.Source
		}
		for j := range c.Sensors {
			n.xs += len(c.Sensors[j].Thresholds) + len(c.Sensors[j].Limits)
			if !repeats(prevSensors, c.Sensors, j) {
				n.strs++
			}
		}
		prevSensors = c.Sensors
	}
	n.labels += len(b.Durations)
	n.strs += 1 + len(b.Durations) + levels + len(limitNames) // and the usual extras
	return n
}

// recent holds the strings interned lately at one label position: a
// chip's source comes back for each chip, a series' label values for each
// of its chips. The oldest is replaced first. Its zero entries hold the
// empty string, whose id is 0.
type recent struct {
	seen [8]seen
	last uint // where the latest is, modulo len(seen)
}

// seen is a string and its id.
type seen struct {
	s  string
	id uint32
}

// intern returns an id for s, the label value passed at position pos: the
// id of a string seen lately there, or a new one. Others may share the
// value: rankStrings gives equal values one rank. The latest string is
// checked here, inlined; most often it is the one.
func (w *writer) intern(pos int, s string) uint32 {
	r := &w.recent[uint(pos)%uint(len(w.recent))] // far positions share
	if c := &r.seen[r.last%uint(len(r.seen))]; c.s == s {
		return c.id
	}
	return w.internSlow(r, s)
}

// internSlow is intern past the latest string.
func (w *writer) internSlow(r *recent, s string) uint32 {
	for i := uint(1); i < uint(len(r.seen)); i++ {
		if c := &r.seen[(r.last-i)%uint(len(r.seen))]; c.s == s {
			return c.id
		}
	}
	id := w.newID(s)
	r.last++
	r.seen[r.last%uint(len(r.seen))] = seen{s, id}
	return id
}

// newID returns a new id for s, sanitised to valid UTF-8.
func (w *writer) newID(s string) uint32 {
	id := uint32(len(w.strs))
	s = valid(s)
	w.strs = append(w.strs, interned{s, id})
	return id
}

// valid returns s with each run of invalid UTF-8 replaced by U+FFFD, as
// the registry does.
func valid(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			if utf8.ValidString(s[i:]) {
				return s
			}
			return strings.ToValidUTF8(s, "\uFFFD")
		}
	}
	return s
}

// write renders what was added: families by name, then rows by label
// values.
func (w *writer) write(buf *bufio.Writer) {
	w.rankStrings()
	w.rankExtras()
	w.sortRows()
	w.sortChips()
	w.sortUnits()
	o := out{buf: buf, b: buf.AvailableBuffer(), pre: w.frags[len(w.frags):]}
	rows := w.rows // sorted by family name: the writer's own families among the fixed ones
	for fixed := fixedByName; len(fixed)+len(rows) > 0; {
		var f *family
		if len(rows) > 0 && rows[0].fam.id == len(fixedFamilies) && (len(fixed) == 0 || rows[0].fam.name < fixed[0].name) {
			f = rows[0].fam // one of the writer's own
		} else {
			f, fixed = fixed[0], fixed[1:]
		}
		n := 0
		for n < len(rows) && rows[n].fam == f {
			n++
		}
		w.emit(&o, f, rows[:n])
		rows = rows[n:]
	}
	o.flush()
}

// emit writes family f, whose general rows are given.
func (w *writer) emit(o *out, f *family, rows []row) {
	if f.walk == walkChip && len(w.ckeys) > 0 || f.walk > walkChip && w.mask&bit(f) != 0 {
		o.header(f) // the family has rows
	}
	switch f.walk {
	case walkChip:
		w.emitChips(o, f)
	case walkSensor:
		w.emitSensors(o, f)
	case walkExtra:
		w.emitExtras(o, f)
	case walkTrip:
		w.emitTrips(o, f)
	default:
		w.emitRows(o, f, rows)
	}
}

// rankStrings sorts and dedupes strs: by rank from then on, and escaped as
// label values. It sets rank: each id's rank (equal values have one).
func (w *writer) rankStrings() {
	slices.SortFunc(w.strs, func(a, b interned) int { return strings.Compare(a.s, b.s) })
	if cap(w.rank) < len(w.strs) {
		w.rank = make([]uint32, len(w.strs)) // more new ids than counted
	}
	w.rank = w.rank[:len(w.strs)]
	n := 0
	var prev string
	for i, e := range w.strs {
		if i == 0 || e.s != prev {
			w.strs[n].s = escapeString(e.s) // n <= i: read already
			n++
		}
		prev = e.s
		w.rank[e.id] = uint32(n - 1)
	}
	w.strs = w.strs[:n]
}

// key is a sort key of two words, compared in turn: label value ranks, a
// position last.
type key struct{ hi, lo uint64 }

// cmpKey orders keys.
func cmpKey(a, b key) int {
	if a.hi != b.hi {
		return cmp.Compare(a.hi, b.hi)
	}
	return cmp.Compare(a.lo, b.lo)
}

// ranked returns x, two ids in its halves, with their ranks in their
// place.
func (w *writer) ranked(x uint64) uint64 {
	return uint64(w.rank[x>>32])<<32 | uint64(w.rank[uint32(x)])
}

// value returns the escaped label value of rank r.
func (w *writer) value(r uint64) string {
	return w.strs[uint32(r)].s
}
