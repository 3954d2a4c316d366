package state

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

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

// A link at the lock's name (dangling, or to a file that matters) is not
// followed: nothing is created or touched where it points, and the lock
// still works (issue 18).
func TestLockDoesNotFollowALink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	target := filepath.Join(dir, "elsewhere")
	if err := os.Symlink(target, path+".lock"); err != nil {
		t.Fatal(err)
	}
	unlock, err := Lock(path, time.Second)
	if err != nil {
		t.Fatalf("lock over a dangling link: %v", err)
	}
	unlock()
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("the link's target was created: %v", err)
	}
	if fi, err := os.Lstat(path + ".lock"); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("the lock is still a link: %v %v", fi, err)
	}
}
