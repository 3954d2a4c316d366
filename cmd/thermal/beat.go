package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/thermal-heartbeat/thermal/nvme"
	"github.com/thermal-heartbeat/thermal/report"
	"github.com/thermal-heartbeat/thermal/state"
)

// nvmeLimitsFile caches each drive's WCTEMP/CCTEMP in the state directory, so
// that a steady-state beat sends one admin command per controller.
const nvmeLimitsFile = "nvme-limits.json"

func beat(args []string, e env) int {
	fs := flag.NewFlagSet("thermal beat", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var src sourceFlags
	src.register(fs)
	textfileDir := fs.String("textfile-dir", "/var/lib/node-exporter/textfile", "directory of node_exporter's textfile collector; the beat writes thermal.prom there")
	stateDir := fs.String("state-dir", "/var/lib/thermal-heartbeat", "directory for state kept between beats: the NVMe limits cache (the unit's StateDirectory)")
	dryRun := fs.Bool("dry-run", false, "print the exposition to stdout and touch nothing else")
	verbose := fs.Bool("v", false, "log every sensor that was dropped and why")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: thermal beat [flags]\n\nRead every temperature sensor and write <textfile-dir>/%s atomically.\nExit 0 when the textfile was written (even if some sensors failed), 1 when it could not be, 2 for a usage error.\n\n", report.FileName)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "thermal beat: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if err := src.validate(); err != nil {
		fmt.Fprintf(e.stderr, "thermal beat: %v\n", err)
		return exitUsage
	}
	if *stateDir == "" || (!*dryRun && *textfileDir == "") {
		fmt.Fprintln(e.stderr, "thermal beat: --textfile-dir and --state-dir must not be empty")
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	limitsPath := filepath.Join(*stateDir, nvmeLimitsFile)
	known, err := state.Load[map[string]nvme.Limits](limitsPath)
	if err != nil {
		log.Warn("starting with an empty NVMe limits cache", "err", err)
	}
	c := collect(src, e.now, known)
	b := c.beat
	for _, err := range c.errs {
		log.Warn("source could not be read", "err", err)
	}
	if *verbose {
		logDropped(e, b)
	}
	if *dryRun {
		if err := report.Write(e.stdout, b); err != nil {
			fmt.Fprintf(e.stderr, "thermal beat: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	if st, err := os.Stat(*textfileDir); err != nil || !st.IsDir() {
		fmt.Fprintf(e.stderr, "thermal beat: textfile directory %s does not exist: create it, or point --textfile-dir at node_exporter's --collector.textfile.directory\n", *textfileDir)
		return exitFail
	}
	if _, err := report.WriteFile(*textfileDir, b); err != nil {
		fmt.Fprintf(e.stderr, "thermal beat: %v\n", err)
		return exitFail
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
	return exitOK
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
