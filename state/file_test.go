package state

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRoundTripMissingAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "x.json")
	if v, err := Load[map[string]int](path); err != nil || v != nil {
		t.Fatalf("missing file: %v, %v", err, v)
	}
	if err := Save(path, map[string]int{"a": 2}); err != nil {
		t.Fatal(err)
	}
	got, err := Load[map[string]int](path)
	if err != nil || got["a"] != 2 {
		t.Fatalf("round trip: %v, %v", err, got)
	}
	if err := os.WriteFile(path, []byte("{\"a\": 2,"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fresh, err := Load[map[string]int](path); !errors.Is(err, ErrCorrupt) || fresh != nil {
		t.Fatalf("corrupt file: %v, %v; want ErrCorrupt and a fresh state", fresh, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	unlock, err := Lock(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path, 50*time.Millisecond); err == nil {
		t.Fatal("a second lock was granted while the first is held")
	}
	unlock()
	unlock2, err := Lock(path, time.Second)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	unlock2()
}
