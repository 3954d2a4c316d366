//go:build linux

package sysread

import (
	"os"

	"golang.org/x/sys/unix"
)

// ReadFile reads the attribute at path into buf with exactly one openat, one
// read and one close, and returns the bytes read. The file is opened
// O_NONBLOCK so that a driver answering EAGAIN fails fast instead of spinning.
// Errors are *os.PathError wrapping the errno, so errors.Is(err,
// os.ErrNotExist) and friends work.
func ReadFile(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	n, err := unix.Read(fd, buf)
	for err == unix.EINTR {
		n, err = unix.Read(fd, buf)
	}
	unix.Close(fd)
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: err}
	}
	return buf[:n], nil
}
