package state

// A hand-written JSON codec for File, without reflection.
//
// Each beat is a fresh process, so whatever a package does on first use is
// paid every 30 s. encoding/json's first Unmarshal and MarshalIndent of a
// File build its reflection caches (the fields of File and of every type
// it embeds, an encoder and a decoder per type) and page in the code that
// does it. Measured in fresh processes (perf stat, one LoadFile and one
// SaveFile of a healthy host's state), that cost 0.27-0.46 ms of CPU time
// over the bare process; this codec costs under 15 µs. It writes exactly
// the bytes json.MarshalIndent(f, "", "  ") writes and reads what
// json.Unmarshal reads, with the same result and the same failures;
// FuzzCodec holds it to encoding/json as the oracle. The file format is
// unchanged: a state written by either is read by both.
//
// A field added to File (or to a type it holds: alert.Breach,
// notify.Event, pipeline.History, …) must be added here too, or it is
// neither written nor read; TestCodecKnowsEveryField fails until it is.

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
)

// encodeFile returns f as json.MarshalIndent(f, "", "  ") does, followed
// by a newline, or the error MarshalIndent would return (a temperature
// that is not finite, a time that RFC 3339 cannot express).
func encodeFile(f *File) ([]byte, error) {
	e := encoder{b: make([]byte, 0, 2048)}
	e.file(f)
	if e.err != nil {
		return nil, e.err
	}
	return append(e.b, '\n'), nil
}

// encoder appends indented JSON to b: two spaces a level, members and
// elements one a line, empty arrays and objects as [] and {}.
type encoder struct {
	b     []byte
	depth int
	// empty is set while the object or array last opened has nothing in
	// it yet.
	empty bool
	err   error
}

// fail records the first error; the bytes are then thrown away.
func (e *encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// open starts an object ('{') or an array ('[').
func (e *encoder) open(c byte) {
	e.b = append(e.b, c)
	e.depth++
	e.empty = true
}

// close ends the object or array last opened with c ('}' or ']').
func (e *encoder) close(c byte) {
	e.depth--
	if !e.empty {
		e.newline()
	}
	e.b = append(e.b, c)
	e.empty = false
}

// newline starts a line indented to the current depth.
func (e *encoder) newline() {
	e.b = append(e.b, '\n')
	for range e.depth {
		e.b = append(e.b, "  "...)
	}
}

// elem starts an element of the open array.
func (e *encoder) elem() {
	if !e.empty {
		e.b = append(e.b, ',')
	}
	e.empty = false
	e.newline()
}

// key starts the member name of the open object.
func (e *encoder) key(name string) {
	e.elem()
	e.b = appendString(e.b, name)
	e.b = append(e.b, ':', ' ')
}

// file writes f's members in encoding/json's order: the fields of the
// embedded types where they are embedded, omitempty and omitzero fields
// only when set.
func (e *encoder) file(f *File) {
	e.open('{')
	e.key("version")
	e.int(int64(f.Version))
	e.key("breaches")
	encodeSlice(e, f.Breaches, func(e *encoder, b **alert.Breach) { e.breach(*b) })
	if len(f.Outbox) > 0 {
		e.key("outbox")
		encodeSlice(e, f.Outbox, (*encoder).pending)
	}
	if f.ConfigSHA256 != "" {
		e.key("config_sha256")
		e.string(f.ConfigSHA256)
	}
	if !f.Swept.IsZero() {
		e.key("swept")
		e.time(f.Swept)
	}
	if f.NoSensors {
		e.key("no_sensors")
		e.bool(true)
	}
	if len(f.RateLimits) > 0 {
		e.key("rate_limits")
		encodeMap(e, f.RateLimits, (*encoder).time)
	}
	if f.PushFailures != 0 {
		e.key("push_failures")
		e.b = strconv.AppendUint(e.b, f.PushFailures, 10)
	}
	if len(f.Spinning) > 0 {
		e.key("spinning_fans")
		encodeMap(e, f.Spinning, (*encoder).bool)
	}
	if len(f.Throttles) > 0 {
		e.key("throttle_counts")
		encodeMap(e, f.Throttles, (*encoder).int)
	}
	e.close('}')
}

// breach writes one breach.
func (e *encoder) breach(b *alert.Breach) {
	if b == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.open('{')
	e.sensor(b.SensorID)
	e.key("level")
	e.string(string(b.Level))
	e.key("pending_since")
	e.time(b.PendingSince)
	if !b.FiringSince.IsZero() {
		e.key("firing_since")
		e.time(b.FiringSince)
	}
	if !b.LastSent.IsZero() {
		e.key("last_sent")
		e.time(b.LastSent)
	}
	e.key("last_seen")
	e.time(b.LastSeen)
	e.key("celsius")
	e.float(b.Celsius)
	e.key("threshold")
	e.float(b.Threshold)
	if b.Unsent {
		e.key("unsent")
		e.bool(true)
	}
	e.close('}')
}

// sensor writes the members of an embedded thermal.SensorID.
func (e *encoder) sensor(id thermal.SensorID) {
	e.key("source")
	e.string(id.Source)
	e.key("chip")
	e.string(id.Chip)
	e.key("sensor")
	e.string(id.Sensor)
}

// pending writes one event of the outbox: notify.Event's members, then
// Pending's own.
func (e *encoder) pending(p *Pending) {
	e.open('{')
	e.key("event_id")
	e.string(p.ID)
	e.key("time")
	e.time(p.Time)
	e.sensor(p.SensorID)
	e.key("level")
	e.string(string(p.Level))
	e.key("celsius")
	e.float(p.Celsius)
	e.key("threshold")
	e.float(p.Threshold)
	if p.Cleared {
		e.key("cleared")
		e.bool(true)
	}
	e.key("message")
	e.string(p.Message)
	if len(p.Readings) > 0 {
		e.key("readings")
		encodeMap(e, p.Readings, (*encoder).float)
	}
	if len(p.Device) > 0 {
		e.key("device")
		encodeMap(e, p.Device, (*encoder).string)
	}
	if p.Kind != "" {
		e.key("kind")
		e.string(string(p.Kind))
	}
	if !p.Lease.IsZero() {
		e.key("lease")
		e.time(p.Lease)
	}
	if p.Attempts != 0 {
		e.key("attempts")
		e.int(int64(p.Attempts))
	}
	e.close('}')
}

// encodeSlice writes s as an array, each element with value; null for a
// nil slice, [] for an empty one, as encoding/json does.
func encodeSlice[T any](e *encoder, s []T, value func(*encoder, *T)) {
	if s == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.open('[')
	for i := range s {
		e.elem()
		value(e, &s[i])
	}
	e.close(']')
}

// encodeMap writes m as an object, its keys sorted as encoding/json sorts
// them (byte-wise).
func encodeMap[M ~map[string]V, V any](e *encoder, m M, value func(*encoder, V)) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.open('{')
	for _, k := range keys {
		e.key(k)
		value(e, m[k])
	}
	e.close('}')
}

// string writes s quoted and escaped as encoding/json does.
func (e *encoder) string(s string) { e.b = appendString(e.b, s) }

// bool writes true or false.
func (e *encoder) bool(v bool) { e.b = strconv.AppendBool(e.b, v) }

// int writes n in decimal.
func (e *encoder) int(n int64) { e.b = strconv.AppendInt(e.b, n, 10) }

// float writes f as encoding/json writes a float64: like ES6's
// Number.prototype.toString, the shortest decimal that reads back as f, in
// 'e' notation below 1e-6 and from 1e21 (with no leading zero in the
// exponent). NaN and the infinities are an error.
func (e *encoder) float(f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		e.fail(errors.New("json: unsupported value: " + strconv.FormatFloat(f, 'g', -1, 64)))
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b := strconv.AppendFloat(e.b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-07 → e-7
		b = b[:n-1]
	}
	e.b = b
}

// time writes t as time.Time.MarshalJSON does: RFC 3339 with as many
// digits of the second as it needs. A time it refuses (a year outside
// 0-9999, an offset of a day or more) is an error.
func (e *encoder) time(t time.Time) {
	b, err := t.AppendText(append(e.b, '"'))
	if err != nil {
		_, err = t.MarshalJSON() // the error encoding/json reports
		e.fail(errors.New("json: error calling MarshalJSON for type time.Time: " + err.Error()))
		return
	}
	e.b = append(b, '"')
}

// appendString appends s quoted as encoding/json quotes a string (with
// HTML escaping): ", \ and control characters escaped, <, > and & as
// \u003c, \u003e and \u0026, U+2028 and U+2029 as \u2028 and \u2029, and
// each byte of invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe(c) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// htmlSafe reports whether the ASCII byte c is written as it is.
func htmlSafe(c byte) bool {
	return c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// maxDepth is encoding/json's bound on nesting: deeper input is an error.
const maxDepth = 10000

// decodeFile reads data into f as json.Unmarshal(data, f) does: it fails
// where Unmarshal fails (invalid JSON, nesting deeper than 10000, a value
// of the wrong type, a number out of range, a time that is not RFC 3339),
// and otherwise leaves f as Unmarshal would.
//
// Keys are matched to fields as encoding/json matches them: exactly, or
// else without regard to case (Unicode simple folding: "Version",
// "VERSION", even "ſource" with a long s). This program writes only the
// exact names, but a file written by hand, or by a tool that folds case,
// is read as it always was. Unknown keys are skipped; of a key given
// twice, the last value wins, merged into the first as Unmarshal merges:
// an object into the struct or map already there, an array element by
// element into the slice already there. A null leaves a string, number,
// bool, time or struct as it is, and sets a slice, map or pointer to nil.
// No two names of a struct's fields fold to the same, so the order the
// names are tried in does not matter. Unlike Unmarshal, which checks the
// syntax of the whole input first, decodeFile may leave f partly filled
// when it fails; LoadFile then throws f away.
func decodeFile(data []byte, f *File) error {
	d := decoder{data: data}
	if err := d.file(f); err != nil {
		return err
	}
	if d.peek(); d.off < len(d.data) {
		return d.errorf("after the top-level value")
	}
	return nil
}

// decoder reads JSON from data, at off; depth is how many objects and
// arrays are open.
type decoder struct {
	data  []byte
	off   int
	depth int
}

// decodeError says what was wrong at an offset of the input.
type decodeError struct {
	off int
	msg string
}

func (e *decodeError) Error() string {
	return "byte " + strconv.Itoa(e.off) + ": " + e.msg
}

// errorf returns an error at the current offset: the byte there, then
// what was wrong.
func (d *decoder) errorf(msg string) error {
	if d.off >= len(d.data) {
		return &decodeError{d.off, "unexpected end of input"}
	}
	return &decodeError{d.off, "invalid character " + strconv.QuoteRune(rune(d.data[d.off])) + " " + msg}
}

// mismatch returns the error for a value of the wrong type.
func (d *decoder) mismatch(want string) error {
	return d.errorf("where " + want + " is expected")
}

// peek skips whitespace and returns the next byte, 0 at the end.
func (d *decoder) peek() byte {
	for ; d.off < len(d.data); d.off++ {
		switch c := d.data[d.off]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// digit reports whether the byte at off is a decimal digit.
func (d *decoder) digit() bool {
	return d.off < len(d.data) && '0' <= d.data[d.off] && d.data[d.off] <= '9'
}

// digits skips the decimal digits at off; there must be one at least.
func (d *decoder) digits() error {
	if !d.digit() {
		return d.errorf("in numeric literal")
	}
	for d.digit() {
		d.off++
	}
	return nil
}

// number reads a number at off and returns its bytes; it checks JSON's
// grammar, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and leaves the
// value to strconv.
func (d *decoder) number() ([]byte, error) {
	start := d.off
	if d.data[d.off] == '-' {
		d.off++
	}
	if d.off < len(d.data) && d.data[d.off] == '0' {
		d.off++
	} else if err := d.digits(); err != nil {
		return nil, err
	}
	if d.off < len(d.data) && d.data[d.off] == '.' {
		d.off++
		if err := d.digits(); err != nil {
			return nil, err
		}
	}
	if d.off < len(d.data) && (d.data[d.off] == 'e' || d.data[d.off] == 'E') {
		d.off++
		if d.off < len(d.data) && (d.data[d.off] == '+' || d.data[d.off] == '-') {
			d.off++
		}
		if err := d.digits(); err != nil {
			return nil, err
		}
	}
	return d.data[start:d.off], nil
}

// word reads the literal w (true, false or null) at off.
func (d *decoder) word(w string) error {
	for i := range len(w) {
		if d.off >= len(d.data) || d.data[d.off] != w[i] {
			return d.errorf("in literal " + w)
		}
		d.off++
	}
	return nil
}

// null reads null.
func (d *decoder) null() error { return d.word("null") }

// str reads a string at off and returns its bytes, quotes included, as
// they are (see unquote); it checks the escapes and refuses control
// characters, and lets any other byte through, as encoding/json does.
func (d *decoder) str() ([]byte, error) {
	start := d.off
	for d.off++; d.off < len(d.data); {
		switch c := d.data[d.off]; {
		case c == '"':
			d.off++
			return d.data[start:d.off], nil
		case c == '\\':
			if err := d.escape(); err != nil {
				return nil, err
			}
		case c < ' ':
			return nil, d.errorf("in string literal")
		default:
			d.off++
		}
	}
	return nil, d.errorf("")
}

// escape skips the escape at off: \ and one of "\/bfnrt, or \u and four
// hexadecimal digits.
func (d *decoder) escape() error {
	d.off++
	if d.off >= len(d.data) {
		return d.errorf("")
	}
	switch d.data[d.off] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		d.off++
		return nil
	case 'u':
		for range 4 {
			d.off++
			if d.off >= len(d.data) || unhex(d.data[d.off]) < 0 {
				return d.errorf("in \\u hexadecimal character escape")
			}
		}
		d.off++
		return nil
	}
	return d.errorf("in string escape code")
}

// enter reads the '{' or '[' at off, one level deeper.
func (d *decoder) enter() error {
	if d.depth++; d.depth > maxDepth {
		return d.errorf("exceeds the maximum depth")
	}
	d.off++
	return nil
}

// object reads an object at off, calling member with each key, unquoted,
// and the offset at its value, which member must read.
func (d *decoder) object(member func(key []byte) error) error {
	if err := d.enter(); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.off++
		d.depth--
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.errorf("looking for beginning of object key string")
		}
		raw, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.errorf("after object key")
		}
		d.off++
		if err := member(unquote(raw)); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.off++
		case '}':
			d.off++
			d.depth--
			return nil
		default:
			return d.errorf("after object key:value pair")
		}
	}
}

// array reads an array at off, calling elem with the index of each
// element, which elem must read; it returns the number of elements.
func (d *decoder) array(elem func(i int) error) (int, error) {
	if err := d.enter(); err != nil {
		return 0, err
	}
	if d.peek() == ']' {
		d.off++
		d.depth--
		return 0, nil
	}
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return i, err
		}
		switch d.peek() {
		case ',':
			d.off++
		case ']':
			d.off++
			d.depth--
			return i + 1, nil
		default:
			return i, d.errorf("after array element")
		}
	}
}

// skip reads any value, checking it, and throws it away: the value of an
// unknown key.
func (d *decoder) skip() error {
	switch c := d.peek(); {
	case c == '{':
		return d.object(func([]byte) error { return d.skip() })
	case c == '[':
		_, err := d.array(func(int) error { return d.skip() })
		return err
	case c == '"':
		_, err := d.str()
		return err
	case c == '-' || '0' <= c && c <= '9':
		_, err := d.number()
		return err
	case c == 't':
		return d.word("true")
	case c == 'f':
		return d.word("false")
	case c == 'n':
		return d.null()
	}
	return d.errorf("looking for beginning of value")
}

// file reads a File: an object, or null, which leaves f as it is.
func (d *decoder) file(f *File) error {
	switch d.peek() {
	case 'n':
		return d.null()
	case '{':
		return d.object(func(key []byte) error { return d.fileMember(f, key) })
	}
	return d.mismatch("an object")
}

// fileMember reads the value of key into f.
func (d *decoder) fileMember(f *File, key []byte) error {
	switch {
	case keyIs(key, "version"):
		return decodeInt(d, &f.Version, strconv.IntSize)
	case keyIs(key, "breaches"):
		return decodeSlice(d, &f.Breaches, (*decoder).breach)
	case keyIs(key, "outbox"):
		return decodeSlice(d, &f.Outbox, (*decoder).pending)
	case keyIs(key, "config_sha256"):
		return decodeString(d, &f.ConfigSHA256)
	case keyIs(key, "swept"):
		return d.time(&f.Swept)
	case keyIs(key, "no_sensors"):
		return d.bool(&f.NoSensors)
	case keyIs(key, "rate_limits"):
		return decodeMap(d, &f.RateLimits, (*decoder).time)
	case keyIs(key, "push_failures"):
		return d.uint64(&f.PushFailures)
	case keyIs(key, "spinning_fans"):
		return decodeMap(d, &f.Spinning, (*decoder).bool)
	case keyIs(key, "throttle_counts"):
		return decodeMap(d, &f.Throttles, (*decoder).int64)
	}
	return d.skip()
}

// breach reads a breach into *b, allocating one where *b is nil; null
// sets *b to nil.
func (d *decoder) breach(b **alert.Breach) error {
	switch d.peek() {
	case 'n':
		*b = nil
		return d.null()
	case '{':
		if *b == nil {
			*b = new(alert.Breach)
		}
		v := *b
		return d.object(func(key []byte) error { return d.breachMember(v, key) })
	}
	return d.mismatch("an object")
}

// breachMember reads the value of key into b.
func (d *decoder) breachMember(b *alert.Breach, key []byte) error {
	if ok, err := d.sensorMember(&b.SensorID, key); ok {
		return err
	}
	switch {
	case keyIs(key, "level"):
		return decodeString(d, &b.Level)
	case keyIs(key, "pending_since"):
		return d.time(&b.PendingSince)
	case keyIs(key, "firing_since"):
		return d.time(&b.FiringSince)
	case keyIs(key, "last_sent"):
		return d.time(&b.LastSent)
	case keyIs(key, "last_seen"):
		return d.time(&b.LastSeen)
	case keyIs(key, "celsius"):
		return d.float(&b.Celsius)
	case keyIs(key, "threshold"):
		return d.float(&b.Threshold)
	case keyIs(key, "unsent"):
		return d.bool(&b.Unsent)
	}
	return d.skip()
}

// sensorMember reads the value of key into id when key names one of its
// fields, and reports whether it did.
func (d *decoder) sensorMember(id *thermal.SensorID, key []byte) (bool, error) {
	switch {
	case keyIs(key, "source"):
		return true, decodeString(d, &id.Source)
	case keyIs(key, "chip"):
		return true, decodeString(d, &id.Chip)
	case keyIs(key, "sensor"):
		return true, decodeString(d, &id.Sensor)
	}
	return false, nil
}

// pending reads an event of the outbox into p; null leaves p as it is.
func (d *decoder) pending(p *Pending) error {
	switch d.peek() {
	case 'n':
		return d.null()
	case '{':
		return d.object(func(key []byte) error { return d.pendingMember(p, key) })
	}
	return d.mismatch("an object")
}

// pendingMember reads the value of key into p.
func (d *decoder) pendingMember(p *Pending, key []byte) error {
	if ok, err := d.sensorMember(&p.SensorID, key); ok {
		return err
	}
	switch {
	case keyIs(key, "event_id"):
		return decodeString(d, &p.ID)
	case keyIs(key, "time"):
		return d.time(&p.Time)
	case keyIs(key, "level"):
		return decodeString(d, &p.Level)
	case keyIs(key, "celsius"):
		return d.float(&p.Celsius)
	case keyIs(key, "threshold"):
		return d.float(&p.Threshold)
	case keyIs(key, "cleared"):
		return d.bool(&p.Cleared)
	case keyIs(key, "message"):
		return decodeString(d, &p.Message)
	case keyIs(key, "readings"):
		return decodeMap(d, &p.Readings, (*decoder).float)
	case keyIs(key, "device"):
		return decodeMap(d, &p.Device, decodeString[string])
	case keyIs(key, "kind"):
		return decodeString(d, &p.Kind)
	case keyIs(key, "lease"):
		return d.time(&p.Lease)
	case keyIs(key, "attempts"):
		return decodeInt(d, &p.Attempts, strconv.IntSize)
	}
	return d.skip()
}

// decodeSlice reads the array at off into *s as encoding/json does: each
// element into the one already at its index (reslicing within the
// capacity, or growing as append does), the slice then cut to the
// elements read, or made empty (not nil) for []; null sets *s to nil.
func decodeSlice[T any](d *decoder, s *[]T, elem func(*decoder, *T) error) error {
	switch d.peek() {
	case 'n':
		*s = nil
		return d.null()
	case '[':
	default:
		return d.mismatch("an array")
	}
	v := *s
	n, err := d.array(func(i int) error {
		if i >= cap(v) {
			var zero T
			v = append(v, zero)
		} else if i >= len(v) {
			v = v[:i+1]
		}
		return elem(d, &v[i])
	})
	switch {
	case n == 0 && err == nil:
		v = []T{}
	case n < len(v):
		v = v[:n]
	}
	*s = v
	return err
}

// decodeMap reads an object at off into *m, creating the map where *m is
// nil and adding to the one there otherwise; each value is read into a
// zero V. null sets *m to nil.
func decodeMap[M ~map[string]V, V any](d *decoder, m *M, value func(*decoder, *V) error) error {
	switch d.peek() {
	case 'n':
		*m = nil
		return d.null()
	case '{':
	default:
		return d.mismatch("an object")
	}
	if *m == nil {
		*m = M{}
	}
	mv := *m
	return d.object(func(key []byte) error {
		var v V
		err := value(d, &v)
		mv[string(key)] = v
		return err
	})
}

// decodeString reads a string into *s; null leaves *s as it is.
func decodeString[S ~string](d *decoder, s *S) error {
	switch d.peek() {
	case 'n':
		return d.null()
	case '"':
		raw, err := d.str()
		if err != nil {
			return err
		}
		*s = S(unquote(raw))
		return nil
	}
	return d.mismatch("a string")
}

// bool reads true or false into *v; null leaves *v as it is.
func (d *decoder) bool(v *bool) error {
	switch d.peek() {
	case 'n':
		return d.null()
	case 't':
		*v = true
		return d.word("true")
	case 'f':
		*v = false
		return d.word("false")
	}
	return d.mismatch("true or false")
}

// num reads a number and returns its bytes, or nil for null.
func (d *decoder) num() ([]byte, error) {
	switch c := d.peek(); {
	case c == 'n':
		return nil, d.null()
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	}
	return nil, d.mismatch("a number")
}

// decodeInt reads an integer that fits in bits bits into *n; a fraction,
// an exponent or a value out of range is an error, as in encoding/json.
// null leaves *n as it is.
func decodeInt[T int | int64](d *decoder, n *T, bits int) error {
	b, err := d.num()
	if b == nil || err != nil {
		return err
	}
	v, err := strconv.ParseInt(string(b), 10, bits)
	if err != nil {
		return &decodeError{d.off, "number " + string(b) + " is not an integer of " + strconv.Itoa(bits) + " bits"}
	}
	*n = T(v)
	return nil
}

// int64 reads an int64 into *n.
func (d *decoder) int64(n *int64) error { return decodeInt(d, n, 64) }

// uint64 reads a uint64 into *n: a negative number is an error, even -0.
func (d *decoder) uint64(n *uint64) error {
	b, err := d.num()
	if b == nil || err != nil {
		return err
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return &decodeError{d.off, "number " + string(b) + " is not an unsigned integer"}
	}
	*n = v
	return nil
}

// float reads a float64 into *f: beyond its range is an error (encoding/json
// does not read ±Inf). null leaves *f as it is.
func (d *decoder) float(f *float64) error {
	b, err := d.num()
	if b == nil || err != nil {
		return err
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return &decodeError{d.off, "number " + string(b) + " overflows a float64"}
	}
	*f = v
	return nil
}

// time reads a time as encoding/json does, through time.Time.UnmarshalJSON,
// which parses the string's bytes as they are, escapes included (a time
// with an escape in it is refused). null leaves *t as it is.
func (d *decoder) time(t *time.Time) error {
	switch d.peek() {
	case 'n':
		return d.null()
	case '"':
		raw, err := d.str()
		if err != nil {
			return err
		}
		return t.UnmarshalJSON(raw)
	}
	return d.mismatch("a time")
}

// unquote returns the text of the string raw (quotes included, checked by
// str) as encoding/json reads it: escapes resolved, and each byte of
// invalid UTF-8 and each lone surrogate escape (\ud800) replaced by
// U+FFFD. Where there is nothing to replace, it returns raw's own bytes.
func unquote(raw []byte) []byte {
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return s
	}
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for r := 0; r < len(s); {
		switch c := s[r]; {
		case c == '\\':
			var n int
			b, n = appendEscape(b, s[r:])
			r += n
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return b
}

// appendEscape appends what the escape at the start of s stands for, and
// returns how many bytes of s it took: a \u escape of a high surrogate
// followed by one of a low surrogate is one character.
func appendEscape(b, s []byte) ([]byte, int) {
	switch c := s[1]; c {
	case 'b':
		return append(b, '\b'), 2
	case 'f':
		return append(b, '\f'), 2
	case 'n':
		return append(b, '\n'), 2
	case 'r':
		return append(b, '\r'), 2
	case 't':
		return append(b, '\t'), 2
	case 'u':
		r := hex4(s[2:])
		if utf16.IsSurrogate(r) {
			if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
				if pair := utf16.DecodeRune(r, hex4(s[8:])); pair != unicode.ReplacementChar {
					return utf8.AppendRune(b, pair), 12
				}
			}
			r = unicode.ReplacementChar
		}
		return utf8.AppendRune(b, r), 6
	default: // " \ /
		return append(b, c), 2
	}
}

// hex4 returns the value of the four hexadecimal digits that s starts
// with, or -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		v := unhex(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | v
	}
	return r
}

// unhex returns the value of the hexadecimal digit c, or -1.
func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// keyIs reports whether the object key names the field name (lower-case
// ASCII) as encoding/json matches a key to a field: the exact name, or
// else one equal to it under Unicode simple case folding (encoding/json's
// foldName: "Chip", "CHIP", and "ſ" (U+017F) and "K" (U+212A) for s and
// k).
func keyIs(key []byte, name string) bool {
	if string(key) == name {
		return true
	}
	j := 0
	for i := 0; i < len(key); j++ {
		c := key[i]
		if c < utf8.RuneSelf {
			i++
		} else {
			r, size := utf8.DecodeRune(key[i:])
			i += size
			if r = foldRune(r); r >= utf8.RuneSelf {
				return false
			}
			c = byte(r)
		}
		if j >= len(name) || upper(c) != upper(name[j]) {
			return false
		}
	}
	return j == len(name)
}

// upper returns the ASCII byte c in upper case.
func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// foldRune returns the smallest rune of r's simple case folding orbit, as
// encoding/json folds a key's non-ASCII runes.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
