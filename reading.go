package thermal

import (
	"errors"
	"fmt"
	"strconv"
)

// ID returns the identity of sensor s of chip c.
func (c *Chip) ID(s *Sensor) SensorID {
	return SensorID{Source: c.Source, Chip: c.Name, Sensor: s.Name}
}

// Errors that explain why a sensor carries no reading. Read failures are the
// *os.PathError of the failed read instead; compare with errors.Is.
var (
	// ErrFault: the chip flags the sensor as faulty (tempN_fault = 1), for
	// example an open or shorted thermal diode.
	ErrFault = errors.New("sensor reports a fault")
	// ErrOutOfRange: the value is outside the sane range (see Range).
	ErrOutOfRange = errors.New("value outside the sane range")
	// ErrTimeout: the read did not complete before the beat's deadline.
	ErrTimeout = errors.New("read did not complete in time")
)

// Chip is one device that reports readings: an hwmon chip, an NVMe
// controller, a thermal zone, a GPU, a CPU package's throttle counters.
type Chip struct {
	Source string // the source label: the registered name of the source that owns the device
	// Name is the lm-sensors chip name (coretemp-isa-0000, nvme-pci-0100,
	// acpitz-acpi-0) or thermal_zoneN; unique within its source.
	Name   string
	Driver string // the driver's own name: hwmon "name" attribute, zone type
	Bus    string // lm-sensors bus type: isa, pci, i2c, spi, acpi, hid, mdio, scsi, virtual; "" for zones
	Path   string // the sysfs directory the values were read from
	Device string // the resolved device directory; "" for a virtual chip
	// Asleep is set when the device (or a parent) is runtime-suspended. An
	// asleep chip is not read, so that monitoring never wakes it.
	Asleep  bool
	Sensors []Sensor
	// Err is a chip-level failure: the chip could not be listed, or some of
	// its reads had not completed by the deadline.
	Err error
	// Errors counts the reads in this beat that failed or whose value was
	// rejected (fault, out of range, timeout). A dropped sensor counts once.
	Errors int
	// Attrs are facts about the chip for a person (an NVMe drive's model,
	// serial and how it was read); probe shows them.
	Attrs Attrs
	// Series are the source's extra series for this chip (SMART counters,
	// an info series), rendered by report as they are.
	Series []Series
	// Yield, when set, says why the source did not read the chip and leaves
	// its device to another source that can (the NVMe ioctl was refused: the
	// kernel's nvme hwmon chip reads the drive instead). The pipeline hands
	// the chip's Attrs to that source's chip and drops this one.
	Yield string
	// Aux marks a holder of series that belong to no chip (the thermal
	// zones' cooling devices): report renders its Series without source
	// and chip labels, and nothing else of it; probe lists them apart.
	Aux bool
	// TwinOwner marks, of two twins, the chip whose source owns the
	// hardware limits (a thermal zone, see thermal.TwinOwner). Set by the
	// pipeline.
	TwinOwner bool
	// Twin names, as "source/chip", another chip that reports the same
	// physical sensors (an hwmon chip a thermal zone exports): thresholds
	// from hardware limits apply to one of the two only. Set by the pipeline.
	Twin string
	// Related names a reading of another chip that an event about this
	// chip's throttling or fans quotes (a CPU package's temperature);
	// empty fields match any; nil names none.
	Related *SensorID
}

// Kind says what a sensor's reading is, and so its unit and scale.
type Kind string

// Sensor kinds.
const (
	// KindTemperature: Value is millidegrees Celsius.
	KindTemperature Kind = ""
	// KindFan: Value is the fan's speed in revolutions per minute.
	KindFan Kind = "fan"
	// KindThrottle: Value is 1 while the chip reports that it throttles
	// for heat, else 0 (a GPU's clock-slowdown reasons).
	KindThrottle Kind = "throttle"
	// KindThrottleCount: Value is the chip's count of thermal throttle
	// events since boot; whether it throttles now (it grew since the last
	// beat) is derived from the history (Sensor.Throttling).
	KindThrottleCount Kind = "throttle_count"
	// KindDuty: Value is a fan's commanded speed in millionths of its
	// maximum (hwmon pwmN/255, an NVIDIA fan's percent).
	KindDuty Kind = "duty"
	// KindPower: Value is milliwatts drawn; Max, where set, is the limit
	// the part is held to (hwmon powerN_cap, NVML's enforced limit).
	KindPower Kind = "power"
)

// nameSpace is the set of sensors of a chip among which a name must be
// unique: those that can page (temperatures, fans, throttling) share the
// alert series and so one space; a duty or a power reading has series of
// its own, and may share its fan's or its GPU's name (fan0, GPU).
func (k Kind) nameSpace() string {
	if k == KindDuty || k == KindPower {
		return string(k)
	}
	return ""
}

// RuleKind is the kind of [[rule]] that applies to sensors of kind k: a
// throttle count is judged like a throttle flag.
func (k Kind) RuleKind() Kind {
	if k == KindThrottleCount {
		return KindThrottle
	}
	return k
}

// Unit is the unit of a reading of kind k, for people.
func (k Kind) Unit() string {
	switch k {
	case KindFan:
		return "RPM"
	case KindThrottleCount:
		return "events"
	case KindThrottle:
		return ""
	case KindDuty:
		return "%"
	case KindPower:
		return "W"
	}
	return "°C"
}

// Float is a reading of kind k in its unit: °C, RPM, a count, 0 or 1.
func (k Kind) Float(v int64) float64 {
	switch k {
	case KindTemperature, KindPower:
		return float64(v) / 1000 // °C, W
	case KindDuty:
		return float64(v) / 1e6 // a ratio, 0 … 1
	}
	return float64(v)
}

// Format renders a reading of kind k for a person: "61.5 °C", "1187 RPM",
// "12 events", "throttling" or "not throttling".
func (k Kind) Format(v int64) string {
	switch k {
	case KindThrottle:
		if v > 0 {
			return "throttling"
		}
		return "not throttling"
	case KindTemperature:
		return strconv.FormatFloat(Celsius(v), 'f', -1, 64) + " °C"
	case KindDuty:
		return strconv.FormatFloat(float64(v)/1e4, 'f', 1, 64) + " %"
	case KindPower:
		return strconv.FormatFloat(float64(v)/1000, 'f', -1, 64) + " W"
	}
	return strconv.FormatInt(v, 10) + " " + k.Unit()
}

// Sensor is one channel of a chip: a temperature, a fan, a throttle flag
// or count (see Kind).
type Sensor struct {
	// Kind says what the reading is: a temperature, a fan's speed, a
	// throttle flag or count.
	Kind Kind
	// Name is the kernel label (tempN_label, a zone's type, "Composite"),
	// else the attribute name; unique within the chip.
	Name  string
	Attr  string // attribute prefix: temp1, temp (zone), composite, sensor1
	Label string // the kernel's label as read; "" when there is none
	// Value is the reading, scaled as its Kind says (millidegrees Celsius
	// for a temperature). It is meaningful only when Err is nil.
	Value int64
	// Err says why there is no reading (read failure, ErrFault,
	// ErrOutOfRange, ErrTimeout).
	Err error
	// The hardware's own limits in millidegrees Celsius; nil when absent or
	// a placeholder (see Range.Limit).
	Max       *int64 // tempN_max, NVMe WCTEMP
	Crit      *int64 // tempN_crit, NVMe CCTEMP, a zone's critical trip point
	Emergency *int64 // tempN_emergency
	CritHyst  *int64 // tempN_crit_hyst
	Trips     []Trip // thermal zone trip points
	// Limits are the hardware's further named limits (an NVIDIA GPU's
	// max_operating), exported like the others by name.
	Limits []Limit
	// AuxErrors counts failed reads of the fault flag or of limits. The
	// reading itself stands; the failures are counted on the chip.
	AuxErrors int
	// Thresholds in force, warning first; set by the pipeline from the
	// configuration and the hardware's limits.
	Thresholds []Threshold

	// A fan's minimum and target speed, RPM (fanN_min, fanN_target); nil
	// when absent or 0. Alarm is fanN_alarm.
	FanMin, FanTarget *int64
	Alarm             bool
	// Throttling says that a throttle sensor's chip throttles for heat now:
	// its flag is set, or its count grew since the last beat. Derived by
	// the pipeline (Snapshot.Derive).
	Throttling bool
	// Detail says, for a person, what else is known of the reading (a
	// chip's throttle count).
	Detail string
	// Failed says why a fan counts as failed ("" when it does not): its
	// fault or alarm bit, a speed below its minimum, or 0 RPM after it was
	// seen spinning. A header that always read 0 has nothing plugged in:
	// not a failure. Derived by the pipeline (Snapshot.Derive).
	Failed string
}

// Limit is one named limit, in millidegrees Celsius.
type Limit struct {
	Name  string
	Milli int64
}

// Trip is one trip point of a thermal zone.
type Trip struct {
	Index int
	Type  string // critical, hot, passive, active
	Milli int64  // millidegrees Celsius
}

// Celsius converts millidegrees Celsius to degrees Celsius.
func Celsius(milli int64) float64 { return float64(milli) / 1000 }

// CelsiusAttr is an optional limit in millidegrees as an Attr value: its
// °C, or nil (left out) when absent.
func CelsiusAttr(milli *int64) any {
	if milli == nil {
		return nil
	}
	return Celsius(*milli)
}

// Celsius is the reading in degrees Celsius (a temperature's).
func (s *Sensor) Celsius() float64 { return Celsius(s.Value) }

// Float is the reading in its unit (see Kind.Float).
func (s *Sensor) Float() float64 { return s.Kind.Float(s.Value) }

// Format renders the reading in its unit (see Kind.Format).
func (s *Sensor) Format() string { return s.Kind.Format(s.Value) }

// IsFan reports whether the sensor is a fan.
func (s *Sensor) IsFan() bool { return s.Kind == KindFan }

// Range is the span of temperatures, in millidegrees Celsius, that a sensor
// can plausibly report. Readings outside it are dropped; limits outside it
// are treated as absent.
type Range struct {
	Min, Max int64
}

// DefaultRange is −40 … 150 °C.
var DefaultRange = Range{Min: -40000, Max: 150000}

// Check returns nil when milli is inside r, else an error wrapping
// ErrOutOfRange that names the value.
func (r Range) Check(milli int64) error {
	if milli < r.Min || milli > r.Max {
		return fmt.Errorf("%w: %g °C is outside %g … %g °C", ErrOutOfRange, Celsius(milli), Celsius(r.Min), Celsius(r.Max))
	}
	return nil
}

// Limit returns a pointer to milli, or nil when milli is a placeholder that
// means "no limit": absolute zero (−273.15 °C) or below, 65261.85 °C or above
// (what NVMe reports for sensors without thresholds), or outside r.
func (r Range) Limit(milli int64) *int64 {
	if milli <= -273150 || milli >= 65261850 || r.Check(milli) != nil {
		return nil
	}
	return &milli
}
