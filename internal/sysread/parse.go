package sysread

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrEmpty is returned by ParseInt for an attribute that read as nothing.
var ErrEmpty = errors.New("empty value")

// ErrTooLong: the value filled the read buffer, so it may have been cut
// short; it is rejected rather than taken as read.
var ErrTooLong = errors.New("value longer than the read buffer")

// Trim returns b without surrounding ASCII whitespace (sysfs values end in a
// newline).
func Trim(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == 0 }

// ParseInt parses a decimal sysfs integer such as "45000\n" (hwmon and
// thermal values are millidegrees Celsius). It does not allocate on success.
func ParseInt(b []byte) (int64, error) {
	b = Trim(b)
	if len(b) == 0 {
		return 0, ErrEmpty
	}
	neg := false
	i := 0
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i = 1
		if len(b) == 1 {
			return 0, fmt.Errorf("invalid integer %q", b)
		}
	}
	var v int64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("invalid integer %q", b)
		}
		if v > (1<<63-1-9)/10 {
			return 0, fmt.Errorf("integer out of range %q: %w", b, strconv.ErrRange)
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, nil
}

// Text returns an attribute's value as a name: trimmed like Trim, with
// invalid UTF-8 replaced (U+FFFD) here, where names are read, so that a
// series never changes name between beats or outputs.
func Text(b []byte) string {
	b = Trim(b)
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// ReadFunc is the signature of ReadFile: the seam through which readers
// touch the kernel, so that tests can make a read fail or hang.
type ReadFunc func(path string, buf []byte) ([]byte, error)

// ReadInt reads the attribute at path with read and parses it with ParseInt.
// A parse error names the path.
func ReadInt(read ReadFunc, path string, buf []byte) (int64, error) {
	b, err := read(path, buf)
	if err != nil {
		return 0, err
	}
	v, err := ParseInt(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// Buffer returns a zeroed buffer of n bytes on the heap. A buffer made in
// place of a constant size that does not escape lives on the goroutine's
// stack instead, and the sources' goroutines start with 2 KiB of stack: a
// 16 KiB listing buffer there makes the runtime copy the stack into a
// larger one and clear the buffer, page by page, where the heap hands out
// memory the kernel has zeroed and only the pages written are touched.
//
//go:noinline
func Buffer(n int) []byte { return make([]byte, n) }
