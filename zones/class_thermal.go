package zones

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/gather"
	"github.com/thermal-heartbeat/thermal/internal/linecodec"
	"github.com/thermal-heartbeat/thermal/internal/sysdev"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// FS reads thermal zones from a sysfs tree.
type FS struct {
	sys  string
	rng  thermal.Range
	read sysread.ReadFunc
	// req is the pipeline's request: its Ignore is asked with sensor ""
	// before a zone is touched, and with the zone's type before its
	// temperature is read; its Admit about every zone before it is read.
	// Nil reads everything.
	req *thermal.Request
}

// NewFS returns an FS reading the sysfs tree mounted at mountPoint (normally
// /sys). Readings outside rng are dropped.
func NewFS(mountPoint string, rng thermal.Range) (FS, error) {
	if mountPoint == "" {
		return FS{}, errors.New("zones: no sysfs mount point given")
	}
	return FS{sys: filepath.Clean(mountPoint), rng: rng, read: sysread.ReadFile}, nil
}

// Name is the source label, thermal_zone.
func (fs FS) Name() string { return SourceName }

// Read implements thermal.Source: Zones under the request's ignore rules,
// with the zones' descriptions kept in its Cache.
func (fs FS) Read(ctx context.Context, req *thermal.Request) ([]thermal.Chip, error) {
	fs.req = req
	cache := req.CacheOf()
	known := linecodec.Load(cache, zonesKey, decodeDescribed)
	chips, next, err := fs.zones(ctx, known)
	if cache != nil && err == nil {
		// Stored when it says something else: the encodings are sorted.
		if enc := encodeDescribed(next); !bytes.Equal(enc, encodeDescribed(known)) {
			cache.Store(zonesKey, enc)
		}
	}
	return chips, err
}

// Zones returns one chip per thermal zone, read concurrently under ctx (see
// gather.Run). The error is non-nil only when the class directory cannot be
// listed; a system without thermal zones has none and no error.
func (fs FS) Zones(ctx context.Context) ([]thermal.Chip, error) {
	chips, _, err := fs.zones(ctx, nil)
	return chips, err
}

// zones is Zones with the descriptions of an earlier beat, by class entry:
// a zone or cooling device whose class entry is the same link (the same
// inode number; a zone registered again is a new kernfs node) is not
// listed, its link not read, and its type and its trip points' types not
// read again. It returns the descriptions for the next beat.
func (fs FS) zones(ctx context.Context, known map[string]described) ([]thermal.Chip, map[string]described, error) {
	classDir := sysdev.Join(fs.sys, "class/thermal")
	buf := sysread.Buffer(8192)
	entries, err := sysread.ReadDirEntries(classDir, buf)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("zones: %w", err)
	}
	next := make(map[string]described, len(entries))
	zs := zoneEntries(entries, known)
	jobs := make([]gather.Job, 0, len(zs))
	descs := make([]described, 0, len(zs))
	for _, z := range zs {
		if j, d, ok := fs.zoneJob(classDir, z, buf); ok {
			jobs = append(jobs, j)
			descs = append(descs, d)
		}
	}
	chips := gather.Run(ctx, jobs)
	for i := range chips {
		if len(chips[i].Sensors) == 1 && chips[i].Sensors[0].Label != "" {
			chips[i].Driver = chips[i].Sensors[0].Label
		}
	}
	// What the reads learnt, from their chips (a read still running past
	// the deadline writes nothing the beat reads).
	for i := range jobs {
		if d := descs[i]; d.ino != 0 && i < len(chips) && chips[i].Name == jobs[i].Chip.Name {
			next[jobs[i].Chip.Name] = d.learn(&chips[i])
		}
	}
	if cd := fs.coolingDevices(ctx, classDir, entries, known, next); cd != nil {
		chips = append(chips, *cd)
	}
	return chips, next, nil
}

// zoneEntry is a thermal_zoneN class entry, with what is known of it.
type zoneEntry struct {
	n    int
	name string
	d    described
}

// zoneEntries returns the class's zones in number order, each with its
// description from known while its class link stands, else fresh.
func zoneEntries(entries []sysread.DirEntry, known map[string]described) []zoneEntry {
	var zs []zoneEntry
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e.Name, "thermal_zone"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				d, ok := known[e.Name]
				if !ok || e.Ino == 0 || d.ino != e.Ino {
					d = described{ino: e.Ino, fresh: true}
				}
				zs = append(zs, zoneEntry{n, e.Name, d})
			}
		}
	}
	sort.Slice(zs, func(i, j int) bool { return zs[i].n < zs[j].n })
	return zs
}

// zoneJob returns the gather job that reads zone z and its description
// so far (a fresh zone's link read and its directory listed for its trip
// points); ok is false when the request leaves the zone out.
func (fs FS) zoneJob(classDir string, z zoneEntry, buf []byte) (_ gather.Job, _ described, ok bool) {
	if fs.req.Ignores(SourceName, z.name, "") {
		return gather.Job{}, described{}, false
	}
	dir := sysdev.Join(classDir, z.name)
	chip := thermal.Chip{Source: SourceName, Name: z.name, Path: dir}
	d := z.d
	if d.fresh {
		if target, err := sysread.Readlink(dir, buf); err == nil {
			d.device = sysdev.Resolve(classDir, target)
		}
	}
	chip.Device = d.device
	if !fs.req.Admits(&chip) {
		return gather.Job{}, described{}, false
	}
	if d.fresh {
		names, err := sysread.ReadDirNames(dir, buf)
		if err != nil {
			chip.Err, chip.Errors = err, 1
			return gather.Job{Chip: chip}, described{}, true // not described: tried afresh next beat
		}
		d.trips = trips(names)
	}
	return gather.Job{Chip: chip, Expect: 1, Read: fs.readZone(chip.Name, dir, d)}, d, true
}

// coolingDevices reads every cooling_deviceN (fans, processor P-state
// limits, powerclamp …): its type (from known while its class entry
// stands) and its current and maximum state, as series that belong to no
// chip. The types read are noted in next.
func (fs FS) coolingDevices(ctx context.Context, classDir string, entries []sysread.DirEntry, known, next map[string]described) *thermal.Chip {
	type dev struct {
		n   int
		ent sysread.DirEntry
	}
	var devs []dev
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e.Name, "cooling_device"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				devs = append(devs, dev{n, e})
			}
		}
	}
	if len(devs) == 0 {
		return nil
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i].n < devs[j].n })
	aux := &thermal.Chip{Source: SourceName, Name: "cooling_devices", Aux: true}
	buf := make([]byte, 256)
	for _, d := range devs {
		if ctx.Err() != nil {
			break
		}
		dir := sysdev.Join(classDir, d.ent.Name)
		typ := ""
		if k, ok := known[d.ent.Name]; ok && d.ent.Ino != 0 && k.ino == d.ent.Ino && k.typed {
			typ = k.typ
		} else {
			b, err := fs.read(dir+"/type", buf)
			if err != nil {
				continue
			}
			typ = sysread.Text(b)
		}
		if d.ent.Ino != 0 {
			next[d.ent.Name] = described{ino: d.ent.Ino, typ: typ, typed: true}
		}
		labels := []thermal.Label{{Name: "type", Value: typ}, {Name: "device", Value: d.ent.Name}}
		for _, st := range []struct{ file, name, help string }{
			{"cur_state", "node_thermal_cooling_device_state", "A thermal cooling device's current state (0: not cooling; up to its max_state)."},
			{"max_state", "node_thermal_cooling_device_max_state", "A thermal cooling device's maximum state."},
		} {
			if v, err := sysread.ReadInt(fs.read, dir+"/"+st.file, buf); err == nil && v >= 0 {
				aux.Series = append(aux.Series, thermal.Series{Name: st.name, Help: st.help, Labels: labels, Value: float64(v)})
			}
		}
	}
	return aux
}

// trips returns the indexes of the zone's trip points, in order.
func trips(names []string) []int {
	var out []int
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, "trip_point_")
		if !ok {
			continue
		}
		num, ok := strings.CutSuffix(rest, "_temp")
		if !ok {
			continue
		}
		if k, err := strconv.Atoi(num); err == nil && k >= 0 {
			out = append(out, k)
		}
	}
	sort.Ints(out)
	return out
}

func (fs FS) readZone(name, dir string, d described) func(add func(thermal.Sensor)) {
	return func(add func(thermal.Sensor)) {
		buf := make([]byte, 256)
		if s, ok := fs.readSensor(name, dir, d, buf); ok {
			add(s)
		}
	}
}

// readSensor reads a zone; ok is false when the configuration ignores its
// type, whose temperature is then never read. The type and the trip
// points' types are taken from d where it knows them.
func (fs FS) readSensor(name, dir string, d described, buf []byte) (_ thermal.Sensor, ok bool) {
	s := thermal.Sensor{Name: "temp", Attr: "temp"}
	t := d.typ
	if !d.typed {
		b, err := fs.read(dir+"/type", buf)
		if err != nil {
			s.Err = err
			return s, true
		}
		t = sysread.Text(b)
	}
	if t != "" {
		s.Name, s.Label = t, t
	}
	if fs.req.Ignores(SourceName, name, s.Name) {
		return s, false
	}
	v, err := sysread.ReadInt(fs.read, dir+"/temp", buf)
	if err == nil {
		if err = fs.rng.Check(v); err != nil {
			err = fmt.Errorf("%s/temp: %w", dir, err)
		}
	}
	if err != nil {
		s.Err = err
		return s, true
	}
	s.Value = v
	for i, k := range d.trips {
		prefix := dir + "/trip_point_" + strconv.Itoa(k)
		v, err := sysread.ReadInt(fs.read, prefix+"_temp", buf)
		if err != nil {
			s.AuxErrors++
			continue
		}
		lim := fs.rng.Limit(v)
		if lim == nil {
			continue // disabled (iwlwifi's -274000) or out of range: its type is not needed
		}
		typ := unknownTrip
		if d.tripTypes != nil {
			typ = d.tripTypes[i]
		}
		if typ == unknownTrip {
			b, err := fs.read(prefix+"_type", buf)
			if err != nil {
				s.AuxErrors++
				continue
			}
			typ = sysread.Text(b)
		}
		t := thermal.Trip{Index: k, Type: typ, Milli: v}
		s.Trips = append(s.Trips, t)
		if t.Type == "critical" && s.Crit == nil {
			s.Crit = lim
		}
	}
	return s, true
}
