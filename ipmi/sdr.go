package ipmi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// SDR record types.
const (
	recordFull    = 0x01
	recordCompact = 0x02
)

// Sensor units (IPMI 2.0 table 43-15) read here.
const (
	unitCelsius    = 1
	unitFahrenheit = 2
	unitKelvin     = 3
	unitRPM        = 18
)

// Record is one sensor's SDR, decoded: what it is, how its reading is
// converted, and its thresholds once learnt.
type Record struct {
	ID     uint16
	Type   uint8 // 1 full, 2 compact
	Owner  uint8
	LUN    uint8
	Number uint8
	// Threshold: the event/reading type is 01h, a threshold sensor.
	Threshold bool
	Unit      uint8
	Name      string
	// Conversion (full records).
	Format uint8 // analog data format: 0 unsigned, 1 one's, 2 two's complement, 3 none
	Linear uint8 // linearisation
	M      int16
	B      int16
	BExp   int8
	RExp   int8
	// ReadableThresholds is the record's readable threshold mask: bit 0
	// lower non-critical … bit 5 upper non-recoverable.
	ReadableThresholds uint8
	// Thresholds holds the raw thresholds Get Sensor Thresholds returned,
	// by the same bits (valid where Have has the bit).
	Have       uint8
	Thresholds [6]uint8
}

// Threshold bits, as in the masks and Get Sensor Thresholds.
const (
	LowerNonCritical = iota
	LowerCritical
	LowerNonRecoverable
	UpperNonCritical
	UpperCritical
	UpperNonRecoverable
)

// ErrShort is returned for a record shorter than its type's layout.
var ErrShort = errors.New("ipmi: record too short")

// ParseRecord decodes one SDR (header and body). ok is false for record
// types that describe no sensor (entity associations, locators, OEM),
// which are skipped.
func ParseRecord(b []byte) (r Record, ok bool, err error) {
	if len(b) < 5 {
		return Record{}, false, ErrShort
	}
	r.ID, r.Type = binary.LittleEndian.Uint16(b), b[3]
	if r.Type != recordFull && r.Type != recordCompact {
		return r, false, nil
	}
	if int(b[4])+5 > len(b) {
		return r, false, ErrShort
	}
	b = b[:5+int(b[4])]
	// Bytes are numbered from 1 in the specification (table 43-1): byte n
	// is b[n-1].
	at := func(n int) uint8 { return b[n-1] }
	minLen, idAt := 48, 48
	if r.Type == recordCompact {
		minLen, idAt = 32, 32
	}
	if len(b) < minLen {
		return r, false, ErrShort
	}
	r.Owner, r.LUN, r.Number = at(6), at(7)&0x3, at(8)
	r.Threshold = at(14) == 0x01
	r.Unit = at(22)
	r.Format = at(21) >> 6
	r.ReadableThresholds = at(19) & 0x3F
	if at(12)>>2&0x3 == 0 || at(12)>>2&0x3 == 3 {
		r.ReadableThresholds = 0 // no thresholds, or fixed and unreadable
	}
	r.Name = idString(b[idAt-1:])
	if r.Type == recordFull {
		r.Linear = at(24) & 0x7F
		r.M = tenBit(at(25), at(26))
		r.B = tenBit(at(27), at(28))
		r.RExp, r.BExp = fourBit(at(30)>>4), fourBit(at(30))
	}
	return r, true, nil
}

// idString decodes the ID string: a type/length byte, then the bytes (8-bit
// ASCII + Latin-1, the type every BMC uses for sensor names).
func idString(b []byte) string {
	n := int(b[0] & 0x1F)
	if n > len(b)-1 {
		n = len(b) - 1
	}
	return strings.TrimRight(strings.TrimSpace(string(b[1:1+n])), "\x00")
}

// tenBit is a 10-bit two's complement value: 8 low bits, and the top two
// in bits 7:6 of the next byte.
func tenBit(lo, hi uint8) int16 {
	v := int16(lo) | int16(hi>>6)<<8
	if v&0x200 != 0 {
		v -= 0x400
	}
	return v
}

func fourBit(v uint8) int8 {
	v &= 0xF
	if v&0x8 != 0 {
		return int8(v) - 16
	}
	return int8(v)
}

// Supported reports whether the reading can be converted: a threshold
// sensor of a full record with an analog reading and a linearisation of
// the specification's (not OEM non-linear, 70h-7Fh). why says otherwise.
func (r Record) Supported() (ok bool, why string) {
	switch {
	case !r.Threshold:
		return false, "discrete sensor"
	case r.Type == recordCompact:
		return false, "compact record: no conversion factors"
	case r.Format == 3:
		return false, "no analog reading"
	case r.Linear > 11:
		return false, fmt.Sprintf("non-linear sensor (OEM linearisation %#02x)", r.Linear)
	case r.Owner != bmcAddress:
		return false, fmt.Sprintf("owned by controller %#02x behind the BMC (not bridged)", r.Owner)
	}
	return true, ""
}

// Convert turns a raw reading (or threshold) into the record's unit.
func (r Record) Convert(raw uint8) float64 {
	var x float64
	switch r.Format {
	case 1: // one's complement
		if raw&0x80 != 0 {
			x = -float64(^raw & 0x7F)
		} else {
			x = float64(raw)
		}
	case 2:
		x = float64(int8(raw))
	default:
		x = float64(raw)
	}
	y := (float64(r.M)*x + float64(r.B)*math.Pow(10, float64(r.BExp))) * math.Pow(10, float64(r.RExp))
	switch r.Linear {
	case 1:
		y = math.Log(y)
	case 2:
		y = math.Log10(y)
	case 3:
		y = math.Log2(y)
	case 4:
		y = math.Exp(y)
	case 5:
		y = math.Pow(10, y)
	case 6:
		y = math.Pow(2, y)
	case 7:
		y = 1 / y
	case 8:
		y = y * y
	case 9:
		y = y * y * y
	case 10:
		y = math.Sqrt(y)
	case 11:
		y = math.Cbrt(y)
	}
	return y
}

// Celsius converts a temperature in the record's unit to °C.
func (r Record) Celsius(v float64) float64 {
	switch r.Unit {
	case unitFahrenheit:
		return (v - 32) * 5 / 9
	case unitKelvin:
		return v - 273.15
	}
	return v
}

// Reading is a Get Sensor Reading response.
type Reading struct {
	Raw uint8
	// Unavailable: "reading/state unavailable" set, or scanning disabled;
	// the value means nothing.
	Unavailable bool
	// Status is the threshold comparison status (bit n: at or past
	// threshold n of the bits above).
	Status uint8
}

// ParseReading decodes Get Sensor Reading's response data (after the
// completion code): the reading, then flags (bit 6 scanning enabled, bit
// 5 unavailable), then the threshold status (optional).
func ParseReading(b []byte) (Reading, error) {
	if len(b) < 2 {
		return Reading{}, fmt.Errorf("ipmi: Get Sensor Reading: %d bytes", len(b))
	}
	r := Reading{Raw: b[0], Unavailable: b[1]&0x40 == 0 || b[1]&0x20 != 0}
	if len(b) >= 3 {
		r.Status = b[2] & 0x3F
	}
	return r, nil
}
