package hwmon

import (
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// SourceName is the source label.
const SourceName = "hwmon"

func init() {
	thermal.Register(thermal.Registration{
		Name: SourceName,
		New: func(env thermal.Env) (thermal.Source, error) {
			return NewFS(env.Sysfs, env.Range)
		},
		Rules: []thermal.Rule{
			cpuRule("coretemp-*", "Package id *", "CPU packages: Intel coretemp, AMD k10temp, Raspberry Pi and other SoCs."),
			cpuRule("k10temp-*", "Tctl", ""),
			cpuRule("k10temp-*", "Tdie", ""),
			cpuRule("cpu_thermal-*", "", ""),
			// A Raspberry Pi's supply below its critical voltage: the
			// firmware throttles the SoC until it recovers. A minute,
			// so that one dip does not page.
			{Kind: thermal.KindThrottle, Sensor: "under_voltage", Level: thermal.Warning, For: time.Minute, Repeat: time.Hour,
				Comment: "Under-voltage: a Raspberry Pi whose supply stays below its critical voltage for a\nminute (the firmware throttles the SoC)."},
		},
	})
}

// cpuRule warns above 85 °C, where CPUs of every vendor start to run at
// the edge of their rating (Intel's TjMax is 95-105 °C, AMD's 95 °C).
func cpuRule(chip, sensor, comment string) thermal.Rule {
	return thermal.Rule{Chip: chip, Sensor: sensor, Warning: 85, For: time.Minute, Hysteresis: 2, Repeat: time.Hour, Comment: comment}
}
