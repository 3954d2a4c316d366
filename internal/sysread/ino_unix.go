//go:build unix && !linux

package sysread

import (
	"io/fs"
	"syscall"
)

// inode returns the inode number lstat gave for fi, 0 when it gave none.
func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
