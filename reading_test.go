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
