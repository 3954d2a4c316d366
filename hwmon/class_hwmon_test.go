package hwmon

import (
	"context"
	"testing"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

func fixtureChips(t *testing.T, tree string) []thermal.Chip {
	t.Helper()
	root := sysfstest.UnpackFile(t, "../testdata/sysfs/"+tree)
	fs, err := NewFS(root, thermal.DefaultRange)
	if err != nil {
		t.Fatal(err)
	}
	chips, err := fs.Chips(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return chips
}

func TestDumpIntel(t *testing.T) {
	for _, c := range fixtureChips(t, "intel-server.tree") {
		t.Logf("%s %s bus=%s asleep=%v errs=%d err=%v dev=%s", c.Source, c.Name, c.Bus, c.Asleep, c.Errors, c.Err, c.Device)
		for _, s := range c.Sensors {
			t.Logf("   %q %d err=%v max=%v crit=%v", s.Name, s.Milli, s.Err, s.Max, s.Crit)
		}
	}
}
