package report

import (
	"cmp"
	"slices"
	"strings"
)

// row is a general row: a series of the beat's own families or of those
// the sources attach to their chips.
type row struct {
	fam *family
	off uint32 // where its label value ids start in ids, in the order of fam.labels
	seq uint32 // its position as added: of two equal label sets the first stands
	v   float64
}

// add adds a general row of family f whose label values have the ids
// given, in the order f was declared with.
func (w *writer) add(f *family, v float64, ids ...uint32) {
	off := len(w.ids)
	w.ids = append(w.ids, ids...)
	for j, id := range ids {
		w.ids[off+f.perm[j]] = id
	}
	w.rows = append(w.rows, row{fam: f, off: uint32(off), seq: uint32(len(w.rows)), v: v})
}

// labels returns the label value ids of r.
func (w *writer) labels(r *row) []uint32 {
	return w.ids[r.off:][:len(r.fam.labels)]
}

// sortRows sorts the general rows into output order: by family name, then
// label values, then as added.
func (w *writer) sortRows() {
	slices.SortFunc(w.rows, func(a, b row) int {
		if a.fam != b.fam {
			return strings.Compare(a.fam.name, b.fam.name)
		}
		x, y := w.labels(&a), w.labels(&b)
		for j := range x {
			if c := cmp.Compare(w.rank[x[j]], w.rank[y[j]]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.seq, b.seq)
	})
}

// emitRows writes family f's sorted general rows, skipping a row whose
// label set repeats the one before.
func (w *writer) emitRows(o *out, f *family, rows []row) {
	if len(rows) == 0 {
		return
	}
	o.header(f)
	for i := range rows {
		if i > 0 && w.sameRank(w.labels(&rows[i-1]), w.labels(&rows[i])) {
			continue // a duplicate label set: the first stands
		}
		ids := w.labels(&rows[i])
		n := len(f.name) + maxFloat + 4
		for j, id := range ids {
			n += len(f.labels[j]) + len(w.strs[w.rank[id]].s) + 4
		}
		o.b = appendFloat(w.appendLabels(o.fit(o.b, n), f, ids), rows[i].v)
		o.b = append(o.b, '\n')
	}
}

// sameRank reports whether the label values of ids x and y are equal.
func (w *writer) sameRank(x, y []uint32) bool {
	for j := range x {
		if w.rank[x[j]] != w.rank[y[j]] {
			return false
		}
	}
	return true
}

// appendLabels appends the start of a sample line of family f: its name
// and the label set of ids, then the space before the value.
func (w *writer) appendLabels(line []byte, f *family, ids []uint32) []byte {
	line = append(line, f.name...)
	if len(ids) == 0 {
		return append(line, ' ')
	}
	for j, id := range ids {
		if j == 0 {
			line = append(line, '{')
		} else {
			line = append(line, `",`...)
		}
		line = append(line, f.labels[j]...)
		line = append(line, `="`...)
		line = append(line, w.strs[w.rank[id]].s...)
	}
	return append(line, `"} `...)
}
