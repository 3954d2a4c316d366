package nvml

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/helper"
)

// NVML runs out of process (DESIGN.md, Isolation): a segfault or an abort
// inside libnvidia-ml, or a call that never returns, costs this source,
// never the beat. The parent finds the GPUs in sysfs and asks the child
// (thermal itself, re-executed as `thermal __helper nvml`) to read the
// awake ones; the child loads NVML, reads every GPU at once, and writes one
// line per GPU as soon as it is read.

// helperName is the helper's name on the command line.
const helperName = "nvml"

func init() { helper.Register(helperName, serve) }

// request is what the parent asks of the child, on its stdin.
type request struct {
	GPUs  []wantGPU     `json:"gpus"`
	Range thermal.Range `json:"range"`
}

type wantGPU struct {
	BusID  string   `json:"bus_id"`
	Chip   string   `json:"chip"`
	Ignore []string `json:"ignore,omitempty"` // sensors ([[ignore]]) not to read
	// Skip are the calls this GPU answered NOT_SUPPORTED before (learnt,
	// kept in the cache): not asked again.
	Skip []string `json:"skip,omitempty"`
}

// line is one line of the child's output: first the outcome of loading and
// initialising NVML (Note, or InitErr), then one GPU per line (GPU set).
type line struct {
	Note    string   `json:"note,omitempty"` // why there is nothing to read: no driver
	InitErr string   `json:"init_error,omitempty"`
	Ready   bool     `json:"ready,omitempty"` // NVML is initialised; GPUs follow
	GPU     *wireGPU `json:"gpu,omitempty"`
}

// wireGPU is a chip as NVML read it; errors travel as text and a class.
type wireGPU struct {
	Index int `json:"index"`
	// Unsupported are the calls the GPU answered NOT_SUPPORTED (or, for
	// the memory temperature, does not report) in this read.
	Unsupported []string         `json:"unsupported,omitempty"`
	Err         *wireErr         `json:"err,omitempty"`
	Errors      int              `json:"errors"`
	Attrs       []wireAttr       `json:"attrs"`
	Series      []thermal.Series `json:"series"`
	Sensors     []wireSensor     `json:"sensors"`
}

type wireAttr struct {
	Key   string `json:"k"`
	Value any    `json:"v"`
}

type wireSensor struct {
	thermal.Sensor
	Err *wireErr `json:"Err,omitempty"` // shadows Sensor.Err
}

type wireErr struct {
	Msg   string `json:"msg"`
	Class string `json:"class,omitempty"` // out_of_range, fault, timeout
}

// classes are the sentinel errors whose identity crosses the pipe.
var classes = map[string]error{"out_of_range": thermal.ErrOutOfRange, "fault": thermal.ErrFault, "timeout": thermal.ErrTimeout}

func toWire(err error) *wireErr {
	if err == nil {
		return nil
	}
	w := &wireErr{Msg: err.Error()}
	for name, sentinel := range classes {
		if errors.Is(err, sentinel) {
			w.Class = name
		}
	}
	return w
}

// remoteErr is an error read in the child: its text, and the sentinel it
// wrapped there, for errors.Is.
type remoteErr struct {
	msg string
	is  error
}

func (e remoteErr) Error() string { return e.msg }
func (e remoteErr) Unwrap() error { return e.is }

func (w *wireErr) err() error {
	if w == nil {
		return nil
	}
	return remoteErr{msg: w.Msg, is: classes[w.Class]}
}

// fromWire fills c with what the child read.
func (g *wireGPU) into(c *thermal.Chip) {
	c.Err, c.Errors = g.Err.err(), g.Errors
	c.Attrs = make(thermal.Attrs, 0, len(g.Attrs))
	for _, a := range g.Attrs {
		c.Attrs = append(c.Attrs, thermal.Attr{Key: a.Key, Value: a.Value})
	}
	c.Series = g.Series
	c.Sensors = make([]thermal.Sensor, 0, len(g.Sensors))
	for _, s := range g.Sensors {
		sn := s.Sensor
		sn.Err = s.Err.err()
		c.Sensors = append(c.Sensors, sn)
	}
}

func wire(i int, c *thermal.Chip) *wireGPU {
	g := &wireGPU{Index: i, Err: toWire(c.Err), Errors: c.Errors, Series: c.Series}
	for _, a := range c.Attrs {
		g.Attrs = append(g.Attrs, wireAttr{a.Key, a.Value})
	}
	for _, s := range c.Sensors {
		g.Sensors = append(g.Sensors, wireSensor{Sensor: s, Err: toWire(s.Err)})
	}
	return g
}

// serve is the child: it loads NVML, reads every GPU asked for, each in its
// own goroutine (a GPU whose calls hang holds up only its own line), and
// writes a line per GPU as it is done.
func serve(in io.Reader, out io.Writer) int {
	var req request
	if err := json.NewDecoder(io.LimitReader(in, 1<<20)).Decode(&req); err != nil {
		fmt.Fprintf(out, "%s\n", mustJSON(line{InitErr: "bad request: " + err.Error()}))
		return 2
	}
	var mu sync.Mutex
	emit := func(l line) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "%s\n", mustJSON(l))
	}
	lib, err := loadOnce()
	if err != nil {
		emit(line{Note: "no NVIDIA driver (" + err.Error() + ")"})
		return 0
	}
	if err := lib.Init(); err != nil {
		if errors.Is(err, Return(9)) || errors.Is(err, Return(12)) || errors.Is(err, Return(18)) { // DRIVER_NOT_LOADED, LIBRARY_NOT_FOUND, LIB_RM_VERSION_MISMATCH
			emit(line{Note: "no NVIDIA driver (nvmlInit: " + err.Error() + ")"})
			return 0
		}
		emit(line{InitErr: "nvmlInit: " + err.Error()})
		return 0
	}
	defer lib.Shutdown()
	emit(line{Ready: true})
	fs := FS{rng: req.Range}
	var wg sync.WaitGroup
	for i, g := range req.GPUs {
		wg.Go(func() {
			c := thermal.Chip{Source: SourceName, Name: g.Chip}
			l := &learning{library: lib, skip: map[string]bool{}}
			for _, k := range g.Skip {
				l.skip[k] = true
			}
			fs.readGPU(l, &c, g.BusID, &thermal.Request{Ignore: func(_, _, sensor string) bool {
				for _, s := range g.Ignore {
					if s == sensor {
						return true
					}
				}
				return false
			}})
			w := wire(i, &c)
			w.Unsupported = l.learnt
			emit(line{GPU: w})
		})
	}
	wg.Wait()
	return 0
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(line{InitErr: "encoding: " + err.Error()})
	}
	return b
}

// learning is the library for one GPU, minus the calls it answered
// NOT_SUPPORTED on an earlier beat (they are not asked again: each is a
// round trip to the driver), noting those it answers so now.
type learning struct {
	library
	skip   map[string]bool
	learnt []string
}

// gate runs call unless it is skipped, and learns a NOT_SUPPORTED answer.
func (l *learning) gate(name string, call func() error) error {
	if l.skip[name] {
		return errMissing // as if the driver had no such function
	}
	err := call()
	if errors.Is(err, ErrNotSupported) {
		l.learnt = append(l.learnt, name)
	}
	return err
}

func (l *learning) MemoryTemperature(d uintptr) (t uint32, err error) {
	err = l.gate("memory_temperature", func() (e error) { t, e = l.library.MemoryTemperature(d); return e })
	return t, err
}

func (l *learning) ClockEventReasons(d uintptr) (r uint64, err error) {
	err = l.gate("clock_event_reasons", func() (e error) { r, e = l.library.ClockEventReasons(d); return e })
	return r, err
}

func (l *learning) ThermalViolationNanos(d uintptr) (ns uint64, err error) {
	err = l.gate("violation_status", func() (e error) { ns, e = l.library.ThermalViolationNanos(d); return e })
	return ns, err
}

func (l *learning) NumFans(d uintptr) (n uint32, err error) {
	err = l.gate("fans", func() (e error) { n, e = l.library.NumFans(d); return e })
	return n, err
}

func (l *learning) FanSpeedRPM(d uintptr, fan uint32) (rpm uint32, err error) {
	err = l.gate("fan_rpm", func() (e error) { rpm, e = l.library.FanSpeedRPM(d, fan); return e })
	return rpm, err
}

func (l *learning) PowerUsage(d uintptr) (mw uint32, err error) {
	err = l.gate("power", func() (e error) { mw, e = l.library.PowerUsage(d); return e })
	return mw, err
}

func (l *learning) EnforcedPowerLimit(d uintptr) (mw uint32, err error) {
	err = l.gate("power_limit", func() (e error) { mw, e = l.library.EnforcedPowerLimit(d); return e })
	return mw, err
}
