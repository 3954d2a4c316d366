package sysdev

import (
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// maxHops bounds the walk from a device up through `device` links. Real
// chains are two or three links long (hwmon → nvme0 → PCI function); a
// link that points at itself or into a cycle must not spin the beat.
const maxHops = 16

// Tree answers questions about devices under one sysfs mount. It memoises
// runtime power states, so one Tree serves one beat (see Shared). It is
// safe for concurrent use: no lock is held while the kernel is asked.
type Tree struct {
	sys     string
	devices string // <sys>/devices/
	read    sysread.ReadFunc

	mu    sync.Mutex
	power map[string]pmState
	spare *scratch // buffers for the next walk; nil while a walk has them
}

// scratch is the buffers of one walk.
type scratch struct {
	link []byte // for ChipName's links; allocated by its first use
	val  [256]byte
}

// New returns a Tree over the sysfs tree at sys, reading attributes with read
// (sysread.ReadFile, or a test's stand-in).
func New(sys string, read sysread.ReadFunc) *Tree {
	return &Tree{sys: sys, devices: Join(sys, "devices") + "/", read: read, power: map[string]pmState{}, spare: new(scratch)}
}

// take returns buffers for a walk: the Tree's, or new ones while another
// walk has them.
func (t *Tree) take() *scratch {
	t.mu.Lock()
	s := t.spare
	t.spare = nil
	t.mu.Unlock()
	if s == nil {
		s = new(scratch)
	}
	return s
}

// give hands a walk's buffers back.
func (t *Tree) give(s *scratch) {
	t.mu.Lock()
	t.spare = s
	t.mu.Unlock()
}

// state returns the memoised state of dir.
func (t *Tree) state(dir string) (pmState, bool) {
	t.mu.Lock()
	st, ok := t.power[dir]
	t.mu.Unlock()
	return st, ok
}

// ChipName returns the lm-sensors name a chip whose driver is called prefix
// has on device (a directory under <sysfs>/devices; "" for none), and its
// bus type. It walks from the device up through class devices until a bus
// is recognised, as libsensors' find_bus_type() does; a chip without a
// device, or whose chain ends (or loops) without a known bus, is virtual.
func (t *Tree) ChipName(prefix, device string) (name, bus string) {
	s := t.take()
	defer t.give(s)
	b := t.bus(device, s)
	return chipName(prefix, b), b.bus
}

func (t *Tree) bus(device string, s *scratch) busAddr {
	if device == "" {
		return busAddr{bus: BusVirtual}
	}
	if s.link == nil {
		s.link = make([]byte, 4096)
	}
	// cur is clean (clean's, then Resolve's): its links are below it.
	cur := clean(device)
	for hop := 0; hop < maxHops; hop++ {
		sub, err := sysread.Readlink(cur+"/subsystem", s.link)
		if err == nil {
			t.learnGlue(cur, sub)
		}
		if b, ok := classify(filepath.Base(cur), filepath.Base(sub), err == nil); ok {
			if b.bus == BusI2C && t.isaAdapter(b.nr, s) {
				b = busAddr{BusISA, 0, b.addr}
			}
			return b
		}
		next, err := sysread.Readlink(cur+"/device", s.link)
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
func (t *Tree) isaAdapter(nr int, s *scratch) bool {
	p := Join(t.sys, "class/i2c-adapter/i2c-"+strconv.Itoa(nr)+"/device/name")
	b, err := t.read(p, s.val[:])
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
// directory is read at most once per Tree, and none that is known to be no
// device: <sysfs>/devices/virtual, and the glue directories ChipName found
// (see learnGlue).
func (t *Tree) Asleep(device string) bool {
	var s *scratch
	defer func() {
		if s != nil {
			t.give(s)
		}
	}()
	for d := clean(device); strings.HasPrefix(d, t.devices); d = parent(d) {
		if d[len(t.devices):] == "virtual" {
			continue // the kobject above parentless devices: no device
		}
		st, ok := t.state(d)
		if !ok {
			if s == nil {
				s = t.take()
			}
			st = t.powerState(d, s)
			t.mu.Lock()
			t.power[d] = st
			t.mu.Unlock()
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

// learnGlue remembers that the parent directory of dev, whose subsystem
// link is sub, is no device when dev is a class device and the directory is
// named after its class: it is the class's glue directory, which the kernel
// puts between a class device and a parent of another class or none
// (.../0000:01:00.0/nvme/nvme0, devices/virtual/thermal/thermal_zone0), and
// which has no power state. Asleep then walks past it without a read.
func (t *Tree) learnGlue(dev, sub string) {
	class := filepath.Base(sub)
	if rest, ok := strings.CutSuffix(sub, class); !ok || !strings.HasSuffix(rest, "/class/") {
		return // a bus device, or no subsystem
	}
	t.glue(dev, class)
}

// AsleepClass is Asleep for dev, a class device of class: its parent
// directory, where named after the class, is its glue directory, walked
// past without a read though ChipName never met dev (a steady beat takes
// the chip's name from its cache).
func (t *Tree) AsleepClass(dev, class string) bool {
	t.glue(clean(dev), class)
	return t.Asleep(dev)
}

// glue notes the parent directory of class device dev as no device when
// it is named after class.
func (t *Tree) glue(dev, class string) {
	dir := parent(dev)
	if filepath.Base(dir) != class || !strings.HasPrefix(dir, t.devices) {
		return
	}
	t.mu.Lock()
	if _, known := t.power[dir]; !known {
		t.power[dir] = pmUnknown
	}
	t.mu.Unlock()
}

func (t *Tree) powerState(dir string, s *scratch) pmState {
	b, err := t.read(dir+"/power/runtime_status", s.val[:])
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
		if _, err := t.read(dir+"/power/control", s.val[:]); err != nil {
			return pmUnknown
		}
		return pmAsleep
	}
	return pmUnknown
}
