package nvme

import (
	"strconv"
	"strings"

	"github.com/thermal-heartbeat/thermal/internal/linecodec"
)

// controllersKey is the Cache key of the controllers' descriptions: what a
// beat learns of a controller from sysfs (its chip name, model, serial,
// firmware, transport and address), kept so that a steady beat lists the
// class directory and reads each controller's state and power state, not
// its attributes and links.
const controllersKey = "nvme-controllers"

// controllersMagic starts encoded descriptions; a change of format
// changes it.
const controllersMagic = "thermal-nvme-controllers 1\n"

// encodeControllers encodes the controllers one per line (linecodec): the
// class entry's inode number, then the strings. The state and power state,
// read on every beat, are left out; the firmware revision, also read on
// every beat, is kept for the round trip.
func encodeControllers(ctrls []Controller) []byte {
	b := make([]byte, 0, len(controllersMagic)+256*len(ctrls))
	b = append(b, controllersMagic...)
	for i := range ctrls {
		c := &ctrls[i]
		l := linecodec.Start(b)
		l.Uint(c.ino)
		for _, f := range [...]string{c.Name, c.Chip, c.Bus, c.Path, c.Model, c.Serial, c.Firmware, c.Transport, c.Address} {
			l.Quoted(f)
		}
		b = l.End()
	}
	return b
}

// decodeControllers decodes what encodeControllers wrote, by class entry.
// Anything malformed is an error: the controllers are then described
// afresh.
func decodeControllers(data []byte) (map[string]Controller, error) {
	return linecodec.Decode(data, controllersMagic, func(line string) (string, Controller, bool) {
		f := linecodec.Read(line)
		c := Controller{ino: f.Uint(64)}
		for _, s := range [...]*string{&c.Name, &c.Chip, &c.Bus, &c.Path, &c.Model, &c.Serial, &c.Firmware, &c.Transport, &c.Address} {
			*s = f.Quoted()
		}
		// A name the listing would not give (nvmeN) cannot be an entry.
		n, isNVMe := strings.CutPrefix(c.Name, "nvme")
		_, err := strconv.Atoi(n)
		return c.Name, c, f.OK() && isNVMe && err == nil && c.Path != ""
	})
}

// limitsMagic starts the encoded limits cache; a change of format changes
// it. (The cache was JSON before: such an entry is a miss, and the drives
// are identified once more.)
const limitsMagic = "thermal-nvme-limits 1\n"

// encodeLimits encodes the limits one drive per line (linecodec): its key
// (model, serial, firmware), then WCTEMP and CCTEMP.
func encodeLimits(known map[string]Limits) []byte {
	b := make([]byte, 0, len(limitsMagic)+96*len(known))
	b = append(b, limitsMagic...)
	for k, l := range known {
		line := linecodec.Start(b)
		b = line.Quoted(k).Uint(uint64(l.WCTEMP)).Uint(uint64(l.CCTEMP)).End()
	}
	return b
}

// decodeLimits decodes what encodeLimits wrote; anything malformed is an
// error (the drives are identified again).
func decodeLimits(data []byte) (map[string]Limits, error) {
	return linecodec.Decode(data, limitsMagic, func(line string) (string, Limits, bool) {
		f := linecodec.Read(line)
		k := f.Quoted()
		l := Limits{WCTEMP: uint16(f.Uint(16)), CCTEMP: uint16(f.Uint(16))}
		return k, l, f.OK()
	})
}
