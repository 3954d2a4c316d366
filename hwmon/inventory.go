package hwmon

import (
	"errors"
	"strconv"

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

func (c InventoryChip) chip() thermal.Chip {
	return thermal.Chip{Source: c.Source, Name: c.Name, Driver: c.Driver, Bus: c.Bus, Path: c.Path, Device: c.Device}
}

func (c InventoryChip) channels() []channel {
	out := make([]channel, len(c.Channels))
	for i, ch := range c.Channels {
		out[i] = channel{n: ch.N, attrs: ch.Attrs, known: ch.Known, label: ch.Label,
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
		ic.Channels[i] = InventoryChannel{N: ch.n, Attrs: ch.attrs, Known: ch.known, Label: ch.label,
			Max: ch.max, Crit: ch.crit, Emergency: ch.emergency, CritHyst: ch.critHyst}
		if ch.known {
			continue
		}
		s, ok := byAttr["temp"+strconv.Itoa(ch.n)]
		// Label and limits were read when the input was: the sensor has a
		// value, or one rejected only for its range.
		if ok && s.AuxErrors == 0 && (s.Err == nil || isRangeErr(s.Err)) {
			ic.Channels[i] = InventoryChannel{N: ch.n, Attrs: ch.attrs, Known: true, Label: s.Label,
				Max: s.Max, Crit: s.Crit, Emergency: s.Emergency, CritHyst: s.CritHyst}
			learned = true
		}
	}
	inv.Chips[entry] = ic
	return learned
}

func isRangeErr(err error) bool { return errors.Is(err, thermal.ErrOutOfRange) }
