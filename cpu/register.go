package cpu

import (
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// SourceName is the source label.
const SourceName = "cpu"

// Options is the configuration's [cpu] table.
type Options struct {
	// PerCore (per_core = true) reports every physical core's throttle
	// counters, not only each package's.
	PerCore bool `toml:"per_core"`
}

func init() {
	thermal.Register(thermal.Registration{
		Name: SourceName,
		New: func(env thermal.Env) (thermal.Source, error) {
			o, _ := env.Options.(*Options)
			return NewFS(env.Sysfs, o != nil && o.PerCore)
		},
		Options: func() any { return new(Options) },
		Rules: []thermal.Rule{{Kind: thermal.KindThrottle, Level: thermal.Warning, For: 5 * time.Minute, Repeat: time.Hour,
			Comment: "Throttling for heat: a CPU package whose throttle counter grows on every\nbeat for 5 minutes; a GPU that reports a thermal clock slowdown as long."}},
	})
}
