//go:build linux

package sysread

import (
	"os"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReadFile reads the attribute at path into buf with exactly one openat, one
// read and one close, and returns the bytes read. The file is opened
// O_NONBLOCK so that a driver answering EAGAIN fails fast instead of spinning.
// Errors are *os.PathError wrapping the errno, so errors.Is(err,
// os.ErrNotExist) and friends work.
//
// A value that fills buf may have been cut short: it is an error
// (ErrTooLong), never a truncated value taken as read.
func ReadFile(path string, buf []byte) ([]byte, error) {
	fd, err := openat(unix.AT_FDCWD, path)
	for err == unix.EINTR {
		fd, err = openat(unix.AT_FDCWD, path)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return readClose(fd, "", path, buf)
}

// readClose reads fd once into buf and closes it. dir and name make the
// path for an error, joined only then.
func readClose(fd int, dir, name string, buf []byte) ([]byte, error) {
	path := func() string {
		if dir == "" {
			return name
		}
		return dir + "/" + name
	}
	n, err := unix.Read(fd, buf)
	for err == unix.EINTR {
		n, err = unix.Read(fd, buf)
	}
	unix.Close(fd)
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path(), Err: err}
	}
	if n == len(buf) {
		return nil, &os.PathError{Op: "read", Path: path(), Err: ErrTooLong}
	}
	return buf[:n], nil
}

// openat opens path (relative to dirfd) read-only and non-blocking.
func openat(dirfd int, path string) (int, error) {
	return openFlags(dirfd, path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC)
}

// maxStackPath is the longest path passed to the kernel from a stack
// buffer: sysfs paths are short, and are NUL-terminated there rather than
// in a heap copy (one allocation less per call, and a beat makes
// thousands).
const maxStackPath = 256

// openFlags opens path (relative to dirfd) with flags.
func openFlags(dirfd int, path string, flags int) (int, error) {
	var p [maxStackPath]byte
	if len(path) >= len(p) || strings.IndexByte(path, 0) >= 0 {
		return unix.Openat(dirfd, path, flags, 0)
	}
	copy(p[:], path)
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&p[0])), uintptr(flags), 0, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// readlink reads the link at path into buf.
func readlink(path string, buf []byte) (int, error) {
	var p [maxStackPath]byte
	if len(path) >= len(p) || strings.IndexByte(path, 0) >= 0 || len(buf) == 0 {
		return unix.Readlink(path, buf)
	}
	copy(p[:], path)
	at := unix.AT_FDCWD
	n, _, errno := unix.Syscall6(unix.SYS_READLINKAT, uintptr(at), uintptr(unsafe.Pointer(&p[0])), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// BootTime returns when the system booted, from CLOCK_BOOTTIME: readable
// where /proc/sys is not (ProcSubset=pid). NTP steps move it by their size.
func BootTime() (time.Time, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Time{}, os.NewSyscallError("clock_gettime", err)
	}
	return time.Now().Add(-time.Duration(ts.Nano())), nil
}
