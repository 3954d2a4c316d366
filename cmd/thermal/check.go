package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/notify"
)

func check(args []string, e env) int {
	fs := flag.NewFlagSet("thermal check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var src sourceFlags
	src.register(fs, false)
	setUsage(fs, e, "Validate the thresholds file, SENTRY_DSN and THERMAL_CHECKIN_URL, and show the threshold in force for "+
		"every sensor present, with where it comes from. Exit 0 when all are valid, 2 when one is not (the message names "+
		"the file and line, or the variable).")
	cfg, ok := parseCommand(fs, &src, args, e)
	if !ok {
		if helpRequested(fs, e) {
			return exitOK
		}
		return exitUsage
	}
	snap := collect(src, e.now, cfg, nil)
	snap.Derive(nil)
	for _, err := range snap.Errs {
		fmt.Fprintf(e.stderr, "thermal check: %v\n", err)
	}
	own, builtin := 0, 0
	for _, r := range cfg.Rules {
		if r.Builtin > 0 {
			builtin++
		} else {
			own++
		}
	}
	layered := ""
	if builtin > 0 {
		layered = fmt.Sprintf(", then the %d built-in rules", builtin)
	}
	fmt.Fprintf(e.stdout, "%s: OK (%d rules%s, %d ignores, %d labels)\n", cfg.DisplayPath(), own, layered, len(cfg.Ignores), len(cfg.Labels))
	deliveryOK := checkDelivery(e)
	fmt.Fprintln(e.stdout)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tCHIP\tSENSOR\tNOW\tLEVEL\tTHRESHOLD\tFOR\tHYSTERESIS\tREPEAT\tFROM")
	for _, chip := range snap.Chips {
		for _, s := range chip.Sensors {
			now := "-"
			if s.Err == nil {
				now = s.Format()
			}
			ts := s.Thresholds
			if len(ts) == 0 {
				why := "no rule and no hardware limit"
				if chip.Twin != "" && !chip.TwinOwner && (s.Max != nil || s.Crit != nil || s.Emergency != nil) {
					// One physical sensor pages once: the twin that owns
					// the limits (a zone's trip points) pages for both.
					why = "no rule; its hardware limits apply to its twin " + chip.Twin
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t-\t-\t\t\t\t%s\n", chip.Source, chip.Name, s.Name, now, why)
			}
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", chip.Source, chip.Name, s.Name, now, t.Level,
					thresholdText(t), t.For, hysteresisText(t), t.Repeat, t.Origin.String())
			}
		}
	}
	tw.Flush()
	if !deliveryOK {
		return exitUsage // the environment, like the file, is the operator's to fix
	}
	if len(snap.Errs) > 0 {
		return exitFail // the file is valid, but not every source could be read
	}
	return exitOK
}

// checkDelivery says how beats will page: SENTRY_DSN and
// THERMAL_CHECKIN_URL as the unit's EnvironmentFile= sets them (check them
// with the same file: `set -a; . /etc/thermal-heartbeat/env; thermal
// check`). A malformed one is an error naming the variable.
func checkDelivery(e env) bool {
	dsn, url := os.Getenv("SENTRY_DSN"), os.Getenv("THERMAL_CHECKIN_URL")
	ok := true
	if dsn != "" {
		if err := notify.DSNError(dsn); err != nil {
			fmt.Fprintf(e.stderr, "thermal check: SENTRY_DSN: %v\n", err)
			ok = false
		}
	}
	if url != "" {
		if err := notify.CheckInURLError(url); err != nil {
			fmt.Fprintf(e.stderr, "thermal check: THERMAL_CHECKIN_URL: %v\n", err)
			ok = false
		}
	}
	switch {
	case dsn == "" && url == "":
		fmt.Fprintln(e.stdout, "delivery: neither SENTRY_DSN nor THERMAL_CHECKIN_URL is set: beats write the textfile and page nobody")
	case ok:
		var set []string
		if dsn != "" {
			set = append(set, "SENTRY_DSN")
		}
		if url != "" {
			set = append(set, "THERMAL_CHECKIN_URL")
		}
		fmt.Fprintf(e.stdout, "delivery: %s set and well-formed (not contacted)\n", strings.Join(set, " and "))
	}
	return ok
}

// thresholdText says when a threshold fires, in its sensor's unit: a
// temperature above so many °C, a fan once it has failed, a chip while it
// throttles.
func thresholdText(t thermal.Threshold) string {
	switch t.Kind {
	case thermal.KindFan:
		return "failed"
	case thermal.KindThrottle:
		return "throttling"
	}
	return strconv.FormatFloat(t.Celsius, 'f', -1, 64) + " °C"
}

// hysteresisText is a temperature threshold's hysteresis; other kinds have
// none.
func hysteresisText(t thermal.Threshold) string {
	if t.Kind != thermal.KindTemperature {
		return "-"
	}
	return strconv.FormatFloat(t.Hysteresis, 'f', -1, 64) + " °C"
}
