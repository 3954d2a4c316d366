package zones

import (
	"github.com/thermal-heartbeat/thermal"
)

// SourceName is the source label.
const SourceName = "thermal_zone"

func init() {
	thermal.Register(thermal.Registration{
		Name: SourceName,
		New: func(env thermal.Env) (thermal.Source, error) {
			return NewFS(env.Sysfs, env.Range)
		},
	})
}

// HardwareThresholds implements thermal.Limiter: a zone is critical at its
// critical trip point; its other trip points are where the kernel acts
// (cooling, throttling), not where a person must.
func (FS) HardwareThresholds(_ *thermal.Chip, s *thermal.Sensor) (warn, crit thermal.Threshold) {
	return warn, thermal.HardwareLimit(thermal.Critical, s.Crit, "", "critical trip point")
}

// TwinKey implements thermal.TwinOwner: a zone that the kernel also
// exports as an hwmon chip (acpitz, iwlwifi_1, cpu_thermal) is that chip's
// device. One physical sensor pages once: the zone owns the trip points.
func (FS) TwinKey(c *thermal.Chip) string { return c.Device }
