package disk

import (
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// SourceName is the source label.
const SourceName = "disk"

// kernelChip is how the hwmon source offers a drive: a chip of the
// kernel's drivetemp driver.
const (
	kernelSource = "hwmon"
	kernelDriver = "drivetemp"
)

func init() {
	thermal.Register(thermal.Registration{
		Name: SourceName,
		New: func(env thermal.Env) (thermal.Source, error) {
			return NewFS(env.Sysfs, env.Dev, env.Range)
		},
		// A drive's drivetemp chip is left alone when the drive was read
		// here: hwmon reads once disk has settled which it reads.
		Before: []string{kernelSource},
		Rules: []thermal.Rule{{Sensor: "temp1", Warning: 55, For: 5 * time.Minute, Hysteresis: 2, Repeat: time.Hour,
			Comment: "SATA and SAS drives: most hard disks are specified to run at up to 55-60 °C\n" +
				"(SATA SSDs 70 °C), and fail more often well before that; a drive's own\n" +
				"SCT limits, where it has them, add their warning and critical thresholds.\n" +
				"Five minutes, because a drive warms slowly and a scrub or rebuild passes."}},
	})
}

// Claims implements thermal.Claimer: the kernel's drivetemp chip is a
// drive, which always carries source="disk" whichever way it is read
// (DESIGN.md).
func (FS) Claims(c *thermal.Chip) bool { return c.Source == kernelSource && c.Driver == kernelDriver }

// HardwareThresholds implements thermal.Limiter: the drive's recommended
// maximum temperature (SCT; a SCSI drive's reference temperature) warns,
// its limit is critical. drivetemp exports the same as temp1_max and
// temp1_crit.
func (FS) HardwareThresholds(_ *thermal.Chip, s *thermal.Sensor) (warn, crit thermal.Threshold) {
	return thermal.HardwareLimit(thermal.Warning, s.Max, "", "the drive's recommended maximum"),
		thermal.HardwareLimit(thermal.Critical, s.Crit, "", "the drive's temperature limit")
}
