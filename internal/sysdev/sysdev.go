package sysdev

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// maxHops bounds the walk from a device up through `device` links. Real
// chains are two or three links long (hwmon → nvme0 → PCI function); a
// link that points at itself or into a cycle must not spin the beat.
const maxHops = 16

// Tree answers questions about devices under one sysfs mount. It memoises
// runtime power states, so one Tree serves one beat; it is not safe for
// concurrent use.
type Tree struct {
	sys     string
	devices string // <sys>/devices/
	read    sysread.ReadFunc
	linkBuf []byte
	valBuf  []byte
	power   map[string]pmState
}

// New returns a Tree over the sysfs tree at sys, reading attributes with read
// (sysread.ReadFile, or a test's stand-in).
func New(sys string, read sysread.ReadFunc) *Tree {
	return &Tree{sys: sys, devices: filepath.Join(sys, "devices") + "/", read: read,
		linkBuf: make([]byte, 4096), valBuf: make([]byte, 256), power: map[string]pmState{}}
}

// Resolve returns the path a relative symlink target names from dir. sysfs
// links are relative and point into /sys/devices, whose directories are not
// links, so this is exact without asking the kernel.
func Resolve(dir, target string) string {
	if filepath.IsAbs(target) {
		return filepath.Clean(target)
	}
	return filepath.Join(dir, target)
}

// ChipName returns the lm-sensors name a chip whose driver is called prefix
// has on device (a directory under <sysfs>/devices; "" for none), and its
// bus type. It walks from the device up through class devices until a bus
// is recognised, as libsensors' find_bus_type() does; a chip without a
// device, or whose chain ends (or loops) without a known bus, is virtual.
func (t *Tree) ChipName(prefix, device string) (name, bus string) {
	b := t.bus(device)
	return chipName(prefix, b), b.bus
}

func (t *Tree) bus(device string) busAddr {
	cur := device
	for hop := 0; cur != "" && hop < maxHops; hop++ {
		sub, err := sysread.Readlink(filepath.Join(cur, "subsystem"), t.linkBuf)
		if b, ok := classify(filepath.Base(cur), filepath.Base(sub), err == nil); ok {
			if b.bus == BusI2C && t.isaAdapter(b.nr) {
				b = busAddr{BusISA, 0, b.addr}
			}
			return b
		}
		next, err := sysread.Readlink(filepath.Join(cur, "device"), t.linkBuf)
		if err != nil {
			break
		}
		next = Resolve(cur, next)
		if next == cur {
			break // a link to itself; longer cycles end at maxHops
		}
		cur = next
	}
	return busAddr{bus: BusVirtual}
}

// isaAdapter reports whether i2c adapter nr is an ISA bridge, which
// libsensors names as bus isa.
func (t *Tree) isaAdapter(nr int) bool {
	p := filepath.Join(t.sys, "class", "i2c-adapter", "i2c-"+strconv.Itoa(nr), "device", "name")
	b, err := t.read(p, t.valBuf)
	return err == nil && strings.HasPrefix(string(b), "ISA ")
}

// Runtime power state of one device, as far as monitoring is concerned.
type pmState uint8

const (
	pmUnknown pmState = iota // no runtime PM of its own: its parent decides
	pmAwake
	pmAsleep
)

// Asleep reports whether device is runtime-suspended, so that reading it
// would wake it. Walking up from device, the first device with runtime PM of
// its own decides: an active device is awake whatever its parents say, a
// suspended one is asleep. A device whose status is "unsupported" (class
// devices such as nvme0, most i2c clients) defers to its parent. Each
// directory is read at most once per Tree.
func (t *Tree) Asleep(device string) bool {
	for d := filepath.Clean(device); strings.HasPrefix(d, t.devices); d = filepath.Dir(d) {
		st, ok := t.power[d]
		if !ok {
			st = t.powerState(d)
			t.power[d] = st
		}
		switch st {
		case pmAwake:
			return false
		case pmAsleep:
			return true
		}
	}
	return false
}

func (t *Tree) powerState(dir string) pmState {
	b, err := t.read(dir+"/power/runtime_status", t.valBuf)
	if err != nil {
		return pmUnknown
	}
	switch string(sysread.Trim(b)) {
	case "active", "resuming":
		return pmAwake
	case "suspended", "suspending":
		// A device without runtime PM callbacks (an i2c adapter, say) is
		// "suspended" whenever idle and has no power/control: its status
		// says nothing about the hardware, and its children may be awake
		// (the kernel marks such adapters ignore_children). Found on the
		// real kernel in the QEMU suite.
		if _, err := t.read(dir+"/power/control", t.valBuf); err != nil {
			return pmUnknown
		}
		return pmAsleep
	}
	return pmUnknown
}
