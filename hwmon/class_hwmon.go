package hwmon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/gather"
	"github.com/thermal-heartbeat/thermal/internal/sysdev"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// Attributes of a temperature channel, as bits.
const (
	attrInput = 1 << iota
	attrLabel
	attrFault
	attrMax
	attrCrit
	attrEmergency
	attrCritHyst
)

// Attributes of a fan channel, as bits (the input, label and fault bits are
// the temperature's).
const (
	fanMin    = attrMax
	fanAlarm  = attrCrit
	fanTarget = attrEmergency
	fanEnable = attrCritHyst
)

var fanSuffix = map[string]uint8{
	"input":  attrInput,
	"label":  attrLabel,
	"fault":  attrFault,
	"min":    fanMin,
	"alarm":  fanAlarm,
	"target": fanTarget,
	"enable": fanEnable,
}

// Attributes of a power channel, as bits (input and label are the
// temperature's): the average where there is no instantaneous input, and
// the cap the part is held to.
const (
	powerAverage = attrFault
	powerCap     = attrMax
)

var powerSuffix = map[string]uint8{
	"input":   attrInput,
	"label":   attrLabel,
	"average": powerAverage,
	"cap":     powerCap,
}

var attrSuffix = map[string]uint8{
	"input":     attrInput,
	"label":     attrLabel,
	"fault":     attrFault,
	"max":       attrMax,
	"crit":      attrCrit,
	"emergency": attrEmergency,
	"crit_hyst": attrCritHyst,
}

// channel is one tempN with the attributes the driver exposes for it, and,
// when known from the inventory, its label and limits.
type channel struct {
	label  string
	limits [4]int64 // by limitMax …, those in has
	n      int
	kind   byte // 'T' tempN, 'F' fanN, 'P' powerN, 'W' pwmN
	attrs  uint8
	// known: label and limits come from the inventory; a beat reads only
	// the fault flag and the input.
	known bool
	has   uint8 // bit i: limits[i] is known
}

// A channel's limits: a temperature's tempN_max, _crit, _emergency and
// _crit_hyst; a fan's minimum and target in the first two; a power
// channel's cap in the first.
const (
	limitMax = iota
	limitCrit
	limitEmergency
	limitCritHyst
)

// limit returns limit i of the channel, nil when it has none. The sensors
// of a beat point into the inventory's channels, which stay put.
func (ch *channel) limit(i int) *int64 {
	if ch.has&(1<<i) == 0 {
		return nil
	}
	return &ch.limits[i]
}

// setLimit sets limit i of the channel to *v, or none for nil.
func (ch *channel) setLimit(i int, v *int64) {
	if v == nil {
		ch.has &^= 1 << i
		return
	}
	ch.limits[i], ch.has = *v, ch.has|1<<i
}

// Chips lists every hwmon chip with its temperature sensors. Chips are read
// concurrently; when ctx is done, Chips returns at once with what has been
// read, and the reads still owed are counted as errors (see gather.Run). A
// chip that could not be inspected is returned named after its class entry
// (hwmon3), with Err set. The error is non-nil only when the class directory
// itself cannot be listed; a system without hwmon has no chips and no error.
func (fs FS) Chips(ctx context.Context) ([]thermal.Chip, error) {
	chips, _, err := fs.ChipsCached(ctx, nil)
	return chips, err
}

// ChipsCached is Chips with the inventory of an earlier beat: a chip whose
// class entry is the same link (the same inode number, or, for an entry the
// inventory knows no number of, the same target) is not listed, named or
// walked again, and its channels' labels and limits are taken from
// the inventory, so that a steady-state beat reads each sensor's fault flag
// (where there is one) and input only. A new, removed or re-bound chip (a
// hot-plugged drive, a reloaded driver: its hwmonN changes) is inspected
// afresh, and so is one whose link was made again with the same target
// (another chip at the same address took the freed hwmonN). Runtime power
// state is read on every beat. It returns the
// inventory for the next beat; its Changed field says whether anything in
// it was read afresh. prev may be nil.
func (fs FS) ChipsCached(ctx context.Context, prev *Inventory) ([]thermal.Chip, *Inventory, error) {
	chips, next, err := fs.chipsCached(ctx, prev.known(), true)
	if next == nil {
		return chips, nil, err
	}
	return chips, next.inventory(), err
}

// chipsCached is ChipsCached on an inventory in a beat's form. The next
// inventory is built when it changed, or always with all set; else it is
// nil, as on an error.
func (fs FS) chipsCached(ctx context.Context, prev *known, all bool) ([]thermal.Chip, *known, error) {
	classDir := sysdev.Join(fs.sys, "class/hwmon")
	dirBuf := make([]byte, 8192)
	entries, err := sysread.ReadDirEntries(classDir, dirBuf)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &known{changed: prev != nil && len(prev.chips) > 0}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("hwmon: %w", err)
	}
	sortEntries(entries)
	b := newBeat(&fs, classDir, dirBuf, len(entries))
	for _, e := range entries {
		b.add(e, prev)
	}
	results := gather.RunJobs(ctx, b.jobs)
	chips, changed := b.settle(results)
	if prev != nil && len(prev.chips) != b.kept || b.renumbered {
		changed = true
	}
	for i := range chips {
		thermal.UniqueSensorNames(chips[i].Sensors)
	}
	thermal.UniqueChipNames(chips)
	sortByName(chips)
	if !changed && !all {
		return chips, nil, nil
	}
	return chips, b.next(changed), nil
}

// sortByName orders chips by name, stably (see thermal.SortChips).
func sortByName(chips []thermal.Chip) {
	thermal.SortChips(chips, func(a, b *thermal.Chip) int { return strings.Compare(a.Name, b.Name) })
}

// sortEntries sorts class entries by name as thermal.NaturalLess orders
// them. The kernel's names (hwmon0, hwmon1 …, hwmon10) sort so by length,
// then bytes, without NaturalLess's cost; any other name sorts the entries
// by it.
func sortEntries(entries []sysread.DirEntry) {
	for _, e := range entries {
		n, ok := strings.CutPrefix(e.Name, "hwmon")
		if !ok || n == "" || n[0] == '0' && n != "0" || strings.Trim(n, "0123456789") != "" {
			sort.Slice(entries, func(i, j int) bool { return thermal.NaturalLess(entries[i].Name, entries[j].Name) })
			return
		}
	}
	slices.SortFunc(entries, func(a, b sysread.DirEntry) int {
		if len(a.Name) != len(b.Name) {
			return len(a.Name) - len(b.Name)
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// beat is one read of the hwmon class: a gather job per chip to read, in
// class-entry order, and what each leaves in the next inventory.
type beat struct {
	fs       *FS
	classDir string
	prefix   string // classDir + "/"
	linkBuf  []byte
	dev      *sysdev.Tree
	pool     *inspectors
	jobs     []gather.Job
	// Plans, one per job, are taken by pointer by the gather steps: the
	// slice never grows past its capacity, so they stay put; so do jobs.
	plans []plan
	// dropped are the inventory's chips the request left out, remembered
	// unread, so that the next beat need not inspect them again (the
	// kernel's nvme chip of a controller read by ioctl).
	dropped []*knownChip
	kept    int // chips in the next inventory
	// renumbered: a chip of the inventory was found under a class entry
	// whose inode number it did not know (see add).
	renumbered bool
}

// plan is what a beat knows of one class entry before and while it is
// read, for the next inventory.
type plan struct {
	entry, link string
	ino         uint64
	channels    []channel
	cached      *knownChip // the inventory's entry, when it was used
	next        *knownChip // what the next inventory keeps of the chip
}

func newBeat(fs *FS, classDir string, dirBuf []byte, n int) *beat {
	dev := fs.tree()
	return &beat{fs: fs, classDir: classDir, prefix: classDir + "/", linkBuf: make([]byte, 4096), dev: dev,
		pool: &inspectors{fs: fs, dev: dev, dirBuf: dirBuf}, jobs: make([]gather.Job, 0, n), plans: make([]plan, 0, n)}
}

// tree returns the device tree of the beat: the collection's, shared with
// the other sources, when attributes are read through the kernel's reader.
func (fs *FS) tree() *sysdev.Tree {
	if fs.dirReads {
		return sysdev.Shared(fs.req, fs.sys)
	}
	return sysdev.New(fs.sys, fs.read)
}

// add plans class entry de: a chip the inventory knows under the same link
// is read as it knows it; any other is inspected afresh (listed, named)
// under its own deadline, like its reads: a chip whose listing or name read
// hangs costs that chip only. An entry with the inode number the inventory
// noted for it is the same kernfs node, whose link cannot have changed: its
// link is not read again (a re-bound driver's or a hot-plugged device's
// class link is a new node, with another number, even under a reused name).
// kernfs builds a link's text when it is read: a parent device moved
// (device_move, rare for hwmon, NVMe, drives and zones) changes it under the
// same node, and the inventory follows within its 10 minutes.
func (b *beat) add(de sysread.DirEntry, prev *known) {
	e := de.Name
	cached := prev.lookup(e)
	var link string
	var linkErr error
	if cached != nil && de.Ino != 0 && cached.ino == de.Ino {
		link = cached.link
	} else {
		link, linkErr = b.fs.readlink(b.prefix+e, b.linkBuf)
		switch {
		case cached == nil:
		case linkErr != nil || cached.link != link:
			cached = nil
		case cached.ino != 0 && de.Ino != 0:
			// Made again with the same target: a driver re-bound, or
			// another chip at the same address under the freed hwmonN.
			cached = nil
		case cached.ino != de.Ino: // the same link, a number the inventory did not know
			cached = cached.withIno(de.Ino)
			b.renumbered = true
		}
	}
	if cached == nil {
		b.plans = append(b.plans, plan{entry: e, link: link, ino: de.Ino})
		b.jobs = append(b.jobs, gather.Job{Chip: thermal.Chip{Source: SourceName, Name: e, Path: b.prefix + e},
			Prepare: b.fs.prepare(b.pool, b.classDir, e, link, linkErr, &b.plans[len(b.plans)-1])})
		return
	}
	// The chip is made in its job, where the request may relabel it.
	b.jobs = append(b.jobs, gather.Job{Chip: cached.chip()})
	j := &b.jobs[len(b.jobs)-1]
	chip := &j.Chip
	if !b.fs.req.Admits(chip) || b.fs.req.Ignores(chip.Source, chip.Name, "") {
		b.dropped = append(b.dropped, cached.withChip(chip))
		b.jobs = b.jobs[:len(b.jobs)-1]
		return
	}
	b.plans = append(b.plans, plan{entry: e, link: link, ino: de.Ino, channels: cached.channels, cached: cached})
	if chip.Asleep = b.dev.Asleep(chip.Device); !chip.Asleep {
		j.Expect, j.Read = len(cached.channels), b.fs.readChannels(chip, cached.channels)
	}
}

// settle returns the chips the request keeps from the jobs' results, and
// notes in each plan what the next inventory keeps of its chip: changed
// reports that it learned something.
func (b *beat) settle(results []gather.Result) (chips []thermal.Chip, changed bool) {
	chips = make([]thermal.Chip, 0, len(results))
	b.kept = len(b.dropped)
	for i := range results {
		r, p := &results[i], &b.plans[i]
		fresh := p.cached == nil
		switch {
		case fresh && !r.Prepared:
			// Not named in time: reported, nothing to remember.
		case fresh && r.Done && r.Chip.Err != nil:
			// A chip that cannot be inspected is not remembered, and is
			// not worth rewriting the inventory for on every beat.
		case !fresh && p.cached.complete():
			p.next = p.cached // nothing left to learn
		default:
			var learned bool
			p.next, learned = remember(p.entry, p.link, p.ino, &r.Chip, p.channels)
			changed = changed || learned || fresh
		}
		if p.next != nil {
			b.kept++
		}
		if r.Chip.Driver == underVoltageDriver {
			underVoltage(&r.Chip)
		}
		if !r.Dropped {
			chips = append(chips, r.Chip)
		}
	}
	return chips, changed
}

// underVoltage adds a Pi's throttling series for its under-voltage flag.
func underVoltage(c *thermal.Chip) {
	for i := range c.Sensors {
		if s := &c.Sensors[i]; s.Kind == thermal.KindThrottle && s.Err == nil {
			c.Series = append(c.Series, thermal.Throttling(s.Name, s.Value > 0))
		}
	}
}

// next is the inventory the beat leaves, sorted by class entry.
func (b *beat) next(changed bool) *known {
	k := &known{chips: make([]knownChip, 0, b.kept), changed: changed}
	for _, c := range b.dropped {
		k.chips = append(k.chips, *c)
	}
	for i := range b.plans {
		if c := b.plans[i].next; c != nil {
			k.chips = append(k.chips, *c)
		}
	}
	slices.SortFunc(k.chips, func(a, b knownChip) int { return strings.Compare(a.entry, b.entry) })
	return k
}

// prepare returns the gather step that inspects a chip seen afresh, under
// its own deadline: names it, asks the request whether to read it (a chip
// left out is remembered unread), sees whether it sleeps, and returns its
// reader. It records the chip's channels in pl for the inventory.
func (fs *FS) prepare(pool *inspectors, classDir, e, link string, linkErr error, pl *plan) func() (thermal.Chip, int, func(func(thermal.Sensor)), bool) {
	return func() (thermal.Chip, int, func(func(thermal.Sensor)), bool) {
		in := pool.get()
		defer pool.put(in)
		chip, channels := in.inspect(classDir, e, link, linkErr)
		pl.channels = channels
		if chip.Err != nil {
			return chip, 0, nil, true
		}
		if !fs.req.Admits(&chip) || fs.req.Ignores(chip.Source, chip.Name, "") {
			return chip, 0, nil, false
		}
		chip.Asleep = in.dev.Asleep(chip.Device)
		if chip.Asleep {
			return chip, 0, nil, true
		}
		return chip, len(channels), fs.readChannels(&chip, channels), true
	}
}

// inspectors hands each gather worker an inspector of its own (buffers are
// not shared between two workers, which run at once when one is stuck); one
// worker reuses one, as a beat without stuck chips has. A beat that finds
// every chip in the inventory makes none.
type inspectors struct {
	fs     *FS
	dev    *sysdev.Tree
	mu     sync.Mutex
	free   []*inspector
	dirBuf []byte // for the first inspector: the class listing's, done with
}

func (p *inspectors) get() *inspector {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		in := p.free[n-1]
		p.free = p.free[:n-1]
		return in
	}
	dirBuf := p.dirBuf
	if p.dirBuf = nil; dirBuf == nil {
		dirBuf = make([]byte, 8192)
	}
	return &inspector{fs: p.fs, dirBuf: dirBuf, linkBuf: make([]byte, 4096), valBuf: make([]byte, 256), dev: p.dev}
}

func (p *inspectors) put(in *inspector) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, in)
}

// inspector holds the buffers used while inspecting chips, and the beat's
// device tree.
type inspector struct {
	fs                      *FS
	dirBuf, linkBuf, valBuf []byte
	dev                     *sysdev.Tree
}

// inspect names the chip behind class entry e and lists its channels. It
// reads the links and the name attribute, nothing that a driver computes.
func (in *inspector) inspect(classDir, e, link string, linkErr error) (thermal.Chip, []channel) {
	chip := thermal.Chip{Source: SourceName, Name: e, Path: sysdev.Join(classDir, e)}
	fail := func(err error) (thermal.Chip, []channel) {
		chip.Err = err
		chip.Errors = 1
		return chip, nil
	}
	dir := chip.Path
	if linkErr == nil {
		dir = sysdev.Resolve(classDir, link)
	} else if !errors.Is(linkErr, syscall.EINVAL) { // EINVAL: a real directory (old kernels)
		return fail(linkErr)
	}
	names, err := sysread.ReadDirNames(dir, in.dirBuf)
	if err != nil {
		return fail(err)
	}
	device := ""
	if target, err := sysread.Readlink(sysdev.Join(dir, "device"), in.linkBuf); err == nil {
		device = sysdev.Resolve(dir, target)
	}
	// Drivers registered with the old hwmon_device_register() keep their
	// attributes on the device itself; libsensors looks there when the class
	// device has no name.
	if !contains(names, "name") && device != "" {
		devNames, err := sysread.ReadDirNames(device, in.dirBuf)
		if err == nil && contains(devNames, "name") {
			dir, names = device, devNames
		}
	}
	chip.Path = dir
	chip.Device = device
	b, err := in.fs.read(sysdev.Join(dir, "name"), in.valBuf)
	if err != nil {
		return fail(err)
	}
	chip.Driver = sysread.Text(b)
	if chip.Driver == "" {
		return fail(fmt.Errorf("%s: empty name attribute", dir))
	}
	chip.Name, chip.Bus = in.dev.ChipName(chip.Driver, device)
	chans := channels(names)
	if chip.Driver != underVoltageDriver {
		// A voltage alarm means throttling on a Pi only: elsewhere (PMBus,
		// INA2xx) it is not read, so it is not a channel.
		chans = slices.DeleteFunc(chans, func(ch channel) bool { return ch.kind == 'A' })
	}
	return chip, chans
}

// channels collects the temperature channels from a chip's attribute names.
func channels(names []string) []channel {
	type key struct {
		kind byte
		n    int
	}
	byN := map[key]uint8{}
	for _, name := range names {
		var kind byte
		var suffixes map[string]uint8
		rest, ok := "", false
		switch {
		case strings.HasPrefix(name, "temp"):
			kind, suffixes, rest = 'T', attrSuffix, name[4:]
		case strings.HasPrefix(name, "fan"):
			kind, suffixes, rest = 'F', fanSuffix, name[3:]
		case strings.HasPrefix(name, "power"):
			kind, suffixes, rest = 'P', powerSuffix, name[5:]
		case strings.HasPrefix(name, "in") && strings.HasSuffix(name, "_lcrit_alarm"):
			// A voltage below its critical minimum: on a Raspberry Pi
			// (rpi_volt) the firmware's under-voltage flag, which
			// throttles the SoC. Read where the chip is known to mean
			// that (readChannels).
			if n, err := strconv.Atoi(strings.TrimSuffix(name[2:], "_lcrit_alarm")); err == nil && n >= 0 {
				byN[key{'A', n + 1}] |= attrInput
			}
			continue
		case strings.HasPrefix(name, "pwm"):
			// pwmN is the duty itself; its _enable, _freq, _mode … are
			// the controller's settings, not readings.
			if n, err := strconv.Atoi(name[3:]); err == nil && n >= 1 {
				byN[key{'W', n}] |= attrInput
			}
			continue
		default:
			continue
		}
		num, suffix, ok := strings.Cut(rest, "_")
		if !ok {
			continue
		}
		bit, known := suffixes[suffix]
		n, err := strconv.Atoi(num)
		if !known || err != nil || n < 1 {
			continue
		}
		byN[key{kind, n}] |= bit
	}
	out := make([]channel, 0, len(byN))
	for k, attrs := range byN {
		if attrs&attrInput != 0 || k.kind == 'P' && attrs&powerAverage != 0 {
			out = append(out, channel{kind: k.kind, n: k.n, attrs: attrs})
		}
	}
	// Temperatures first, then fans, each by number, as sensors lists them;
	// then power, then the fans' duties.
	order := map[byte]int{'T': 0, 'F': 1, 'P': 2, 'W': 3, 'A': 4}
	sort.Slice(out, func(i, j int) bool {
		if out[i].kind != out[j].kind {
			return order[out[i].kind] < order[out[j].kind]
		}
		return out[i].n < out[j].n
	})
	return out
}

// readChannels returns the gather.Job read function for a chip: for each
// channel its label, fault flag, input and limits, one read each, relative
// to the chip's directory.
func (fs *FS) readChannels(chip *thermal.Chip, chans []channel) func(add func(thermal.Sensor)) {
	return func(add func(thermal.Sensor)) {
		vb := valBufs.Get().(*[256]byte)
		defer valBufs.Put(vb)
		buf := vb[:]
		a := attrFiles{dir: chip.Path, read: fs.read}
		if fs.dirReads {
			d, err := sysread.OpenDir(chip.Path)
			if err == nil {
				defer d.Close()
				a.d = d
			}
		}
		// A fan's name by number, for the duty of the same number (fans
		// come first); chips have at most a dozen fans.
		var fans [16]string
		var s thermal.Sensor // each read sets it whole
		for i := range chans {
			ch := &chans[i]
			var ok bool
			switch ch.kind {
			case 'F':
				ok = fs.readFan(&s, chip, ch, a, buf)
				if ch.n < len(fans) {
					fans[ch.n] = s.Name
				}
			case 'P':
				ok = fs.readPower(&s, chip, ch, a, buf)
			case 'W':
				var fan string
				if ch.n < len(fans) {
					fan = fans[ch.n]
				}
				ok = fs.readPWM(&s, chip, ch, a, buf, fan)
			case 'A': // only a Pi's (inspect)
				ok = fs.readUnderVoltage(&s, chip, ch, a, buf)
			default:
				ok = fs.readChannel(&s, chip, ch, a, buf)
			}
			if ok {
				add(s)
			}
		}
	}
}

// valBufs holds the value buffers of readChannels: the chips of a beat are
// read one after another by one worker, which then needs one buffer, not
// one per chip.
var valBufs = sync.Pool{New: func() any { return new([256]byte) }}

// attrFiles reads a chip's attributes by name: through the open directory
// when there is one, else by path through the FS's read seam.
type attrFiles struct {
	d    *sysread.Dir
	dir  string
	read sysread.ReadFunc
}

func (a attrFiles) file(name string, buf []byte) ([]byte, error) {
	if a.d != nil {
		return a.d.ReadFile(name, buf)
	}
	return a.read(a.dir+"/"+name, buf)
}

func (a attrFiles) int(name string, buf []byte) (int64, error) {
	b, err := a.file(name, buf)
	if err != nil {
		return 0, err
	}
	v, err := sysread.ParseInt(b)
	if err != nil {
		return 0, fmt.Errorf("%s/%s: %w", a.dir, name, err)
	}
	return v, nil
}

//go:generate go run gen_attrnames.go

// attrName returns the name prefix+n+suffix of a channel's attribute file,
// which table (attrnames.go) holds for the first channels: a beat names
// thousands of files, and building each name allocated it.
func attrName(table, prefix string, n int, suffix string) string {
	if n < 0 || n >= 1000 || (n+1)*nameSlot > len(table) {
		return prefix + strconv.Itoa(n) + suffix
	}
	digits := 3
	switch {
	case n < 10:
		digits = 1
	case n < 100:
		digits = 2
	}
	return table[n*nameSlot : n*nameSlot+len(prefix)+digits+len(suffix)]
}

// names returns temperature channel n's attribute prefix and the names of
// its input and fault files.
func names(n int) (attr, input, fault string) {
	input = attrName(tempInputNames, "temp", n, "_input")
	return input[:len(input)-len("_input")], input, attrName(tempFaultNames, "temp", n, "_fault")
}

// label names s by its channel's label: from the inventory once known,
// else read. Without its label the sensor would be reported under another
// name, so a failed read is the sensor's error for this beat.
func label(s *thermal.Sensor, ch *channel, a attrFiles, attr string, buf []byte) error {
	l := ch.label
	if !ch.known && ch.attrs&attrLabel != 0 {
		b, err := a.file(attr+"_label", buf)
		if errors.Is(err, sysread.ErrTooLong) {
			// A label longer than the value buffer (up to a page):
			// read whole, then shortened, rather than lose the reading.
			b, err = a.file(attr+"_label", make([]byte, 4097))
		}
		if err != nil {
			return err
		}
		l = shorten(sysread.Text(b), MaxLabel)
	}
	if l != "" {
		s.Label, s.Name = l, l
	}
	return nil
}

// MaxLabel is the longest sensor label kept, in bytes: a driver's label
// longer than this is cut (on a character boundary), and names made alike
// by the cut stay apart as any two alike names do.
const MaxLabel = 255

// shorten cuts s to at most n bytes without splitting a character.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// readChannel reads one channel into s; ok is false for a sensor the
// configuration ignores, whose value is then never read. Like the other
// readers, it sets all of s: the caller reuses one for every channel, and
// adds it (a copy) when ok.
func (fs *FS) readChannel(s *thermal.Sensor, chip *thermal.Chip, ch *channel, a attrFiles, buf []byte) (ok bool) {
	attr, input, fault := names(ch.n)
	*s = thermal.Sensor{Name: attr, Attr: attr}
	if ch.known {
		s.Max, s.Crit, s.Emergency, s.CritHyst = ch.limit(limitMax), ch.limit(limitCrit), ch.limit(limitEmergency), ch.limit(limitCritHyst)
	}
	if s.Err = label(s, ch, a, attr, buf); s.Err != nil {
		return true
	}
	if fs.req.Ignores(chip.Source, chip.Name, s.Name) {
		return false
	}
	if ch.attrs&attrFault != 0 {
		b, err := a.file(fault, buf)
		v, perr := sysread.ParseInt(b)
		switch {
		case err != nil || perr != nil:
			s.AuxErrors++ // the reading still stands; the flag's failure is counted
		case v != 0:
			s.Err = fmt.Errorf("%s/%s: %w", chip.Path, fault, thermal.ErrFault)
			return true
		}
	}
	v, err := a.int(input, buf)
	if err != nil {
		s.Err = err
		return true
	}
	if !ch.known {
		fs.readLimits(s, ch, a, attr, buf)
	}
	if err := fs.rng.Check(v); err != nil {
		s.Err = fmt.Errorf("%s/%s: %w", chip.Path, input, err)
		return true
	}
	s.Value = v
	return true
}

// maxRPM bounds a plausible fan speed; more is a driver's placeholder.
const maxRPM = 100000

// readPower reads a power channel: its label (once, then from the
// inventory), its input, else its average, and its cap on every beat (µW
// in sysfs, mW in the sensor). A negative reading is rejected.
func (fs *FS) readPower(s *thermal.Sensor, chip *thermal.Chip, ch *channel, a attrFiles, buf []byte) (ok bool) {
	input := attrName(powerInputNames, "power", ch.n, "_input")
	attr := input[:len(input)-len("_input")]
	*s = thermal.Sensor{Kind: thermal.KindPower, Name: attr, Attr: attr}
	if ch.known {
		s.Max = ch.limit(limitMax)
	}
	if s.Err = label(s, ch, a, attr, buf); s.Err != nil {
		return true
	}
	if fs.req.Ignores(chip.Source, chip.Name, s.Name) {
		return false
	}
	if ch.attrs&attrInput == 0 {
		input = attrName(powerAverageNames, "power", ch.n, "_average")
	}
	v, err := a.int(input, buf)
	switch {
	case err != nil:
		s.Err = err
		return true
	case v < 0:
		s.Err = fmt.Errorf("%s/%s: %w: %d µW", chip.Path, input, thermal.ErrOutOfRange, v)
		return true
	}
	s.Value = v / 1000
	if ch.attrs&powerCap != 0 {
		// The cap is a setting (rocm-smi, LACT change it), not a fixed
		// limit: read on every beat, like NVML's enforced limit.
		s.Max = nil
		if c, err := a.int(attrName(powerCapNames, "power", ch.n, "_cap"), buf); err != nil {
			s.AuxErrors++
		} else if c > 0 {
			mw := c / 1000
			s.Max = &mw
		}
	}
	return true
}

// readPWM reads a fan's duty, pwmN (0 … 255): one read per beat. It is
// named after the fan of its number where the chip has one (the hwmon ABI
// numbers a fan and the PWM output that drives it alike on the chips that
// have both), so that dashboards join them; else pwmN.
func (fs *FS) readPWM(s *thermal.Sensor, chip *thermal.Chip, ch *channel, a attrFiles, buf []byte, fan string) (ok bool) {
	attr := attrName(pwmNames, "pwm", ch.n, "")
	*s = thermal.Sensor{Kind: thermal.KindDuty, Name: attr, Attr: attr}
	if fan != "" {
		s.Name = fan
	}
	if fs.req.Ignores(chip.Source, chip.Name, s.Name) || fs.req.Ignores(chip.Source, chip.Name, attr) {
		return false
	}
	v, err := a.int(attr, buf)
	switch {
	case err != nil:
		s.Err = err
	case v < 0 || v > 255:
		s.Err = fmt.Errorf("%s/%s: %w: %d of 255", chip.Path, attr, thermal.ErrOutOfRange, v)
	default:
		s.Value = v * 1_000_000 / 255
	}
	return true
}

// underVoltageDriver is the Raspberry Pi's firmware voltage monitor
// (drivers/hwmon/raspberrypi-hwmon.c): in0_lcrit_alarm is 1 while the
// supply is below 4.63 V, when the firmware throttles the SoC.
const underVoltageDriver = "rpi_volt"

// readUnderVoltage reads an under-voltage alarm as a throttle flag
// ("under_voltage"), which a [[rule]] kind = "throttle" pages on, and as
// node_thermal_throttling{reason="under_voltage"}. The series is added to
// the chip the reader holds, once per beat.
func (fs *FS) readUnderVoltage(s *thermal.Sensor, chip *thermal.Chip, ch *channel, a attrFiles, buf []byte) (ok bool) {
	attr := "in" + strconv.Itoa(ch.n-1) + "_lcrit_alarm"
	*s = thermal.Sensor{Kind: thermal.KindThrottle, Name: "under_voltage", Attr: attr}
	if fs.req.Ignores(chip.Source, chip.Name, s.Name) {
		return false
	}
	v, err := a.int(attr, buf)
	if err != nil {
		s.Err = err
		return true
	}
	s.Value = min(max(v, 0), 1)
	s.Detail = "the supply voltage is below its critical minimum (" + attr + ")"
	return true
}

// readFan reads one fan: its label, minimum and target as temperatures'
// label and limits are (once, then from the inventory), its fault and alarm
// bits and its speed on every beat. A faulted fan has no speed (never a
// fake 0) and counts as failed.
func (fs *FS) readFan(s *thermal.Sensor, chip *thermal.Chip, ch *channel, a attrFiles, buf []byte) (ok bool) {
	input := attrName(fanInputNames, "fan", ch.n, "_input")
	attr := input[:len(input)-len("_input")]
	fault, alarm := attrName(fanFaultNames, "fan", ch.n, "_fault"), attrName(fanAlarmNames, "fan", ch.n, "_alarm")
	*s = thermal.Sensor{Kind: thermal.KindFan, Name: attr, Attr: attr}
	if ch.known {
		s.FanMin, s.FanTarget = ch.limit(limitMax), ch.limit(limitCrit)
	}
	if s.Err = label(s, ch, a, attr, buf); s.Err != nil {
		return true
	}
	if fs.req.Ignores(chip.Source, chip.Name, s.Name) {
		return false
	}
	flag := func(bit uint8, name string) bool {
		if ch.attrs&bit == 0 {
			return false
		}
		v, err := a.int(name, buf)
		if err != nil {
			s.AuxErrors++
			return false
		}
		return v != 0
	}
	if ch.attrs&fanEnable != 0 {
		// A fan channel the driver has disabled measures nothing: it is
		// not reported, so it cannot fail.
		if v, err := a.int(attrName(fanEnableNames, "fan", ch.n, "_enable"), buf); err == nil && v == 0 {
			return false
		}
	}
	if flag(attrFault, fault) {
		s.Err = fmt.Errorf("%s/%s: %w", chip.Path, fault, thermal.ErrFault)
		s.Failed = "fault"
		return true
	}
	// A fan alarm is the chip comparing the speed with fanN_min
	// (Documentation/hwmon/sysfs-interface); where the chip has a minimum
	// the beat makes that comparison itself, so the alarm is read only
	// where it has none: one read per fan instead of two.
	if ch.attrs&fanMin == 0 {
		s.Alarm = flag(fanAlarm, alarm)
	}
	v, err := a.int(input, buf)
	if err != nil {
		s.Err = err
		return true
	}
	if !ch.known {
		rpm := func(bit uint8, suffix string, zero bool) *int64 {
			if ch.attrs&bit == 0 {
				return nil
			}
			v, err := a.int(attr+suffix, buf)
			if err != nil {
				s.AuxErrors++
				return nil
			}
			if v < 0 || v >= maxRPM || v == 0 && !zero {
				return nil
			}
			return &v
		}
		// A minimum of 0 is no minimum; a target of 0 asks the fan to stop.
		s.FanMin, s.FanTarget = rpm(fanMin, "_min", false), rpm(fanTarget, "_target", true)
	}
	if v < 0 || v >= maxRPM {
		s.Err = fmt.Errorf("%s/%s: %w: %d RPM", chip.Path, input, thermal.ErrOutOfRange, v)
		return true
	}
	s.Value = v
	return true
}

// readLimits reads the channel's limits into s. A failed read counts in
// AuxErrors and leaves the limit unset.
func (fs *FS) readLimits(s *thermal.Sensor, ch *channel, a attrFiles, attr string, buf []byte) {
	for _, l := range []struct {
		bit    uint8
		suffix string
		dst    **int64
	}{
		{attrMax, "_max", &s.Max},
		{attrCrit, "_crit", &s.Crit},
		{attrEmergency, "_emergency", &s.Emergency},
		{attrCritHyst, "_crit_hyst", &s.CritHyst},
	} {
		if ch.attrs&l.bit == 0 {
			continue
		}
		v, err := a.int(attr+l.suffix, buf)
		if err != nil {
			s.AuxErrors++
			continue
		}
		*l.dst = fs.rng.Limit(v)
	}
}

func contains(names []string, s string) bool {
	for _, n := range names {
		if n == s {
			return true
		}
	}
	return false
}
