package sysdev

import (
	"runtime"
	"sync"
	"weak"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// shared holds the Tree of each collection in progress, by its request:
// the sources of one beat ask about the same devices (an NVMe drive is
// nvme's controller and the kernel's nvme hwmon chip; a SATA drive is
// disk's and drivetemp's), and each device is read once for all of them.
// An entry goes when its request is collected.
var shared struct {
	mu    sync.Mutex
	trees map[sharedKey]*Tree
}

type sharedKey struct {
	req weak.Pointer[thermal.Request]
	sys string
}

// Shared returns the Tree that every source of the collection req shares
// over the sysfs tree at sys, reading through sysread.ReadFile: a device's
// power state is read once per collection, whichever source asks first,
// and the glue directories one source's ChipName found are known to all.
// req stands for one collection, as the pipeline makes one per beat; a
// source reading through a stand-in reader (a test's) uses New instead.
// A nil req gets a Tree of its own.
func Shared(req *thermal.Request, sys string) *Tree {
	if req == nil {
		return New(sys, sysread.ReadFile)
	}
	k := sharedKey{weak.Make(req), sys}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if t, ok := shared.trees[k]; ok {
		return t
	}
	if shared.trees == nil {
		shared.trees = map[sharedKey]*Tree{}
	}
	t := New(sys, sysread.ReadFile)
	shared.trees[k] = t
	runtime.AddCleanup(req, forget, k)
	return t
}

// forget drops the Tree of a collected request.
func forget(k sharedKey) {
	shared.mu.Lock()
	delete(shared.trees, k)
	shared.mu.Unlock()
}
