package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

// spotlight installs Sentry's Spotlight sidecar (pinned in
// testdata/spotlight) into .cache/spotlight once, starts it on a free port,
// and returns its base URL.
func spotlight(t *testing.T) string {
	t.Helper()
	needIntegration(t, "npm", "node")
	dir, _ := filepath.Abs("../../.cache/spotlight")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join("../../testdata/spotlight", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	bin := filepath.Join(dir, "node_modules", ".bin", "spotlight")
	if _, err := os.Stat(bin); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	addr := testenv.FreeAddr(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	cmd := exec.Command(bin, "server", "-p", port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(base + "/health"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spotlight did not start:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return base
}

// TestIntegrationSpotlight sends the SDK's envelopes to Spotlight, a
// receiver Sentry makes, and reads them back from its /stream endpoint.
func TestIntegrationSpotlight(t *testing.T) {
	base := spotlight(t)
	t.Setenv("SENTRY_DSN", strings.Replace(base, "http://", "http://public@", 1)+"/0")
	root := sysfstest.UnpackString(t, hotFixture)
	cfg := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(cfg, []byte(hotConfig), 0o644)
	if code, stderr := beatAt(t, time.Now(), "--sysfs", root, "--dev", noDev, "--config", cfg,
		"--textfile-dir", t.TempDir(), "--state-dir", t.TempDir()); code != exitOK || stderr != "" {
		t.Fatalf("beat: exit %d: %s", code, stderr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/stream", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var checkIn, event map[string]any
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && (checkIn == nil || event == nil) {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		// [envelope header, [[item header, payload], …]]
		var env []json.RawMessage
		if err := json.Unmarshal([]byte(data), &env); err != nil || len(env) != 2 {
			t.Fatalf("stream data %q: %v", data, err)
		}
		var items [][2]map[string]any
		if err := json.Unmarshal(env[1], &items); err != nil {
			t.Fatalf("items %s: %v", env[1], err)
		}
		for _, it := range items {
			switch it[0]["type"] {
			case "check_in":
				checkIn = it[1]
			case "event":
				event = it[1]
			}
		}
	}
	if checkIn == nil || event == nil {
		t.Fatalf("Spotlight received check-in %v, event %v", checkIn, event)
	}
	if checkIn["status"] != "ok" || !strings.HasPrefix(checkIn["monitor_slug"].(string), "thermal-") || checkIn["monitor_config"] == nil {
		t.Errorf("check-in %v", checkIn)
	}
	tags, _ := event["tags"].(map[string]any)
	if event["level"] != "warning" || tags["chip"] != "coretemp-isa-0000" || tags["sensor"] != "Package id 0" {
		t.Errorf("event level %v tags %v", event["level"], tags)
	}
}
