// Package linecodec is the small text format of the sources' caches that a
// steady beat decodes (NVMe controllers and limits, drives and their
// identities, zones, the GPU discovery, the CPU topology, IPMI SDRs): a magic first line naming the format, then one record
// per line, its fields separated by single spaces: strings quoted as Go
// quotes them, numbers in decimal, flags as 0 or 1. It costs a fraction of
// encoding/json's first use in a fresh process, and anything malformed is
// an error, never half a record. A field is read only in the one form Line
// writes it (strconv.Quote's quoting, no leading zeros, no -0), so a record
// read back is written the same.
package linecodec

import (
	"errors"
	"strconv"
	"strings"
)

// ErrFormat is what a decoder returns for anything but what its encoder
// wrote.
var ErrFormat = errors.New("malformed cache")

// Line builds one record.
type Line struct{ b []byte }

// Start begins a record on b (a buffer that holds the records before it).
func Start(b []byte) Line { return Line{b: b} }

func (l *Line) sep() {
	if len(l.b) > 0 && l.b[len(l.b)-1] != '\n' {
		l.b = append(l.b, ' ')
	}
}

// Quoted appends a quoted string field.
func (l *Line) Quoted(s string) *Line {
	l.sep()
	l.b = strconv.AppendQuote(l.b, s)
	return l
}

// Uint appends an unsigned number field.
func (l *Line) Uint(v uint64) *Line {
	l.sep()
	l.b = strconv.AppendUint(l.b, v, 10)
	return l
}

// Int appends a signed number field.
func (l *Line) Int(v int64) *Line {
	l.sep()
	l.b = strconv.AppendInt(l.b, v, 10)
	return l
}

// Bool appends a flag field, 0 or 1.
func (l *Line) Bool(v bool) *Line {
	if v {
		return l.Uint(1)
	}
	return l.Uint(0)
}

// End ends the record and returns the buffer with it.
func (l *Line) End() []byte { return append(l.b, '\n') }

// Fields reads the fields of one record in order; after the first field
// that is missing or malformed every read fails, and OK reports it.
type Fields struct {
	rest  string
	first bool
	bad   bool
}

// Read returns the fields of line.
func Read(line string) *Fields { return &Fields{rest: line, first: true} }

// word returns the next unquoted field.
func (f *Fields) word() string {
	if !f.skip() {
		return ""
	}
	i := strings.IndexByte(f.rest, ' ')
	if i < 0 {
		i = len(f.rest)
	}
	v := f.rest[:i]
	f.rest = f.rest[i:]
	return v
}

// skip checks the separator before a field.
func (f *Fields) skip() bool {
	if f.bad {
		return false
	}
	if f.first {
		f.first = false
	} else if r, ok := strings.CutPrefix(f.rest, " "); ok {
		f.rest = r
	} else {
		f.bad = true
	}
	return !f.bad
}

// Quoted reads a quoted string field.
func (f *Fields) Quoted() string {
	if !f.skip() {
		return ""
	}
	// Most strings are printable ASCII without a quote or a backslash,
	// which strconv.Quote writes as they are: taken in one pass.
	if len(f.rest) > 0 && f.rest[0] == '"' {
		for i := 1; i < len(f.rest); i++ {
			c := f.rest[i]
			if c == '"' {
				v := f.rest[1:i]
				f.rest = f.rest[i+1:]
				return v
			}
			if c < 0x20 || c > 0x7e || c == '\\' {
				break // escapes, or more than ASCII: strconv's
			}
		}
	}
	q, err := strconv.QuotedPrefix(f.rest)
	if err != nil || q[0] != '"' {
		f.bad = true
		return ""
	}
	s, _ := strconv.Unquote(q)
	if strconv.Quote(s) != q { // another spelling of it (\x41, a raw byte)
		f.bad = true
		return ""
	}
	f.rest = f.rest[len(q):]
	return s
}

// Uint reads an unsigned number field of at most bits bits (1 to 64):
// decimal digits, parsed in the one pass that finds the field's end.
func (f *Fields) Uint(bits int) uint64 {
	bits = clampBits(bits)
	if !f.skip() {
		return 0
	}
	v, ok := f.digits(uint64(1)<<(bits-1)<<1 - 1) // 1<<bits - 1, for bits 64 too
	if !ok {
		f.bad = true
	}
	return v
}

// Int reads a signed number field of at most bits bits (1 to 64): an
// optional minus sign and decimal digits (no plus sign: Line writes none).
func (f *Fields) Int(bits int) int64 {
	bits = clampBits(bits)
	if !f.skip() {
		return 0
	}
	neg := strings.HasPrefix(f.rest, "-")
	if neg {
		f.rest = f.rest[1:]
	}
	limit := uint64(1)<<(bits-1) - 1
	if neg {
		limit++
	}
	v, ok := f.digits(limit)
	if !ok || neg && v == 0 {
		f.bad = true
		return 0
	}
	if neg {
		return -int64(v-1) - 1 // -limit fits where limit does not
	}
	return int64(v)
}

// clampBits takes a width outside 1 to 64 as 64.
func clampBits(bits int) int {
	if bits < 1 || bits > 64 {
		return 64
	}
	return bits
}

// digits takes the decimal digits up to the next space or the end, at
// least one and no leading zero, and their value, at most limit.
func (f *Fields) digits(limit uint64) (v uint64, ok bool) {
	if len(f.rest) > 1 && f.rest[0] == '0' && f.rest[1] != ' ' {
		return 0, false
	}
	i := 0
	for ; i < len(f.rest) && f.rest[i] != ' '; i++ {
		d := uint64(f.rest[i] - '0')
		if d > 9 || d > limit || v > (limit-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	f.rest = f.rest[i:]
	return v, i > 0
}

// Bool reads a flag field.
func (f *Fields) Bool() bool {
	switch f.word() {
	case "0":
		return false
	case "1":
		return true
	}
	f.bad = true
	return false
}

// Failed reports whether a field read so far was missing or malformed:
// a decoder looping over a count it read can stop there.
func (f *Fields) Failed() bool { return f.bad }

// OK reports whether every field read was well formed and none is left.
func (f *Fields) OK() bool { return !f.bad && f.rest == "" }

// Decode decodes the records of data, which starts with magic, into a map
// by each record's key: record returns the key and the value of one line,
// and ok false for a malformed one. A malformed line, a repeated key or
// another magic is ErrFormat.
func Decode[T any](data []byte, magic string, record func(line string) (key string, v T, ok bool)) (map[string]T, error) {
	s, ok := strings.CutPrefix(string(data), magic)
	if !ok {
		return nil, ErrFormat
	}
	out := map[string]T{}
	for line := range strings.SplitSeq(s, "\n") {
		if line == "" {
			continue
		}
		k, v, ok := record(line)
		if !ok {
			return nil, ErrFormat
		}
		if _, dup := out[k]; dup {
			return nil, ErrFormat
		}
		out[k] = v
	}
	return out, nil
}

// Loader is where a source's cache entries are loaded from (thermal.Cache).
type Loader interface {
	Load(key string) ([]byte, bool)
}

// Load returns the cache entry under key decoded with decode; the zero
// value when c is nil, the entry is absent, or it does not decode (a
// corrupt entry is learnt afresh, never a failure).
func Load[T any](c Loader, key string, decode func([]byte) (T, error)) T {
	var zero T
	if c == nil {
		return zero
	}
	data, ok := c.Load(key)
	if !ok {
		return zero
	}
	v, err := decode(data)
	if err != nil {
		return zero
	}
	return v
}
