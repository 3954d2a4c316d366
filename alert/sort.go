package alert

import (
	"cmp"
	"slices"
)

func sortBreaches(bs []*Breach) {
	slices.SortFunc(bs, func(a, b *Breach) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Chip, b.Chip),
			cmp.Compare(a.Sensor, b.Sensor), cmp.Compare(a.Level, b.Level))
	})
}
