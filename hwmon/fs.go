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
	// dirReads: read a chip's attributes relative to its open directory
	// (sysread.Dir) rather than through read. Off when a test replaces read.
	dirReads bool
	// admit, when set, is asked about every chip before any of its values
	// is read: it may relabel the chip, and false leaves it out.
	admit func(*thermal.Chip) bool
	// ignore, when set, leaves out sensors it returns true for, by chip
	// and kernel sensor name, before their input is read.
	ignore func(source, chip, sensor string) bool
}

// WithIgnore returns a copy of fs that does not read the sensors ignore
// returns true for ([[ignore]] in the configuration). It is asked after a
// sensor's label is read and before its value is.
func (fs FS) WithIgnore(ignore func(source, chip, sensor string) bool) FS {
	fs.ignore = ignore
	return fs
}

// WithAdmit returns a copy of fs that asks admit about every chip before
// reading any of its values; admit may relabel the chip's source, and false
// leaves the chip out. The pipeline uses it to leave the kernel's nvme chip
// alone for controllers it reads through the ioctl.
func (fs FS) WithAdmit(admit func(*thermal.Chip) bool) FS {
	fs.admit = admit
	return fs
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
func (fs FS) Name() string { return thermal.SourceHwmon }

// Read implements thermal.Source: Chips under the request's admission and
// ignore rules, starting from the inventory in its Cache and storing the
// next one there when anything in it was read afresh.
func (fs FS) Read(ctx context.Context, req *thermal.Request) ([]thermal.Chip, error) {
	if req != nil {
		fs.admit, fs.ignore = req.Admit, req.Ignore
	}
	cache := req.CacheOf()
	var prev *Inventory
	if cache != nil {
		var inv Inventory
		if data, ok := cache.Load(inventoryKey); ok && inv.UnmarshalBinary(data) == nil {
			prev = &inv
		}
	}
	chips, next, err := fs.ChipsCached(ctx, prev)
	if cache != nil && next != nil && (prev == nil || next.Changed) {
		if data, err := next.MarshalBinary(); err == nil {
			cache.Store(inventoryKey, data)
		}
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
