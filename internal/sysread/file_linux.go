//go:build linux

package sysread

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrNotRegular: the path is not a regular file (a FIFO would block, a
// device could never end).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge: the file is larger than the caller accepts.
var ErrTooLarge = errors.New("file too large")

// ReadRegular reads the regular file at path, of at most max bytes, with
// plain system calls: no *os.File, so a beat never starts Go's network
// poller just to read its state.
func ReadRegular(path string, max int64) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, &os.PathError{Op: "read", Path: path, Err: ErrNotRegular}
	}
	if st.Size > max {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, st.Size, max)}
	}
	buf := make([]byte, st.Size+1) // +1: a file that grew is seen to have
	n := 0
	for {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			return buf[:n], nil
		}
		n += m
		if int64(n) > max {
			return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
		}
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
	}
}

// WriteAtomic writes data to dir/name through a temporary file in dir named
// .name.<n>.tmp (never *.prom, never name itself), with mode, synced when
// sync is set, then renamed over dir/name: readers see the old file or the
// new one, never half of one. Plain system calls, no *os.File.
func WriteAtomic(dir, name string, data []byte, mode uint32, sync bool) error {
	return WriteAtomicFunc(dir, name, mode, sync, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// fdWriter writes to a file descriptor.
type fdWriter int

func (fd fdWriter) Write(p []byte) (int, error) {
	off := 0
	for off < len(p) {
		n, err := unix.Write(int(fd), p[off:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return off, err
		}
		off += n
	}
	return off, nil
}

// WriteAtomicFunc is WriteAtomic with the content written by write, through
// a 64 KiB buffer: a large file is never held in memory whole.
func WriteAtomicFunc(dir, name string, mode uint32, sync bool, write func(w io.Writer) error) error {
	target := dir + "/" + name
	var fd int
	var tmp string
	var err error
	for try := 0; try < 100; try++ {
		// Unique among processes by the pid; a name left by a killed beat
		// or taken by a concurrent writer in this process is skipped.
		tmp = dir + "/." + name + "." + strconv.Itoa(unix.Getpid()) + "-" + strconv.Itoa(try) + ".tmp"
		fd, err = unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, mode)
		if err != unix.EEXIST {
			break
		}
	}
	if err != nil {
		return &os.PathError{Op: "create", Path: tmp, Err: err}
	}
	fail := func(op string, err error) error {
		unix.Close(fd)
		unix.Unlink(tmp)
		return &os.PathError{Op: op, Path: target, Err: err}
	}
	bw := bufio.NewWriterSize(fdWriter(fd), 64<<10)
	if err := write(bw); err != nil {
		return fail("write", err)
	}
	if err := bw.Flush(); err != nil {
		return fail("write", err)
	}
	if err := unix.Fchmod(fd, mode); err != nil { // the umask does not decide who reads it
		return fail("chmod", err)
	}
	if sync {
		if err := unix.Fsync(fd); err != nil {
			return fail("sync", err)
		}
	}
	if err := unix.Close(fd); err != nil {
		unix.Unlink(tmp)
		return &os.PathError{Op: "close", Path: target, Err: err}
	}
	if err := unix.Rename(tmp, target); err != nil {
		unix.Unlink(tmp)
		return &os.PathError{Op: "rename", Path: target, Err: err}
	}
	if sync { // the rename itself survives a power cut only once the directory is synced
		d, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "sync", Path: dir, Err: err}
		}
		err = unix.Fsync(d)
		unix.Close(d)
		if err != nil {
			return &os.PathError{Op: "sync", Path: dir, Err: err}
		}
	}
	return nil
}
