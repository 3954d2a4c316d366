//go:build linux

package sysread

import (
	"os"

	"golang.org/x/sys/unix"
)

// ReadDirNames lists the directory at path with one open, getdents until the
// end, and one close, without stat-ing or sorting the entries. buf is the
// getdents buffer; 8 KiB lists a hwmon chip in one call.
func ReadDirNames(path string, buf []byte) ([]string, error) {
	fd, err := openFlags(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	for err == unix.EINTR {
		fd, err = openFlags(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var names []string
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "getdents", Path: path, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
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
