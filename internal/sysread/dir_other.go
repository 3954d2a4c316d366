//go:build !linux

package sysread

import "os"

// ReadDirNames lists the directory at path.
func ReadDirNames(path string, _ []byte) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// Readlink returns the target of the symbolic link at path.
func Readlink(path string, _ []byte) (string, error) { return os.Readlink(path) }
