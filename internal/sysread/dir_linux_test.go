//go:build linux

package sysread

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// ReadDirEntries gives every entry but . and .. with the inode number
// lstat gives, through listings that take several getdents calls (a small
// buffer) and names of every length (the records' padding).
func TestReadDirEntriesAgreesWithLstat(t *testing.T) {
	dir := t.TempDir()
	want := map[string]uint64{}
	for i := range 40 {
		name := fmt.Sprintf("hwmon%d%s", i, strings.Repeat("x", i%9))
		p := filepath.Join(dir, name)
		var err error
		if i%2 == 0 {
			err = os.Symlink("../../devices/x/"+name, p)
		} else {
			err = os.WriteFile(p, nil, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		want[name] = st.Ino
	}
	for _, size := range []int{8192, 128} {
		got, err := ReadDirEntries(dir, make([]byte, size))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("buffer %d: %d entries, want %d", size, len(got), len(want))
		}
		for _, e := range got {
			if ino, ok := want[e.Name]; !ok || ino != e.Ino {
				t.Errorf("buffer %d: %q inode %d, lstat: %d (listed %v)", size, e.Name, e.Ino, ino, ok)
			}
		}
		names := make([]string, 0, len(got))
		for _, e := range got {
			names = append(names, e.Name)
		}
		plain, _ := ReadDirNames(dir, make([]byte, size))
		slices.Sort(names)
		slices.Sort(plain)
		if !slices.Equal(names, plain) {
			t.Errorf("buffer %d: names %v, ReadDirNames %v", size, names, plain)
		}
	}
	if _, err := ReadDirEntries(filepath.Join(dir, "missing"), make([]byte, 8192)); !os.IsNotExist(err) {
		t.Errorf("a missing directory: %v", err)
	}
}

// Records cut short or with a length that cannot be are not read past.
func TestAppendDirentsStopsAtABadRecord(t *testing.T) {
	rec := func(ino uint64, name string, reclen int) []byte {
		b := make([]byte, reclen)
		for i := range 8 {
			b[i] = byte(ino >> (8 * i))
		}
		b[16], b[17] = byte(reclen), byte(reclen>>8)
		copy(b[19:], name)
		return b
	}
	good := rec(7, "hwmon0", 32)
	for _, tc := range []struct {
		name string
		b    []byte
		want int
	}{
		{"whole", append(append([]byte{}, good...), rec(8, "hwmon1", 32)...), 2},
		{"cut", append(append([]byte{}, good...), rec(8, "hwmon1", 32)[:20]...), 1},
		{"reclen too small", append(append([]byte{}, good...), rec(8, "hwmon1", 32)[:16]...), 1},
		{"dots", append(rec(1, ".", 24), rec(2, "..", 24)...), 0},
	} {
		got := appendDirents(nil, tc.b)
		if len(got) != tc.want {
			t.Errorf("%s: %+v, want %d entries", tc.name, got, tc.want)
		}
		if len(got) > 0 && (got[0].Name != "hwmon0" || got[0].Ino != 7) {
			t.Errorf("%s: first %+v", tc.name, got[0])
		}
	}
	// A record whose length field is zero would loop for ever.
	zero := rec(9, "x", 24)
	zero[16], zero[17] = 0, 0
	if got := appendDirents(nil, zero); len(got) != 0 {
		t.Errorf("zero reclen: %+v", got)
	}
}

// The fingerprint does not depend on the listing's order, and changes with
// any entry's name or inode number.
func TestFingerprint(t *testing.T) {
	a := []DirEntry{{Name: "0000:00:00.0", Ino: 10}, {Name: "0000:01:00.0", Ino: 11}, {Name: "0000:02:00.0", Ino: 12}}
	b := []DirEntry{a[2], a[0], a[1]}
	if Fingerprint(a) != Fingerprint(b) || Fingerprint(a) == 0 {
		t.Error("order changes the fingerprint")
	}
	for i, c := range [][]DirEntry{
		{{Name: "0000:00:00.0", Ino: 10}, {Name: "0000:01:00.0", Ino: 13}, {Name: "0000:02:00.0", Ino: 12}},
		{{Name: "0000:00:00.0", Ino: 10}, {Name: "0000:01:00.1", Ino: 11}, {Name: "0000:02:00.0", Ino: 12}},
		{{Name: "0000:00:00.0", Ino: 10}, {Name: "0000:01:00.0", Ino: 11}},
		{{Name: "0000:00:00.0", Ino: 10}, {Name: "0000:01:00.0", Ino: 12}, {Name: "0000:02:00.0", Ino: 11}},
	} {
		if Fingerprint(c) == Fingerprint(a) {
			t.Errorf("case %d: the same fingerprint", i)
		}
	}
	if Fingerprint([]DirEntry{{Name: "x", Ino: 0}}) != 0 {
		t.Error("an entry without an inode number is fingerprinted")
	}
}
