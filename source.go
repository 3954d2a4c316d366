package thermal

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// Level is a threshold level, as it appears in the level label and as the
// Sentry event's level (warning → warning, critical → error).
type Level string

// The two levels.
const (
	Warning  Level = "warning"
	Critical Level = "critical"
)

// SensorID names one sensor as every output names it: the source label, the
// chip name and the sensor name (after any [[label]] rename).
type SensorID struct {
	Source string `json:"source"`
	Chip   string `json:"chip"`
	Sensor string `json:"sensor"`
}

// String is "source/chip/sensor".
func (id SensorID) String() string { return id.Source + "/" + id.Chip + "/" + id.Sensor }

// Series is one extra series a source reports about a chip, beyond its
// temperatures: NVMe SMART counters, a GPU's slowdown reasons, an info
// series. The exposition renders it without knowing the source: the series
// carries the source and chip labels and then Labels.
type Series struct {
	Name    string  // full metric name: node_thermal_nvme_info
	Help    string  // one sentence for # HELP
	Counter bool    // a counter (name ends in _total); else a gauge
	Labels  []Label // beyond source and chip, in the order given
	Value   float64
}

// Throttling returns the node_thermal_throttling series of a chip for one
// reason: 1 while the device reports that it throttles for it (a GPU's
// hw_thermal, sw_thermal, hw_slowdown; a Raspberry Pi's under_voltage),
// else 0. Every source that reports a reason reports it alike.
func Throttling(reason string, on bool) Series {
	v := 0.0
	if on {
		v = 1
	}
	return Series{Name: "node_thermal_throttling", Labels: []Label{{Name: "reason", Value: reason}}, Value: v,
		Help: "1 while the device reports this reason for throttling (NVML: hw_thermal, sw_thermal, hw_slowdown; a Raspberry Pi: under_voltage), else 0."}
}

// Label is one name="value" pair.
type Label struct{ Name, Value string }

// Attr is one fact a source reports about a chip for a person (probe): a
// model, a serial, how it was read and why. Value is a string, a float64 or a
// bool; a nil Value is left out.
type Attr struct {
	Key   string // snake_case; the JSON field name in probe --json
	Value any
}

// Attrs is an ordered list of facts; it marshals as a JSON object in order.
type Attrs []Attr

// Get returns the value of key, or nil.
func (as Attrs) Get(key string) any {
	for _, a := range as {
		if a.Key == key {
			return a.Value
		}
	}
	return nil
}

// Has reports whether key is present (with any value, nil included).
func (as Attrs) Has(key string) bool {
	for _, a := range as {
		if a.Key == key {
			return true
		}
	}
	return false
}

// Set replaces the value of key, or appends it.
func (as *Attrs) Set(key string, v any) {
	for i := range *as {
		if (*as)[i].Key == key {
			(*as)[i].Value = v
			return
		}
	}
	*as = append(*as, Attr{key, v})
}

// MarshalJSON writes the attributes as one object, in order, leaving out nil
// values.
func (as Attrs) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, a := range as {
		if a.Value == nil {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, err := json.Marshal(a.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(a.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Source is one kind of sensor the beat reads: hwmon chips, NVMe
// controllers, thermal zones. Sources know nothing of one another; the
// pipeline runs them under the beat's deadline, settles which of them owns
// a device, and applies the configuration.
type Source interface {
	// Name is the source label of the chips it returns.
	Name() string
	// Read returns the source's chips. It returns when ctx is done, with
	// what arrived (reads still owed are counted on their chips as
	// ErrTimeout). The error is non-nil only when the source as a whole
	// could not be listed; a host without such devices has no chips and no
	// error.
	Read(ctx context.Context, req *Request) ([]Chip, error)
}

// Request is what the pipeline asks of a source in one collection.
type Request struct {
	// Admit is asked about every chip before any of its values is read.
	// It may relabel the chip (c.Source) to the source that owns the
	// device; false means leave the chip out unread (another source reads
	// that device, or the configuration ignores it). Nil admits every chip.
	Admit func(c *Chip) bool
	// Ignore reports whether the configuration drops the sensor, by its
	// kernel name, before its value is read. Nil ignores nothing.
	Ignore func(source, chip, sensor string) bool
	// Cache keeps what a source learns between beats (an inventory, a
	// drive's limits), so that a steady-state beat reads only the values.
	// Nil: learn afresh, keep nothing (probe, check, a dry run).
	Cache Cache
}

// Admits applies r.Admit (nil-safe).
func (r *Request) Admits(c *Chip) bool { return r == nil || r.Admit == nil || r.Admit(c) }

// Ignores applies r.Ignore (nil-safe).
func (r *Request) Ignores(source, chip, sensor string) bool {
	return r != nil && r.Ignore != nil && r.Ignore(source, chip, sensor)
}

// Cache is a source's memory between beats: bytes in the source's own
// encoding. Load returns what was stored under key, if it is still valid
// (same boot, same tree, young enough); Store keeps data for the next
// beat. Keys are short file-name-safe words (hwmon-inventory, nvme-limits).
// A source must treat loaded bytes as untrusted: a corrupt entry is
// ignored, never a failure.
type Cache interface {
	Load(key string) ([]byte, bool)
	Store(key string, data []byte)
}

// CacheOf returns r.Cache, or nil.
func (r *Request) CacheOf() Cache {
	if r == nil {
		return nil
	}
	return r.Cache
}

// Threshold is a threshold in force for one sensor, with where it came
// from.
type Threshold struct {
	// Kind is KindTemperature for a temperature threshold (Celsius);
	// KindFan fires while a fan has failed, KindThrottle while a chip
	// throttles.
	Kind       Kind
	Level      Level
	Celsius    float64
	Origin     Origin
	For        time.Duration // must hold this long before it fires
	Hysteresis float64       // °C below the threshold before it clears
	Repeat     time.Duration // re-announce at most this often while firing; 0: once
}

// Origin says where a threshold came from: a rule of the configuration or
// one of the hardware's own limits. It is rendered only for people.
type Origin struct {
	Rule int    // 1-based index of the rule; 0 for a hardware limit
	File string // the rule's file; "" for a built-in rule
	Line int
	// Attr and Limit name a hardware limit: ("temp1", "_max") reads
	// "temp1_max"; ("", "NVMe WCTEMP") reads as is.
	Attr, Limit string
}

func (o Origin) String() string {
	switch {
	case o.Rule > 0 && o.File == "":
		return "built-in rule " + strconv.Itoa(o.Rule)
	case o.Rule > 0:
		return "rule " + strconv.Itoa(o.Rule) + " (" + o.File + ":" + strconv.Itoa(o.Line) + ")"
	}
	return "hardware: " + o.Attr + o.Limit
}
