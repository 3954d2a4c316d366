// Package report turns a beat's snapshot into the Prometheus text exposition
// that node_exporter's textfile collector serves, and writes it atomically: a
// temporary file in the target directory whose name does not end in .prom,
// renamed over <dir>/thermal.prom. Readers never see half a file. No series
// carries a timestamp.
//
// The text is rendered directly, not through a client_golang registry: the
// beat is counted first so that each buffer is allocated once, at its size;
// label values are ranked and escaped once each; the families of the chips
// and sensors are not stored as rows but read off them as they are
// written, walking the chips and the sensors in their label values' order,
// each sorted once; each sensor's labels after the chip's (its sensor and
// source values) are rendered once and copied into each of its lines; and
// the lines are appended straight to the free end of the output buffer.
// The output is byte for byte what a registry and expfmt produce (families
// by name, series by label values, label names sorted, the first of two
// equal label sets kept); tests render every fixture tree, random beats
// and fuzzed label values both ways, and promtool checks the result.
//
// The package's own families are all gauges:
//
//	node_thermal_celsius{source,chip,sensor}                       the reading, °C
//	node_thermal_limit_celsius{source,chip,sensor,limit}           the hardware's own limits (max, crit, emergency, crit_hyst, and any a source names, such as nvml's max_operating), °C
//	node_thermal_trip_point_celsius{source,chip,sensor,trip,type}  thermal zone trip points, °C
//	node_thermal_threshold_celsius{source,chip,sensor,level}       the threshold in force on a temperature (warning, critical), °C
//	node_thermal_alert{source,chip,sensor,level}                   1 while the breach is firing: a temperature's, a fan's failure or a chip's throttling
//	node_thermal_fan_rpm{source,chip,sensor}                       a fan's speed, RPM; a fan that cannot be read has no series
//	node_thermal_fan_min_rpm{source,chip,sensor}                   a fan's hardware minimum, RPM, where set
//	node_thermal_fan_target_rpm{source,chip,sensor}                the speed the fan controller asks for, RPM, where it says
//	node_thermal_fan_failed{source,chip,sensor}                    1 when a fan faults or alarms, spins below its minimum, or stopped after it was seen spinning
//	node_thermal_fan_duty_ratio{source,chip,sensor}                a fan's commanded speed, 0 … 1 (hwmon pwmN/255, NVML's percent)
//	node_thermal_power_watts{source,chip,sensor}                   the power a part draws, W
//	node_thermal_power_limit_watts{source,chip,sensor}             the power limit it is held to, W, where known
//	node_thermal_read_errors{source,chip}                          reads that failed or were rejected in this beat
//	node_thermal_chip_suspended{source,chip}                       1 when the chip was not read because its device sleeps
//	node_thermal_collect_duration_seconds{source}                  how long reading the source took
//	node_thermal_heartbeat_seconds                                 unix time of this beat's collection
//	node_thermal_config_valid                                      0 when the last good (or built-in) configuration was used
//	node_thermal_state_saved                                       0 when the breach state could not be saved
//
// Besides these, it renders whatever series the sources attach to their
// chips (thermal.Series), as given: a gauge or, where the series says so, a
// counter, with the source and chip labels of the chip that carries it before
// its own. A family takes its help, type and label names from its first
// series; a series that reuses the name of one of the families above, or
// changes its family's label names, is dropped. The sources attach these:
//
//	node_thermal_nvme_info{source,chip,model,serial,firmware}                   gauge, nvme: always 1
//	node_thermal_nvme_temperature_warning{source,chip}                          gauge, nvme: 1 while the SMART log's temperature warning bit is set
//	node_thermal_nvme_warning_temperature_time_seconds_total{source,chip}       counter, nvme: time at or above WCTEMP
//	node_thermal_nvme_critical_temperature_time_seconds_total{source,chip}      counter, nvme: time at or above CCTEMP
//	node_thermal_nvme_thermal_management_transitions_total{source,chip,level}   counter, nvme: entries into thermal management temperature 1 or 2
//	node_thermal_nvme_thermal_management_seconds_total{source,chip,level}       counter, nvme: time in thermal management temperature 1 or 2
//	node_thermal_gpu_info{source,chip,model,uuid}                               gauge, nvml: always 1
//	node_thermal_drive_info{source,chip,model,serial,transport}                 gauge, disk: always 1
//	node_thermal_throttling{source,chip,reason}                                 gauge, nvml and hwmon (thermal.Throttling): 1 while the reason holds (hw_slowdown, hw_thermal, sw_thermal; a Pi's under_voltage)
//	node_thermal_throttle_seconds_total{source,chip,kind}                       counter, cpu (kind package or core) and nvml (kind thermal): time throttled
//	node_thermal_throttle_events_total{source,chip,kind}                        counter, cpu: thermal throttle events of a package or core
//	node_thermal_throttle_max_seconds{source,chip,kind}                         gauge, cpu: the longest single throttle event of a package or core
//
// A chip marked Aux holds series that belong to no chip: they carry only
// their own labels, and nothing else of the chip is rendered. The thermal
// zones' cooling devices are such series, both gauges:
//
//	node_thermal_cooling_device_state{type,device}      a cooling device's current state (0: not cooling)
//	node_thermal_cooling_device_max_state{type,device}  its maximum state
//
// The beat adds one more such series when the configuration has a [push]
// URL: node_thermal_push_failures_total, a counter of failed pushes.
package report
