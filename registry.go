package thermal

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Registration is how a source joins the beat: each source package
// registers itself from init (see package sources, which links them all),
// the way node_exporter's collectors do. Everything the rest of the
// program needs to know of a source is here or behind the optional
// interfaces its Source implements (Claimer, Adopter, Limiter, TwinOwner,
// Noter); nothing outside the source's package names it.
type Registration struct {
	// Name is the source label.
	Name string
	// New builds the source for one run. An error means the source is not
	// usable on this host (no sysfs root given); a host without the
	// devices builds a source that reads nothing.
	New func(Env) (Source, error)
	// After names the sources that must finish before this one reads: those
	// whose chips may claim devices this one offers (hwmon runs after nvme,
	// so that the kernel's nvme chip of a controller read through the
	// ioctl is never read). A source others wait for gets half the
	// deadline.
	After []string
	// Before names the sources that must wait for this one: the sources
	// whose chips this one claims (see Claimer). nvme runs before hwmon.
	Before []string
	// Rules are the source's built-in rules, in order; their source glob
	// is the source's name.
	Rules []Rule
	// Options, when set, returns a pointer to a fresh options value: the
	// configuration's table named after the source ([cpu]) is decoded into
	// it, unknown keys being errors, and New finds it in Env.Options.
	Options func() any
}

// Rule is a built-in rule a source ships: the same shape as a [[rule]] of
// the configuration, less the source (the registering source's) and the
// line. A temperature rule sets Warning and/or Critical (°C) and
// Hysteresis; a rule of another kind sets Level.
type Rule struct {
	Chip, Sensor      string // globs; "" matches anything
	Kind              Kind   // KindTemperature, KindFan or KindThrottle
	Warning, Critical float64
	Level             Level
	For, Repeat       time.Duration
	Hysteresis        float64
	// Comment is written above the rule in the defaults file.
	Comment string
}

// Env is what a source is built from: the roots it reads, the sane range
// of temperatures, and its options from the configuration.
type Env struct {
	Sysfs string // sysfs mount point (/sys, or a fixture tree)
	Dev   string // device directory (/dev); "" when no device node may be opened
	Range Range
	// Options is the value Registration.Options returned, decoded from the
	// configuration; nil when the source has none or the file has no table.
	Options any
}

var (
	regMu    sync.Mutex
	registry = map[string]Registration{}
)

// Register adds a source. It panics on a duplicate or incomplete
// registration: both are programming errors found at start-up.
func Register(r Registration) {
	regMu.Lock()
	defer regMu.Unlock()
	if r.Name == "" || r.New == nil {
		panic("thermal: Register needs a name and a constructor")
	}
	if _, dup := registry[r.Name]; dup {
		panic(fmt.Sprintf("thermal: source %q registered twice", r.Name))
	}
	registry[r.Name] = r
}

// Unregister removes a source (tests that register one of their own).
func Unregister(name string) {
	regMu.Lock()
	defer regMu.Unlock()
	delete(registry, name)
}

// Registered returns every registered source, by name.
func Registered() []Registration {
	regMu.Lock()
	defer regMu.Unlock()
	out := make([]Registration, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Registration) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Lookup returns the registration of the named source.
func Lookup(name string) (Registration, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	r, ok := registry[name]
	return r, ok
}

// Optional interfaces a Source may implement, for what only it knows.

// Claimer is a source that reads devices another source also offers as
// chips: Claims reports whether chip c of another source is one of them.
// A claimed chip carries the claimer's source label; when the claimer read
// the device itself, the other source leaves it unread (the NVMe ioctl
// over the kernel's nvme hwmon chip; a drive read through SG_IO over its
// drivetemp chip).
type Claimer interface {
	Claims(c *Chip) bool
}

// Adopter merges what it knew of a device it yielded (y, with Yield set)
// into the chip that read the device instead (c). Without it, y's Attrs
// and Series come first on c (MergeYielded).
type Adopter interface {
	Adopt(c *Chip, y Chip)
}

// Limiter says which of a sensor's hardware limits are its default
// thresholds, and how they are named. Without it, a sensor's Max warns and
// its Crit (else Emergency) is critical (HardwareThresholds).
type Limiter interface {
	HardwareThresholds(c *Chip, s *Sensor) (warn, crit Threshold)
}

// TwinOwner is a source whose chips other sources also export: TwinKey
// returns the device under which another source's chip reports the same
// physical sensors as c (a thermal zone's hwmon chip). The two are marked
// twins, and hardware limits apply to the owner's chip only.
type TwinOwner interface {
	TwinKey(c *Chip) string
}

// Noter says, after Read, why a source read nothing when that is not an
// error ("no NVIDIA driver"), for probe.
type Noter interface {
	Note() string
}

// MergeYielded is the default Adopter: y's facts and series, then c's.
func MergeYielded(c *Chip, y Chip) {
	// New slices (nil when both are empty), each allocated once.
	c.Attrs = slices.Concat(y.Attrs, c.Attrs)
	c.Series = slices.Concat(y.Series, c.Series)
}

// Defaults for a rule's timing, and for thresholds taken from the hardware.
const (
	DefaultFor        = time.Minute
	DefaultHysteresis = 2.0
	DefaultRepeat     = time.Hour
)

// HardwareLimit is the threshold a hardware limit gives, named for a
// person (Origin): none (Level "") when the limit is absent or at or below
// 0 °C (tmp102 powers up with max = 0).
func HardwareLimit(level Level, milli *int64, attr, limit string) Threshold {
	if milli == nil || *milli <= 0 {
		return Threshold{}
	}
	return Threshold{Level: level, Celsius: Celsius(*milli), Origin: Origin{Attr: attr, Limit: limit},
		For: DefaultFor, Hysteresis: DefaultHysteresis, Repeat: DefaultRepeat}
}

// HardwareThresholds is the default Limiter: an hwmon-style sensor warns
// at its Max and is critical at its Crit, else its Emergency.
func HardwareThresholds(_ *Chip, s *Sensor) (warn, crit Threshold) {
	warn = HardwareLimit(Warning, s.Max, s.Attr, "_max")
	crit = HardwareLimit(Critical, s.Crit, s.Attr, "_crit")
	if crit.Level == "" {
		crit = HardwareLimit(Critical, s.Emergency, s.Attr, "_emergency")
	}
	return warn, crit
}
