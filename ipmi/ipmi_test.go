package ipmi

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

// sdrFixture is the SDR repository of the suite's BMC (e2e/bmc.emu, which
// ipmi_sim serves to the QEMU guest): its main_sdr_add lines.
func sdrFixture(t testing.TB) [][]byte {
	b, err := os.ReadFile("../e2e/bmc.emu")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "main_sdr_add" {
			continue
		}
		var rec []byte
		for _, x := range f[2:] {
			v, err := strconv.ParseUint(x, 0, 8)
			if err != nil {
				t.Fatal(err)
			}
			rec = append(rec, byte(v))
		}
		out = append(out, rec)
	}
	return out
}

// fakeBMC answers as a BMC with the fixture's repository does. It
// refuses pieces longer than maxChunk (CAh), cancels the reservation once
// after cancelAfter Get SDRs, and counts what it was sent.
type fakeBMC struct {
	records      [][]byte
	readings     map[uint8][]byte // sensor number -> Get Sensor Reading data
	thresholds   map[uint8][]byte
	maxChunk     int
	cancelAfter  int
	added        uint32
	reservation  uint16
	getSDRs      int
	sent         []string
	failReadings bool
}

func (b *fakeBMC) Close() error { return nil }

func (b *fakeBMC) Send(m Message) ([]byte, error) {
	cc := func(code uint8) error { return &CompletionError{Cmd: "fake", Code: code} }
	switch {
	case m.NetFn == netFnStorage && m.Cmd == cmdGetSDRRepoInfo:
		b.sent = append(b.sent, "repo info")
		out := make([]byte, 14)
		out[0] = 0x51
		binary.LittleEndian.PutUint16(out[1:], uint16(len(b.records)))
		binary.LittleEndian.PutUint32(out[5:], b.added)
		return out, nil
	case m.NetFn == netFnStorage && m.Cmd == cmdReserveSDRRepo:
		b.sent = append(b.sent, "reserve")
		b.reservation++
		return []byte{byte(b.reservation), byte(b.reservation >> 8)}, nil
	case m.NetFn == netFnStorage && m.Cmd == cmdGetSDR:
		b.sent = append(b.sent, "get sdr")
		b.getSDRs++
		res, id, off, n := binary.LittleEndian.Uint16(m.Data), binary.LittleEndian.Uint16(m.Data[2:]), int(m.Data[4]), int(m.Data[5])
		if b.cancelAfter > 0 && b.getSDRs == b.cancelAfter {
			b.reservation++ // another client reserved the repository
		}
		if off > 0 && res != b.reservation {
			return nil, cc(ccReservationCancelled)
		}
		if b.maxChunk > 0 && n > b.maxChunk {
			return nil, cc(ccCannotReturnBytes)
		}
		for i, r := range b.records {
			if binary.LittleEndian.Uint16(r) != id && !(id == 0 && i == 0) {
				continue
			}
			next := uint16(0xFFFF)
			if i+1 < len(b.records) {
				next = binary.LittleEndian.Uint16(b.records[i+1])
			}
			end := min(off+n, len(r))
			return append([]byte{byte(next), byte(next >> 8)}, r[off:end]...), nil
		}
		return nil, cc(0xCB) // not present
	case m.NetFn == netFnSensor && m.Cmd == cmdGetSensorThresholds:
		b.sent = append(b.sent, "thresholds")
		if th, ok := b.thresholds[m.Data[0]]; ok {
			return th, nil
		}
		return nil, cc(0xCB)
	case m.NetFn == netFnSensor && m.Cmd == cmdGetSensorReading:
		b.sent = append(b.sent, "reading")
		if b.failReadings {
			return nil, cc(ccTimeout)
		}
		if r, ok := b.readings[m.Data[0]]; ok {
			return r, nil
		}
		return nil, cc(0xCB)
	}
	return nil, fmt.Errorf("unexpected netfn %#x cmd %#x", m.NetFn, m.Cmd)
}

// newBMC is the suite's BMC: CPU1 reads raw 0xF6 (−10, two's complement;
// with B = 10 that is 0 °C), PSU1 has scanning disabled.
func newBMC(t testing.TB) *fakeBMC {
	return &fakeBMC{records: sdrFixture(t),
		readings: map[uint8][]byte{1: {24, 0xC0, 0}, 2: {0xF6, 0xC0, 0}, 3: {75, 0xC0, 0}, 4: {20, 0xC0, 0},
			5: {33, 0x80, 0}, 7: {60, 0xC0, 0}, 8: {40, 0xC0, 0}},
		thresholds: map[uint8][]byte{1: {0x38, 0, 0, 0, 0x50, 0x55, 0x5a}, 2: {0x38, 0, 0, 0, 0x3c, 0x46, 0x50},
			3: {0x38, 0, 0, 0, 0xa0, 0xaa, 0xb4}, 4: {0x03, 0x0f, 0x0a, 0, 0, 0, 0}, 5: {0x38, 0, 0, 0, 0x50, 0x55, 0x5a}}}
}

func readBMC(t *testing.T, b *fakeBMC, cache sysfstest.MemCache) thermal.Chip {
	t.Helper()
	sys := sysfstest.UnpackString(t, "cd /devices/platform/ipmi_si.0/ipmi/ipmi0\ncd /class/ipmi\nl ipmi0 -> /devices/platform/ipmi_si.0/ipmi/ipmi0\n")
	fs, err := NewFS(sys, "/dev", thermal.Range{Min: -40000, Max: 150000})
	if err != nil {
		t.Fatal(err)
	}
	fs.open = func(path string) (transportCloser, error) {
		if path != "/dev/ipmi0" {
			t.Fatalf("opened %s", path)
		}
		return b, nil
	}
	chips, err := fs.Read(context.Background(), &thermal.Request{Cache: cache})
	if err != nil || len(chips) != 1 {
		t.Fatalf("Read = %+v, %v", chips, err)
	}
	return chips[0]
}

func TestReadBMC(t *testing.T) {
	b := newBMC(t)
	b.maxChunk, b.cancelAfter = 8, 7
	cache := sysfstest.MemCache{}
	chip := readBMC(t, b, cache)
	if chip.Name != "ipmi-bmc-0" || chip.Source != SourceName || chip.Err != nil || chip.Errors != 0 {
		t.Fatalf("chip %+v", chip)
	}
	got := describeBMC(chip)
	want := map[string]string{
		"Inlet Temp": "24 °C max 80 crit 85 emerg 90",
		"CPU1 Temp":  "0 °C max 70 crit 80 emerg 90", // raw −10 + B 10; thresholds raw 60/70/80 + 10
		"DIMM Temp":  "37.5 °C max 80 crit 85 emerg 90",
		"FAN1":       "1200 RPM min 600",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sensors\n got %v\nwant %v", got, want)
	}
	if s := chip.Attrs.Get("skipped"); s != "OEM NL Temp: non-linear sensor (OEM linearisation 0x70)" {
		t.Errorf("skipped: %v", s)
	}
	// Steady state: the repository's fingerprint and one reading per
	// sensor (PSU1 is asked, and left out: scanning disabled), and the
	// same sensors, limits and attributes from the cached repository.
	b.sent = nil
	steady := readBMC(t, b, cache)
	if fmt.Sprint(b.sent) != "[repo info reading reading reading reading reading]" {
		t.Errorf("steady beat sent %q", b.sent)
	}
	if again := describeBMC(steady); fmt.Sprint(again) != fmt.Sprint(got) || fmt.Sprint(steady.Attrs) != fmt.Sprint(chip.Attrs) {
		t.Errorf("from the cache\n got %v %v\nwant %v %v", again, steady.Attrs, got, chip.Attrs)
	}
	// The repository changed (a record added): read again.
	b.added++
	b.sent = nil
	readBMC(t, b, cache)
	if len(b.sent) < 10 || b.sent[1] != "reserve" {
		t.Errorf("after a change the beat sent %q", b.sent)
	}
}

// describeBMC gives each sensor of chip with its reading and limits.
func describeBMC(chip thermal.Chip) map[string]string {
	got := map[string]string{}
	for _, s := range chip.Sensors {
		v := s.Format()
		if s.Max != nil {
			v += fmt.Sprintf(" max %g crit %g emerg %g", thermal.Celsius(*s.Max), thermal.Celsius(*s.Crit), thermal.Celsius(*s.Emergency))
		}
		if s.FanMin != nil {
			v += fmt.Sprintf(" min %d", *s.FanMin)
		}
		got[s.Name] = v
	}
	return got
}

// A reading that fails is counted; the BMC stopping answering costs the
// chip its readings, not the beat.
func TestBMCFailures(t *testing.T) {
	b := newBMC(t)
	cache := sysfstest.MemCache{}
	readBMC(t, b, cache)
	b.failReadings = true
	chip := readBMC(t, b, cache)
	if chip.Errors != 5 || len(chip.Sensors) != 5 {
		t.Errorf("every reading failed: errors %d, %+v", chip.Errors, chip.Sensors)
	}
	b.failReadings = false
	// An old JSON entry, and a line cut short: the repository is read again.
	for _, bad := range []string{"{not json", sdrMagic + "\"ipmi-bmc-0\" \"k\" 1 0\n"} {
		cache[sdrKey] = []byte(bad)
		b.sent = nil
		if chip := readBMC(t, b, cache); len(chip.Sensors) != 4 || len(b.sent) < 2 || b.sent[1] != "reserve" {
			t.Errorf("corrupt cache %q: %q, %+v", bad, b.sent, chip.Sensors)
		}
	}
}

// A chain of next-record ids that loops ends with an error, not a hang.
func TestRepositoryLoop(t *testing.T) {
	b := newBMC(t)
	b.records = b.records[:2]
	b.records[1] = append([]byte(nil), b.records[1]...)
	binary.LittleEndian.PutUint16(b.records[1], 1) // the second claims the first's id
	if _, err := ReadRepository(b); err == nil || !strings.Contains(err.Error(), "loops") {
		t.Errorf("looping repository: %v", err)
	}
}

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		r    Record
		raw  uint8
		want float64
	}{
		{Record{M: 1}, 30, 30},
		{Record{M: 1, Format: 2}, 0xF6, -10},
		{Record{M: 1, Format: 1}, 0xF5, -10},             // one's complement
		{Record{M: 5, RExp: -1}, 75, 37.5},               // half degrees
		{Record{M: 2, B: 5, BExp: 1, RExp: -1}, 100, 25}, // (2·100 + 5·10)·0.1
		{Record{M: -3, B: 300}, 10, 270},                 // a negative M (10-bit two's complement)
		{Record{M: 1, Linear: 8}, 4, 16},                 // sqr
		{Record{M: 60}, 20, 1200},
	} {
		if got := tc.r.Convert(tc.raw); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%+v raw %#x = %v, want %v", tc.r, tc.raw, got, tc.want)
		}
	}
	if tenBit(0xFD, 0xC0) != -3 || tenBit(0x2C, 0x40) != 300 || fourBit(0xF) != -1 {
		t.Errorf("10-bit/4-bit decoding")
	}
	if c := (Record{Unit: unitFahrenheit}).Celsius(212); c != 100 {
		t.Errorf("212 °F = %v °C", c)
	}
}

func TestParseRecord(t *testing.T) {
	recs := sdrFixture(t)
	var names []string
	for _, b := range recs {
		r, ok, err := ParseRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			names = append(names, r.Name)
		}
	}
	if fmt.Sprint(names) != "[Inlet Temp CPU1 Temp DIMM Temp FAN1 PSU1 Temp Vcore OEM NL Temp PS Status]" {
		t.Errorf("names %q", names)
	}
	cpu, _, _ := ParseRecord(recs[1])
	if cpu.Format != 2 || cpu.B != 10 || cpu.M != 1 || cpu.ReadableThresholds != 0x38 || !cpu.Threshold || cpu.Unit != unitCelsius {
		t.Errorf("CPU1 %+v", cpu)
	}
	if _, _, err := ParseRecord(recs[0][:30]); !errors.Is(err, ErrShort) {
		t.Errorf("truncated record: %v", err)
	}
	if r, err := ParseReading([]byte{33, 0x80}); err != nil || !r.Unavailable {
		t.Errorf("scanning disabled: %+v %v", r, err)
	}
	if r, err := ParseReading([]byte{33, 0x60}); err != nil || !r.Unavailable {
		t.Errorf("reading unavailable: %+v %v", r, err)
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, r := range sdrFixture(f) {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, ok, err := ParseRecord(b); ok && err == nil {
			r.Supported()
			r.Convert(0x80)
		}
		ParseReading(b)
	})
}

// Repositories survive their encoding whole, whatever their names hold;
// what decodeRepositories accepts, encodeRepositories gives back.
func FuzzRepositoriesCodec(f *testing.F) {
	f.Add("ipmi-bmc-0", "1/2/3", 9, "OEM \"x\"", uint16(7), "CPU1 Temp\n", int16(-5), int8(-2), uint8(0x3f), []byte(sdrMagic+"\"c\" \"k\" 1 0 0\n"))
	f.Fuzz(func(t *testing.T, chip, key string, records int, skipped string, id uint16, name string, m int16, exp int8, have uint8, data []byte) {
		in := map[string]Repository{chip: {Key: key, Records: int(uint(records) % (maxRecords + 1)), Skipped: []string{skipped},
			Sensors: []Record{{ID: id, Type: 1, Owner: 0x20, Number: uint8(id), Threshold: true, Unit: 1, Name: name, Format: 2, Linear: 7,
				M: m, B: -m, BExp: exp, RExp: -exp, ReadableThresholds: have, Have: have, Thresholds: [6]uint8{1, 2, 3, 4, 5, uint8(id)}}}}}
		got, err := decodeRepositories(encodeRepositories(in))
		if chip == "" {
			if err == nil {
				t.Errorf("a repository without a chip decoded: %+v", got)
			}
		} else if err != nil || !reflect.DeepEqual(got, in) {
			t.Errorf("round trip of %+v: %+v, %v", in, got, err)
		}
		if m, err := decodeRepositories(data); err == nil {
			again, err := decodeRepositories(encodeRepositories(m))
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Errorf("%q decodes to %+v, which does not round trip: %+v, %v", data, m, again, err)
			}
		}
	})
}
