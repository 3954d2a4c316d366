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
	Index   int              `json:"index"`
	Err     *wireErr         `json:"err,omitempty"`
	Errors  int              `json:"errors"`
	Attrs   []wireAttr       `json:"attrs"`
	Series  []thermal.Series `json:"series"`
	Sensors []wireSensor     `json:"sensors"`
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
		if errors.Is(err, Return(9)) || errors.Is(err, Return(12)) { // DRIVER_NOT_LOADED, LIB_RM_VERSION_MISMATCH
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
			fs.readGPU(lib, &c, g.BusID, &thermal.Request{Ignore: func(_, _, sensor string) bool {
				for _, s := range g.Ignore {
					if s == sensor {
						return true
					}
				}
				return false
			}})
			emit(line{GPU: wire(i, &c)})
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
