package hwmon

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// FS reads hwmon chips from a sysfs tree.
type FS struct {
	sys string
	rng thermal.Range
	// read is the kernel boundary: one open+read+close of an attribute.
	// Tests replace it to make a read fail or hang.
	read sysread.ReadFunc
	// dirReads: read is the kernel's (sysread.ReadFile): a chip's
	// attributes are read relative to its open directory (sysread.Dir),
	// and the beat's device tree is shared with the other sources
	// (sysdev.Shared). Off when a test replaces read.
	dirReads bool
	// req is the pipeline's request: its Admit is asked about every chip
	// before any of its values is read (it may relabel the chip, and false
	// leaves it out); its Ignore leaves out sensors, by chip and kernel
	// sensor name, before their input is read. Nil reads everything.
	req *thermal.Request
	// readLink, when set, reads a class entry's link instead of
	// sysread.Readlink: tests count the links a beat reads.
	readLink func(path string, buf []byte) (string, error)
}

// readlink reads the link at path.
func (fs *FS) readlink(path string, buf []byte) (string, error) {
	if fs.readLink != nil {
		return fs.readLink(path, buf)
	}
	return sysread.Readlink(path, buf)
}

// WithRead returns a copy of fs that reads every attribute through read, by
// path: the kernel boundary, for tests that make a read fail or hang.
func (fs FS) WithRead(read sysread.ReadFunc) FS {
	fs.read, fs.dirReads = read, false
	return fs
}

// inventoryKey is the Cache key of the hwmon inventory.
const inventoryKey = "hwmon-inventory"

// Name is the source label, hwmon.
func (fs FS) Name() string { return SourceName }

// Read implements thermal.Source: Chips under the request's admission and
// ignore rules, starting from the inventory in its Cache and storing the
// next one there when anything in it was read afresh.
func (fs FS) Read(ctx context.Context, req *thermal.Request) ([]thermal.Chip, error) {
	fs.req = req
	cache := req.CacheOf()
	var prev *known
	if cache != nil {
		if data, ok := cache.Load(inventoryKey); ok {
			prev, _ = decode(string(data)) // nil when corrupt: every chip is inspected
		}
	}
	chips, next, err := fs.chipsCached(ctx, prev, prev == nil)
	if cache != nil && next != nil && (prev == nil || next.changed) {
		cache.Store(inventoryKey, next.encode())
	}
	return chips, err
}

// NewFS returns an FS reading the sysfs tree mounted at mountPoint (normally
// /sys; a fixture tree in tests). Readings outside rng are dropped.
func NewFS(mountPoint string, rng thermal.Range) (FS, error) {
	if mountPoint == "" {
		return FS{}, errors.New("hwmon: no sysfs mount point given")
	}
	return FS{sys: filepath.Clean(mountPoint), rng: rng, read: sysread.ReadFile, dirReads: true}, nil
}
