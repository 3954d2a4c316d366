package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// ATA commands and SMART features used here (ACS-4).
const (
	ataCheckPowerMode = 0xE5
	ataIdentify       = 0xEC
	ataSMART          = 0xB0

	smartReadData = 0xD0
	smartReadLog  = 0xD5
	smartWriteLog = 0xD6

	logSCTStatus  = 0xE0 // SCT Status (read); SCT Command (write)
	logSCTData    = 0xE1 // SCT Data Transfer
	ataSectorSize = 512
)

// ATA PASS-THROUGH protocols (SAT-4 table 163).
const (
	protoNonData    = 3
	protoPIODataIn  = 4
	protoPIODataOut = 5
)

// ataCommand is one ATA command in ATA PASS-THROUGH (16).
type ataCommand struct {
	command, features, count, lbaLow uint8
	protocol                         uint8
	// ckCond asks for the registers back in the sense data (CHECK POWER
	// MODE's answer is its COUNT register).
	ckCond bool
}

// cdb builds the ATA PASS-THROUGH (16) CDB (SAT-4 12.2.2). SMART commands
// carry their signature, 4Fh/C2h, in LBA mid and high.
func (a ataCommand) cdb() []byte {
	c := make([]byte, 16)
	c[0] = 0x85
	c[1] = a.protocol << 1
	switch a.protocol {
	case protoPIODataIn:
		c[2] = 1<<3 | 1<<2 | 2 // T_DIR from the device, BYT_BLOK blocks, T_LENGTH in COUNT
	case protoPIODataOut:
		c[2] = 1<<2 | 2
	}
	if a.ckCond {
		c[2] |= 1 << 5
	}
	c[4], c[6], c[8], c[14] = a.features, a.count, a.lbaLow, a.command
	if a.command == ataSMART {
		c[10], c[12] = 0x4F, 0xC2
	}
	return c
}

// ata sends a over t, with data (nil for none) in the protocol's
// direction, and returns the registers when a asked for them.
func ata(t Transport, name string, a ataCommand, data []byte) (*ATARegisters, error) {
	cmd := &Command{CDB: a.cdb(), Data: data}
	switch a.protocol {
	case protoPIODataIn:
		cmd.Dir = FromDisk
	case protoPIODataOut:
		cmd.Dir = ToDisk
	}
	s, err := do(t, name, cmd)
	if err != nil {
		return nil, err
	}
	if a.ckCond {
		if s == nil || s.ATA == nil {
			return nil, fmt.Errorf("%s: the drive returned no ATA registers", name)
		}
		return s.ATA, nil
	}
	return nil, nil
}

// PowerMode is a drive's answer to CHECK POWER MODE (ACS-4 7.3: the COUNT
// register).
type PowerMode uint8

// Standby reports whether the drive's media is spun down: standby (00h,
// 01h) or its NV cache power mode with the spindle down (40h). Reading
// anything but the power mode would spin it up.
func (p PowerMode) Standby() bool { return p == 0x00 || p == 0x01 || p == 0x40 }

// String names the mode as smartctl -n does.
func (p PowerMode) String() string {
	switch {
	case p.Standby():
		return "standby"
	case p == 0x41:
		return "active (NV cache, spindle up)"
	case p >= 0x80 && p <= 0x83:
		return "idle"
	case p == 0xFF:
		return "active or idle"
	}
	return fmt.Sprintf("unknown power mode %#02x", uint8(p))
}

// CheckPowerMode asks the drive its power mode; it never spins the drive up.
func CheckPowerMode(t Transport) (PowerMode, error) {
	r, err := ata(t, "CHECK POWER MODE", ataCommand{command: ataCheckPowerMode, protocol: protoNonData, ckCond: true}, nil)
	if err != nil {
		return 0, err
	}
	return PowerMode(r.Count), nil
}

// ATAIdentity is what IDENTIFY DEVICE says of an ATA drive that matters here.
type ATAIdentity struct {
	Model, Serial, Firmware string
	SMART                   bool // the SMART feature set is supported …
	SMARTEnabled            bool // … and enabled
	SCT                     bool // SCT Command Transport (SCT Status)
	SCTDataTables           bool // SCT Data Tables (the temperature history)
}

// Identify sends IDENTIFY DEVICE.
func Identify(t Transport) (ATAIdentity, error) {
	buf := make([]byte, ataSectorSize)
	if _, err := ata(t, "IDENTIFY DEVICE", ataCommand{command: ataIdentify, count: 1, protocol: protoPIODataIn}, buf); err != nil {
		return ATAIdentity{}, err
	}
	return ParseIdentity(buf)
}

// ParseIdentity decodes IDENTIFY DEVICE data (ACS-4 table 45): strings
// are byte-swapped words, padded with spaces.
func ParseIdentity(b []byte) (ATAIdentity, error) {
	if len(b) < ataSectorSize {
		return ATAIdentity{}, ErrShort
	}
	word := func(n int) uint16 { return binary.LittleEndian.Uint16(b[2*n:]) }
	str := func(from, to int) string {
		s := make([]byte, 0, 2*(to-from))
		for n := from; n < to; n++ {
			w := word(n)
			s = append(s, byte(w>>8), byte(w))
		}
		return strings.TrimSpace(strings.Trim(string(s), "\x00"))
	}
	valid := func(w uint16) bool { return w != 0 && w != 0xFFFF }
	id := ATAIdentity{Serial: str(10, 20), Firmware: str(23, 27), Model: str(27, 47)}
	// Words 82-84 are valid when word 83's bits 15:14 are 01b, as words
	// 85-87 are by word 87's.
	if w := word(83); valid(w) && w&0xC000 == 0x4000 {
		id.SMART = word(82)&1 != 0
	}
	if w := word(85); valid(w) && word(87)&0xC000 == 0x4000 {
		id.SMARTEnabled = w&1 != 0
	}
	if w := word(206); w != 0xFFFF {
		id.SCT, id.SCTDataTables = w&1 != 0, w&(1<<5) != 0
	}
	return id, nil
}

// ErrShort is returned by the parsers for a buffer smaller than the
// structure they parse.
var ErrShort = errors.New("disk: buffer too short")

// ErrNoTemperature: the drive answered, but with no temperature (SCT's
// 80h "invalid", no temperature attribute).
var ErrNoTemperature = errors.New("the drive reports no temperature")

// smartCommand reads one SMART sector: the attribute values, or a log.
func smartCommand(feature, log uint8) ataCommand {
	return ataCommand{command: ataSMART, features: feature, count: 1, lbaLow: log, protocol: protoPIODataIn}
}

// SCTStatus reads SCT Status (SMART READ LOG E0h) and returns the
// current temperature, °C.
func SCTStatus(t Transport) (int, error) {
	buf := make([]byte, ataSectorSize)
	if _, err := ata(t, "SCT Status", smartCommand(smartReadLog, logSCTStatus), buf); err != nil {
		return 0, err
	}
	return ParseSCTStatus(buf)
}

// ParseSCTStatus decodes the SCT Status response (ACS-4 table 204): the
// format version (word 0; 2, 3 and 5 are defined) and the current
// temperature, a signed byte at 200 where 80h means "not available".
func ParseSCTStatus(b []byte) (int, error) {
	if len(b) < ataSectorSize {
		return 0, ErrShort
	}
	if v := binary.LittleEndian.Uint16(b); v < 2 || v > 5 {
		return 0, fmt.Errorf("SCT Status: unknown format version %d", v)
	}
	if b[200] == 0x80 {
		return 0, ErrNoTemperature
	}
	return int(int8(b[200])), nil
}

// SCTLimits are the drive's own temperature limits, °C, from SCT Data
// Table 2 (the HDA temperature history): the recommended maximum operating
// temperature and the limit past which the drive may be damaged.
type SCTLimits struct {
	Max, Limit int
}

// ReadSCTLimits asks for the temperature history table (an SCT command
// written to log E0h: action 5, read data table; function 1; table 2) and
// reads it from log E1h. It is sent once per drive, when its identity is
// learnt.
func ReadSCTLimits(t Transport) (SCTLimits, error) {
	req := make([]byte, ataSectorSize)
	binary.LittleEndian.PutUint16(req[0:], 5) // action code: SCT Data Table
	binary.LittleEndian.PutUint16(req[2:], 1) // function code: read table
	binary.LittleEndian.PutUint16(req[4:], 2) // table id: HDA temperature history
	if _, err := ata(t, "SCT Data Table command", ataCommand{command: ataSMART, features: smartWriteLog, count: 1,
		lbaLow: logSCTStatus, protocol: protoPIODataOut}, req); err != nil {
		return SCTLimits{}, err
	}
	buf := make([]byte, ataSectorSize)
	if _, err := ata(t, "SCT Data Table", smartCommand(smartReadLog, logSCTData), buf); err != nil {
		return SCTLimits{}, err
	}
	return ParseSCTTempTable(buf)
}

// ParseSCTTempTable decodes the HDA temperature history table (ACS-4
// table 210): byte 6 is the recommended maximum operating temperature,
// byte 7 the maximum temperature limit (both signed, 80h: none).
func ParseSCTTempTable(b []byte) (SCTLimits, error) {
	if len(b) < ataSectorSize {
		return SCTLimits{}, ErrShort
	}
	if b[6] == 0x80 || b[7] == 0x80 || int8(b[6]) <= 0 || int8(b[7]) <= 0 {
		return SCTLimits{}, errors.New("SCT Data Table: no temperature limits")
	}
	return SCTLimits{Max: int(int8(b[6])), Limit: int(int8(b[7]))}, nil
}

// Temperature attributes of SMART READ DATA.
const (
	AttrAirflowTemperature = 190
	AttrTemperature        = 194
)

// SMARTData reads the SMART attribute values (SMART READ DATA).
func SMARTData(t Transport) ([]byte, error) {
	buf := make([]byte, ataSectorSize)
	if _, err := ata(t, "SMART READ DATA", smartCommand(smartReadData, 0), buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// SMARTTemperature returns the temperature in attribute id of SMART READ
// DATA (b): the raw value's low byte, signed, as smartctl reads it; drives
// that pack their minimum and maximum into the other raw bytes keep the
// current temperature there. ok is false when the drive has no such
// attribute.
func SMARTTemperature(b []byte, id uint8) (celsius int, ok bool, err error) {
	if len(b) < ataSectorSize {
		return 0, false, ErrShort
	}
	// 30 entries of 12 bytes after the revision word: id, flags (2),
	// normalised value, worst, raw value (6), reserved.
	for e := 2; e+12 <= 2+30*12; e += 12 {
		if b[e] == id {
			return int(int8(b[e+5])), true, nil
		}
	}
	return 0, false, nil
}
