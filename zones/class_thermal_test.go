package zones

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
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

// A steady beat takes a zone's type, trip points and device, and a cooling
// device's type, from the cache while its class link stands: it reads the
// temperatures (the zone's and its trip points') and the cooling states,
// nothing else. A zone registered again (a new link) is described afresh,
// and so is every zone after a corrupt cache entry.
func TestDescriptionsCached(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree")
	fs, _ := NewFS(root, thermal.DefaultRange)
	var reads []string
	fs.read = func(path string, buf []byte) ([]byte, error) {
		reads = append(reads, strings.TrimPrefix(path, root))
		return sysread.ReadFile(path, buf)
	}
	cache := sysfstest.MemCache{}
	read := func() map[string]thermal.Chip {
		t.Helper()
		reads = nil
		chips, err := fs.Read(context.Background(), &thermal.Request{Cache: cache})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]thermal.Chip{}
		for _, c := range chips {
			m[c.Name] = c
		}
		return m
	}
	zone0 := root + "/devices/virtual/thermal/thermal_zone0"
	// A trip point out of range (iwlwifi's disabled ones read -274000)
	// goes unreported, its type unread, and may come into range later.
	os.WriteFile(zone0+"/trip_point_1_temp", []byte("-274000\n"), 0o644)
	os.WriteFile(zone0+"/trip_point_1_type", []byte("passive\n"), 0o644)
	first := read()
	stored := string(cache[zonesKey])
	if _, err := decodeDescribed(cache[zonesKey]); err != nil {
		t.Fatalf("descriptions stored: %q: %v", stored, err)
	}
	os.WriteFile(zone0+"/type", []byte("other\n"), 0o644)
	os.WriteFile(zone0+"/trip_point_0_temp", []byte("110000\n"), 0o644)
	second := read()
	for _, r := range reads {
		// thermal_zone4's temperature cannot be read: its type is known
		// all the same.
		if !strings.HasSuffix(r, "/temp") && !strings.HasSuffix(r, "_temp") && !strings.HasSuffix(r, "_state") {
			t.Errorf("steady beat read %s", r)
		}
	}
	os.WriteFile(zone0+"/trip_point_1_temp", []byte("95000\n"), 0o644)
	if z := read()["thermal_zone0"]; len(z.Sensors) != 1 || len(z.Sensors[0].Trips) != 2 || z.Sensors[0].Trips[1].Type != "passive" {
		t.Errorf("a trip point come into range: %+v", z.Sensors)
	}
	stored = string(cache[zonesKey])
	if z := read()["thermal_zone0"]; len(z.Sensors) != 1 || len(z.Sensors[0].Trips) != 2 || z.Sensors[0].Trips[1].Type != "passive" {
		t.Errorf("its type, from the cache: %+v", z.Sensors)
	}
	if z := second["thermal_zone0"]; z.Driver != "acpitz" || len(z.Sensors) != 1 || z.Sensors[0].Trips[0].Milli != 110000 || z.Device != first["thermal_zone0"].Device {
		t.Errorf("steady beat: %+v", z)
	}
	if string(cache[zonesKey]) != stored {
		t.Errorf("steady beat stored %q", cache[zonesKey])
	}
	link := root + "/class/thermal/thermal_zone0"
	target, _ := os.Readlink(link)
	if err := os.Symlink(target, link+".new"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(link+".new", link); err != nil {
		t.Fatal(err)
	}
	if z := read()["thermal_zone0"]; z.Driver != "other" {
		t.Errorf("a zone registered again: %+v", z)
	}
	os.WriteFile(zone0+"/type", []byte("acpitz\n"), 0o644)
	os.WriteFile(zone0+"/trip_point_0_temp", []byte("119000\n"), 0o644)
	os.WriteFile(zone0+"/trip_point_1_temp", []byte("-274000\n"), 0o644)
	cache[zonesKey] = []byte(zonesMagic + "garbage\n")
	if z := read()["thermal_zone0"]; z.Driver != "acpitz" {
		t.Errorf("after a corrupt entry: %+v", z)
	}
	if _, err := decodeDescribed(cache[zonesKey]); err != nil {
		t.Errorf("a corrupt entry is not replaced: %q", cache[zonesKey])
	}
	// The same zones as the first beat read: by value, limits dereferenced.
	show := func(m map[string]thermal.Chip) string {
		var b strings.Builder
		for _, name := range slices.Sorted(maps.Keys(m)) {
			c := m[name]
			fmt.Fprintf(&b, "%s %s %s %d %v\n", name, c.Driver, c.Device, c.Errors, c.Series)
			for _, s := range c.Sensors {
				crit := "-"
				if s.Crit != nil {
					crit = fmt.Sprint(*s.Crit)
				}
				fmt.Fprintf(&b, "  %s %s %d %v %v %s\n", s.Name, s.Label, s.Value, s.Err, s.Trips, crit)
			}
		}
		return b.String()
	}
	if got, want := show(read()), show(first); got != want {
		t.Errorf("the zones read through the cache differ:\n%s\nfirst beat:\n%s", got, want)
	}
}

// Descriptions survive their encoding; what decodeDescribed accepts,
// encodeDescribed gives back.
func FuzzDescribedCodec(f *testing.F) {
	f.Add("thermal_zone0", uint64(7), "/sys/devices/x", "acpitz", true, 2, "critical", []byte(zonesMagic+"\"a\" 1 \"\" 1 \"t\" 2 0 1 1 \"hot\" \"critical\"\n"))
	f.Fuzz(func(t *testing.T, name string, ino uint64, device, typ string, typed bool, n int, tripType string, data []byte) {
		n = n & 7
		d := described{ino: ino, device: device, typ: typ, typed: typed}
		for i := range n {
			d.trips = append(d.trips, i*3)
			d.tripTypes = append(d.tripTypes, tripType)
		}
		got, err := decodeDescribed(encodeDescribed(map[string]described{name: d}))
		if name == "" || ino == 0 {
			if err == nil {
				t.Errorf("%q %d decoded: %+v", name, ino, got)
			}
		} else if err != nil || !bytes.Equal(encodeDescribed(got), encodeDescribed(map[string]described{name: d})) {
			t.Errorf("round trip of %+v: %+v, %v", d, got, err)
		}
		if m, err := decodeDescribed(data); err == nil {
			again, err := decodeDescribed(encodeDescribed(m))
			if err != nil || !bytes.Equal(encodeDescribed(again), encodeDescribed(m)) {
				t.Errorf("%q decodes to %+v, which does not round trip: %+v, %v", data, m, again, err)
			}
		}
	})
}
