package zones

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

func zonesOf(t *testing.T, fs FS) map[string]thermal.Chip {
	t.Helper()
	chips, err := fs.Zones(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]thermal.Chip{}
	for _, c := range chips {
		if !c.Aux {
			m[c.Name] = c
		}
	}
	return m
}

func TestCoolingDevices(t *testing.T) {
	fs, _ := NewFS(sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree"), thermal.DefaultRange)
	chips, err := fs.Zones(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range chips {
		if c.Aux {
			for _, s := range c.Series {
				got = append(got, fmt.Sprintf("%s %s %s %g", s.Name, s.Labels[0].Value, s.Labels[1].Value, s.Value))
			}
		}
	}
	want := []string{
		"node_thermal_cooling_device_state Processor cooling_device0 0", "node_thermal_cooling_device_max_state Processor cooling_device0 3",
		"node_thermal_cooling_device_state intel_powerclamp cooling_device1 0", "node_thermal_cooling_device_max_state intel_powerclamp cooling_device1 50",
		"node_thermal_cooling_device_state Fan cooling_device2 1", "node_thermal_cooling_device_max_state Fan cooling_device2 2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cooling devices:\n%s", strings.Join(got, "\n"))
	}
}

func TestZones(t *testing.T) {
	fs, err := NewFS(sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree"), thermal.DefaultRange)
	if err != nil {
		t.Fatal(err)
	}
	z := zonesOf(t, fs)
	if len(z) != 5 {
		t.Fatalf("got %d zones, want 5 (cooling devices are not zones)", len(z))
	}
	acpi := z["thermal_zone0"]
	s := acpi.Sensors[0]
	if acpi.Source != "thermal_zone" || acpi.Driver != "acpitz" || s.Name != "acpitz" || s.Value != 27800 {
		t.Errorf("thermal_zone0 = %+v", acpi)
	}
	if s.Crit == nil || *s.Crit != 119000 || len(s.Trips) != 1 || s.Trips[0].Type != "critical" {
		t.Errorf("thermal_zone0 limits crit=%v trips=%+v, want critical 119 °C", s.Crit, s.Trips)
	}
	bad := z["thermal_zone4"]
	if bad.Errors != 1 || bad.Sensors[0].Err == nil || bad.Sensors[0].Name != "INT3400 Thermal" {
		t.Errorf("unreadable zone = %+v, want its sensor dropped and counted", bad)
	}

	fs, _ = NewFS(sysfstest.UnpackFile(t, "../testdata/sysfs/exotic.tree"), thermal.DefaultRange)
	rpi := zonesOf(t, fs)["thermal_zone2"].Sensors[0]
	if len(rpi.Trips) != 1 {
		t.Errorf("cpu-thermal trips = %+v, want the -273.15 °C placeholder left out", rpi.Trips)
	}
}

func TestIgnoredZonesAreNotRead(t *testing.T) {
	fs, _ := NewFS(sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree"), thermal.DefaultRange)
	var temps []string
	fs.read = func(path string, buf []byte) ([]byte, error) {
		if strings.HasSuffix(path, "/temp") {
			temps = append(temps, path)
		}
		return sysread.ReadFile(path, buf)
	}
	fs.req = &thermal.Request{Ignore: func(source, chip, sensor string) bool {
		return chip == "thermal_zone1" && sensor == "" || sensor == "iwlwifi_1"
	}}
	z := zonesOf(t, fs)
	if _, ok := z["thermal_zone1"]; ok {
		t.Error("ignored zone reported")
	}
	if len(z["thermal_zone2"].Sensors) != 0 {
		t.Error("ignored zone type reported")
	}
	for _, p := range temps {
		if strings.Contains(p, "thermal_zone1/") || strings.Contains(p, "thermal_zone2/") {
			t.Errorf("read %s", p)
		}
	}
}

// procfs reports a zone whose temp fails with EINVAL as 0 °C with no error;
// here it is an error and never a value.
func TestEINVALTempIsNotAZero(t *testing.T) {
	fs, _ := NewFS(sysfstest.UnpackFile(t, "../testdata/sysfs/qemu-6.1.tree"), thermal.DefaultRange)
	fs.read = func(path string, buf []byte) ([]byte, error) {
		if strings.HasSuffix(path, "thermal_zone0/temp") {
			return nil, syscall.EINVAL
		}
		return sysread.ReadFile(path, buf)
	}
	c := zonesOf(t, fs)["thermal_zone0"]
	if !errors.Is(c.Sensors[0].Err, syscall.EINVAL) || c.Errors != 1 {
		t.Errorf("zone = %+v, want EINVAL counted, no reading", c)
	}
}
