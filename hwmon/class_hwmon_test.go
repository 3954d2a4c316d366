package hwmon

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

func newFS(t *testing.T, root string) FS {
	t.Helper()
	fs, err := NewFS(root, thermal.DefaultRange)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func chipsOf(t *testing.T, fs FS) map[string]thermal.Chip {
	t.Helper()
	chips, err := fs.Chips(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]thermal.Chip{}
	for _, c := range chips {
		if _, dup := m[c.Name]; dup {
			t.Fatalf("chip name %q appears twice", c.Name)
		}
		m[c.Name] = c
	}
	return m
}

func sensor(t *testing.T, c thermal.Chip, name string) thermal.Sensor {
	t.Helper()
	for _, s := range c.Sensors {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("chip %s has no sensor %q (has %+v)", c.Name, name, c.Sensors)
	return thermal.Sensor{}
}

func TestFixtureBehaviours(t *testing.T) {
	intel := chipsOf(t, newFS(t, sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree")))
	amd := chipsOf(t, newFS(t, sysfstest.UnpackFile(t, "../testdata/sysfs/amd-workstation.tree")))
	exotic := chipsOf(t, newFS(t, sysfstest.UnpackFile(t, "../testdata/sysfs/exotic.tree")))

	t.Run("bogus super-I/O values: out of range dropped, in-range kept as read", func(t *testing.T) {
		c := intel["nct6798-isa-0290"]
		if s := sensor(t, c, "AUXTIN1"); !errors.Is(s.Err, thermal.ErrOutOfRange) {
			t.Errorf("AUXTIN1 (-62 °C) err = %v, want ErrOutOfRange", s.Err)
		}
		if s := sensor(t, c, "AUXTIN0"); s.Err != nil || s.Value != 127000 {
			t.Errorf("AUXTIN0 = %+v, want 127 °C as read", s)
		}
		if s := sensor(t, c, "AUXTIN2"); s.Err != nil || s.Value != 0 {
			t.Errorf("AUXTIN2 = %+v, want a real 0 °C reading", s)
		}
		if s := sensor(t, c, "PCH_CHIP_TEMP"); s.Err == nil {
			t.Errorf("unreadable PCH_CHIP_TEMP has no error: %+v", s)
		}
		if c.Errors != 3 {
			t.Errorf("nct6798 Errors = %d, want 3 (out of range, unreadable, the faulted fan)", c.Errors)
		}
	})
	t.Run("fans: speed, minimum, target, and what failed", func(t *testing.T) {
		c := intel["nct6798-isa-0290"]
		for name, want := range map[string]struct {
			rpm    int64
			failed string
			err    bool
		}{
			"fan1": {1187, "", false}, "fan3": {0, "", false}, "fan6": {1520, "", false},
			"fan5": {0, "fault", true},
		} {
			s := sensor(t, c, name)
			if !s.IsFan() || s.Value != want.rpm || s.Failed != want.failed || (s.Err != nil) != want.err {
				t.Errorf("%s = %+v, want %+v", name, s, want)
			}
		}
		if s := sensor(t, c, "fan1"); s.FanMin == nil || *s.FanMin != 300 {
			t.Errorf("fan1 min = %v", s.FanMin)
		}
		if s := sensor(t, c, "fan3"); s.FanMin != nil {
			t.Errorf("fan3 min 0 is no minimum, got %v", *s.FanMin)
		}
		if s := sensor(t, c, "fan6"); s.FanTarget == nil || *s.FanTarget != 1500 {
			t.Errorf("fan6 target = %v", s.FanTarget)
		}
		if s := sensor(t, c, "fan4"); !s.Alarm {
			t.Error("fan4 alarm bit not read")
		}
		for _, s := range c.Sensors {
			if s.Name == "fan7" {
				t.Error("fan7, disabled (fan7_enable = 0), is reported")
			}
		}
	})
	t.Run("faulted diode dropped and counted", func(t *testing.T) {
		c := intel["tmp421-i2c-0-4c"]
		if s := sensor(t, c, "temp2"); !errors.Is(s.Err, thermal.ErrFault) {
			t.Errorf("temp2 err = %v, want ErrFault", s.Err)
		}
		if s := sensor(t, c, "temp1"); s.Err != nil || s.Value != 40000 {
			t.Errorf("temp1 = %+v, want 40 °C (fault = 0)", s)
		}
		if c.Errors != 1 {
			t.Errorf("Errors = %d, want 1", c.Errors)
		}
	})
	t.Run("nvme chips in both layouts carry the PCI function's name", func(t *testing.T) {
		for _, name := range []string{"nvme-pci-0100", "nvme-pci-0200"} {
			if c, ok := intel[name]; !ok || c.Driver != "nvme" {
				t.Errorf("%s = %+v, want driver nvme", name, c)
			}
		}
		s := sensor(t, intel["nvme-pci-0100"], "Sensor 1")
		if s.Max != nil {
			t.Errorf("Sensor 1 max = %d, want none: 65261.85 °C is NVMe's placeholder", *s.Max)
		}
	})
	t.Run("amdgpu limits, placeholder crit_hyst dropped", func(t *testing.T) {
		s := sensor(t, amd["amdgpu-pci-0300"], "junction")
		if s.Crit == nil || *s.Crit != 110000 || s.Emergency == nil || *s.Emergency != 115000 || s.CritHyst != nil {
			t.Errorf("junction limits = crit %v emergency %v crit_hyst %v", s.Crit, s.Emergency, s.CritHyst)
		}
	})
	t.Run("suspended GPU is not read", func(t *testing.T) {
		for _, c := range []thermal.Chip{amd["amdgpu-pci-0a00"], exotic["nouveau-pci-0200"]} {
			if !c.Asleep || len(c.Sensors) != 0 || c.Errors != 0 {
				t.Errorf("%s = %+v, want asleep with nothing read", c.Name, c)
			}
		}
	})
	t.Run("a suspended i2c adapter without runtime PM callbacks does not put its clients to sleep", func(t *testing.T) {
		// The real 6.1 kernel in the QEMU suite: i2c-N reads "suspended",
		// has no power/control, and lm75 behind it is awake.
		for _, c := range []thermal.Chip{intel["spd5118-i2c-0-50"], intel["tmp421-i2c-0-4c"]} {
			if c.Asleep || len(c.Sensors) == 0 {
				t.Errorf("%s = %+v, want it read", c.Name, c)
			}
		}
	})
	t.Run("an nvme class device without runtime PM sleeps with its PCI function", func(t *testing.T) {
		if c := exotic["nvme-pci-0400"]; !c.Asleep || len(c.Sensors) != 0 {
			t.Errorf("nvme-pci-0400 = %+v, want asleep", c)
		}
	})
	t.Run("two acpitz zones get distinct names in device order", func(t *testing.T) {
		a, b := exotic["acpitz-acpi-0"], exotic["acpitz-acpi-0#2"]
		if !strings.HasSuffix(a.Device, "thermal_zone0") || !strings.HasSuffix(b.Device, "thermal_zone1") {
			t.Errorf("acpitz-acpi-0 on %s, #2 on %s; want zone 0 then zone 1", a.Device, b.Device)
		}
	})
	t.Run("legacy driver with attributes on the device", func(t *testing.T) {
		c := exotic["lm90-i2c-2-4c"]
		if len(c.Sensors) != 2 || !strings.HasSuffix(c.Path, "2-004c") {
			t.Errorf("lm90 = %+v, want two sensors read from the device directory", c)
		}
	})
	t.Run("chip without device link is virtual", func(t *testing.T) {
		if c := exotic["cpu_thermal-virtual-0"]; c.Bus != "virtual" || c.Device != "" {
			t.Errorf("cpu_thermal = %+v", c)
		}
	})
}

const tinyTree = `
cd /devices/platform/coretemp.0
l subsystem -> /bus/platform
hwmon hwmon0 /devices/platform/coretemp.0
f name coretemp
f temp1_label Package id 0
f temp1_input 45000
f temp2_label Core 0
f temp2_input 43000
f temp3_label Core 0
f temp3_input 44000
cd /devices/platform/nct6775.656
l subsystem -> /bus/platform
hwmon hwmon1 /devices/platform/nct6775.656
f name nct6798
f temp1_label SYSTIN
f temp1_input 35000
f temp1_max 80000
f temp2_label CPUTIN
f temp2_input 38000
`

func TestDuplicateLabelsAreMadeUnique(t *testing.T) {
	c := chipsOf(t, newFS(t, sysfstest.UnpackString(t, tinyTree)))["coretemp-isa-0000"]
	var names []string
	for _, s := range c.Sensors {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "Package id 0,Core 0,Core 0 (temp3)" {
		t.Errorf("names = %s", got)
	}
}

// TestReadFailures drives the kernel boundary: each case makes reads of one
// attribute fail the way drivers do.
func TestReadFailures(t *testing.T) {
	root := sysfstest.UnpackString(t, tinyTree)
	for _, tc := range []struct {
		desc       string
		failSuffix string
		err        error
		check      func(t *testing.T, c thermal.Chip)
	}{
		{"EAGAIN input is one failed read, not a spin", "hwmon1/temp2_input", syscall.EAGAIN, func(t *testing.T, c thermal.Chip) {
			s := sensor(t, c, "CPUTIN")
			if !errors.Is(s.Err, syscall.EAGAIN) || c.Errors != 1 {
				t.Errorf("CPUTIN err %v, chip errors %d", s.Err, c.Errors)
			}
		}},
		{"EIO on a label drops the sensor rather than renaming it", "hwmon1/temp1_label", syscall.EIO, func(t *testing.T, c thermal.Chip) {
			if len(c.Sensors) != 2 || !errors.Is(c.Sensors[0].Err, syscall.EIO) {
				t.Errorf("sensors = %+v", c.Sensors)
			}
			if c.Errors != 1 {
				t.Errorf("Errors = %d, want 1", c.Errors)
			}
		}},
		{"a failed limit read keeps the reading and counts", "hwmon1/temp1_max", syscall.ENXIO, func(t *testing.T, c thermal.Chip) {
			s := sensor(t, c, "SYSTIN")
			if s.Err != nil || s.Value != 35000 || s.Max != nil || c.Errors != 1 {
				t.Errorf("SYSTIN = %+v, chip errors %d", s, c.Errors)
			}
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			fs := newFS(t, root)
			calls := 0
			fs.dirReads = false
			fs.read = func(path string, buf []byte) ([]byte, error) {
				if strings.HasSuffix(path, tc.failSuffix) {
					calls++
					return nil, tc.err
				}
				return sysread.ReadFile(path, buf)
			}
			tc.check(t, chipsOf(t, fs)["nct6798-isa-0290"])
			if calls != 1 {
				t.Errorf("failing attribute read %d times, want exactly once", calls)
			}
		})
	}
}

func TestStuckReadDoesNotStopTheBeat(t *testing.T) {
	fs := newFS(t, sysfstest.UnpackString(t, tinyTree))
	release := make(chan struct{})
	defer close(release)
	fs.dirReads = false
	fs.read = func(path string, buf []byte) ([]byte, error) {
		if strings.HasSuffix(path, "hwmon1/temp2_input") {
			<-release // a driver stuck on a wedged bus
		}
		return sysread.ReadFile(path, buf)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	chips, err := fs.Chips(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]thermal.Chip{}
	for _, c := range chips {
		byName[c.Name] = c
	}
	if c := byName["coretemp-isa-0000"]; len(c.Sensors) != 3 || c.Err != nil {
		t.Errorf("coretemp = %+v, want all three sensors", c)
	}
	c := byName["nct6798-isa-0290"]
	if len(c.Sensors) != 1 || c.Sensors[0].Name != "SYSTIN" || !errors.Is(c.Err, thermal.ErrTimeout) || c.Errors != 1 {
		t.Errorf("stuck nct6798 = %+v, want SYSTIN read, CPUTIN owed and counted", c)
	}
}

func TestNoHwmonClassIsNoError(t *testing.T) {
	chips, err := newFS(t, t.TempDir()).Chips(context.Background())
	if err != nil || len(chips) != 0 {
		t.Errorf("Chips() = %v, %v; want nothing and no error", chips, err)
	}
}

// A label longer than 255 bytes used to drop its reading (the value
// buffer is 256 bytes): it is read whole and shortened, and two labels
// alike once shortened stay two sensors (issue 18).
func TestLongLabelsAreShortenedNotDropped(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	tree := "cd /devices/platform/x.0\nl subsystem -> /bus/platform\nhwmon hwmon0 /devices/platform/x.0\nf name x\n" +
		"f temp1_label " + long + "a\nf temp1_input 45000\nf temp2_label " + long + "b\nf temp2_input 46000\n"
	c := chipsOf(t, newFS(t, sysfstest.UnpackString(t, tree)))["x-isa-0000"]
	if len(c.Sensors) != 2 || c.Errors != 0 {
		t.Fatalf("sensors %+v, errors %d", c.Sensors, c.Errors)
	}
	a, b := c.Sensors[0], c.Sensors[1]
	if a.Err != nil || b.Err != nil || a.Value != 45000 || b.Value != 46000 || a.Name == b.Name ||
		len(a.Label) > MaxLabel || !utf8.ValidString(a.Name) || !utf8.ValidString(b.Name) {
		t.Errorf("sensors %q (%d bytes) and %q", a.Name, len(a.Name), b.Name)
	}
}
