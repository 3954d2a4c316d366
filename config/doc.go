// Package config reads the thresholds file, /etc/thermal-heartbeat/thermal.toml:
// [[rule]] tables that set warning and critical thresholds (with `for`,
// `hysteresis` and `repeat`) for sensors matched by globs on source, chip
// and sensor; [[ignore]] tables for sensors never to read or report;
// [[label]] tables that rename sensors; and a [sentry] table.
//
// Decoding is strict (BurntSushi/toml): unknown keys, bad globs, bad
// durations, NaN, and a warning at or above its critical are errors, each
// naming the file and line. When the default path is absent the embedded
// defaults apply (CPU packages warn above 85 °C, NVMe Composite above
// 70 °C). Where no rule matches a sensor, the hardware's own limits apply.
package config
