package nvml

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/helper"
	"github.com/thermal-heartbeat/thermal/internal/sysdev"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// FS reads the NVIDIA GPUs of a host: found under <sysfs>/bus/pci/devices,
// read through NVML.
type FS struct {
	sys  string
	rng  thermal.Range
	read sysread.ReadFunc
	// exe is the thermal binary the NVML helper runs in; "" is this one.
	exe string
	// note says why the source is absent, for probe.
	note *string
}

// NewFS returns the source over the sysfs tree at sysfs.
func NewFS(sysfs string, rng thermal.Range) (FS, error) {
	if sysfs == "" {
		return FS{}, errors.New("nvml: no sysfs mount point given")
	}
	return FS{sys: filepath.Clean(sysfs), rng: rng, read: sysread.ReadFile, note: new(string)}, nil
}

// The library is loaded once per process: dlopen of the same soname gives
// the same handle, and NVML's own state is process-wide.
var (
	loadMu  sync.Mutex
	loaded  library
	loadErr error
	tried   bool
)

func loadOnce() (library, error) {
	loadMu.Lock()
	defer loadMu.Unlock()
	if !tried {
		loaded, loadErr = load()
		tried = true
	}
	return loaded, loadErr
}

// Name is the source label, nvml.
func (fs FS) Name() string { return SourceName }

// Note says why the source read nothing ("no NVIDIA GPU", "no NVIDIA
// driver (…)"), or "" when it read GPUs.
func (fs FS) Note() string { return *fs.note }

// gpu is an NVIDIA GPU as sysfs shows it.
type gpu struct {
	busID  string // 0000:01:00.0
	dir    string // its device directory
	chip   string // nvidia-pci-0100
	bus    string
	asleep bool
}

// GPUs lists the NVIDIA display controllers (vendor 0x10de, class 0x03)
// under <sysfs>/bus/pci/devices, with their lm-sensors chip names and
// runtime power state.
func (fs FS) GPUs() []gpu { return fs.gpus(nil) }

// gpus is GPUs with the discovery of an earlier beat in cache: while the
// PCI functions are the ones it listed (the same entries with the same
// inode numbers: a function hot-plugged or rescanned is a new link), their
// GPUs are taken from it and only their power state is read. A host has
// hundreds of PCI functions, whose vendor the discovery reads.
func (fs FS) gpus(cache thermal.Cache) []gpu {
	dir := filepath.Join(fs.sys, "bus", "pci", "devices")
	entries, err := sysread.ReadDirEntries(dir, sysread.Buffer(16384))
	if err != nil {
		return nil
	}
	tree := sysdev.New(fs.sys, fs.read)
	fp := sysread.Fingerprint(entries)
	if cache != nil && fp != 0 {
		if data, ok := cache.Load(gpusKey); ok {
			if out, ok := decodeGPUs(data, fp); ok {
				for i := range out {
					out[i].asleep = tree.Asleep(out[i].dir)
				}
				return out
			}
		}
	}
	out := fs.discover(dir, entries, tree)
	if cache != nil && fp != 0 && !slices.ContainsFunc(out, func(g gpu) bool { return g.bus != sysdev.BusPCI }) {
		// A GPU that could not be named as a PCI device is not kept: it
		// is named again next beat.
		cache.Store(gpusKey, encodeGPUs(out, fp))
	}
	return out
}

// discover reads the vendor of every PCI function of entries and describes
// the NVIDIA display controllers.
func (fs FS) discover(dir string, entries []sysread.DirEntry, tree *sysdev.Tree) []gpu {
	slices.SortFunc(entries, func(a, b sysread.DirEntry) int { return strings.Compare(a.Name, b.Name) })
	buf := make([]byte, 64)
	var out []gpu
	var link []byte
	for _, e := range entries {
		// The vendor through the bus's link: a host has hundreds of PCI
		// functions and none or a few NVIDIA ones, whose link alone is
		// resolved.
		d := dir + "/" + e.Name
		b, err := fs.read(d+"/vendor", buf)
		if err != nil || sysread.Text(b) != "0x10de" {
			continue
		}
		if link == nil {
			link = sysread.Buffer(4096)
		}
		if target, err := sysread.Readlink(d, link); err == nil {
			d = sysdev.Resolve(dir, target)
		}
		b, err = fs.read(d+"/class", buf)
		if err != nil || !strings.HasPrefix(sysread.Text(b), "0x03") {
			continue // the GPU's audio or USB function, not the GPU
		}
		g := gpu{busID: e.Name, dir: d}
		g.chip, g.bus = tree.ChipName("nvidia", d)
		g.asleep = tree.Asleep(d)
		out = append(out, g)
	}
	return out
}

// Read implements thermal.Source: the GPUs found in sysfs, the awake ones
// read out of process (see helper.go), each as soon as it is read; a GPU
// not read by the deadline is counted as timed out, one the helper did not
// live to read carries why, and a helper that died makes the source's
// error (the beat checks in error).
func (fs FS) Read(ctx context.Context, req *thermal.Request) ([]thermal.Chip, error) {
	*fs.note = ""
	gpus := fs.gpus(req.CacheOf())
	if len(gpus) == 0 {
		*fs.note = "no NVIDIA GPU"
		return nil, nil
	}
	chips := make([]thermal.Chip, 0, len(gpus))
	var awake []int
	for _, g := range gpus {
		c := thermal.Chip{Source: SourceName, Name: g.chip, Driver: "nvidia", Bus: g.bus, Path: g.dir, Device: g.dir, Asleep: g.asleep}
		if !req.Admits(&c) || req.Ignores(c.Source, c.Name, "") {
			continue
		}
		if !c.Asleep {
			awake = append(awake, len(chips))
		}
		chips = append(chips, c)
	}
	if len(awake) == 0 {
		return chips, nil // nothing to read, or asleep: not woken
	}
	if !Built {
		_, err := load()
		*fs.note = "no NVIDIA driver (" + err.Error() + ")"
		return nil, nil
	}
	want := request{Range: fs.rng}
	learnt := loadUnsupported(req.CacheOf())
	for _, i := range awake {
		w := wantGPU{BusID: gpus[indexOf(gpus, chips[i].Path)].busID, Chip: chips[i].Name}
		w.Skip = learnt[w.BusID]
		for _, s := range []string{"GPU", "Memory"} {
			if req.Ignores(SourceName, chips[i].Name, s) {
				w.Ignore = append(w.Ignore, s)
			}
		}
		want.GPUs = append(want.GPUs, w)
	}
	chips, newly, err := fs.readOutOfProcess(ctx, chips, awake, want)
	if len(newly) > 0 {
		storeUnsupported(req.CacheOf(), learnt, newly)
	}
	return chips, err
}

// shutdownGrace is how long the helper's nvmlShutdown is waited for once
// every GPU is read: it takes milliseconds on a healthy driver.
const shutdownGrace = 500 * time.Millisecond

// unsupportedKey is the Cache key of the calls each GPU (by PCI bus ID)
// answered NOT_SUPPORTED.
const unsupportedKey = "nvml-unsupported"

func loadUnsupported(c thermal.Cache) map[string][]string {
	m := map[string][]string{}
	if c != nil {
		if data, ok := c.Load(unsupportedKey); ok && json.Unmarshal(data, &m) != nil {
			m = map[string][]string{} // corrupt: learn again
		}
	}
	return m
}

func storeUnsupported(c thermal.Cache, known, newly map[string][]string) {
	if c == nil {
		return
	}
	for bus, calls := range newly {
		for _, call := range calls {
			if !slices.Contains(known[bus], call) {
				known[bus] = append(known[bus], call)
			}
		}
	}
	if data, err := json.Marshal(known); err == nil {
		c.Store(unsupportedKey, data)
	}
}

// readOutOfProcess has the helper read the awake chips (indexes into
// chips, in the order of want.GPUs). It also returns, by bus ID, the calls
// the GPUs answered NOT_SUPPORTED for the first time.
func (fs FS) readOutOfProcess(ctx context.Context, chips []thermal.Chip, awake []int, want request) (_ []thermal.Chip, newly map[string][]string, _ error) {
	got := make([]bool, len(awake)) // read by the helper
	fail := func(err error) {
		for k, i := range awake {
			if !got[k] {
				chips[i].Err, chips[i].Errors = fmt.Errorf("nvml: %s: %w", chips[i].Name, err), 1
				got[k] = true
			}
		}
	}
	exe := fs.exe
	if exe == "" {
		// This very binary, even if a package upgrade replaced the file
		// (os.Executable would name the new one).
		exe = "/proc/self/exe"
		if _, err := os.Stat(exe); err != nil {
			if exe, err = os.Executable(); err != nil {
				fail(err)
				return chips, newly, fmt.Errorf("nvml: %w", err)
			}
		}
	}
	input, _ := json.Marshal(want)
	p, err := helper.Start(ctx, exe, helperName, input)
	if err != nil {
		fail(err)
		return chips, newly, fmt.Errorf("nvml: %w", err)
	}
	for {
		select {
		case b, ok := <-p.Lines:
			if !ok {
				if err := p.Wait(); err != nil {
					fail(err)
					return chips, newly, fmt.Errorf("nvml: %w", err)
				}
				fail(errors.New("not read (the NVML helper ended without it)"))
				return chips, newly, nil
			}
			var l line
			if err := json.Unmarshal(b, &l); err != nil {
				continue // not ours: a library that prints to stdout
			}
			switch {
			case l.Note != "":
				*fs.note = l.Note
				p.Wait()
				return nil, nil, nil
			case l.InitErr != "":
				fail(errors.New(l.InitErr))
			case l.GPU != nil && l.GPU.Index >= 0 && l.GPU.Index < len(awake) && !got[l.GPU.Index]:
				l.GPU.into(&chips[awake[l.GPU.Index]])
				got[l.GPU.Index] = true
				if len(l.GPU.Unsupported) > 0 {
					if newly == nil {
						newly = map[string][]string{}
					}
					newly[want.GPUs[l.GPU.Index].BusID] = l.GPU.Unsupported
				}
				if !slices.Contains(got, false) {
					// Every GPU is in. The helper's nvmlShutdown gets a
					// moment (NVML's clean-up, as before); a slow or
					// crashing one costs neither the deadline nor the
					// check-in (Pdeathsig ends it with the beat).
					select {
					case <-p.Done():
					case <-time.After(shutdownGrace):
					case <-ctx.Done():
					}
					return chips, newly, nil
				}
			}
		case <-ctx.Done():
			p.Kill()
			// Lines that arrived in time count, even if the deadline won
			// the select.
			for drained := false; !drained; {
				select {
				case b, ok := <-p.Lines:
					var l line
					if ok && json.Unmarshal(b, &l) == nil && l.GPU != nil && l.GPU.Index >= 0 && l.GPU.Index < len(awake) && !got[l.GPU.Index] {
						l.GPU.into(&chips[awake[l.GPU.Index]])
						got[l.GPU.Index] = true
					}
					drained = !ok
				default:
					drained = true
				}
			}
			fail(thermal.ErrTimeout)
			return chips, newly, nil
		}
	}
}

func indexOf(gpus []gpu, dir string) int {
	for i, g := range gpus {
		if g.dir == dir {
			return i
		}
	}
	return 0
}

// readGPU reads one GPU into c.
func (fs FS) readGPU(lib library, c *thermal.Chip, busID string, req *thermal.Request) {
	d, err := lib.DeviceByPCIBusID(busID)
	if err != nil {
		c.Err, c.Errors = fmt.Errorf("nvml: %s: %w", busID, err), 1
		return
	}
	model, _ := lib.Name(d)
	uuid, _ := lib.UUID(d)
	model, uuid = strings.ToValidUTF8(model, "\uFFFD"), strings.ToValidUTF8(uuid, "\uFFFD")
	limit := func(kind int) *int64 {
		t, err := lib.Threshold(d, kind)
		if err != nil || t == 0 {
			return nil
		}
		return fs.rng.Limit(int64(t) * 1000)
	}
	slowdown, shutdown := limit(ThresholdSlowdown), limit(ThresholdShutdown)
	gpuMax, memMax := limit(ThresholdGPUMax), limit(ThresholdMemMax)
	c.Attrs = thermal.Attrs{{Key: "model", Value: nonEmpty(model)}, {Key: "uuid", Value: nonEmpty(uuid)}, {Key: "pci", Value: busID},
		{Key: "slowdown", Value: thermal.CelsiusAttr(slowdown)}, {Key: "shutdown", Value: thermal.CelsiusAttr(shutdown)},
		{Key: "gpu_max_operating", Value: thermal.CelsiusAttr(gpuMax)}, {Key: "memory_max_operating", Value: thermal.CelsiusAttr(memMax)},
		{Key: "read_via", Value: "nvml"}}
	if model != "" || uuid != "" {
		c.Series = append(c.Series, thermal.Series{Name: "node_thermal_gpu_info", Help: "An NVIDIA GPU: its model and UUID; always 1.",
			Labels: []thermal.Label{{Name: "model", Value: model}, {Name: "uuid", Value: uuid}}, Value: 1})
	}

	if !req.Ignores(c.Source, c.Name, "GPU") {
		s := thermal.Sensor{Name: "GPU", Attr: "gpu", Label: "GPU", Max: slowdown, Crit: shutdown}
		if gpuMax != nil {
			s.Limits = []thermal.Limit{{Name: "max_operating", Milli: *gpuMax}}
		}
		t, err := lib.Temperature(d)
		switch {
		case err != nil:
			s.Err = fmt.Errorf("nvml: %s: nvmlDeviceGetTemperature: %w", busID, err)
		default:
			s.Value = int64(t) * 1000
			if err := fs.rng.Check(s.Value); err != nil {
				s.Err = fmt.Errorf("nvml: %s: %w", busID, err)
			}
		}
		if s.Err != nil {
			c.Errors++
		}
		c.Sensors = append(c.Sensors, s)
	}
	// Memory: HBM parts report it; many consumer cards do not, and then
	// there is no Memory sensor rather than a 0.
	if t, err := lib.MemoryTemperature(d); err == nil && t > 0 && !req.Ignores(c.Source, c.Name, "Memory") {
		s := thermal.Sensor{Name: "Memory", Attr: "memory", Label: "Memory", Max: memMax, Value: int64(t) * 1000}
		if err := fs.rng.Check(s.Value); err != nil {
			s.Err = fmt.Errorf("nvml: %s: memory: %w", busID, err)
			c.Errors++
		}
		c.Sensors = append(c.Sensors, s)
	}
	if r, err := lib.ClockEventReasons(d); err == nil {
		throttling := int64(0)
		if r&(ReasonHWSlowdown|ReasonHWThermal|ReasonSWThermal) != 0 {
			throttling = 1
		}
		c.Sensors = append(c.Sensors, thermal.Sensor{Kind: thermal.KindThrottle, Name: "throttling", Attr: "clock_event_reasons", Value: throttling})
		for _, reason := range []struct {
			name string
			bit  uint64
		}{{"hw_slowdown", ReasonHWSlowdown}, {"hw_thermal", ReasonHWThermal}, {"sw_thermal", ReasonSWThermal}} {
			c.Series = append(c.Series, thermal.Throttling(reason.name, r&reason.bit != 0))
		}
	} else if !errors.Is(err, errMissing) && !errors.Is(err, ErrNotSupported) {
		c.Errors++
	}
	fs.readFans(lib, c, d, busID)
	fs.readPower(lib, c, d, busID)
	if ns, err := lib.ThermalViolationNanos(d); err == nil {
		c.Series = append(c.Series, thermal.Series{Name: "node_thermal_throttle_seconds_total", Counter: true,
			Help:   "Time spent throttled, by kind, where the hardware counts it, in seconds.",
			Labels: []thermal.Label{{Name: "kind", Value: "thermal"}}, Value: float64(ns) / 1e9})
	}
}

// absent reports whether err means the GPU or the driver does not offer
// the reading (a passively cooled GPU has no fans, an older driver lacks
// the function): no series then, and no error.
func absent(err error) bool {
	return errors.Is(err, ErrNotSupported) || errors.Is(err, errMissing) || errors.Is(err, ErrNotFound)
}

// readFans adds each fan as its commanded duty (fan0, fan1, …) and, where
// the driver measures it, its speed; a fan commanded to turn that reads 0
// RPM has failed.
func (fs FS) readFans(lib library, c *thermal.Chip, d uintptr, busID string) {
	n, err := lib.NumFans(d)
	switch {
	case errors.Is(err, errMissing):
		n = 1 // a driver without nvmlDeviceGetNumFans: fan 0, through the older call
	case err != nil:
		if !absent(err) {
			c.Errors++
		}
		return
	}
	for i := range n {
		name := "fan" + strconv.Itoa(int(i))
		pct, err := lib.FanSpeed(d, i)
		switch {
		case absent(err):
			continue
		case err != nil:
			c.Sensors = append(c.Sensors, thermal.Sensor{Kind: thermal.KindDuty, Name: name, Attr: name,
				Err: fmt.Errorf("nvml: %s: %s: nvmlDeviceGetFanSpeed_v2: %w", busID, name, err)})
			c.Errors++
			continue
		}
		c.Sensors = append(c.Sensors, thermal.Sensor{Kind: thermal.KindDuty, Name: name, Attr: name, Value: int64(min(pct, 100)) * 10000})
		rpm, err := lib.FanSpeedRPM(d, i)
		switch {
		case absent(err):
			continue
		case err != nil:
			c.Sensors = append(c.Sensors, thermal.Sensor{Kind: thermal.KindFan, Name: name, Attr: name,
				Err: fmt.Errorf("nvml: %s: %s: nvmlDeviceGetFanSpeedRPM: %w", busID, name, err)})
			c.Errors++
			continue
		}
		f := thermal.Sensor{Kind: thermal.KindFan, Name: name, Attr: name, Value: int64(rpm)}
		if rpm == 0 && pct > 0 {
			f.Failed = "commanded to " + strconv.Itoa(int(pct)) + "% but at 0 RPM"
		}
		c.Sensors = append(c.Sensors, f)
	}
}

// readPower adds the GPU's power draw, with the limit it is held to.
func (fs FS) readPower(lib library, c *thermal.Chip, d uintptr, busID string) {
	mw, err := lib.PowerUsage(d)
	switch {
	case absent(err):
		return
	case err != nil:
		c.Sensors = append(c.Sensors, thermal.Sensor{Kind: thermal.KindPower, Name: "GPU", Attr: "power",
			Err: fmt.Errorf("nvml: %s: nvmlDeviceGetPowerUsage: %w", busID, err)})
		c.Errors++
		return
	}
	s := thermal.Sensor{Kind: thermal.KindPower, Name: "GPU", Attr: "power", Value: int64(mw)}
	if limit, err := lib.EnforcedPowerLimit(d); err == nil && limit > 0 {
		v := int64(limit)
		s.Max = &v
	}
	c.Sensors = append(c.Sensors, s)
}

func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
