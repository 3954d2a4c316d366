package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/envelope"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

// sentryServer stands in for Sentry: it decodes every envelope the SDK
// posts, answers each item type with a status the test may set in status
// (set it before the first beat), and keeps the check-ins and events it
// accepted. It holds the SDK to what thermal sends: one item an envelope, a
// JSON payload, and an event's 32-digit event_id in the envelope's header
// too; anything else is answered 400. Read its fields under mu.
type sentryServer struct {
	mu       sync.Mutex
	status   map[string]func(n int) int // item type -> status of its n-th (0-based) request
	seen     map[string]int             // item type -> requests so far, whatever the answer
	paths    []string                   // URL path of every envelope decoded
	checkIns []map[string]any           // accepted, in order
	events   []map[string]any           // accepted, in order
	accepted map[string]int             // event_id -> times accepted
}

// ServeHTTP takes one envelope; items answered other than 2xx are not kept,
// and 429 comes with Retry-After: 60.
func (s *sentryServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env, err := envelope.FromRequest(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paths = append(s.paths, r.URL.Path)
	if len(env.Items) != 1 {
		http.Error(w, fmt.Sprintf("bad envelope: %d items, want 1", len(env.Items)), http.StatusBadRequest)
		return
	}
	it := env.Items[0]
	code := http.StatusOK
	if f := s.status[it.Type]; f != nil {
		code = f(s.seen[it.Type])
	}
	s.seen[it.Type]++
	var m map[string]any
	if err := json.Unmarshal(it.Payload, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if code/100 == 2 {
		if err := s.accept(env.Header, it.Type, m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
	w.WriteHeader(code)
}

// accept keeps an item answered 2xx; s.mu is held.
func (s *sentryServer) accept(header map[string]any, typ string, m map[string]any) error {
	switch typ {
	case "event":
		id, _ := m["event_id"].(string)
		if hid, _ := header["event_id"].(string); hid != id || len(id) != 32 {
			return fmt.Errorf("event_id missing or not in the header")
		}
		s.accepted[id]++
		s.events = append(s.events, m)
	case "check_in":
		s.checkIns = append(s.checkIns, m)
	}
	return nil
}

// checkInStatuses returns the accepted check-ins' statuses in order, joined
// by commas ("ok,error"); s.mu is held.
func (s *sentryServer) checkInStatuses() string {
	var out []string
	for _, ci := range s.checkIns {
		st, _ := ci["status"].(string)
		out = append(out, st)
	}
	return strings.Join(out, ",")
}

// eventCounts returns how many distinct events (by event_id) were
// accepted, and how many times in all.
func (s *sentryServer) eventCounts() (distinct, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.accepted {
		distinct++
		total += n
	}
	return distinct, total
}

// newSentry starts a sentryServer for the length of the test and points
// SENTRY_DSN at it, under project.
func newSentry(t *testing.T, project string) *sentryServer {
	t.Helper()
	srv := &sentryServer{status: map[string]func(int) int{}, seen: map[string]int{}, accepted: map[string]int{}}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Setenv("SENTRY_DSN", strings.Replace(ts.URL, "http://", "http://public@", 1)+"/"+project)
	return srv
}

// hotFixture is a tree with one CPU package at 91 °C.
const hotFixture = `
cd /devices/platform/coretemp.0
l subsystem -> /bus/platform
hwmon hwmon0 /devices/platform/coretemp.0
f name coretemp
f temp1_label Package id 0
f temp1_input 91000
f temp1_crit 100000
f temp2_label Core 0
f temp2_input 60000
`

// brokenFixture has sensors, none of which can be read.
const brokenFixture = `
cd /devices/platform/coretemp.0
l subsystem -> /bus/platform
hwmon hwmon0 /devices/platform/coretemp.0
f name coretemp
f temp1_label Package id 0
f temp1_input not a number
f temp2_label Core 0
f temp2_input -999999
`

const hotConfig = `
[[rule]]
chip = "coretemp-*"
sensor = "Package id *"
warning = 85.0
for = "0s"
repeat = "1h"

[sentry]
monitor = "thermal-{hostname}"
environment = "test"
`

func beatAt(t *testing.T, now time.Time, args ...string) (int, string) {
	t.Helper()
	var out, errb strings.Builder
	code := run(append([]string{"beat"}, args...), env{stdout: &out, stderr: &errb, now: func() time.Time { return now }})
	return code, errb.String()
}

func TestSentryCheckInAndBreachEvent(t *testing.T) {
	srv := newSentry(t, "42")
	root := sysfstest.UnpackString(t, hotFixture)
	cfg := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(cfg, []byte(hotConfig), 0o644)
	textfile, stateDir := t.TempDir(), t.TempDir()
	args := []string{"--sysfs", root, "--dev", noDev, "--config", cfg, "--textfile-dir", textfile, "--state-dir", stateDir}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

	if code, stderr := beatAt(t, t0, args...); code != exitOK || stderr != "" {
		t.Fatalf("beat 1: exit %d: %s", code, stderr)
	}
	if code, stderr := beatAt(t, t0.Add(30*time.Second), args...); code != exitOK || stderr != "" {
		t.Fatalf("beat 2: exit %d: %s", code, stderr)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, p := range srv.paths {
		if p != "/api/42/envelope/" {
			t.Errorf("SDK posted to %s", p)
		}
	}
	if len(srv.checkIns) != 2 {
		t.Fatalf("%d check-ins, want one per beat", len(srv.checkIns))
	}
	host, _ := os.Hostname()
	ci := srv.checkIns[0]
	mc, _ := ci["monitor_config"].(map[string]any)
	sched, _ := mc["schedule"].(map[string]any)
	if ci["status"] != "ok" || !strings.HasPrefix(ci["monitor_slug"].(string), "thermal-") ||
		sched["type"] != "interval" || sched["value"] != 1.0 || sched["unit"] != "minute" ||
		mc["checkin_margin"] != 1.0 || mc["failure_issue_threshold"] != 2.0 || mc["recovery_threshold"] != 2.0 {
		t.Errorf("check-in = %v", ci)
	}
	if len(srv.events) != 1 {
		t.Fatalf("%d events, want 1: the breach fires on beat 1 and is not re-sent before repeat", len(srv.events))
	}
	ev := srv.events[0]
	tags, _ := ev["tags"].(map[string]any)
	want := map[string]any{"source": "hwmon", "chip": "coretemp-isa-0000", "sensor": "Package id 0", "celsius": "91", "threshold": "85", "level": "warning"}
	for k, v := range want {
		if tags[k] != v {
			t.Errorf("tag %s = %v, want %v", k, tags[k], v)
		}
	}
	if ev["level"] != "warning" || ev["release"] != "thermal@"+versionString() || ev["environment"] != "test" {
		t.Errorf("event level %v release %v environment %v", ev["level"], ev["release"], ev["environment"])
	}
	msg, _ := ev["message"].(string)
	if !strings.Contains(msg, "coretemp-isa-0000 Package id 0 is 91 °C, above its warning threshold 85 °C") || !strings.HasPrefix(msg, host) {
		t.Errorf("message %q", msg)
	}
	fp, _ := json.Marshal(ev["fingerprint"])
	if string(fp) != `["thermal","`+host+`","hwmon","coretemp-isa-0000","Package id 0","warning"]` {
		t.Errorf("fingerprint %s", fp)
	}
	ctx, _ := ev["contexts"].(map[string]any)
	readings, _ := ctx["thermal"].(map[string]any)
	if readings["hwmon/coretemp-isa-0000/Core 0"] != 60.0 || readings["hwmon/coretemp-isa-0000/Package id 0"] != 91.0 {
		t.Errorf("thermal context %v", readings)
	}
	prom, _ := os.ReadFile(filepath.Join(textfile, "thermal.prom"))
	if !strings.Contains(string(prom), `node_thermal_alert{chip="coretemp-isa-0000",level="warning",sensor="Package id 0",source="hwmon"} 1`) {
		t.Errorf("textfile does not show the alert firing:\n%s", prom)
	}
}

func TestBreachClearsOnceAndCheckInErrorWithoutReadings(t *testing.T) {
	srv := newSentry(t, "7")
	root := sysfstest.UnpackString(t, hotFixture)
	cfg := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(cfg, []byte(hotConfig), 0o644)
	stateDir := t.TempDir()
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	args := func(sysfs string) []string {
		return []string{"--sysfs", sysfs, "--dev", noDev, "--config", cfg, "--textfile-dir", t.TempDir(), "--state-dir", stateDir}
	}
	beatAt(t, t0, args(root)...)
	cool := sysfstest.UnpackString(t, strings.Replace(hotFixture, "temp1_input 91000", "temp1_input 70000", 1))
	beatAt(t, t0.Add(30*time.Second), args(cool)...)
	beatAt(t, t0.Add(60*time.Second), args(cool)...)
	beatAt(t, t0.Add(90*time.Second), args(t.TempDir())...) // no sensors at all (a VM): ok
	broken := sysfstest.UnpackString(t, brokenFixture)
	beatAt(t, t0.Add(120*time.Second), args(broken)...) // sensors, none readable: error
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var levels []string
	for _, ev := range srv.events {
		levels = append(levels, ev["level"].(string))
	}
	if strings.Join(levels, ",") != "warning,info" {
		t.Errorf("event levels %v, want the breach then one recovery", levels)
	}
	var statuses []string
	for _, ci := range srv.checkIns {
		statuses = append(statuses, ci["status"].(string))
	}
	if strings.Join(statuses, ",") != "ok,ok,ok,ok,error" {
		t.Errorf("check-in statuses %v", statuses)
	}
}

func TestCorruptStateStartsFresh(t *testing.T) {
	root := sysfstest.UnpackString(t, hotFixture)
	stateDir := t.TempDir()
	os.WriteFile(filepath.Join(stateDir, "state.json"), []byte("{not json"), 0o644)
	code, stderr := beatAt(t, time.Now(), "--sysfs", root, "--dev", noDev, "--config", "builtin", "--textfile-dir", t.TempDir(), "--state-dir", stateDir)
	if code != exitOK || !strings.Contains(stderr, "breach state unreadable; starting fresh") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(stateDir, "state.json"))
	if !json.Valid(b) {
		t.Errorf("state not replaced: %s", b)
	}
}

// TestNetworkNeverHoldsTheBeat: an endpoint that accepts and never answers,
// and one that refuses; the textfile is written and the beat ends within
// --timeout and a margin.
func TestNetworkNeverHoldsTheBeat(t *testing.T) {
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	refused := testenv.FreeAddr(t)
	root := sysfstest.UnpackString(t, hotFixture)
	for _, tc := range []struct{ desc, dsn, url string }{
		{"blackholed", "http://public@" + hole.Addr().String() + "/1", "http://" + hole.Addr().String() + "/ping"},
		{"refused", "http://public@" + refused + "/1", "http://" + refused + "/ping"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			t.Setenv("SENTRY_DSN", tc.dsn)
			t.Setenv("THERMAL_CHECKIN_URL", tc.url)
			textfile := t.TempDir()
			start := time.Now()
			code, stderr := beatAt(t, time.Now(), "--sysfs", root, "--dev", noDev, "--config", "builtin", "--timeout", "1s",
				"--textfile-dir", textfile, "--state-dir", t.TempDir())
			took := time.Since(start)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if took > 3*time.Second {
				t.Errorf("beat took %v with --timeout 1s", took)
			}
			if _, err := os.Stat(filepath.Join(textfile, "thermal.prom")); err != nil {
				t.Errorf("no textfile: %v", err)
			}
			if !strings.Contains(stderr, "heartbeat URL") {
				t.Errorf("the failed check-in is not logged: %q", stderr)
			}
		})
	}
}

func TestHeartbeatURL(t *testing.T) {
	var mu sync.Mutex
	var got []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
	}))
	defer ts.Close()
	root := sysfstest.UnpackString(t, hotFixture)
	for _, u := range []string{ts.URL + "/api/1/cron/thermal/key/", ts.URL + "/hc/uuid{fail}", ts.URL + "/api/push/tok?status={up}&msg=thermal"} {
		t.Setenv("THERMAL_CHECKIN_URL", u)
		beatAt(t, time.Now(), "--sysfs", root, "--dev", noDev, "--config", "builtin", "--textfile-dir", t.TempDir(), "--state-dir", t.TempDir())
		broken := sysfstest.UnpackString(t, brokenFixture)
		beatAt(t, time.Now(), "--sysfs", broken, "--dev", noDev, "--config", "builtin", "--textfile-dir", t.TempDir(), "--state-dir", t.TempDir())
	}
	want := []string{
		"POST /api/1/cron/thermal/key/?status=ok", "POST /api/1/cron/thermal/key/?status=error",
		"POST /hc/uuid", "POST /hc/uuid/fail",
		"POST /api/push/tok?status=up&msg=thermal", "POST /api/push/tok?status=down&msg=thermal",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Eight beats at once over one state directory: the lock makes them take
// turns, so the breach fires once, not once per beat.
func TestConcurrentBeatsKeepStateIntact(t *testing.T) {
	srv := newSentry(t, "3")
	root := sysfstest.UnpackString(t, hotFixture)
	cfg := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(cfg, []byte(hotConfig), 0o644)
	stateDir, textfile := t.TempDir(), t.TempDir()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errb strings.Builder
			if code := run([]string{"beat", "--sysfs", root, "--dev", noDev, "--config", cfg, "--textfile-dir", textfile, "--state-dir", stateDir},
				env{stdout: &out, stderr: &errb, now: time.Now}); code != exitOK {
				t.Errorf("exit %d: %s", code, errb.String())
			}
		}()
	}
	wg.Wait()
	b, err := os.ReadFile(filepath.Join(stateDir, "state.json"))
	if err != nil || !json.Valid(b) || !strings.Contains(string(b), `"firing_since"`) {
		t.Errorf("state after concurrent beats: %v\n%s", err, b)
	}
	for _, dir := range []string{stateDir, textfile} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tmp") {
				t.Errorf("temporary file left in %s: %s", dir, e.Name())
			}
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.events) != 1 || len(srv.checkIns) != 8 {
		t.Errorf("%d events and %d check-ins from 8 concurrent beats, want 1 and 8", len(srv.events), len(srv.checkIns))
	}
}

// A breach that fires while Sentry is unreachable is not lost: the event
// waits in the state's outbox and the next beat sends it, once.
func TestUndeliveredEventIsSentNextBeat(t *testing.T) {
	root := sysfstest.UnpackString(t, hotFixture)
	cfg := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(cfg, []byte(hotConfig), 0o644)
	stateDir := t.TempDir()
	args := []string{"--sysfs", root, "--dev", noDev, "--config", cfg, "--textfile-dir", t.TempDir(), "--state-dir", stateDir, "--timeout", "2s"}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

	t.Setenv("SENTRY_DSN", "http://public@"+testenv.FreeAddr(t)+"/5") // refused
	if code, stderr := beatAt(t, t0, args...); code != exitOK || !strings.Contains(stderr, "kept for the next beat") {
		t.Fatalf("beat 1: exit %d, stderr %q", code, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(stateDir, "state.json"))
	if !strings.Contains(string(b), `"outbox"`) {
		t.Fatalf("no outbox in the state:\n%s", b)
	}

	srv := newSentry(t, "5")
	beatAt(t, t0.Add(30*time.Second), args...)
	beatAt(t, t0.Add(60*time.Second), args...)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.events) != 1 || srv.events[0]["level"] != "warning" {
		t.Errorf("events after Sentry came back: %d, want the postponed one once", len(srv.events))
	}
	b, _ = os.ReadFile(filepath.Join(stateDir, "state.json"))
	if strings.Contains(string(b), `"outbox"`) {
		t.Errorf("outbox not emptied:\n%s", b)
	}
}

// A controller that never answers (its node here a FIFO, whose open blocks
// like an admin command on a wedged drive) costs NVMe half the deadline;
// every other reading still arrives (review finding: hwmon used to wait for
// NVMe on the same, already expired deadline).
func TestHungNVMeDoesNotStarveHwmon(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../../testdata/sysfs/intel-server.tree")
	dev := t.TempDir()
	for _, n := range []string{"nvme0", "nvme1"} {
		if err := syscall.Mkfifo(filepath.Join(dev, n), 0o600); err != nil {
			t.Skip("mkfifo:", err)
		}
		fifo := filepath.Join(dev, n)
		t.Cleanup(func() { // let the blocked opens finish
			if fd, err := syscall.Open(fifo, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				syscall.Close(fd)
			}
		})
	}
	start := time.Now()
	code, out, stderr := runThermal(t, "beat", "--dry-run", "--sysfs", root, "--dev", dev, "--timeout", "1s")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("beat took %v with --timeout 1s", took)
	}
	for _, want := range []string{
		`node_thermal_celsius{chip="coretemp-isa-0000",sensor="Package id 0",source="hwmon"} 45`,
		`node_thermal_celsius{chip="thermal_zone0",sensor="acpitz",source="thermal_zone"} 27.8`,
		`node_thermal_read_errors{chip="nvme-pci-0100",source="nvme"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %s", want)
		}
	}
	if strings.Contains(out, `chip="nvme-pci-0100",sensor="Composite"`) {
		t.Error("the hung controller's kernel hwmon chip was read (it would hang the same way)")
	}
}
