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

	"github.com/thermal-heartbeat/thermal/alert"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/hwmon"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
	"github.com/thermal-heartbeat/thermal/notify"
	"github.com/thermal-heartbeat/thermal/nvme"
	"github.com/thermal-heartbeat/thermal/report"
	"github.com/thermal-heartbeat/thermal/state"
)

// Files in the state directory.
const (
	// nvmeLimitsFile caches each drive's WCTEMP/CCTEMP, so that a
	// steady-state beat sends one admin command per controller.
	nvmeLimitsFile = "nvme-limits.json"
	// alertStateFile holds the breaches that are pending or firing.
	alertStateFile = "state.json"
	// inventoryFile holds the hwmon inventory (names, labels, limits) so
	// that a steady-state beat reads only the inputs.
	inventoryFile = "hwmon-inventory.json"
	// inventoryTTL is how long labels and limits are trusted before a beat
	// reads them all again (a limit written at run time shows up then).
	inventoryTTL = 10 * time.Minute
	// bootIDPath changes with every boot; the inventory is keyed by it.
	bootIDPath = "/proc/sys/kernel/random/boot_id"
)

// inventoryState is the inventory file.
type inventoryState struct {
	BootID string          `json:"boot_id"`
	Sysfs  string          `json:"sysfs"`
	Built  time.Time       `json:"built"`
	Hwmon  hwmon.Inventory `json:"hwmon"`
}

// loadInventory returns the saved inventory when it belongs to this boot,
// this sysfs tree and is younger than inventoryTTL; else nil.
func loadInventory(path, sysfs string, now time.Time) (*inventoryState, string) {
	b, err := sysread.ReadFile(bootIDPath, make([]byte, 64))
	boot := string(sysread.Trim(b))
	if err != nil {
		return nil, ""
	}
	st, err := state.Load[*inventoryState](path)
	if err != nil || st == nil || st.BootID != boot || st.Sysfs != sysfs || now.Sub(st.Built) >= inventoryTTL || now.Before(st.Built) {
		return nil, boot
	}
	return st, boot
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

	limitsPath := filepath.Join(*stateDir, nvmeLimitsFile)
	known, err := state.Load[map[string]nvme.Limits](limitsPath)
	if err != nil {
		log.Warn("starting with an empty NVMe limits cache", "err", err)
	}
	invPath := filepath.Join(*stateDir, inventoryFile)
	prevInv, bootID := loadInventory(invPath, src.sysfs, e.now())
	var prev *hwmon.Inventory
	if prevInv != nil {
		prev = &prevInv.Hwmon
	}
	c := collect(src, e.now, known, cfg, prev)
	for _, err := range c.errs {
		log.Warn("source could not be read", "err", err)
	}
	b := c.beat
	var th map[sensorRef][]config.Threshold
	b.Chips, th = applyConfig(cfg, b.Chips)
	if *verbose {
		logDropped(e, b)
	}

	// Breach state: lock, evaluate, and (unless this is a dry run) save
	// before anything touches the network.
	statePath := filepath.Join(*stateDir, alertStateFile)
	var unlock func()
	if !*dryRun {
		if err := os.MkdirAll(*stateDir, 0o755); err != nil {
			log.Warn("state directory", "err", err)
		}
		if unlock, err = state.Lock(statePath, src.timeout); err != nil {
			log.Warn("breach state not locked; evaluating anyway", "err", err)
		}
	}
	st, err := state.Load[alert.State](statePath)
	if err != nil {
		log.Warn("breach state unreadable; starting fresh", "err", err)
	}
	// Announcements a failed delivery left behind go out first.
	transitions := append(st.Outbox, alert.Evaluate(&st, b.Time, alertReadings(b.Chips, th), sensorsRead(b.Chips))...)
	st.Outbox = nil
	b.Thresholds = reportThresholds(th, st.FiringKeys())

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
	if inv := c.inventory; inv != nil && bootID != "" && (prevInv == nil || inv.Changed) {
		built := b.Time
		if prevInv != nil {
			built = prevInv.Built // a partial update does not extend the TTL
		}
		if err := state.Save(invPath, inventoryState{BootID: bootID, Sysfs: src.sysfs, Built: built, Hwmon: *inv}); err != nil {
			log.Warn("hwmon inventory not saved; the next beat reads labels and limits again", "err", err)
		}
	}
	if len(c.learned) > 0 {
		if known == nil {
			known = map[string]nvme.Limits{}
		}
		for k, v := range c.learned {
			known[k] = v
		}
		if err := state.Save(limitsPath, known); err != nil {
			log.Warn("NVMe limits not cached; the next beat identifies the drives again", "err", err)
		}
	}
	if !deliver(e, log, cfg, b, transitions, readingCount(b.Chips) > 0, src.timeout) && len(transitions) > 0 {
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
func deliver(e env, log *slog.Logger, cfg *config.Config, b report.Beat, transitions []alert.Transition, ok bool, timeout time.Duration) (delivered bool) {
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
			readings := beatReadings(b)
			for _, t := range transitions {
				s.Event(eventFor(host, t, readings))
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

// beatReadings flattens the readings for an event's context.
func beatReadings(b report.Beat) map[string]float64 {
	m := map[string]float64{}
	for _, c := range b.Chips {
		for _, s := range c.Sensors {
			if s.Err == nil {
				m[c.Source+"/"+c.Name+"/"+s.Name] = s.Celsius()
			}
		}
	}
	return m
}

func eventFor(host string, t alert.Transition, readings map[string]float64) notify.Event {
	ev := notify.Event{Source: t.Source, Chip: t.Chip, Sensor: t.Sensor, Level: t.Level,
		Celsius: t.Celsius, Threshold: t.Threshold, Readings: readings}
	switch t.Kind {
	case alert.Cleared:
		ev.Cleared = true
		ev.Message = fmt.Sprintf("%s: %s %s recovered: %g °C, below its %s threshold %g °C (less %g °C hysteresis)",
			host, t.Chip, t.Sensor, t.Celsius, t.Level, t.Threshold, t.Hysteresis)
	default:
		ev.Message = fmt.Sprintf("%s: %s %s is %g °C, above its %s threshold %g °C (firing since %s)",
			host, t.Chip, t.Sensor, t.Celsius, t.Level, t.Threshold, t.Since.UTC().Format(time.RFC3339))
	}
	return ev
}

// logDropped prints one line per chip problem and dropped sensor.
func logDropped(e env, b report.Beat) {
	for _, c := range b.Chips {
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
