package nvme

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/gather"
	"github.com/thermal-heartbeat/thermal/internal/linecodec"
	"github.com/thermal-heartbeat/thermal/internal/sysdev"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// transportCloser is an open controller.
type transportCloser interface {
	Transport
	Close() error
}

// FS finds NVMe controllers in sysfs and reads them through their device
// nodes.
type FS struct {
	sys, dev string
	rng      thermal.Range
	read     sysread.ReadFunc
	open     func(path string) (transportCloser, error)
	// req is the pipeline's request: no command is sent to a controller
	// whose chip it does not admit or ignores (sensor ""), and the sensors
	// it ignores are dropped. Nil reads everything.
	req *thermal.Request
}

// NewFS returns an FS over the sysfs tree at sysfs and the device nodes in
// dev (normally /sys and /dev); with dev "" no device node is opened and
// every controller is read through its hwmon chip (a fixture tree).
// Readings outside rng are dropped.
func NewFS(sysfs, dev string, rng thermal.Range) (FS, error) {
	if sysfs == "" {
		return FS{}, errors.New("nvme: no sysfs mount point given")
	}
	if dev != "" {
		dev = filepath.Clean(dev)
	}
	return FS{sys: filepath.Clean(sysfs), dev: dev, rng: rng, read: sysread.ReadFile,
		open: func(path string) (transportCloser, error) {
			d, err := Open(path)
			if err != nil {
				return nil, err
			}
			return d, nil
		}}, nil
}

// Controller is an NVMe controller as sysfs describes it.
type Controller struct {
	Name      string // nvme0
	Chip      string // lm-sensors name of the controller's PCI function: nvme-pci-0100
	Bus       string
	Path      string // the class device directory
	Model     string
	Serial    string
	Firmware  string
	State     string // live, resetting, connecting, deleting, dead, …
	Transport string // pcie, tcp, rdma, fc, loop
	Address   string
	// Asleep is set when the controller's device is runtime-suspended: it
	// is not sent a command, which would wake it.
	Asleep bool
	// ino is the inode number of the controller's class entry when it was
	// described and may be cached (0: none given, or the controller not
	// live or without a model and serial yet).
	ino uint64
}

// Key identifies a drive for the limits cache: a replaced drive, or new
// firmware, is identified again.
func (c Controller) Key() string { return c.Model + "/" + c.Serial + "/" + c.Firmware }

// Controllers lists the controllers under <sysfs>/class/nvme. Attributes
// that cannot be read are left empty; a missing class directory means no
// controllers.
func (fs FS) Controllers() ([]Controller, error) {
	ctrls, _, err := fs.listControllers(nil)
	return ctrls, err
}

// listControllers is Controllers with the descriptions of an earlier beat,
// by class entry: a controller whose class entry is the same link (the same
// inode number) is taken from them, with its state, firmware revision and
// power state read again; any other is described afresh (a controller that comes back, a
// drive hot-plugged into the slot, is a new class device, whose link is a
// new kernfs node with another number). changed reports that the
// controllers to cache (those with an inode number: live and identified)
// differ from described; one described afresh on every beat because it
// is not live yet changes nothing.
func (fs FS) listControllers(described map[string]Controller) (ctrls []Controller, changed bool, err error) {
	classDir := sysdev.Join(fs.sys, "class/nvme")
	buf := sysread.Buffer(4096)
	entries, err := sysread.ReadDirEntries(classDir, buf)
	if errors.Is(err, os.ErrNotExist) {
		return nil, len(described) > 0, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("nvme: %w", err)
	}
	out := make([]Controller, 0, len(entries))
	tree := fs.tree()
	reused := 0
	for _, e := range entries {
		n, ok := strings.CutPrefix(e.Name, "nvme")
		if _, err := strconv.Atoi(n); !ok || err != nil {
			continue
		}
		if c, ok := described[e.Name]; ok && e.Ino != 0 && c.ino == e.Ino {
			// The state, and the firmware revision, which the kernel
			// updates in place after a firmware activation.
			c.State, c.Firmware = "", ""
			if b, err := fs.read(c.Path+"/state", buf); err == nil {
				c.State = sysread.Text(b)
			}
			if b, err := fs.read(c.Path+"/firmware_rev", buf); err == nil {
				c.Firmware = sysread.Text(b)
			}
			c.Asleep = tree.AsleepClass(c.Path, "nvme")
			out = append(out, c)
			reused++
			continue
		}
		c := fs.controller(classDir, e.Name, tree, buf)
		// A controller not yet live (its class device is made before
		// Identify) is described again next beat, not cached half-known.
		if c.State == "live" && c.Model != "" && c.Serial != "" {
			c.ino = e.Ino
			changed = true
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(out[i].Name[4:])
		b, _ := strconv.Atoi(out[j].Name[4:])
		return a < b
	})
	return out, changed || reused != len(described), nil
}

// cached returns the controllers of ctrls to cache: those with an inode
// number.
func cached(ctrls []Controller) []Controller {
	return slices.DeleteFunc(slices.Clone(ctrls), func(c Controller) bool { return c.ino == 0 })
}

// controller describes the controller of class entry e.
func (fs FS) controller(classDir, e string, tree *sysdev.Tree, buf []byte) Controller {
	c := Controller{Name: e, Path: sysdev.Join(classDir, e)}
	if target, err := sysread.Readlink(c.Path, buf); err == nil {
		c.Path = sysdev.Join(classDir, target)
	}
	// Path is clean (Join's): its attributes are below it.
	attr := c.Path + "/"
	var text [6]string
	for i, name := range [...]string{"model", "serial", "firmware_rev", "state", "transport", "address"} {
		if b, err := fs.read(attr+name, buf); err == nil {
			text[i] = sysread.Text(b)
		}
	}
	c.Model, c.Serial, c.Firmware, c.State, c.Transport, c.Address = text[0], text[1], text[2], text[3], text[4], text[5]
	c.Chip, c.Bus = tree.ChipName("nvme", c.Path)
	c.Asleep = tree.AsleepClass(c.Path, "nvme")
	return c
}

// Limits are a drive's own composite temperature thresholds, in Kelvin as
// Identify Controller reports them (0 = not reported).
type Limits struct {
	WCTEMP uint16
	CCTEMP uint16
}

// Result is what one read of all controllers produced.
type Result struct {
	// Chips holds one chip per controller the configuration does not
	// ignore: read through the ioctl; or asleep, not live, or not finished
	// in time (with Err set; the kernel's hwmon chip of such a controller
	// would block or fail the same way); or, with Yield set to the reason,
	// a controller the ioctl could not read, whose kernel hwmon chip is to
	// be read instead.
	Chips []thermal.Chip
	// Learned holds the limits identified in this read, by Controller.Key,
	// for the caller to cache.
	Learned map[string]Limits
}

// limitsKey is the Cache key of the drives' limits.
const limitsKey = "nvme-limits"

// Name is the source label, nvme.
func (fs FS) Name() string { return SourceName }

// Read implements thermal.Source: every controller under the request's
// rules, with the limits cache kept in its Cache.
func (fs FS) Read(ctx context.Context, req *thermal.Request) ([]thermal.Chip, error) {
	fs.req = req
	cache := req.CacheOf()
	ctrls, changed, err := fs.listControllers(linecodec.Load(cache, controllersKey, decodeControllers))
	if changed && cache != nil && err == nil {
		cache.Store(controllersKey, encodeControllers(cached(ctrls)))
	}
	known := linecodec.Load(cache, limitsKey, decodeLimits)
	res := fs.ReadControllers(ctx, ctrls, known)
	if cache != nil && len(res.Learned) > 0 {
		all := make(map[string]Limits, len(known)+len(res.Learned))
		for k, v := range known {
			all[k] = v
		}
		for k, v := range res.Learned {
			all[k] = v
		}
		cache.Store(limitsKey, encodeLimits(all))
	}
	return res.Chips, err
}

// ReadControllers reads the SMART log of every live controller under ctx. A
// controller whose limits are in known costs exactly one admin command (Get
// Log Page); one that is not costs two (Identify Controller first).
func (fs FS) ReadControllers(ctx context.Context, ctrls []Controller, known map[string]Limits) Result {
	res := Result{Learned: map[string]Limits{}}
	type outcome struct {
		fallback string
		smart    *SMARTLog
		limits   Limits
		learned  bool
	}
	var mu sync.Mutex
	outcomes := make([]outcome, len(ctrls))
	jobs := make([]gather.Job, 0, len(ctrls))
	index := make([]int, 0, len(ctrls)) // job -> controller
	// One probe for all: Admit takes its address, which puts it on the heap.
	var probe thermal.Chip
	for i, c := range ctrls {
		if probe = (thermal.Chip{Source: SourceName, Name: c.Chip, Driver: "nvme", Bus: c.Bus}); !fs.req.Admits(&probe) || fs.req.Ignores(SourceName, c.Chip, "") {
			continue
		}
		chip := thermal.Chip{Source: SourceName, Name: c.Chip, Driver: "nvme", Bus: c.Bus,
			Path: sysdev.Join(fs.dev, c.Name), Device: c.Path, Attrs: c.attrs("ioctl"),
			Series: []thermal.Series{InfoSeries(c.Model, c.Serial, c.Firmware)}}
		index = append(index, i)
		if c.Asleep {
			chip.Asleep = true
			chip.Attrs.Set("read_via", "")
			jobs = append(jobs, gather.Job{Chip: chip})
			continue
		}
		if c.State != "" && c.State != "live" {
			chip.Err = fmt.Errorf("nvme: controller %s is %s, not live", c.Name, c.State)
			chip.Errors = 1
			jobs = append(jobs, gather.Job{Chip: chip})
			continue
		}
		lim, haveLimits := known[c.Key()]
		path, name := chip.Path, chip.Name // the read's, not the whole chip, which would go on the heap
		jobs = append(jobs, gather.Job{Chip: chip, Expect: 1, Read: func(add func(thermal.Sensor)) {
			o := outcome{limits: lim}
			defer func() {
				mu.Lock()
				outcomes[i] = o
				mu.Unlock()
			}()
			if fs.dev == "" {
				o.fallback = "no device directory (a sysfs tree without --dev: no device node is opened)"
				return
			}
			dev, err := fs.open(path)
			if err != nil {
				o.fallback = why(err)
				return
			}
			defer dev.Close()
			if !haveLimits {
				buf := make([]byte, IdentifySize)
				if err := dev.AdminCommand(IdentifyControllerCommand(buf)); err == nil {
					if id, err := ParseIdentifyController(buf); err == nil {
						o.limits, o.learned = Limits{id.WCTEMP, id.CCTEMP}, true
					}
				}
			}
			buf := make([]byte, SMARTLogSize)
			if err := dev.AdminCommand(SMARTLogCommand(buf)); err != nil {
				o.fallback = why(err)
				return
			}
			log, _ := ParseSMARTLog(buf) // the buffer is exactly one log page
			o.smart = &log
			for _, s := range fs.sensors(log, o.limits) {
				if !fs.req.Ignores(SourceName, name, s.Name) {
					add(s)
				}
			}
		}})
	}
	chips := gather.Run(ctx, jobs)
	mu.Lock()
	defer mu.Unlock()
	for j, chip := range chips {
		i := index[j]
		o := outcomes[i]
		if o.learned {
			res.Learned[ctrls[i].Key()] = o.limits
		}
		if o.fallback != "" {
			chip.Yield = o.fallback
			chip.Sensors, chip.Errors = nil, 0
			chip.Attrs.Set("read_via", "hwmon")
			chip.Attrs.Set("fallback", o.fallback)
		} else if o.smart != nil {
			chip.Attrs.Set("wctemp", thermal.CelsiusAttr(fs.limit(o.limits.WCTEMP)))
			chip.Attrs.Set("cctemp", thermal.CelsiusAttr(fs.limit(o.limits.CCTEMP)))
			chip.Attrs.Set("temperature_warning", o.smart.TemperatureWarning())
			chip.Series = append(chip.Series, SMARTSeries(o.smart)...)
		}
		res.Chips = append(res.Chips, chip)
	}
	return res
}

// attrs are the controller's facts for probe, in the order probe shows
// them.
func (c Controller) attrs(via string) thermal.Attrs {
	return thermal.Attrs{{Key: "controller", Value: c.Name}, {Key: "model", Value: c.Model}, {Key: "serial", Value: c.Serial},
		{Key: "firmware", Value: c.Firmware}, {Key: "wctemp"}, {Key: "cctemp"}, {Key: "read_via", Value: via}, {Key: "fallback"},
		{Key: "temperature_warning"}}
}

// InfoSeries is the info series of a controller, whichever way it is read.
func InfoSeries(model, serial, firmware string) thermal.Series {
	return thermal.Series{Name: "node_thermal_nvme_info", Help: "An NVMe controller: model, serial and firmware from sysfs; always 1.",
		Labels: []thermal.Label{{Name: "model", Value: model}, {Name: "serial", Value: serial}, {Name: "firmware", Value: firmware}}, Value: 1}
}

// SMARTSeries are the thermal counters of a SMART / Health log.
func SMARTSeries(log *SMARTLog) []thermal.Series {
	warn := 0.0
	if log.TemperatureWarning() {
		warn = 1
	}
	out := []thermal.Series{
		{Name: "node_thermal_nvme_temperature_warning", Help: "1 while the SMART log's critical warning bit 1 is set: a temperature is past an over- or under-temperature threshold.", Value: warn},
		{Name: "node_thermal_nvme_warning_temperature_time_seconds_total", Counter: true,
			Help: "Time the composite temperature has spent at or above the drive's warning threshold (WCTEMP), from the SMART log (minute resolution).", Value: float64(log.WarningTempMinutes) * 60},
		{Name: "node_thermal_nvme_critical_temperature_time_seconds_total", Counter: true,
			Help: "Time the composite temperature has spent at or above the drive's critical threshold (CCTEMP), from the SMART log (minute resolution).", Value: float64(log.CriticalTempMinutes) * 60},
	}
	for i, level := range []string{"1", "2"} {
		out = append(out,
			thermal.Series{Name: "node_thermal_nvme_thermal_management_transitions_total", Counter: true,
				Help:   "Times the controller entered thermal management temperature 1 or 2 (light or heavy throttling).",
				Labels: []thermal.Label{{Name: "level", Value: level}}, Value: float64(log.ThermalTransitions[i])},
			thermal.Series{Name: "node_thermal_nvme_thermal_management_seconds_total", Counter: true,
				Help:   "Time the controller has spent in thermal management temperature 1 or 2 (throttling).",
				Labels: []thermal.Label{{Name: "level", Value: level}}, Value: float64(log.ThermalSeconds[i])})
	}
	return out
}

// sensors turns a SMART log into the chip's sensors, named as the kernel's
// nvme hwmon chip names them: Composite, then Sensor 1 … Sensor 8 for those
// the drive implements.
func (fs FS) sensors(log SMARTLog, lim Limits) []thermal.Sensor {
	out := make([]thermal.Sensor, 0, 1+len(log.Sensors))
	comp := thermal.Sensor{Name: "Composite", Attr: "composite", Label: "Composite",
		Max: fs.limit(lim.WCTEMP), Crit: fs.limit(lim.CCTEMP)}
	comp.Value, comp.Err = fs.milli(log.Composite)
	out = append(out, comp)
	for i, k := range log.Sensors {
		if k == 0 {
			continue
		}
		name := "Sensor " + strconv.Itoa(i+1)
		s := thermal.Sensor{Name: name, Attr: "sensor" + strconv.Itoa(i+1), Label: name}
		s.Value, s.Err = fs.milli(k)
		out = append(out, s)
	}
	return out
}

func (fs FS) milli(k uint16) (int64, error) {
	m := KelvinToMilli(k)
	if err := fs.rng.Check(m); err != nil {
		return 0, err
	}
	return m, nil
}

func (fs FS) limit(k uint16) *int64 {
	if k == 0 {
		return nil
	}
	return fs.rng.Limit(KelvinToMilli(k))
}

// why says, for probe and the logs, why a controller is read through hwmon.
func why(err error) string {
	switch {
	case errors.Is(err, os.ErrPermission):
		return "the SMART log ioctl needs CAP_SYS_ADMIN (" + err.Error() + ")"
	case errors.Is(err, os.ErrNotExist):
		return "no device node (" + err.Error() + ")"
	}
	return err.Error()
}

// tree returns the device tree of the beat, shared with the other sources.
func (fs FS) tree() *sysdev.Tree { return sysdev.Shared(fs.req, fs.sys) }
