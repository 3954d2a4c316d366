package sysdev

import (
	"strconv"
	"strings"
)

// Bus types as lm-sensors names them in chip names.
const (
	BusISA     = "isa"
	BusPCI     = "pci"
	BusI2C     = "i2c"
	BusSPI     = "spi"
	BusVirtual = "virtual"
	BusACPI    = "acpi"
	BusHID     = "hid"
	BusMDIO    = "mdio"
	BusSCSI    = "scsi"
)

// busAddr is where libsensors places a chip: a bus type, a bus number and an
// address on that bus.
type busAddr struct {
	bus  string
	nr   int
	addr int
}

// classify maps a device, given by its directory name and the name of its
// subsystem (the basename of its subsystem link; hasSubsys is false when the
// device has none), to the bus libsensors puts it on. ok is false for a
// device on a bus libsensors does not know (a class device such as nvme0 or
// thermal_zone0): the caller then walks up to that device's own device.
//
// This follows classify_device() in lm-sensors 3.6.0 lib/sysfs.c, including
// its sscanf quirks: trailing characters are ignored, and a platform device
// whose name has no ".N" suffix is at address 0.
func classify(devName, subsys string, hasSubsys bool) (b busAddr, ok bool) {
	is := func(name string) bool { return !hasSubsys || subsys == name }
	if is("i2c") {
		if nr, rest, ok := scanDec(devName); ok && strings.HasPrefix(rest, "-") {
			if addr, _, ok := scanHex(rest[1:]); ok {
				if nr == 9191 { // legacy ISA through i2c-isa
					return busAddr{BusISA, 0, addr}, true
				}
				return busAddr{BusI2C, nr, addr}, true
			}
		}
	}
	if is("spi") {
		if rest, ok := strings.CutPrefix(devName, "spi"); ok {
			if nr, rest, ok := scanDec(rest); ok && strings.HasPrefix(rest, ".") {
				if addr, _, ok := scanDec(rest[1:]); ok {
					return busAddr{BusSPI, nr, addr}, true
				}
			}
		}
	}
	if is("pci") {
		if f, ok := scanHexFields(devName, ":", ":", "."); ok {
			return busAddr{BusPCI, 0, f[0]<<16 + f[1]<<8 + f[2]<<3 + f[3]}, true
		}
	}
	if !hasSubsys || subsys == "platform" || subsys == "of_platform" {
		// sscanf(dev_name, "%*[a-z0-9_].%d", &addr), else 0.
		addr := 0
		i := 0
		for i < len(devName) && (devName[i] >= 'a' && devName[i] <= 'z' || devName[i] >= '0' && devName[i] <= '9' || devName[i] == '_') {
			i++
		}
		if i > 0 && i < len(devName) && devName[i] == '.' {
			if n, _, ok := scanDec(devName[i+1:]); ok {
				addr = n
			}
		}
		return busAddr{BusISA, 0, addr}, true
	}
	switch subsys {
	case "acpi":
		return busAddr{BusACPI, 0, 0}, true
	case "hid":
		if f, ok := scanHexFields(devName, ":", ":", "."); ok {
			return busAddr{BusHID, f[0], f[3]}, true
		}
	case "mdio_bus":
		// sscanf(dev_name, "%*[^:]:%d", &addr), else 0.
		addr := 0
		if i := strings.IndexByte(devName, ':'); i > 0 {
			if n, _, ok := scanDec(devName[i+1:]); ok {
				addr = n
			}
		}
		return busAddr{BusMDIO, 0, addr}, true
	case "scsi":
		// host:channel:id:lun
		if h, rest, ok := scanDec(devName); ok && strings.HasPrefix(rest, ":") {
			if ch, rest, ok := scanDec(rest[1:]); ok && strings.HasPrefix(rest, ":") {
				if id, rest, ok := scanDec(rest[1:]); ok && strings.HasPrefix(rest, ":") {
					if lun, _, ok := scanHex(rest[1:]); ok {
						return busAddr{BusSCSI, h, ch<<8 + id<<4 + lun}, true
					}
				}
			}
		}
	}
	return busAddr{}, false
}

// chipName formats a chip name as sensors_snprintf_chip_name() does:
// prefix-bus-[number-]address, the address in hex (ISA and PCI zero-padded
// to four digits, I2C to two), the bus number in decimal. It appends bytes
// rather than calling fmt, whose frames made every source's goroutine grow
// its stack.
func chipName(prefix string, b busAddr) string {
	// C prints %x of a negative int as its 32-bit two's complement.
	addr := uint64(uint32(b.addr))
	nr := int64(int16(b.nr))
	var name []byte
	switch b.bus {
	case BusISA:
		name = appendHex(append([]byte(prefix), "-isa-"...), addr, 4)
	case BusPCI:
		name = appendHex(append([]byte(prefix), "-pci-"...), addr, 4)
	case BusI2C:
		name = appendHex(append(strconv.AppendInt(append([]byte(prefix), "-i2c-"...), nr, 10), '-'), addr, 2)
	case BusSPI:
		name = appendHex(append(strconv.AppendInt(append([]byte(prefix), "-spi-"...), nr, 10), '-'), addr, 0)
	case BusACPI:
		name = appendHex(append([]byte(prefix), "-acpi-"...), addr, 0)
	case BusHID:
		name = appendHex(append(strconv.AppendInt(append([]byte(prefix), "-hid-"...), nr, 10), '-'), addr, 0)
	case BusMDIO:
		name = appendHex(append([]byte(prefix), "-mdio-"...), addr, 0)
	case BusSCSI:
		name = appendHex(append(strconv.AppendInt(append([]byte(prefix), "-scsi-"...), nr, 10), '-'), addr, 0)
	default:
		name = appendHex(append([]byte(prefix), "-virtual-"...), addr, 0)
	}
	return string(name)
}

// appendHex appends v in lower-case hex, zero-padded to width digits.
func appendHex(b []byte, v uint64, width int) []byte {
	digits := 1
	for r := v >> 4; r != 0; r >>= 4 {
		digits++
	}
	for ; digits < width; digits++ {
		b = append(b, '0')
	}
	return strconv.AppendUint(b, v, 16)
}

// scanDec reads a decimal integer the way sscanf's %d does (leading blanks,
// optional sign) and returns it with the unread rest.
func scanDec(s string) (int, string, bool) { return scanInt(s, 10) }

// scanHex reads a hexadecimal integer the way sscanf's %x does (leading
// blanks, optional sign, optional 0x).
func scanHex(s string) (int, string, bool) { return scanInt(s, 16) }

func scanInt(s string, base int) (int, string, bool) {
	s = strings.TrimLeft(s, " \t\n")
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	digit := func(c byte) (int, bool) {
		if base == 16 && isHex(c) {
			return hexVal(c), true
		}
		return int(c - '0'), c >= '0' && c <= '9'
	}
	if base == 16 && i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && isHex(s[i+2]) {
		i += 2
	}
	start, v := i, 0
	for ; i < len(s); i++ {
		d, ok := digit(s[i])
		if !ok {
			break
		}
		if v < 1<<27 { // stop growing before int32 overflows; such names do not occur
			v = v*base + d
		}
	}
	if i == start {
		return 0, s, false
	}
	if neg {
		v = -v
	}
	return v, s[i:], true
}

// scanHexFields reads len(seps)+1 hex fields separated by the given literals,
// as sscanf("%x:%x:%x.%x") does.
func scanHexFields(s string, seps ...string) ([]int, bool) {
	out := make([]int, 0, len(seps)+1)
	for i := 0; ; i++ {
		v, rest, ok := scanHex(s)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if i == len(seps) {
			return out, true
		}
		if !strings.HasPrefix(rest, seps[i]) {
			return nil, false
		}
		s = rest[len(seps[i]):]
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}
