package disk

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

// Byte fixtures: each builds a response as the specifications lay it out
// (ACS-4, SAT-4, SPC-5), with the quirks real drives have.

// identifyData is IDENTIFY DEVICE data: strings as byte-swapped words,
// the SMART and SCT feature words.
func identifyData(model, serial, fw string, smart, smartOn, sct, tables bool) []byte {
	b := make([]byte, 512)
	put := func(word int, s string, n int) {
		s = (s + strings.Repeat(" ", 2*n))[:2*n]
		for i := 0; i < n; i++ {
			b[2*(word+i)], b[2*(word+i)+1] = s[2*i+1], s[2*i]
		}
	}
	put(10, serial, 10)
	put(23, fw, 4)
	put(27, model, 20)
	// Word 82 as drives have it (NOP and write cache supported, bit 14
	// clear: its validity is word 83's).
	w82, w85 := uint16(0x3468), uint16(0)
	if smart {
		w82 |= 1
	}
	if smartOn {
		w85 |= 1
	}
	binary.LittleEndian.PutUint16(b[2*82:], w82)
	binary.LittleEndian.PutUint16(b[2*83:], 0x7400)
	binary.LittleEndian.PutUint16(b[2*85:], w85)
	binary.LittleEndian.PutUint16(b[2*87:], 0x4000)
	var w206 uint16
	if sct {
		w206 |= 1
	}
	if tables {
		w206 |= 1 << 5
	}
	binary.LittleEndian.PutUint16(b[2*206:], w206)
	return b
}

// sctStatus is an SCT Status response, format version 3, with the
// current temperature and this power cycle's and the lifetime's extremes.
func sctStatus(temp int8) []byte {
	b := make([]byte, 512)
	binary.LittleEndian.PutUint16(b[0:], 3)
	binary.LittleEndian.PutUint16(b[4:], 1)
	b[200], b[201], b[202], b[203], b[204] = byte(temp), 20, 45, 0xfb, 52 // lifetime minimum −5 °C
	return b
}

// sctTable is SCT Data Table 2, the temperature history: sampling
// period, interval, the limits, and a history buffer.
func sctTable(max, limit int8) []byte {
	b := make([]byte, 512)
	binary.LittleEndian.PutUint16(b[0:], 2)
	binary.LittleEndian.PutUint16(b[2:], 1)
	binary.LittleEndian.PutUint16(b[4:], 1)
	b[6], b[7], b[8], b[9] = byte(max), byte(limit), 0, 0xfb
	binary.LittleEndian.PutUint16(b[30:], 478)
	for i := 34; i < 512; i++ {
		b[i] = 0x80
	}
	return b
}

// smartAttrs is SMART READ DATA with the given attributes: each entry is
// id, flags, normalised value, worst, then six raw bytes.
func smartAttrs(attrs ...[11]byte) []byte {
	b := make([]byte, 512)
	binary.LittleEndian.PutUint16(b[0:], 0x0010)
	for i, a := range attrs {
		e := 2 + 12*i
		b[e], b[e+1], b[e+2], b[e+3], b[e+4] = a[0], a[1], a[2], a[3], a[4]
		copy(b[e+5:e+11], a[5:])
	}
	return b
}

var (
	powerOnHours = [11]byte{9, 0x32, 0, 98, 98, 0x10, 0x27}
	// 194 as Seagate and Samsung pack it: 36 °C, minimum 18, maximum 51
	// in raw bytes 2 and 4 (smartctl: "36 (Min/Max 18/51)").
	temp194Packed = [11]byte{194, 0x22, 0, 36, 51, 36, 0, 18, 0, 51, 0}
	// 190 as QEMU reports it: 31 °C, the raw value 1f 00 1f 1f 00 00.
	airflow190 = [11]byte{190, 0x03, 0, 0x45, 0x45, 0x1f, 0, 0x1f, 0x1f, 0, 0}
	// 194 with a negative temperature, a drive in a cold room (−3 °C).
	temp194Cold = [11]byte{194, 0x22, 0, 100, 100, 0xfd, 0xff, 0, 0, 0, 0}
)

// logPage is the Temperature log page: parameter 0 (temperature) and,
// when ref is not 0, parameter 1 (reference temperature).
func logPage(temp, ref byte) []byte {
	b := []byte{0x0D, 0, 0, 0, 0, 0, 3, 2, 0, temp}
	if ref != 0 {
		b = append(b, 0, 1, 3, 2, 0, ref)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)-4))
	return b
}

// fakeDrive answers SCSI commands as a drive with these responses would;
// a nil response is a command the drive aborts (ATA) or refuses (SCSI).
type fakeDrive struct {
	power                       byte
	identify, sct, table, smart []byte
	logSense                    []byte
	denyATA                     bool // the caller lacks CAP_SYS_RAWIO
	fixedSense                  bool // a SATL that answers in fixed format
	failSCT                     bool // SCT Status times out
	sent                        []string
	tableRequested              bool
}

func (f *fakeDrive) Close() error { return nil }

func (f *fakeDrive) Do(cmd *Command) error {
	c := cmd.CDB
	reply := func(data []byte) error {
		if data == nil {
			cmd.Sense = f.abort()
			return nil
		}
		copy(cmd.Data, data)
		return nil
	}
	switch {
	case c[0] == 0x85:
		if f.denyATA {
			return &Error{Op: "SG_IO", Path: "/dev/sdz", Errno: syscall.EPERM}
		}
		switch c[14] {
		case ataCheckPowerMode:
			f.sent = append(f.sent, "CHECK POWER MODE")
			cmd.Sense = f.registers(f.power)
			return nil
		case ataIdentify:
			f.sent = append(f.sent, "IDENTIFY")
			return reply(f.identify)
		case ataSMART:
			if c[10] != 0x4F || c[12] != 0xC2 {
				return fmt.Errorf("SMART without its signature: % x", c)
			}
			switch {
			case c[4] == smartReadData:
				f.sent = append(f.sent, "SMART READ DATA")
				return reply(f.smart)
			case c[4] == smartReadLog && c[8] == logSCTStatus:
				f.sent = append(f.sent, "SCT Status")
				if f.failSCT {
					return &Error{Op: "SG_IO", Path: "/dev/sdz", Driver: 0x06}
				}
				return reply(f.sct)
			case c[4] == smartWriteLog && c[8] == logSCTStatus:
				f.sent = append(f.sent, "SCT command")
				if cmd.Dir != ToDisk || binary.LittleEndian.Uint16(cmd.Data) != 5 || binary.LittleEndian.Uint16(cmd.Data[4:]) != 2 {
					return fmt.Errorf("SCT command % x", cmd.Data[:6])
				}
				f.tableRequested = f.table != nil
				return reply(f.table)
			case c[4] == smartReadLog && c[8] == logSCTData:
				f.sent = append(f.sent, "SCT Data Table")
				if !f.tableRequested {
					return reply(nil)
				}
				return reply(f.table)
			}
		}
		return fmt.Errorf("unexpected ATA command % x", c)
	case c[0] == 0x4D:
		f.sent = append(f.sent, "LOG SENSE")
		if f.logSense == nil || c[2]&0x3F != pageTemperature {
			cmd.Sense = []byte{0x72, keyIllegalRequest, 0x24, 0x00, 0, 0, 0, 0} // INVALID FIELD IN CDB
			return nil
		}
		copy(cmd.Data, f.logSense)
		return nil
	}
	return fmt.Errorf("unexpected command % x", c)
}

// registers is the sense data of a CK_COND command: RECOVERED ERROR,
// ATA PASS-THROUGH INFORMATION AVAILABLE, and the registers.
func (f *fakeDrive) registers(count byte) []byte {
	if f.fixedSense {
		b := make([]byte, 18)
		b[0], b[2], b[3], b[4], b[6], b[7], b[12], b[13] = 0x70, keyRecoveredError, 0, 0x50, count, 10, 0, 0x1D
		return b
	}
	return []byte{0x72, keyRecoveredError, 0x00, 0x1D, 0, 0, 0, 14,
		0x09, 12, 0, 0, 0, count, 0, 0, 0, 0, 0, 0, 0x40, 0x50}
}

// abort is an ATA command the drive aborted: ABORTED COMMAND with the
// error register's ABRT bit.
func (f *fakeDrive) abort() []byte {
	return []byte{0x72, keyAbortedCommand, 0x00, 0x00, 0, 0, 0, 14,
		0x09, 12, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x51}
}

// driveTree is a sysfs tree with one disk at 2:0:1:0 (sdb); ata makes it
// an ATA drive (vendor "ATA"), hwmon gives it a drivetemp chip.
func driveTree(t *testing.T, ata, hwmon bool, extra string) string {
	dev := "/devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:1/2:0:1:0"
	vendor, model, wwid := "SEAGATE", "ST4000NM0023", "naa.5000c500a1b2c3d4"
	if ata {
		vendor, model = "ATA", "ST8000VN004-2M21"
		wwid = "t10.ATA     ST8000VN004-2M2101                          WSD0ABCD"
	}
	tree := fmt.Sprintf(`cd /bus/scsi
cd %[1]s
l subsystem -> /bus/scsi
f power/runtime_status active
f power/control auto
f vendor %[2]s
f model %[3]s
f rev SC60
f wwid %[4]s
%[5]s
cd %[1]s/scsi_disk/2:0:1:0
l device -> %[1]s
cd %[1]s/block/sdb
f dev 8:16
cd /class/scsi_disk
l 2:0:1:0 -> %[1]s/scsi_disk/2:0:1:0
`, dev, vendor, model, wwid, extra)
	if hwmon {
		tree += "hwmon hwmon4 " + dev + "\nf name drivetemp\nf temp1_input 41000\n"
	}
	return sysfstest.UnpackString(t, tree)
}

// readWith reads the tree's drive through f, as a beat with the cache
// holds it.
func readWith(t *testing.T, sys string, f *fakeDrive, cache sysfstest.MemCache) thermal.Chip {
	t.Helper()
	fs, err := NewFS(sys, "/dev", thermal.Range{Min: -40000, Max: 150000})
	if err != nil {
		t.Fatal(err)
	}
	fs.open = func(path string) (transportCloser, error) {
		if path != "/dev/sdb" {
			return nil, &Error{Op: "open", Path: path, Errno: syscall.ENOENT}
		}
		return f, nil
	}
	chips, err := fs.Read(context.Background(), &thermal.Request{Cache: cache})
	if err != nil || len(chips) != 1 {
		t.Fatalf("Read = %d chips, %v", len(chips), err)
	}
	return chips[0]
}

func TestDriveLayouts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ata   bool
		drive fakeDrive
		// want is "°C max crit" of temp1, or "" for no reading.
		want, method, why string
		first, steady     []string // commands sent in the first beat and in a later one
	}{
		{name: "SCT Status with its temperature history", ata: true,
			drive: fakeDrive{power: 0xFF, identify: identifyData("ST8000VN004-2M2101", "WSD0ABCD", "SC60", true, true, true, true),
				sct: sctStatus(38), table: sctTable(60, 70), smart: smartAttrs(powerOnHours, temp194Packed)},
			want: "38 60 70", method: MethodSCT,
			first:  []string{"CHECK POWER MODE", "IDENTIFY", "SCT Status", "SCT command", "SCT Data Table"},
			steady: []string{"CHECK POWER MODE", "SCT Status"}},
		{name: "SCT Status without data tables", ata: true,
			drive: fakeDrive{power: 0x80, identify: identifyData("WDC WD40EFRX-68N32N0", "WD-WCC7K0ABCDEF", "82.00A82", true, true, true, false),
				sct: sctStatus(33)},
			want: "33 - -", method: MethodSCT,
			first:  []string{"CHECK POWER MODE", "IDENTIFY", "SCT Status"},
			steady: []string{"CHECK POWER MODE", "SCT Status"}},
		{name: "194 with packed minimum and maximum", ata: true,
			drive: fakeDrive{power: 0xFF, identify: identifyData("Samsung SSD 870 EVO 1TB", "S625NX0R123456", "SVT01B6Q", true, true, false, false),
				smart: smartAttrs(powerOnHours, airflow190, temp194Packed)},
			want: "36 - -", method: MethodSMART194,
			first:  []string{"CHECK POWER MODE", "IDENTIFY", "SMART READ DATA"},
			steady: []string{"CHECK POWER MODE", "SMART READ DATA"}},
		{name: "SCT aborted, falls back to 194 (fixed-format sense)", ata: true,
			drive: fakeDrive{power: 0xFF, fixedSense: true, identify: identifyData("TOSHIBA MG08ACA16TE", "X0Q0A0B0FVGG", "0102", true, true, true, true),
				smart: smartAttrs(temp194Cold)},
			want: "-3 - -", method: MethodSMART194,
			first:  []string{"CHECK POWER MODE", "IDENTIFY", "SCT Status", "SMART READ DATA"},
			steady: []string{"CHECK POWER MODE", "SMART READ DATA"}},
		{name: "190 only (QEMU's disk)", ata: true,
			drive: fakeDrive{power: 0xFF, identify: identifyData("QEMU HARDDISK", "QM00001", "2.5+", true, true, false, false),
				smart: smartAttrs(powerOnHours, airflow190)},
			want: "31 - -", method: MethodSMART190,
			first:  []string{"CHECK POWER MODE", "IDENTIFY", "SMART READ DATA"},
			steady: []string{"CHECK POWER MODE", "SMART READ DATA"}},
		{name: "no SMART", ata: true,
			drive: fakeDrive{power: 0xFF, identify: identifyData("OLD DISK", "123", "1.0", false, false, false, false)},
			want:  "", why: "no SCT Status and no SMART",
			first:  []string{"CHECK POWER MODE", "IDENTIFY"},
			steady: nil},
		{name: "SMART disabled", ata: true,
			drive: fakeDrive{power: 0xFF, identify: identifyData("OLD DISK", "123", "1.0", true, false, false, false)},
			want:  "", why: "no SCT Status, and SMART is disabled (smartctl -s on enables it)",
			first:  []string{"CHECK POWER MODE", "IDENTIFY"},
			steady: nil},
		{name: "no temperature attribute", ata: true,
			drive: fakeDrive{power: 0xFF, identify: identifyData("CF CARD", "123", "1.0", true, true, false, false),
				smart: smartAttrs(powerOnHours)},
			want: "", why: "no SCT Status and no temperature attribute (194, 190)",
			first:  []string{"CHECK POWER MODE", "IDENTIFY", "SMART READ DATA"},
			steady: nil},
		{name: "LOG SENSE with a reference temperature",
			drive: fakeDrive{logSense: logPage(38, 65)},
			want:  "38 65 -", method: MethodLogSense,
			first: []string{"LOG SENSE"}, steady: []string{"LOG SENSE"}},
		{name: "LOG SENSE without a reference temperature",
			drive: fakeDrive{logSense: logPage(44, 0)},
			want:  "44 - -", method: MethodLogSense,
			first: []string{"LOG SENSE"}, steady: []string{"LOG SENSE"}},
		{name: "no Temperature log page",
			drive: fakeDrive{},
			want:  "", why: "no Temperature log page (the drive refused LOG SENSE (sense key 0x5, ASC/ASCQ 0x24/0x00))",
			first: []string{"LOG SENSE"}, steady: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys := driveTree(t, tc.ata, false, "")
			cache := sysfstest.MemCache{}
			for beat, want := range [][]string{tc.first, tc.steady, tc.steady} {
				f := tc.drive
				f.sent = nil
				chip := readWith(t, sys, &f, cache)
				if fmt.Sprint(f.sent) != fmt.Sprint(want) {
					t.Errorf("beat %d sent %q, want %q", beat+1, f.sent, want)
				}
				if chip.Err != nil || chip.Errors != 0 || chip.Asleep || chip.Yield != "" {
					t.Fatalf("beat %d: err %v, errors %d, asleep %v, yield %q", beat+1, chip.Err, chip.Errors, chip.Asleep, chip.Yield)
				}
				got := ""
				if len(chip.Sensors) > 0 {
					s := chip.Sensors[0]
					if s.Name != "temp1" || s.Err != nil {
						t.Fatalf("sensor %+v", s)
					}
					got = fmt.Sprintf("%g %s %s", s.Celsius(), limit(s.Max), limit(s.Crit))
				}
				if got != tc.want {
					t.Errorf("beat %d: temp1 = %q, want %q", beat+1, got, tc.want)
				}
				if m := chip.Attrs.Get("read_via"); tc.method != "" && m != tc.method {
					t.Errorf("read_via %v, want %s", m, tc.method)
				}
				if w, _ := chip.Attrs.Get("why").(string); w != tc.why {
					t.Errorf("why %q, want %q", w, tc.why)
				}
				if chip.Name != "drivetemp-scsi-2-10" || chip.Source != SourceName {
					t.Errorf("chip %s/%s", chip.Source, chip.Name)
				}
				info := chip.Series[0]
				if info.Name != "node_thermal_drive_info" || info.Labels[2].Value != map[bool]string{true: "sata", false: "sas"}[tc.ata] {
					t.Errorf("info series %+v", info)
				}
			}
		})
	}
}

func limit(v *int64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(thermal.Celsius(*v))
}

// A drive in standby receives CHECK POWER MODE and nothing else, not even
// IDENTIFY when it was never identified; it reports suspended, no reading
// and no error.
func TestStandbyDriveGetsOnlyCheckPowerMode(t *testing.T) {
	sys := driveTree(t, true, false, "")
	cache := sysfstest.MemCache{}
	awake := fakeDrive{power: 0xFF, identify: identifyData("ST8000VN004-2M2101", "WSD0ABCD", "SC60", true, true, true, true),
		sct: sctStatus(38), table: sctTable(60, 70)}
	for _, mode := range []byte{0x00, 0x01, 0x40} {
		f := awake
		f.power = mode
		chip := readWith(t, sys, &f, cache)
		if fmt.Sprint(f.sent) != "[CHECK POWER MODE]" {
			t.Errorf("standby %#x: sent %q", mode, f.sent)
		}
		if !chip.Asleep || len(chip.Sensors) != 0 || chip.Errors != 0 || chip.Attrs.Get("power_mode") != "standby" {
			t.Errorf("standby %#x: %+v", mode, chip)
		}
		// The model and serial come from sysfs until it wakes.
		if l := chip.Series[0].Labels; l[0].Value != "ST8000VN004-2M2101" || l[1].Value != "WSD0ABCD" {
			t.Errorf("info before identification: %+v", l)
		}
	}
	f := awake
	if chip := readWith(t, sys, &f, cache); chip.Asleep || len(chip.Sensors) != 1 || len(f.sent) != 5 {
		t.Errorf("awake again: sent %q, %+v", f.sent, chip)
	}
	f = awake
	f.power = 0x00
	if chip := readWith(t, sys, &f, cache); !chip.Asleep || len(f.sent) != 1 {
		t.Errorf("standby after identification: sent %q", f.sent)
	}
}

// A runtime-suspended drive is not opened at all.
func TestSuspendedDriveIsNotTouched(t *testing.T) {
	sys := driveTree(t, true, false, "")
	os.WriteFile(filepath.Join(sys, "devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:1/2:0:1:0/power/runtime_status"), []byte("suspended\n"), 0o644)
	fs, _ := NewFS(sys, "/dev", thermal.Range{Min: -40000, Max: 150000})
	fs.open = func(string) (transportCloser, error) { t.Fatal("opened a suspended drive"); return nil, nil }
	chips, _ := fs.Read(context.Background(), nil)
	if len(chips) != 1 || !chips[0].Asleep || len(chips[0].Sensors) != 0 {
		t.Errorf("%+v", chips)
	}
}

// Without CAP_SYS_RAWIO a drive is left to its drivetemp chip (Yield);
// without one either, it is an error that says why.
func TestPermissionFallsBackToDrivetemp(t *testing.T) {
	f := fakeDrive{denyATA: true}
	chip := readWith(t, driveTree(t, true, true, ""), &f, sysfstest.MemCache{})
	if chip.Yield == "" || !strings.Contains(chip.Yield, "CAP_SYS_RAWIO") || chip.Attrs.Get("read_via") != MethodHwmon || chip.Errors != 0 {
		t.Errorf("with drivetemp: %+v", chip)
	}
	f = fakeDrive{denyATA: true}
	chip = readWith(t, driveTree(t, true, false, ""), &f, sysfstest.MemCache{})
	if chip.Yield != "" || chip.Err == nil || chip.Errors != 1 || !strings.Contains(chip.Attrs.Get("why").(string), "no drivetemp chip") {
		t.Errorf("without drivetemp: %+v", chip)
	}
}

// A drive that fails a read costs one error and keeps its identity.
func TestFailedReadIsCounted(t *testing.T) {
	sys := driveTree(t, true, false, "")
	cache := sysfstest.MemCache{}
	good := fakeDrive{power: 0xFF, identify: identifyData("X", "Y", "Z", true, true, false, false), smart: smartAttrs(temp194Packed)}
	f := good
	readWith(t, sys, &f, cache)
	f = good
	f.smart = nil
	chip := readWith(t, sys, &f, cache)
	if chip.Errors != 1 || chip.Err == nil || !strings.Contains(chip.Err.Error(), "aborted SMART READ DATA") {
		t.Errorf("failed read: %+v", chip)
	}
	f = good
	if chip := readWith(t, sys, &f, cache); len(chip.Sensors) != 1 || len(f.sent) != 2 {
		t.Errorf("after the failure: sent %q", f.sent)
	}
}

// A corrupt identity cache is learnt again; a swapped drive (another
// wwid) is identified again.
func TestIdentityCache(t *testing.T) {
	sys := driveTree(t, true, false, "")
	cache := sysfstest.MemCache{identityKey: []byte("{not json")}
	f := fakeDrive{power: 0xFF, identify: identifyData("X", "Y", "Z", true, true, false, false), smart: smartAttrs(temp194Packed)}
	readWith(t, sys, &f, cache)
	if len(f.sent) != 3 {
		t.Errorf("corrupt cache: sent %q", f.sent)
	}
	wwid := filepath.Join(sys, "devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:1/2:0:1:0/wwid")
	os.WriteFile(wwid, []byte("t10.ATA     OTHER DRIVE                              SERIAL2\n"), 0o644)
	replug(t, sys)
	f.sent = nil
	readWith(t, sys, &f, cache)
	if len(f.sent) != 3 {
		t.Errorf("swapped drive: sent %q", f.sent)
	}
}

// replug makes the drive's class link again, as the kernel does for a
// drive swapped into the bay: a new link to the same place (renamed over
// the old one, so that it cannot reuse its inode).
func replug(t *testing.T, sys string) {
	t.Helper()
	link := filepath.Join(sys, "class/scsi_disk/2:0:1:0")
	target, err := os.Readlink(link)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link+".new"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(link+".new", link); err != nil {
		t.Fatal(err)
	}
}

// A steady beat takes a drive's description from the cache while its class
// link stands: an attribute changed in place is not read again (nothing
// but a new device changes them), a new link is described afresh, and so is
// every drive after a corrupt cache entry.
func TestDescriptionsCached(t *testing.T) {
	sys := driveTree(t, false, false, "")
	cache := sysfstest.MemCache{}
	drive := fakeDrive{power: 0xFF}
	f := drive
	readWith(t, sys, &f, cache)
	if _, err := decodeDrives(cache[drivesKey]); err != nil {
		t.Fatalf("descriptions stored: %q: %v", cache[drivesKey], err)
	}
	stored := string(cache[drivesKey])
	model := filepath.Join(sys, "devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:1/2:0:1:0/model")
	os.WriteFile(model, []byte("ST8000NM0055\n"), 0o644)
	f = drive
	if chip := readWith(t, sys, &f, cache); chip.Attrs.Get("model") != "SEAGATE ST4000NM0023" || string(cache[drivesKey]) != stored {
		t.Errorf("steady beat: model %v, descriptions %q", chip.Attrs.Get("model"), cache[drivesKey])
	}
	replug(t, sys)
	f = drive
	if chip := readWith(t, sys, &f, cache); chip.Attrs.Get("model") != "SEAGATE ST8000NM0055" || string(cache[drivesKey]) == stored {
		t.Errorf("a new link: model %v, descriptions %q", chip.Attrs.Get("model"), cache[drivesKey])
	}
	os.WriteFile(model, []byte("ST4000NM0023\n"), 0o644)
	cache[drivesKey] = []byte(drivesMagic + "garbage\n")
	f = drive
	if chip := readWith(t, sys, &f, cache); chip.Attrs.Get("model") != "SEAGATE ST4000NM0023" {
		t.Errorf("after a corrupt entry: model %v", chip.Attrs.Get("model"))
	}
	if _, err := decodeDrives(cache[drivesKey]); err != nil {
		t.Errorf("a corrupt entry is not replaced: %q", cache[drivesKey])
	}
}

// Descriptions survive their encoding whole, whatever their strings hold;
// what decodeDrives accepts, encodeDrives gives back.
func FuzzDrivesCodec(f *testing.F) {
	f.Add(uint64(7), "2:0:1:0", "sdb", "SEAGATE", "ST4000 \"x\"\n", "naa.5", true, false, []byte(drivesMagic+"1 \"a\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" \"\" 0 1\n"))
	f.Fuzz(func(t *testing.T, ino uint64, addr, block, vendor, model, wwid string, ata, sat bool, data []byte) {
		in := []Drive{{ino: ino, Address: addr, Block: block, Chip: "drivetemp-scsi-0-0", Bus: "scsi", Device: "/sys/devices/x", Vendor: vendor, Model: model, Rev: "\x00", WWID: wwid, ATA: ata, SAT: sat}}
		got, err := decodeDrives(encodeDrives(in))
		if addr == "" {
			if err == nil {
				t.Errorf("a drive without an address decoded: %+v", got)
			}
		} else if err != nil || len(got) != 1 || got[addr] != in[0] {
			t.Errorf("round trip of %+v: %+v, %v", in[0], got, err)
		}
		if m, err := decodeDrives(data); err == nil {
			drives := make([]Drive, 0, len(m))
			for _, d := range m {
				drives = append(drives, d)
			}
			again, err := decodeDrives(encodeDrives(drives))
			if err != nil || len(again) != len(m) {
				t.Errorf("%q decodes to %+v, which does not round trip: %+v, %v", data, m, again, err)
			}
			for k, d := range m {
				if again[k] != d {
					t.Errorf("%q: %+v became %+v", data, d, again[k])
				}
			}
		}
	})
}

func TestParseSense(t *testing.T) {
	f := fakeDrive{}
	for _, b := range [][]byte{f.registers(0x80), (&fakeDrive{fixedSense: true}).registers(0x80)} {
		s, ok := ParseSense(b)
		if !ok || s.Key != keyRecoveredError || s.ATA == nil || s.ATA.Count != 0x80 || s.ATA.Status != 0x50 {
			t.Errorf("% x: %+v %+v", b, s, s.ATA)
		}
	}
	if _, ok := ParseSense([]byte{0x72, 1}); ok {
		t.Error("a truncated descriptor sense parsed")
	}
	// A descriptor whose length runs past the data is ignored, not read.
	if s, ok := ParseSense([]byte{0x72, 1, 0, 0x1d, 0, 0, 0, 40, 0x09, 12, 0}); !ok || s.ATA != nil {
		t.Errorf("overlong descriptor: %+v", s)
	}
}

func TestParsers(t *testing.T) {
	id, err := ParseIdentity(identifyData("Samsung SSD 870 EVO 1TB", "S625NX0R123456", "SVT01B6Q", true, true, true, false))
	if err != nil || id.Model != "Samsung SSD 870 EVO 1TB" || id.Serial != "S625NX0R123456" || id.Firmware != "SVT01B6Q" || !id.SMART || !id.SCT || id.SCTDataTables {
		t.Errorf("identity %+v %v", id, err)
	}
	if _, err := ParseSCTStatus(sctStatus(-128)); !errors.Is(err, ErrNoTemperature) {
		t.Errorf("SCT 80h: %v", err)
	}
	bad := sctStatus(30)
	bad[0] = 9
	if _, err := ParseSCTStatus(bad); err == nil {
		t.Error("unknown SCT format accepted")
	}
	if _, err := ParseSCTTempTable(sctTable(-128, 70)); err == nil {
		t.Error("a table without limits gave limits")
	}
	if _, err := ParseTemperaturePage(logPage(0xFF, 65)); !errors.Is(err, ErrNoTemperature) {
		t.Errorf("FFh temperature: %v", err)
	}
	if _, err := ParseTemperaturePage([]byte{0x0E, 0, 0, 0}); err == nil {
		t.Error("another page accepted")
	}
	for _, f := range []func([]byte) error{
		func(b []byte) error { _, err := ParseIdentity(b); return err },
		func(b []byte) error { _, err := ParseSCTStatus(b); return err },
		func(b []byte) error { _, err := ParseSCTTempTable(b); return err },
		func(b []byte) error { _, _, err := SMARTTemperature(b, 194); return err },
		func(b []byte) error { _, err := ParseTemperaturePage(b); return err },
	} {
		if err := f(make([]byte, 3)); !errors.Is(err, ErrShort) {
			t.Errorf("short buffer: %v", err)
		}
	}
}

func FuzzParsers(f *testing.F) {
	f.Add(logPage(38, 65))
	f.Add((&fakeDrive{}).registers(0xFF))
	f.Add(sctStatus(40))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseSense(b)
		ParseTemperaturePage(b)
		ParseSCTStatus(b)
		ParseSCTTempTable(b)
		ParseIdentity(b)
		SMARTTemperature(b, 194)
	})
}

// A drive whose command never completes costs itself only: the other
// drive is read, and Read returns at the deadline.
func TestHungDriveCostsOnlyItself(t *testing.T) {
	var tree strings.Builder
	tree.WriteString("cd /bus/scsi\n")
	for _, d := range []struct{ addr, block string }{{"0:0:0:0", "sda"}, {"1:0:0:0", "sdb"}} {
		dev := "/devices/pci0000:00/0000:00:1f.2/host" + d.addr[:1] + "/target" + d.addr[:5] + "/" + d.addr
		fmt.Fprintf(&tree, "cd %[1]s\nl subsystem -> /bus/scsi\nf vendor ATA\nf model X\ncd %[1]s/scsi_disk/%[2]s\nl device -> %[1]s\ncd %[1]s/block/%[3]s\nf dev 8:0\ncd /class/scsi_disk\nl %[2]s -> %[1]s/scsi_disk/%[2]s\n", dev, d.addr, d.block)
	}
	sys := sysfstest.UnpackString(t, tree.String())
	fs, _ := NewFS(sys, "/dev", thermal.Range{Min: -40000, Max: 150000})
	release := make(chan struct{})
	defer close(release)
	fs.open = func(path string) (transportCloser, error) {
		if path == "/dev/sda" {
			return hung(release), nil
		}
		return &fakeDrive{power: 0xFF, identify: identifyData("X", "Y", "Z", true, true, false, false), smart: smartAttrs(temp194Packed)}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	chips, _ := fs.Read(ctx, nil)
	if len(chips) != 2 || chips[0].Errors != 1 || !errors.Is(chips[0].Err, thermal.ErrTimeout) || len(chips[1].Sensors) != 1 {
		t.Fatalf("%+v", chips)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Read took %v with one drive hung", d)
	}
}

// hung is a drive whose commands block until release is closed.
type hung chan struct{}

func (h hung) Do(*Command) error { <-h; return errors.New("released") }
func (h hung) Close() error      { return nil }

// A USB bridge that speaks SAT under its own vendor name: the drive behind
// it answers ATA PASS-THROUGH, CHECK POWER MODE first (LOG SENSE, which a
// bridge may translate into reads of the drive, is not sent); once learnt,
// a beat goes straight to ATA.
func TestBridgeFallsBackToATA(t *testing.T) {
	sys := driveTree(t, false, false, "f vpd_pg89 x")
	cache := sysfstest.MemCache{}
	drive := fakeDrive{power: 0xFF, identify: identifyData("WDC WD20EARS-00MVWB0", "WD-WMAZA1234567", "51.0AB51", true, true, false, false),
		smart: smartAttrs(temp194Packed)}
	f := drive
	chip := readWith(t, sys, &f, cache)
	if fmt.Sprint(f.sent) != "[CHECK POWER MODE IDENTIFY SMART READ DATA]" || len(chip.Sensors) != 1 || chip.Series[0].Labels[2].Value != "sata" {
		t.Errorf("first beat sent %q: %+v", f.sent, chip)
	}
	f = drive
	readWith(t, sys, &f, cache)
	if fmt.Sprint(f.sent) != "[CHECK POWER MODE SMART READ DATA]" {
		t.Errorf("steady beat sent %q", f.sent)
	}
	// Asleep when first seen: nothing is learnt, and it is tried again.
	cache = sysfstest.MemCache{}
	f = drive
	f.power = 0
	if chip := readWith(t, sys, &f, cache); !chip.Asleep || cache[identityKey] != nil || fmt.Sprint(f.sent) != "[CHECK POWER MODE]" {
		t.Errorf("standby behind a bridge: sent %q, %+v, cache %q", f.sent, chip, cache)
	}
	// Without CAP_SYS_RAWIO: LOG SENSE (refused here), and nothing is
	// learnt, so that the drive is identified once ATA is allowed.
	f = drive
	f.denyATA = true
	readWith(t, sys, &f, cache)
	if cache[identityKey] != nil {
		t.Errorf("learnt without CAP_SYS_RAWIO: %q", cache)
	}
	f = drive
	if chip := readWith(t, sys, &f, cache); len(chip.Sensors) != 1 {
		t.Errorf("with CAP_SYS_RAWIO again: sent %q, %+v", f.sent, chip)
	}
}

// A timeout during learning is not cached as the drive's answer.
func TestTransientFailureIsNotLearnt(t *testing.T) {
	sys := driveTree(t, true, false, "")
	cache := sysfstest.MemCache{}
	f := fakeDrive{power: 0xFF, identify: identifyData("X", "Y", "Z", true, true, true, false), sct: sctStatus(40), failSCT: true}
	if chip := readWith(t, sys, &f, cache); chip.Errors != 1 || cache[identityKey] != nil {
		t.Errorf("SCT Status timed out: errors %d, cache %q", chip.Errors, cache)
	}
	f.failSCT, f.sent = false, nil
	if chip := readWith(t, sys, &f, cache); len(chip.Sensors) != 1 || chip.Attrs.Get("read_via") != MethodSCT {
		t.Errorf("after the timeout: %+v", chip.Attrs)
	}
}

// Real bytes from the kernel in the QEMU suite (Linux 6.1): scsi_debug's
// Temperature log page, and libata's answer to CHECK POWER MODE with
// CK_COND (descriptor sense, RECOVERED ERROR, 00h/1Dh, COUNT FFh).
var (
	scsiDebugLogPage = []byte{0x0d, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x03, 0x02, 0x00, 0x26, 0x00, 0x01, 0x03, 0x02, 0x00, 0x41}
	libataCPMSense   = []byte{0x72, 0x01, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x0e, 0x09, 0x0c, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50}
)

func TestKernelBytes(t *testing.T) {
	if tp, err := ParseTemperaturePage(scsiDebugLogPage); err != nil || tp.Current != 38 || !tp.HasReference || tp.Reference != 65 {
		t.Errorf("scsi_debug page: %+v %v (sg_logs: 38 C, reference 65 C)", tp, err)
	}
	s, ok := ParseSense(libataCPMSense)
	if !ok || s.ATA == nil || PowerMode(s.ATA.Count).String() != "active or idle" || s.ATA.Status != 0x50 {
		t.Errorf("libata CPM sense: %+v", s)
	}
}

// BenchmarkReadDrives is a steady beat's user-space cost per drive (the
// commands themselves are the drive's time, not the CPU's): sysfs
// discovery, the identity cache, CHECK POWER MODE and one read.
func BenchmarkReadDrives(b *testing.B) {
	sys := driveTree(&testing.T{}, true, false, "")
	fs, _ := NewFS(sys, "/dev", thermal.Range{Min: -40000, Max: 150000})
	drive := fakeDrive{power: 0xFF, identify: identifyData("X", "Y", "Z", true, true, true, true), sct: sctStatus(38), table: sctTable(60, 70)}
	fs.open = func(string) (transportCloser, error) { f := drive; return &f, nil }
	cache := sysfstest.MemCache{}
	fs.Read(context.Background(), &thermal.Request{Cache: cache})
	b.ReportAllocs()
	for b.Loop() {
		fs.Read(context.Background(), &thermal.Request{Cache: cache})
	}
}

// BenchmarkNoDrives is what a host without drives pays: one failed open
// of the class directory.
func BenchmarkNoDrives(b *testing.B) {
	fs, _ := NewFS(b.TempDir(), "/dev", thermal.Range{Min: -40000, Max: 150000})
	b.ReportAllocs()
	for b.Loop() {
		fs.Read(context.Background(), nil)
	}
}

// addrLess orders as comparing the fields of strings.Split did.
func TestAddrLess(t *testing.T) {
	split := func(a, b string) bool {
		as, bs := strings.Split(a, ":"), strings.Split(b, ":")
		for i := 0; i < len(as) && i < len(bs); i++ {
			x, _ := strconv.Atoi(as[i])
			y, _ := strconv.Atoi(bs[i])
			if x != y {
				return x < y
			}
		}
		return a < b
	}
	addrs := []string{"0:0:0:0", "0:0:1:0", "1:0:0:0", "10:0:0:0", "2:0:0:0", "0:0:0", "0:0:0:0:1", "", ":", "x:1", "0:x", "99999999999999999999:0"}
	for _, a := range addrs {
		for _, b := range addrs {
			if got, want := addrLess(a, b), split(a, b); got != want {
				t.Errorf("addrLess(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}

// Identities survive their encoding whole; what decodeIdentities accepts,
// encodeIdentities gives back.
func FuzzIdentityCodec(f *testing.F) {
	f.Add("2:0:1:0/sdb/naa.5", "ST4000 \"x\"", "Z1Z", "SC60", MethodSCT, true, "SMART is\ndisabled", 60, -70, []byte(identityMagic+"\"k\" \"m\" \"s\" \"f\" \"sct\" 1 \"\" 60 70\n"))
	f.Fuzz(func(t *testing.T, key, model, serial, firmware, method string, ata bool, why string, max, crit int, data []byte) {
		max, crit = int(int32(max)), int(int32(crit))
		in := Identity{Model: model, Serial: serial, Firmware: firmware, Method: method, ATA: ata, Why: why, Max: max, Crit: crit}
		got, err := decodeIdentities(encodeIdentities(map[string]Identity{key: in}))
		if err != nil || len(got) != 1 || got[key] != in {
			t.Errorf("round trip of %q %+v: %+v, %v", key, in, got, err)
		}
		if m, err := decodeIdentities(data); err == nil {
			again, err := decodeIdentities(encodeIdentities(m))
			if err != nil || !maps.Equal(again, m) {
				t.Errorf("%q decodes to %+v, which does not round trip: %+v, %v", data, m, again, err)
			}
		}
	})
}

// A drive found while the kernel still probes it (its scsi_disk class
// device is made before its block device) is not cached half-known, nor
// the cache written for it: the next beat describes it again and reads it.
func TestDriveProbedLateIsDescribedAgain(t *testing.T) {
	sys := driveTree(t, false, false, "")
	block := filepath.Join(sys, "devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:1/2:0:1:0/block")
	if err := os.Rename(block, block+".later"); err != nil {
		t.Fatal(err)
	}
	cache := sysfstest.MemCache{}
	f := fakeDrive{power: 0xFF}
	for range 2 {
		if chip := readWith(t, sys, &f, cache); len(chip.Sensors) != 0 || len(f.sent) != 0 {
			t.Errorf("a drive without its block device yet: sent %q, %+v", f.sent, chip)
		}
	}
	if _, stored := cache[drivesKey]; stored {
		t.Error("a drive without its block device was cached: the cache is written on every beat until it has one")
	}
	if err := os.Rename(block+".later", block); err != nil {
		t.Fatal(err)
	}
	f = fakeDrive{power: 0xFF}
	if chip := readWith(t, sys, &f, cache); len(f.sent) == 0 || chip.Attrs.Get("device") != "sdb" {
		t.Errorf("once its block device is there: sent %q, device %v", f.sent, chip.Attrs.Get("device"))
	}
}
