package deploy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

// Hosts without node_exporter push: one beat with [push] POSTs the
// exposition to a real VictoriaMetrics (/api/v1/import/prometheus) and to a
// real Pushgateway (/metrics/job/thermal/instance/{hostname}), whose series
// are queryable right after; a dead endpoint costs the beat a log line and
// a counter, nothing else (issue 19 #8).
func TestIntegrationPush(t *testing.T) {
	testenv.Need(t, "go", "victoria-metrics", "prometheus-pushgateway")
	work := t.TempDir()
	bin := filepath.Join(work, "thermal")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/thermal").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root := sysfstest.UnpackFile(t, "../testdata/sysfs/intel-server.tree")
	vm := testenv.FreeAddr(t)
	start(t, "victoria-metrics", "-storageDataPath="+filepath.Join(work, "vm"), "-httpListenAddr="+vm, "-search.latencyOffset=0s", "-search.disableCache")
	waitHTTP(t, "http://"+vm+"/health")
	pg := testenv.FreeAddr(t)
	start(t, "prometheus-pushgateway", "--web.listen-address="+pg)
	waitHTTP(t, "http://"+pg+"/-/ready")
	host, _ := os.Hostname()

	beat := func(pushURL string) (string, string) {
		cfg := filepath.Join(t.TempDir(), "thermal.toml")
		os.WriteFile(cfg, []byte("[push]\nurl = \""+pushURL+"\"\n"), 0o644)
		textfile := t.TempDir()
		cmd := exec.Command(bin, "beat", "--sysfs", root, "--dev", "/nonexistent", "--config", cfg,
			"--textfile-dir", textfile, "--state-dir", filepath.Join(work, "state"), "--timeout", "2s")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("beat pushing to %s: %v\n%s", pushURL, err, out)
		}
		prom, _ := os.ReadFile(filepath.Join(textfile, "thermal.prom"))
		return string(out), string(prom)
	}

	beat("http://" + vm + "/api/v1/import/prometheus")
	eventually(t, 20*time.Second, "the pushed series in VictoriaMetrics", func() (bool, string) {
		var resp struct {
			Data struct {
				Result []struct {
					Metric map[string]string
					Value  []any
				}
			}
		}
		q := url.QueryEscape(`node_thermal_celsius{chip="coretemp-isa-0000",sensor="Package id 0"}`)
		if err := getJSON("http://"+vm+"/api/v1/query?query="+q, &resp); err != nil {
			return false, err.Error()
		}
		ok := len(resp.Data.Result) == 1 && resp.Data.Result[0].Value[1] == "45"
		b, _ := json.Marshal(resp)
		return ok, string(b)
	})

	beat("http://" + pg + "/metrics/job/thermal/instance/{hostname}")
	resp, err := http.Get("http://" + pg + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `node_thermal_celsius{chip="coretemp-isa-0000",instance="` + host + `",job="thermal",sensor="Package id 0",source="hwmon"} 45`
	if !strings.Contains(string(body), want) {
		t.Errorf("the Pushgateway lacks %s", want)
	}

	// A dead endpoint: the beat is fine, says why once, and counts it.
	for i := 1; i <= 2; i++ {
		log, prom := beat("http://" + testenv.FreeAddr(t) + "/api/v1/import/prometheus")
		if !strings.Contains(log, "exposition not pushed") || strings.Count(log, "\n") > 2 {
			t.Errorf("a dead push endpoint: log %q", log)
		}
		// The textfile carries the failures before this beat's.
		if want := "node_thermal_push_failures_total " + []string{"0", "1"}[i-1]; !strings.Contains(prom, want+"\n") {
			t.Errorf("beat %d against a dead endpoint: textfile lacks %q", i, want)
		}
	}
}
