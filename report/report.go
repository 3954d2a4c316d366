package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// FileName is the textfile a beat writes in the textfile directory.
const FileName = "thermal.prom"

// Beat is what one beat collected.
type Beat struct {
	Time      time.Time // when collection started
	Chips     []thermal.Chip
	Durations map[string]time.Duration // collection time per source
	// Firing reports whether the breach of a sensor's threshold at level is
	// firing (the sensors carry their thresholds). Nil: none is.
	Firing func(id thermal.SensorID, level thermal.Level) bool
	// ConfigInvalid is set when the configuration could not be loaded and
	// the last good (or the built-in) one was used.
	ConfigInvalid bool
	// StateUnsaved is set when the breach state could not be saved:
	// pending breaches restart every beat and events cannot wait in the
	// outbox until it is fixed.
	StateUnsaved bool
}

// family is one metric family; its label names are sorted, as the text
// format's consumers (and client_golang's registry) order them.
type family struct {
	id         int // index into a writer's famRank: fixed families first, then the writer's own
	name, help string
	counter    bool
	labels     []string // sorted label names
	// perm maps the order the caller passes label values in to the sorted
	// order: value i goes to position perm[i].
	perm []int
}

func newFamily(name, help string, counter bool, labels ...string) *family {
	f := &family{name: name, help: help, counter: counter}
	f.setLabels(labels)
	return f
}

func (f *family) setLabels(labels []string) {
	f.labels = slices.Clone(labels)
	slices.Sort(f.labels)
	f.perm = make([]int, len(labels))
	for i, l := range labels {
		f.perm[i] = slices.Index(f.labels, l)
	}
}

// The fixed families. Label values are passed in the order given here.
var (
	famCelsius = newFamily("node_thermal_celsius",
		"Temperature reported by a sensor, in degrees Celsius.", false, "source", "chip", "sensor")
	famLimit = newFamily("node_thermal_limit_celsius",
		"The hardware's own limit for a sensor (hwmon max, crit, emergency, crit_hyst; NVMe WCTEMP/CCTEMP as max/crit; a zone's critical trip as crit), in degrees Celsius.",
		false, "source", "chip", "sensor", "limit")
	famTrip = newFamily("node_thermal_trip_point_celsius",
		"A thermal zone trip point, in degrees Celsius.", false, "source", "chip", "sensor", "trip", "type")
	famErrors = newFamily("node_thermal_read_errors",
		"Reads of a chip that failed or were rejected (fault, out of range, timed out) in this beat.", false, "source", "chip")
	famSuspended = newFamily("node_thermal_chip_suspended",
		"1 when the chip's device was runtime-suspended and so was not read (monitoring never wakes a device), else 0.", false, "source", "chip")
	famDuration = newFamily("node_thermal_collect_duration_seconds",
		"Time taken to read a source in this beat, in seconds.", false, "source")
	famThreshold = newFamily("node_thermal_threshold_celsius",
		"The threshold in force for a sensor (a configured rule, else the hardware's own limit), in degrees Celsius.",
		false, "source", "chip", "sensor", "level")
	famAlert = newFamily("node_thermal_alert",
		"1 while a sensor's breach of its threshold is firing (it held for the rule's `for` and has not cleared), else 0.",
		false, "source", "chip", "sensor", "level")
	famHeartbeat = newFamily("node_thermal_heartbeat_seconds",
		"Unix time at which this beat collected its readings, in seconds.", false)
	famConfigValid = newFamily("node_thermal_config_valid",
		"1 when the configuration file was loaded, 0 when it could not be and the last good (or the built-in) configuration was used.", false)
	famFanRPM = newFamily("node_thermal_fan_rpm",
		"A fan's speed, in revolutions per minute; 0 is a stopped fan, a fan that cannot be read has no series.", false, "source", "chip", "sensor")
	famFanMin = newFamily("node_thermal_fan_min_rpm",
		"The hardware's minimum speed for a fan, where set, in revolutions per minute.", false, "source", "chip", "sensor")
	famFanTarget = newFamily("node_thermal_fan_target_rpm",
		"The speed the fan controller asks of a fan, where it says, in revolutions per minute.", false, "source", "chip", "sensor")
	famFanFailed = newFamily("node_thermal_fan_failed",
		"1 when a fan reports a fault or an alarm, spins below its minimum, or stopped after it was seen spinning; else 0.", false, "source", "chip", "sensor")
	famDuty = newFamily("node_thermal_fan_duty_ratio",
		"A fan's commanded speed as a fraction of its maximum (hwmon pwmN/255, an NVIDIA fan's percent).", false, "source", "chip", "sensor")
	famPower = newFamily("node_thermal_power_watts",
		"The power a part draws (hwmon powerN_input or _average, an NVIDIA GPU's power usage), in watts.", false, "source", "chip", "sensor")
	famPowerLimit = newFamily("node_thermal_power_limit_watts",
		"The power limit a part is held to (hwmon powerN_cap, an NVIDIA GPU's enforced limit), in watts.", false, "source", "chip", "sensor")
	famStateSaved = newFamily("node_thermal_state_saved",
		"1 when the beat saved its breach state, 0 when it could not (pending breaches restart, events cannot wait for the next beat).", false)
)

var (
	fixedFamilies = []*family{famCelsius, famLimit, famTrip, famErrors, famSuspended, famDuration, famThreshold, famAlert, famHeartbeat, famConfigValid, famStateSaved, famFanRPM, famFanMin, famFanTarget, famFanFailed, famDuty, famPower, famPowerLimit}
	fixed         = map[string]bool{}
)

func init() {
	for i, f := range fixedFamilies {
		f.id = i
		fixed[f.name] = true
	}
}

// row is one series: its label values (sorted by label name) are string
// ids in the writer's arena at [off, off+n).
type row struct {
	fam    *family
	off, n int32
	value  float64
}

// Packing of row keys: 8 bits of family rank, 4 of label count, then up to
// five value ranks of keyBits each over two words.
const keyBits = 20

// writer accumulates the beat's series, then renders them sorted. Label
// values are interned: each distinct string is sanitised, ranked and
// escaped once, and rows compare as integers.
type writer struct {
	rows  []row
	arena []uint32
	strs  []string          // id -> value
	ids   map[string]uint32 // value -> id
	// last remembers, per label position, the string last interned there:
	// a chip's name comes back for each of its series.
	last [6]struct {
		p  *byte
		n  int
		id uint32
	}
	rank  []uint32           // id -> rank of the value in byte order
	extra map[string]*family // families of the sources' own series
}

func (w *writer) intern(pos int, s string) uint32 {
	p := unsafe.StringData(s)
	if pos < len(w.last) && w.last[pos].p == p && w.last[pos].n == len(s) && p != nil {
		return w.last[pos].id
	}
	id, ok := w.ids[s]
	if !ok {
		id = uint32(len(w.strs))
		v := s
		if !utf8.ValidString(v) {
			v = strings.ToValidUTF8(v, "\uFFFD")
			if id2, ok := w.ids[v]; ok {
				w.ids[s] = id2
				return id2
			}
			w.ids[v] = id
		}
		w.ids[s] = id
		w.strs = append(w.strs, v)
	}
	if pos < len(w.last) {
		w.last[pos].p, w.last[pos].n, w.last[pos].id = p, len(s), id
	}
	return id
}

func (w *writer) add(f *family, v float64, values ...string) {
	off := len(w.arena)
	w.arena = slices.Grow(w.arena, len(values))[:off+len(values)]
	for i, val := range values {
		w.arena[off+f.perm[i]] = w.intern(i, val)
	}
	w.rows = append(w.rows, row{fam: f, off: int32(off), n: int32(len(values)), value: v})
}

// series adds a source's own series for chip c.
func (w *writer) series(c *thermal.Chip, s thermal.Series) {
	names := make([]string, 0, 2+len(s.Labels))
	values := make([]string, 0, 2+len(s.Labels))
	names = append(names, "source", "chip")
	values = append(values, c.Source, c.Name)
	w.extraSeries(s, names, values)
}

// extraSeries adds s, whose leading label names and values are given, to
// its family, made on first use.
func (w *writer) extraSeries(s thermal.Series, names, values []string) {
	for _, l := range s.Labels {
		names = append(names, l.Name)
		values = append(values, l.Value)
	}
	if fixed[s.Name] {
		return // the fixed families' names are taken
	}
	f := w.extra[s.Name]
	if f == nil {
		if w.extra == nil {
			w.extra = map[string]*family{}
		}
		f = newFamily(s.Name, s.Help, s.Counter, names...)
		f.id = len(fixedFamilies) + len(w.extra)
		w.extra[s.Name] = f
	} else if !slices.Equal(names, labelOrder(f)) {
		return // a family's label names cannot change between series
	}
	w.add(f, s.Value, values...)
}

// bare adds a series that belongs to no chip: only its own labels.
func (w *writer) bare(s thermal.Series) {
	names := make([]string, 0, len(s.Labels))
	values := make([]string, 0, len(s.Labels))
	w.extraSeries(s, names, values)
}

// labelOrder returns the label names in the order the family's values are
// passed in.
func labelOrder(f *family) []string {
	out := make([]string, len(f.perm))
	for i, p := range f.perm {
		out[i] = f.labels[p]
	}
	return out
}

func (w *writer) values(r row) []uint32 { return w.arena[r.off : r.off+r.n] }

// Write writes the beat's exposition text to w: families sorted by name,
// series by label values, each label set once (the first series is kept
// should two share one: one bad name must not cost the whole file).
func Write(out io.Writer, b Beat) error {
	buf := bufio.NewWriterSize(out, 64<<10)
	render(buf, b)
	return buf.Flush()
}

// render renders the beat into buf: every chip's series, then the beat's
// own, sorted and written out.
func render(buf *bufio.Writer, b Beat) {
	w := &writer{}
	w.init(b.Chips)
	for i := range b.Chips {
		w.chip(&b.Chips[i], b.Firing)
	}
	for source, d := range b.Durations {
		w.add(famDuration, d.Seconds(), source)
	}
	w.add(famHeartbeat, float64(b.Time.UnixMilli())/1e3)
	w.add(famConfigValid, b2f(!b.ConfigInvalid))
	w.add(famStateSaved, b2f(!b.StateUnsaved))
	w.write(buf)
}

// init sizes the writer's rows, arena and interning map for chips.
func (w *writer) init(chips []thermal.Chip) {
	n := 0
	for i := range chips {
		n += 2 + len(chips[i].Series)
		for j := range chips[i].Sensors {
			s := &chips[i].Sensors[j]
			n += 2 + 2*len(s.Thresholds) + len(s.Trips)
		}
	}
	w.rows = make([]row, 0, n+8)
	w.arena = make([]uint32, 0, 4*cap(w.rows))
	w.ids = make(map[string]uint32, n)
}

// chip adds a chip's series: its errors and suspension, the source's own
// series, then each sensor's. An Aux chip adds only its series, bare.
func (w *writer) chip(chip *thermal.Chip, firing func(thermal.SensorID, thermal.Level) bool) {
	if chip.Aux {
		for _, s := range chip.Series {
			w.bare(s)
		}
		return
	}
	w.add(famErrors, float64(chip.Errors), chip.Source, chip.Name)
	w.add(famSuspended, b2f(chip.Asleep), chip.Source, chip.Name)
	for _, s := range chip.Series {
		w.series(chip, s)
	}
	for j := range chip.Sensors {
		s := &chip.Sensors[j]
		if s.Kind == thermal.KindTemperature {
			w.temperature(chip, s, firing)
			continue
		}
		switch s.Kind {
		case thermal.KindFan:
			w.fan(chip, s)
		case thermal.KindDuty:
			if s.Err == nil {
				w.add(famDuty, s.Float(), chip.Source, chip.Name, s.Name)
			}
		case thermal.KindPower:
			if s.Err == nil {
				w.add(famPower, s.Float(), chip.Source, chip.Name, s.Name)
			}
			if s.Max != nil {
				w.add(famPowerLimit, s.Kind.Float(*s.Max), chip.Source, chip.Name, s.Name)
			}
		}
		// A fan's failure or a chip's throttling: the alert, no
		// temperature threshold.
		for _, t := range s.Thresholds {
			on := firing != nil && firing(chip.ID(s), t.Level)
			w.add(famAlert, b2f(on), chip.Source, chip.Name, s.Name, string(t.Level))
		}
	}
}

// temperature adds a temperature sensor's series: its thresholds and
// alerts and, when it was read, its reading, limits and trip points.
func (w *writer) temperature(chip *thermal.Chip, s *thermal.Sensor, firing func(thermal.SensorID, thermal.Level) bool) {
	for _, t := range s.Thresholds {
		on := firing != nil && firing(chip.ID(s), t.Level)
		w.add(famThreshold, t.Celsius, chip.Source, chip.Name, s.Name, string(t.Level))
		w.add(famAlert, b2f(on), chip.Source, chip.Name, s.Name, string(t.Level))
	}
	if s.Err != nil {
		return
	}
	w.add(famCelsius, s.Celsius(), chip.Source, chip.Name, s.Name)
	if s.Max != nil {
		w.add(famLimit, thermal.Celsius(*s.Max), chip.Source, chip.Name, s.Name, "max")
	}
	if s.Crit != nil {
		w.add(famLimit, thermal.Celsius(*s.Crit), chip.Source, chip.Name, s.Name, "crit")
	}
	if s.Emergency != nil {
		w.add(famLimit, thermal.Celsius(*s.Emergency), chip.Source, chip.Name, s.Name, "emergency")
	}
	if s.CritHyst != nil {
		w.add(famLimit, thermal.Celsius(*s.CritHyst), chip.Source, chip.Name, s.Name, "crit_hyst")
	}
	for _, l := range s.Limits {
		w.add(famLimit, thermal.Celsius(l.Milli), chip.Source, chip.Name, s.Name, l.Name)
	}
	for _, t := range s.Trips {
		w.add(famTrip, thermal.Celsius(t.Milli), chip.Source, chip.Name, s.Name, strconv.Itoa(t.Index), t.Type)
	}
}

// fan adds a fan's series.
func (w *writer) fan(chip *thermal.Chip, s *thermal.Sensor) {
	w.add(famFanFailed, b2f(s.Failed != ""), chip.Source, chip.Name, s.Name)
	if s.FanMin != nil {
		w.add(famFanMin, float64(*s.FanMin), chip.Source, chip.Name, s.Name)
	}
	if s.FanTarget != nil {
		w.add(famFanTarget, float64(*s.FanTarget), chip.Source, chip.Name, s.Name)
	}
	if s.Err == nil {
		w.add(famFanRPM, float64(s.Value), chip.Source, chip.Name, s.Name)
	}
}

func b2f(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// write renders the rows: families by name, then rows by label values.
func (w *writer) write(buf *bufio.Writer) {
	famRank := w.famRanks()
	w.rankStrings()
	keys := w.packKeys(famRank)
	w.sortKeys(keys, famRank)
	w.emit(buf, keys)
}

// famRanks sorts the fixed and the writer's own families by name and
// returns each family's rank, indexed by family id. The ranks are the
// writer's own: the fixed families are shared by concurrent writers and
// never written after init.
func (w *writer) famRanks() []int {
	fams := make([]*family, 0, len(fixedFamilies)+len(w.extra))
	fams = append(fams, fixedFamilies...)
	for _, f := range w.extra {
		fams = append(fams, f)
	}
	slices.SortFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	famRank := make([]int, len(fams))
	for i, f := range fams {
		famRank[f.id] = i
	}
	return famRank
}

// rankStrings sets w.rank: each interned value's rank in byte order.
func (w *writer) rankStrings() {
	order := make([]uint32, len(w.strs))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(w.strs[a], w.strs[b]) })
	w.rank = make([]uint32, len(w.strs))
	for r, id := range order {
		w.rank[id] = uint32(r)
	}
}

// sortKey is a row's compact sort key: family rank, label count and value
// ranks packed into two words, then the row's insertion order (of two
// equal label sets the first stands).
type sortKey struct {
	k0, k1 uint64
	i      int32
}

// packKeys returns a sort key for each row, in insertion order. The ranks
// are packed only when they fit: else every key is zero but its index and
// sortKeys falls back to comparing the rows.
func (w *writer) packKeys(famRank []int) []sortKey {
	keys := make([]sortKey, len(w.rows))
	packed := len(famRank) < 1<<8 && len(w.strs) < 1<<keyBits
	for i := range w.rows {
		r := &w.rows[i]
		keys[i].i = int32(i)
		if !packed {
			continue
		}
		var ranks [5]uint64
		for j, id := range w.values(*r) {
			if j < len(ranks) {
				ranks[j] = uint64(w.rank[id])
			}
		}
		keys[i].k0 = uint64(famRank[r.fam.id])<<56 | uint64(min(r.n, 15))<<52 | ranks[0]<<keyBits | ranks[1]
		keys[i].k1 = ranks[2]<<(2*keyBits) | ranks[3]<<keyBits | ranks[4]
	}
	return keys
}

// sortKeys sorts keys into output order. Sorting compact keys, not rows,
// keeps the sort's memory traffic small. The comparison makes no calls, so
// it stays a leaf function: it runs for every comparison.
func (w *writer) sortKeys(keys []sortKey, famRank []int) {
	slices.SortFunc(keys, func(x, y sortKey) int {
		if x.k0 != y.k0 {
			return cmp.Compare(x.k0, y.k0)
		}
		if x.k1 != y.k1 {
			return cmp.Compare(x.k1, y.k1)
		}
		// Equal keys: the packing did not apply, or more than five labels.
		a, b := &w.rows[x.i], &w.rows[y.i]
		if a.fam != b.fam {
			return famRank[a.fam.id] - famRank[b.fam.id]
		}
		if a.n != b.n {
			return int(a.n - b.n)
		}
		va, vb := w.values(*a), w.values(*b)
		for i := range va {
			if ra, rb := w.rank[va[i]], w.rank[vb[i]]; ra != rb {
				return int(ra) - int(rb)
			}
		}
		return int(x.i - y.i)
	})
}

// emit writes the rows in keys' order, each family's HELP and TYPE before
// its first row, skipping a row whose label set repeats the one before.
// The sample line is written here, not in a helper: this loop runs once per
// row.
func (w *writer) emit(buf *bufio.Writer, keys []sortKey) {
	num := make([]byte, 0, 32)
	var last *family
	var prev []uint32
	for _, k := range keys {
		r := &w.rows[k.i]
		vals := w.values(*r)
		if r.fam == last && slices.Equal(vals, prev) {
			continue // a duplicate label set: the first stands
		}
		if r.fam != last {
			last = r.fam
			writeHeader(buf, r.fam)
		}
		prev = vals
		buf.WriteString(r.fam.name)
		if len(vals) > 0 {
			buf.WriteByte('{')
			for i, v := range vals {
				if i > 0 {
					buf.WriteByte(',')
				}
				buf.WriteString(r.fam.labels[i])
				buf.WriteString(`="`)
				escape(buf, w.strs[v], true)
				buf.WriteByte('"')
			}
			buf.WriteByte('}')
		}
		buf.WriteByte(' ')
		num = appendFloat(num[:0], r.value)
		buf.Write(num)
		buf.WriteByte('\n')
	}
}

// writeHeader writes a family's # HELP and # TYPE lines.
func writeHeader(buf *bufio.Writer, f *family) {
	buf.WriteString("# HELP ")
	buf.WriteString(f.name)
	buf.WriteByte(' ')
	escape(buf, f.help, false)
	buf.WriteString("\n# TYPE ")
	buf.WriteString(f.name)
	if f.counter {
		buf.WriteString(" counter\n")
	} else {
		buf.WriteString(" gauge\n")
	}
}

// escape writes s as the text format escapes HELP text (backslash and
// newline) and, with quote, label values (also the double quote).
func escape(buf *bufio.Writer, s string, quote bool) {
	start := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '\\':
			rep = `\\`
		case '\n':
			rep = `\n`
		case '"':
			if !quote {
				continue
			}
			rep = `\"`
		default:
			continue
		}
		buf.WriteString(s[start:i])
		buf.WriteString(rep)
		start = i + 1
	}
	buf.WriteString(s[start:])
}

// appendFloat formats a sample value as the text format writes it.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, "-1"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// WriteFile writes the beat to dir/thermal.prom atomically and returns the
// path written: a temporary file is renamed over the target only once it is
// complete, so a failed write leaves the previous file in place.
func WriteFile(dir string, b Beat) (string, error) {
	target := filepath.Join(dir, FileName)
	// The temporary name starts with a dot and does not end in .prom:
	// node_exporter's textfile collector never reads it.
	err := sysread.WriteAtomicFunc(dir, FileName, 0o644, false, func(w io.Writer) error {
		bw, ok := w.(*bufio.Writer)
		if !ok {
			bw = bufio.NewWriter(w)
		}
		render(bw, b)
		return bw.Flush()
	})
	if err != nil {
		return "", fmt.Errorf("report: writing %s: %w", target, err)
	}
	return target, nil
}
