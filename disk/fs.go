package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/gather"
	"github.com/thermal-heartbeat/thermal/internal/linecodec"
	"github.com/thermal-heartbeat/thermal/internal/sysdev"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// transportCloser is an open drive.
type transportCloser interface {
	Transport
	Close() error
}

// FS finds drives in sysfs and reads them through their device nodes.
type FS struct {
	sys, dev string
	rng      thermal.Range
	read     sysread.ReadFunc
	open     func(path string) (transportCloser, error)
	req      *thermal.Request
}

// NewFS returns an FS over the sysfs tree at sysfs and the device nodes in
// dev (normally /sys and /dev); with dev "" no device node is opened and a
// drive is read through its drivetemp chip, if it has one (a fixture
// tree). Readings outside rng are dropped.
func NewFS(sysfs, dev string, rng thermal.Range) (FS, error) {
	if sysfs == "" {
		return FS{}, errors.New("disk: no sysfs mount point given")
	}
	if dev != "" {
		dev = filepath.Clean(dev)
	}
	return FS{sys: filepath.Clean(sysfs), dev: dev, rng: rng, read: sysread.ReadFile,
		open: func(path string) (transportCloser, error) {
			d, err := Open(path)
			if err != nil {
				return nil, err
			}
			return d, nil
		}}, nil
}

// Drive is a SCSI disk as sysfs describes it. Nothing here costs the drive
// a command: the kernel read these when it found the drive.
type Drive struct {
	Address string // SCSI address, host:channel:target:lun
	Block   string // sda
	Chip    string // lm-sensors name of the drive's drivetemp chip: drivetemp-scsi-0-0
	Bus     string
	Device  string // the SCSI device directory
	// Vendor, Model, Rev are the INQUIRY strings; an ATA drive's vendor is
	// "ATA" and its model cut to 16 characters. WWID is the device
	// identification (VPD page 83h), which names an ATA drive's serial.
	Vendor, Model, Rev, WWID string
	// ATA is set for a drive behind libata (AHCI, a SAS HBA's SATA
	// ports): read with ATA PASS-THROUGH. SAT is set when the device
	// exports the ATA Information VPD page: a drive behind a translation
	// layer under its own name (a USB bridge), read with ATA PASS-THROUGH
	// when LOG SENSE has no temperature.
	ATA, SAT bool
	// Asleep: the drive's device is runtime-suspended and is not sent a
	// command.
	Asleep bool
	// ino is the inode number of the drive's class entry when it was
	// described (0: none given, or the description is not whole).
	ino uint64
}

// Key identifies a drive for the identity cache: a drive swapped into the
// same bay is identified again.
func (d Drive) Key() string {
	return strings.Join([]string{d.Address, d.Block, d.WWID, d.Vendor, d.Model, d.Rev}, "/")
}

// Transport is "sata" for an ATA drive and "sas" for a SCSI one, as the
// info series labels them.
func (d Drive) Transport() string {
	if d.ATA {
		return "sata"
	}
	return "sas"
}

// Drives lists the disks under <sysfs>/class/scsi_disk. A missing class
// directory means no drives.
func (fs FS) Drives() ([]Drive, error) {
	drives, _, err := fs.listDrives(nil)
	return drives, err
}

// listDrives is Drives with the descriptions of an earlier beat, by class
// entry: a drive whose class entry is the same link (the same inode
// number) is taken from them, its power state read again, and any other is
// described afresh. A drive swapped into the same bay is a new SCSI device,
// whose class link is a new kernfs node with another number. changed
// reports that the drives to cache (those with an inode number: whole)
// differ from described; one described afresh on every beat because its
// block device is not there yet changes nothing.
func (fs FS) listDrives(described map[string]Drive) (drives []Drive, changed bool, err error) {
	classDir := sysdev.Join(fs.sys, "class/scsi_disk")
	buf := sysread.Buffer(4096)
	entries, err := sysread.ReadDirEntries(classDir, buf)
	if errors.Is(err, os.ErrNotExist) {
		return nil, len(described) > 0, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("disk: %w", err)
	}
	tree := fs.tree()
	out := make([]Drive, 0, len(entries))
	reused := 0
	for _, e := range entries {
		if d, ok := described[e.Name]; ok && e.Ino != 0 && d.ino == e.Ino {
			d.Asleep = tree.Asleep(d.Device)
			out = append(out, d)
			reused++
			continue
		}
		if d, ok := fs.drive(classDir, e, tree, buf); ok {
			out = append(out, d)
			changed = changed || d.ino != 0
		}
	}
	sort.Slice(out, func(i, j int) bool { return addrLess(out[i].Address, out[j].Address) })
	return out, changed || reused != len(described), nil
}

// cached returns the drives of drives to cache: those with an inode number.
func cached(drives []Drive) []Drive {
	return slices.DeleteFunc(slices.Clone(drives), func(d Drive) bool { return d.ino == 0 })
}

// drive describes the drive of class entry de, under de's inode number
// when the description is whole; ok is false when the entry has no
// device.
func (fs FS) drive(classDir string, de sysread.DirEntry, tree *sysdev.Tree, buf []byte) (d Drive, ok bool) {
	e := de.Name
	// The class entry links to the scsi_disk class device, whose device
	// link, relative to it, is the SCSI device.
	dir := sysdev.Join(classDir, e)
	if target, err := sysread.Readlink(dir, buf); err == nil {
		dir = sysdev.Resolve(classDir, target)
	}
	link, err := sysread.Readlink(dir+"/device", buf)
	if err != nil {
		return d, false
	}
	d = Drive{Address: e, Device: sysdev.Resolve(dir, link)}
	// Device is clean (Resolve's): its attributes are below it.
	attr := d.Device + "/"
	if blocks, err := sysread.ReadDirNames(attr+"block", buf); err == nil && len(blocks) > 0 {
		sort.Strings(blocks)
		d.Block = blocks[0]
	}
	var text [4]string
	whole := d.Block != ""
	for i, name := range [...]string{"vendor", "model", "rev", "wwid"} {
		if b, err := fs.read(attr+name, buf); err == nil {
			text[i] = sysread.Text(b)
		} else if i < 2 {
			whole = false
		}
	}
	d.Vendor, d.Model, d.Rev, d.WWID = text[0], text[1], text[2], text[3]
	// A drive still being probed (its class device is made before its
	// block device, and a spinning-up disk takes seconds) is described
	// again next beat, not cached half-known: no inode number to match.
	if whole {
		d.ino = de.Ino
	}
	// libata names every ATA drive's vendor "ATA". A bridge that
	// translates to ATA under its own name exports the ATA Information
	// VPD page (89h), but so do SCSI targets that emulate it
	// (scsi_debug): such a drive is tried as SCSI first.
	_, statErr := os.Lstat(attr + "vpd_pg89")
	d.ATA, d.SAT = d.Vendor == "ATA", statErr == nil
	d.Chip, d.Bus = tree.ChipName("drivetemp", d.Device)
	d.Asleep = tree.Asleep(d.Device)
	return d, true
}

// hasDrivetemp reports whether the kernel's drivetemp has a chip for the
// drive, which reads it when this source cannot. It is asked only then,
// and on every beat: drivetemp may be loaded or unloaded at any time.
func (fs FS) hasDrivetemp(d Drive) bool {
	// Its one entry fits a small buffer: a page would cost a page fault.
	hw, err := sysread.ReadDirNames(d.Device+"/hwmon", sysread.Buffer(512))
	return err == nil && len(hw) > 0
}

// sysfsIdentity is the drive's model and serial as sysfs knows them,
// for a drive not identified yet (asleep since boot, or read through
// drivetemp): libata's device identification (the wwid) is "t10.ATA",
// padded to eight, then the drive's 40-character model and its serial.
func (d Drive) sysfsIdentity() (model, serial string) {
	if rest, ok := strings.CutPrefix(d.WWID, "t10.ATA     "); ok && len(rest) > 40 {
		return strings.TrimSpace(rest[:40]), strings.TrimSpace(rest[40:])
	}
	return strings.TrimSpace(strings.TrimPrefix(d.Vendor+" "+d.Model, "ATA ")), ""
}

// addrLess orders SCSI addresses numerically, field by field.
func addrLess(a, b string) bool {
	for ra, rb := a, b; ; {
		fa, resta, moreA := strings.Cut(ra, ":")
		fb, restb, moreB := strings.Cut(rb, ":")
		x, _ := strconv.Atoi(fa)
		y, _ := strconv.Atoi(fb)
		switch {
		case x != y:
			return x < y
		case !moreA || !moreB:
			return a < b
		}
		ra, rb = resta, restb
	}
}

// Methods of reading a drive's temperature, as probe shows them.
const (
	MethodSCT      = "sct"       // SCT Status
	MethodSMART194 = "smart-194" // SMART attribute 194
	MethodSMART190 = "smart-190" // SMART attribute 190
	MethodLogSense = "log-sense" // SCSI Temperature log page
	MethodHwmon    = "drivetemp" // the kernel's drivetemp chip
	methodNone     = ""
)

// Identity is what is learnt of a drive once and cached: who it is, and
// how its temperature is read (or why it is not).
type Identity struct {
	Model    string
	Serial   string
	Firmware string
	Method   string
	// ATA: the drive answered ATA PASS-THROUGH, though its vendor is not
	// "ATA" (a USB bridge).
	ATA bool
	// Why says why the drive has no method ("SMART is disabled").
	Why string
	// Max and Crit are the drive's own limits, °C (0: none): SCT's
	// recommended maximum and limit; a SCSI drive's reference
	// temperature is read with every temperature instead.
	Max  int
	Crit int
}

// identityKey is the Cache key of the drives' identities.
const identityKey = "disk-identity"

// Name is the source label, disk.
func (fs FS) Name() string { return SourceName }

// Read implements thermal.Source: every drive under the request's rules,
// with the identities kept in its Cache.
func (fs FS) Read(ctx context.Context, req *thermal.Request) ([]thermal.Chip, error) {
	fs.req = req
	cache := req.CacheOf()
	drives, changed, err := fs.listDrives(linecodec.Load(cache, drivesKey, decodeDrives))
	if changed && cache != nil && err == nil {
		cache.Store(drivesKey, encodeDrives(cached(drives)))
	}
	if len(drives) == 0 {
		return nil, err
	}
	known := linecodec.Load(cache, identityKey, decodeIdentities)
	chips, learned := fs.ReadDrives(ctx, drives, known)
	if cache != nil && len(learned) > 0 {
		all := make(map[string]Identity, len(known)+len(learned))
		for _, d := range drives { // drives gone since are forgotten
			if id, ok := known[d.Key()]; ok {
				all[d.Key()] = id
			}
		}
		for k, v := range learned {
			all[k] = v
		}
		cache.Store(identityKey, encodeIdentities(all))
	}
	return chips, err
}

// outcome is what became of one drive's read.
type outcome struct {
	id       Identity
	learned  bool
	fallback string // why the drive is left to its drivetemp chip
	// drivetemp: the drive has a drivetemp chip to fall back on (asked
	// only when it must).
	drivetemp bool
	standby   bool
	power     string
	err       error // the read failed
}

// ReadDrives reads every drive under ctx and returns their chips and the
// identities learnt in this read, by Drive.Key. A drive whose identity is
// in known costs at most two commands.
func (fs FS) ReadDrives(ctx context.Context, drives []Drive, known map[string]Identity) ([]thermal.Chip, map[string]Identity) {
	var mu sync.Mutex
	outcomes := make([]outcome, len(drives))
	jobs := make([]gather.Job, 0, len(drives))
	index := make([]int, 0, len(drives))
	// One probe for all: Admit takes its address, which puts it on the heap.
	var probe thermal.Chip
	for i := range drives {
		d := &drives[i]
		if probe = (thermal.Chip{Source: SourceName, Name: d.Chip, Driver: "drivetemp", Bus: d.Bus}); !fs.req.Admits(&probe) || fs.req.Ignores(SourceName, d.Chip, "") {
			continue
		}
		chip := thermal.Chip{Source: SourceName, Name: d.Chip, Driver: "drivetemp", Bus: d.Bus,
			Path: sysdev.Join(fs.dev, d.Block), Device: d.Device}
		index = append(index, i)
		if d.Asleep {
			chip.Asleep = true
			jobs = append(jobs, gather.Job{Chip: chip})
			continue
		}
		id, haveID := known[d.Key()]
		name := chip.Name // the read's, not the whole chip, which would go on the heap
		jobs = append(jobs, gather.Job{Chip: chip, Expect: 1, Read: func(add func(thermal.Sensor)) {
			o, s := fs.readDrive(*d, id, haveID)
			if o.fallback != "" {
				o.drivetemp = fs.hasDrivetemp(*d)
			}
			mu.Lock()
			outcomes[i] = o
			mu.Unlock()
			if s.Name != "" && !fs.req.Ignores(SourceName, name, s.Name) {
				add(s)
			}
		}})
	}
	res := gather.RunJobs(ctx, jobs)
	mu.Lock()
	defer mu.Unlock()
	learned := map[string]Identity{}
	chips := make([]thermal.Chip, 0, len(res))
	for j, r := range res {
		d, o := drives[index[j]], outcomes[index[j]]
		if o.learned {
			learned[d.Key()] = o.id
		}
		chips = append(chips, driveChip(r, d, o))
	}
	return chips, learned
}

// readDrive opens an awake drive and reads it by what is known of it (id,
// when haveID): its outcome, and its sensor (none: Name "").
func (fs FS) readDrive(d Drive, id Identity, haveID bool) (o outcome, s thermal.Sensor) {
	o.id = id
	if haveID && id.Method == methodNone {
		return o, s // the drive reports no temperature: nothing to ask
	}
	if fs.dev == "" || d.Block == "" {
		o.fallback = "no device node (a sysfs tree without --dev, or a drive without a block device)"
		return o, s
	}
	dev, err := fs.open(sysdev.Join(fs.dev, d.Block))
	if err != nil {
		o.fallback = why(err)
		return o, s
	}
	defer dev.Close()
	switch {
	case d.ATA || (haveID && id.ATA):
		s, err = fs.readATA(dev, &o, haveID)
	case !haveID && d.SAT:
		s, err = fs.readBridge(d, dev, &o)
	default:
		s, err = fs.readSCSI(d, dev, &o, haveID)
	}
	switch {
	case errors.Is(err, os.ErrPermission):
		o.fallback = why(err)
	case err != nil:
		o.err = err
	}
	return o, s
}

// readBridge learns a drive that exports the ATA Information VPD page. A
// bridge to an ATA drive (USB) answers ATA PASS-THROUGH: CHECK POWER MODE
// first, so that a sleeping drive is not sent LOG SENSE, which a bridge
// may translate into reads of the drive. A SCSI target that merely
// exports the page (scsi_debug) refuses it, and so does the kernel without
// CAP_SYS_RAWIO: LOG SENSE then, learnt only in the first case.
func (fs FS) readBridge(d Drive, t Transport, o *outcome) (thermal.Sensor, error) {
	s, err := fs.readATA(t, o, false)
	switch denied := errors.Is(err, os.ErrPermission); {
	case err == nil && o.id.Method != methodNone:
		o.id.ATA = true
	case err == nil && o.standby:
	case isUnsupported(err) || denied || (err == nil && o.id.Method == methodNone):
		*o = outcome{}
		s, err = fs.readSCSI(d, t, o, false)
		o.learned = o.learned && !denied
	}
	return s, err
}

// driveChip is the chip of drive d from its job's result r and its
// outcome o: the drive's facts for probe, its info series, and whether it
// was read, yielded to drivetemp, asleep or failed.
func driveChip(r gather.Result, d Drive, o outcome) thermal.Chip {
	chip, id := r.Chip, o.id
	if id.Model == "" {
		id.Model, id.Serial = d.sysfsIdentity()
	}
	if id.ATA {
		d.ATA = true
	}
	chip.Attrs = thermal.Attrs{{Key: "device", Value: d.Block}, {Key: "address", Value: d.Address},
		{Key: "model", Value: id.Model}, {Key: "serial", Value: id.Serial}, {Key: "firmware", Value: id.Firmware},
		{Key: "transport", Value: d.Transport()}, {Key: "read_via", Value: id.Method}, {Key: "power_mode"},
		{Key: "why"}}
	chip.Series = []thermal.Series{InfoSeries(id.Model, id.Serial, d.Transport())}
	switch {
	case d.Asleep:
		chip.Attrs.Set("read_via", nil)
		chip.Attrs.Set("why", "runtime-suspended: not woken")
	case o.fallback != "" && o.drivetemp:
		chip.Yield = o.fallback
		chip.Sensors, chip.Errors = nil, 0
		chip.Attrs.Set("read_via", MethodHwmon)
		chip.Attrs.Set("why", o.fallback)
	case o.fallback != "":
		// Nothing else can read the drive: say why, once per beat.
		chip.Attrs.Set("read_via", nil)
		chip.Attrs.Set("why", o.fallback+"; no drivetemp chip to fall back on")
		chip.Err = errors.New("disk: " + o.fallback)
		chip.Sensors, chip.Errors = nil, 1
	case o.standby:
		chip.Asleep = true
		chip.Sensors, chip.Errors = nil, 0
		chip.Attrs.Set("why", "in standby: not woken")
	case o.err != nil:
		chip.Err = o.err
		chip.Sensors, chip.Errors = nil, 1
		chip.Attrs.Set("why", o.err.Error())
	case r.Done && id.Method == methodNone:
		chip.Attrs.Set("read_via", nil)
		chip.Attrs.Set("why", id.Why)
	}
	if o.power != "" {
		chip.Attrs.Set("power_mode", o.power)
	}
	return chip
}

// readATA reads an ATA drive: CHECK POWER MODE, then (learning the drive
// first if its identity is not known) its temperature by the drive's
// method. A drive in standby is sent nothing else.
func (fs FS) readATA(t Transport, o *outcome, known bool) (thermal.Sensor, error) {
	pm, err := CheckPowerMode(t)
	if err != nil {
		return thermal.Sensor{}, err
	}
	o.power = pm.String()
	if pm.Standby() {
		o.standby = true
		return thermal.Sensor{}, nil
	}
	if !known {
		return fs.learnATA(t, o)
	}
	var c int
	switch o.id.Method {
	case MethodSCT:
		c, err = SCTStatus(t)
	case MethodSMART194, MethodSMART190:
		var data []byte
		if data, err = SMARTData(t); err == nil {
			c, err = attribute(data, o.id.Method)
		}
	default:
		return thermal.Sensor{}, fmt.Errorf("disk: unknown method %q", o.id.Method)
	}
	if err != nil {
		return thermal.Sensor{}, err
	}
	return fs.sensor(c, o.id.Max, o.id.Crit), nil
}

// attribute is the temperature in SMART READ DATA by method.
func attribute(data []byte, method string) (int, error) {
	id := uint8(AttrTemperature)
	if method == MethodSMART190 {
		id = AttrAirflowTemperature
	}
	c, ok, err := SMARTTemperature(data, id)
	if err == nil && !ok {
		err = fmt.Errorf("SMART attribute %d is gone: %w", id, ErrNoTemperature)
	}
	return c, err
}

// learnATA identifies an awake ATA drive and finds how its temperature is
// read: SCT Status (with the limits of its temperature history), else
// attribute 194, else 190. The read that settles the method is this
// beat's reading.
func (fs FS) learnATA(t Transport, o *outcome) (thermal.Sensor, error) {
	ident, err := Identify(t)
	if err != nil {
		return thermal.Sensor{}, err
	}
	o.learned = true
	o.id = Identity{Model: ident.Model, Serial: ident.Serial, Firmware: ident.Firmware}
	if ident.SCT {
		c, err := SCTStatus(t)
		if err != nil && !isRefusal(err) {
			o.learned = false // a timeout or a reset: not the drive's answer
			return thermal.Sensor{}, err
		}
		if err == nil {
			o.id.Method = MethodSCT
			if ident.SCTDataTables {
				if lim, err := ReadSCTLimits(t); err == nil {
					o.id.Max, o.id.Crit = lim.Max, lim.Limit
				}
			}
			return fs.sensor(c, o.id.Max, o.id.Crit), nil
		}
	}
	switch {
	case !ident.SMART:
		o.id.Why = "no SCT Status and no SMART"
		return thermal.Sensor{}, nil
	case !ident.SMARTEnabled:
		o.id.Why = "no SCT Status, and SMART is disabled (smartctl -s on enables it)"
		return thermal.Sensor{}, nil
	}
	data, err := SMARTData(t)
	if err != nil {
		o.learned = false // a transient failure: try again next beat
		return thermal.Sensor{}, err
	}
	for _, m := range []string{MethodSMART194, MethodSMART190} {
		if c, err := attribute(data, m); err == nil {
			o.id.Method = m
			return fs.sensor(c, 0, 0), nil
		}
	}
	o.id.Why = "no SCT Status and no temperature attribute (194, 190)"
	return thermal.Sensor{}, nil
}

// readSCSI reads a SCSI drive's Temperature log page: one command, learnt
// or not. Its identity comes from sysfs.
func (fs FS) readSCSI(d Drive, t Transport, o *outcome, known bool) (thermal.Sensor, error) {
	if !known {
		o.learned = true
		o.id = Identity{Model: strings.TrimSpace(d.Vendor + " " + d.Model), Firmware: d.Rev, Serial: fs.unitSerial(d)}
	}
	temp, err := LogSense(t)
	if errors.Is(err, ErrNoTemperature) || isUnsupported(err) {
		o.id.Method, o.id.Why = methodNone, "no Temperature log page ("+err.Error()+")"
		// A page without a temperature now (FFh) may have one later:
		// only a refused page is remembered.
		o.learned = o.learned && isUnsupported(err)
		return thermal.Sensor{}, nil
	}
	if err != nil {
		o.learned = false
		return thermal.Sensor{}, err
	}
	o.id.Method = MethodLogSense
	ref := 0
	if temp.HasReference {
		ref = temp.Reference
	}
	return fs.sensor(temp.Current, ref, 0), nil
}

// isRefusal reports whether err is the drive's own answer (it aborted or
// refused the command, or reported no temperature), as opposed to a
// command that did not complete.
func isRefusal(err error) bool {
	var ce *CommandError
	return errors.As(err, &ce) || errors.Is(err, ErrNoTemperature)
}

// isUnsupported reports whether err is the drive refusing a command as
// invalid (ILLEGAL REQUEST).
func isUnsupported(err error) bool {
	var ce *CommandError
	return errors.As(err, &ce) && ce.Sense.Key == keyIllegalRequest
}

// unitSerial is the Unit Serial Number VPD page (80h) the kernel keeps
// in sysfs: a header of four bytes, then the serial.
func (fs FS) unitSerial(d Drive) string {
	b, err := fs.read(sysdev.Join(d.Device, "vpd_pg80"), make([]byte, 256))
	if err != nil || len(b) < 4 {
		return ""
	}
	return strings.TrimSpace(strings.Trim(string(b[4:]), "\x00"))
}

// sensor is the drive's temperature as drivetemp names it, temp1, with
// its limits (°C, 0: none).
func (fs FS) sensor(celsius, maxC, critC int) thermal.Sensor {
	s := thermal.Sensor{Name: "temp1", Attr: "temp1", Max: fs.limit(maxC), Crit: fs.limit(critC)}
	s.Value = int64(celsius) * 1000
	if err := fs.rng.Check(s.Value); err != nil {
		s.Value, s.Err = 0, err
	}
	return s
}

func (fs FS) limit(c int) *int64 {
	if c <= 0 {
		return nil
	}
	return fs.rng.Limit(int64(c) * 1000)
}

// InfoSeries is a drive's info series, whichever way it is read.
func InfoSeries(model, serial, transport string) thermal.Series {
	return thermal.Series{Name: "node_thermal_drive_info", Help: "A SATA or SAS drive: model, serial and transport (sata, sas); always 1.",
		Labels: []thermal.Label{{Name: "model", Value: model}, {Name: "serial", Value: serial}, {Name: "transport", Value: transport}}, Value: 1}
}

// why says, for probe and the logs, why a drive is left to drivetemp.
func why(err error) string {
	switch {
	case errors.Is(err, os.ErrPermission):
		return "SG_IO needs read access to the drive's node and, for ATA PASS-THROUGH, CAP_SYS_RAWIO (" + err.Error() + ")"
	case errors.Is(err, os.ErrNotExist):
		return "no device node (" + err.Error() + ")"
	}
	return err.Error()
}

// tree returns the device tree of the beat, shared with the other sources.
func (fs FS) tree() *sysdev.Tree { return sysdev.Shared(fs.req, fs.sys) }
