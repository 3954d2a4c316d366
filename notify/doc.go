// Package notify tells the outside world about a beat: a Sentry Cron
// Monitor check-in per beat and a Sentry event per breach that fires,
// repeats or clears (through getsentry/sentry-go, when SENTRY_DSN is set),
// and a plain heartbeat URL (THERMAL_CHECKIN_URL) for Sentry's HTTP cron
// endpoint, healthchecks-style services and Uptime Kuma push monitors.
//
// The beat calls it after the textfile and the state are written, under one
// deadline: delivery that does not finish in time is abandoned, logged, and
// never fails the beat.
package notify
