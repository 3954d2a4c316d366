package report

import (
	"bufio"
	"cmp"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// writer accumulates the beat's series, then renders them sorted. A dry
// run of the beat counts what it adds first, so that everything is
// allocated once and at its size: in a fresh process every byte allocated
// is a page cleared. Each family's rows have a span of their own in keys,
// the spans in the order of the families' names. Label values are given
// ids, then ranked in byte order and escaped once each, so that a family's
// rows sort as integers.
type writer struct {
	fams   []*family // by id: the fixed families, then the writer's own
	byName []*family // the families sorted by name
	spans  []span    // by family id
	lay    layout
	keys   []uint64  // each row's sort key, by position
	values []float64 // each row's sample value, by position
	// ids holds, where keys do not pack, each row's label value ids in
	// the order rows were added.
	ids    []uint32
	strs   []interned // by id until rankStrings, then by rank
	rank   []uint32   // id -> rank of the value in byte order
	recent [4]recent  // by label position
	// counting is set during init's dry run, which stores nothing but
	// counts what the beat adds, so that the real run allocates once.
	counting              bool
	nrows, nlabels, nstrs int
}

// span is where a family's rows go in keys: [start, end). The dry run
// counts them in end.
type span struct{ start, end int }

// interned is a label value and its id; from rankStrings on, the value is
// escaped.
type interned struct {
	s  string
	id uint32
}

// init sizes the writer for b and lays out its keys: a dry run of addBeat
// counts the rows of each family, their labels and the ids to give. The
// real run gives as many ids or fewer: which strings it interns does not
// depend on Firing, nor on where they are in memory; map order only
// matters for the durations, counted apart.
func (w *writer) init(b Beat) {
	w.fams = append(make([]*family, 0, len(fixedFamilies)+16), fixedFamilies...)
	w.spans = make([]span, len(w.fams), cap(w.fams))
	w.counting, w.nstrs = true, 1 // the empty string's id is 0
	b.Firing = nil                // only a value: not asked twice
	w.addBeat(b)
	w.counting = false
	w.recent = [len(w.recent)]recent{}
	w.byName = slices.Clone(w.fams)
	slices.SortFunc(w.byName, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	pos := 0
	for _, f := range w.byName {
		n := w.spans[f.id].end
		w.spans[f.id] = span{pos, pos}
		pos += n
	}
	w.lay = newLayout(w.fams, w.nrows, w.nstrs)
	w.alloc()
}

// alloc allocates the rows' storage, as counted, for the layout.
func (w *writer) alloc() {
	w.keys = make([]uint64, w.nrows)
	w.values = make([]float64, w.nrows)
	w.strs = append(make([]interned, 0, w.nstrs), interned{})
	if !w.lay.packed {
		w.ids = make([]uint32, 0, w.nlabels)
	}
}

// add adds a row of family f whose label values have the ids given, in
// the order f was declared with.
func (w *writer) add(f *family, v float64, ids ...uint32) {
	sp := &w.spans[f.id]
	if w.counting {
		sp.end++
		w.nrows++
		w.nlabels += len(ids)
		return
	}
	i := sp.end
	sp.end++
	w.values[i] = v
	if !w.lay.packed {
		off := len(w.ids)
		w.ids = w.ids[:off+len(ids)]
		for j, id := range ids {
			w.ids[off+f.perm[j]] = id
		}
		w.keys[i] = uint64(off)<<32 | uint64(i)
		return
	}
	k := uint64(i)
	for j, id := range ids {
		k |= uint64(id) << w.lay.shift(f.perm[j])
	}
	w.keys[i] = k
}

// recent holds the strings interned lately at one label position: a
// chip's source comes back for each chip, a level for each threshold, a
// limit's name for each sensor. The oldest is replaced first. Its zero
// entries hold the empty string, whose id is 0.
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

// newID returns a new id for s, sanitised to valid UTF-8. The dry run
// only counts it.
func (w *writer) newID(s string) uint32 {
	if w.counting {
		w.nstrs++
		return 0
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	id := uint32(len(w.strs))
	w.strs = append(w.strs, interned{s, id})
	return id
}

// layout is how a row packs into a uint64 sort key, most significant bits
// first: its label values (width of them, sorted by name, zero past its
// family's own), then its position, so that of two equal label sets the
// first added sorts first and stands. Rows are added with ids in their
// keys; rankKeys puts ranks in their place.
type layout struct {
	idBits, indexBits uint
	width             int // the most labels a family has
	// packed is set when keys hold all that; else a key holds where a
	// row's ids start (its upper half), then its position.
	packed bool
}

// newLayout lays out the keys of nrows rows of fams whose label values
// have fewer than nstrs ids.
func newLayout(fams []*family, nrows, nstrs int) layout {
	l := layout{idBits: bitsFor(nstrs), indexBits: bitsFor(nrows)}
	for _, f := range fams {
		l.width = max(l.width, len(f.labels))
	}
	l.packed = l.indexBits+uint(l.width)*l.idBits <= 64
	return l
}

// shift is where label value j sits in a packed key.
func (l *layout) shift(j int) uint {
	return l.indexBits + uint(l.width-1-j)*l.idBits
}

// bitsFor returns the bits that hold the numbers below n.
func bitsFor(n int) uint {
	return uint(bits.Len(uint(max(n, 1) - 1)))
}

// write renders the rows: families by name, then rows by label values.
func (w *writer) write(buf *bufio.Writer) {
	w.rankStrings()
	for _, f := range w.byName {
		sp := w.spans[f.id]
		keys := w.keys[sp.start:sp.end]
		if w.lay.packed {
			w.rankKeys(keys, len(f.labels))
			slices.Sort(keys)
		} else {
			w.sortRows(keys, len(f.labels))
		}
	}
	w.emit(buf)
}

// rankStrings sorts and dedupes strs: by rank from then on, and escaped as
// label values. It sets rank: each id's rank (equal values have one).
func (w *writer) rankStrings() {
	slices.SortFunc(w.strs, func(a, b interned) int { return strings.Compare(a.s, b.s) })
	w.rank = make([]uint32, len(w.strs))
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

// rankKeys replaces the ids in packed keys of rows with n labels with
// their ranks: the keys then sort as the rows do.
func (w *writer) rankKeys(keys []uint64, n int) {
	l := &w.lay
	mask := uint64(1)<<l.idBits - 1
	for i, k := range keys {
		r := k & (1<<l.indexBits - 1)
		sh := l.shift(0)
		for range n {
			r |= uint64(w.rank[k>>sh&mask]) << sh
			sh -= l.idBits
		}
		keys[i] = r
	}
}

// sortRows sorts keys that do not pack, of rows with n labels, into
// output order.
func (w *writer) sortRows(keys []uint64, n int) {
	slices.SortFunc(keys, func(x, y uint64) int {
		a, b := w.ids[x>>32:][:n], w.ids[y>>32:][:n]
		for j := range a {
			if c := cmp.Compare(w.rank[a[j]], w.rank[b[j]]); c != 0 {
				return c
			}
		}
		return cmp.Compare(x, y)
	})
}

// decode sets ranks to the label values' ranks of the row of key k and
// returns its position.
func (w *writer) decode(k uint64, ranks []uint32) int {
	l := &w.lay
	if !l.packed {
		for j, id := range w.ids[k>>32:][:len(ranks)] {
			ranks[j] = w.rank[id]
		}
		return int(k & (1<<32 - 1))
	}
	sh := l.shift(0)
	for j := range ranks {
		ranks[j] = uint32(k >> sh & (1<<l.idBits - 1))
		sh -= l.idBits
	}
	return int(k & (1<<l.indexBits - 1))
}

// emit writes the families in order, each one's HELP and TYPE and then
// its rows.
func (w *writer) emit(buf *bufio.Writer) {
	e := emitter{line: make([]byte, 0, 512), scratch: make([]uint32, 3*w.lay.width)}
	for _, f := range w.byName {
		sp := w.spans[f.id]
		if sp.start < sp.end {
			buf.Write(appendHeader(e.line[:0], f))
			w.emitRows(buf, &e, f, w.keys[sp.start:sp.end])
		}
	}
}

// emitter is emit's scratch space.
type emitter struct {
	line    []byte
	scratch []uint32
}

// emitRows writes the sample lines of family f's sorted keys, skipping a
// row whose label set repeats the one before. A line is built on the one
// before it: the label values they start with are kept.
func (w *writer) emitRows(buf *bufio.Writer, e *emitter, f *family, keys []uint64) {
	n := len(f.labels)
	cur, prev, ends := e.scratch[:n], e.scratch[n:2*n], e.scratch[2*n:3*n]
	line := e.line[:0]
	for r, k := range keys {
		i := w.decode(k, cur)
		keep := 0 // the label values shared with the row before
		if r > 0 {
			for keep < n && cur[keep] == prev[keep] {
				keep++
			}
			if keep == n {
				continue // a duplicate label set: the first stands
			}
		}
		line = w.appendLabels(line, f, cur, keep, ends)
		line = appendFloat(line, w.values[i])
		line = append(line, '\n')
		buf.Write(line)
		cur, prev = prev, cur
	}
	e.line = line
}

// appendLabels makes line, which holds the sample line of a row whose
// first keep label values are those of ranks, the start of the sample line
// of ranks: f's name and label set, then the space before the value. ends
// has where each label value ends in line.
func (w *writer) appendLabels(line []byte, f *family, ranks []uint32, keep int, ends []uint32) []byte {
	if len(ranks) == 0 {
		return append(append(line[:0], f.name...), ' ')
	}
	if keep == 0 {
		line = append(append(line[:0], f.name...), '{')
	} else {
		line = append(line[:ends[keep-1]], `",`...)
	}
	for j := keep; j < len(ranks); j++ {
		if j > keep {
			line = append(line, `",`...)
		}
		line = append(line, f.labels[j]...)
		line = append(line, `="`...)
		line = append(line, w.strs[ranks[j]].s...)
		ends[j] = uint32(len(line))
	}
	return append(line, `"} `...)
}

// appendHeader appends a family's # HELP and # TYPE lines.
func appendHeader(b []byte, f *family) []byte {
	b = append(b, "# HELP "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = appendEscaped(b, f.help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, f.name...)
	if f.counter {
		return append(b, " counter\n"...)
	}
	return append(b, " gauge\n"...)
}

// escapeString returns s escaped as a label value: s itself when nothing
// in it needs escaping.
func escapeString(s string) string {
	if !strings.ContainsAny(s, "\\\n\"") {
		return s
	}
	return string(appendEscaped(nil, s, true))
}

// appendEscaped appends s as the text format escapes HELP text (backslash
// and newline) and, with quote, label values (also the double quote).
func appendEscaped(b []byte, s string, quote bool) []byte {
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
		b = append(b, s[start:i]...)
		b = append(b, rep...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// appendFloat formats a sample value as the text format writes it:
// strconv's shortest 'g' form.
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
	if m := f * 1000; math.Abs(f) < 1e6 && m == math.Trunc(m) && float64(int64(m))/1000 == f {
		return appendMilli(b, int64(m))
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendMilli appends m/1000 as strconv's shortest 'g' form writes the
// nearest float64, for |m| < 1e9: that float is m/1000's only float with
// as few digits, and below 1e6 the form has no exponent. Most samples
// are such: millidegrees, whole RPM, 0 and 1.
func appendMilli(b []byte, m int64) []byte {
	if m < 0 {
		b = append(b, '-')
		m = -m
	}
	b = strconv.AppendInt(b, m/1000, 10)
	frac := m % 1000
	if frac == 0 {
		return b
	}
	d := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := len(d)
	for d[n-1] == '0' {
		n--
	}
	return append(b, d[:n]...)
}
