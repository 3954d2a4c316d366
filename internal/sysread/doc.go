// Package sysread reads sysfs attribute files the way the kernel expects a
// monitoring tool to: one non-blocking open, one read into a caller-owned
// buffer, one close. It never loops on EAGAIN (os.ReadFile does, forever, on
// some hwmon drivers), never stats, and never allocates on the hot path.
//
// Values are parsed by pure functions (ParseInt, Trim) that tests and fuzzers
// feed directly.
package sysread
