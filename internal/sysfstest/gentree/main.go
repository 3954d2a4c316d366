// Command gentree writes a generated sysfs tree of N temperature sensors
// (see sysfstest.Generate) for the side-by-side benchmark:
//
//	go run ./internal/sysfstest/gentree -n 1000 -o /tmp/tree
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
)

func main() {
	n := flag.Int("n", 100, "number of sensors")
	out := flag.String("o", "", "directory to create the tree in (must not exist)")
	realistic := flag.Bool("realistic", false, "a realistic server of -n sensors (sysfstest.Realistic) instead of the generated coretemp tree")
	fixture := flag.String("fixture", "", "unpack this fixture file instead of generating")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gentree: -o is required")
		os.Exit(2)
	}
	if err := os.Mkdir(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
	text := sysfstest.Generate(*n)
	if *realistic {
		text = sysfstest.Realistic(*n)
	}
	if *fixture != "" {
		b, err := os.ReadFile(*fixture)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gentree:", err)
			os.Exit(1)
		}
		text = string(b)
	}
	if err := sysfstest.Unpack(*out, strings.NewReader(text)); err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
}
