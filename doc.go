// Package thermal holds the reading model shared by every source of the
// thermal heartbeat: a Chip (one hwmon device, NVMe controller or thermal
// zone, named as lm-sensors names it) with its Sensors, each a reading in
// millidegrees Celsius or the error that kept it out of the report.
//
// The readers live in their own packages (hwmon, zones, nvme); the
// exposition in report. A reading that could not be taken is never a zero:
// it carries an Err and is counted on its chip.
package thermal
