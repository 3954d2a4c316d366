package hwmon

import (
	"errors"
	"sort"
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
// inspected afresh.
type Inventory struct {
	Chips map[string]InventoryChip `json:"chips"`
	// Changed is set by ChipsCached when something was read afresh and the
	// inventory is worth saving.
	Changed bool `json:"-"`
}

// InventoryChip is one chip of the inventory.
type InventoryChip struct {
	Link     string             `json:"link"`
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

// lookup returns the inventory's chip for class entry e when its link is
// unchanged.
func (inv *Inventory) lookup(e, link string, linkErr error) (InventoryChip, bool) {
	if inv == nil || linkErr != nil {
		return InventoryChip{}, false
	}
	c, ok := inv.Chips[e]
	return c, ok && c.Link == link
}

// complete reports whether every channel's label and limits are known.
func (c *InventoryChip) complete() bool {
	for _, ch := range c.Channels {
		if !ch.Known {
			return false
		}
	}
	return true
}

func (c InventoryChip) chip() thermal.Chip {
	return thermal.Chip{Source: c.Source, Name: c.Name, Driver: c.Driver, Bus: c.Bus, Path: c.Path, Device: c.Device}
}

func (c InventoryChip) channels() []channel {
	out := make([]channel, len(c.Channels))
	for i, ch := range c.Channels {
		out[i] = channel{kind: ch.Kind, n: ch.N, attrs: ch.Attrs, known: ch.Known, label: ch.Label,
			max: ch.Max, crit: ch.Crit, emergency: ch.Emergency, critHyst: ch.CritHyst}
	}
	return out
}

// remember records chip c, read through channels, and reports whether it
// learned anything the inventory did not know.
func (inv *Inventory) remember(entry, link string, c thermal.Chip, channels []channel) (learned bool) {
	// The name before thermal.UniqueChipNames adds a #N suffix.
	name := c.Name
	ic := InventoryChip{Link: link, Source: c.Source, Name: name, Driver: c.Driver, Bus: c.Bus, Path: c.Path, Device: c.Device,
		Channels: make([]InventoryChannel, len(channels))}
	byAttr := make(map[string]thermal.Sensor, len(c.Sensors))
	for _, s := range c.Sensors {
		byAttr[s.Attr] = s
	}
	for i, ch := range channels {
		ic.Channels[i] = InventoryChannel{Kind: ch.kind, N: ch.n, Attrs: ch.attrs, Known: ch.known, Label: ch.label,
			Max: ch.max, Crit: ch.crit, Emergency: ch.emergency, CritHyst: ch.critHyst}
		if ch.known {
			continue
		}
		attr := map[byte]string{'T': "temp", 'F': "fan", 'P': "power", 'W': "pwm"}[ch.kind] + strconv.Itoa(ch.n)
		if ch.kind == 'A' {
			attr = "in" + strconv.Itoa(ch.n-1) + "_lcrit_alarm"
		}
		s, ok := byAttr[attr]
		// Label and limits were read when the input was: the sensor has a
		// value, or one rejected only for its range.
		if ok && s.AuxErrors == 0 && (s.Err == nil || isRangeErr(s.Err)) {
			ic.Channels[i] = InventoryChannel{Kind: ch.kind, N: ch.n, Attrs: ch.attrs, Known: true, Label: s.Label,
				Max: s.Max, Crit: s.Crit, Emergency: s.Emergency, CritHyst: s.CritHyst}
			if ch.kind == 'F' {
				ic.Channels[i].Max, ic.Channels[i].Crit = s.FanMin, s.FanTarget
			}
			learned = true
		}
	}
	inv.Chips[entry] = ic
	return learned
}

func isRangeErr(err error) bool { return errors.Is(err, thermal.ErrOutOfRange) }

// inventoryMagic starts an encoded inventory; a change of format changes it.
const inventoryMagic = "thermal-hwmon-inventory 3\n"

// MarshalBinary encodes the inventory compactly, one line per chip and per
// channel, tab-separated: a steady-state beat decodes it for every sensor,
// and encoding/json's reflection cost more than reading the sensors did.
func (inv *Inventory) MarshalBinary() ([]byte, error) {
	entries := make([]string, 0, len(inv.Chips))
	for e := range inv.Chips {
		entries = append(entries, e)
	}
	sort.Strings(entries)
	b := make([]byte, 0, 256*len(entries))
	b = append(b, inventoryMagic...)
	field := func(s string) {
		b = append(b, '\t')
		b = appendEscaped(b, s)
	}
	limit := func(v *int64) {
		b = append(b, '\t')
		if v != nil {
			b = strconv.AppendInt(b, *v, 10)
		}
	}
	for _, e := range entries {
		c := inv.Chips[e]
		b = append(b, 'C')
		for _, f := range []string{e, c.Link, c.Source, c.Name, c.Driver, c.Bus, c.Path, c.Device} {
			field(f)
		}
		b = append(b, '\n')
		for _, ch := range c.Channels {
			b = append(b, ch.Kind, '\t')
			b = strconv.AppendInt(b, int64(ch.N), 10)
			b = append(b, '\t')
			b = strconv.AppendUint(b, uint64(ch.Attrs), 10)
			if ch.Known {
				b = append(b, "\t1"...)
			} else {
				b = append(b, "\t0"...)
			}
			field(ch.Label)
			limit(ch.Max)
			limit(ch.Crit)
			limit(ch.Emergency)
			limit(ch.CritHyst)
			b = append(b, '\n')
		}
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded. Anything malformed is
// an error; the caller then inspects every chip afresh.
func (inv *Inventory) UnmarshalBinary(data []byte) error {
	s, ok := strings.CutPrefix(string(data), inventoryMagic)
	if !ok {
		return errors.New("hwmon: inventory: unknown format")
	}
	inv.Chips = map[string]InventoryChip{}
	var cur *InventoryChip
	var curEntry string
	flush := func() {
		if cur != nil {
			inv.Chips[curEntry] = *cur
		}
	}
	var fields [10]string
	for line := range strings.SplitSeq(s, "\n") {
		if line == "" {
			continue
		}
		n := splitTabs(line, fields[:])
		switch {
		case fields[0] == "C" && n == 9:
			flush()
			curEntry = unescape(fields[1])
			cur = &InventoryChip{Link: unescape(fields[2]), Source: unescape(fields[3]), Name: unescape(fields[4]),
				Driver: unescape(fields[5]), Bus: unescape(fields[6]), Path: unescape(fields[7]), Device: unescape(fields[8])}
		case len(fields[0]) == 1 && strings.Contains("TFPWA", fields[0]) && n == 9 && cur != nil:
			num, err1 := strconv.Atoi(fields[1])
			attrs, err2 := strconv.ParseUint(fields[2], 10, 8)
			if err1 != nil || err2 != nil || num < 1 || (fields[3] != "0" && fields[3] != "1") {
				return errors.New("hwmon: inventory: bad channel line")
			}
			ch := InventoryChannel{Kind: fields[0][0], N: num, Attrs: uint8(attrs), Known: fields[3] == "1", Label: unescape(fields[4])}
			for i, dst := range []**int64{&ch.Max, &ch.Crit, &ch.Emergency, &ch.CritHyst} {
				if f := fields[5+i]; f != "" {
					v, err := strconv.ParseInt(f, 10, 64)
					if err != nil {
						return errors.New("hwmon: inventory: bad limit")
					}
					*dst = &v
				}
			}
			cur.Channels = append(cur.Channels, ch)
		default:
			return errors.New("hwmon: inventory: bad line")
		}
	}
	flush()
	return nil
}

// splitTabs splits line at tabs into fields and returns how many there
// were (more than len(fields) counts as len(fields)+1).
func splitTabs(line string, fields []string) int {
	n := 0
	for {
		i := strings.IndexByte(line, '\t')
		if n == len(fields) {
			return n + 1
		}
		if i < 0 {
			fields[n] = line
			return n + 1
		}
		fields[n] = line[:i]
		line = line[i+1:]
		n++
	}
}

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
