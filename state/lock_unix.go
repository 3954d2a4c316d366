//go:build unix

package state

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Lock takes an exclusive advisory lock on path+".lock", waiting at most
// timeout, so that two beats running at once (the timer and a manual run)
// take turns at the state file. The returned function releases it.
func Lock(path string, timeout time.Duration) (unlock func(), err error) {
	// Plain system calls, no *os.File: a beat need not start Go's network
	// poller to take a lock.
	// O_NOFOLLOW: a link planted at the lock's name must not make a root
	// beat create or truncate a file where it points; the link is
	// removed (unlink does not follow it) and the lock made afresh.
	flags := unix.O_CREAT | unix.O_RDWR | unix.O_CLOEXEC | unix.O_NOFOLLOW
	fd, err := unix.Open(path+".lock", flags, 0o644)
	var st unix.Stat_t
	if errors.Is(err, unix.ELOOP) && unix.Lstat(path+".lock", &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK && unix.Unlink(path+".lock") == nil {
		fd, err = unix.Open(path+".lock", flags|unix.O_EXCL, 0o644)
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", &os.PathError{Op: "open", Path: path + ".lock", Err: err})
	}
	deadline := time.Now().Add(timeout)
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(fd, unix.LOCK_UN); unix.Close(fd) }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			unix.Close(fd)
			return nil, fmt.Errorf("state: locking %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			unix.Close(fd)
			return nil, fmt.Errorf("state: %s is locked by another beat for more than %v: %w", path, timeout, ErrLocked)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
