package nvme

import (
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// SourceName is the source label.
const SourceName = "nvme"

// kernelChip is how the hwmon source offers a controller: a chip of the
// kernel's nvme driver.
const (
	kernelSource = "hwmon"
	kernelDriver = "nvme"
)

func init() {
	thermal.Register(thermal.Registration{
		Name: SourceName,
		New: func(env thermal.Env) (thermal.Source, error) {
			return NewFS(env.Sysfs, env.Dev, env.Range)
		},
		// The kernel's nvme chip of a controller read through the ioctl is
		// left alone: hwmon reads once nvme has settled which it reads.
		Before: []string{kernelSource},
		Rules: []thermal.Rule{{Sensor: "Composite", Warning: 70, For: time.Minute, Hysteresis: 2, Repeat: time.Hour,
			Comment: "NVMe drives: the Composite temperature."}},
	})
}

// Claims implements thermal.Claimer: the kernel's nvme hwmon chip is an
// NVMe controller, which always carries source="nvme" whichever way it is
// read (DESIGN.md).
func (FS) Claims(c *thermal.Chip) bool { return c.Source == kernelSource && c.Driver == kernelDriver }

// HardwareThresholds implements thermal.Limiter: the drive's warning and
// critical composite temperatures (WCTEMP, CCTEMP; the kernel's nvme chip
// exports them as temp1_max and temp1_crit).
func (FS) HardwareThresholds(_ *thermal.Chip, s *thermal.Sensor) (warn, crit thermal.Threshold) {
	return thermal.HardwareLimit(thermal.Warning, s.Max, "", "NVMe WCTEMP"),
		thermal.HardwareLimit(thermal.Critical, s.Crit, "", "NVMe CCTEMP")
}

// Adopt implements thermal.Adopter: a controller whose ioctl was refused is
// read through the kernel's nvme chip (c), which gets what the ioctl path
// knew of it (y: model, serial, how it was read, its info series). Limits
// the ioctl path could not learn come from the chip's Composite, which
// carries WCTEMP/CCTEMP as max/crit.
func (FS) Adopt(c *thermal.Chip, y thermal.Chip) {
	attrs := append(thermal.Attrs(nil), y.Attrs...)
	if len(c.Sensors) > 0 {
		s := c.Sensors[0]
		for _, l := range []struct {
			key string
			v   *int64
		}{{"wctemp", s.Max}, {"cctemp", s.Crit}} {
			if v, ok := attrs.Get(l.key).(float64); (!ok || v == 0) && l.v != nil && attrs.Has(l.key) {
				attrs.Set(l.key, thermal.Celsius(*l.v))
			}
		}
	}
	y.Attrs = attrs
	thermal.MergeYielded(c, y)
}
