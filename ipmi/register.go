package ipmi

import "github.com/thermal-heartbeat/thermal"

// SourceName is the source label.
const SourceName = "ipmi"

func init() {
	thermal.Register(thermal.Registration{
		Name: SourceName,
		New: func(env thermal.Env) (thermal.Source, error) {
			return NewFS(env.Sysfs, env.Dev, env.Range)
		},
	})
}

// HardwareThresholds implements thermal.Limiter: the BMC's upper
// non-critical threshold warns, its upper critical (else non-recoverable)
// one is critical, named as ipmitool names them.
func (FS) HardwareThresholds(_ *thermal.Chip, s *thermal.Sensor) (warn, crit thermal.Threshold) {
	warn = thermal.HardwareLimit(thermal.Warning, s.Max, "", "upper non-critical")
	crit = thermal.HardwareLimit(thermal.Critical, s.Crit, "", "upper critical")
	if crit.Level == "" {
		crit = thermal.HardwareLimit(thermal.Critical, s.Emergency, "", "upper non-recoverable")
	}
	return warn, crit
}
