package state

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
	"github.com/thermal-heartbeat/thermal/notify"
	"github.com/thermal-heartbeat/thermal/pipeline"
)

// The codec is held to encoding/json: what encoding/json wrote and read
// before it is what it writes and reads now, byte for byte.

// agreeDecode reads data with decodeFile and with json.Unmarshal: both
// must fail, or both succeed with the same File, which it returns.
// reflect.DeepEqual is fair to times here: both read them through
// time.Time.UnmarshalJSON, so the same instant comes with the same
// location (nil for UTC, time.Local, or an equal FixedZone) and neither
// has a monotonic reading.
func agreeDecode(t *testing.T, data []byte) (*File, bool) {
	t.Helper()
	var got, want File
	gerr := decodeFile(data, &got)
	werr := json.Unmarshal(data, &want)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("decoding %q: codec: %v; encoding/json: %v", data, gerr, werr)
	}
	if werr != nil {
		return nil, false
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoding %q:\ncodec:         %#v\nencoding/json: %#v", data, got, want)
	}
	return &got, true
}

// agreeEncode writes f with encodeFile and with json.MarshalIndent: both
// must fail with the same error, or write the same bytes, which it
// returns.
func agreeEncode(t *testing.T, f *File) ([]byte, bool) {
	t.Helper()
	got, gerr := encodeFile(f)
	want, werr := json.MarshalIndent(f, "", "  ")
	if gerr != nil || werr != nil {
		if gerr == nil || werr == nil || gerr.Error() != werr.Error() {
			t.Fatalf("encoding %#v: codec: %v; encoding/json: %v", f, gerr, werr)
		}
		return nil, false
	}
	if want = append(want, '\n'); !bytes.Equal(got, want) {
		t.Fatalf("encoding %#v:\ncodec:\n%s\nencoding/json:\n%s", f, got, want)
	}
	return got, true
}

// checkCodec checks the codec against encoding/json on data, read as JSON
// (and the File read written back), and on the File that data generates
// (written, and read back).
func checkCodec(t *testing.T, data []byte) {
	t.Helper()
	if f, ok := agreeDecode(t, data); ok {
		agreeEncode(t, f)
	}
	g := gen{b: data}
	if b, ok := agreeEncode(t, g.file()); ok {
		if _, ok := agreeDecode(t, b); !ok {
			t.Fatalf("what the codec wrote cannot be read back:\n%s", b)
		}
	}
}

// FuzzCodec: for any input, decodeFile agrees with json.Unmarshal and
// encodeFile with json.MarshalIndent (see checkCodec).
func FuzzCodec(f *testing.F) {
	for _, s := range sampleFiles() {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, in := range decodeCases {
		f.Add([]byte(in))
	}
	f.Fuzz(checkCodec)
}

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// sampleFiles are states a beat writes: a healthy host, breaches pending
// and firing, an outbox with readings and device tags, rate limits, and
// strings and numbers at the edges of what JSON and encoding/json do.
func sampleFiles() []File {
	healthy := typicalFile()
	paging := File{
		State: alert.State{Version: 1, Breaches: []*alert.Breach{
			{Key: alert.Key{SensorID: thermal.SensorID{Source: "hwmon", Chip: "coretemp-isa-0000", Sensor: "Package id 0"}, Level: thermal.Warning},
				PendingSince: t0.Add(-5 * time.Minute), FiringSince: t0.Add(-3 * time.Minute), LastSent: t0.Add(-3 * time.Minute),
				LastSeen: t0, Celsius: 91.5, Threshold: 85},
			{Key: alert.Key{SensorID: thermal.SensorID{Source: "nvme", Chip: "nvme-pci-0100", Sensor: "Composite"}, Level: thermal.Critical},
				PendingSince: t0.Add(-30 * time.Second), LastSeen: t0.Add(123456789), Celsius: 80.85, Threshold: 80, Unsent: true},
		}},
		Outbox: []Pending{{
			Event: notify.Event{ID: strings.Repeat("0123456789abcdef", 2), Time: t0.Add(-3 * time.Minute),
				SensorID: thermal.SensorID{Source: "nvml", Chip: "nvidia-pci-0100", Sensor: "GPU"}, Level: thermal.Critical,
				Celsius: 93, Threshold: 90, Message: "GPU at 93 °C, over 90 °C <critical> & rising",
				Readings: map[string]float64{"nvml/nvidia-pci-0100/GPU": 93, "nvml/nvidia-pci-0100/Memory": 88.25, "hwmon/k10temp-pci-00c3/Tctl": 1e-7},
				Device:   map[string]string{"model": "NVIDIA H200", "uuid": "GPU-8f0c…", "serial": "\x00\x1f\u2028\xff"}},
			Lease: t0.Add(10 * time.Second), Attempts: 2,
		}, {
			Event: notify.Event{ID: strings.Repeat("f", 32), Time: t0.In(time.FixedZone("CEST", 2*3600)),
				SensorID: thermal.SensorID{Source: "hwmon", Chip: "nct6798-isa-0290", Sensor: "fan2"}, Level: thermal.Warning,
				Celsius: 1, Threshold: 0.5, Cleared: true, Message: "fan2 \"stopped\"\n\ttab\\", Kind: thermal.KindFan},
		}},
		ConfigSHA256: strings.Repeat("ab", 32),
		Swept:        t0.Add(-time.Hour),
		RateLimits:   notify.RateLimits{"error": t0.Add(time.Minute), "": t0.Add(90 * time.Second), "monitor": t0.In(time.FixedZone("", -(9*3600 + 30*60)))},
		PushFailures: math.MaxUint64,
		History:      healthy.History,
	}
	extremes := File{
		State: alert.State{Version: -1, Breaches: []*alert.Breach{nil, {LastSeen: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
			Celsius: math.MaxFloat64, Threshold: -math.SmallestNonzeroFloat64}}},
		NoSensors: true,
		Outbox: []Pending{{Event: notify.Event{Celsius: 1e21, Threshold: 999999999999999900000,
			Readings: map[string]float64{"a": math.Copysign(0, -1), "b": 1e-6, "c": 9.99e-7, "\u00e9": 123456789.125, "<&>": 1e300, "": 5e-324}}}},
		History: pipeline.History{Spinning: map[string]bool{"off": false}, Throttles: map[string]int64{"min": math.MinInt64, "max": math.MaxInt64}},
	}
	return []File{healthy, paging, extremes, {}, {State: alert.State{Breaches: []*alert.Breach{}}}}
}

// typicalFile is the state of a healthy host: no breach, fans spinning,
// throttle counters.
func typicalFile() File {
	return File{
		State: alert.State{Version: 1},
		Swept: t0.Add(-20 * time.Minute),
		History: pipeline.History{
			Spinning: map[string]bool{"hwmon/nct6798-isa-0290/fan1": true, "hwmon/nct6798-isa-0290/fan2": true,
				"hwmon/nct6798-isa-0290/fan6": true, "nvml/nvidia-pci-0100/Fan": true},
			Throttles: map[string]int64{"cpu/package0": 12, "cpu/package1": 0},
		},
	}
}

// decodeCases are inputs at the edges of what encoding/json reads: keys
// in any case, keys given twice, null, escapes and invalid UTF-8, numbers
// at and past the limits of their fields, bad syntax, deep nesting.
var decodeCases = []string{
	``, ` `, `null`, ` null `, `{}`, `[]`, `""`, `0`, `true`, `{}x`, `{} `, "\ufeff{}", `{"version":1}{}`,
	`{"version":1,}`, `{,}`, `{"version"}`, `{"version":}`, `{"version" 1}`, `{version:1}`, `{'version':1}`,
	`{"VERSION": 7, "Breaches": null, "No_Sensors": true, "ſwept": "2026-01-02T03:04:05Z"}`,
	`{"\u0076ersion": 2, "push_failures": 3, "PUSH_FAILURES": 4}`,
	`{"breaches": [{"ſource": "a", "\u212aey": 1, "CHIP": "c", "sensor": "s", "level": "warning"}]}`,
	`{"version": 1.0}`, `{"version": 1e2}`, `{"version": -0}`, `{"version": 9223372036854775807}`,
	`{"version": 9223372036854775808}`, `{"version": "1"}`, `{"version": null}`, `{"version": 01}`,
	`{"version": -}`, `{"version": 1.}`, `{"version": .5}`, `{"version": +1}`, `{"version": 1e}`, `{"version": 1E+2}`,
	`{"push_failures": -0}`, `{"push_failures": -1}`, `{"push_failures": 18446744073709551615}`, `{"push_failures": 18446744073709551616}`,
	`{"breaches": [{"celsius": 1e308}]}`, `{"breaches": [{"celsius": 1e309}]}`, `{"breaches": [{"celsius": -1e400}]}`,
	`{"breaches": [{"celsius": 1e-400, "threshold": 4.9e-324}]}`, `{"breaches": [{"celsius": NaN}]}`,
	`{"breaches": [{"celsius": "85"}]}`, `{"breaches": [{"unsent": 1}]}`, `{"breaches": [{"unsent": null}]}`,
	`{"breaches": [null, {}, null]}`, `{"breaches": []}`, `{"breaches": {}}`, `{"breaches": [1]}`, `{"breaches": ["x"]}`,
	`{"breaches": [[]]}`, `{"breaches": [{"level": 3}]}`, `{"breaches": [{"source": ["a"]}]}`,
	`{"breaches": [{"pending_since": "2026-12-01T12:00:00.123456789+05:30"}]}`,
	`{"breaches": [{"pending_since": "2026-12-01T12:00:00.1234567891Z"}]}`,
	`{"breaches": [{"pending_since": "2026-12-01T12:00:00\u005a"}]}`, `{"breaches": [{"pending_since": "2026-12-01 12:00:00Z"}]}`,
	`{"breaches": [{"pending_since": "2026-12-01T12:00:00+24:00"}]}`, `{"breaches": [{"pending_since": "10000-01-01T00:00:00Z"}]}`,
	`{"breaches": [{"pending_since": 0}]}`, `{"breaches": [{"pending_since": {}}]}`, `{"breaches": [{"pending_since": null}]}`,
	`{"breaches": [{"pending_since": "2026-02-30T00:00:00Z"}]}`, `{"breaches": [{"pending_since": "2026-12-01T12:00:00z"}]}`,
	`{"swept": "2026-12-01T12:00:00-00:00"}`, `{"swept": "0000-01-01T00:00:00Z"}`, `{"swept": ""}`,
	`{"breaches": [{"source": "a"}], "breaches": [{"chip": "b"}, {"sensor": "c"}]}`,
	`{"breaches": [{"source": "a"}, {"source": "b"}, {"source": "c"}], "breaches": [{"chip": "x"}], "breaches": [{"level": "y"}, {"level": "z"}, {}]}`,
	`{"outbox": [{"event_id": "a", "message": "m", "readings": {"x": 1}}], "outbox": [{"event_id": "b", "readings": {"y": 2}}]}`,
	`{"outbox": [{"message": "a"}, {"message": "b"}, {"message": "c"}], "outbox": [null], "outbox": [null, null, {}]}`,
	`{"outbox": [{"readings": {"x": 1}}], "outbox": [{"readings": {}}], "outbox": [{"readings": null}], "outbox": [{"readings": {}}]}`,
	`{"outbox": [null]}`, `{"outbox": []}`, `{"outbox": null}`, `{"outbox": [1]}`, `{"outbox": {}}`,
	`{"outbox": [{"readings": {"a": null, "b": 1, "a": 2, "c": null}, "device": {"x": null, "y": "z"}}]}`,
	`{"outbox": [{"readings": {"a": "1"}}]}`, `{"outbox": [{"readings": []}]}`, `{"outbox": [{"device": {"a": 1}}]}`,
	`{"outbox": [{"attempts": 2147483648, "cleared": true, "kind": "fan", "lease": "2026-12-01T12:00:10Z"}]}`,
	`{"rate_limits": {"": "2026-12-01T12:01:00Z", "error": null, "monitor": "2026-12-01T12:00:00+01:00"}}`,
	`{"rate_limits": {"error": 1}}`, `{"rate_limits": null, "rate_limits": {}}`, `{"rate_limits": {"a": "2026-12-01T12:01:00Z"}, "rate_limits": {"b": "2026-12-01T12:02:00Z"}}`,
	`{"spinning_fans": {"a": true, "b": false, "c": null}, "throttle_counts": {"x": -5, "y": null}}`,
	`{"spinning_fans": {"a": 1}}`, `{"throttle_counts": {"x": 1.5}}`, `{"throttle_counts": {"x": 9223372036854775808}}`,
	`{"config_sha256": "\u00e9\ud83d\ude00\ud800\udc00\ud800x\udc00\ud800\ud800\ud83d\\u0041\/\b\f\n\r\t\"\\"}`,
	"{\"config_sha256\": \"\xff\xfe\xed\xa0\x80\xc3\xa9\xf0\x9f\x98\x80\xf4\x90\x80\x80\xc0\xaf\"}",
	"{\"config_sha256\": \"a\x01b\"}", "{\"config_sha256\": \"a\x7fb\"}", `{"config_sha256": "\x"}`, `{"config_sha256": "\u12"}`,
	`{"config_sha256": "\u00C9\uD83D\uDE00\uDBFF\uDFFF\uDFFF\uD800"}`, `{"config_sha256": "\u12g4"}`, `{"config_sha256": "\'"}`, `{"config_sha256": "abc`, `{"config_sha256": "abc\`,
	"{\"\xff\": 1, \"a\\u0000\": 2, \"\": 3}", `{"no_sensors": true, "no_sensors": false}`, `{"no_sensors": "true"}`,
	`{"no_sensors": tru}`, `{"no_sensors": nul}`, `{"no_sensors": True}`, `{"no_sensors": null}`,
	"\t\r\n {\t\r\n \"version\"\t\r\n :\t\r\n 1\t\r\n ,\t\r\n \"breaches\" : [ null , { } ] }\t\r\n ",
	"{\"version\":\v1}", "{\"version\":\f1}", "{\"version\":\u00a01}",
	`{"unknown": {"a": [1, 2.5e-3, -0, true, false, null, "s", {"b": {}}, []], "c": "\u2028"}, "version": 3}`,
	`{"unknown": [1 2]}`, `{"unknown": {"a" 1}}`, `{"unknown": [,]}`, `{"unknown": [1,]}`, `{"unknown": {"a":1,}}`,
	`{"unknown": 00}`, `{"unknown": -01}`, `{"unknown": 1.5e+}`, `{"unknown": [}`, `{"unknown": {]}`,
	`{"unknown": ` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`,
	`{"unknown": ` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`,
	`{"unknown": ` + strings.Repeat(`{"a":`, maxDepth-1) + `1` + strings.Repeat("}", maxDepth-1) + `}`,
	`{"unknown": ` + strings.Repeat(`{"a":`, maxDepth) + `1` + strings.Repeat("}", maxDepth) + `}`,
}

// Every case of decodeCases, and every sample file, is read as
// encoding/json reads it; and some results spelled out, so that the
// oracle itself is not taken on trust.
func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range decodeCases {
		agreeDecode(t, []byte(in))
	}
	for _, s := range sampleFiles() {
		b, _ := json.MarshalIndent(s, "", "  ")
		agreeDecode(t, b)
	}
	var f File
	in := `{"VERSION": 7, "ſwept": "2026-01-02T03:04:05Z", "breaches": [{"\u212aey": 1, "CHIP": "c"}], "version": 8}`
	if err := decodeFile([]byte(in), &f); err != nil || f.Version != 8 || f.Swept.IsZero() || len(f.Breaches) != 1 || f.Breaches[0].Chip != "c" {
		t.Errorf("keys folded: %+v, %v", f, err)
	}
	if err := decodeFile([]byte(`{"unknown": `+strings.Repeat("[", maxDepth)+strings.Repeat("]", maxDepth)+`}`), &f); err == nil {
		t.Errorf("nesting deeper than %d was read", maxDepth)
	}
}

// The sample files, and values at the edges of what encoding/json writes
// (or refuses to), are written as json.MarshalIndent writes them.
func TestEncodeAgreesWithEncodingJSON(t *testing.T) {
	for _, f := range sampleFiles() {
		agreeEncode(t, &f)
	}
	refused := []File{
		{State: alert.State{Breaches: []*alert.Breach{{Celsius: math.NaN()}}}},
		{State: alert.State{Breaches: []*alert.Breach{{Threshold: math.Inf(-1)}}}},
		{Outbox: []Pending{{Event: notify.Event{Readings: map[string]float64{"a": math.Inf(1)}}}}},
		{Swept: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Swept: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{RateLimits: notify.RateLimits{"": t0.In(time.FixedZone("", 24*3600))}},
	}
	for _, f := range refused {
		if _, ok := agreeEncode(t, &f); ok {
			t.Errorf("%+v was written", f)
		}
	}
	f := File{Swept: time.Now(), ConfigSHA256: "\u2028<a href=\"x\">&amp;</a>\xff\x00\x7f"} // a monotonic reading, escapes
	agreeEncode(t, &f)
	agreeEncode(t, &File{Swept: time.Time{}.In(time.FixedZone("", -3600))}) // zero in another zone: omitted
}

// Every field of File, and of every type it holds, is written and read
// back by the codec: one added to a struct and not to codec.go fails
// here.
func TestCodecKnowsEveryField(t *testing.T) {
	var f File
	fill(t, reflect.ValueOf(&f).Elem(), 1)
	b, ok := agreeEncode(t, &f)
	if !ok {
		t.Fatal("not written")
	}
	got, ok := agreeDecode(t, b)
	if !ok || !reflect.DeepEqual(*got, f) {
		t.Errorf("read back:\n%#v\nwant\n%#v", got, f)
	}
}

// fill sets v, and everything in it, to a value that is not zero (not
// omitted by omitempty or omitzero), derived from n.
func fill(t *testing.T, v reflect.Value, n int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(n))
	case reflect.Uint64:
		v.SetUint(uint64(n))
	case reflect.Float64:
		v.SetFloat(float64(n) + 0.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, v.Index(0), n)
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k, n)
		fill(t, e, n)
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(t0.Add(time.Duration(n))))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i), n*16+i+1)
			}
		}
	default:
		t.Fatalf("fill: a %v in File: teach fill, and codec.go", v.Type())
	}
}

// gen makes values of the bytes it is given, a byte or a few at a time;
// once they run out, it makes zeros.
type gen struct{ b []byte }

func (g *gen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

// intn returns a number in [0, n).
func (g *gen) intn(n int) int { return int(g.byte()) % n }

func (g *gen) u64() uint64 {
	var v uint64
	for range 8 {
		v = v<<8 | uint64(g.byte())
	}
	return v
}

var genStrings = []string{
	"hwmon", "coretemp-isa-0000", "Package id 0", "warning", "critical", strings.Repeat("0a", 16),
	"<b>&amp;</b>", "\u2028\u2029", "\x00\x01\x1f\x7f", "\xff", "\xed\xa0\x80", "a\xc3", "é😀\ufffd",
	"\"\\/\b\f\n\r\t", "ſource", "\u212a",
}

// str returns a string: one of genStrings, or bytes as they come.
func (g *gen) str() string {
	switch g.intn(3) {
	case 1:
		return genStrings[g.intn(len(genStrings))]
	case 2:
		var b []byte
		for range g.intn(12) {
			b = append(b, g.byte())
		}
		return string(b)
	}
	return ""
}

var genFloats = []float64{
	math.Copysign(0, -1), 1e-6, 1e-7, 9.999999999999999e-7, 1e20, 1e21, 999999999999999900000, 85.5, -40.25, 0.1,
	math.MaxFloat64, -math.SmallestNonzeroFloat64, 1e-9, 1.5e300, 1e-100, math.NaN(), math.Inf(1), math.Inf(-1),
}

// float returns a float64: one of genFloats, any bits, or a reading.
func (g *gen) float() float64 {
	switch g.intn(4) {
	case 1:
		return genFloats[g.intn(len(genFloats))]
	case 2:
		return math.Float64frombits(g.u64())
	case 3:
		return float64(int16(g.u64())) / 8
	}
	return 0
}

var monotonic = time.Now()

// time returns a time: zero, in UTC, in any zone (even one a day or more
// off UTC), local with a monotonic reading, or in any year.
func (g *gen) time() time.Time {
	sec, nsec := int64(g.u64()%(1<<35))-1<<33, int64(g.u64()%1e9)
	switch g.intn(7) {
	case 1:
		return time.Unix(sec, nsec).UTC()
	case 2:
		return time.Unix(sec, nsec).In(time.FixedZone(g.str(), int(int32(g.u64()))%(30*3600)))
	case 3:
		return monotonic.Add(time.Duration(int32(g.u64())))
	case 4:
		return time.Unix(int64(g.u64()), nsec)
	case 5:
		return time.Time{}.In(time.FixedZone("", int(int16(g.u64()))))
	case 6:
		return time.Unix(sec, nsec).In(time.Local)
	}
	return time.Time{}
}

// count returns -1 (nil), 0 (empty) or up to 3.
func (g *gen) count() int { return g.intn(5) - 1 }

func (g *gen) file() *File {
	f := &File{State: alert.State{Version: int(int64(g.u64()))}}
	if n := g.count(); n >= 0 {
		f.Breaches = make([]*alert.Breach, n)
		for i := range f.Breaches {
			f.Breaches[i] = g.breach()
		}
	}
	if n := g.count(); n >= 0 {
		f.Outbox = make([]Pending, n)
		for i := range f.Outbox {
			f.Outbox[i] = g.pending()
		}
	}
	f.ConfigSHA256, f.Swept, f.NoSensors = g.str(), g.time(), g.intn(2) == 1
	f.RateLimits = genMap[notify.RateLimits](g, (*gen).time)
	f.PushFailures = g.u64() >> g.intn(64)
	f.Spinning = genMap[map[string]bool](g, func(g *gen) bool { return g.intn(2) == 1 })
	f.Throttles = genMap[map[string]int64](g, func(g *gen) int64 { return int64(g.u64()) })
	return f
}

func (g *gen) breach() *alert.Breach {
	if g.intn(4) == 0 {
		return nil
	}
	return &alert.Breach{Key: alert.Key{SensorID: g.sensor(), Level: thermal.Level(g.str())},
		PendingSince: g.time(), FiringSince: g.time(), LastSent: g.time(), LastSeen: g.time(),
		Celsius: g.float(), Threshold: g.float(), Unsent: g.intn(2) == 1}
}

func (g *gen) sensor() thermal.SensorID {
	return thermal.SensorID{Source: g.str(), Chip: g.str(), Sensor: g.str()}
}

func (g *gen) pending() Pending {
	return Pending{Event: notify.Event{ID: g.str(), Time: g.time(), SensorID: g.sensor(), Level: thermal.Level(g.str()),
		Celsius: g.float(), Threshold: g.float(), Cleared: g.intn(2) == 1, Message: g.str(),
		Readings: genMap[map[string]float64](g, (*gen).float), Device: genMap[map[string]string](g, (*gen).str), Kind: thermal.Kind(g.str())},
		Lease: g.time(), Attempts: int(int64(g.u64()) >> g.intn(64))}
}

// genMap returns nil, an empty map, or one with up to 3 keys.
func genMap[M ~map[string]V, V any](g *gen, value func(*gen) V) M {
	n := g.count()
	if n < 0 {
		return nil
	}
	m := M{}
	for range n {
		m[g.str()] = value(g)
	}
	return m
}

// BenchmarkLoadSave reads and writes back the state of a healthy host,
// as a steady beat does (unchanged, so not written again). Run it alone
// in a fresh process (-run '^$' -bench LoadSave -benchtime 1x) to see what
// a beat pays on first use, and beside BenchmarkLoadSaveJSON.
func BenchmarkLoadSave(b *testing.B) {
	path := benchStateFile(b)
	for b.Loop() {
		l := LoadFile(path)
		if l.Err != nil {
			b.Fatal(l.Err)
		}
		if err := SaveFile(path, l.File, l.Before); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadSaveJSON is BenchmarkLoadSave as it was, with
// encoding/json.
func BenchmarkLoadSaveJSON(b *testing.B) {
	path := benchStateFile(b)
	for b.Loop() {
		raw, err := readFile(path)
		if err != nil {
			b.Fatal(err)
		}
		var f File
		if err := json.Unmarshal(raw, &f); err != nil {
			b.Fatal(err)
		}
		f.validate()
		out, err := json.MarshalIndent(f, "", "  ")
		if err != nil || !bytes.Equal(append(out, '\n'), raw) {
			b.Fatal("changed", err)
		}
	}
}

// benchStateFile writes the typical state to a file of its own.
func benchStateFile(b *testing.B) string {
	path := filepath.Join(b.TempDir(), BeatFile)
	f := typicalFile()
	if err := SaveFile(path, f, nil); err != nil {
		b.Fatal(err)
	}
	return path
}
