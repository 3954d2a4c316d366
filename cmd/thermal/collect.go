package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/config"
	"github.com/thermal-heartbeat/thermal/pipeline"
	_ "github.com/thermal-heartbeat/thermal/sources" // every source, registered
)

// sourceFlags are the flags shared by every command that reads sensors.
type sourceFlags struct {
	config  string
	sysfs   string
	dev     string
	timeout time.Duration
	devSet  bool // --dev was given
}

func (s *sourceFlags) register(fs *flag.FlagSet, beat bool) {
	fs.StringVar(&s.config, "config", "", "thresholds file (default "+config.DefaultPath+"; the built-in defaults apply when it does not exist)")
	fs.StringVar(&s.sysfs, "sysfs", "/sys", "sysfs mount point to read (a captured or fixture tree in tests)")
	fs.StringVar(&s.dev, "dev", "/dev", "device directory holding the NVMe controller, drive and BMC nodes (nvme0, sda, ipmi0, …); with --sysfs and no --dev, the dev directory beside the tree if there is one, else none (no device node of this host is opened for a fixture)")
	if beat {
		fs.DurationVar(&s.timeout, "timeout", 5*time.Second, "deadline for each stage that can hang: reading the sensors (what has not arrived by then is counted as an error and left out), waiting for another beat's state lock, and delivery to Sentry and the heartbeat URL")
	} else {
		fs.DurationVar(&s.timeout, "timeout", 5*time.Second, "deadline for reading the sensors: what has not arrived by then is shown as timed out")
	}
}

func (s *sourceFlags) validate() error {
	if s.timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %v", s.timeout)
	}
	if s.sysfs == "" || s.dev == "" && s.devSet {
		return fmt.Errorf("--sysfs and --dev must not be empty")
	}
	return nil
}

// fixtureDev points --dev, when --sysfs names a tree and --dev is not
// given, at the tree's own dev directory (beside it: a captured root's
// sys and dev), else at none: a fixture run never opens this host's
// /dev/nvme1 for the fixture's controllers.
func (s *sourceFlags) fixtureDev(fs *flag.FlagSet) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	s.devSet = set["dev"]
	if !set["sysfs"] || s.devSet || filepath.Clean(s.sysfs) == "/sys" {
		return
	}
	s.dev = ""
	if dev := filepath.Join(filepath.Dir(filepath.Clean(s.sysfs)), "dev"); dev != "/dev" {
		if st, err := os.Stat(dev); err == nil && st.IsDir() {
			s.dev = dev // a captured root: its sys and its dev
		}
	}
}

// parseCommand parses a command's flags, checks the shared ones and loads
// the configuration. On a usage or configuration error it says what to fix
// on stderr and returns false: the command exits with exitUsage.
func parseCommand(fs *flag.FlagSet, src *sourceFlags, args []string, e env) (*config.Config, bool) {
	if !parseFlags(fs, src, args, e) {
		return nil, false
	}
	cfg, err := config.Load(src.config)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", fs.Name(), err)
		return nil, false
	}
	return cfg, true
}

// parseFlags parses a command's flags and checks the shared ones; on a
// usage error it says what to fix on stderr and returns false.
func parseFlags(fs *flag.FlagSet, src *sourceFlags, args []string, e env) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(e.stdout) // asked for: stdout, exit 0 (see helpRequested)
		}
	}
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	src.fixtureDev(fs)
	if err := src.validate(); err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", fs.Name(), err)
		return false
	}
	return true
}

// setUsage gives fs its usage: asked for (-h, --help), the command's
// summary and its flags, wrapped at 80 columns; after a usage error, one
// line pointing at --help under the error, which a page of flags would
// bury.
func setUsage(fs *flag.FlagSet, e env, summary string) {
	fs.Usage = func() {
		w := fs.Output()
		if !helpRequested(fs, e) {
			fmt.Fprintf(w, "run '%s --help' for its flags\n", fs.Name())
			return
		}
		fmt.Fprintf(w, "usage: %s [flags]\n\n", fs.Name())
		for _, para := range strings.Split(summary, "\n\n") {
			fmt.Fprintln(w, wrap(para, 80, ""))
			fmt.Fprintln(w)
		}
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			line := "  -" + f.Name
			if name != "" {
				line += " " + name
			}
			fmt.Fprintln(w, line)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0s" {
				usage += " (default " + f.DefValue + ")"
			}
			fmt.Fprintln(w, wrap(usage, 80, "        "))
		})
	}
}

// wrap breaks text into lines of at most width columns (counted in
// runes), each starting with indent.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width && line != indent {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}

// helpRequested reports whether the flag set printed its help because it
// was asked to (the command then exits 0).
func helpRequested(fs *flag.FlagSet, e env) bool { return fs.Output() == e.stdout }

// collect reads every registered source under one deadline, with the
// configuration applied. cache (may be nil) keeps what the sources learn
// between beats. The snapshot is not derived yet (Snapshot.Derive): a beat
// does that with its history.
func collect(s sourceFlags, now func() time.Time, cfg *config.Config, cache thermal.Cache) *pipeline.Snapshot {
	p := pipeline.Pipeline{Config: cfg, Timeout: s.timeout, Cache: cache, Now: now,
		Env: thermal.Env{Sysfs: s.sysfs, Dev: s.dev, Range: thermal.DefaultRange}}
	snap := p.Collect()
	if st, err := os.Stat(s.sysfs); err != nil || !st.IsDir() {
		if err == nil {
			err = fmt.Errorf("%s is not a directory", s.sysfs)
		}
		snap.Errs = append(snap.Errs, fmt.Errorf("sysfs: %w (is --sysfs the sysfs mount point?)", err))
	}
	return snap
}
