//go:build !linux

package sysread

import (
	"errors"
	"io"
	"os"
	"time"
)

// ReadFile reads the attribute at path into buf with one read. Outside Linux
// there is no sysfs; this exists so that the module builds and fixture-based
// tests run on any OS.
func ReadFile(path string, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := f.Read(buf)
	if err != nil && err != io.EOF {
		return nil, err
	}
	if n == len(buf) {
		return nil, &os.PathError{Op: "read", Path: path, Err: ErrTooLong}
	}
	return buf[:n], nil
}

// BootTime is not known outside Linux.
func BootTime() (time.Time, error) { return time.Time{}, errors.ErrUnsupported }
