package sysread

import (
	"os"
	"syscall"
)

// ErrnoIs maps an errno a device node gave (open, ioctl) to the os
// package's error classes, for the Is method of the sources' device
// errors: os.ErrPermission for EACCES and EPERM (a missing capability),
// os.ErrNotExist for ENOENT, ENODEV and ENXIO (no node, or the device went
// away).
func ErrnoIs(errno syscall.Errno, target error) bool {
	switch target {
	case os.ErrPermission:
		return errno == syscall.EACCES || errno == syscall.EPERM
	case os.ErrNotExist:
		return errno == syscall.ENOENT || errno == syscall.ENODEV || errno == syscall.ENXIO
	}
	return false
}
