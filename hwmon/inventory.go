package hwmon

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/thermal-heartbeat/thermal"
)

// Inventory is what the beats learn about the hwmon chips that does not
// change while their drivers stay bound: names, buses, channels, labels and
// limits. It is kept between beats (in the state directory) so that a
// steady-state beat costs one open, read and close per sensor. Chips are
// keyed by class entry (hwmon3) and the target of its link: a reloaded
// driver or a hot-plugged device gets a new entry or a new target and is
// inspected afresh. The entry's inode number, from the class listing,
// stands for its link while it is unchanged (a link made again is a new
// kernfs node), so a steady beat reads no links.
type Inventory struct {
	Chips map[string]InventoryChip `json:"chips"`
	// Changed is set by ChipsCached when something was read afresh and the
	// inventory is worth saving.
	Changed bool `json:"-"`
}

// InventoryChip is one chip of the inventory.
type InventoryChip struct {
	Link     string             `json:"link"`
	Ino      uint64             `json:"ino,omitempty"` // the class entry's inode number, 0 when not known
	Source   string             `json:"source"`
	Name     string             `json:"name"`
	Driver   string             `json:"driver"`
	Bus      string             `json:"bus"`
	Path     string             `json:"path"`
	Device   string             `json:"device,omitempty"`
	Channels []InventoryChannel `json:"channels"`
}

// InventoryChannel is one temperature channel. Known is set once its label
// and limits have been read; until then a beat reads them again.
type InventoryChannel struct {
	Kind      byte   `json:"kind"` // 'T' tempN, 'F' fanN (Max is its minimum, Crit its target), 'P' powerN, 'W' pwmN, 'A' a Pi's under-voltage alarm
	N         int    `json:"n"`
	Attrs     uint8  `json:"attrs"`
	Known     bool   `json:"known"`
	Label     string `json:"label,omitempty"`
	Max       *int64 `json:"max,omitempty"`
	Crit      *int64 `json:"crit,omitempty"`
	Emergency *int64 `json:"emergency,omitempty"`
	CritHyst  *int64 `json:"crit_hyst,omitempty"`
}

// known is an inventory in the form a beat uses: its chips sorted by class
// entry, as they are encoded, each with its channels as the readers take
// them. A steady-state beat decodes it from the cache straight into this
// form and finds each chip by binary search.
type known struct {
	chips []knownChip
	// changed: something in it was read afresh (Inventory.Changed).
	changed bool
}

// knownChip is one chip of a known inventory, under its class entry.
type knownChip struct {
	entry, link string
	// ino is the class entry's inode number when it was last seen (0:
	// not known, or a filesystem that gives none).
	ino                                     uint64
	source, name, driver, bus, path, device string
	channels                                []channel
}

// lookup returns the chip of class entry e, nil when there is none.
func (k *known) lookup(e string) *knownChip {
	if k == nil {
		return nil
	}
	lo, hi := 0, len(k.chips)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if k.chips[m].entry < e {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(k.chips) || k.chips[lo].entry != e {
		return nil
	}
	return &k.chips[lo]
}

// withIno returns a copy of c under inode number ino.
func (c *knownChip) withIno(ino uint64) *knownChip {
	n := *c
	n.ino = ino
	return &n
}

// complete reports whether every channel's label and limits are known.
func (c *knownChip) complete() bool {
	for i := range c.channels {
		if !c.channels[i].known {
			return false
		}
	}
	return true
}

// chip is the chip as the inventory knows it, unread.
func (c *knownChip) chip() thermal.Chip {
	return thermal.Chip{Source: c.source, Name: c.name, Driver: c.driver, Bus: c.bus, Path: c.path, Device: c.device}
}

// withChip returns c as chip ch names it (the request may have relabelled
// its source), with the same channels.
func (c *knownChip) withChip(ch *thermal.Chip) *knownChip {
	if ch.Source == c.source && ch.Name == c.name && ch.Driver == c.driver && ch.Bus == c.bus && ch.Path == c.path && ch.Device == c.device {
		return c
	}
	return &knownChip{entry: c.entry, link: c.link, ino: c.ino, source: ch.Source, name: ch.Name, driver: ch.Driver, bus: ch.Bus,
		path: ch.Path, device: ch.Device, channels: c.channels}
}

// remember returns what the inventory keeps of chip c, read through
// channels from class entry e, and whether it learned a label or limits
// that the channels did not know.
func remember(entry, link string, ino uint64, c *thermal.Chip, channels []channel) (_ *knownChip, learned bool) {
	// The name before thermal.UniqueChipNames adds a #N suffix.
	kc := &knownChip{entry: entry, link: link, ino: ino, source: c.Source, name: c.Name, driver: c.Driver, bus: c.Bus,
		path: c.Path, device: c.Device, channels: make([]channel, len(channels))}
	var byAttr map[string]*thermal.Sensor
	for i := range channels {
		ch := &channels[i]
		kc.channels[i] = *ch
		if ch.known {
			continue
		}
		if byAttr == nil {
			byAttr = make(map[string]*thermal.Sensor, len(c.Sensors))
			for j := range c.Sensors {
				byAttr[c.Sensors[j].Attr] = &c.Sensors[j]
			}
		}
		s, ok := byAttr[ch.attr()]
		// Label and limits were read when the input was: the sensor has a
		// value, or one rejected only for its range.
		if ok && s.AuxErrors == 0 && (s.Err == nil || isRangeErr(s.Err)) {
			learnt := channel{kind: ch.kind, n: ch.n, attrs: ch.attrs, known: true, label: s.Label}
			for l, v := range [...]*int64{s.Max, s.Crit, s.Emergency, s.CritHyst} {
				learnt.setLimit(l, v)
			}
			if ch.kind == 'F' {
				learnt.setLimit(limitMax, s.FanMin)
				learnt.setLimit(limitCrit, s.FanTarget)
			}
			kc.channels[i] = learnt
			learned = true
		}
	}
	return kc, learned
}

// attr is the attribute prefix of the channel's sensor (thermal.Sensor.Attr).
func (ch *channel) attr() string {
	switch ch.kind {
	case 'A':
		return "in" + strconv.Itoa(ch.n-1) + "_lcrit_alarm"
	case 'F':
		return "fan" + strconv.Itoa(ch.n)
	case 'P':
		return "power" + strconv.Itoa(ch.n)
	case 'W':
		return "pwm" + strconv.Itoa(ch.n)
	case 'T':
		return "temp" + strconv.Itoa(ch.n)
	}
	return strconv.Itoa(ch.n)
}

func isRangeErr(err error) bool { return errors.Is(err, thermal.ErrOutOfRange) }

// known returns the inventory in a beat's form; nil for nil.
func (inv *Inventory) known() *known {
	if inv == nil {
		return nil
	}
	k := &known{chips: make([]knownChip, 0, len(inv.Chips)), changed: inv.Changed}
	for e, c := range inv.Chips {
		kc := knownChip{entry: e, link: c.Link, ino: c.Ino, source: c.Source, name: c.Name, driver: c.Driver, bus: c.Bus,
			path: c.Path, device: c.Device, channels: make([]channel, len(c.Channels))}
		for i, ch := range c.Channels {
			kc.channels[i] = channel{kind: ch.Kind, n: ch.N, attrs: ch.Attrs, known: ch.Known, label: ch.Label}
			for l, v := range [...]*int64{ch.Max, ch.Crit, ch.Emergency, ch.CritHyst} {
				kc.channels[i].setLimit(l, v)
			}
		}
		k.chips = append(k.chips, kc)
	}
	slices.SortFunc(k.chips, func(a, b knownChip) int { return strings.Compare(a.entry, b.entry) })
	return k
}

// inventory returns k as an Inventory.
func (k *known) inventory() *Inventory {
	inv := &Inventory{Chips: make(map[string]InventoryChip, len(k.chips)), Changed: k.changed}
	for _, c := range k.chips {
		ic := InventoryChip{Link: c.link, Ino: c.ino, Source: c.source, Name: c.name, Driver: c.driver, Bus: c.bus, Path: c.path,
			Device: c.device, Channels: make([]InventoryChannel, len(c.channels))}
		for i := range c.channels {
			ch := &c.channels[i]
			ic.Channels[i] = InventoryChannel{Kind: ch.kind, N: ch.n, Attrs: ch.attrs, Known: ch.known, Label: ch.label,
				Max: ch.limit(limitMax), Crit: ch.limit(limitCrit), Emergency: ch.limit(limitEmergency), CritHyst: ch.limit(limitCritHyst)}
		}
		inv.Chips[c.entry] = ic
	}
	return inv
}

// inventoryMagic starts an encoded inventory; a change of format changes it.
const inventoryMagic = "thermal-hwmon-inventory 4\n"

// MarshalBinary encodes the inventory compactly, one line per chip and per
// channel, tab-separated: a steady-state beat decodes it for every sensor,
// and encoding/json's reflection cost more than reading the sensors did.
func (inv *Inventory) MarshalBinary() ([]byte, error) {
	return inv.known().encode(), nil
}

// encode is MarshalBinary of an inventory in a beat's form.
func (k *known) encode() []byte {
	b := make([]byte, 0, 256*len(k.chips))
	b = append(b, inventoryMagic...)
	for i := range k.chips {
		b = k.chips[i].appendTo(b)
	}
	return b
}

// appendTo appends the chip's line and its channels' lines.
func (c *knownChip) appendTo(b []byte) []byte {
	b = append(b, 'C', '\t')
	b = strconv.AppendUint(b, c.ino, 10)
	for _, f := range [...]string{c.entry, c.link, c.source, c.name, c.driver, c.bus, c.path, c.device} {
		b = append(b, '\t')
		b = appendEscaped(b, f)
	}
	b = append(b, '\n')
	for i := range c.channels {
		ch := &c.channels[i]
		b = append(b, ch.kind, '\t')
		b = strconv.AppendInt(b, int64(ch.n), 10)
		b = append(b, '\t')
		b = strconv.AppendUint(b, uint64(ch.attrs), 10)
		if ch.known {
			b = append(b, "\t1\t"...)
		} else {
			b = append(b, "\t0\t"...)
		}
		b = appendEscaped(b, ch.label)
		for l, v := range ch.limits {
			b = append(b, '\t')
			if ch.has&(1<<l) != 0 {
				b = strconv.AppendInt(b, v, 10)
			}
		}
		b = append(b, '\n')
	}
	return b
}

// UnmarshalBinary decodes what MarshalBinary encoded. Anything malformed is
// an error; the caller then inspects every chip afresh.
func (inv *Inventory) UnmarshalBinary(data []byte) error {
	k, err := decode(string(data))
	if err != nil {
		return err
	}
	inv.Chips = k.inventory().Chips
	return nil
}

var (
	errFormat  = errors.New("hwmon: inventory: unknown format")
	errLine    = errors.New("hwmon: inventory: bad line")
	errOrder   = errors.New("hwmon: inventory: chips out of order")
	errChannel = errors.New("hwmon: inventory: bad channel line")
)

// decode decodes an encoded inventory into a beat's form. Its strings are
// substrings of s. Chips must come in the order MarshalBinary writes them.
func decode(s string) (*known, error) {
	s, ok := strings.CutPrefix(s, inventoryMagic)
	if !ok {
		return nil, errFormat
	}
	// Every channel is a line: the channels of all chips share one array.
	lines := strings.Count(s, "\n") + 1
	k := &known{}
	chans := make([]channel, 0, lines)
	first := 0 // the first channel of the last chip
	for s != "" {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "C\t"):
			c, ok := decodeChip(line[2:])
			if !ok {
				return nil, errLine
			}
			if n := len(k.chips); n > 0 && k.chips[n-1].entry >= c.entry {
				return nil, errOrder
			}
			k.carve(chans, first)
			k.chips = append(k.chips, c)
			first = len(chans)
		case len(k.chips) > 0:
			ch, ok := decodeChannel(line)
			if !ok {
				return nil, errChannel
			}
			chans = append(chans, ch)
		default:
			return nil, errLine
		}
	}
	k.carve(chans, first)
	return k, nil
}

// carve gives the last chip decoded its channels, chans[first:].
func (k *known) carve(chans []channel, first int) {
	if n := len(k.chips); n > 0 {
		k.chips[n-1].channels = chans[first:len(chans):len(chans)]
	}
}

// decodeChip decodes the fields of a chip line after its "C".
func decodeChip(line string) (knownChip, bool) {
	var f [8]string
	sc := fields{s: line}
	ino, err := strconv.ParseUint(sc.next(), 10, 64)
	for i := range f {
		f[i] = unescape(sc.next())
	}
	if err != nil || !sc.end() {
		return knownChip{}, false
	}
	return knownChip{entry: f[0], link: f[1], ino: ino, source: f[2], name: f[3], driver: f[4], bus: f[5], path: f[6], device: f[7]}, true
}

// decodeChannel decodes a channel line: kind, number, attributes, known,
// label and the four limits (each empty when absent). It parses the line
// in one pass, byte by byte: its fields are short, and a call per field
// cost more than the decoding.
func decodeChannel(line string) (ch channel, ok bool) {
	if len(line) < 2 || !isKind(line[0]) || line[1] != '\t' {
		return ch, false
	}
	ch.kind = line[0]
	n, i := digits(line, 2)
	attrs, j := digits(line, i+1)
	if i == 2 || i > 2+9 || n < 1 || !tabAt(line, i) || j == i+1 || j > i+1+3 || attrs > math.MaxUint8 || !tabAt(line, j) ||
		j+2 >= len(line) || line[j+1] != '0' && line[j+1] != '1' || line[j+2] != '\t' {
		return ch, false
	}
	ch.n, ch.attrs, ch.known = int(n), uint8(attrs), line[j+1] == '1'
	i = j + 3
	j = i
	escaped := false
	for ; j < len(line) && line[j] != '\t'; j++ {
		escaped = escaped || line[j] == '\\'
	}
	if ch.label = line[i:j]; escaped {
		ch.label = unescape(ch.label)
	}
	for l := range ch.limits {
		if !tabAt(line, j) {
			return ch, false
		}
		if j++; j == len(line) || line[j] == '\t' {
			continue // absent
		}
		if ch.limits[l], j, ok = limitAt(line, j); !ok {
			return ch, false
		}
		ch.has |= 1 << l
	}
	return ch, j == len(line)
}

// digits returns the value of the decimal digits of s from i on, and
// where they end. Callers bound their number, so that it cannot overflow.
func digits(s string, i int) (v uint64, end int) {
	for ; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
	}
	return v, i
}

// tabAt reports whether s has a tab at i.
func tabAt(s string, i int) bool { return i < len(s) && s[i] == '\t' }

// limitAt parses the limit field of s that starts at i, a decimal int64,
// and returns where it ends.
func limitAt(s string, i int) (v int64, end int, ok bool) {
	neg := s[i] == '-'
	if neg {
		i++
	}
	u, end := digits(s, i)
	switch {
	case end == i || end-i > 19 || end < len(s) && s[end] != '\t':
		return 0, end, false
	case !neg && u <= math.MaxInt64:
		return int64(u), end, true
	case neg && u <= 1<<63:
		return int64(-u), end, true
	}
	return 0, end, false
}

// isKind reports whether c is a channel kind: 'T' tempN, 'F' fanN, 'P'
// powerN, 'W' pwmN, 'A' a Pi's under-voltage alarm.
func isKind(c byte) bool { return c == 'T' || c == 'F' || c == 'P' || c == 'W' || c == 'A' }

// fields reads the tab-separated fields of a chip line, left to right.
// Taking a field past the last marks the line bad.
type fields struct {
	s   string
	i   int // where the next field starts; len(s)+1 once the last was taken
	bad bool
}

// next returns the next field, found with IndexByte: the fields of a chip
// line are long (paths).
func (f *fields) next() string {
	if f.i > len(f.s) {
		f.bad = true
		return ""
	}
	rest := f.s[f.i:]
	j := strings.IndexByte(rest, '\t')
	if j < 0 {
		j = len(rest)
	}
	f.i += j + 1
	return rest[:j]
}

// end reports whether the line was well formed and every field was taken.
func (f *fields) end() bool { return f.i == len(f.s)+1 && !f.bad }

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 't':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
