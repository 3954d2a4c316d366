package disk

import (
	"errors"
	"strconv"
	"strings"
)

// drivesKey is the Cache key of the drives' descriptions: what a beat
// learns of a drive from sysfs (its address, block device, chip name,
// INQUIRY strings), kept so that a steady beat lists the class directory
// and reads each drive's power state, not its dozen attributes and links.
const drivesKey = "disk-drives"

// drivesMagic starts encoded descriptions; a change of format changes it.
const drivesMagic = "thermal-disk-drives 1\n"

var errDrives = errors.New("disk: drive descriptions: bad line")

// encodeDrives encodes drives one per line: the class entry's inode
// number, the strings quoted, the flags as 0 or 1, separated by spaces.
func encodeDrives(drives []Drive) []byte {
	b := make([]byte, 0, len(drivesMagic)+256*len(drives))
	b = append(b, drivesMagic...)
	for i := range drives {
		d := &drives[i]
		b = strconv.AppendUint(b, d.ino, 10)
		for _, f := range [...]string{d.Address, d.Block, d.Chip, d.Bus, d.Device, d.Vendor, d.Model, d.Rev, d.WWID} {
			b = append(b, ' ')
			b = strconv.AppendQuote(b, f)
		}
		for _, f := range [...]bool{d.ATA, d.SAT} {
			if f {
				b = append(b, " 1"...)
			} else {
				b = append(b, " 0"...)
			}
		}
		b = append(b, '\n')
	}
	return b
}

// decodeDrives decodes what encodeDrives wrote, by address. Anything
// malformed is an error: the drives are then described afresh.
func decodeDrives(data []byte) (map[string]Drive, error) {
	s, ok := strings.CutPrefix(string(data), drivesMagic)
	if !ok {
		return nil, errDrives
	}
	out := map[string]Drive{}
	for line := range strings.SplitSeq(s, "\n") {
		if line == "" {
			continue
		}
		d, ok := decodeDrive(line)
		if !ok {
			return nil, errDrives
		}
		if _, dup := out[d.Address]; dup {
			return nil, errDrives
		}
		out[d.Address] = d
	}
	return out, nil
}

// decodeDrive decodes one line of encodeDrives.
func decodeDrive(line string) (d Drive, ok bool) {
	ino, rest, _ := strings.Cut(line, " ")
	var err error
	if d.ino, err = strconv.ParseUint(ino, 10, 64); err != nil {
		return d, false
	}
	for _, f := range [...]*string{&d.Address, &d.Block, &d.Chip, &d.Bus, &d.Device, &d.Vendor, &d.Model, &d.Rev, &d.WWID} {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return d, false
		}
		if *f, err = strconv.Unquote(q); err != nil {
			return d, false
		}
		if rest, ok = strings.CutPrefix(rest[len(q):], " "); !ok {
			return d, false
		}
	}
	for _, f := range [...]*bool{&d.ATA, &d.SAT} {
		var v string
		v, rest, _ = strings.Cut(rest, " ")
		switch v {
		case "0":
		case "1":
			*f = true
		default:
			return d, false
		}
	}
	return d, rest == "" && d.Address != ""
}

// identityMagic starts the encoded identity cache; a change of format
// changes it. (The cache was JSON before: such an entry is a miss, and the
// drives are identified once more.)
const identityMagic = "thermal-disk-identity 1\n"

var errIdentity = errors.New("disk: identities: bad line")

// encodeIdentities encodes the identities one drive per line: its key, the
// model, serial, firmware and method quoted, the ATA flag as 0 or 1, why
// quoted, then the limits.
func encodeIdentities(known map[string]Identity) []byte {
	b := make([]byte, 0, len(identityMagic)+192*len(known))
	b = append(b, identityMagic...)
	for k, id := range known {
		b = strconv.AppendQuote(b, k)
		for _, f := range [...]string{id.Model, id.Serial, id.Firmware, id.Method} {
			b = append(b, ' ')
			b = strconv.AppendQuote(b, f)
		}
		if id.ATA {
			b = append(b, " 1 "...)
		} else {
			b = append(b, " 0 "...)
		}
		b = strconv.AppendQuote(b, id.Why)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(id.Max), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(id.Crit), 10)
		b = append(b, '\n')
	}
	return b
}

// decodeIdentities decodes what encodeIdentities wrote; anything malformed
// is an error (the drives are identified again).
func decodeIdentities(data []byte) (map[string]Identity, error) {
	s, ok := strings.CutPrefix(string(data), identityMagic)
	if !ok {
		return nil, errIdentity
	}
	out := map[string]Identity{}
	for line := range strings.SplitSeq(s, "\n") {
		if line == "" {
			continue
		}
		k, id, ok := decodeIdentity(line)
		if !ok {
			return nil, errIdentity
		}
		if _, dup := out[k]; dup {
			return nil, errIdentity
		}
		out[k] = id
	}
	return out, nil
}

// decodeIdentity decodes one line of encodeIdentities.
func decodeIdentity(line string) (key string, id Identity, ok bool) {
	rest := line
	quoted := func(dst *string) bool {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return false
		}
		*dst, _ = strconv.Unquote(q)
		rest, ok = strings.CutPrefix(rest[len(q):], " ")
		return ok
	}
	for _, f := range [...]*string{&key, &id.Model, &id.Serial, &id.Firmware, &id.Method} {
		if !quoted(f) {
			return key, id, false
		}
	}
	var ata string
	if ata, rest, ok = strings.Cut(rest, " "); !ok || (ata != "0" && ata != "1") {
		return key, id, false
	}
	id.ATA = ata == "1"
	if !quoted(&id.Why) {
		return key, id, false
	}
	max, crit, ok := strings.Cut(rest, " ")
	m, err1 := strconv.ParseInt(max, 10, 32)
	c, err2 := strconv.ParseInt(crit, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return key, id, false
	}
	id.Max, id.Crit = int(m), int(c)
	return key, id, true
}
