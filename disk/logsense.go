package disk

import (
	"encoding/binary"
	"fmt"
)

// pageTemperature is the Temperature log page (SPC-5 7.3.21).
const pageTemperature = 0x0D

// SCSITemperature is what the Temperature log page says, °C: the current
// temperature and the reference temperature (the highest at which the
// drive is specified to run continuously). HasReference is false when the
// drive reports none.
type SCSITemperature struct {
	Current, Reference int
	HasReference       bool
}

// LogSense reads the Temperature log page's cumulative values.
func LogSense(t Transport) (SCSITemperature, error) {
	buf := make([]byte, 64)
	cdb := make([]byte, 10)
	cdb[0] = 0x4D                   // LOG SENSE
	cdb[2] = 1<<6 | pageTemperature // PC 01b: cumulative values
	binary.BigEndian.PutUint16(cdb[7:], uint16(len(buf)))
	if _, err := do(t, "LOG SENSE", &Command{CDB: cdb, Dir: FromDisk, Data: buf}); err != nil {
		return SCSITemperature{}, err
	}
	return ParseTemperaturePage(buf)
}

// ParseTemperaturePage decodes the Temperature log page: parameter 0000h
// is the temperature, 0001h the reference temperature, each two bytes
// whose second is °C (FFh: not available).
func ParseTemperaturePage(b []byte) (SCSITemperature, error) {
	if len(b) < 4 {
		return SCSITemperature{}, ErrShort
	}
	if b[0]&0x3F != pageTemperature {
		return SCSITemperature{}, fmt.Errorf("LOG SENSE: page %#02x returned for %#02x", b[0]&0x3F, pageTemperature)
	}
	end := min(len(b), 4+int(binary.BigEndian.Uint16(b[2:])))
	var out SCSITemperature
	found := false
	for p := 4; p+4 <= end; p += 4 + int(b[p+3]) {
		code, n := binary.BigEndian.Uint16(b[p:]), int(b[p+3])
		if n < 2 || p+4+n > end {
			continue
		}
		v := b[p+5]
		switch {
		case code == 0 && v != 0xFF:
			out.Current, found = int(v), true
		case code == 1 && v != 0xFF:
			out.Reference, out.HasReference = int(v), true
		}
	}
	if !found {
		return out, ErrNoTemperature
	}
	return out, nil
}
