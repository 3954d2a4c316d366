package nvme

import (
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

// smartPage builds a SMART log page as QEMU's emulated controller returns it.
func smartPage(warn uint8, compositeK uint16, sensors ...uint16) []byte {
	b := make([]byte, SMARTLogSize)
	b[0] = warn
	binary.LittleEndian.PutUint16(b[1:], compositeK)
	binary.LittleEndian.PutUint32(b[192:], 7)  // warning temp minutes
	binary.LittleEndian.PutUint32(b[196:], 2)  // critical temp minutes
	binary.LittleEndian.PutUint32(b[216:], 11) // TMT1 transitions
	binary.LittleEndian.PutUint32(b[228:], 90) // TMT2 seconds
	for i, k := range sensors {
		binary.LittleEndian.PutUint16(b[200+2*i:], k)
	}
	return b
}

func identifyPage(model, serial, fw string, wctemp, cctemp uint16) []byte {
	b := make([]byte, IdentifySize)
	copy(b[4:24], serial+"                    ")
	copy(b[24:64], model+"                                        ")
	copy(b[64:72], fw+"        ")
	binary.LittleEndian.PutUint16(b[266:], wctemp)
	binary.LittleEndian.PutUint16(b[268:], cctemp)
	return b
}

func TestParseSMARTLog(t *testing.T) {
	l, err := ParseSMARTLog(smartPage(0x02, 323, 310, 0, 330))
	if err != nil {
		t.Fatal(err)
	}
	if l.Composite != 323 || !l.TemperatureWarning() || l.Sensors[0] != 310 || l.Sensors[1] != 0 || l.Sensors[2] != 330 {
		t.Errorf("parsed %+v", l)
	}
	if l.WarningTempMinutes != 7 || l.CriticalTempMinutes != 2 || l.ThermalTransitions[0] != 11 || l.ThermalSeconds[1] != 90 {
		t.Errorf("counters %+v", l)
	}
	if KelvinToMilli(323) != 49850 {
		t.Errorf("323 K = %d m°C, want 49850 as the kernel reports", KelvinToMilli(323))
	}
	if _, err := ParseSMARTLog(make([]byte, 511)); !errors.Is(err, ErrShort) {
		t.Errorf("short page: %v", err)
	}
}

func TestParseIdentifyController(t *testing.T) {
	id, err := ParseIdentifyController(identifyPage("QEMU NVMe Ctrl", "deadbeef", "7.2.22", 343, 373))
	if err != nil {
		t.Fatal(err)
	}
	want := IdentifyController{Serial: "deadbeef", Model: "QEMU NVMe Ctrl", Firmware: "7.2.22", WCTEMP: 343, CCTEMP: 373}
	if id != want {
		t.Errorf("got %+v, want %+v", id, want)
	}
}

func FuzzParseSMARTLog(f *testing.F) {
	f.Add(smartPage(0, 323))
	f.Add(make([]byte, 10))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseSMARTLog(b)
		if err != nil {
			if len(b) >= SMARTLogSize {
				t.Fatalf("full page rejected: %v", err)
			}
			return
		}
		if l.Composite != binary.LittleEndian.Uint16(b[1:3]) {
			t.Fatal("composite not from bytes 1-2")
		}
	})
}

func FuzzParseIdentifyController(f *testing.F) {
	f.Add(identifyPage("m", "s", "f", 1, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseIdentifyController(b); err != nil && len(b) >= IdentifySize {
			t.Fatal(err)
		}
	})
}

func TestErrorIs(t *testing.T) {
	for _, tc := range []struct {
		err          *Error
		perm, noexst bool
	}{
		{&Error{Op: "ioctl", Errno: syscall.EACCES}, true, false},
		{&Error{Op: "ioctl", Errno: syscall.EPERM}, true, false},
		{&Error{Op: "open", Errno: syscall.ENOENT}, false, true},
		{&Error{Op: "open", Errno: syscall.ENODEV}, false, true},
		{&Error{Op: "ioctl", Status: 0x400B}, false, false},
	} {
		if errors.Is(tc.err, os.ErrPermission) != tc.perm || errors.Is(tc.err, os.ErrNotExist) != tc.noexst {
			t.Errorf("%v: Is(ErrPermission)=%v Is(ErrNotExist)=%v", tc.err, errors.Is(tc.err, os.ErrPermission), errors.Is(tc.err, os.ErrNotExist))
		}
	}
}

// fakeController answers admin commands like QEMU's emulated NVMe.
type fakeController struct {
	smart, identify []byte
	refuse          error
	commands        *int
}

func (f fakeController) AdminCommand(cmd *Command) error {
	*f.commands++
	if f.refuse != nil {
		return f.refuse
	}
	switch {
	case cmd.Opcode == OpGetLogPage && cmd.NSID == 0xFFFFFFFF && cmd.CDW10 == 0x007F0002:
		copy(cmd.Data, f.smart)
	case cmd.Opcode == OpIdentify && cmd.CDW10 == 1:
		copy(cmd.Data, f.identify)
	default:
		return &Error{Op: "ioctl", Status: 0x4002}
	}
	return nil
}

func (fakeController) Close() error { return nil }

func qemuFS(t *testing.T, refuse error, commands *int) (FS, []Controller) {
	t.Helper()
	fs, err := NewFS(sysfstest.UnpackFile(t, "../testdata/sysfs/qemu-6.1.tree"), "/dev", thermal.DefaultRange)
	if err != nil {
		t.Fatal(err)
	}
	fs.open = func(path string) (transportCloser, error) {
		if path != "/dev/nvme0" {
			t.Errorf("opened %s", path)
		}
		return fakeController{smart: smartPage(0, 323), identify: identifyPage("QEMU NVMe Ctrl", "deadbeef", "7.2.22", 343, 373),
			refuse: refuse, commands: commands}, nil
	}
	ctrls, err := fs.Controllers()
	if err != nil {
		t.Fatal(err)
	}
	return fs, ctrls
}

func TestControllersFromSysfs(t *testing.T) {
	var n int
	_, ctrls := qemuFS(t, nil, &n)
	if len(ctrls) != 1 {
		t.Fatalf("got %d controllers", len(ctrls))
	}
	c := ctrls[0]
	if c.Name != "nvme0" || c.Chip != "nvme-pci-0010" || c.Model != "QEMU NVMe Ctrl" || c.Serial != "deadbeef" || c.State != "live" || c.Transport != "pcie" {
		t.Errorf("controller = %+v", c)
	}
}

func TestReadSteadyStateIsOneAdminCommand(t *testing.T) {
	var n int
	fs, ctrls := qemuFS(t, nil, &n)
	first := fs.ReadControllers(context.Background(), ctrls, nil)
	if n != 2 {
		t.Errorf("first read issued %d admin commands, want 2 (identify + SMART)", n)
	}
	lim, ok := first.Learned[ctrls[0].Key()]
	if !ok || lim != (Limits{343, 373}) {
		t.Fatalf("learned %+v", first.Learned)
	}
	n = 0
	res := fs.ReadControllers(context.Background(), ctrls, first.Learned)
	if n != 1 {
		t.Errorf("steady-state read issued %d admin commands, want 1", n)
	}
	if len(res.Chips) != 1 || res.Chips[0].Yield != "" || len(res.Learned) != 0 {
		t.Fatalf("result %+v", res)
	}
	c := res.Chips[0]
	s := c.Sensors[0]
	if c.Name != "nvme-pci-0010" || c.Source != "nvme" || s.Name != "Composite" || s.Value != 49850 {
		t.Errorf("chip %+v", c)
	}
	if *s.Max != 69850 || *s.Crit != 99850 || c.Attrs.Get("wctemp") != 69.85 || c.Attrs.Get("read_via") != "ioctl" {
		t.Errorf("limits max=%v crit=%v attrs=%+v", *s.Max, *s.Crit, c.Attrs)
	}
	var warnTime float64 = -1
	for _, sr := range c.Series {
		if sr.Name == "node_thermal_nvme_warning_temperature_time_seconds_total" {
			warnTime = sr.Value
		}
	}
	if warnTime != 7*60 {
		t.Errorf("SMART warning temperature time = %v s, want 420; series %+v", warnTime, c.Series)
	}
}

func TestReadRefusedFallsBackToHwmon(t *testing.T) {
	var n int
	fs, ctrls := qemuFS(t, &Error{Op: "ioctl", Path: "/dev/nvme0", Errno: syscall.EACCES}, &n)
	res := fs.ReadControllers(context.Background(), ctrls, map[string]Limits{ctrls[0].Key(): {343, 373}})
	if len(res.Chips) != 1 || len(res.Chips[0].Sensors) != 0 {
		t.Fatalf("refused controller: chips %+v, want one yielded chip without sensors", res.Chips)
	}
	if why := res.Chips[0].Yield; why == "" || !strings.Contains(why, "CAP_SYS_ADMIN") {
		t.Errorf("fallback reason %q, want it to name CAP_SYS_ADMIN", why)
	}
}

func TestSleepingControllerIsNotWoken(t *testing.T) {
	var n int
	fs, ctrls := qemuFS(t, nil, &n)
	ctrls[0].Asleep = true
	res := fs.ReadControllers(context.Background(), ctrls, nil)
	if n != 0 || len(res.Chips) != 1 || !res.Chips[0].Asleep || res.Chips[0].Errors != 0 {
		t.Errorf("asleep controller: %d commands, result %+v", n, res)
	}
}

func TestIgnoredControllerIsNotSentACommand(t *testing.T) {
	var n int
	fs, ctrls := qemuFS(t, nil, &n)
	fs.req = &thermal.Request{Ignore: func(source, chip, sensor string) bool { return chip == "nvme-pci-0010" && sensor == "" }}
	res := fs.ReadControllers(context.Background(), ctrls, nil)
	if n != 0 || len(res.Chips) != 0 {
		t.Errorf("ignored controller: %d commands, result %+v", n, res)
	}
}

func TestNotLiveControllerIsNotRead(t *testing.T) {
	var n int
	fs, ctrls := qemuFS(t, nil, &n)
	ctrls[0].State = "resetting"
	res := fs.ReadControllers(context.Background(), ctrls, nil)
	if n != 0 || len(res.Chips) != 1 || res.Chips[0].Err == nil || res.Chips[0].Errors != 1 {
		t.Errorf("resetting controller: %d commands, result %+v", n, res)
	}
}

// A steady beat takes a controller's description from the cache while its
// class link stands, and reads its state on every beat: a model changed in
// place is not read again (nothing but a new class device changes it), a
// state is; a new link is described afresh, and so is every controller
// after a corrupt cache entry.
func TestDescriptionsCached(t *testing.T) {
	var n int
	fs, _ := qemuFS(t, nil, &n)
	cache := sysfstest.MemCache{}
	read := func() thermal.Chip { t.Helper(); return readOne(t, fs, cache) }
	read()
	if _, err := decodeControllers(cache[controllersKey]); err != nil {
		t.Fatalf("descriptions stored: %q: %v", cache[controllersKey], err)
	}
	stored := string(cache[controllersKey])
	dir := filepath.Join(fs.sys, "devices/pci0000:00/0000:00:02.0/nvme/nvme0")
	os.WriteFile(filepath.Join(dir, "model"), []byte("Other Model\n"), 0o644)
	if c := read(); c.Attrs.Get("model") != "QEMU NVMe Ctrl" || c.Err != nil || string(cache[controllersKey]) != stored {
		t.Errorf("steady beat: model %v, err %v, descriptions %q", c.Attrs.Get("model"), c.Err, cache[controllersKey])
	}
	os.WriteFile(filepath.Join(dir, "state"), []byte("resetting\n"), 0o644)
	if c := read(); c.Err == nil || !strings.Contains(c.Err.Error(), "resetting") {
		t.Errorf("a controller resetting since: %+v", c)
	}
	os.WriteFile(filepath.Join(dir, "state"), []byte("live\n"), 0o644)
	link := filepath.Join(fs.sys, "class/nvme/nvme0")
	target, _ := os.Readlink(link)
	if err := os.Symlink(target, link+".new"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(link+".new", link); err != nil {
		t.Fatal(err)
	}
	if c := read(); c.Attrs.Get("model") != "Other Model" || string(cache[controllersKey]) == stored {
		t.Errorf("a new link: model %v, descriptions %q", c.Attrs.Get("model"), cache[controllersKey])
	}
	os.WriteFile(filepath.Join(dir, "model"), []byte("QEMU NVMe Ctrl\n"), 0o644)
	cache[controllersKey] = []byte(controllersMagic + "garbage\n")
	if c := read(); c.Attrs.Get("model") != "QEMU NVMe Ctrl" {
		t.Errorf("after a corrupt entry: model %v", c.Attrs.Get("model"))
	}
	if _, err := decodeControllers(cache[controllersKey]); err != nil {
		t.Errorf("a corrupt entry is not replaced: %q", cache[controllersKey])
	}
}

// Descriptions survive their encoding whole, whatever their strings hold;
// what decodeControllers accepts, encodeControllers gives back.
func FuzzControllersCodec(f *testing.F) {
	f.Add(uint64(7), "nvme0", "QEMU \"x\"\n", "deadbeef", "traddr=0000:00:02.0", []byte(controllersMagic+"1 \"nvme1\" \"\" \"\" \"/p\" \"\" \"\" \"\" \"\" \"\"\n"))
	f.Fuzz(func(t *testing.T, ino uint64, name, model, serial, addr string, data []byte) {
		in := Controller{ino: ino, Name: name, Chip: "nvme-pci-0100", Bus: "pci", Path: "/sys/devices/x/nvme/" + name, Model: model, Serial: serial, Firmware: "\x00", Transport: "pcie", Address: addr}
		got, err := decodeControllers(encodeControllers([]Controller{in}))
		n, isNVMe := strings.CutPrefix(name, "nvme")
		if _, aerr := strconv.Atoi(n); !isNVMe || aerr != nil {
			if err == nil {
				t.Errorf("a controller named %q decoded: %+v", name, got)
			}
		} else if err != nil || len(got) != 1 || got[name] != in {
			t.Errorf("round trip of %+v: %+v, %v", in, got, err)
		}
		if m, err := decodeControllers(data); err == nil {
			ctrls := make([]Controller, 0, len(m))
			for _, c := range m {
				ctrls = append(ctrls, c)
			}
			again, err := decodeControllers(encodeControllers(ctrls))
			if err != nil || len(again) != len(m) {
				t.Errorf("%q decodes to %+v, which does not round trip: %+v, %v", data, m, again, err)
			}
			for k, c := range m {
				if again[k] != c {
					t.Errorf("%q: %+v became %+v", data, c, again[k])
				}
			}
		}
	})
}

// Limits survive their encoding whole; what decodeLimits accepts,
// encodeLimits gives back; the JSON of earlier versions is a miss.
func FuzzLimitsCodec(f *testing.F) {
	f.Add("QEMU NVMe Ctrl/deadbeef/7.2.22", uint16(343), uint16(373), []byte(limitsMagic+"\"a\\\"b\" 1 2\n"))
	f.Add("x", uint16(0), uint16(65535), []byte(`{"QEMU NVMe Ctrl/deadbeef/7.2.22":{"wctemp":343,"cctemp":373}}`))
	f.Fuzz(func(t *testing.T, key string, w, c uint16, data []byte) {
		in := Limits{WCTEMP: w, CCTEMP: c}
		got, err := decodeLimits(encodeLimits(map[string]Limits{key: in}))
		if err != nil || len(got) != 1 || got[key] != in {
			t.Errorf("round trip of %q %+v: %+v, %v", key, in, got, err)
		}
		if m, err := decodeLimits(data); err == nil {
			again, err := decodeLimits(encodeLimits(m))
			if err != nil || !maps.Equal(again, m) {
				t.Errorf("%q decodes to %+v, which does not round trip: %+v, %v", data, m, again, err)
			}
		} else if len(data) > 0 && data[0] == '{' && err == nil {
			t.Errorf("JSON accepted: %q", data)
		}
	})
}

// A firmware activation changes the revision in place (the class device
// stays): the next beat reports the new revision and identifies the drive
// again. A controller first seen before it is live (connecting, nothing
// identified yet) is not cached half-known, nor the cache written for it.
func TestDescriptionsFollowFirmwareAndProbing(t *testing.T) {
	var n int
	fs, _ := qemuFS(t, nil, &n)
	cache := sysfstest.MemCache{}
	read := func() thermal.Chip { t.Helper(); return readOne(t, fs, cache) }
	dir := filepath.Join(fs.sys, "devices/pci0000:00/0000:00:02.0/nvme/nvme0")
	os.WriteFile(filepath.Join(dir, "state"), []byte("connecting\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "model"), []byte("\n"), 0o644)
	read()
	read()
	if _, stored := cache[controllersKey]; stored {
		t.Error("a controller not yet live was cached: the cache is written on every beat until it is")
	}
	os.WriteFile(filepath.Join(dir, "state"), []byte("live\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "model"), []byte("QEMU NVMe Ctrl\n"), 0o644)
	if c := read(); c.Attrs.Get("model") != "QEMU NVMe Ctrl" || c.Err != nil {
		t.Errorf("once live: model %v, err %v", c.Attrs.Get("model"), c.Err)
	}
	read()
	n = 0
	os.WriteFile(filepath.Join(dir, "firmware_rev"), []byte("8.0.0\n"), 0o644)
	if c := read(); c.Attrs.Get("firmware") != "8.0.0" || n != 2 {
		t.Errorf("after a firmware activation: firmware %v, %d admin commands (want Identify and Get Log Page)", c.Attrs.Get("firmware"), n)
	}
}

// readOne is a beat of fs's Read with cache: its one chip.
func readOne(t *testing.T, fs FS, cache thermal.Cache) thermal.Chip {
	t.Helper()
	chips, err := fs.Read(context.Background(), &thermal.Request{Cache: cache})
	if err != nil || len(chips) != 1 {
		t.Fatalf("Read = %+v, %v", chips, err)
	}
	return chips[0]
}
