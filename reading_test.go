package thermal

import (
	"errors"
	"testing"
)

func TestRange(t *testing.T) {
	r := DefaultRange
	for _, tc := range []struct {
		milli     int64
		ok, limit bool
	}{
		{45000, true, true},
		{-40000, true, true},
		{150000, true, true},
		{150001, false, false},
		{-62000, false, false},
		{-273150, false, false},  // hwmon "no limit"
		{65261850, false, false}, // NVMe threshold placeholder 0xFFFF K
		{127000, true, true},     // in range: reported as read
		{0, true, true},          // a real zero is a reading, not an error
	} {
		err := r.Check(tc.milli)
		if (err == nil) != tc.ok {
			t.Errorf("Check(%d) = %v, want ok=%v", tc.milli, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrOutOfRange) {
			t.Errorf("Check(%d) = %v, want ErrOutOfRange", tc.milli, err)
		}
		if got := r.Limit(tc.milli); (got != nil) != tc.limit || (got != nil && *got != tc.milli) {
			t.Errorf("Limit(%d) = %v, want present=%v", tc.milli, got, tc.limit)
		}
	}
}

func TestCelsius(t *testing.T) {
	if got := Celsius(49850); got != 49.85 {
		t.Errorf("Celsius(49850) = %v, want 49.85", got)
	}
}

func TestNaturalLess(t *testing.T) {
	if !NaturalLess("hwmon2", "hwmon10") || NaturalLess("hwmon10", "hwmon2") || !NaturalLess("a", "b") {
		t.Error("NaturalLess disorders hwmon names")
	}
}

func TestUniqueNames(t *testing.T) {
	chips := []Chip{
		{Source: "nvme", Name: "nvme-virtual-0", Device: "/sys/devices/virtual/nvme-fabrics/ctl/nvme3"},
		{Source: "nvme", Name: "nvme-virtual-0", Device: "/sys/devices/virtual/nvme-fabrics/ctl/nvme1"},
		{Source: "hwmon", Name: "nvme-virtual-0"}, // another source: no clash
	}
	UniqueChipNames(chips)
	if chips[1].Name != "nvme-virtual-0" || chips[0].Name != "nvme-virtual-0#2" || chips[2].Name != "nvme-virtual-0" {
		t.Errorf("names %q %q %q", chips[0].Name, chips[1].Name, chips[2].Name)
	}
	s := []Sensor{{Name: "Core", Attr: "temp2"}, {Name: "Core", Attr: "temp3"}}
	UniqueSensorNames(s)
	if s[0].Name != "Core" || s[1].Name != "Core (temp3)" {
		t.Errorf("sensor names %q %q", s[0].Name, s[1].Name)
	}
}
