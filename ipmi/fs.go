package ipmi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/gather"
	"github.com/thermal-heartbeat/thermal/internal/linecodec"
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
	Key     string
	Records int // all records, sensors or not
	Sensors []Record
	Skipped []string
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
	cache := req.CacheOf()
	known := linecodec.Load(cache, sdrKey, decodeRepositories)
	if known == nil {
		known = map[string]Repository{}
	}
	chips, learned := fs.ReadBMCs(ctx, ifaces, known)
	if cache != nil && len(learned) > 0 {
		for k, v := range learned {
			known[k] = v
		}
		cache.Store(sdrKey, encodeRepositories(known))
	}
	return chips, err
}

// ChipName is the chip of /dev/ipmiN.
func ChipName(n int) string { return "ipmi-bmc-" + strconv.Itoa(n) }

// ReadBMCs reads each interface under ctx and returns the chips and the
// repositories read afresh. A BMC whose repository must be read (first,
// or changed) is walked first, with ctx as its bound: the walk takes a
// request per record or more, and a BMC that is slow to walk costs this
// source's share of the deadline, no other's. The readings are then one
// job per BMC (a BMC answers one request at a time), whose progress is a
// sensor read.
func (fs FS) ReadBMCs(ctx context.Context, ifaces []int, known map[string]Repository) ([]thermal.Chip, map[string]Repository) {
	type bmc struct {
		chip thermal.Chip
		dev  transportCloser
		repo Repository
		err  error
	}
	var bmcs []*bmc
	learned := map[string]Repository{}
	for _, n := range ifaces {
		name := ChipName(n)
		b := &bmc{chip: thermal.Chip{Source: SourceName, Name: name, Driver: "ipmi", Bus: "virtual",
			Path: filepath.Join(fs.dev, "ipmi"+strconv.Itoa(n)), Device: filepath.Join(fs.sys, "class", "ipmi", "ipmi"+strconv.Itoa(n))}}
		if !fs.req.Admits(&b.chip) || fs.req.Ignores(SourceName, name, "") {
			continue
		}
		bmcs = append(bmcs, b)
		b.repo, b.err = fs.repository(ctx, b.chip.Path, known[name], &b.dev)
		if b.err == nil && b.repo.Key != known[name].Key {
			learned[name] = b.repo
		}
	}
	jobs := make([]gather.Job, len(bmcs))
	for i, b := range bmcs {
		jobs[i] = gather.Job{Chip: b.chip}
		if b.err != nil {
			jobs[i].Chip.Err, jobs[i].Chip.Errors = b.err, 1
			continue
		}
		var read []Record
		for _, r := range b.repo.Sensors {
			if !fs.req.Ignores(SourceName, b.chip.Name, r.Name) {
				read = append(read, r)
			}
		}
		jobs[i].Expect = len(read)
		dev := b.dev
		jobs[i].Read = func(add func(thermal.Sensor)) {
			defer dev.Close()
			for _, r := range read {
				rd, err := GetReading(dev, r)
				if notPresent(err) {
					continue // ipmitool's "na": the sensor is absent, or its host is off
				}
				if err != nil {
					add(thermal.Sensor{Name: r.Name, Attr: attr(r), Label: r.Name, Kind: kind(r), Err: err})
					continue
				}
				if rd.Unavailable {
					continue // never 0
				}
				add(fs.sensor(r, rd))
			}
		}
	}
	res := gather.RunJobs(ctx, jobs)
	chips := make([]thermal.Chip, 0, len(res))
	for i, r := range res {
		c, repo := r.Chip, bmcs[i].repo
		thermal.UniqueSensorNames(c.Sensors)
		c.Attrs = thermal.Attrs{{Key: "device", Value: c.Path}}
		if repo.Key != "" {
			c.Attrs.Set("sdr", fmt.Sprintf("%d records, %d temperature and fan sensors", repo.Records, len(repo.Sensors)))
		}
		if len(repo.Skipped) > 0 {
			c.Attrs.Set("skipped", strings.Join(repo.Skipped, "; "))
		}
		chips = append(chips, c)
	}
	return chips, learned
}

// repository opens the BMC (left open in *dev for the readings) and
// returns its repository: old when Get SDR Repository Info says it has
// not changed, else read afresh under ctx. A walk still running at the
// deadline is abandoned (it owns its device and its result alone).
func (fs FS) repository(ctx context.Context, path string, old Repository, dev *transportCloser) (Repository, error) {
	type result struct {
		dev  transportCloser
		repo Repository
		err  error
	}
	done := make(chan result, 1)
	go func() {
		d, err := fs.open(path)
		if err != nil {
			done <- result{err: err}
			return
		}
		info, err := GetRepoInfo(d)
		switch {
		case err != nil:
		case old.Key == info.Key():
			done <- result{dev: d, repo: old}
			return
		default:
			var repo Repository
			if repo, err = Learn(d, info); err == nil {
				done <- result{dev: d, repo: repo}
				return
			}
		}
		d.Close()
		done <- result{err: err}
	}()
	select {
	case r := <-done:
		*dev = r.dev
		return r.repo, r.err
	case <-ctx.Done():
		return Repository{}, fmt.Errorf("ipmi: %s: the SDR repository was not read in time: %w", path, thermal.ErrTimeout)
	}
}

// notPresent reports whether err is a completion code that means the
// reading does not exist now: CBh (not present), CDh (not available for
// this sensor), D5h (not available in the present state: the host is off).
func notPresent(err error) bool {
	var ce *CompletionError
	return errors.As(err, &ce) && (ce.Code == 0xCB || ce.Code == 0xCD || ce.Code == 0xD5)
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
