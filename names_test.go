package thermal

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"testing"
)

// uniqueSensorNamesByDefinition is UniqueSensorNames as its doc says:
// each sensor, in order, compared with every one before it.
func uniqueSensorNamesByDefinition(sensors []Sensor) {
	for i := 1; i < len(sensors); i++ {
		for j := 0; j < i; j++ {
			if sensors[j].Name == sensors[i].Name && sensors[j].Kind.nameSpace() == sensors[i].Kind.nameSpace() {
				sensors[i].Name += " (" + sensors[i].Attr + ")"
				break
			}
		}
	}
}

// uniqueChipNamesWithMap is UniqueChipNames as it was written first: alike
// chips grouped in a map.
func uniqueChipNamesWithMap(chips []Chip) {
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

// fuzzSensors makes sensors of data, many alike: each byte picks a name
// (among a few, one a renamed one's), a kind and an attribute.
func fuzzSensors(data []byte) []Sensor {
	names := []string{"Core", "Core (temp1)", "fan1", "GPU", "", "Core (temp1) (temp1)"}
	kinds := []Kind{KindTemperature, KindFan, KindDuty, KindPower}
	var out []Sensor
	for i, b := range data {
		out = append(out, Sensor{Name: names[int(b)%len(names)], Kind: kinds[int(b>>4)%len(kinds)], Attr: "temp" + strconv.Itoa(int(b>>6)+i%2)})
	}
	return out
}

// Many sensors, or few: names come out as the definition says, repeats,
// renamed names that repeat again and name spaces included.
func FuzzUniqueSensorNames(f *testing.F) {
	f.Add([]byte("\x00\x00\x01\x01\x02\x12\x22\x32"))
	f.Add([]byte("\x00\x06\x0c\x01\x05\x00\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0\xd0\xe0\xf0\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, n := range []int{len(data), 33 * len(data)} { // a few sensors; more than 32
			got := fuzzSensors(slices.Repeat(data, n/max(len(data), 1)))
			want := slices.Clone(got)
			UniqueSensorNames(got)
			uniqueSensorNamesByDefinition(want)
			for i := range want {
				if got[i].Name != want[i].Name {
					t.Fatalf("%d sensors: sensor %d named %q, want %q", len(got), i, got[i].Name, want[i].Name)
				}
			}
		}
	})
}

// Chips come out named as the map of groups named them: alike ones in
// the order of their devices, then paths, numbered from #2.
func FuzzUniqueChipNames(f *testing.F) {
	f.Add([]byte("\x00\x01\x00\x02\x10\x11\x21\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sources := []string{"hwmon", "nvme"}
		names := []string{"acpitz-acpi-0", "nvme-virtual-0", "coretemp-isa-0000"}
		devices := []string{"", "/sys/devices/LNXTHERM:00", "/sys/devices/LNXTHERM:01", "/sys/devices/LNXTHERM:1", "/sys/devices/LNXTHERM:10"}
		var got []Chip
		for _, b := range slices.Repeat(data, 1+len(data)%3*100) {
			got = append(got, Chip{Source: sources[int(b)%2], Name: names[int(b>>1)%len(names)],
				Device: devices[int(b>>3)%len(devices)], Path: "/sys/class/hwmon/hwmon" + strconv.Itoa(int(b>>6))})
		}
		want := slices.Clone(got)
		UniqueChipNames(got)
		uniqueChipNamesWithMap(want)
		for i := range want {
			if got[i].Name != want[i].Name {
				t.Fatalf("chip %d named %q, want %q", i, got[i].Name, want[i].Name)
			}
		}
	})
}

// BenchmarkUniqueSensorNames measures a chip's names made unique: a
// handful of sensors, and a 133-core package, each with and without a
// repeated name.
func BenchmarkUniqueSensorNames(b *testing.B) {
	for _, n := range []int{6, 133} {
		for _, dup := range []bool{false, true} {
			sensors := make([]Sensor, n)
			names := make([]string, n)
			for i := range sensors {
				names[i] = "Core " + strconv.Itoa(i)
				if dup && i == n-1 {
					names[i] = names[0]
				}
				sensors[i] = Sensor{Name: names[i], Attr: "temp" + strconv.Itoa(i+1)}
			}
			b.Run(fmt.Sprintf("sensors=%d/dup=%v", n, dup), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for i := range sensors {
						sensors[i].Name = names[i]
					}
					UniqueSensorNames(sensors)
				}
			})
		}
	}
}

// BenchmarkUniqueChipNames measures a realistic host's 65 chips named
// apart, three of them ACPI zones named alike.
func BenchmarkUniqueChipNames(b *testing.B) {
	var chips []Chip
	for i := range 62 {
		chips = append(chips, Chip{Source: "hwmon", Name: "spd5118-i2c-0-" + strconv.Itoa(50+i), Device: "/sys/devices/" + strconv.Itoa(i)})
	}
	for i := range 3 {
		chips = append(chips, Chip{Source: "hwmon", Name: "acpitz-acpi-0", Device: "/sys/devices/LNXTHERM:0" + strconv.Itoa(2-i)})
	}
	names := make([]string, len(chips))
	for i := range chips {
		names[i] = chips[i].Name
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range chips {
			chips[i].Name = names[i]
		}
		UniqueChipNames(chips)
	}
}
