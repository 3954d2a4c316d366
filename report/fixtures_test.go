package report_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/hwmon"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/nvme"
	"github.com/thermal-heartbeat/thermal/pipeline"
	"github.com/thermal-heartbeat/thermal/report"
	"github.com/thermal-heartbeat/thermal/zones"
)

// Every fixture tree, read by the real sources through the pipeline, renders
// byte for byte as client_golang's registry and expfmt render it, with every
// breach firing and without.
func TestFixturesMatchRegistry(t *testing.T) {
	trees, _ := filepath.Glob("../testdata/sysfs/*.tree")
	if len(trees) == 0 {
		t.Fatal("no fixture trees")
	}
	trees = append(trees, "generated")
	for _, tree := range trees {
		t.Run(filepath.Base(tree), func(t *testing.T) {
			var root string
			if tree == "generated" {
				root = sysfstest.UnpackString(t, sysfstest.Generate(500))
			} else {
				root = sysfstest.UnpackFile(t, tree)
			}
			z, _ := zones.NewFS(root, thermal.DefaultRange)
			n, _ := nvme.NewFS(root, "/nonexistent-dev", thermal.DefaultRange)
			h, _ := hwmon.NewFS(root, thermal.DefaultRange)
			p := pipeline.Pipeline{Config: config.Default(), Timeout: time.Minute,
				Now:     func() time.Time { return time.Unix(1763731200, 250e6) },
				Sources: []pipeline.Source{{Source: z}, {Source: n}, {Source: h, After: []string{"nvme"}}}}
			snap := p.Collect()
			all := map[alert.Key]bool{}
			for _, r := range alert.Readings(snap.Chips) {
				all[r.Key] = true
			}
			for _, firing := range []map[alert.Key]bool{nil, all} {
				b := report.Beat{Time: snap.Time, Chips: snap.Chips}
				if firing != nil {
					b.Firing = func(id thermal.SensorID, level thermal.Level) bool {
						return firing[alert.Key{SensorID: id, Level: level}]
					}
				}
				b.Durations = map[string]time.Duration{"hwmon": time.Millisecond}
				var fast, ref bytes.Buffer
				if err := report.Write(&fast, b); err != nil {
					t.Fatal(err)
				}
				if err := report.ReferenceWrite(&ref, b); err != nil {
					t.Fatalf("registry refused the beat: %v", err)
				}
				if !bytes.Equal(fast.Bytes(), ref.Bytes()) {
					t.Errorf("fast path and registry differ\n--- registry\n%s\n--- fast\n%s", ref.String(), fast.String())
				}
			}
		})
	}
}
