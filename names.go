package thermal

import (
	"fmt"
	"sort"
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
	seen := make(map[[2]string]bool, len(sensors))
	for i := range sensors {
		s := &sensors[i]
		if seen[[2]string{s.Kind.nameSpace(), s.Name}] {
			s.Name = s.Name + " (" + s.Attr + ")"
		}
		seen[[2]string{s.Kind.nameSpace(), s.Name}] = true
	}
}

// UniqueChipNames tells apart chips of a source that lm-sensors names alike
// (several ACPI thermal zones are all acpitz-acpi-0; NVMe-over-fabrics
// controllers are all nvme-virtual-0): in the order of their device paths,
// the second becomes name#2, the third name#3.
func UniqueChipNames(chips []Chip) {
	groups := map[[2]string][]int{}
	for i, c := range chips {
		k := [2]string{c.Source, c.Name}
		groups[k] = append(groups[k], i)
	}
	for _, idx := range groups {
		if len(idx) < 2 {
			continue
		}
		sort.Slice(idx, func(a, b int) bool {
			ca, cb := chips[idx[a]], chips[idx[b]]
			if ca.Device != cb.Device {
				return NaturalLess(ca.Device, cb.Device)
			}
			return NaturalLess(ca.Path, cb.Path)
		})
		for k, i := range idx[1:] {
			chips[i].Name = fmt.Sprintf("%s#%d", chips[i].Name, k+2)
		}
	}
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
