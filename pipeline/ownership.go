package pipeline

import (
	"github.com/thermal-heartbeat/thermal"
)

// owner says that a chip another source offers belongs to source: hwmon
// exports every NVMe controller as a chip of the kernel's nvme driver, and
// DESIGN.md has NVMe controllers always carry source="nvme", whichever way
// they are read.
type owner struct {
	fromSource, driver string
	source             string
}

var owners = []owner{
	{fromSource: thermal.SourceHwmon, driver: "nvme", source: thermal.SourceNVMe},
}

// relabel gives c the source that owns its device.
func relabel(c *thermal.Chip) {
	for _, o := range owners {
		if c.Source == o.fromSource && c.Driver == o.driver {
			c.Source = o.source
		}
	}
}

// adopt hands what the source that yielded a device knew about it (y) to
// the chip that read it instead (c): its facts and its series. Limits the
// yielding source could not learn come from the chip's first sensor (an
// NVMe drive's Composite carries WCTEMP/CCTEMP as max/crit).
func adopt(c *thermal.Chip, y thermal.Chip) {
	attrs := append(thermal.Attrs(nil), y.Attrs...)
	if len(c.Sensors) > 0 {
		s := c.Sensors[0]
		for _, l := range []struct {
			key string
			v   *int64
		}{{"wctemp", s.Max}, {"cctemp", s.Crit}} {
			if v, ok := attrs.Get(l.key).(float64); (!ok || v == 0) && l.v != nil && hasKey(attrs, l.key) {
				attrs.Set(l.key, thermal.Celsius(*l.v))
			}
		}
	}
	c.Attrs = append(attrs, c.Attrs...)
	c.Series = append(append([]thermal.Series(nil), y.Series...), c.Series...)
}

func hasKey(as thermal.Attrs, key string) bool {
	for _, a := range as {
		if a.Key == key {
			return true
		}
	}
	return false
}

// twins marks each hwmon chip that a thermal zone exports (its device is
// the zone), and the zone: one physical sensor, two series, and hardware
// limits that apply to the zone only.
func twins(chips []thermal.Chip) {
	zones := map[string]int{}
	for i, c := range chips {
		if c.Source == thermal.SourceZone && c.Device != "" {
			zones[c.Device] = i
		}
	}
	if len(zones) == 0 {
		return
	}
	for i := range chips {
		c := &chips[i]
		if c.Source != thermal.SourceHwmon || c.Device == "" {
			continue
		}
		if z, ok := zones[c.Device]; ok {
			c.Twin = chips[z].Source + "/" + chips[z].Name
			chips[z].Twin = c.Source + "/" + c.Name
		}
	}
}
