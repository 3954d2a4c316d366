//go:build !linux

package nvme

import (
	"fmt"
	"runtime"
)

// Device is an NVMe controller device node; only Linux has the ioctl.
type Device struct{}

// Open is not implemented outside Linux.
func Open(path string) (*Device, error) {
	return nil, fmt.Errorf("nvme: not implemented on %s", runtime.GOOS)
}

// Close does nothing.
func (d *Device) Close() error { return nil }

// AdminCommand is not implemented outside Linux.
func (d *Device) AdminCommand(*Command) error {
	return fmt.Errorf("nvme: not implemented on %s", runtime.GOOS)
}
