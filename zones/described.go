package zones

import (
	"maps"
	"slices"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/linecodec"
)

// zonesKey is the Cache key of the zones' descriptions.
const zonesKey = "thermal-zones"

// zonesMagic starts encoded descriptions; a change of format changes it.
const zonesMagic = "thermal-zones 1\n"

// described is what a beat learns of a class entry that does not change
// while its class link stands (the same inode number; a zone or cooling
// device registered again is a new kernfs node): a zone's device, the
// indexes of its trip points, its type and its trip points' types (their
// temperatures can change, and are read every beat); a cooling device's
// type.
type described struct {
	ino    uint64
	device string
	trips  []int
	typ    string
	typed  bool // typ is known
	// tripTypes are the types of trips, by position, unknownTrip where
	// not known yet (the trip point has not been in range); nil when none
	// is known.
	tripTypes []string
	// fresh: nothing is known yet; the zone is listed and its link read.
	fresh bool
}

// unknownTrip stands in tripTypes for a trip point whose type was not
// read: no type reads so (a type is a word of the kernel's, such as
// critical or passive).
const unknownTrip = "\x00"

// learn returns d with what the read of its zone, c, told: the type,
// where it was read (even if the temperature then was not), and the
// types of the trip points it reports (one out of range is not reported,
// and its type never read).
func (d described) learn(c *thermal.Chip) described {
	d.fresh = false
	if len(c.Sensors) != 1 || c.Err != nil {
		return d
	}
	s := &c.Sensors[0]
	if !d.typed {
		if s.Err != nil && s.Label == "" {
			return d // the type was not read (or is empty: read again)
		}
		d.typ, d.typed = s.Label, true
	}
	if len(s.Trips) == 0 {
		return d
	}
	types := slices.Clone(d.tripTypes)
	if types == nil {
		types = make([]string, len(d.trips))
		for i := range types {
			types[i] = unknownTrip
		}
	}
	i := 0
	for _, t := range s.Trips { // in the order of d.trips
		for i < len(d.trips) && d.trips[i] != t.Index {
			i++
		}
		if i == len(d.trips) {
			return d
		}
		types[i] = t.Type
		i++
	}
	d.tripTypes = types
	return d
}

// encodeDescribed encodes the descriptions one entry per line
// (linecodec): the entry, its inode number, device, whether its type is
// known and the type, the number of trip points and each one's index,
// then whether their types are known and each one's type.
func encodeDescribed(m map[string]described) []byte {
	b := make([]byte, 0, len(zonesMagic)+160*len(m))
	b = append(b, zonesMagic...)
	for _, name := range slices.Sorted(maps.Keys(m)) {
		d := m[name]
		l := linecodec.Start(b)
		l.Quoted(name).Uint(d.ino).Quoted(d.device).Bool(d.typed).Quoted(d.typ).Uint(uint64(len(d.trips)))
		for _, t := range d.trips {
			l.Uint(uint64(t))
		}
		l.Bool(d.tripTypes != nil)
		for _, t := range d.tripTypes {
			l.Quoted(t)
		}
		b = l.End()
	}
	return b
}

// decodeDescribed decodes what encodeDescribed wrote; anything malformed is
// an error (the zones are described afresh).
func decodeDescribed(data []byte) (map[string]described, error) {
	return linecodec.Decode(data, zonesMagic, func(line string) (string, described, bool) {
		f := linecodec.Read(line)
		name := f.Quoted()
		d := described{ino: f.Uint(64), device: f.Quoted(), typed: f.Bool(), typ: f.Quoted()}
		n := int(f.Uint(16))
		if n > 0 {
			d.trips = make([]int, n)
		}
		for i := range d.trips {
			d.trips[i] = int(f.Uint(31))
		}
		if f.Bool() {
			d.tripTypes = make([]string, n)
			for i := range d.tripTypes {
				d.tripTypes[i] = f.Quoted()
			}
		}
		return name, d, f.OK() && name != "" && d.ino != 0
	})
}
