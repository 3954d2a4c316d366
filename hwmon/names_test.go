package hwmon

import (
	"reflect"
	"sort"
	"strconv"
	"testing"

	"github.com/thermal-heartbeat/thermal"
)

// The names taken from the tables are the names built.
func TestAttrNames(t *testing.T) {
	for _, tc := range []struct{ table, prefix, suffix string }{
		{tempInputNames, "temp", "_input"}, {tempFaultNames, "temp", "_fault"},
		{fanInputNames, "fan", "_input"}, {fanFaultNames, "fan", "_fault"}, {fanAlarmNames, "fan", "_alarm"},
		{fanEnableNames, "fan", "_enable"}, {powerInputNames, "power", "_input"},
		{powerAverageNames, "power", "_average"}, {powerCapNames, "power", "_cap"}, {pwmNames, "pwm", ""},
	} {
		for n := -1; n <= 1001; n++ {
			if got, want := attrName(tc.table, tc.prefix, n, tc.suffix), tc.prefix+strconv.Itoa(n)+tc.suffix; got != want {
				t.Fatalf("attrName(%s…, %d) = %q, want %q", tc.prefix, n, got, want)
			}
		}
	}
	for n := range 300 {
		attr, input, fault := names(n)
		if want := "temp" + strconv.Itoa(n); attr != want || input != want+"_input" || fault != want+"_fault" {
			t.Fatalf("names(%d) = %q, %q, %q", n, attr, input, fault)
		}
	}
}

// sortByName orders as sort.SliceStable by name does.
func TestSortByName(t *testing.T) {
	names := []string{"b", "a", "c", "a", "b", "d", "a"}
	for n := range len(names) + 1 {
		for rot := range max(n, 1) {
			var chips, want []thermal.Chip
			for i := range n {
				chips = append(chips, thermal.Chip{Name: names[(i+rot)%n], Path: strconv.Itoa(i)})
			}
			want = append(want, chips...)
			sort.SliceStable(want, func(i, j int) bool { return want[i].Name < want[j].Name })
			sortByName(chips)
			if !reflect.DeepEqual(chips, want) {
				t.Fatalf("%d chips, rotated %d: %v, want %v", n, rot, chips, want)
			}
		}
	}
}
