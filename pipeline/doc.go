// Package pipeline turns the sources' chips into one snapshot of a beat.
// It runs every thermal.Source under the beat's deadline, settles which
// source owns a device that two of them can read (an NVMe controller is
// read through the admin ioctl, else through the kernel's nvme hwmon chip;
// a thermal zone's hwmon twin keeps its series but not its hardware-limit
// thresholds), applies the configuration ([[ignore]] before reads where a
// source can, [[label]] renames, thresholds), and hands the Snapshot to
// report, alert and notify. It knows the sources only as the ownership
// rules in ownership.go name them.
package pipeline
