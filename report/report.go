package report

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// FileName is the textfile a beat writes in the textfile directory.
const FileName = "thermal.prom"

// Beat is what one beat collected.
type Beat struct {
	Time      time.Time // when collection started
	Chips     []thermal.Chip
	Durations map[string]time.Duration // collection time per source
	// Firing reports whether the breach of a sensor's threshold at level is
	// firing (the sensors carry their thresholds). Nil: none is.
	Firing func(id thermal.SensorID, level thermal.Level) bool
	// ConfigInvalid is set when the configuration could not be loaded and
	// the last good (or the built-in) one was used.
	ConfigInvalid bool
	// StateUnsaved is set when the breach state could not be saved:
	// pending breaches restart every beat and events cannot wait in the
	// outbox until it is fixed.
	StateUnsaved bool
}

// family is one metric family; its label names are sorted, as the text
// format's consumers (and client_golang's registry) order them.
type family struct {
	id         int // index into a writer's famRank: fixed families first, then the writer's own
	name, help string
	counter    bool
	labels     []string // sorted label names
	// perm maps the order the caller passes label values in to the sorted
	// order: value i goes to position perm[i].
	perm []int
}

func newFamily(name, help string, counter bool, labels ...string) *family {
	f := &family{name: name, help: help, counter: counter}
	f.setLabels(labels)
	return f
}

func (f *family) setLabels(labels []string) {
	f.labels = slices.Clone(labels)
	slices.Sort(f.labels)
	f.perm = make([]int, len(labels))
	for i, l := range labels {
		f.perm[i] = slices.Index(f.labels, l)
	}
}

// The fixed families. Label values are passed in the order given here.
var (
	famCelsius = newFamily("node_thermal_celsius",
		"Temperature reported by a sensor, in degrees Celsius.", false, "source", "chip", "sensor")
	famLimit = newFamily("node_thermal_limit_celsius",
		"The hardware's own limit for a sensor (hwmon max, crit, emergency, crit_hyst; NVMe WCTEMP/CCTEMP as max/crit; a zone's critical trip as crit), in degrees Celsius.",
		false, "source", "chip", "sensor", "limit")
	famTrip = newFamily("node_thermal_trip_point_celsius",
		"A thermal zone trip point, in degrees Celsius.", false, "source", "chip", "sensor", "trip", "type")
	famErrors = newFamily("node_thermal_read_errors",
		"Reads of a chip that failed or were rejected (fault, out of range, timed out) in this beat.", false, "source", "chip")
	famSuspended = newFamily("node_thermal_chip_suspended",
		"1 when the chip's device was runtime-suspended and so was not read (monitoring never wakes a device), else 0.", false, "source", "chip")
	famDuration = newFamily("node_thermal_collect_duration_seconds",
		"Time taken to read a source in this beat, in seconds.", false, "source")
	famThreshold = newFamily("node_thermal_threshold_celsius",
		"The threshold in force for a sensor (a configured rule, else the hardware's own limit), in degrees Celsius.",
		false, "source", "chip", "sensor", "level")
	famAlert = newFamily("node_thermal_alert",
		"1 while a sensor's breach of its threshold is firing (it held for the rule's `for` and has not cleared), else 0.",
		false, "source", "chip", "sensor", "level")
	famHeartbeat = newFamily("node_thermal_heartbeat_seconds",
		"Unix time at which this beat collected its readings, in seconds.", false)
	famConfigValid = newFamily("node_thermal_config_valid",
		"1 when the configuration file was loaded, 0 when it could not be and the last good (or the built-in) configuration was used.", false)
	famFanRPM = newFamily("node_thermal_fan_rpm",
		"A fan's speed, in revolutions per minute; 0 is a stopped fan, a fan that cannot be read has no series.", false, "source", "chip", "sensor")
	famFanMin = newFamily("node_thermal_fan_min_rpm",
		"The hardware's minimum speed for a fan, where set, in revolutions per minute.", false, "source", "chip", "sensor")
	famFanTarget = newFamily("node_thermal_fan_target_rpm",
		"The speed the fan controller asks of a fan, where it says, in revolutions per minute.", false, "source", "chip", "sensor")
	famFanFailed = newFamily("node_thermal_fan_failed",
		"1 when a fan reports a fault or an alarm, spins below its minimum, or stopped after it was seen spinning; else 0.", false, "source", "chip", "sensor")
	famDuty = newFamily("node_thermal_fan_duty_ratio",
		"A fan's commanded speed as a fraction of its maximum (hwmon pwmN/255, an NVIDIA fan's percent).", false, "source", "chip", "sensor")
	famPower = newFamily("node_thermal_power_watts",
		"The power a part draws (hwmon powerN_input or _average, an NVIDIA GPU's power usage), in watts.", false, "source", "chip", "sensor")
	famPowerLimit = newFamily("node_thermal_power_limit_watts",
		"The power limit a part is held to (hwmon powerN_cap, an NVIDIA GPU's enforced limit), in watts.", false, "source", "chip", "sensor")
	famStateSaved = newFamily("node_thermal_state_saved",
		"1 when the beat saved its breach state, 0 when it could not (pending breaches restart, events cannot wait for the next beat).", false)
)

var (
	fixedFamilies = []*family{famCelsius, famLimit, famTrip, famErrors, famSuspended, famDuration, famThreshold, famAlert, famHeartbeat, famConfigValid, famStateSaved, famFanRPM, famFanMin, famFanTarget, famFanFailed, famDuty, famPower, famPowerLimit}
	fixed         = map[string]bool{}
)

func init() {
	for i, f := range fixedFamilies {
		f.id = i
		fixed[f.name] = true
	}
}

// series adds a source's own series for a chip, whose source and name
// have the ids given.
func (w *writer) series(source, chip uint32, s thermal.Series) {
	var names [8]string
	var ids [8]uint32
	w.extraSeries(s, append(names[:0], "source", "chip"), append(ids[:0], source, chip))
}

// bare adds a series that belongs to no chip: only its own labels.
func (w *writer) bare(s thermal.Series) {
	var names [8]string
	var ids [8]uint32
	w.extraSeries(s, names[:0], ids[:0])
}

// extraSeries adds s, whose leading label names and value ids are given,
// to its family, made on first use.
func (w *writer) extraSeries(s thermal.Series, names []string, ids []uint32) {
	if fixed[s.Name] {
		return // the fixed families' names are taken
	}
	for _, l := range s.Labels {
		names = append(names, l.Name)
		ids = append(ids, w.intern(len(ids), l.Value))
	}
	if f := w.family(s, names); f != nil {
		w.add(f, s.Value, ids...)
	}
}

// family returns the family of s, whose label names are given, made on
// first use; nil when s changes its family's label names.
func (w *writer) family(s thermal.Series, names []string) *family {
	for _, f := range w.fams[len(fixedFamilies):] {
		if f.name == s.Name {
			if !hasOrder(f, names) {
				return nil // a family's label names cannot change between series
			}
			return f
		}
	}
	f := newFamily(s.Name, s.Help, s.Counter, names...)
	f.id = len(w.fams)
	w.fams = append(w.fams, f)
	w.spans = append(w.spans, span{})
	return f
}

// labelOrder returns the label names in the order the family's values are
// passed in.
func labelOrder(f *family) []string {
	out := make([]string, len(f.perm))
	for i, p := range f.perm {
		out[i] = f.labels[p]
	}
	return out
}

// hasOrder reports whether names are f's label names in the order its
// values are passed in.
func hasOrder(f *family, names []string) bool {
	if len(names) != len(f.perm) {
		return false
	}
	for i, p := range f.perm {
		if f.labels[p] != names[i] {
			return false
		}
	}
	return true
}

// Write writes the beat's exposition text to w: families sorted by name,
// series by label values, each label set once (the first series is kept
// should two share one: one bad name must not cost the whole file).
func Write(out io.Writer, b Beat) error {
	buf := bufio.NewWriterSize(out, 64<<10)
	render(buf, b)
	return buf.Flush()
}

// render renders the beat into buf: every chip's series, then the beat's
// own, sorted and written out.
func render(buf *bufio.Writer, b Beat) {
	var w writer
	w.init(b)
	w.addBeat(b)
	w.write(buf)
}

// addBeat adds every chip's series, then the beat's own.
func (w *writer) addBeat(b Beat) {
	for i := range b.Chips {
		w.chip(&b.Chips[i], b.Firing)
	}
	if w.counting {
		// Map order differs between runs: count each source as new.
		w.spans[famDuration.id].end += len(b.Durations)
		w.nrows += len(b.Durations)
		w.nlabels += len(b.Durations)
		w.nstrs += len(b.Durations)
	} else {
		for source, d := range b.Durations {
			w.add(famDuration, d.Seconds(), w.intern(0, source))
		}
	}
	w.add(famHeartbeat, float64(b.Time.UnixMilli())/1e3)
	w.add(famConfigValid, b2f(!b.ConfigInvalid))
	w.add(famStateSaved, b2f(!b.StateUnsaved))
}

// chip adds a chip's series: its errors and suspension, the source's own
// series, then each sensor's. An Aux chip adds only its series, bare.
func (w *writer) chip(chip *thermal.Chip, firing func(thermal.SensorID, thermal.Level) bool) {
	if chip.Aux {
		for _, s := range chip.Series {
			w.bare(s)
		}
		return
	}
	source, name := w.intern(0, chip.Source), w.newID(chip.Name)
	w.add(famErrors, float64(chip.Errors), source, name)
	w.add(famSuspended, b2f(chip.Asleep), source, name)
	for _, s := range chip.Series {
		w.series(source, name, s)
	}
	for j := range chip.Sensors {
		s := &chip.Sensors[j]
		l := sensorLabels{source, name, w.newID(s.Name)}
		if s.Kind == thermal.KindTemperature {
			w.temperature(chip, s, &l, firing)
			continue
		}
		switch s.Kind {
		case thermal.KindFan:
			w.fan(s, &l)
		case thermal.KindDuty:
			if s.Err == nil {
				w.sensorRow(famDuty, s.Float(), &l)
			}
		case thermal.KindPower:
			if s.Err == nil {
				w.sensorRow(famPower, s.Float(), &l)
			}
			if s.Max != nil {
				w.sensorRow(famPowerLimit, s.Kind.Float(*s.Max), &l)
			}
		}
		// A fan's failure or a chip's throttling: the alert, no
		// temperature threshold.
		for _, t := range s.Thresholds {
			on := firing != nil && firing(chip.ID(s), t.Level)
			w.sensorRow(famAlert, b2f(on), &l, string(t.Level))
		}
	}
}

// sensorLabels are the ids of the label values every series of a sensor
// starts with.
type sensorLabels struct{ source, chip, sensor uint32 }

// sensorRow adds a row of family f for the sensor of l: its labels, then
// the values of more.
func (w *writer) sensorRow(f *family, v float64, l *sensorLabels, more ...string) {
	ids := [5]uint32{l.source, l.chip, l.sensor}
	for j, s := range more {
		ids[3+j] = w.intern(3+j, s)
	}
	w.add(f, v, ids[:3+len(more)]...)
}

// temperature adds a temperature sensor's series: its thresholds and
// alerts and, when it was read, its reading, limits and trip points.
func (w *writer) temperature(chip *thermal.Chip, s *thermal.Sensor, l *sensorLabels, firing func(thermal.SensorID, thermal.Level) bool) {
	for _, t := range s.Thresholds {
		on := firing != nil && firing(chip.ID(s), t.Level)
		w.sensorRow(famThreshold, t.Celsius, l, string(t.Level))
		w.sensorRow(famAlert, b2f(on), l, string(t.Level))
	}
	if s.Err != nil {
		return
	}
	w.sensorRow(famCelsius, s.Celsius(), l)
	if s.Max != nil {
		w.sensorRow(famLimit, thermal.Celsius(*s.Max), l, "max")
	}
	if s.Crit != nil {
		w.sensorRow(famLimit, thermal.Celsius(*s.Crit), l, "crit")
	}
	if s.Emergency != nil {
		w.sensorRow(famLimit, thermal.Celsius(*s.Emergency), l, "emergency")
	}
	if s.CritHyst != nil {
		w.sensorRow(famLimit, thermal.Celsius(*s.CritHyst), l, "crit_hyst")
	}
	for _, lim := range s.Limits {
		w.sensorRow(famLimit, thermal.Celsius(lim.Milli), l, lim.Name)
	}
	for _, t := range s.Trips {
		w.sensorRow(famTrip, thermal.Celsius(t.Milli), l, strconv.Itoa(t.Index), t.Type)
	}
}

// fan adds a fan's series.
func (w *writer) fan(s *thermal.Sensor, l *sensorLabels) {
	w.sensorRow(famFanFailed, b2f(s.Failed != ""), l)
	if s.FanMin != nil {
		w.sensorRow(famFanMin, float64(*s.FanMin), l)
	}
	if s.FanTarget != nil {
		w.sensorRow(famFanTarget, float64(*s.FanTarget), l)
	}
	if s.Err == nil {
		w.sensorRow(famFanRPM, float64(s.Value), l)
	}
}

func b2f(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// WriteFile writes the beat to dir/thermal.prom atomically and returns the
// path written: a temporary file is renamed over the target only once it is
// complete, so a failed write leaves the previous file in place.
func WriteFile(dir string, b Beat) (string, error) {
	target := filepath.Join(dir, FileName)
	// The temporary name starts with a dot and does not end in .prom:
	// node_exporter's textfile collector never reads it.
	err := sysread.WriteAtomicFunc(dir, FileName, 0o644, false, func(w io.Writer) error {
		bw, ok := w.(*bufio.Writer)
		if !ok {
			bw = bufio.NewWriter(w)
		}
		render(bw, b)
		return bw.Flush()
	})
	if err != nil {
		return "", fmt.Errorf("report: writing %s: %w", target, err)
	}
	return target, nil
}
