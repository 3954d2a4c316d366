package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

// The Helm values for the prometheus-node-exporter chart parse, use only
// keys the chart documents (its values.yaml: extraArgs, and
// extraHostVolumeMounts entries of name, hostPath, type, mountPath,
// readOnly, mountPropagation), mount the directory the unit writes, and
// point the textfile collector at the mount (issue 19 #9).
func TestHelmValues(t *testing.T) {
	testenv.Need(t, "python3")
	out, err := exec.Command("python3", "-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
		"helm/prometheus-node-exporter-values.yaml").CombinedOutput()
	if err != nil {
		t.Fatalf("YAML: %v\n%s", err, out)
	}
	var v struct {
		ExtraArgs             []string         `json:"extraArgs"`
		ExtraHostVolumeMounts []map[string]any `json:"extraHostVolumeMounts"`
	}
	var keys map[string]any
	json.Unmarshal(out, &keys)
	for k := range keys {
		if k != "extraArgs" && k != "extraHostVolumeMounts" {
			t.Errorf("top-level key %q: not one the values need", k)
		}
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	documented := []string{"name", "hostPath", "type", "mountPath", "readOnly", "mountPropagation"}
	unit, _ := os.ReadFile("../systemd/thermal-heartbeat.service")
	textfileDir := regexp.MustCompile(`--textfile-dir (\S+)`).FindSubmatch(unit)
	if textfileDir == nil {
		t.Fatal("the unit names no --textfile-dir")
	}
	if len(v.ExtraHostVolumeMounts) != 1 {
		t.Fatalf("mounts %v", v.ExtraHostVolumeMounts)
	}
	m := v.ExtraHostVolumeMounts[0]
	for k := range m {
		if !slices.Contains(documented, k) {
			t.Errorf("mount key %q is not one the chart documents", k)
		}
	}
	if m["hostPath"] != string(textfileDir[1]) || m["readOnly"] != true || m["name"] == "" {
		t.Errorf("mount %v: want the unit's --textfile-dir %s, read-only, named", m, textfileDir[1])
	}
	want := "--collector.textfile.directory=" + m["mountPath"].(string)
	if !slices.Contains(v.ExtraArgs, want) || strings.Count(strings.Join(v.ExtraArgs, " "), "textfile.directory") != 1 {
		t.Errorf("extraArgs %v: want %s", v.ExtraArgs, want)
	}
}
