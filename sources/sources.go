// Package sources links every source into the program: importing it (for
// its side effect) registers hwmon, nvme, thermal zones, NVML, the CPU
// throttle counters and SATA/SAS drives with thermal.Register, the way node_exporter links its
// collectors. A new source is one package and one line here.
package sources

import (
	_ "github.com/thermal-heartbeat/thermal/cpu"   // cpu: thermal throttle counters
	_ "github.com/thermal-heartbeat/thermal/disk"  // disk: SATA/SAS drives over SG_IO
	_ "github.com/thermal-heartbeat/thermal/hwmon" // hwmon: /sys/class/hwmon
	_ "github.com/thermal-heartbeat/thermal/ipmi"  // ipmi: the BMC through /dev/ipmiN
	_ "github.com/thermal-heartbeat/thermal/nvme"  // nvme: SMART log over the admin ioctl
	_ "github.com/thermal-heartbeat/thermal/nvml"  // nvml: NVIDIA GPUs
	_ "github.com/thermal-heartbeat/thermal/zones" // thermal_zone: /sys/class/thermal
)
