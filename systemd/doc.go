// Package systemd holds the units that run the heartbeat:
// thermal-heartbeat.service, a hardened oneshot that runs `thermal beat`, and
// thermal-heartbeat.timer, which starts it every 30 seconds. The tests verify
// them with systemd-analyze.
package systemd
