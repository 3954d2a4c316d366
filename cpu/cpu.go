// Package cpu reads the kernel's CPU thermal throttling counters
// (Documentation/x86/... thermal_throttle: /sys/devices/system/cpu/cpuN/
// thermal_throttle/{package,core}_throttle_count, and since 6.x
// *_throttle_total_time_ms and *_throttle_max_time_ms): how often, and for
// how long, a package or a core was throttled because it ran too hot.
//
// By default a host gets one chip per package (package0, …) with the
// package counters, read from the package's first CPU: a 192-core host does
// not add hundreds of series and reads. With per-core reading on, every
// core is a chip too (cpuN, one per physical core: hyperthread siblings
// share the counter).
package cpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysdev"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// FS reads the counters under a sysfs tree.
type FS struct {
	sys     string
	perCore bool
	read    sysread.ReadFunc
}

// NewFS returns the source over the sysfs tree at sysfs; perCore adds a
// chip per physical core.
func NewFS(sysfs string, perCore bool) (FS, error) {
	if sysfs == "" {
		return FS{}, errors.New("cpu: no sysfs mount point given")
	}
	return FS{sys: filepath.Clean(sysfs), perCore: perCore, read: sysread.ReadFile}, nil
}

// Name is the source label, cpu.
func (fs FS) Name() string { return SourceName }

type logical struct {
	n, pkg, core int
	dir          string
}

// Read implements thermal.Source.
func (fs FS) Read(ctx context.Context, req *thermal.Request) ([]thermal.Chip, error) {
	cpus, err := fs.cpus(req.CacheOf())
	if err != nil || len(cpus) == 0 {
		return nil, err
	}
	buf := make([]byte, 64)
	var chips []thermal.Chip
	seenPkg := map[int]bool{}
	seenCore := map[[2]int]bool{}
	for _, c := range cpus {
		if ctx.Err() != nil {
			break
		}
		if !seenPkg[c.pkg] {
			seenPkg[c.pkg] = true
			chip := thermal.Chip{Source: SourceName, Name: "package" + strconv.Itoa(c.pkg), Driver: "thermal_throttle", Path: c.dir + "/thermal_throttle"}
			if req.Admits(&chip) && !req.Ignores(chip.Source, chip.Name, "") {
				fs.counters(&chip, c.dir, "package", buf)
				chips = append(chips, chip)
			}
		}
		if fs.perCore && !seenCore[[2]int{c.pkg, c.core}] {
			seenCore[[2]int{c.pkg, c.core}] = true
			chip := thermal.Chip{Source: SourceName, Name: "cpu" + strconv.Itoa(c.n), Driver: "thermal_throttle", Path: c.dir + "/thermal_throttle"}
			if req.Admits(&chip) && !req.Ignores(chip.Source, chip.Name, "") {
				fs.counters(&chip, c.dir, "core", buf)
				chips = append(chips, chip)
			}
		}
	}
	return chips, nil
}

// cpus returns the online CPUs that have the counters, in number order,
// with their package and core: from cache while the CPUs are the ones it
// lists (the same entries under devices/system/cpu, with the same inode
// numbers, and the same online CPUs), else found afresh, which reads three
// attributes of every CPU: a host has hundreds.
func (fs FS) cpus(cache thermal.Cache) ([]logical, error) {
	dir := sysdev.Join(fs.sys, "devices/system/cpu")
	entries, err := sysread.ReadDirEntries(dir, sysread.Buffer(16384))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cpu: %w", err)
	}
	// The online CPUs: a list of ranges the kernel keeps under a page; a
	// fragmented one (SMT off, CPUs taken offline one by one) is long.
	online, onlineErr := "", error(nil)
	if b, err := fs.read(dir+"/online", sysread.Buffer(4096)); err == nil {
		online = sysread.Text(b)
	} else if !errors.Is(err, os.ErrNotExist) { // a tree without it (a fixture) has no hotplug
		onlineErr = err
	}
	fp := sysread.Fingerprint(entries)
	useCache := cache != nil && fp != 0 && onlineErr == nil
	if useCache {
		if data, ok := cache.Load(topologyKey); ok {
			if cpus, ok := decodeTopology(data, fp, online, dir); ok {
				return cpus, nil
			}
		}
	}
	buf := make([]byte, 64)
	cpus := fs.discover(dir, entries, buf)
	if useCache && settled(cpus, online) {
		cache.Store(topologyKey, encodeTopology(cpus, fp, online))
	}
	return cpus, nil
}

// settled reports whether cpus, those found with the counters, are all
// the online ones: a CPU is online before its thermal_throttle group is
// made, and one caught in between is not cached as having none. A host
// whose kernel has no counters at all (none found) is settled too.
func settled(cpus []logical, online string) bool {
	if len(cpus) == 0 || online == "" {
		return true
	}
	have := make(map[int]bool, len(cpus))
	for _, c := range cpus {
		have[c.n] = true
	}
	ok := true
	for r := range strings.SplitSeq(online, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || b < a || b-a > 1<<16 {
			return false // not the kernel's list
		}
		for n := a; n <= b; n++ {
			ok = ok && have[n]
		}
	}
	return ok
}

// discover finds the CPUs of entries that have the counters, and their
// package and core.
func (fs FS) discover(dir string, entries []sysread.DirEntry, buf []byte) []logical {
	readInt := func(path string) (int64, error) { return sysread.ReadInt(fs.read, path, buf) }
	var cpus []logical
	for _, e := range entries {
		num, ok := strings.CutPrefix(e.Name, "cpu")
		k, err := strconv.Atoi(num)
		if !ok || err != nil {
			continue
		}
		d := sysdev.Join(dir, e.Name)
		if _, err := fs.read(d+"/thermal_throttle/package_throttle_count", buf); err != nil {
			continue // offline, or a kernel without the counters
		}
		pkg, err1 := readInt(d + "/topology/physical_package_id")
		core, err2 := readInt(d + "/topology/core_id")
		if err1 != nil || err2 != nil {
			pkg, core = 0, int64(k)
		}
		cpus = append(cpus, logical{k, int(pkg), int(core), d})
	}
	sort.Slice(cpus, func(i, j int) bool { return cpus[i].n < cpus[j].n })
	return cpus
}

// counters adds the kind's (package or core) counters of the CPU at dir to
// chip; one that cannot be read is counted, one the kernel lacks (the times
// before 6.x) is left out.
func (fs FS) counters(chip *thermal.Chip, dir, kind string, buf []byte) {
	base := dir + "/thermal_throttle/" + kind + "_throttle_"
	labels := []thermal.Label{{Name: "kind", Value: kind}}
	for _, c := range []struct {
		file, name, help string
		counter          bool
		scale            float64
	}{
		{"count", "node_thermal_throttle_events_total", "Thermal throttle events of a CPU package or core (the kernel's thermal_throttle counts).", true, 1},
		{"total_time_ms", "node_thermal_throttle_seconds_total", "Time spent throttled, by kind, where the hardware counts it, in seconds.", true, 1e-3},
		{"max_time_ms", "node_thermal_throttle_max_seconds", "The longest single thermal throttle event of a CPU package or core, in seconds.", false, 1e-3},
	} {
		v, err := sysread.ReadInt(fs.read, base+c.file, buf)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil || v < 0:
			chip.Errors++
			continue
		}
		if c.file == "count" {
			// The count, as a throttle sensor: the pipeline derives
			// whether it grew since the last beat, for [[rule]] kind =
			// "throttle". An event about a package quotes its
			// temperature, coretemp's "Package id N".
			if n, ok := strings.CutPrefix(chip.Name, "package"); ok {
				chip.Related = &thermal.SensorID{Sensor: "Package id " + n}
			}
			chip.Sensors = append(chip.Sensors, thermal.Sensor{Kind: thermal.KindThrottleCount, Name: "throttling", Attr: kind + "_throttle_count", Value: v})
		}
		chip.Series = append(chip.Series, thermal.Series{Name: c.name, Help: c.help, Counter: c.counter, Labels: labels, Value: float64(v) * c.scale})
	}
}
