package deploy

import (
	"os"
	"testing"

	"github.com/thermal-heartbeat/thermal/internal/testenv"
)

// TestMain runs the package's tests without the host's SENTRY_DSN and
// THERMAL_CHECKIN_URL: a test that wants one sets its own.
func TestMain(m *testing.M) {
	testenv.Hermetic()
	os.Exit(m.Run())
}
