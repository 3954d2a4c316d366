package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/pipeline"
)

func probe(args []string, e env) int {
	fs := flag.NewFlagSet("thermal probe", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var src sourceFlags
	src.register(fs, false)
	asJSON := fs.Bool("json", false, "print the inventory as JSON")
	asTOML := fs.Bool("toml", false, "print a starter thresholds file for the sensors found, ready to edit")
	wide := fs.Bool("wide", false, "print one row per sensor with every column (wider than 80 columns)")
	setUsage(fs, e, "List every chip and sensor (temperatures, fans, throttling) with its reading, the hardware's limits, "+
		"the threshold in force and its status, as sensors(1) does; --json for programs, --toml for a starter thresholds file.")
	cfg, ok := parseCommand(fs, &src, args, e)
	if !ok {
		if helpRequested(fs, e) {
			return exitOK
		}
		return exitUsage
	}
	if *asJSON && *asTOML || *wide && (*asJSON || *asTOML) {
		fmt.Fprintln(e.stderr, "thermal probe: --json, --toml and --wide exclude each other")
		return exitUsage
	}
	snap := collect(src, e.now, cfg, nil)
	snap.Derive(nil)
	for _, err := range snap.Errs {
		fmt.Fprintf(e.stderr, "thermal probe: %v\n", err)
	}
	inv := inventory(snap)
	if *asTOML {
		writeStarterTOML(e.stdout, inv)
		if len(snap.Errs) > 0 {
			return exitFail
		}
		return exitOK
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(inv); err != nil {
			return exitFail
		}
		return exitOK
	}
	notes := func() {
		var cooling []string
		for _, c := range snap.Chips {
			if !c.Aux {
				continue
			}
			for i := 0; i+1 < len(c.Series); i += 2 {
				if c.Series[i].Name == "node_thermal_cooling_device_state" && c.Series[i+1].Name == "node_thermal_cooling_device_max_state" {
					cooling = append(cooling, fmt.Sprintf("%s %s %g/%g", c.Series[i].Labels[1].Value, c.Series[i].Labels[0].Value, c.Series[i].Value, c.Series[i+1].Value))
				}
			}
		}
		if len(cooling) > 0 {
			writeWrapped(e.stdout, "cooling devices (state/max): "+strings.Join(cooling, ", "), "  ")
		}
		for _, src := range slices.Sorted(maps.Keys(snap.Notes)) {
			fmt.Fprintf(e.stdout, "%s: %s\n", src, snap.Notes[src])
		}
	}
	if len(inv) == 0 && len(snap.Errs) > 0 && !*asJSON && !*asTOML {
		return exitFail // nothing read, and stderr says why: no "0 problems" table
	}
	if len(inv) == 0 && len(snap.Errs) == 0 {
		defer notes()
		fmt.Fprintf(e.stdout, "No sensors found!\n\nNothing under %s/class/{hwmon,thermal,nvme}: on a virtual machine that is normal (the beat\nstill checks in ok). On hardware, load the sensor drivers (sensors-detect from lm-sensors names\nthem; common ones are coretemp, k10temp, nct6775, it87, drivetemp) and run thermal probe again.\n", src.sysfs)
		return exitOK
	}
	if *wide {
		printTable(e.stdout, inv)
	} else {
		printBlocks(e.stdout, inv)
	}
	notes()
	if len(snap.Errs) > 0 {
		return exitFail // not every source could be read
	}
	return exitOK
}

// probeChip and probeSensor are the --json shape: stable field names,
// degrees Celsius, null where there is no value.
type probeChip struct {
	Source string `json:"source"`
	Chip   string `json:"chip"`
	Driver string `json:"driver"`
	Bus    string `json:"bus,omitempty"`
	Path   string `json:"path"`
	Device string `json:"device,omitempty"`
	Status string `json:"status"` // ok, asleep, error
	Error  string `json:"error,omitempty"`
	Errors int    `json:"read_errors"`
	// Attrs are the source's facts about the chip (an NVMe drive's model,
	// serial and how it was read), under the source's name.
	Attrs   thermal.Attrs `json:"-"`
	Sensors []probeSensor `json:"sensors"`
}

// MarshalJSON puts the chip's facts under the source's name ("nvme": {…})
// between its status and its sensors.
func (c probeChip) MarshalJSON() ([]byte, error) {
	type plain probeChip
	b, err := json.Marshal(plain(c))
	if err != nil || len(c.Attrs) == 0 {
		return b, err
	}
	attrs, err := json.Marshal(c.Attrs)
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndex(b, []byte(`,"sensors":`))
	key, _ := json.Marshal(c.Source)
	return slices.Concat(b[:i], []byte(","), key, []byte(":"), attrs, b[i:]), nil
}

type probeSensor struct {
	Kind       string           `json:"kind,omitempty"` // "fan"; absent for a temperature
	Name       string           `json:"sensor"`
	Attr       string           `json:"attr"`
	Label      string           `json:"label,omitempty"`
	Celsius    *float64         `json:"celsius"`
	Max        *float64         `json:"max,omitempty"`
	Crit       *float64         `json:"crit,omitempty"`
	Emergency  *float64         `json:"emergency,omitempty"`
	CritHyst   *float64         `json:"crit_hyst,omitempty"`
	Limits     []probeLimit     `json:"limits,omitempty"` // further named limits (a GPU's max_operating)
	Trips      []probeTrip      `json:"trips,omitempty"`
	Thresholds []probeThreshold `json:"thresholds,omitempty"`
	RPM        *int64           `json:"rpm,omitempty"`             // a fan's speed
	MinRPM     *int64           `json:"min_rpm,omitempty"`         // a fan's minimum
	TargetRPM  *int64           `json:"target_rpm,omitempty"`      // what the controller asks of a fan
	Failed     string           `json:"failed,omitempty"`          // why a fan counts as failed
	Duty       *float64         `json:"duty,omitempty"`            // a fan's commanded speed, 0 … 1
	Watts      *float64         `json:"watts,omitempty"`           // the power drawn
	LimitWatts *float64         `json:"limit_watts,omitempty"`     // the power limit
	Events     *int64           `json:"throttle_events,omitempty"` // a CPU's throttle count
	Throttling bool             `json:"throttling,omitempty"`      // a GPU reports a thermal slowdown
	Status     string           `json:"status"`                    // ok, fault, out_of_range, timeout, error
	Error      string           `json:"error,omitempty"`
}

type probeThreshold struct {
	Kind  string `json:"kind,omitempty"` // fan, throttle; absent for a temperature
	Level string `json:"level"`
	// Celsius and Hysteresis are a temperature threshold's; a fan's or a
	// throttle's fires while it fails or throttles, and has neither.
	Celsius    *float64 `json:"celsius,omitempty"`
	Origin     string   `json:"origin"`
	For        string   `json:"for"`
	Hysteresis *float64 `json:"hysteresis,omitempty"`
	Repeat     string   `json:"repeat"`
}

type probeLimit struct {
	Name    string  `json:"limit"`
	Celsius float64 `json:"celsius"`
}

type probeTrip struct {
	Index   int     `json:"trip"`
	Type    string  `json:"type"`
	Celsius float64 `json:"celsius"`
}

func inventory(snap *pipeline.Snapshot) []probeChip {
	out := make([]probeChip, 0, len(snap.Chips))
	for _, c := range snap.Chips {
		if c.Aux {
			continue // cooling devices: listed apart
		}
		pc := probeChip{Source: c.Source, Chip: c.Name, Driver: c.Driver, Bus: c.Bus, Path: c.Path,
			Device: c.Device, Status: "ok", Errors: c.Errors, Attrs: c.Attrs, Sensors: []probeSensor{}}
		switch {
		case c.Asleep:
			pc.Status = "asleep"
		case c.Err != nil:
			pc.Status = "error"
			pc.Error = c.Err.Error()
		}
		for _, s := range c.Sensors {
			ps := probeSensor{Name: s.Name, Attr: s.Attr, Label: s.Label, Status: sensorStatus(s.Err),
				Max: celsius(s.Max), Crit: celsius(s.Crit), Emergency: celsius(s.Emergency), CritHyst: celsius(s.CritHyst)}
			switch {
			case s.Err != nil:
				ps.Error = s.Err.Error()
			case s.Kind == thermal.KindThrottleCount:
				v := s.Value
				ps.Events = &v
			case s.Kind == thermal.KindThrottle:
				ps.Throttling = s.Value > 0
			case s.Kind == thermal.KindFan:
				v := s.Value
				ps.RPM = &v
			case s.Kind == thermal.KindDuty:
				v := s.Float()
				ps.Duty = &v
			case s.Kind == thermal.KindPower:
				v := s.Float()
				ps.Watts = &v
			default:
				v := s.Celsius()
				ps.Celsius = &v
			}
			switch s.Kind {
			case thermal.KindDuty:
				ps.Kind, ps.Max = string(s.Kind), nil
			case thermal.KindPower:
				ps.Kind, ps.Max = string(s.Kind), nil
				if s.Max != nil {
					v := s.Kind.Float(*s.Max)
					ps.LimitWatts = &v
				}
			case thermal.KindFan:
				ps.Kind, ps.MinRPM, ps.TargetRPM, ps.Failed = string(s.Kind), s.FanMin, s.FanTarget, s.Failed
			case thermal.KindThrottle, thermal.KindThrottleCount:
				if s.Err == nil {
					ps.Kind = string(s.Kind.RuleKind())
				}
			}
			for _, l := range s.Limits {
				ps.Limits = append(ps.Limits, probeLimit{l.Name, thermal.Celsius(l.Milli)})
			}
			for _, t := range s.Trips {
				ps.Trips = append(ps.Trips, probeTrip{t.Index, t.Type, thermal.Celsius(t.Milli)})
			}
			for _, t := range s.Thresholds {
				pt := probeThreshold{Kind: string(t.Kind), Level: string(t.Level), Origin: t.Origin.String(), For: t.For.String(), Repeat: t.Repeat.String()}
				if t.Kind == thermal.KindTemperature {
					pt.Celsius, pt.Hysteresis = &t.Celsius, &t.Hysteresis
				}
				ps.Thresholds = append(ps.Thresholds, pt)
			}
			pc.Sensors = append(pc.Sensors, ps)
		}
		out = append(out, pc)
	}
	return out
}

func sensorStatus(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, thermal.ErrFault):
		return "fault"
	case errors.Is(err, thermal.ErrOutOfRange):
		return "out_of_range"
	case errors.Is(err, thermal.ErrTimeout):
		return "timeout"
	}
	return "error"
}

func celsius(m *int64) *float64 {
	if m == nil {
		return nil
	}
	v := thermal.Celsius(*m)
	return &v
}

// printTable prints the inventory for a person, one row per sensor.
func printTable(w io.Writer, inv []probeChip) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tCHIP\tSENSOR\t°C\tMAX\tCRIT\tEMERGENCY\tWARN AT\tCRIT AT\tFROM\tSTATUS")
	sensors, problems := 0, 0
	for _, c := range inv {
		switch c.Status {
		case "asleep":
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t\t\t\t\t\t\tasleep (runtime-suspended; not read, so not woken)\n", c.Source, c.Chip)
			continue
		case "error":
			problems++
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t\t\t\t\t\t\terror: %s\n", c.Source, c.Chip, c.Error)
		}
		for _, s := range c.Sensors {
			sensors++
			if s.Kind == "duty" || s.Kind == "power" {
				fmt.Fprintf(tw, "%s\t%s\t%s\t-\t\t\t\t\t\t\t%s\n", c.Source, c.Chip, s.Name, kindReading(s))
				continue
			}
			if s.Kind == "throttle" {
				v := "throttling: no"
				switch {
				case s.Events != nil:
					v = fmt.Sprintf("throttle events: %d", *s.Events)
				case s.Throttling:
					v = "throttling: yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t-\t\t\t\t\t\t\t%s\n", c.Source, c.Chip, s.Name, v)
				continue
			}
			if s.Kind == "fan" {
				if s.Failed != "" {
					problems++
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t-\t\t\t\t\t\t\t%s\n", c.Source, c.Chip, s.Name, strings.TrimSpace(fanLine("", s)))
				continue
			}
			status := s.Status
			if s.Status != "ok" {
				problems++
				status += ": " + shortError(s.Error)
			}
			crit := f1(s.Crit)
			if len(s.Trips) > 0 {
				var trips []string
				for _, t := range s.Trips {
					trips = append(trips, t.Type+" "+strconv.FormatFloat(t.Celsius, 'f', -1, 64))
				}
				status += " (trips: " + strings.Join(trips, ", ") + ")"
			}
			warnAt, critAt, from := thresholdColumns(s.Thresholds)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Source, c.Chip, s.Name, f1(s.Celsius), f1(s.Max), crit, f1(s.Emergency),
				warnAt, critAt, from, status)
		}
	}
	tw.Flush()
	printDrives(w, inv)
	fmt.Fprintf(w, "\n%d chips, %d sensors, %d problems\n", len(inv), sensors, problems)
}

// printDrives lists, per source, the facts its chips carry (the NVMe
// controllers with their own limits and how they were read).
func printDrives(w io.Writer, inv []probeChip) {
	var sources []string
	for _, c := range inv {
		if len(c.Attrs) > 0 && !slices.Contains(sources, c.Source) {
			sources = append(sources, c.Source)
		}
	}
	for _, src := range sources {
		var keys []string
		for _, c := range inv {
			for _, a := range c.Attrs {
				if a.Value != nil && c.Source == src && !slices.Contains(keys, a.Key) {
					keys = append(keys, a.Key)
				}
			}
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		// The first fact names the device (nvme0); the chip follows it.
		header := []string{strings.ToUpper(src), "CHIP"}
		for _, k := range keys[1:] {
			header = append(header, strings.ToUpper(strings.ReplaceAll(k, "_", " ")))
		}
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, c := range inv {
			if c.Source != src || len(c.Attrs) == 0 {
				continue
			}
			row := []string{attrText(c.Attrs.Get(keys[0])), c.Chip}
			for _, k := range keys[1:] {
				v := attrText(c.Attrs.Get(k))
				if k == "read_via" && c.Status == "asleep" {
					v = "not read: asleep"
				}
				row = append(row, v)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
	}
}

func attrText(v any) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		if v == "" {
			return "-"
		}
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		if v {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}

// thresholdColumns renders a sensor's thresholds and their origin.
func thresholdColumns(ts []probeThreshold) (warn, crit, from string) {
	warn, crit, from = "-", "-", "-"
	var origins []string
	for _, t := range ts {
		v := f1(t.Celsius)
		if t.Level == string(thermal.Warning) {
			warn = v
		} else {
			crit = v
		}
		if !slices.Contains(origins, t.Origin) {
			origins = append(origins, t.Origin)
		}
	}
	if len(origins) > 0 {
		from = strings.Join(origins, "; ")
	}
	return warn, crit, from
}

// shortError keeps the part of an error message after the sysfs path.
func shortError(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg[:i], "/") {
		return msg[i+2:]
	}
	return msg
}

func f1(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}
