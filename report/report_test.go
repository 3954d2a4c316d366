package report

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func ptr(v int64) *int64 { return &v }

// info and smart build the series the nvme source reports, without
// importing it.
func info(model, serial, fw string) thermal.Series {
	return thermal.Series{Name: "node_thermal_nvme_info", Help: "An NVMe controller: model, serial and firmware from sysfs; always 1.",
		Labels: []thermal.Label{{Name: "model", Value: model}, {Name: "serial", Value: serial}, {Name: "firmware", Value: fw}}, Value: 1}
}

func smart(warning bool, warnMin, critMin float64, transitions, seconds [2]float64) []thermal.Series {
	out := []thermal.Series{
		{Name: "node_thermal_nvme_temperature_warning", Help: "1 while the SMART log's critical warning bit 1 is set: a temperature is past an over- or under-temperature threshold.", Value: b2f(warning)},
		{Name: "node_thermal_nvme_warning_temperature_time_seconds_total", Counter: true,
			Help: "Time the composite temperature has spent at or above the drive's warning threshold (WCTEMP), from the SMART log (minute resolution).", Value: warnMin * 60},
		{Name: "node_thermal_nvme_critical_temperature_time_seconds_total", Counter: true,
			Help: "Time the composite temperature has spent at or above the drive's critical threshold (CCTEMP), from the SMART log (minute resolution).", Value: critMin * 60},
	}
	for i, level := range []string{"1", "2"} {
		out = append(out,
			thermal.Series{Name: "node_thermal_nvme_thermal_management_transitions_total", Counter: true,
				Help:   "Times the controller entered thermal management temperature 1 or 2 (light or heavy throttling).",
				Labels: []thermal.Label{{Name: "level", Value: level}}, Value: transitions[i]},
			thermal.Series{Name: "node_thermal_nvme_thermal_management_seconds_total", Counter: true,
				Help:   "Time the controller has spent in thermal management temperature 1 or 2 (throttling).",
				Labels: []thermal.Label{{Name: "level", Value: level}}, Value: seconds[i]})
	}
	return out
}

func sampleBeat() Beat {
	return Beat{
		Time: time.Unix(1763731200, 250e6),
		Chips: []thermal.Chip{
			{Source: "hwmon", Name: "coretemp-isa-0000", Sensors: []thermal.Sensor{
				{Name: "Package id 0", Value: 45000, Max: ptr(88000), Crit: ptr(98000),
					Thresholds: []thermal.Threshold{{Level: thermal.Warning, Celsius: 85}, {Level: thermal.Critical, Celsius: 98}}},
				{Name: "Core 0", Value: 43000},
			}},
			{Source: "hwmon", Name: "nct6798-isa-0290", Errors: 2, Sensors: []thermal.Sensor{
				{Name: "AUXTIN1", Err: thermal.ErrOutOfRange},
				{Name: "AUXTIN2", Value: 0}, // a real zero stays a zero
				{Name: "PCH_CHIP_TEMP", Err: errors.New("read: input/output error")},
			}},
			{Source: "nvme", Name: "nvme-pci-0100", Sensors: []thermal.Sensor{
				{Name: "Composite", Value: 38850, Max: ptr(81850), Crit: ptr(84850), Thresholds: []thermal.Threshold{{Level: thermal.Warning, Celsius: 70}}},
			}, Series: append([]thermal.Series{info("Samsung SSD 990 PRO 2TB", "S7DNNJ0W123456", "4B2QJXD7")}, smart(true, 3, 1, [2]float64{5, 1}, [2]float64{120, 7})...)},
			{Source: "nvme", Name: "nvme-pci-0200", Sensors: []thermal.Sensor{{Name: "Composite", Value: 41850}},
				Series: []thermal.Series{info("WD_BLACK SN850X", "2304", "620361WD")}},
			{Source: "hwmon", Name: "amdgpu-pci-0a00", Asleep: true},
			{Source: "hwmon", Name: "weird\xffchip", Sensors: []thermal.Sensor{{Name: "label \"quoted\"\n", Value: -5500}}},
			{Source: "thermal_zone", Name: "thermal_zone0", Sensors: []thermal.Sensor{
				{Name: "acpitz", Value: 27800, Crit: ptr(119000), Trips: []thermal.Trip{{Index: 0, Type: "critical", Milli: 119000}, {Index: 1, Type: "hot", Milli: 100000}}},
			}},
		},
		Firing: func(id thermal.SensorID, level thermal.Level) bool {
			return id == thermal.SensorID{Source: "nvme", Chip: "nvme-pci-0100", Sensor: "Composite"} && level == thermal.Warning
		},

		Durations: map[string]time.Duration{"hwmon": 1500 * time.Microsecond, "thermal_zone": 250 * time.Microsecond},
	}
}

func TestWriteGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleBeat()); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "sample.prom"), buf.String(), *update)
}

// Two series with one label set would make the registry refuse the whole
// exposition; the first is kept and the file is still written.
func TestWriteKeepsTheFirstOfDuplicateSeries(t *testing.T) {
	b := Beat{Time: time.Unix(1, 0), Chips: []thermal.Chip{
		{Source: "hwmon", Name: "x", Sensors: []thermal.Sensor{{Name: "a", Value: 1000}, {Name: "a", Value: 2000}}},
	}}
	var buf bytes.Buffer
	if err := Write(&buf, b); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `node_thermal_celsius{chip="x",sensor="a",source="hwmon"}`); n != 1 || !strings.Contains(buf.String(), "} 1\n") {
		t.Errorf("want the first series once:\n%s", buf.String())
	}
}

func TestWriteFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, FileName)
	if err := os.WriteFile(old, []byte("# previous beat\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := WriteFile(dir, sampleBeat())
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644 so node_exporter can read it", st.Mode().Perm())
	}
	// The previous content stays as the spare the next write reuses:
	// hidden, and not a *.prom file node_exporter would read.
	var want bytes.Buffer
	if err := Write(&want, sampleBeat()); err != nil {
		t.Fatal(err)
	}
	previous := "# previous beat\n"
	for i := range 3 {
		entries, _ := os.ReadDir(dir)
		if len(entries) != 2 || entries[0].Name() != "."+FileName+".next" || entries[1].Name() != FileName {
			t.Errorf("write %d: directory holds %v, want only %s and its spare", i, entries, FileName)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "."+FileName+".next")); err != nil || string(b) != previous {
			t.Errorf("write %d: spare holds %q, %v; want the previous content %q", i, b, err, previous)
		}
		if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, want.Bytes()) {
			t.Errorf("write %d: %s holds %q, %v; want %q", i, FileName, b, err, want.Bytes())
		}
		previous = want.String()
		if _, err := WriteFile(dir, sampleBeat()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := WriteFile(filepath.Join(dir, "missing"), sampleBeat()); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
}

// Beats written at once in one process (a test harness, a library user)
// share the fixed families: each gets the same exposition, and the race
// detector sees no write to what they share.
func TestConcurrentWritesAgree(t *testing.T) {
	var want bytes.Buffer
	Write(&want, sampleBeat())
	got := make([]bytes.Buffer, 4)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				got[i].Reset()
				Write(&got[i], sampleBeat())
			}
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i].String() != want.String() {
			t.Errorf("writer %d:\n%s\nwant:\n%s", i, got[i].String(), want.String())
		}
	}
}
