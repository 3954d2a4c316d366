//go:build !linux

package ipmi

import (
	"fmt"
	"runtime"
)

// Device is a BMC's node; only Linux has the OpenIPMI interface.
type Device struct{}

// Open is not implemented outside Linux.
func Open(path string) (*Device, error) {
	return nil, fmt.Errorf("ipmi: not implemented on %s", runtime.GOOS)
}

// Close does nothing.
func (d *Device) Close() error { return nil }

// Send is not implemented outside Linux.
func (d *Device) Send(Message) ([]byte, error) {
	return nil, fmt.Errorf("ipmi: not implemented on %s", runtime.GOOS)
}
