package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
	"github.com/thermal-heartbeat/thermal/notify"
	"github.com/thermal-heartbeat/thermal/report"
	"github.com/thermal-heartbeat/thermal/state"
)

// Files in the state directory.
const (
	// alertStateFile holds the breaches that are pending or firing.
	alertStateFile = "state.json"
	// cacheTTL is how long what the sources learned (hwmon labels and
	// limits, NVMe limits) is trusted before a beat reads it all again (a
	// limit written at run time shows up then).
	cacheTTL = 10 * time.Minute
	// bootIDPath changes with every boot; the cache is keyed by it.
	bootIDPath = "/proc/sys/kernel/random/boot_id"
)

// bootID returns this boot's id, or "" (no cache) when it cannot be read.
func bootID() string {
	b, err := sysread.ReadFile(bootIDPath, make([]byte, 64))
	if err != nil {
		return ""
	}
	return string(sysread.Trim(b))
}

func beat(args []string, e env) int {
	fs := flag.NewFlagSet("thermal beat", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var src sourceFlags
	src.register(fs)
	textfileDir := fs.String("textfile-dir", "/var/lib/node-exporter/textfile", "directory of node_exporter's textfile collector; the beat writes thermal.prom there")
	stateDir := fs.String("state-dir", "/var/lib/thermal-heartbeat", "directory for state kept between beats: breaches, the hwmon inventory, the NVMe limits cache (the unit's StateDirectory)")
	dryRun := fs.Bool("dry-run", false, "print the exposition to stdout and touch nothing else: no file, no state, no network")
	verbose := fs.Bool("v", false, "log every sensor that was dropped and why")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, `usage: thermal beat [flags]

Read every temperature sensor, write <textfile-dir>/%s atomically, update the
breach state, then check in to Sentry (SENTRY_DSN) and/or a heartbeat URL
(THERMAL_CHECKIN_URL) and send an event for every breach that fires, repeats
or clears. --timeout bounds the reading and, separately, the delivery.
Exit 0 when the textfile was written (even if some sensors or the network
failed), 1 when it could not be, 2 for a usage or configuration error.

`, report.FileName)
		fs.PrintDefaults()
	}
	cfg, ok := parseCommand(fs, &src, args, e)
	if !ok {
		return exitUsage
	}
	if *stateDir == "" || (!*dryRun && *textfileDir == "") {
		fmt.Fprintln(e.stderr, "thermal beat: --textfile-dir and --state-dir must not be empty")
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if !*dryRun {
		st, err := os.Stat(*textfileDir)
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(e.stderr, "thermal beat: textfile directory %s does not exist: create it, or point --textfile-dir at node_exporter's --collector.textfile.directory\n", *textfileDir)
			return exitFail
		case err != nil:
			fmt.Fprintf(e.stderr, "thermal beat: textfile directory: %v\n", err)
			return exitFail
		case !st.IsDir():
			fmt.Fprintf(e.stderr, "thermal beat: --textfile-dir %s is not a directory\n", *textfileDir)
			return exitFail
		}
	}

	var cache *state.Cache
	if !*dryRun {
		cache = &state.Cache{Dir: *stateDir, BootID: bootID(), Scope: src.sysfs, TTL: cacheTTL, Now: e.now()}
	}
	snap := collect(src, e.now, cfg, cacheOrNil(cache))
	for _, err := range snap.Errs {
		log.Warn("source could not be read", "err", err)
	}
	if cache != nil {
		for _, err := range cache.Warnings {
			log.Warn("cache unreadable; the sources learn afresh", "err", err)
		}
	}
	if *verbose {
		logDropped(e, snap.Chips)
	}

	// Breach state: lock, evaluate, and (unless this is a dry run) save
	// before anything touches the network.
	statePath := filepath.Join(*stateDir, alertStateFile)
	var unlock func()
	if !*dryRun {
		if err := os.MkdirAll(*stateDir, 0o755); err != nil {
			log.Warn("state directory", "err", err)
		}
		var err error
		if unlock, err = state.Lock(statePath, src.timeout); err != nil {
			log.Warn("breach state not locked; evaluating anyway", "err", err)
		}
	}
	st, err := state.Load[alert.State](statePath)
	if err != nil {
		log.Warn("breach state unreadable; starting fresh", "err", err)
	}
	// Announcements a failed delivery left behind go out first.
	values := snap.Values()
	transitions := append(st.Outbox, alert.Evaluate(&st, snap.Time, snap.Readings(), values)...)
	st.Outbox = nil
	b := snap.Beat(st.FiringKeys())

	if *dryRun {
		if unlock != nil {
			unlock()
		}
		if err := report.Write(e.stdout, b); err != nil {
			fmt.Fprintf(e.stderr, "thermal beat: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	if _, err := report.WriteFile(*textfileDir, b); err != nil {
		if unlock != nil {
			unlock()
		}
		fmt.Fprintf(e.stderr, "thermal beat: %v\n", err)
		return exitFail
	}
	if err := state.Save(statePath, st); err != nil {
		log.Warn("breach state not saved", "err", err)
	}
	if unlock != nil {
		unlock()
	}
	if err := cache.Flush(); err != nil {
		log.Warn("cache not saved; the next beat reads labels and limits again", "err", err)
	}
	_, read := snap.Sensors()
	if !deliver(e, log, cfg, values, transitions, read > 0, src.timeout) && len(transitions) > 0 {
		postpone(log, statePath, transitions, src.timeout)
	}
	return exitOK
}

// postpone puts transitions whose delivery failed into the state's outbox,
// so that the next beat sends them: a page is late, never lost.
func postpone(log *slog.Logger, statePath string, ts []alert.Transition, timeout time.Duration) {
	unlock, err := state.Lock(statePath, timeout)
	if err != nil {
		log.Warn("undelivered events dropped", "err", err)
		return
	}
	defer unlock()
	st, err := state.Load[alert.State](statePath)
	if err != nil {
		log.Warn("breach state unreadable; starting fresh", "err", err)
	}
	st.Postpone(ts)
	if err := state.Save(statePath, st); err != nil {
		log.Warn("undelivered events dropped", "err", err)
	}
}

// deliver sends the check-ins and events, all bounded by timeout. Failures
// are logged; they never change the beat's exit status. It reports whether
// the events were delivered (true when there is nowhere to send them).
func deliver(e env, log *slog.Logger, cfg *config.Config, values map[thermal.SensorID]float64, transitions []alert.Transition, ok bool, timeout time.Duration) (delivered bool) {
	dsn, url := os.Getenv("SENTRY_DSN"), os.Getenv("THERMAL_CHECKIN_URL")
	delivered = true
	if dsn == "" && url == "" {
		return delivered
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	host, _ := os.Hostname()
	var wg sync.WaitGroup
	if dsn != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := notify.NewSentry(notify.SentryOptions{DSN: dsn, Release: "thermal@" + versionString(),
				Environment: cfg.Sentry.Environment, Host: host, Monitor: config.MonitorSlug(cfg.Sentry.Monitor, host)})
			if err != nil {
				log.Warn("Sentry not configured", "err", err)
				delivered = false
				return
			}
			s.CheckIn(ok)
			for _, t := range transitions {
				s.Event(notify.EventFor(host, t, values))
			}
			if !s.Flush(ctx) {
				log.Warn("Sentry delivery did not finish in time; events are kept for the next beat", "timeout", timeout)
				delivered = false
			}
		}()
	}
	if url != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := notify.CheckInURL(ctx, http.DefaultClient, url, ok); err != nil {
				log.Warn("heartbeat URL", "err", err)
			}
		}()
	}
	wg.Wait()
	return delivered
}

// cacheOrNil keeps a nil *state.Cache from becoming a non-nil interface.
func cacheOrNil(c *state.Cache) thermal.Cache {
	if c == nil {
		return nil
	}
	return c
}

// logDropped prints one line per chip problem and dropped sensor.
func logDropped(e env, chips []thermal.Chip) {
	for _, c := range chips {
		if c.Asleep {
			fmt.Fprintf(e.stderr, "%s %s: asleep (runtime-suspended), not read\n", c.Source, c.Name)
		}
		if c.Err != nil {
			fmt.Fprintf(e.stderr, "%s %s: %v\n", c.Source, c.Name, c.Err)
		}
		for _, s := range c.Sensors {
			if s.Err != nil {
				fmt.Fprintf(e.stderr, "%s %s %q: dropped: %v\n", c.Source, c.Name, s.Name, s.Err)
			}
		}
	}
}
