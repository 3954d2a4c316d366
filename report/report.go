package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/thermal-heartbeat/thermal"
)

// FileName is the textfile a beat writes in the textfile directory.
const FileName = "thermal.prom"

// Beat is what one beat collected.
type Beat struct {
	Time      time.Time // when collection started
	Chips     []thermal.Chip
	Durations map[string]time.Duration // collection time per source
	// Thresholds are the thresholds in force, with whether each is firing.
	Thresholds []Threshold
}

// Threshold is one threshold in force for one sensor.
type Threshold struct {
	Source, Chip, Sensor string
	Level                string // warning or critical
	Celsius              float64
	Firing               bool // the breach has held for `for` and not cleared
}

var (
	labelsSensor = []string{"source", "chip", "sensor"}
	labelsChip   = []string{"source", "chip"}

	descCelsius = prometheus.NewDesc("node_thermal_celsius",
		"Temperature reported by a sensor, in degrees Celsius.", labelsSensor, nil)
	descLimit = prometheus.NewDesc("node_thermal_limit_celsius",
		"The hardware's own limit for a sensor (hwmon max, crit, emergency, crit_hyst; NVMe WCTEMP/CCTEMP as max/crit; a zone's critical trip as crit), in degrees Celsius.",
		append(labelsSensor[:3:3], "limit"), nil)
	descTrip = prometheus.NewDesc("node_thermal_trip_point_celsius",
		"A thermal zone trip point, in degrees Celsius.", append(labelsSensor[:3:3], "trip", "type"), nil)
	descErrors = prometheus.NewDesc("node_thermal_read_errors",
		"Reads of a chip that failed or were rejected (fault, out of range, timed out) in this beat.", labelsChip, nil)
	descSuspended = prometheus.NewDesc("node_thermal_chip_suspended",
		"1 when the chip's device was runtime-suspended and so was not read (monitoring never wakes a device), else 0.", labelsChip, nil)
	descDuration = prometheus.NewDesc("node_thermal_collect_duration_seconds",
		"Time taken to read a source in this beat, in seconds.", []string{"source"}, nil)
	descNVMeInfo = prometheus.NewDesc("node_thermal_nvme_info",
		"An NVMe controller: model, serial and firmware from sysfs; always 1.", append(labelsChip[:2:2], "model", "serial", "firmware"), nil)
	descNVMeTempWarning = prometheus.NewDesc("node_thermal_nvme_temperature_warning",
		"1 while the SMART log's critical warning bit 1 is set: a temperature is past an over- or under-temperature threshold.", labelsChip, nil)
	descNVMeWarnTime = prometheus.NewDesc("node_thermal_nvme_warning_temperature_time_seconds_total",
		"Time the composite temperature has spent at or above the drive's warning threshold (WCTEMP), from the SMART log (minute resolution).", labelsChip, nil)
	descNVMeCritTime = prometheus.NewDesc("node_thermal_nvme_critical_temperature_time_seconds_total",
		"Time the composite temperature has spent at or above the drive's critical threshold (CCTEMP), from the SMART log (minute resolution).", labelsChip, nil)
	descNVMeTransitions = prometheus.NewDesc("node_thermal_nvme_thermal_management_transitions_total",
		"Times the controller entered thermal management temperature 1 or 2 (light or heavy throttling).", append(labelsChip[:2:2], "level"), nil)
	descNVMeTMTime = prometheus.NewDesc("node_thermal_nvme_thermal_management_seconds_total",
		"Time the controller has spent in thermal management temperature 1 or 2 (throttling).", append(labelsChip[:2:2], "level"), nil)
	descThreshold = prometheus.NewDesc("node_thermal_threshold_celsius",
		"The threshold in force for a sensor (a configured rule, else the hardware's own limit), in degrees Celsius.",
		append(labelsSensor[:3:3], "level"), nil)
	descAlert = prometheus.NewDesc("node_thermal_alert",
		"1 while a sensor's breach of its threshold is firing (it held for the rule's `for` and has not cleared), else 0.",
		append(labelsSensor[:3:3], "level"), nil)
	descHeartbeat = prometheus.NewDesc("node_thermal_heartbeat_seconds",
		"Unix time at which this beat collected its readings, in seconds.", nil, nil)
)

// collector exposes one Beat as constant metrics.
type collector struct{ b Beat }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCelsius, descLimit, descTrip, descErrors, descSuspended, descDuration, descHeartbeat,
		descThreshold, descAlert, descNVMeInfo, descNVMeTempWarning, descNVMeWarnTime, descNVMeCritTime, descNVMeTransitions, descNVMeTMTime} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	// The readers make names unique; should two series still share a label
	// set, the first is kept: one bad name must not cost the whole file.
	seen := make(map[string]struct{}, 8*len(c.b.Chips))
	metric := func(t prometheus.ValueType, d *prometheus.Desc, v float64, labels ...string) {
		for i, l := range labels {
			labels[i] = strings.ToValidUTF8(l, "\uFFFD")
		}
		key := d.String() + "\x00" + strings.Join(labels, "\x00")
		if _, dup := seen[key]; dup {
			return
		}
		seen[key] = struct{}{}
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) { metric(prometheus.GaugeValue, d, v, labels...) }
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		metric(prometheus.CounterValue, d, v, labels...)
	}
	for _, chip := range c.b.Chips {
		gauge(descErrors, float64(chip.Errors), chip.Source, chip.Name)
		suspended := 0.0
		if chip.Asleep {
			suspended = 1
		}
		gauge(descSuspended, suspended, chip.Source, chip.Name)
		if n := chip.NVMe; n != nil {
			gauge(descNVMeInfo, 1, chip.Source, chip.Name, n.Model, n.Serial, n.Firmware)
			if sm := n.SMART; sm != nil {
				warn := 0.0
				if sm.TemperatureWarning {
					warn = 1
				}
				gauge(descNVMeTempWarning, warn, chip.Source, chip.Name)
				counter(descNVMeWarnTime, float64(sm.WarningTempMinutes)*60, chip.Source, chip.Name)
				counter(descNVMeCritTime, float64(sm.CriticalTempMinutes)*60, chip.Source, chip.Name)
				for i, level := range []string{"1", "2"} {
					counter(descNVMeTransitions, float64(sm.ThermalTransitions[i]), chip.Source, chip.Name, level)
					counter(descNVMeTMTime, float64(sm.ThermalSeconds[i]), chip.Source, chip.Name, level)
				}
			}
		}
		for _, s := range chip.Sensors {
			if s.Err != nil {
				continue
			}
			gauge(descCelsius, s.Celsius(), chip.Source, chip.Name, s.Name)
			for _, l := range []struct {
				name string
				v    *int64
			}{{"max", s.Max}, {"crit", s.Crit}, {"emergency", s.Emergency}, {"crit_hyst", s.CritHyst}} {
				if l.v != nil {
					gauge(descLimit, thermal.Celsius(*l.v), chip.Source, chip.Name, s.Name, l.name)
				}
			}
			for _, t := range s.Trips {
				gauge(descTrip, thermal.Celsius(t.Milli), chip.Source, chip.Name, s.Name, strconv.Itoa(t.Index), t.Type)
			}
		}
	}
	for _, t := range c.b.Thresholds {
		gauge(descThreshold, t.Celsius, t.Source, t.Chip, t.Sensor, t.Level)
		firing := 0.0
		if t.Firing {
			firing = 1
		}
		gauge(descAlert, firing, t.Source, t.Chip, t.Sensor, t.Level)
	}
	for source, d := range c.b.Durations {
		gauge(descDuration, d.Seconds(), source)
	}
	gauge(descHeartbeat, float64(c.b.Time.UnixMilli())/1e3)
}

// Write writes the beat's exposition text to w.
func Write(w io.Writer, b Beat) error {
	// A plain registry still rejects two series with the same labels; the
	// pedantic one's per-metric descriptor checks cost more than the rest of
	// the beat and are covered by the golden tests.
	reg := prometheus.NewRegistry()
	if err := reg.Register(collector{b}); err != nil {
		return err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes the beat to dir/thermal.prom atomically and returns the
// path written. The exposition is rendered in full before the file is
// created, so a rendering error leaves the previous file in place.
func WriteFile(dir string, b Beat) (string, error) {
	var buf bytes.Buffer
	if err := Write(&buf, b); err != nil {
		return "", err
	}
	target := filepath.Join(dir, FileName)
	// The temporary name starts with a dot and does not end in .prom:
	// node_exporter's textfile collector never reads it.
	tmp, err := os.CreateTemp(dir, "."+FileName+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this finds nothing
	_, err = tmp.Write(buf.Bytes())
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	if err != nil {
		return "", fmt.Errorf("report: writing %s: %w", target, err)
	}
	return target, nil
}
