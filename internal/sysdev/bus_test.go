package sysdev

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

func TestChipNameEveryBus(t *testing.T) {
	for _, tc := range []struct {
		desc      string
		prefix    string
		dev       string
		subsys    string
		hasSubsys bool
		want      string // "" when libsensors does not classify the device
	}{
		{"platform device with instance", "coretemp", "coretemp.1", "platform", true, "coretemp-isa-0001"},
		{"super-I/O at its I/O port", "nct6798", "nct6775.656", "platform", true, "nct6798-isa-0290"},
		{"platform without instance", "cpu_thermal", "cpu_thermal", "platform", true, "cpu_thermal-isa-0000"},
		{"platform name with a dash is address 0", "gpio_fan", "gpio-fan.3", "platform", true, "gpio_fan-isa-0000"},
		{"of_platform", "scpi_sensors", "scpi_sensors.2", "of_platform", true, "scpi_sensors-isa-0002"},
		{"pci function", "k10temp", "0000:00:18.3", "pci", true, "k10temp-pci-00c3"},
		{"pci in domain 1", "amdgpu", "0001:03:00.0", "pci", true, "amdgpu-pci-10300"},
		{"pci nvme", "nvme", "0000:01:00.0", "pci", true, "nvme-pci-0100"},
		{"i2c", "spd5118", "0-0050", "i2c", true, "spd5118-i2c-0-50"},
		{"i2c two-digit bus", "lm75", "14-0048", "i2c", true, "lm75-i2c-14-48"},
		{"i2c-isa legacy bus 9191", "w83627hf", "9191-0290", "i2c", true, "w83627hf-isa-0290"},
		{"spi", "max31722", "spi0.1", "spi", true, "max31722-spi-0-1"},
		{"acpi", "acpitz", "LNXTHERM:00", "acpi", true, "acpitz-acpi-0"},
		{"hid", "corsairpsu", "0003:1B1C:1C08.0003", "hid", true, "corsairpsu-hid-3-3"},
		{"mdio", "marvell", "unimac-mdio--19:01", "mdio_bus", true, "marvell-mdio-1"},
		{"mdio without address", "aqr107", "fixed-0", "mdio_bus", true, "aqr107-mdio-0"},
		{"scsi", "drivetemp", "0:0:0:0", "scsi", true, "drivetemp-scsi-0-0"},
		{"scsi host 2 target 1", "drivetemp", "2:0:1:0", "scsi", true, "drivetemp-scsi-2-10"},
		{"no subsystem link, i2c-shaped", "lm90", "1-004c", "", false, "lm90-i2c-1-4c"},
		{"no subsystem link, pci-shaped", "k8temp", "0000:00:18.3", "", false, "k8temp-pci-00c3"},
		{"no subsystem link, anything else is isa", "foo", "foo.2", "", false, "foo-isa-0002"},
		{"class device nvme0 is not a bus", "nvme", "nvme0", "nvme", true, ""},
		{"class device thermal_zone0 is not a bus", "acpitz", "thermal_zone0", "thermal", true, ""},
		{"pci subsystem with a non-pci name", "x", "weird", "pci", true, ""},
		{"virtual", "iwlwifi_1", "", "", false, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if tc.dev == "" {
				if got := chipName(tc.prefix, busAddr{bus: BusVirtual}); got != "iwlwifi_1-virtual-0" {
					t.Errorf("virtual name = %q", got)
				}
				return
			}
			b, ok := classify(tc.dev, tc.subsys, tc.hasSubsys)
			if !ok {
				if tc.want != "" {
					t.Fatalf("classify(%q, %q) not classified, want %s", tc.dev, tc.subsys, tc.want)
				}
				return
			}
			if tc.want == "" {
				t.Fatalf("classify(%q, %q) = %+v, want unclassified", tc.dev, tc.subsys, b)
			}
			if got := chipName(tc.prefix, b); got != tc.want {
				t.Errorf("chip name = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"0000:00:18.3", "0-0050", "spi0.1", "0:0:0:0", "nct6775.656", "a:1"} {
		f.Add(s, "pci")
	}
	f.Fuzz(func(t *testing.T, dev, subsys string) {
		if b, ok := classify(dev, subsys, subsys != ""); ok {
			if got, want := chipName("x", b), sprintfChipName("x", b); got != want {
				t.Errorf("chipName(%+v) = %q, printf gives %q", b, got, want)
			}
		}
	})
}

// sprintfChipName is chipName through fmt.Sprintf, with the formats of
// sensors_snprintf_chip_name(): the oracle chipName answers to.
func sprintfChipName(prefix string, b busAddr) string {
	x, nr := uint32(b.addr), int16(b.nr)
	switch b.bus {
	case BusISA:
		return fmt.Sprintf("%s-isa-%04x", prefix, x)
	case BusPCI:
		return fmt.Sprintf("%s-pci-%04x", prefix, x)
	case BusI2C:
		return fmt.Sprintf("%s-i2c-%d-%02x", prefix, nr, x)
	case BusSPI:
		return fmt.Sprintf("%s-spi-%d-%x", prefix, nr, x)
	case BusACPI:
		return fmt.Sprintf("%s-acpi-%x", prefix, x)
	case BusHID:
		return fmt.Sprintf("%s-hid-%d-%x", prefix, nr, x)
	case BusMDIO:
		return fmt.Sprintf("%s-mdio-%x", prefix, x)
	case BusSCSI:
		return fmt.Sprintf("%s-scsi-%d-%x", prefix, nr, x)
	}
	return fmt.Sprintf("%s-virtual-%x", prefix, x)
}

// Every bus, with numbers and addresses at the edges of their ranges
// (negative, wider than the padding, 32 bits), named as printf names it.
func TestChipNameAgreesWithPrintf(t *testing.T) {
	for _, bus := range []string{BusISA, BusPCI, BusI2C, BusSPI, BusACPI, BusHID, BusMDIO, BusSCSI, BusVirtual, "other"} {
		for _, nr := range []int{0, 1, 9, 10, 255, 32767, 32768, 65535, -1, -32768} {
			for _, addr := range []int{0, 1, 0xf, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0x10000, 0x7fffffff, -1, -0x80000000} {
				b := busAddr{bus: bus, nr: nr, addr: addr}
				if got, want := chipName("coretemp", b), sprintfChipName("coretemp", b); got != want {
					t.Errorf("chipName(%+v) = %q, printf gives %q", b, got, want)
				}
			}
		}
	}
}

// A device link pointing at itself or into a cycle used to spin the beat at
// 100% CPU forever: the walk ends, and the chip is virtual.
func TestChipNameSurvivesDeviceLinkCycles(t *testing.T) {
	root := t.TempDir()
	devs := filepath.Join(root, "devices", "virtual")
	for _, d := range []string{"self", "a", "b"} {
		if err := os.MkdirAll(filepath.Join(devs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// An unknown subsystem makes the walk follow the device links.
	os.MkdirAll(filepath.Join(root, "class", "widget"), 0o755)
	for _, d := range []string{"self", "a", "b"} {
		os.Symlink("../../../class/widget", filepath.Join(devs, d, "subsystem"))
	}
	os.Symlink(".", filepath.Join(devs, "self", "device"))
	os.Symlink("../b", filepath.Join(devs, "a", "device"))
	os.Symlink("../a", filepath.Join(devs, "b", "device"))
	tree := New(root, sysread.ReadFile)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, d := range []string{"self", "a"} {
			if name, bus := tree.ChipName("x", filepath.Join(devs, d)); name != "x-virtual-0" || bus != BusVirtual {
				t.Errorf("%s: %s on %s", d, name, bus)
			}
			tree.Asleep(filepath.Join(devs, d))
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the walk did not end")
	}
}
