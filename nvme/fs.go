package nvme

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/hwmon"
	"github.com/thermal-heartbeat/thermal/internal/gather"
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
	names    hwmon.FS
	read     sysread.ReadFunc
	open     func(path string) (transportCloser, error)
	ignore   func(source, chip, sensor string) bool
}

// WithIgnore returns a copy of fs that sends no command to a controller
// whose chip ignore returns true for (with sensor "": the whole chip), and
// drops the sensors it returns true for.
func (fs FS) WithIgnore(ignore func(source, chip, sensor string) bool) FS {
	fs.ignore = ignore
	return fs
}

// NewFS returns an FS over the sysfs tree at sysfs and the device nodes in
// dev (normally /sys and /dev). Readings outside rng are dropped.
func NewFS(sysfs, dev string, rng thermal.Range) (FS, error) {
	if sysfs == "" || dev == "" {
		return FS{}, errors.New("nvme: sysfs and dev directories must be given")
	}
	names, err := hwmon.NewFS(sysfs, rng)
	if err != nil {
		return FS{}, err
	}
	return FS{sys: filepath.Clean(sysfs), dev: filepath.Clean(dev), rng: rng, names: names, read: sysread.ReadFile,
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
}

// Key identifies a drive for the limits cache: a replaced drive, or new
// firmware, is identified again.
func (c Controller) Key() string { return c.Model + "/" + c.Serial + "/" + c.Firmware }

// Controllers lists the controllers under <sysfs>/class/nvme. Attributes
// that cannot be read are left empty; a missing class directory means no
// controllers.
func (fs FS) Controllers() ([]Controller, error) {
	classDir := filepath.Join(fs.sys, "class", "nvme")
	buf := make([]byte, 4096)
	entries, err := sysread.ReadDirNames(classDir, buf)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nvme: %w", err)
	}
	var out []Controller
	for _, e := range entries {
		n, ok := strings.CutPrefix(e, "nvme")
		if _, err := strconv.Atoi(n); !ok || err != nil {
			continue
		}
		c := Controller{Name: e, Path: filepath.Join(classDir, e)}
		if target, err := sysread.Readlink(c.Path, buf); err == nil {
			c.Path = filepath.Join(classDir, target)
		}
		for _, a := range []struct {
			file string
			dst  *string
		}{{"model", &c.Model}, {"serial", &c.Serial}, {"firmware_rev", &c.Firmware}, {"state", &c.State},
			{"transport", &c.Transport}, {"address", &c.Address}} {
			if b, err := fs.read(filepath.Join(c.Path, a.file), buf); err == nil {
				*a.dst = string(sysread.Trim(b))
			}
		}
		c.Chip, c.Bus = fs.names.ChipName("nvme", c.Path)
		c.Asleep = fs.names.Suspended(c.Path)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(out[i].Name[4:])
		b, _ := strconv.Atoi(out[j].Name[4:])
		return a < b
	})
	return out, nil
}

// Limits are a drive's own composite temperature thresholds, in Kelvin as
// Identify Controller reports them (0 = not reported).
type Limits struct {
	WCTEMP uint16 `json:"wctemp"`
	CCTEMP uint16 `json:"cctemp"`
}

// Result is what one read of all controllers produced.
type Result struct {
	// Chips holds one chip per controller read through the ioctl, and one
	// per controller that is asleep, not live, or whose read did not finish in time
	// (with Err set; the hwmon chip of such a controller would block or
	// fail the same way, so it is not read either).
	Chips []thermal.Chip
	// Fallback maps the chip name of every controller the ioctl could not
	// read to the reason; its kernel hwmon chip is read instead.
	Fallback map[string]string
	// Learned holds the limits identified in this read, by Controller.Key,
	// for the caller to cache.
	Learned map[string]Limits
	// Ignored lists the chips of controllers the configuration ignores;
	// they were not read, and their hwmon chips are not to be read either.
	Ignored []string
}

// Read reads the SMART log of every live controller under ctx. A
// controller whose limits are in known costs exactly one admin command (Get
// Log Page); one that is not costs two (Identify Controller first).
func (fs FS) Read(ctx context.Context, ctrls []Controller, known map[string]Limits) Result {
	res := Result{Fallback: map[string]string{}, Learned: map[string]Limits{}}
	type outcome struct {
		fallback string
		smart    *thermal.NVMeSMART
		limits   Limits
		learned  bool
	}
	var mu sync.Mutex
	outcomes := make([]outcome, len(ctrls))
	jobs := make([]gather.Job, len(ctrls))
	ignored := make([]bool, len(ctrls))
	for i, c := range ctrls {
		if fs.ignore != nil && fs.ignore(thermal.SourceNVMe, c.Chip, "") {
			res.Ignored = append(res.Ignored, c.Chip)
			ignored[i] = true // its zero job reads nothing
			continue
		}
		chip := thermal.Chip{Source: thermal.SourceNVMe, Name: c.Chip, Driver: "nvme", Bus: c.Bus,
			Path: filepath.Join(fs.dev, c.Name), Device: c.Path,
			NVMe: &thermal.NVMe{Controller: c.Name, Model: c.Model, Serial: c.Serial, Firmware: c.Firmware, ReadVia: "ioctl"}}
		if c.Asleep {
			chip.Asleep = true
			chip.NVMe.ReadVia = ""
			jobs[i] = gather.Job{Chip: chip}
			continue
		}
		if c.State != "" && c.State != "live" {
			chip.Err = fmt.Errorf("nvme: controller %s is %s, not live", c.Name, c.State)
			chip.Errors = 1
			jobs[i] = gather.Job{Chip: chip}
			continue
		}
		lim, haveLimits := known[c.Key()]
		jobs[i] = gather.Job{Chip: chip, Expect: 1, Read: func(add func(thermal.Sensor)) {
			o := outcome{limits: lim}
			defer func() {
				mu.Lock()
				outcomes[i] = o
				mu.Unlock()
			}()
			dev, err := fs.open(chip.Path)
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
			o.smart = &thermal.NVMeSMART{
				TemperatureWarning:  log.TemperatureWarning(),
				WarningTempMinutes:  log.WarningTempMinutes,
				CriticalTempMinutes: log.CriticalTempMinutes,
				ThermalTransitions:  log.ThermalTransitions,
				ThermalSeconds:      log.ThermalSeconds,
			}
			for _, s := range fs.sensors(log, o.limits) {
				if fs.ignore == nil || !fs.ignore(thermal.SourceNVMe, chip.Name, s.Name) {
					add(s)
				}
			}
		}}
	}
	chips := gather.Run(ctx, jobs)
	mu.Lock()
	defer mu.Unlock()
	for i, chip := range chips {
		if ignored[i] {
			continue
		}
		o := outcomes[i]
		if o.learned {
			res.Learned[ctrls[i].Key()] = o.limits
		}
		if o.fallback != "" {
			res.Fallback[chip.Name] = o.fallback
			continue
		}
		chip.NVMe.SMART = o.smart
		chip.NVMe.WCTEMP, chip.NVMe.CCTEMP = fs.limit(o.limits.WCTEMP), fs.limit(o.limits.CCTEMP)
		res.Chips = append(res.Chips, chip)
	}
	return res
}

// sensors turns a SMART log into the chip's sensors, named as the kernel's
// nvme hwmon chip names them: Composite, then Sensor 1 … Sensor 8 for those
// the drive implements.
func (fs FS) sensors(log SMARTLog, lim Limits) []thermal.Sensor {
	out := make([]thermal.Sensor, 0, 1+len(log.Sensors))
	comp := thermal.Sensor{Name: "Composite", Attr: "composite", Label: "Composite",
		Max: fs.limit(lim.WCTEMP), Crit: fs.limit(lim.CCTEMP)}
	comp.Milli, comp.Err = fs.milli(log.Composite)
	out = append(out, comp)
	for i, k := range log.Sensors {
		if k == 0 {
			continue
		}
		name := "Sensor " + strconv.Itoa(i+1)
		s := thermal.Sensor{Name: name, Attr: "sensor" + strconv.Itoa(i+1), Label: name}
		s.Milli, s.Err = fs.milli(k)
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
