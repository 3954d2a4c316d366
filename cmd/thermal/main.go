// Command thermal is a thermal heartbeat for Linux hosts: each beat reads
// every temperature sensor natively (hwmon, thermal zones) and writes a
// Prometheus textfile for node_exporter's textfile collector.
//
//	thermal beat    read all sensors, write <textfile-dir>/thermal.prom
//	thermal probe   list chips and sensors like sensors(1); --json, --toml
//	thermal check   validate the thresholds file, show every sensor's threshold
//	thermal version print the version
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/helper"
	// A beat runs on one P, set before the other packages' init.
	_ "github.com/thermal-heartbeat/thermal/internal/oneproc"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

// env is what a command needs from the outside world; tests supply their own.
type env struct {
	stdout, stderr io.Writer
	now            func() time.Time
}

func main() {
	// A beat is a short-lived process whose garbage dies with it: collect
	// less often (the heap of a 1,000-sensor beat stays under 20 MiB) and
	// spend the CPU on the beat. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(run(os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, now: time.Now}))
}

const usage = `usage: thermal <command> [flags]

commands:
  beat     read every sensor (temperatures, fans, throttling) and write the
           Prometheus textfile; check in and page through Sentry
  probe    list chips and sensors with readings, limits, thresholds and status
           (--json for programs, --toml for a starter thresholds file)
  check    validate the thresholds file and show the threshold of every sensor
  version  print the version

Run 'thermal <command> -h' for the flags of a command.
`

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the job could not be done (textfile not written)
	exitUsage = 2 // bad command line or configuration
)

func run(args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "beat":
		return beat(args[1:], e)
	case "probe":
		return probe(args[1:], e)
	case "check":
		return check(args[1:], e)
	case "version", "--version", "-version":
		switch {
		case len(args) == 2 && (args[1] == "--json" || args[1] == "-json"):
			fmt.Fprintf(e.stdout, "{\"version\":%q,\"go\":%q,\"os\":%q,\"arch\":%q}\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		case len(args) > 1:
			fmt.Fprintf(e.stderr, "thermal version: unexpected argument %q (version takes --json or nothing)\n", args[1])
			return exitUsage
		default:
			fmt.Fprintf(e.stdout, "thermal %s (%s, %s/%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		}
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	case helper.Command:
		// thermal re-executed by itself to run code that may crash (NVML)
		// out of the beat's process; not for people.
		if len(args) == 2 {
			if f, ok := helper.Lookup(args[1]); ok {
				return f(os.Stdin, e.stdout)
			}
		}
		fmt.Fprintf(e.stderr, "thermal: %s is internal\n", helper.Command)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "thermal: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
