package thermal

import "slices"

// SortChips orders chips by cmp, equal ones as they came. It sorts their
// indices, then moves each chip once, cycle after cycle: a Chip is large,
// and sort.SliceStable's swaps of them (through reflection) cost more than
// the rest of a beat's work on them.
func SortChips(chips []Chip, cmp func(a, b *Chip) int) {
	order := make([]int, len(chips)) // chips[i] is to be the chip now at order[i]
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp(&chips[i], &chips[j]) })
	for i := range order {
		if order[i] == i {
			continue
		}
		first, j := chips[i], i
		for order[j] != i {
			k := order[j]
			chips[j], order[j] = chips[k], j
			j = k
		}
		chips[j], order[j] = first, j
	}
}
