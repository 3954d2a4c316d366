package linecodec

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

// A record of every kind of field reads back as written, whatever its
// strings hold; a line with a field too many, too few, two spaces, a
// trailing space or a bad number or flag is not OK.
func TestRoundTripAndMalformed(t *testing.T) {
	b := []byte("magic\n")
	l := Start(b)
	b = l.Quoted("a \"b\"\n\x00 c").Uint(math.MaxUint64).Int(math.MinInt64).Bool(true).Bool(false).Quoted("").End()
	got, err := Decode(b, "magic\n", func(line string) (string, [6]any, bool) {
		f := Read(line)
		v := [6]any{f.Quoted(), f.Uint(64), f.Int(64), f.Bool(), f.Bool(), f.Quoted()}
		return "k", v, f.OK()
	})
	want := [6]any{"a \"b\"\n\x00 c", uint64(math.MaxUint64), int64(math.MinInt64), true, false, ""}
	if err != nil || got["k"] != want {
		t.Fatalf("%q: %v, %v", b, got, err)
	}
	for _, line := range []string{
		`"a" 1 0 1`,   // a field too many
		`"a" 1`,       // too few
		`"a"  1 0`,    // two spaces
		`"a" 1 0 `,    // a trailing space
		`"a" x 0`,     // not a number
		`"a" 1 2`,     // not a flag
		`"a 1 0`,      // an unterminated quote
		`a 1 0`,       // an unquoted string
		`"a" -1 0`,    // a negative unsigned
		`"a" 256 0`,   // too wide for 8 bits
		` "a" 1 0`,    // a leading space
		`"a"1 0`,      // no separator
		"\"a\" 1 0\r", // a carriage return
	} {
		f := Read(line)
		f.Quoted()
		f.Uint(8)
		f.Bool()
		if f.OK() {
			t.Errorf("%q read as OK", line)
		}
	}
	if f := Read(`"a" 255 1`); f.Quoted() != "a" || f.Uint(8) != 255 || !f.Bool() || !f.OK() {
		t.Error("a well-formed line not OK")
	}
}

// Decode takes only its magic, and no key twice.
func TestDecodeRejects(t *testing.T) {
	rec := func(line string) (string, string, bool) { f := Read(line); k := f.Quoted(); return k, k, f.OK() }
	for _, data := range []string{"other\n\"a\"\n", "magic\n\"a\"\n\"a\"\n", "magic\n\"a\"\nb\n", "{\"a\":1}"} {
		if m, err := Decode([]byte(data), "magic\n", rec); err == nil {
			t.Errorf("%q decoded: %v", data, m)
		}
	}
	if m, err := Decode([]byte("magic\n\"a\"\n\n\"b\""), "magic\n", rec); err != nil || len(m) != 2 {
		t.Errorf("blank lines and no final newline: %v, %v", m, err)
	}
}

func FuzzFields(f *testing.F) {
	f.Add("x", uint64(3), int64(-4), true, []byte("\"x\" 3 -4 1"))
	f.Fuzz(func(t *testing.T, s string, u uint64, i int64, flag bool, line []byte) {
		l := Start(nil)
		b := l.Quoted(s).Uint(u).Int(i).Bool(flag).End()
		r := Read(string(b[:len(b)-1]))
		if gs, gu, gi, gf := r.Quoted(), r.Uint(64), r.Int(64), r.Bool(); !r.OK() || gs != s || gu != u || gi != i || gf != flag {
			t.Errorf("%q: read %q %d %d %v, OK %v", b, gs, gu, gi, gf, r.OK())
		}
		// Whatever a line holds, reading it never panics, and a line read
		// as OK is written back the same: there is one spelling of each
		// record.
		r = Read(string(line))
		gs, gu, gi, gf := r.Quoted(), r.Uint(64), r.Int(64), r.Bool()
		if r.OK() {
			l := Start(nil)
			if again := l.Quoted(gs).Uint(gu).Int(gi).Bool(gf).End(); !bytes.Equal(again[:len(again)-1], line) {
				t.Errorf("%q read as OK, written back as %q", line, again)
			}
		}
	})
}

// Numbers read as strconv reads them, at the edges of every width, and a
// value one past the edge is refused.
func TestNumbersAgreeWithStrconv(t *testing.T) {
	for _, bits := range []int{1, 2, 3, 8, 16, 31, 32, 63, 64} {
		umax := uint64(1)<<(bits-1)<<1 - 1
		for _, v := range []string{"0", "1", "7", "9", "10", strconv.FormatUint(umax, 10), strconv.FormatUint(umax, 10) + "0", "007", "", "-1", "+1", "1a", "18446744073709551616"} {
			want, werr := strconv.ParseUint(v, 10, bits)
			if werr == nil && strconv.FormatUint(want, 10) != v {
				werr = errors.New("not as Line writes it") // 007
			}
			f := Read(v)
			got := f.Uint(bits)
			if (werr == nil) != f.OK() || werr == nil && got != want {
				t.Errorf("Uint(%q, %d) = %d, ok %v; strconv: %d, %v", v, bits, got, f.OK(), want, werr)
			}
		}
		if bits < 8 {
			continue // strconv.ParseInt("-9", 10, 1) is -1 without an error; the codecs use 8 bits and up
		}
		for _, v := range []string{"0", "-0", "1", "-1", "9", "-9", strconv.FormatInt(1<<(bits-1)-1, 10), strconv.FormatInt(-1<<(bits-1), 10),
			strconv.FormatInt(1<<(bits-1)-1, 10) + "0", "-", "--1", "1-"} {
			want, werr := strconv.ParseInt(v, 10, bits)
			if werr == nil && strconv.FormatInt(want, 10) != v {
				werr = errors.New("not as Line writes it") // -0
			}
			f := Read(v)
			got := f.Int(bits)
			if (werr == nil) != f.OK() || werr == nil && got != want {
				t.Errorf("Int(%q, %d) = %d, ok %v; strconv: %d, %v", v, bits, got, f.OK(), want, werr)
			}
		}
	}
}

// Load gives the decoded entry, or the zero value: no cache, no entry, or
// one that does not decode.
func TestLoad(t *testing.T) {
	decode := func(b []byte) (map[string]string, error) {
		return Decode(b, "m\n", func(line string) (string, string, bool) { f := Read(line); k := f.Quoted(); return k, k, f.OK() })
	}
	c := sysfstest.MemCache{"good": []byte("m\n\"a\"\n"), "bad": []byte("m\nx\n")}
	if got := Load(c, "good", decode); len(got) != 1 || got["a"] != "a" {
		t.Errorf("a good entry: %v", got)
	}
	for _, k := range []string{"bad", "absent"} {
		if got := Load(c, k, decode); got != nil {
			t.Errorf("%s: %v", k, got)
		}
	}
	if got := Load(nil, "good", decode); got != nil {
		t.Errorf("no cache: %v", got)
	}
}
