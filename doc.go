// Package thermal holds what every part of the thermal heartbeat shares:
// the reading model and the source registry.
//
// A Chip is one device that reports readings (an hwmon chip, an NVMe
// controller, a thermal zone, an NVIDIA GPU, a CPU package's throttle
// counters), named as lm-sensors names it. Its Sensors are readings of a
// Kind that says what they are and in which unit (a temperature in
// millidegrees Celsius, a fan's speed in RPM, a throttle flag or count),
// or the error that kept them out of the report: a reading that could not
// be taken is never a zero, it carries an Err and is counted on its chip.
//
// A Source reads chips. Each source is one package that registers itself
// (Register) from init; package sources links them all. What only a source
// knows it answers through optional interfaces: which chips of another
// source it claims (Claimer), what it hands over when it yields a device
// (Adopter), which of its hardware limits are default thresholds and how
// they are named (Limiter), which devices other sources also export
// (TwinOwner), why it read nothing (Noter); its built-in rules and its
// options come with its Registration. Readings then flow one way: source
// → pipeline (ownership, configuration, derived history) → report, alert,
// notify.
package thermal
