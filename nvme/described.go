package nvme

import (
	"errors"
	"strconv"
	"strings"
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

var errControllers = errors.New("nvme: controller descriptions: bad line")

// encodeControllers encodes the controllers one per line: the class
// entry's inode number, then the strings quoted, separated by spaces. The
// state and power state, read on every beat, are left out.
func encodeControllers(ctrls []Controller) []byte {
	b := make([]byte, 0, len(controllersMagic)+256*len(ctrls))
	b = append(b, controllersMagic...)
	for i := range ctrls {
		c := &ctrls[i]
		b = strconv.AppendUint(b, c.ino, 10)
		for _, f := range [...]string{c.Name, c.Chip, c.Bus, c.Path, c.Model, c.Serial, c.Firmware, c.Transport, c.Address} {
			b = append(b, ' ')
			b = strconv.AppendQuote(b, f)
		}
		b = append(b, '\n')
	}
	return b
}

// decodeControllers decodes what encodeControllers wrote, by class entry.
// Anything malformed is an error: the controllers are then described
// afresh.
func decodeControllers(data []byte) (map[string]Controller, error) {
	s, ok := strings.CutPrefix(string(data), controllersMagic)
	if !ok {
		return nil, errControllers
	}
	out := map[string]Controller{}
	for line := range strings.SplitSeq(s, "\n") {
		if line == "" {
			continue
		}
		c, ok := decodeController(line)
		if !ok {
			return nil, errControllers
		}
		if _, dup := out[c.Name]; dup {
			return nil, errControllers
		}
		out[c.Name] = c
	}
	return out, nil
}

// decodeController decodes one line of encodeControllers.
func decodeController(line string) (c Controller, ok bool) {
	ino, rest, _ := strings.Cut(line, " ")
	var err error
	if c.ino, err = strconv.ParseUint(ino, 10, 64); err != nil {
		return c, false
	}
	fields := [...]*string{&c.Name, &c.Chip, &c.Bus, &c.Path, &c.Model, &c.Serial, &c.Firmware, &c.Transport, &c.Address}
	for i, f := range fields {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return c, false
		}
		if *f, err = strconv.Unquote(q); err != nil {
			return c, false
		}
		rest = rest[len(q):]
		if i < len(fields)-1 {
			if rest, ok = strings.CutPrefix(rest, " "); !ok {
				return c, false
			}
		}
	}
	// The state is read on every beat; a name the listing would not give
	// (nvmeN) cannot be an entry.
	n, isNVMe := strings.CutPrefix(c.Name, "nvme")
	_, err = strconv.Atoi(n)
	return c, rest == "" && isNVMe && err == nil && c.Path != ""
}

// limitsMagic starts the encoded limits cache; a change of format changes
// it. (The cache was JSON before: such an entry is a miss, and the drives
// are identified once more.)
const limitsMagic = "thermal-nvme-limits 1\n"

// encodeLimits encodes the limits one drive per line: its key (model,
// serial, firmware) quoted, then WCTEMP and CCTEMP.
func encodeLimits(known map[string]Limits) []byte {
	b := make([]byte, 0, len(limitsMagic)+96*len(known))
	b = append(b, limitsMagic...)
	for k, l := range known {
		b = strconv.AppendQuote(b, k)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(l.WCTEMP), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(l.CCTEMP), 10)
		b = append(b, '\n')
	}
	return b
}

var errLimits = errors.New("nvme: limits: bad line")

// decodeLimits decodes what encodeLimits wrote; anything malformed is an
// error (the drives are identified again).
func decodeLimits(data []byte) (map[string]Limits, error) {
	s, ok := strings.CutPrefix(string(data), limitsMagic)
	if !ok {
		return nil, errLimits
	}
	out := map[string]Limits{}
	for line := range strings.SplitSeq(s, "\n") {
		if line == "" {
			continue
		}
		q, err := strconv.QuotedPrefix(line)
		if err != nil {
			return nil, errLimits
		}
		k, _ := strconv.Unquote(q)
		w, c, ok := strings.Cut(strings.TrimPrefix(line[len(q):], " "), " ")
		wc, err1 := strconv.ParseUint(w, 10, 16)
		cc, err2 := strconv.ParseUint(c, 10, 16)
		if !ok || !strings.HasPrefix(line[len(q):], " ") || err1 != nil || err2 != nil {
			return nil, errLimits
		}
		if _, dup := out[k]; dup {
			return nil, errLimits
		}
		out[k] = Limits{WCTEMP: uint16(wc), CCTEMP: uint16(cc)}
	}
	return out, nil
}
