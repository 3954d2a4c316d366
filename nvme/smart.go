package nvme

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// SMARTLog is the thermal part of the SMART / Health Information log.
// Temperatures are Kelvin as the drive reports them; 0 means not reported.
type SMARTLog struct {
	CriticalWarning uint8     // byte 0; bit 1 is "temperature above or below a threshold"
	Composite       uint16    // bytes 1-2, K
	Sensors         [8]uint16 // Temperature Sensors 1-8, bytes 200-215, K; 0 = not implemented
	// Minutes the composite temperature has spent at or above WCTEMP, resp.
	// CCTEMP (bytes 192-195, 196-199).
	WarningTempMinutes  uint32
	CriticalTempMinutes uint32
	// Thermal management temperature 1 and 2: transition counts (bytes
	// 216-223) and total seconds spent (bytes 224-231).
	ThermalTransitions [2]uint32
	ThermalSeconds     [2]uint32
}

// TemperatureWarning reports critical warning bit 1: a temperature is above
// an over-temperature or below an under-temperature threshold.
func (l SMARTLog) TemperatureWarning() bool { return l.CriticalWarning&0x02 != 0 }

// ParseSMARTLog parses the 512-byte SMART / Health log page, little-endian.
func ParseSMARTLog(b []byte) (SMARTLog, error) {
	if len(b) < SMARTLogSize {
		return SMARTLog{}, fmt.Errorf("%w: SMART log is %d bytes, want %d", ErrShort, len(b), SMARTLogSize)
	}
	le := binary.LittleEndian
	l := SMARTLog{
		CriticalWarning:     b[0],
		Composite:           le.Uint16(b[1:3]),
		WarningTempMinutes:  le.Uint32(b[192:196]),
		CriticalTempMinutes: le.Uint32(b[196:200]),
	}
	for i := range l.Sensors {
		l.Sensors[i] = le.Uint16(b[200+2*i:])
	}
	for i := 0; i < 2; i++ {
		l.ThermalTransitions[i] = le.Uint32(b[216+4*i:])
		l.ThermalSeconds[i] = le.Uint32(b[224+4*i:])
	}
	return l, nil
}

// IdentifyController is the part of the Identify Controller data structure
// the heartbeat uses.
type IdentifyController struct {
	Serial   string // SN, bytes 4-23
	Model    string // MN, bytes 24-63
	Firmware string // FR, bytes 64-71
	WCTEMP   uint16 // warning composite temperature threshold, K, bytes 266-267; 0 = not reported
	CCTEMP   uint16 // critical composite temperature threshold, K, bytes 268-269; 0 = not reported
}

// ParseIdentifyController parses the 4096-byte Identify Controller data.
func ParseIdentifyController(b []byte) (IdentifyController, error) {
	if len(b) < IdentifySize {
		return IdentifyController{}, fmt.Errorf("%w: identify data is %d bytes, want %d", ErrShort, len(b), IdentifySize)
	}
	ascii := func(x []byte) string { return strings.TrimRight(string(x), " \x00") }
	return IdentifyController{
		Serial:   ascii(b[4:24]),
		Model:    ascii(b[24:64]),
		Firmware: ascii(b[64:72]),
		WCTEMP:   binary.LittleEndian.Uint16(b[266:268]),
		CCTEMP:   binary.LittleEndian.Uint16(b[268:270]),
	}, nil
}

// KelvinToMilli converts a temperature in Kelvin to millidegrees Celsius,
// as the kernel does for NVMe (323 K is 49850 m°C).
func KelvinToMilli(k uint16) int64 { return int64(k)*1000 - 273150 }
