package main

// Each test here reproduces a way a page was lost, duplicated or a
// heartbeat stopped (issue 9), against real HTTP servers, real signals and
// real filesystems.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/testenv"
	"github.com/thermal-heartbeat/thermal/state"
)

// hotBeat sets up a tree with one breaching sensor, a config whose rule
// fires at once, and returns the beat's arguments.
func hotBeat(t *testing.T, extra ...string) (args []string, stateDir, textfile string) {
	t.Helper()
	root := sysfstest.UnpackString(t, hotFixture)
	cfg := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(cfg, []byte(hotConfig), 0o644)
	stateDir, textfile = t.TempDir(), t.TempDir()
	args = append([]string{"--sysfs", root, "--dev", noDev, "--config", cfg, "--textfile-dir", textfile, "--state-dir", stateDir, "--timeout", "2s"}, extra...)
	return args, stateDir, textfile
}

// blackhole accepts connections and never answers.
func blackhole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	return l.Addr().String()
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// thermalBinary builds the command once per test run.
func thermalBinary(t *testing.T) string {
	t.Helper()
	testenv.Need(t, "go")
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "thermal-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "thermal")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func outbox(t *testing.T, stateDir string) []map[string]any {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(stateDir, "state.json"))
	var st struct {
		Outbox []map[string]any `json:"outbox"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state.json: %v\n%s", err, b)
	}
	return st.Outbox
}

// A beat killed while delivering (shutdown, TimeoutStartSec, OOM) used to
// lose the page: the state said "firing" and the outbox was empty. Now the
// event is in the outbox before it is sent, and the next beat sends it,
// once. Real process, real signals, at several points of the delivery.
func TestIntegrationKilledWhileDeliveringLosesNoPage(t *testing.T) {
	bin := thermalBinary(t)
	kills := 0
	type kill struct {
		sig   syscall.Signal
		after time.Duration
	}
	cases := []kill{
		{syscall.SIGTERM, 1500 * time.Millisecond},
		{syscall.SIGKILL, 1500 * time.Millisecond},
		{syscall.SIGTERM, 300 * time.Millisecond},
		{syscall.SIGKILL, 50 * time.Millisecond},
	}
	// And at random points: before the state is committed, while it is,
	// while the textfile is written, while delivering.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	for i := 0; i < 8; i++ {
		sig := syscall.SIGTERM
		if i%2 == 1 {
			sig = syscall.SIGKILL
		}
		cases = append(cases, kill{sig, time.Duration(rng.Int64N(int64(1200 * time.Millisecond)))})
	}
	for _, tc := range cases {
		args, stateDir, _ := hotBeat(t, "--timeout", "5s")
		cmd := exec.Command(bin, append([]string{"beat"}, args...)...)
		cmd.Env = append(os.Environ(), "SENTRY_DSN=http://public@"+blackhole(t)+"/1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(tc.after)
		cmd.Process.Signal(tc.sig)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.Success() {
			t.Logf("%v after %v: the beat ended on its own (%v); nothing to prove", tc.sig, tc.after, err)
			continue
		}
		kills++
		if tc.after >= time.Second && len(outbox(t, stateDir)) != 1 {
			// By then the state is committed and the beat is on the network.
			t.Errorf("%v after %v: outbox %v, want the event", tc.sig, tc.after, outbox(t, stateDir))
		}
		// Sentry is back: the next beats page, exactly once (the killed
		// beat's lease on the event has run out by the next timer beat).
		stub := newSentry(t, "1")
		for i := 1; i <= 2; i++ {
			if code, stderr := beatAt(t, time.Now().Add(time.Duration(i)*30*time.Second), args...); code != exitOK {
				t.Fatalf("beat after the kill: exit %d: %s", code, stderr)
			}
		}
		if distinct, total := stub.eventCounts(); distinct != 1 || total != 1 {
			t.Errorf("%v after %v: %d distinct events accepted %d times, want 1 once", tc.sig, tc.after, distinct, total)
		}
		if ob := outbox(t, stateDir); len(ob) != 0 {
			t.Errorf("outbox not emptied: %v", ob)
		}
	}
	t.Logf("kills survived: %d, events lost: 0", kills)
}

// {"breaches":[null]} used to panic every beat forever: no textfile, no
// check-in. Malformed states now start fresh where they must and the
// heartbeat goes on.
func TestMalformedStateKeepsTheHeartbeat(t *testing.T) {
	for _, state := range []string{
		`{"breaches":[null]}`,
		`{"breaches":[{"level":"warning"}]}`,
		`{"breaches":{"a":1}}`,
		`{"outbox":[null,{"event_id":"x"}],"breaches":[]}`,
		`{"version":1,"breaches":[{"source":"hwmon","chip":"coretemp-isa-0000","sensor":"Package id 0","level":"warning","pending_since":"2026-11-21T12:00:00Z","celsius":1e999}]}`,
		"\x00\xff",
	} {
		stub := newSentry(t, "9")
		args, stateDir, textfile := hotBeat(t)
		os.WriteFile(filepath.Join(stateDir, "state.json"), []byte(state), 0o644)
		code, stderr := beatAt(t, time.Now(), args...)
		if code != exitOK {
			t.Errorf("state %q: exit %d: %s", state, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(textfile, "thermal.prom")); err != nil {
			t.Errorf("state %q: no textfile", state)
		}
		b, _ := os.ReadFile(filepath.Join(stateDir, "state.json"))
		if !json.Valid(b) || strings.Contains(string(b), "null") {
			t.Errorf("state %q not replaced: %s", state, b)
		}
		stub.mu.Lock()
		if statuses := stub.checkInStatuses(); statuses != "ok" || len(stub.accepted) != 1 {
			t.Errorf("state %q: check-ins %v, events %v", state, statuses, stub.accepted)
		}
		stub.mu.Unlock()
	}
}

// A refused check-in, or a 429 on the event itself, used to make every
// event of the beat be sent again on every beat (4 copies in 4 beats). Each
// event is tracked on its own and re-sent under its own event_id.
func TestNoDuplicateEvents(t *testing.T) {
	t.Run("check-in refused", func(t *testing.T) {
		stub := newSentry(t, "2")
		stub.status["check_in"] = func(int) int { return http.StatusInternalServerError }
		args, stateDir, _ := hotBeat(t)
		t0 := time.Now()
		for i := 0; i < 4; i++ {
			beatAt(t, t0.Add(time.Duration(i)*30*time.Second), args...)
		}
		if distinct, total := stub.eventCounts(); distinct != 1 || total != 1 {
			t.Errorf("%d distinct events accepted %d times over 4 beats, want 1 once", distinct, total)
		}
		if ob := outbox(t, stateDir); len(ob) != 0 {
			t.Errorf("outbox %v", ob)
		}
	})
	t.Run("event rate-limited, then accepted", func(t *testing.T) {
		stub := newSentry(t, "2")
		stub.status["event"] = func(n int) int {
			if n == 0 {
				return http.StatusTooManyRequests
			}
			return http.StatusOK
		}
		args, _, _ := hotBeat(t)
		t0 := time.Now()
		code, stderr := beatAt(t, t0, args...)
		if code != exitOK || !strings.Contains(stderr, "kept for the next beat") || !strings.Contains(stderr, "429") {
			t.Errorf("beat 1: exit %d: %s", code, stderr)
		}
		for i := 1; i < 4; i++ {
			beatAt(t, t0.Add(time.Duration(i)*30*time.Second), args...)
		}
		stub.mu.Lock()
		sent := stub.seen["event"]
		stub.mu.Unlock()
		if distinct, total := stub.eventCounts(); distinct != 1 || total != 1 || sent != 2 {
			t.Errorf("%d distinct events accepted %d times in %d requests, want 1 once in 2", distinct, total, sent)
		}
	})
	t.Run("event refused for good", func(t *testing.T) {
		stub := newSentry(t, "2")
		stub.status["event"] = func(int) int { return http.StatusRequestEntityTooLarge }
		args, stateDir, _ := hotBeat(t)
		_, stderr := beatAt(t, time.Now(), args...)
		beatAt(t, time.Now().Add(30*time.Second), args...)
		stub.mu.Lock()
		sent := stub.seen["event"]
		stub.mu.Unlock()
		if sent != 1 || len(outbox(t, stateDir)) != 0 || !strings.Contains(stderr, "refused by Sentry; dropped") {
			t.Errorf("a refused event was sent %d times (outbox %v): %s", sent, outbox(t, stateDir), stderr)
		}
	})
}

// A typo in the config used to stop the beat before the textfile and the
// check-in (Sentry saw a dead host, alerting stopped). The beat goes on with
// the last good config and says so everywhere.
func TestConfigTypoKeepsTheHeartbeat(t *testing.T) {
	stub := newSentry(t, "4")
	args, stateDir, textfile := hotBeat(t)
	cfg := args[5]
	if code, stderr := beatAt(t, time.Now(), args...); code != exitOK {
		t.Fatalf("good config: exit %d: %s", code, stderr)
	}
	os.WriteFile(cfg, []byte("[[rule]]\nchip = \"coretemp-*\"\nwarnin = 40.0\n"), 0o644)
	code, stderr := beatAt(t, time.Now().Add(30*time.Second), args...)
	if code != exitFail || !strings.Contains(stderr, cfg+":3: unknown key \\\"warnin\\\"") {
		t.Errorf("typo: exit %d, stderr %s", code, stderr)
	}
	prom, _ := os.ReadFile(filepath.Join(textfile, "thermal.prom"))
	for _, want := range []string{"node_thermal_config_valid 0\n",
		// the last good config's rule (85 °C), not the hardware's 100
		`node_thermal_threshold_celsius{chip="coretemp-isa-0000",level="warning",sensor="Package id 0",source="hwmon"} 85`} {
		if !strings.Contains(string(prom), want) {
			t.Errorf("textfile lacks %s:\n%s", want, prom)
		}
	}
	stub.mu.Lock()
	if statuses := stub.checkInStatuses(); statuses != "ok,error" {
		t.Errorf("check-ins %v", statuses)
	}
	stub.mu.Unlock()
	if _, err := os.Stat(filepath.Join(stateDir, "thermal.last-good.toml")); err != nil {
		t.Errorf("last good config not kept: %v", err)
	}
	// check stays strict.
	if code, _, _ := runThermal(t, "check", "--sysfs", args[1], "--config", cfg); code != exitUsage {
		t.Errorf("check on the typo: exit %d", code)
	}
	// Without a last good one, the built-in defaults apply.
	args2, _, textfile2 := hotBeat(t)
	os.WriteFile(args2[5], []byte("[rule]\n"), 0o644)
	if code, _ := beatAt(t, time.Now(), args2...); code != exitFail {
		t.Errorf("typo without a last good config: exit %d", code)
	}
	if prom, _ := os.ReadFile(filepath.Join(textfile2, "thermal.prom")); !strings.Contains(string(prom), "node_thermal_config_valid 0") ||
		!strings.Contains(string(prom), `level="warning",sensor="Package id 0",source="hwmon"} 85`) {
		t.Errorf("built-in fallback textfile:\n%s", prom)
	}
}

// mountTmpfs mounts a tmpfs with opts on a new directory, for the length of
// the test.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	testenv.Need(t, "root", "mount", "umount")
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// An unwritable textfile used to stop paging: no event, no check-in, no
// saved state. Read-only and full filesystems, for real.
func TestIntegrationUnwritableTextfileStillPages(t *testing.T) {
	full := mountTmpfs(t, "size=8k")
	filler, _ := os.Create(filepath.Join(full, "filler"))
	filler.Write(make([]byte, 64<<10)) // fills it: ENOSPC
	filler.Close()
	for name, dir := range map[string]string{"read-only": mountTmpfs(t, "ro,size=64k"), "full": full} {
		t.Run(name, func(t *testing.T) {
			stub := newSentry(t, "6")
			args, stateDir, _ := hotBeat(t)
			args[7] = dir // --textfile-dir
			code, stderr := beatAt(t, time.Now(), args...)
			if code != exitFail || !strings.Contains(stderr, "textfile not written; delivering anyway") {
				t.Errorf("exit %d: %s", code, stderr)
			}
			if distinct, _ := stub.eventCounts(); distinct != 1 {
				t.Errorf("%d events delivered, want the breach", distinct)
			}
			stub.mu.Lock()
			if statuses := stub.checkInStatuses(); statuses != "error" {
				t.Errorf("check-ins %v", statuses)
			}
			stub.mu.Unlock()
			if b, _ := os.ReadFile(filepath.Join(stateDir, "state.json")); !strings.Contains(string(b), "firing_since") {
				t.Errorf("breach state not saved:\n%s", b)
			}
		})
	}
}

// An unsavable state used to disable alerting silently (a `for` never
// elapsed, the check-in said ok). It is now an error, exported and
// checked in.
func TestIntegrationUnsavableStateIsReported(t *testing.T) {
	for name, setup := range map[string]func(t *testing.T, stateDir string) string{
		"state.json is a directory": func(t *testing.T, stateDir string) string {
			os.Mkdir(filepath.Join(stateDir, "state.json"), 0o755)
			return stateDir
		},
		"read-only state directory": func(t *testing.T, _ string) string { return mountTmpfs(t, "ro,size=64k") },
	} {
		t.Run(name, func(t *testing.T) {
			stub := newSentry(t, "8")
			args, stateDir, textfile := hotBeat(t)
			args[9] = setup(t, stateDir) // --state-dir
			code, stderr := beatAt(t, time.Now(), args...)
			if code != exitOK || !strings.Contains(stderr, "breach state not saved") {
				t.Errorf("exit %d: %s", code, stderr)
			}
			prom, _ := os.ReadFile(filepath.Join(textfile, "thermal.prom"))
			if !strings.Contains(string(prom), "node_thermal_state_saved 0\n") {
				t.Errorf("textfile does not export the failure:\n%s", prom)
			}
			stub.mu.Lock()
			if statuses := stub.checkInStatuses(); statuses != "error" {
				t.Errorf("check-ins %v", statuses)
			}
			stub.mu.Unlock()
		})
	}
}

// A beat that cannot lock the state (another beat hangs holding it) still
// pages and writes the textfile, but leaves the other beat's state as it is
// and says so in the textfile and the check-in.
func TestLockedStateIsLeftAlone(t *testing.T) {
	stub := newSentry(t, "8")
	args, stateDir, textfile := hotBeat(t)
	path := filepath.Join(stateDir, "state.json")
	other := []byte("{}\n")
	os.WriteFile(path, other, 0o644)
	unlock, err := state.Lock(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	args[len(args)-1] = "1s" // --timeout: how long the beat waits for the lock
	code, stderr := beatAt(t, time.Now(), args...)
	if code != exitOK || !strings.Contains(stderr, "breach state not saved: another beat holds its lock") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(path); string(b) != string(other) {
		t.Errorf("the locked state was overwritten:\n%s", b)
	}
	prom, _ := os.ReadFile(filepath.Join(textfile, "thermal.prom"))
	if !strings.Contains(string(prom), "node_thermal_state_saved 0\n") {
		t.Errorf("textfile does not export the failure:\n%s", prom)
	}
	if distinct, _ := stub.eventCounts(); distinct == 0 {
		t.Error("the breach was not paged")
	}
	stub.mu.Lock()
	defer stub.mu.Unlock()
	if statuses := stub.checkInStatuses(); statuses != "error" {
		t.Errorf("check-ins %v", statuses)
	}
}

// Inputs that used to escape --timeout or eat memory: a config that is a
// FIFO (its open blocked) or /dev/zero (never ends), 64 KB of nested inline
// tables (11 GB in the TOML decoder). A hung sysfs read while listing chips
// is bounded in pipeline's and hwmon's tests.
func TestConfigInputsAreBounded(t *testing.T) {
	root := sysfstest.UnpackString(t, hotFixture)
	cfgFifo := filepath.Join(t.TempDir(), "thermal.toml")
	if err := syscall.Mkfifo(cfgFifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	nested := filepath.Join(t.TempDir(), "nested.toml")
	os.WriteFile(nested, []byte("x = "+strings.Repeat("{a=", 20000)+"1"+strings.Repeat("}", 20000)+"\n"), 0o644)
	big := filepath.Join(t.TempDir(), "big.toml")
	os.WriteFile(big, []byte(strings.Repeat("# padding\n", 40000)), 0o644)
	for cfg, want := range map[string]string{cfgFifo: "not a regular file", "/dev/zero": "not a regular file", nested: "nest", big: "at most"} {
		start := time.Now()
		code, _, stderr := runThermal(t, "check", "--sysfs", root, "--config", cfg)
		if time.Since(start) > 3*time.Second || code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("--config %s: exit %d after %v: %s", cfg, code, time.Since(start), stderr)
		}
		// A beat goes on with the built-in configuration, in time.
		start = time.Now()
		code, out, _ := runThermal(t, "beat", "--dry-run", "--sysfs", root, "--config", cfg)
		if time.Since(start) > 3*time.Second || code != exitFail || !strings.Contains(out, "node_thermal_config_valid 0") {
			t.Errorf("beat --config %s: exit %d after %v", cfg, code, time.Since(start))
		}
	}
}

// Secrets stay out of logs whatever the URL looks like, and a failure says
// what happened (a 500 is not "did not finish in time").
func TestSecretsAndMessages(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer ts.Close()
	root := sysfstest.UnpackString(t, hotFixture)
	const token = "s3cr3t-t0ken-abcdef"
	for _, u := range []string{
		"http://" + testenv.FreeAddr(t) + "/ping/" + token + "%zz",
		"http://" + testenv.FreeAddr(t) + "/ping/" + token + " x",
		"http://" + testenv.FreeAddr(t) + "/ping/" + token + "é",
		"http://" + testenv.FreeAddr(t) + "/ping?key=" + token,
		ts.URL + "/ping/" + token,
	} {
		t.Setenv("THERMAL_CHECKIN_URL", u)
		_, stderr := beatAt(t, time.Now(), "--sysfs", root, "--dev", noDev, "--config", "builtin", "--textfile-dir", t.TempDir(), "--state-dir", t.TempDir())
		if strings.Contains(stderr, token) || !strings.Contains(stderr, "heartbeat URL") && !strings.Contains(stderr, "THERMAL_CHECKIN_URL is malformed") {
			t.Errorf("URL %q: stderr %s", u, stderr)
		}
		if strings.Contains(stderr, "in time") || strings.Contains(stderr, "deadline") {
			t.Errorf("URL %q: a fast failure reported as a timeout: %s", u, stderr)
		}
	}
	t.Setenv("THERMAL_CHECKIN_URL", "")
	t.Setenv("SENTRY_DSN", "http://"+token+"@"+testenv.FreeAddr(t)+"/1")
	_, stderr := beatAt(t, time.Now(), "--sysfs", root, "--dev", noDev, "--config", "builtin", "--textfile-dir", t.TempDir(), "--state-dir", t.TempDir())
	if strings.Contains(stderr, token) || !strings.Contains(stderr, "Sentry check-in") {
		t.Errorf("DSN key in the log: %s", stderr)
	}
}

// Without SENTRY_DSN (an env file gone) the outbox is kept for when it
// comes back; a full outbox says which events it drops; temporary files a
// kill left behind are swept.
func TestOutboxKeptDroppedLoudlyAndLeftoversSwept(t *testing.T) {
	args, stateDir, textfile := hotBeat(t)
	t.Setenv("SENTRY_DSN", "http://public@"+testenv.FreeAddr(t)+"/1")
	beatAt(t, time.Now(), args...)
	if len(outbox(t, stateDir)) != 1 {
		t.Fatal("no event in the outbox")
	}
	t.Setenv("SENTRY_DSN", "")
	beatAt(t, time.Now().Add(30*time.Second), args...)
	if len(outbox(t, stateDir)) != 1 {
		t.Error("the outbox was discarded without a DSN")
	}

	// A full outbox: the oldest goes, with a log line naming it.
	var st map[string]any
	b, _ := os.ReadFile(filepath.Join(stateDir, "state.json"))
	json.Unmarshal(b, &st)
	ob := st["outbox"].([]any)
	for len(ob) < 100 {
		e := map[string]any{}
		for k, v := range ob[0].(map[string]any) {
			e[k] = v
		}
		e["event_id"] = fmt.Sprintf("%032x", len(ob))
		ob = append(ob, e)
	}
	st["outbox"], st["breaches"] = ob, []any{}
	b, _ = json.Marshal(st)
	os.WriteFile(filepath.Join(stateDir, "state.json"), b, 0o644)
	old := time.Now().Add(-time.Hour)
	for _, f := range []string{filepath.Join(textfile, ".thermal.prom.123.tmp"), filepath.Join(stateDir, ".state.json.456.tmp")} {
		os.WriteFile(f, nil, 0o644)
		os.Chtimes(f, old, old)
	}
	t.Setenv("SENTRY_DSN", "http://public@"+testenv.FreeAddr(t)+"/1")
	_, stderr := beatAt(t, time.Now().Add(2*time.Hour), args...)
	if !strings.Contains(stderr, "outbox full: oldest undelivered event dropped") {
		t.Errorf("drop not logged: %s", stderr)
	}
	if n := len(outbox(t, stateDir)); n != 100 {
		t.Errorf("outbox holds %d", n)
	}
	for _, dir := range []string{textfile, stateDir} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".tmp") {
				t.Errorf("leftover %s not swept", e.Name())
			}
		}
	}
}

// probe and check on a --sysfs that is not there fail, rather than print
// "0 problems".
func TestUnreadableSysfsFailsProbeAndCheck(t *testing.T) {
	for _, cmd := range []string{"probe", "check"} {
		if code, _, stderr := runThermal(t, cmd, "--sysfs", "/nonexistent-sysfs"); code != exitFail || !strings.Contains(stderr, "nonexistent-sysfs") {
			t.Errorf("%s: exit %d: %s", cmd, code, stderr)
		}
	}
	code, out, _ := runThermal(t, "probe", "--sysfs", t.TempDir())
	if code != exitOK || !strings.Contains(out, "No sensors found") {
		t.Errorf("probe on an empty tree: exit %d:\n%s", code, out)
	}
}
