//go:build !linux

package disk

import (
	"fmt"
	"runtime"
)

// Device is a drive's node; only Linux has SG_IO.
type Device struct{}

// Open is not implemented outside Linux.
func Open(path string) (*Device, error) {
	return nil, fmt.Errorf("disk: not implemented on %s", runtime.GOOS)
}

// Close does nothing.
func (d *Device) Close() error { return nil }

// Do is not implemented outside Linux.
func (d *Device) Do(*Command) error { return fmt.Errorf("disk: not implemented on %s", runtime.GOOS) }
