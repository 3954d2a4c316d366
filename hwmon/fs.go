package hwmon

import (
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
	// skip, when set, leaves out chips it returns true for, before any of
	// their values is read.
	skip func(thermal.Chip) bool
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

// WithSkip returns a copy of fs that leaves out the chips skip returns true
// for, without reading any of their values. The beat uses it to leave the
// kernel's nvme chip alone for controllers it reads through the ioctl.
func (fs FS) WithSkip(skip func(thermal.Chip) bool) FS {
	fs.skip = skip
	return fs
}

// NewFS returns an FS reading the sysfs tree mounted at mountPoint (normally
// /sys; a fixture tree in tests). Readings outside rng are dropped.
func NewFS(mountPoint string, rng thermal.Range) (FS, error) {
	if mountPoint == "" {
		return FS{}, errors.New("hwmon: no sysfs mount point given")
	}
	return FS{sys: filepath.Clean(mountPoint), rng: rng, read: sysread.ReadFile}, nil
}
