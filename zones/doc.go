// Package zones reads the kernel's thermal zones under
// <sysfs>/class/thermal/thermal_zone*: each zone's type, its temperature and
// its trip points (Documentation/driver-api/thermal/sysfs-api.rst), all in
// millidegrees Celsius. A zone is reported as chip thermal_zoneN with one
// sensor named after the zone's type; its critical trip point is the
// sensor's Crit limit.
//
// prometheus/procfs has a reader for these zones, but it does not fit a
// heartbeat: it reports a temp that fails with EINVAL as 0 with no error (a
// fake zero), fails a zone that has no policy file, and reads policy, mode
// and passive, which the beat does not need. This package reads type, temp
// and trip points only, one non-blocking read each, and every failed read is
// counted, never turned into a value.
package zones
