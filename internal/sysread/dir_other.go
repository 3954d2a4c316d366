//go:build !linux

package sysread

import (
	"os"
	"syscall"
)

// ReadDirNames lists the directory at path.
func ReadDirNames(path string, _ []byte) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// ReadDirEntries lists the directory at path with each entry's inode
// number.
func ReadDirEntries(path string, _ []byte) ([]DirEntry, error) {
	des, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	entries := make([]DirEntry, 0, len(des))
	for _, de := range des {
		e := DirEntry{Name: de.Name()}
		if fi, err := de.Info(); err == nil {
			e.Ino = inode(fi)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// Readlink returns the target of the symbolic link at path.
func Readlink(path string, _ []byte) (string, error) { return os.Readlink(path) }

// Dir is an open directory whose attributes are read relative to it.
type Dir struct{ path string }

// OpenDir opens the directory at path.
func OpenDir(path string) (*Dir, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, &os.PathError{Op: "open", Path: path, Err: syscall.ENOTDIR}
	}
	return &Dir{path: path}, nil
}

// Close closes the directory.
func (d *Dir) Close() error { return nil }

// ReadFile reads the attribute name in the directory into buf.
func (d *Dir) ReadFile(name string, buf []byte) ([]byte, error) {
	return ReadFile(d.path+"/"+name, buf)
}
