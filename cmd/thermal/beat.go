package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/heartbeat"
	"github.com/thermal-heartbeat/thermal/internal/stackgrow"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
	"github.com/thermal-heartbeat/thermal/pipeline"
	"github.com/thermal-heartbeat/thermal/report"
)

// bootIDPath changes with every boot; the sources' cache is keyed by it.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// bootID returns this boot's id, or "" (no cache) when it cannot be told.
// Under ProcSubset=pid (the unit) /proc/sys is hidden: the boot is then
// named by when it happened, to 10 s (a beat whose estimate falls on the
// other side of a boundary just reads labels and limits again).
func bootID() string {
	if b, err := sysread.ReadFile(bootIDPath, make([]byte, 64)); err == nil {
		return string(sysread.Trim(b))
	}
	if t, err := sysread.BootTime(); err == nil {
		return "boot@" + strconv.FormatInt(t.Unix()/10*10, 10)
	}
	return ""
}

func beat(args []string, e env) int {
	stackgrow.Beat()
	fs := flag.NewFlagSet("thermal beat", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var src sourceFlags
	src.register(fs, true)
	textfileDir := fs.String("textfile-dir", "/var/lib/prometheus/node-exporter", "directory of node_exporter's textfile collector (Debian's and Ubuntu's prometheus-node-exporter read this one); the beat writes thermal.prom there")
	stateDir := fs.String("state-dir", "/var/lib/thermal-heartbeat", "directory for state kept between beats (the unit's StateDirectory): breaches and undelivered events (state.json), and what the sources learned of the devices (hwmon, NVMe, drive, zone, GPU, CPU and IPMI caches; a corrupt one is learnt again)")
	dryRun := fs.Bool("dry-run", false, "print the exposition to stdout and touch nothing else: no file, no state, no network")
	verbose := fs.Bool("v", false, "log every sensor that was dropped and why")
	setUsage(fs, e, "Read every temperature sensor, write <textfile-dir>/"+report.FileName+" atomically, update the breach state, "+
		"then check in to Sentry (SENTRY_DSN) and/or a heartbeat URL (THERMAL_CHECKIN_URL) and send an event for every breach "+
		"that fires, repeats or clears. --timeout bounds the reading and, separately, the delivery.\n\n"+
		"A broken configuration, an unwritable textfile or state directory never stop the beat: it goes on with the last "+
		"good configuration, checks in \"error\" and says why on stderr. Exit 0 when the textfile was written with a valid "+
		"configuration, 1 otherwise (the beat still did what it could), 2 for a usage error.")
	if !parseFlags(fs, &src, args, e) {
		if helpRequested(fs, e) {
			return exitOK
		}
		return exitUsage
	}
	if *stateDir == "" || (!*dryRun && *textfileDir == "") {
		fmt.Fprintln(e.stderr, "thermal beat: --textfile-dir and --state-dir must not be empty")
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if !*dryRun {
		switch st, err := os.Stat(*textfileDir); {
		case errors.Is(err, os.ErrNotExist):
			log.Error("textfile directory " + *textfileDir + " does not exist: create it, or point --textfile-dir at node_exporter's --collector.textfile.directory")
		case err == nil && !st.IsDir():
			log.Error("--textfile-dir " + *textfileDir + " is not a directory")
		}
	}
	host, _ := os.Hostname()
	res := heartbeat.Beat(heartbeat.Options{
		ConfigPath:  src.config,
		TextfileDir: *textfileDir,
		StateDir:    *stateDir,
		DryRun:      *dryRun,
		Timeout:     src.timeout,
		Collect: func(cfg *config.Config, cache thermal.Cache) *pipeline.Snapshot {
			return collect(src, e.now, cfg, cache)
		},
		BootID:     bootID(),
		Scope:      src.sysfs,
		Now:        e.now,
		Log:        log,
		Verbose:    *verbose,
		Stdout:     e.stdout,
		SentryDSN:  os.Getenv("SENTRY_DSN"),
		CheckInURL: os.Getenv("THERMAL_CHECKIN_URL"),
		Release:    "thermal@" + versionString(),
		Host:       host,
	})
	if !res.TextfileWritten || res.ConfigInvalid || res.DeliveryInvalid {
		return exitFail
	}
	return exitOK
}
