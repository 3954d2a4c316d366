package thermal

import (
	"sort"
	"strconv"
	"strings"
)

// UniqueSensorNames makes sensor names unique within a chip: a repeated name
// becomes "<name> (tempN)".
func UniqueSensorNames(sensors []Sensor) {
	if len(sensors) <= 32 {
		// Chips have a handful of sensors: compare, do not hash.
		for i := 1; i < len(sensors); i++ {
			for j := 0; j < i; j++ {
				if sensors[j].Name == sensors[i].Name && sensors[j].Kind.nameSpace() == sensors[i].Kind.nameSpace() {
					sensors[i].Name += " (" + sensors[i].Attr + ")"
					break
				}
			}
		}
		return
	}
	uniqueMany(sensors)
}

// uniqueMany is UniqueSensorNames for a chip of many sensors (a CPU
// package's hundred cores): the names given so far are a set, without a
// map.
func uniqueMany(sensors []Sensor) {
	var buf [512]int32
	given := newIndexSet(buf[:], len(sensors))
	for i := range sensors {
		s := &sensors[i]
		same := func(j int) bool {
			return sensors[j].Name == s.Name && sensors[j].Kind.nameSpace() == s.Kind.nameSpace()
		}
		slot, found := given.find(fnv(fnvOffset, s.Name), same)
		if found {
			s.Name = s.Name + " (" + s.Attr + ")"
			given.add(i, fnv(fnvOffset, s.Name), same)
			continue
		}
		given.slots[slot] = int32(i) + 1 // where find left off: no second search
	}
}

// UniqueChipNames tells apart chips of a source that lm-sensors names alike
// (several ACPI thermal zones are all acpitz-acpi-0; NVMe-over-fabrics
// controllers are all nvme-virtual-0): in the order of their device paths,
// the second becomes name#2, the third name#3.
func UniqueChipNames(chips []Chip) {
	var buf [128]int32
	first, alike := firstAlike(buf[:0], chips)
	if !alike {
		return
	}
	var group []int
	for f := range chips {
		if first[f] != int32(f) {
			continue
		}
		group = group[:0]
		for i := f; i < len(chips); i++ {
			if first[i] == int32(f) {
				group = append(group, i)
			}
		}
		if len(group) > 1 {
			nameApart(chips, group)
		}
	}
}

// firstAlike appends to dst, for each chip, the index of the first chip of
// its source and name, and reports whether two chips are alike.
func firstAlike(dst []int32, chips []Chip) (first []int32, alike bool) {
	var buf [256]int32
	seen := newIndexSet(buf[:], len(chips))
	for i := range chips {
		c := &chips[i]
		same := func(j int) bool { return chips[j].Source == c.Source && chips[j].Name == c.Name }
		slot, found := seen.find(fnv(fnv(fnvOffset, c.Source)^'/', c.Name), same)
		if !found {
			seen.slots[slot] = int32(i) + 1
			dst = append(dst, int32(i))
			continue
		}
		dst = append(dst, seen.slots[slot]-1)
		alike = true
	}
	return dst, alike
}

// nameApart renames the chips of group (alike, in their order), all but
// the first in the order of their device paths.
func nameApart(chips []Chip, group []int) {
	sort.Slice(group, func(a, b int) bool {
		ca, cb := &chips[group[a]], &chips[group[b]]
		if ca.Device != cb.Device {
			return NaturalLess(ca.Device, cb.Device)
		}
		return NaturalLess(ca.Path, cb.Path)
	})
	for k, i := range group[1:] {
		chips[i].Name += "#" + strconv.Itoa(k+2)
	}
}

// indexSet is a set of elements of a slice, open addressed by their hash:
// each of slots (a power of two, at least twice the elements) holds 1 +
// the index of an element, or 0.
type indexSet struct{ slots []int32 }

// newIndexSet returns an empty set for n elements, in buf when it is large
// enough.
func newIndexSet(buf []int32, n int) indexSet {
	size := 8
	for size < 2*n {
		size *= 2
	}
	if size > len(buf) {
		return indexSet{make([]int32, size)}
	}
	clear(buf[:size])
	return indexSet{buf[:size]}
}

// find returns the slot of the element of hash h for which same(index) is
// true, or else the empty slot where it goes.
func (set indexSet) find(h uint32, same func(int) bool) (slot int, found bool) {
	mask := len(set.slots) - 1
	for slot = int(h) & mask; set.slots[slot] != 0; slot = (slot + 1) & mask {
		if same(int(set.slots[slot]) - 1) {
			return slot, true
		}
	}
	return slot, false
}

// add adds element i, of hash h, unless an element the same is there.
func (set indexSet) add(i int, h uint32, same func(int) bool) {
	if slot, found := set.find(h, same); !found {
		set.slots[slot] = int32(i) + 1
	}
}

const fnvOffset = 2166136261

// fnv continues FNV-1a hash h with s.
func fnv(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// NaturalLess orders hwmon2 before hwmon10.
func NaturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
