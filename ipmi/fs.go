package ipmi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/gather"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// transportCloser is an open BMC.
type transportCloser interface {
	Transport
	Close() error
}

// FS finds BMCs in sysfs and reads them through their device nodes.
type FS struct {
	sys, dev string
	rng      thermal.Range
	open     func(path string) (transportCloser, error)
	req      *thermal.Request
}

// NewFS returns an FS over the sysfs tree at sysfs and the device nodes in
// dev; with dev "" no BMC is read (a fixture tree). Readings outside rng
// are dropped.
func NewFS(sysfs, dev string, rng thermal.Range) (FS, error) {
	if sysfs == "" {
		return FS{}, errors.New("ipmi: no sysfs mount point given")
	}
	if dev != "" {
		dev = filepath.Clean(dev)
	}
	return FS{sys: filepath.Clean(sysfs), dev: dev, rng: rng,
		open: func(path string) (transportCloser, error) {
			d, err := Open(path)
			if err != nil {
				return nil, err
			}
			return d, nil
		}}, nil
}

// Interfaces lists the BMC interfaces of ipmi_devintf (<sysfs>/class/ipmi:
// ipmi0, …). None, or no class directory, means no source.
func (fs FS) Interfaces() ([]int, error) {
	entries, err := sysread.ReadDirNames(filepath.Join(fs.sys, "class", "ipmi"), make([]byte, 1024))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ipmi: %w", err)
	}
	var out []int
	for _, e := range entries {
		if n, err := strconv.Atoi(strings.TrimPrefix(e, "ipmi")); err == nil && strings.HasPrefix(e, "ipmi") {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// Repository is a BMC's SDR as cached: the sensors read here, with their
// thresholds, those skipped and why, under the repository's fingerprint.
type Repository struct {
	Key     string   `json:"key"`
	Records int      `json:"records"` // all records, sensors or not
	Sensors []Record `json:"sensors"`
	Skipped []string `json:"skipped,omitempty"`
}

// sdrKey is the Cache key of the repositories, by chip.
const sdrKey = "ipmi-sdr"

// Name is the source label, ipmi.
func (fs FS) Name() string { return SourceName }

// Read implements thermal.Source: every BMC, its SDR from the Cache
// unless the repository changed.
func (fs FS) Read(ctx context.Context, req *thermal.Request) ([]thermal.Chip, error) {
	fs.req = req
	if fs.dev == "" {
		return nil, nil
	}
	ifaces, err := fs.Interfaces()
	if len(ifaces) == 0 {
		return nil, err
	}
	known := map[string]Repository{}
	cache := req.CacheOf()
	if cache != nil {
		if data, ok := cache.Load(sdrKey); ok && json.Unmarshal(data, &known) != nil {
			known = map[string]Repository{} // corrupt: read the repositories again
		}
	}
	chips, learned := fs.ReadBMCs(ctx, ifaces, known)
	if cache != nil && len(learned) > 0 {
		for k, v := range learned {
			known[k] = v
		}
		if data, err := json.Marshal(known); err == nil {
			cache.Store(sdrKey, data)
		}
	}
	return chips, err
}

// ChipName is the chip of /dev/ipmiN.
func ChipName(n int) string { return "ipmi-bmc-" + strconv.Itoa(n) }

// ReadBMCs reads each interface under ctx, one job per BMC (a BMC answers
// one request at a time), and returns the chips and the repositories read
// afresh.
func (fs FS) ReadBMCs(ctx context.Context, ifaces []int, known map[string]Repository) ([]thermal.Chip, map[string]Repository) {
	var mu sync.Mutex
	learned := map[string]Repository{}
	repos := make([]Repository, len(ifaces))
	jobs := make([]gather.Job, 0, len(ifaces))
	for i, n := range ifaces {
		name := ChipName(n)
		chip := thermal.Chip{Source: SourceName, Name: name, Driver: "ipmi", Bus: "virtual",
			Path: filepath.Join(fs.dev, "ipmi"+strconv.Itoa(n)), Device: filepath.Join(fs.sys, "class", "ipmi", "ipmi"+strconv.Itoa(n))}
		if !fs.req.Admits(&chip) || fs.req.Ignores(SourceName, name, "") {
			continue
		}
		old, have := known[name]
		expect := 1
		if have {
			expect = len(old.Sensors)
		}
		jobs = append(jobs, gather.Job{Chip: chip, Expect: expect, Read: func(add func(thermal.Sensor)) {
			dev, err := fs.open(chip.Path)
			if err != nil {
				add(thermal.Sensor{Name: "(BMC)", Err: err})
				return
			}
			defer dev.Close()
			info, err := GetRepoInfo(dev)
			if err != nil {
				add(thermal.Sensor{Name: "(BMC)", Err: err})
				return
			}
			repo := old
			if !have || old.Key != info.Key() {
				if repo, err = Learn(dev, info); err != nil {
					add(thermal.Sensor{Name: "(BMC)", Err: err})
					return
				}
				mu.Lock()
				learned[name] = repo
				mu.Unlock()
			}
			mu.Lock()
			repos[i] = repo
			mu.Unlock()
			for _, r := range repo.Sensors {
				if fs.req.Ignores(SourceName, name, r.Name) {
					continue
				}
				rd, err := GetReading(dev, r)
				if err != nil {
					add(thermal.Sensor{Name: r.Name, Attr: attr(r), Label: r.Name, Kind: kind(r), Err: err})
					continue
				}
				if rd.Unavailable {
					continue // never 0
				}
				add(fs.sensor(r, rd))
			}
		}})
	}
	res := gather.RunJobs(ctx, jobs)
	mu.Lock()
	defer mu.Unlock()
	chips := make([]thermal.Chip, 0, len(res))
	for j, r := range res {
		c := r.Chip
		// A BMC-wide failure is the chip's, not a sensor's.
		var kept []thermal.Sensor
		for _, s := range c.Sensors {
			if s.Name == "(BMC)" {
				c.Err = s.Err
				continue
			}
			kept = append(kept, s)
		}
		c.Sensors = kept
		thermal.UniqueSensorNames(c.Sensors)
		repo := repos[index(ifaces, c.Name, j)]
		c.Attrs = thermal.Attrs{{Key: "device", Value: c.Path},
			{Key: "sdr", Value: fmt.Sprintf("%d records, %d temperature and fan sensors", repo.Records, len(repo.Sensors))}}
		if len(repo.Skipped) > 0 {
			c.Attrs = append(c.Attrs, thermal.Attr{Key: "skipped", Value: strings.Join(repo.Skipped, "; ")})
		}
		chips = append(chips, c)
	}
	return chips, learned
}

// index finds the interface of chip name (jobs were skipped for ignored
// chips, so the job number is not the interface's).
func index(ifaces []int, name string, j int) int {
	for i, n := range ifaces {
		if ChipName(n) == name {
			return i
		}
	}
	return j
}

// Learn reads the SDR repository and the thresholds of the sensors read
// here.
func Learn(t Transport, info RepoInfo) (Repository, error) {
	recs, err := ReadRepository(t)
	if err != nil {
		return Repository{}, err
	}
	repo := Repository{Key: info.Key(), Records: len(recs)}
	for _, b := range recs {
		r, ok, err := ParseRecord(b)
		if err != nil || !ok {
			continue // not a sensor, or a record too short to be one
		}
		if r.Unit != unitCelsius && r.Unit != unitFahrenheit && r.Unit != unitKelvin && r.Unit != unitRPM {
			continue // voltages, currents, discrete states: not read here
		}
		if ok, why := r.Supported(); !ok {
			repo.Skipped = append(repo.Skipped, r.Name+": "+why)
			continue
		}
		if r.ReadableThresholds != 0 {
			if mask, th, err := GetThresholds(t, r); err == nil {
				r.Have, r.Thresholds = mask, th
			}
		}
		repo.Sensors = append(repo.Sensors, r)
	}
	return repo, nil
}

func kind(r Record) thermal.Kind {
	if r.Unit == unitRPM {
		return thermal.KindFan
	}
	return thermal.KindTemperature
}

// attr names a sensor by its number, for a repeated ID string.
func attr(r Record) string { return "sensor" + strconv.Itoa(int(r.Number)) }

// threshold is threshold bit of r in its unit, if the BMC reported it.
func (r Record) threshold(bit int) (float64, bool) {
	if r.Have&(1<<bit) == 0 {
		return 0, false
	}
	return r.Convert(r.Thresholds[bit]), true
}

// sensor turns a reading into the chip's sensor: a temperature with the
// upper thresholds as limits, or a fan with its lower threshold as its
// minimum and the lower critical status as its alarm.
func (fs FS) sensor(r Record, rd Reading) thermal.Sensor {
	s := thermal.Sensor{Name: r.Name, Attr: attr(r), Label: r.Name, Kind: kind(r)}
	v := r.Convert(rd.Raw)
	if s.Kind == thermal.KindFan {
		s.Value = int64(math.Round(v))
		for _, bit := range []int{LowerCritical, LowerNonCritical, LowerNonRecoverable} {
			if m, ok := r.threshold(bit); ok && m > 0 {
				min := int64(math.Round(m))
				s.FanMin = &min
				break
			}
		}
		s.Alarm = rd.Status&(1<<LowerCritical|1<<LowerNonRecoverable) != 0
		return s
	}
	s.Value = int64(math.Round(r.Celsius(v) * 1000))
	if err := fs.rng.Check(s.Value); err != nil {
		s.Value, s.Err = 0, err
	}
	for _, l := range []struct {
		bit int
		dst **int64
	}{{UpperNonCritical, &s.Max}, {UpperCritical, &s.Crit}, {UpperNonRecoverable, &s.Emergency}} {
		if c, ok := r.threshold(l.bit); ok {
			*l.dst = fs.rng.Limit(int64(math.Round(r.Celsius(c) * 1000)))
		}
	}
	return s
}
