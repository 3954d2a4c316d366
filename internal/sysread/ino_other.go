//go:build !unix

package sysread

import "io/fs"

// inode returns 0: the system gives no inode numbers here.
func inode(fs.FileInfo) uint64 { return 0 }
