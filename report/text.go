package report

import (
	"bufio"
	"math"
	"strconv"

	"github.com/thermal-heartbeat/thermal"
)

// maxFloat is the most bytes appendFloat writes.
const maxFloat = 32

// preRoom is the room for the start of a line (out.pre) that is made
// ahead: a longer one is allocated.
const preRoom = 128

// out hands the text to a bufio.Writer in blocks: lines are appended to
// the free end of its buffer (AvailableBuffer) and written once the room
// there runs out, not a call per line. A line that does not fit the buffer
// at all is appended to a copy, and written all the same.
type out struct {
	buf *bufio.Writer
	b   []byte // the block being appended to
	pre []byte // what the lines of the current run start with
}

// fit returns block b with room for n more bytes: when it is short of
// room, b is handed to buf first and a new block begun.
func (o *out) fit(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		o.b = b
		o.grow(n)
		b = o.b
	}
	return b
}

// grow is fit when o.b is short of room.
func (o *out) grow(n int) {
	o.flush()
	if o.buf.Available() < n {
		o.buf.Flush() // an error sticks: the final Flush reports it
	}
	o.b = o.buf.AvailableBuffer()
}

// flush hands the block to buf.
func (o *out) flush() {
	o.buf.Write(o.b)
	o.b = nil
}

// header writes family f's # HELP and # TYPE lines.
func (o *out) header(f *family) {
	o.b = appendHeader(o.fit(o.b, 2*len(f.name)+2*len(f.help)+32), f)
}

// line writes a sample line: pre, frag, then the value.
func (o *out) line(frag []byte, v float64) {
	o.b = o.appendLine(o.fit(o.b, len(o.pre)+len(frag)+maxFloat+1), frag, v)
}

// appendLine appends a sample line to b: pre, frag, then the value.
func (o *out) appendLine(b, frag []byte, v float64) []byte {
	return append(appendFloat(o.appendStart(b, frag), v), '\n')
}

// appendStart appends the start of a sample line to b: pre, then frag.
func (o *out) appendStart(b, frag []byte) []byte {
	return append(append(b, o.pre...), frag...)
}

// appendHeader appends a family's # HELP and # TYPE lines.
func appendHeader(b []byte, f *family) []byte {
	b = append(b, "# HELP "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = appendEscaped(b, f.help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, f.name...)
	if f.counter {
		return append(b, " counter\n"...)
	}
	return append(b, " gauge\n"...)
}

// escapeString returns s escaped as a label value: s itself when nothing
// in it needs escaping.
func escapeString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '\n' || c == '"' {
			return string(appendEscaped(nil, s, true))
		}
	}
	return s
}

// appendEscaped appends s as the text format escapes HELP text (backslash
// and newline) and, with quote, label values (also the double quote).
func appendEscaped(b []byte, s string, quote bool) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '\\':
			rep = `\\`
		case '\n':
			rep = `\n`
		case '"':
			if !quote {
				continue
			}
			rep = `\"`
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, rep...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// appendFloat formats a sample value as the text format writes it:
// strconv's shortest 'g' form.
func appendFloat(b []byte, f float64) []byte {
	switch f {
	case 0: // an alert, a flag, -0 too
		return append(b, '0')
	case 1:
		return append(b, '1')
	}
	if math.Abs(f) < 1e6 { // not NaN nor infinite
		m := f * 1000
		if i := int64(m); float64(i) == m && float64(i)/1000 == f {
			return appendMilli(b, i)
		}
	}
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendCelsius appends m millidegrees in degrees, as appendFloat appends
// thermal.Celsius(m).
func appendCelsius(b []byte, m int64) []byte {
	if -1e9 < m && m < 1e9 {
		return appendMilli(b, m)
	}
	return appendFloat(b, thermal.Celsius(m))
}

// appendMilli appends m/1000 as strconv's shortest 'g' form writes the
// nearest float64, for |m| < 1e9: that float is m/1000's only float with
// as few digits, and below 1e6 the form has no exponent. Most samples
// are such: millidegrees, whole RPM, 0 and 1.
func appendMilli(b []byte, m int64) []byte {
	u := uint64(m)
	if m < 0 {
		b = append(b, '-')
		u = -u
	}
	switch q := u / 1000; {
	case q < 10:
		b = append(b, byte('0'+q))
	case q < 100:
		b = append(b, byte('0'+q/10), byte('0'+q%10))
	default:
		b = strconv.AppendUint(b, q, 10)
	}
	frac := u % 1000
	if frac == 0 {
		return b
	}
	d1, d2, d3 := byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10)
	switch {
	case d3 != '0':
		return append(b, '.', d1, d2, d3)
	case d2 != '0':
		return append(b, '.', d1, d2)
	}
	return append(b, '.', d1)
}
