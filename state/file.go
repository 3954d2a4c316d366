package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// ErrLocked wraps the error of a Lock that timed out: another beat holds
// the lock (a hung one).
var ErrLocked = errors.New("held by another beat")

// ErrCorrupt wraps the decoding error of a state file that exists but cannot
// be read back.
var ErrCorrupt = errors.New("corrupt state file")

// MaxFile bounds a JSON state file: a beat's state is a few KiB; a file
// grown past this is corrupt, not read.
const MaxFile = 4 << 20

// readCapped reads the regular file at path, refusing anything else (a
// FIFO would block, /dev/zero would never end) and anything over max bytes.
func readCapped(path string, max int64) ([]byte, error) {
	b, err := sysread.ReadRegular(path, max)
	if errors.Is(err, sysread.ErrNotRegular) || errors.Is(err, sysread.ErrTooLarge) {
		return nil, fmt.Errorf("state: %s: %w: %w", path, ErrCorrupt, err)
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return b, nil
}

// readFile returns the bytes of the state file at path, nil for a missing
// one; a file that is not regular or too large is an error wrapping
// ErrCorrupt.
func readFile(path string) ([]byte, error) {
	b, err := readCapped(path, MaxFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory (named .<base>.*.tmp) that is synced and renamed over path, so
// that a reader, or the next beat after a crash, sees the old file or the
// new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := sysread.WriteAtomic(dir, filepath.Base(path), data, 0o600, true); err != nil {
		return fmt.Errorf("state: writing %s: %w", path, err)
	}
	return nil
}
