// Package deploy holds the observability assets shipped with thermal: a
// Grafana dashboard (grafana/thermal.json) and Prometheus/vmalert rules
// (prometheus/thermal-rules.yml, with promtool unit tests). The tests check
// that every query names series thermal writes, and run promtool.
package deploy
