// Package pipeline turns the sources' chips into one snapshot of a beat.
// It builds the registered sources, runs them under the
// beat's deadline, each after the sources it waits for, and settles which
// source owns a device that two of them can read, through the sources' own
// answers (thermal.Claimer, Adopter, TwinOwner): an NVMe controller is
// read through the admin ioctl, else through the kernel's nvme hwmon chip;
// a thermal zone's hwmon twin keeps its series but not its hardware-limit
// thresholds. It then applies the configuration ([[ignore]] before reads
// where a source can, lm-sensors' statements, [[label]] renames,
// thresholds over the limits each source names, thermal.Limiter), and
// Snapshot.Derive completes the readings with the last beat's history
// (fans that stopped, throttle counts that grew). Report, alert and notify
// consume the Snapshot; the pipeline imports none of them and names no
// source.
package pipeline
