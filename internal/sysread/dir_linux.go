//go:build linux

package sysread

import (
	"bytes"
	"encoding/binary"
	"os"

	"golang.org/x/sys/unix"
)

// ReadDirNames lists the directory at path with one open, getdents until the
// end, and one close, without stat-ing or sorting the entries. buf is the
// getdents buffer; 8 KiB lists a hwmon chip in one call.
func ReadDirNames(path string, buf []byte) ([]string, error) {
	var names []string
	if err := listDir(path, buf, func(b []byte) { _, _, names = unix.ParseDirent(b, -1, names) }); err != nil {
		return nil, err
	}
	return names, nil
}

// ReadDirEntries is ReadDirNames with each entry's inode number, from the
// same getdents records. On sysfs the number identifies the entry's kernfs
// node: a class link that is removed and made again (a driver re-bound, a
// device hot-plugged under a reused hwmonN) comes back with another, so a
// caller can tell an entry unchanged without reading its link.
func ReadDirEntries(path string, buf []byte) ([]DirEntry, error) {
	var entries []DirEntry
	if err := listDir(path, buf, func(b []byte) { entries = appendDirents(entries, b) }); err != nil {
		return nil, err
	}
	return entries, nil
}

// listDir opens the directory at path and hands each getdents result to
// parse, until the end.
func listDir(path string, buf []byte, parse func(records []byte)) error {
	fd, err := openFlags(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	for err == unix.EINTR {
		fd, err = openFlags(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	}
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "getdents", Path: path, Err: err}
		}
		if n <= 0 {
			return nil
		}
		parse(buf[:n])
	}
}

// appendDirents appends the entries of getdents64's records in b (struct
// linux_dirent64: ino, off, reclen, type, a NUL-terminated name), leaving
// out "." and "..", and records without an inode (a deleted entry, as
// unix.ParseDirent leaves them out), and stopping at a record that does
// not fit.
func appendDirents(entries []DirEntry, b []byte) []DirEntry {
	const nameOff = 19 // 8 + 8 + 2 + 1
	for len(b) >= nameOff {
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < nameOff || reclen > len(b) {
			return entries
		}
		ino := binary.NativeEndian.Uint64(b[0:8])
		name := b[nameOff:reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		b = b[reclen:]
		if ino == 0 || len(name) == 0 || string(name) == "." || string(name) == ".." {
			continue
		}
		entries = append(entries, DirEntry{Name: string(name), Ino: ino})
	}
	return entries
}

// Readlink returns the target of the symbolic link at path, with one
// readlink call.
func Readlink(path string, buf []byte) (string, error) {
	n, err := readlink(path, buf)
	for err == unix.EINTR {
		n, err = readlink(path, buf)
	}
	if err != nil {
		return "", &os.PathError{Op: "readlink", Path: path, Err: err}
	}
	return string(buf[:n]), nil
}

// Dir is an open directory whose attributes are read relative to it: the
// kernel walks one path component per read instead of the whole path, which
// is most of an open's cost for the deep paths of sysfs.
type Dir struct {
	fd   int
	path string
}

// OpenDir opens the directory at path.
func OpenDir(path string) (*Dir, error) {
	fd, err := openFlags(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	for err == unix.EINTR {
		fd, err = openFlags(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &Dir{fd: fd, path: path}, nil
}

// Close closes the directory.
func (d *Dir) Close() error { return unix.Close(d.fd) }

// ReadFile reads the attribute name in the directory into buf, as ReadFile
// does for a path: one openat, one read, one close, non-blocking; errors
// name the full path.
func (d *Dir) ReadFile(name string, buf []byte) ([]byte, error) {
	fd, err := openat(d.fd, name)
	for err == unix.EINTR {
		fd, err = openat(d.fd, name)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.path + "/" + name, Err: err}
	}
	return readClose(fd, d.path, name, buf)
}
