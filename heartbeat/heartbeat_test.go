package heartbeat

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/hwmon"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/pipeline"
)

// A host whose every read hangs has sensors, none of which could be read:
// the beat checks in error, never ok, and does not call it a host without
// sensors (issue 18 #6). It still writes its textfile, with the read
// errors.
func TestEveryReadHangingIsNotOK(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree")
	hang := make(chan struct{})
	defer close(hang)
	fs, err := hwmon.NewFS(root, thermal.DefaultRange)
	if err != nil {
		t.Fatal(err)
	}
	fs = fs.WithRead(func(string, []byte) ([]byte, error) { <-hang; return nil, io.EOF })
	var mu sync.Mutex
	var statuses []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		statuses = append(statuses, r.URL.Query().Get("status"))
		mu.Unlock()
	}))
	defer srv.Close()
	var log bytes.Buffer
	textfile := t.TempDir()
	res := Beat(Options{
		ConfigPath: config.Builtin, TextfileDir: textfile, StateDir: t.TempDir(), Timeout: 2 * time.Second,
		Collect: func(cfg *config.Config, cache thermal.Cache) *pipeline.Snapshot {
			p := pipeline.Pipeline{Sources: []pipeline.Source{{Source: fs}}, Config: cfg, Timeout: 2 * time.Second, Cache: cache}
			return p.Collect()
		},
		Log: slog.New(slog.NewTextHandler(&log, nil)), CheckInURL: srv.URL, Host: "h1", HTTP: srv.Client(),
	})
	if res.CheckInOK || res.Sensors == 0 || res.Read != 0 || !res.TextfileWritten {
		t.Errorf("result %+v; want sensors present, none read, check-in error, textfile written", res)
	}
	if strings.Contains(log.String(), "no sensors found") {
		t.Errorf("called a host without sensors:\n%s", log.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(statuses) != 1 || statuses[0] != "error" {
		t.Errorf("check-ins %v; want one error", statuses)
	}
	prom, _ := os.ReadFile(filepath.Join(textfile, "thermal.prom"))
	if !strings.Contains(string(prom), `node_thermal_read_errors{chip="hwmon0",source="hwmon"} 1`) {
		t.Errorf("textfile does not count the hung chips:\n%s", prom)
	}
}
