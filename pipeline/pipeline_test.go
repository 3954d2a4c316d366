package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/hwmon"
	"github.com/thermal-heartbeat/thermal/internal/gather"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
	_ "github.com/thermal-heartbeat/thermal/nvme"
	"github.com/thermal-heartbeat/thermal/zones"
)

// fake is a source that returns fixed chips, or blocks until released.
type fake struct {
	name  string
	chips []thermal.Chip
	block chan struct{} // when set, Read waits for it, ignoring ctx
	// offered records what Admit said about each chip before "reading" it.
	offered map[string]bool
}

func (f *fake) Name() string { return f.name }

func (f *fake) Read(ctx context.Context, req *thermal.Request) ([]thermal.Chip, error) {
	if f.block != nil {
		<-f.block
	}
	var out []thermal.Chip
	f.offered = map[string]bool{}
	for _, c := range f.chips {
		ok := req.Admits(&c)
		f.offered[c.Name] = ok
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func milli(v int64) *int64 { return &v }

// knowing is a fake that knows what a real source knows (its claims,
// adoption, limits and twins), taken from that source: the pipeline is
// tested on the mechanism, the sources on their knowledge.
type knowing struct {
	*fake
	real thermal.Source
}

func (k knowing) Claims(c *thermal.Chip) bool {
	cl, ok := k.real.(thermal.Claimer)
	return ok && cl.Claims(c)
}

func (k knowing) Adopt(c *thermal.Chip, y thermal.Chip) {
	if a, ok := k.real.(thermal.Adopter); ok {
		a.Adopt(c, y)
		return
	}
	thermal.MergeYielded(c, y)
}

func (k knowing) HardwareThresholds(c *thermal.Chip, s *thermal.Sensor) (warn, crit thermal.Threshold) {
	if l, ok := k.real.(thermal.Limiter); ok {
		return l.HardwareThresholds(c, s)
	}
	return thermal.HardwareThresholds(c, s)
}

func (k knowing) TwinKey(c *thermal.Chip) string {
	if o, ok := k.real.(thermal.TwinOwner); ok {
		return o.TwinKey(c)
	}
	return ""
}

// like gives f the knowledge of the registered source of its name.
func like(t *testing.T, f *fake) knowing {
	t.Helper()
	reg, ok := thermal.Lookup(f.name)
	if !ok {
		t.Fatalf("no source %q registered", f.name)
	}
	real, err := reg.New(thermal.Env{Sysfs: t.TempDir(), Dev: t.TempDir(), Range: thermal.DefaultRange})
	if err != nil {
		t.Fatal(err)
	}
	return knowing{f, real}
}

func collect(t *testing.T, timeout time.Duration, sources ...Source) *Snapshot {
	t.Helper()
	p := Pipeline{Sources: sources, Config: config.Default(), Timeout: timeout}
	return p.Collect()
}

func chip(s *Snapshot, source, name string) *thermal.Chip {
	for i := range s.Chips {
		if s.Chips[i].Source == source && s.Chips[i].Name == name {
			return &s.Chips[i]
		}
	}
	return nil
}

// NVMe through the ioctl, else through the kernel's hwmon chip: the
// pipeline relabels the hwmon chip, leaves it unread when the ioctl read
// the controller, and hands it the drive's facts when the ioctl yielded.
func TestOwnershipOfNVMeControllers(t *testing.T) {
	composite := thermal.Sensor{Name: "Composite", Attr: "temp1", Value: 40000, Max: milli(81850), Crit: milli(84850)}
	nvme := &fake{name: "nvme", chips: []thermal.Chip{
		{Source: "nvme", Name: "nvme-pci-0100", Sensors: []thermal.Sensor{{Name: "Composite", Value: 39000}},
			Attrs: thermal.Attrs{{Key: "controller", Value: "nvme0"}, {Key: "read_via", Value: "ioctl"}}},
		{Source: "nvme", Name: "nvme-pci-0200", Yield: "the SMART log ioctl needs CAP_SYS_ADMIN",
			Attrs:  thermal.Attrs{{Key: "controller", Value: "nvme1"}, {Key: "wctemp"}, {Key: "read_via", Value: "hwmon"}},
			Series: []thermal.Series{{Name: "node_thermal_nvme_info", Value: 1}}},
		{Source: "nvme", Name: "nvme-pci-0300", Yield: "no device node"}, // nobody reads it
	}}
	hwmon := &fake{name: "hwmon", chips: []thermal.Chip{
		{Source: "hwmon", Driver: "nvme", Name: "nvme-pci-0100", Sensors: []thermal.Sensor{composite}},
		{Source: "hwmon", Driver: "nvme", Name: "nvme-pci-0200", Sensors: []thermal.Sensor{composite}},
		{Source: "hwmon", Driver: "coretemp", Name: "coretemp-isa-0000", Sensors: []thermal.Sensor{{Name: "Core 0", Value: 50000}}},
	}}
	s := collect(t, time.Second, Source{Source: like(t, nvme)}, Source{Source: hwmon, After: []string{"nvme"}})
	if hwmon.offered["nvme-pci-0100"] {
		t.Error("the kernel's chip of a controller read through the ioctl was admitted (it would send admin commands)")
	}
	if !hwmon.offered["nvme-pci-0200"] || !hwmon.offered["coretemp-isa-0000"] {
		t.Errorf("admitted %v", hwmon.offered)
	}
	if c := chip(s, "nvme", "nvme-pci-0100"); c == nil || c.Sensors[0].Value != 39000 {
		t.Errorf("ioctl chip %+v", c)
	}
	c := chip(s, "nvme", "nvme-pci-0200")
	if c == nil || c.Attrs.Get("controller") != "nvme1" || c.Attrs.Get("wctemp") != 81.85 || len(c.Series) != 1 {
		t.Errorf("fallback chip %+v: want source nvme, the drive's facts and series, WCTEMP from its Composite", c)
	}
	if chip(s, "nvme", "nvme-pci-0300") != nil || chip(s, "hwmon", "nvme-pci-0200") != nil {
		t.Errorf("chips %+v", s.Chips)
	}
}

// One physical sensor pages once: a zone's hwmon twin keeps its series but
// not its hardware-limit thresholds; explicit rules still apply to it.
func TestZoneTwinHasNoHardwareThresholds(t *testing.T) {
	zones := &fake{name: "thermal_zone", chips: []thermal.Chip{{Source: "thermal_zone", Name: "thermal_zone0",
		Device: "/sys/devices/virtual/thermal/thermal_zone0", Sensors: []thermal.Sensor{{Name: "acpitz", Value: 30000, Crit: milli(119000)}}}}}
	hwmon := &fake{name: "hwmon", chips: []thermal.Chip{{Source: "hwmon", Name: "acpitz-acpi-0", Driver: "acpitz",
		Device: "/sys/devices/virtual/thermal/thermal_zone0", Sensors: []thermal.Sensor{{Name: "temp1", Attr: "temp1", Value: 30000, Crit: milli(119000)}}}}}
	s := collect(t, time.Second, Source{Source: like(t, zones)}, Source{Source: hwmon})
	z, h := chip(s, "thermal_zone", "thermal_zone0"), chip(s, "hwmon", "acpitz-acpi-0")
	if len(z.Sensors[0].Thresholds) != 1 || len(h.Sensors[0].Thresholds) != 0 || h.Twin != "thermal_zone/thermal_zone0" {
		t.Errorf("zone thresholds %+v, twin thresholds %+v (twin %q)", z.Sensors[0].Thresholds, h.Sensors[0].Thresholds, h.Twin)
	}
	cfg, err := config.Parse("t.toml", []byte("[[rule]]\nchip = \"acpitz-*\"\ncritical = 90.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := Pipeline{Sources: []Source{{Source: like(t, zones)}, {Source: hwmon}}, Config: cfg, Timeout: time.Second}
	s = p.Collect()
	if h := chip(s, "hwmon", "acpitz-acpi-0"); len(h.Sensors[0].Thresholds) != 1 || h.Sensors[0].Thresholds[0].Celsius != 90 {
		t.Errorf("an explicit rule does not apply to the twin: %+v", h.Sensors[0].Thresholds)
	}
}

// A source stuck before it could even list its devices (a hung read of a
// chip's name) is abandoned at the deadline; the others are reported.
func TestStuckSourceIsAbandonedAtTheDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	stuck := &fake{name: "hwmon", block: release}
	zones := &fake{name: "thermal_zone", chips: []thermal.Chip{{Source: "thermal_zone", Name: "thermal_zone0",
		Sensors: []thermal.Sensor{{Name: "acpitz", Value: 30000}}}}}
	start := time.Now()
	s := collect(t, 200*time.Millisecond, Source{Source: stuck}, Source{Source: zones})
	if took := time.Since(start); took > time.Second {
		t.Errorf("collection took %v with a 200ms deadline", took)
	}
	if chip(s, "thermal_zone", "thermal_zone0") == nil {
		t.Error("the zone was not reported")
	}
	if len(s.Errs) != 1 || !errors.Is(s.Errs[0], thermal.ErrTimeout) {
		t.Errorf("errors %v, want the stuck source's timeout", s.Errs)
	}
}

// Apply: [[ignore]] drops, [[label]] renames, two renamed alike stay two,
// and an ignored sensor's failure is not counted.
func TestApply(t *testing.T) {
	cfg, err := config.Parse("t.toml", []byte(`
[[ignore]]
chip = "nct*"
sensor = "AUXTIN*"
[[label]]
chip = "nct*"
sensor = "SYSTIN"
as = "Board"
[[label]]
chip = "nct*"
sensor = "CPUTIN"
as = "Board"
`))
	if err != nil {
		t.Fatal(err)
	}
	chips := apply(cfg, nil, nil, []thermal.Chip{{Source: "hwmon", Name: "nct6798-isa-0290", Errors: 1, Sensors: []thermal.Sensor{
		{Name: "SYSTIN", Attr: "temp1", Value: 30000},
		{Name: "CPUTIN", Attr: "temp2", Value: 40000},
		{Name: "AUXTIN0", Attr: "temp3", Err: thermal.ErrOutOfRange},
	}}})
	c := chips[0]
	if len(c.Sensors) != 2 || c.Sensors[0].Name != "Board" || c.Sensors[1].Name != "Board (temp2)" || c.Errors != 0 {
		t.Errorf("chip after Apply: %+v", c)
	}
}

// A chip whose name attribute never answers (a driver stuck in its show
// function) used to remove every hwmon series: hwmon read names while
// listing, before any per-chip deadline applied. Now it costs that chip
// only: it is reported, named after its class entry, with a read error;
// every other chip is read (issue 18 #5).
func TestHungNameReadCostsThatChipOnly(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree")
	hang := make(chan struct{})
	defer close(hang)
	fs, err := hwmon.NewFS(root, thermal.DefaultRange)
	if err != nil {
		t.Fatal(err)
	}
	fs = fs.WithRead(func(path string, buf []byte) ([]byte, error) {
		if strings.HasSuffix(path, "/hwmon3/name") {
			<-hang
		}
		return sysread.ReadFile(path, buf)
	})
	zfs, _ := zones.NewFS(root, thermal.DefaultRange)
	start := time.Now()
	s := collect(t, time.Second, Source{Source: fs}, Source{Source: zfs})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("collection took %v with a 1s deadline", took)
	}
	stuck := chip(s, "hwmon", "hwmon3")
	if len(s.Errs) != 0 || stuck == nil || !errors.Is(stuck.Err, thermal.ErrTimeout) || stuck.Errors == 0 {
		t.Fatalf("errors %v, the stuck chip %+v", s.Errs, stuck)
	}
	if c := chip(s, "hwmon", "coretemp-isa-0000"); c == nil || len(c.Sensors) == 0 || c.Err != nil {
		t.Errorf("a healthy chip beside it: %+v", c)
	}
	if chip(s, "thermal_zone", "thermal_zone0") == nil {
		t.Error("the zones were not read")
	}
}

// Many wedged chips do not starve the healthy ones: each stuck chip's
// queue goes to new workers, as many as are stuck, so 24 hung chips cost
// a few Stalls, not 24 (issue 18 #5).
func TestManyHungChipsDoNotStarveTheRest(t *testing.T) {
	const hung = 24
	hang := make(chan struct{})
	defer close(hang)
	start := time.Now()
	var mu sync.Mutex
	var last time.Duration // when the last healthy chip was read
	var jobs []gather.Job
	for i := range hung + hung/4 {
		jobs = append(jobs, gather.Job{Chip: thermal.Chip{Source: "hwmon", Name: fmt.Sprintf("chip%02d", i)}, Expect: 1,
			Read: func(add func(thermal.Sensor)) {
				if i%5 != 4 { // four in five hang
					<-hang
				}
				mu.Lock()
				last = time.Since(start)
				mu.Unlock()
				add(thermal.Sensor{Name: "temp1", Value: 40000})
			}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := gather.Run(ctx, jobs)
	took := time.Since(start)
	read, timedOut := 0, 0
	for _, c := range got {
		switch {
		case c.Err == nil && len(c.Sensors) == 1:
			read++
		case errors.Is(c.Err, thermal.ErrTimeout) && c.Errors == 1:
			timedOut++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// 24 hung chips one after another would cost 24 Stalls (6 s) before
	// the last healthy one; handed on in doubling waves they cost about
	// five, and the Run ends a Deadline after the last wave.
	if read != len(jobs)-hung || timedOut != hung || last > 12*gather.Stall || took > 6*time.Second {
		t.Errorf("%d healthy chips read (last at %v), %d timed out, Run took %v", read, last, timedOut, took)
	}
}

// [[label]] renames with any text (quotes, backslashes, newlines, invalid
// UTF-8) still leave every sensor of a chip with its own name.
func FuzzLabelsStayUnique(f *testing.F) {
	f.Add("Board", "SYSTIN", "CPUTIN")
	f.Add(`we"ird\`, "a", "a")
	f.Add("x\ny", "\xff", "x\ny")
	f.Fuzz(func(t *testing.T, as, s1, s2 string) {
		if strings.ContainsAny(as, "\"\\\n\r") || !utf8.ValidString(as) {
			as = strconv.Quote(as)[1 : len(strconv.Quote(as))-1] // TOML basic string escapes
		} else {
			as = strings.ReplaceAll(as, "'", "")
		}
		cfg, err := config.Parse("t.toml", []byte("[[label]]\nsensor = \"*\"\nas = \""+as+"\"\n"))
		if err != nil {
			return
		}
		chips := apply(cfg, nil, nil, []thermal.Chip{{Source: "hwmon", Name: "c", Sensors: []thermal.Sensor{
			{Name: s1, Attr: "temp1"}, {Name: s2, Attr: "temp2"}, {Name: s1, Attr: "temp3"}}}})
		seen := map[string]bool{}
		for _, s := range chips[0].Sensors {
			if seen[s.Name] {
				t.Fatalf("two sensors named %q", s.Name)
			}
			seen[s.Name] = true
		}
	})
}

// A source others wait for, stuck before it returns (a hung listing),
// holds them for its half of the deadline only: hwmon then reads in the
// other half (issue 18 review: the waiters waited for the whole deadline,
// and read nothing).
func TestWaitersGetTheirHalf(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree")
	release := make(chan struct{})
	defer close(release)
	stuck := &fake{name: "nvme", block: release}
	h, _ := hwmon.NewFS(root, thermal.DefaultRange)
	s := collect(t, time.Second, Source{Source: stuck}, Source{Source: h, After: []string{"nvme"}})
	c := chip(s, "hwmon", "coretemp-isa-0000")
	if c == nil || c.Err != nil || len(c.Sensors) == 0 || c.Sensors[0].Err != nil {
		t.Errorf("hwmon behind a stuck nvme: %+v", c)
	}
}
