package nvml

import (
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// SourceName is the source label.
const SourceName = "nvml"

func init() {
	thermal.Register(thermal.Registration{
		Name: SourceName,
		New: func(env thermal.Env) (thermal.Source, error) {
			return NewFS(env.Sysfs, env.Range)
		},
		Rules: []thermal.Rule{{Kind: thermal.KindThrottle, Level: thermal.Warning, For: 5 * time.Minute, Repeat: time.Hour}},
	})
}

// HardwareThresholds implements thermal.Limiter: an NVIDIA GPU warns at the
// driver's slowdown temperature (the memory's maximum operating one for
// Memory) and is critical at its shutdown temperature.
func (FS) HardwareThresholds(_ *thermal.Chip, s *thermal.Sensor) (warn, crit thermal.Threshold) {
	limit := "NVML slowdown"
	if s.Attr == "memory" {
		limit = "NVML memory max operating"
	}
	return thermal.HardwareLimit(thermal.Warning, s.Max, "", limit),
		thermal.HardwareLimit(thermal.Critical, s.Crit, "", "NVML shutdown")
}
