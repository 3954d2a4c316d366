package sysread

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestParseInt(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"45000\n", 45000, false},
		{"-273150\n", -273150, false},
		{"+5", 5, false},
		{"0\n", 0, false},
		{"65261850", 65261850, false},
		{"  12 \n", 12, false},
		{"", 0, true},
		{"\n", 0, true},
		{"-", 0, true},
		{"12a", 0, true},
		{"N/A\n", 0, true},
		{"1.5", 0, true},
		{"99999999999999999999", 0, true},
	} {
		got, err := ParseInt([]byte(tc.in))
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, err=%v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	if _, err := ParseInt([]byte("\n")); !errors.Is(err, ErrEmpty) {
		t.Errorf("ParseInt(newline) error = %v, want ErrEmpty", err)
	}
}

func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"45000\n", "-273150", "", "+", "9223372036854775807", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseInt([]byte(s))
		std, stdErr := strconv.ParseInt(string(Trim([]byte(s))), 10, 64)
		if err == nil && (stdErr != nil || std != got) {
			t.Fatalf("ParseInt(%q) = %d, strconv says %d, %v", s, got, std, stdErr)
		}
	})
}

// A value that fills the buffer may be cut short: rejected, not truncated.
func TestReadFileRejectsValuesLongerThanTheBuffer(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/temp1_input"
	if err := os.WriteFile(p, []byte("123456789\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadInt(ReadFile, p, make([]byte, 4)); !errors.Is(err, ErrTooLong) {
		t.Errorf("4-byte buffer: err = %v, want ErrTooLong", err)
	}
	if v, err := ReadInt(ReadFile, p, make([]byte, 64)); err != nil || v != 123456789 {
		t.Errorf("64-byte buffer: %d, %v", v, err)
	}
	long := dir + "/" + strings.Repeat("x", 600) // past the stack path buffer
	if _, err := ReadFile(long, make([]byte, 8)); !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("long path: err = %v", err)
	}
}
