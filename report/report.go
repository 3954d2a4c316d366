package report

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
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
	id         int // a fixed family's index in fixedFamilies; a writer's own, len(fixedFamilies)
	name, help string
	counter    bool
	labels     []string // sorted label names
	// perm maps the order the caller passes label values in to the sorted
	// order: value i goes to position perm[i].
	perm []int
	// walk says where the family's rows come from: the writer's general
	// rows, or its chips or sensors (sensors.go). value is a row's value:
	// a walkChip family's of chip c, a walkSensor family's of sensor s.
	walk  walk
	value func(c *thermal.Chip, s *thermal.Sensor) float64
	// open is how the lines of a walked family start: name{chip="; mid,
	// in a walkExtra family, what comes between the chip's value and the
	// extra label's: ",level=".
	open, mid string
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
	fixedByName   = slices.Clone(fixedFamilies) // sorted by name in init
	fixed         = map[string]bool{}
)

func init() {
	for i, f := range fixedFamilies {
		f.id = i
		fixed[f.name] = true
	}
	slices.SortFunc(fixedByName, func(a, b *family) int { return strings.Compare(a.name, b.name) })
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
	// A family is made with its first row; the rows of the chip before
	// have it, most often.
	for i := len(w.rows) - 1; i >= 0; i-- {
		if f := w.rows[i].fam; f.name == s.Name {
			if !hasOrder(f, names) {
				return nil // a family's label names cannot change between series
			}
			return f
		}
	}
	f := newFamily(s.Name, s.Help, s.Counter, names...)
	f.id = len(fixedFamilies)
	return f
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

// addBeat adds every chip and its series, then the beat's own series.
func (w *writer) addBeat(b Beat) {
	for i := range b.Chips {
		w.chip(i, &b.Chips[i])
	}
	for source, d := range b.Durations {
		w.add(famDuration, d.Seconds(), w.intern(0, source))
	}
	w.add(famHeartbeat, float64(b.Time.UnixMilli())/1e3)
	w.add(famConfigValid, b2f(!b.ConfigInvalid))
	w.add(famStateSaved, b2f(!b.StateUnsaved))
}

// chip adds the beat's chip i, the source's own series of it and its
// sensors, whose series are rendered from them (see sensors.go). An Aux
// chip adds only its series, bare.
func (w *writer) chip(i int, chip *thermal.Chip) {
	if chip.Aux {
		for _, s := range chip.Series {
			w.bare(s)
		}
		return
	}
	source, name := w.intern(0, chip.Source), uint64(w.newID(chip.Name))
	w.ckeys = append(w.ckeys, key{name<<32 | uint64(source), uint64(i)})
	for _, s := range chip.Series {
		w.series(source, uint32(name), s)
	}
	prev, at := w.prev, w.prevAt
	w.prev, w.prevAt = chip.Sensors, len(w.ukeys)
	for j := range chip.Sensors {
		s := &chip.Sensors[j]
		var sensor uint32
		if repeats(prev, chip.Sensors, j) {
			sensor = uint32(w.ukeys[at+j].hi)
		} else {
			sensor = w.newID(s.Name)
		}
		w.sensor(i, s, name<<32|uint64(sensor), source)
	}
}

// repeats reports whether sensor j of a chip has the name of the sensor j of
// the chip before, prev: the cores of a second socket, each memory
// module's or drive's sensors. Their names then share an id: fewer to
// sort.
func repeats(prev, sensors []thermal.Sensor, j int) bool {
	return j < len(prev) && prev[j].Name == sensors[j].Name
}

// sensor adds a sensor of the beat's chip i, whose chip and sensor names'
// ids are in names and whose source has the id given, and the label values
// of its thresholds' levels and limits' names.
func (w *writer) sensor(i int, s *thermal.Sensor, names uint64, source uint32) {
	w.ukeys = append(w.ukeys, key{names, uint64(source)<<32 | uint64(len(w.units))})
	u := unit{s: s, chip: uint32(i), mask: sensorMask(s), xoff: uint32(len(w.xs)), xm: [2]uint16{0, limitsMask(s)}}
	for j := range s.Thresholds {
		u.xm[0] |= w.addExtra(string(s.Thresholds[j].Level))
	}
	for _, l := range s.Limits {
		u.xm[1] |= w.addExtra(l.Name)
	}
	w.units = append(w.units, u)
	w.mask |= u.mask
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
