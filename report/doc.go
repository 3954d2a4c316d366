// Package report turns a beat's readings into the Prometheus text exposition
// that node_exporter's textfile collector serves, through a client_golang
// registry (so that every series is checked for a unique label set), and
// writes it atomically: a temporary file in the target directory whose name
// does not end in .prom, renamed over <dir>/thermal.prom. Readers never see
// half a file. No series carries a timestamp.
//
// Series (all gauges):
//
//	node_thermal_celsius{source,chip,sensor}                 the reading, °C
//	node_thermal_limit_celsius{source,chip,sensor,limit}     the hardware's own limits (max, crit, emergency, crit_hyst), °C
//	node_thermal_trip_point_celsius{source,chip,sensor,trip,type}  thermal zone trip points, °C
//	node_thermal_read_errors{source,chip}                    reads that failed or were rejected in this beat
//	node_thermal_chip_suspended{source,chip}                 1 when the chip was not read because its device sleeps
//	node_thermal_collect_duration_seconds{source}            how long reading the source took
//	node_thermal_threshold_celsius{source,chip,sensor,level} the threshold in force (warning, critical), °C
//	node_thermal_alert{source,chip,sensor,level}             1 while the breach is firing
//	node_thermal_heartbeat_seconds                           unix time of this beat's collection
package report
