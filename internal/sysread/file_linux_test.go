package sysread

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func writeString(t *testing.T, dir, s string, mode uint32) {
	t.Helper()
	err := WriteAtomicFunc(dir, "f.prom", mode, false, func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range entries {
		ns = append(ns, e.Name())
	}
	return strings.Join(ns, " ")
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A steady writer swaps the spare into place: the same two inodes take
// turns, none is created or freed, and the target is never half written.
func TestWriteAtomicReusesTheSpare(t *testing.T) {
	dir := t.TempDir()
	target, spare := filepath.Join(dir, "f.prom"), filepath.Join(dir, ".f.prom.next")
	writeString(t, dir, "one\n", 0o644)
	if got := names(t, dir); got != "f.prom" {
		t.Fatalf("after the first write: %s", got)
	}
	writeString(t, dir, "two\n", 0o644)
	if got := names(t, dir); got != ".f.prom.next f.prom" {
		t.Fatalf("after the second write: %s", got)
	}
	inodes := map[uint64]bool{}
	for i, want := range []string{"three\n", "four, longer than the spare's content\n", "5\n"} {
		writeString(t, dir, want, 0o640)
		if got := content(t, target); got != want {
			t.Errorf("write %d: target holds %q, want %q", i, got, want)
		}
		var st unix.Stat_t
		if err := unix.Stat(target, &st); err != nil {
			t.Fatal(err)
		}
		inodes[st.Ino] = true
		if st.Mode&0o777 != 0o640 {
			t.Errorf("write %d: mode %o, want 640", i, st.Mode&0o777)
		}
	}
	if len(inodes) != 2 {
		t.Errorf("the target took %d inodes over three writes, want the same two in turn", len(inodes))
	}
	if got := content(t, spare); got != "four, longer than the spare's content\n" {
		t.Errorf("spare holds %q, want the previous content", got)
	}
	if got := names(t, dir); got != ".f.prom.next f.prom" {
		t.Errorf("directory holds %s", got)
	}
}

// A spare another writer holds, one linked elsewhere, or one that is not a
// plain file is left alone: the write goes through a new file.
func TestWriteAtomicLeavesASpareItCannotOwn(t *testing.T) {
	t.Run("locked", func(t *testing.T) {
		dir := t.TempDir()
		writeString(t, dir, "one\n", 0o644)
		writeString(t, dir, "two\n", 0o644)
		spare := filepath.Join(dir, ".f.prom.next")
		fd, err := unix.Open(spare, unix.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		writeString(t, dir, "three\n", 0o644)
		if got := content(t, filepath.Join(dir, "f.prom")); got != "three\n" {
			t.Errorf("target holds %q", got)
		}
		if got := content(t, spare); got != "one\n" {
			t.Errorf("the locked spare was changed: %q", got)
		}
	})
	t.Run("linked", func(t *testing.T) {
		dir := t.TempDir()
		writeString(t, dir, "one\n", 0o644)
		writeString(t, dir, "two\n", 0o644)
		other := filepath.Join(t.TempDir(), "keep")
		if err := os.Link(filepath.Join(dir, ".f.prom.next"), other); err != nil {
			t.Fatal(err)
		}
		writeString(t, dir, "three\n", 0o644)
		if got := content(t, other); got != "one\n" {
			t.Errorf("a file linked to the spare was changed: %q", got)
		}
		if got := content(t, filepath.Join(dir, "f.prom")); got != "three\n" {
			t.Errorf("target holds %q", got)
		}
	})
	t.Run("symlink", func(t *testing.T) {
		dir := t.TempDir()
		victim := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(victim, []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, filepath.Join(dir, ".f.prom.next")); err != nil {
			t.Fatal(err)
		}
		writeString(t, dir, "one\n", 0o644)
		writeString(t, dir, "two\n", 0o644)
		if got := content(t, victim); got != "mine\n" {
			t.Errorf("the spare's link was followed: %q", got)
		}
	})
}

// A directory where the file should be is not moved aside.
func TestWriteAtomicOverADirectoryFails(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "f.prom"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		err := WriteAtomicFunc(dir, "f.prom", 0o644, true, func(w io.Writer) error {
			_, err := io.WriteString(w, "x\n")
			return err
		})
		if err == nil {
			t.Fatalf("write %d over a directory succeeded", i)
		}
		if st, err := os.Stat(filepath.Join(dir, "f.prom")); err != nil || !st.IsDir() {
			t.Fatalf("write %d: the directory was moved: %v", i, err)
		}
		if i == 0 { // and with a spare present
			if err := os.WriteFile(filepath.Join(dir, ".f.prom.next"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A write that fails leaves the target as it was.
func TestWriteAtomicFailureKeepsTheTarget(t *testing.T) {
	dir := t.TempDir()
	writeString(t, dir, "one\n", 0o644)
	writeString(t, dir, "two\n", 0o644)
	err := WriteAtomicFunc(dir, "f.prom", 0o644, false, func(w io.Writer) error {
		io.WriteString(w, "half")
		return io.ErrShortWrite
	})
	if err == nil {
		t.Fatal("a failed write reported success")
	}
	if got := content(t, filepath.Join(dir, "f.prom")); got != "two\n" {
		t.Errorf("target holds %q after a failed write", got)
	}
	writeString(t, dir, "three\n", 0o644)
	if got := content(t, filepath.Join(dir, "f.prom")); got != "three\n" {
		t.Errorf("target holds %q", got)
	}
}
