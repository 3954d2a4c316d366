// Package report turns a beat's snapshot into the Prometheus text exposition
// that node_exporter's textfile collector serves, and writes it atomically: a
// temporary file in the target directory whose name does not end in .prom,
// renamed over <dir>/thermal.prom. Readers never see half a file. No series
// carries a timestamp.
//
// The text is rendered directly, not through a client_golang registry: label
// values are interned once, rows sorted by packed integer keys, and streamed
// through one 64 KiB buffer. The output is byte for byte what a registry and
// expfmt produce (families by name, series by label values, label names
// sorted, the first of two equal label sets kept); a test renders every
// fixture tree and fuzzed label values both ways, and promtool checks the
// result.
//
// Series (gauges unless marked):
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
//	node_thermal_config_valid                                0 when the last good (or built-in) configuration was used
//	node_thermal_state_saved                                 0 when the breach state could not be saved
//
// and whatever series the sources attach to their chips (thermal.Series),
// rendered as given with source and chip labels: the nvme source's
// node_thermal_nvme_info and temperature_warning gauges and its
// *_seconds_total and *_transitions_total counters.
package report
