package report

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// appendFloat writes what strconv's shortest 'g' form writes (but for the
// text format's 0, NaN and infinities), on its fast path and off it.
func TestAppendFloatIsShortestG(t *testing.T) {
	check := func(f float64) {
		t.Helper()
		want := strconv.FormatFloat(f, 'g', -1, 64)
		if f == 0 {
			want = "0"
		} else if math.IsInf(f, 1) {
			want = "+Inf"
		}
		if got := string(appendFloat(nil, f)); got != want {
			t.Fatalf("appendFloat(%v) = %q, want %q", f, got, want)
		}
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 0.001, -0.001, 0.0005, 0.1 + 0.2, 1.5, 45.5, -5.5, 27.8, 119,
		999999, 999999.999, -999999.999, 1e6, 1e6 + 0.5, 1e6 - 0.001, 123456.789, 1e-5, 0.1, 1.7637312e9, 1e21, math.MaxFloat64,
		math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(), 2.5e-3, 450, 215.25, 0.4, 1.0 / 3} {
		check(f)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		m := r.Int64N(4e9) - 2e9
		check(float64(m) / 1000)
		check(float64(m) / 1e6)
		check(float64(m))
		check(r.NormFloat64() * math.Pow(10, float64(r.IntN(12)-4)))
	}
}

// appendCelsius writes what appendFloat writes of the degrees.
func TestAppendCelsiusIsAppendFloat(t *testing.T) {
	check := func(m int64) {
		t.Helper()
		if got, want := string(appendCelsius(nil, m)), string(appendFloat(nil, float64(m)/1000)); got != want {
			t.Fatalf("appendCelsius(%d) = %q, want %q", m, got, want)
		}
	}
	for _, m := range []int64{0, 1, -1, 1000, -1000, 999, 1e9 - 1, 1e9, 1e9 + 1, -1e9 + 1, -1e9, -1e9 - 1, 45500, -5500, 1 << 62, math.MinInt64, math.MaxInt64} {
		check(m)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		check(r.Int64N(4e9) - 2e9)
		check(r.Int64())
	}
}
