package lmsensors

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

func TestParseAndApply(t *testing.T) {
	c, err := Parse("sensors.conf", []byte(`
# comment
chip "*-isa-*"
    label temp1 "first"
    label temp2 "second"   # trailing comment
chip "coretemp-isa-*" "k10temp-*"
    label temp1 "CPU"
    ignore temp3
    compute temp2 (@ * 9 / 5) + 32, \
                  (@ - 32) * 5 / 9
    set temp1_max 90
`))
	if err != nil {
		t.Fatal(err)
	}
	milli := func(v int64) *int64 { return &v }
	chip := thermal.Chip{Source: "hwmon", Name: "coretemp-isa-0000", Bus: "isa", Errors: 1, Sensors: []thermal.Sensor{
		{Name: "Package id 0", Attr: "temp1", Value: 45000},
		{Name: "Core 0", Attr: "temp2", Value: 40000, Max: milli(50000)},
		{Name: "Core 1", Attr: "temp3", Err: thermal.ErrFault},
		{Name: "Core 2", Attr: "temp4", Value: 41000},
	}}
	c.Apply(&chip, thermal.DefaultRange)
	var got []string
	for _, s := range chip.Sensors {
		got = append(got, s.Name+"="+strconv.FormatFloat(s.Celsius(), 'f', -1, 64))
	}
	if strings.Join(got, ",") != "CPU=45,second=104,Core 2=41" || *chip.Sensors[1].Max != 122000 || chip.Errors != 0 {
		t.Errorf("after Apply: %v (max %v, errors %d)", got, *chip.Sensors[1].Max, chip.Errors)
	}
}

func TestExpressions(t *testing.T) {
	for expr, want := range map[string]float64{
		"@":              50,
		"-@ + 100":       50,
		"(@ - 32) * 5/9": 10,
		"`(^(@))":        50,
		"@ * 2 - 10 / 2": 95,
		"-(-@)":          50,
	} {
		toks, err := lex(expr)
		if err != nil {
			t.Fatal(err)
		}
		e, err := parseExpr(toks)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if v, err := e.Eval(50); err != nil || math.Abs(v-want) > 1e-9 {
			t.Errorf("%s at 50 = %v, %v; want %v", expr, v, err, want)
		}
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	for text, want := range map[string]string{
		"label temp1 \"x\"\n":                   "f.conf:1: label before any chip statement",
		"chip \"x-*\"\nlabel temp1\n":           "f.conf:2: label takes a feature and a quoted label",
		"chip \"x-*\"\ncompute temp1 @*2\n":     "f.conf:2: compute takes two expressions",
		"chip \"x-*\"\ncompute temp1 @*(2, @\n": "f.conf:2: compute temp1: missing )",
		"chip x\n":                              "f.conf:1: chip names are quoted",
		"frobnicate temp1\n":                    "f.conf:1: unknown statement \"frobnicate\"",
		"chip \"x-*\"\nlabel temp1 \"open\n":    "f.conf:2: unterminated string",
	} {
		if _, err := Parse("f.conf", []byte(text)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		ok   bool
	}{
		{"lm78-*", "lm78-isa-0290", true},
		{"*-isa-*", "nct6798-isa-0290", true},
		{"*-isa-*", "spd5118-i2c-0-50", false},
		{"it87-isa-0290", "it87-isa-0290", true},
		{"SMBus I801 adapter at *", "SMBus I801 adapter at efa0", true},
		{"*", "anything", true},
	} {
		if glob(tc.p, tc.s) != tc.ok {
			t.Errorf("glob(%q, %q) = %v", tc.p, tc.s, !tc.ok)
		}
	}
}

// Whatever the file, Parse returns a configuration or an error naming the
// file, and applying it never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte("chip \"*-isa-*\"\n label temp1 \"x\"\n compute temp1 `(^@), @\n ignore temp2\n"))
	f.Add([]byte("bus \"i2c-0\" \"a\"\nchip \"x-i2c-0-*\"\nset temp1_max 5*@\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.conf:") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		chip := thermal.Chip{Source: "hwmon", Name: "x-isa-0000", Bus: "isa", Sensors: []thermal.Sensor{{Name: "a", Attr: "temp1", Value: 1000}, {Name: "b", Attr: "temp2", Value: 2000}}}
		c.Resolve(t.TempDir()).Apply(&chip, thermal.DefaultRange)
	})
}

// What would hang or flood a beat is refused or passed over: a FIFO (in a
// directory it is passed over, named on its own it is an error),
// /dev/zero, a file larger than 1 MiB (issue 18 #7).
func TestLoadIsBounded(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "sensors.d")
	os.Mkdir(d, 0o755)
	os.WriteFile(filepath.Join(d, "a.conf"), []byte("chip \"coretemp-*\"\n    label temp1 \"CPU\"\n"), 0o644)
	if err := syscall.Mkfifo(filepath.Join(d, "b.conf"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big := filepath.Join(dir, "big.conf")
	os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), 200<<10), 0o644)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := Load([]string{d})
		if err != nil || len(c.Chips) != 1 {
			t.Errorf("a directory with a FIFO: %v, %+v", err, c)
		}
		for path, want := range map[string]string{
			filepath.Join(d, "b.conf"): "not a regular file",
			"/dev/zero":                "not a regular file",
			big:                        "larger than 1 MiB",
		} {
			if _, err := Load([]string{path}); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load(%s) = %v, want %q", path, err, want)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Load hung")
	}
}
