package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/hwmon"
	"github.com/thermal-heartbeat/thermal/nvme"
	"github.com/thermal-heartbeat/thermal/report"
	"github.com/thermal-heartbeat/thermal/zones"
)

// sourceFlags are the flags shared by every command that reads sensors.
type sourceFlags struct {
	config  string
	sysfs   string
	dev     string
	timeout time.Duration
}

func (s *sourceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.config, "config", "", "thresholds file (default "+config.DefaultPath+"; the built-in defaults apply when it does not exist)")
	fs.StringVar(&s.sysfs, "sysfs", "/sys", "sysfs mount point to read (a captured or fixture tree in tests)")
	fs.StringVar(&s.dev, "dev", "/dev", "device directory holding the NVMe controller nodes (nvme0, …)")
	fs.DurationVar(&s.timeout, "timeout", 5*time.Second, "deadline for each stage that can hang: reading the sensors (what has not arrived by then is counted as an error and left out), waiting for another beat's state lock, and delivery to Sentry and the heartbeat URL")
}

func (s *sourceFlags) validate() error {
	if s.timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %v", s.timeout)
	}
	if s.sysfs == "" || s.dev == "" {
		return fmt.Errorf("--sysfs and --dev must not be empty")
	}
	return nil
}

// parseCommand parses a command's flags, checks the shared ones and loads
// the configuration. On a usage or configuration error it says what to fix
// on stderr and returns false: the command exits with exitUsage.
func parseCommand(fs *flag.FlagSet, src *sourceFlags, args []string, e env) (*config.Config, bool) {
	if err := fs.Parse(args); err != nil {
		return nil, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return nil, false
	}
	if err := src.validate(); err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", fs.Name(), err)
		return nil, false
	}
	cfg, err := config.Load(src.config)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", fs.Name(), err)
		return nil, false
	}
	return cfg, true
}

// collected is what one collection produced.
type collected struct {
	beat report.Beat
	// learned holds NVMe limits identified in this collection, for the
	// state directory's cache.
	learned map[string]nvme.Limits
	// errs are problems that stopped a whole source (its class directory
	// could not be listed); everything else is on the chips.
	errs []error
	// inventory is the hwmon inventory for the next beat.
	inventory *hwmon.Inventory
}

// collect reads every source under one deadline. Thermal zones are read
// alongside; NVMe controllers are read first through the admin ioctl, and
// then hwmon, which leaves out the kernel's nvme chip of every controller
// the ioctl read (no duplicate series, no extra admin commands) and reads
// the others, labelled the same way.
func collect(s sourceFlags, now func() time.Time, knownLimits map[string]nvme.Limits, cfg *config.Config, inv *hwmon.Inventory) collected {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	out := collected{beat: report.Beat{Time: now(), Durations: map[string]time.Duration{}}}
	var mu sync.Mutex
	add := func(source string, start time.Time, chips []thermal.Chip, err error) {
		mu.Lock()
		defer mu.Unlock()
		out.beat.Chips = append(out.beat.Chips, chips...)
		out.beat.Durations[source] = now().Sub(start)
		if err != nil {
			out.errs = append(out.errs, err)
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		start := now()
		fs, err := zones.NewFS(s.sysfs, thermal.DefaultRange)
		if err != nil {
			add(thermal.SourceZone, start, nil, err)
			return
		}
		if cfg != nil {
			fs = fs.WithIgnore(cfg.Ignored)
		}
		chips, err := fs.Zones(ctx)
		add(thermal.SourceZone, start, chips, err)
	}()
	go func() {
		defer wg.Done()
		start := now()
		nfs, err := nvme.NewFS(s.sysfs, s.dev, thermal.DefaultRange)
		if err != nil {
			add(thermal.SourceNVMe, start, nil, err)
			return
		}
		if cfg != nil {
			nfs = nfs.WithIgnore(cfg.Ignored)
		}
		ctrls, err := nfs.Controllers()
		// A wedged controller can hold an admin command for the driver's
		// full timeout (60 s): NVMe gets half the deadline, so that hwmon,
		// which waits for it, keeps the other half.
		nctx, ncancel := context.WithTimeout(ctx, s.timeout/2)
		res := nfs.Read(nctx, ctrls, knownLimits)
		ncancel()
		out.learned = res.Learned
		add(thermal.SourceNVMe, start, res.Chips, err)

		start = now()
		byIoctl := map[string]bool{} // read (or tried, or ignored) through the ioctl: leave the kernel's chip alone
		for _, c := range res.Chips {
			byIoctl[c.Name] = true
		}
		for _, name := range res.Ignored {
			byIoctl[name] = true
		}
		hfs, err := hwmon.NewFS(s.sysfs, thermal.DefaultRange)
		if err != nil {
			add(thermal.SourceHwmon, start, nil, err)
			return
		}
		hfs = hfs.WithSkip(func(c thermal.Chip) bool { return c.Source == thermal.SourceNVMe && byIoctl[c.Name] })
		if cfg != nil {
			hfs = hfs.WithIgnore(cfg.Ignored)
		}
		chips, next, err := hfs.ChipsCached(ctx, inv)
		out.inventory = next
		byChip := map[string]nvme.Controller{}
		for _, c := range ctrls {
			byChip[c.Chip] = c
		}
		for i := range chips {
			c := &chips[i]
			if ctrl, ok := byChip[c.Name]; ok && c.Source == thermal.SourceNVMe {
				c.NVMe = &thermal.NVMe{Controller: ctrl.Name, Model: ctrl.Model, Serial: ctrl.Serial, Firmware: ctrl.Firmware,
					ReadVia: "hwmon", Fallback: res.Fallback[c.Name]}
			}
		}
		add(thermal.SourceHwmon, start, chips, err)
	}()
	wg.Wait()
	// hwmon tells its own chips apart; NVMe-over-fabrics controllers read
	// through the ioctl all share a name too.
	thermal.UniqueChipNames(out.beat.Chips)
	sort.SliceStable(out.beat.Chips, func(i, j int) bool {
		a, b := out.beat.Chips[i], out.beat.Chips[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Name < b.Name
	})
	return out
}
