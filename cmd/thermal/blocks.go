package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// printBlocks prints the inventory as sensors(1) does, a block per chip
// inside 80 columns:
//
//	coretemp-isa-0000
//	Source: hwmon (coretemp on isa)
//	Package id 0:  +45.0°C  (high = +88.0°C, crit = +98.0°C)
//	  alerts: warn +85.0°C (built-in rule 1), crit +98.0°C (hw temp1_crit)
//
// Every temperature has one decimal, with its sign, like sensors.
func printBlocks(w io.Writer, inv []probeChip) {
	sensors, problems := 0, 0
	for i, c := range inv {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, c.Chip)
		src := "Source: " + c.Source
		var via []string
		if c.Driver != "" && c.Driver != c.Chip {
			via = append(via, c.Driver)
		}
		if c.Bus != "" {
			via = append(via, "on "+c.Bus)
		}
		if len(via) > 0 {
			src += " (" + strings.Join(via, " ") + ")"
		}
		fmt.Fprintln(w, src)
		for _, line := range attrLines(c) {
			writeWrapped(w, line, "  ")
		}
		switch c.Status {
		case "asleep":
			fmt.Fprintln(w, "(asleep: runtime-suspended; not read, so not woken)")
			continue
		case "error":
			problems++
			writeWrapped(w, "ERROR: "+c.Error, "  ")
		}
		width := 0
		for _, s := range c.Sensors {
			width = max(width, len([]rune(s.Name))+1)
		}
		width = min(width, 24)
		for _, s := range c.Sensors {
			sensors++
			name := s.Name + ":"
			pad := strings.Repeat(" ", max(0, width-len([]rune(name))))
			if s.Kind == "fan" {
				if s.Failed != "" {
					problems++
				}
				writeWrapped(w, fanLine(name+pad, s), strings.Repeat(" ", width+2))
				alertLine(w, s)
				continue
			}
			if s.Kind == "duty" || s.Kind == "power" {
				if s.Status != "ok" {
					problems++
				}
				fmt.Fprintf(w, "%s%s  %8s\n", name, pad, kindReading(s))
				continue
			}
			if s.Kind == "throttle" {
				v := "no"
				switch {
				case s.Events != nil:
					v = fmt.Sprintf("%d events so far", *s.Events)
				case s.Throttling:
					v = "yes"
				}
				fmt.Fprintf(w, "%s%s  %s\n", name, pad, v)
				alertLine(w, s)
				continue
			}
			if s.Status != "ok" {
				problems++
				writeWrapped(w, fmt.Sprintf("%s%s  %8s  (%s)", name, pad, "N/A", s.Status+": "+shortError(s.Error)), strings.Repeat(" ", width+2))
				continue
			}
			line := fmt.Sprintf("%s%s  %8s", name, pad, degrees(s.Celsius))
			if l := limits(s); l != "" {
				line += "  (" + l + ")"
			}
			writeWrapped(w, line, strings.Repeat(" ", width+2))
			if len(s.Thresholds) > 0 {
				alertLine(w, s)
			}
		}
	}
	fmt.Fprintf(w, "\n%d chips, %d sensors, %d problems\n", len(inv), sensors, problems)
}

// kindReading is a duty's or a power's reading for a person, with a
// power's limit.
func kindReading(s probeSensor) string {
	switch {
	case s.Duty != nil:
		return strconv.FormatFloat(*s.Duty*100, 'f', -1, 64) + " %"
	case s.Watts != nil && s.LimitWatts != nil:
		return fmt.Sprintf("%s W  (cap = %s W)", strconv.FormatFloat(*s.Watts, 'f', 2, 64), strconv.FormatFloat(*s.LimitWatts, 'f', 2, 64))
	case s.Watts != nil:
		return strconv.FormatFloat(*s.Watts, 'f', 2, 64) + " W"
	}
	return "N/A (" + s.Status + ")"
}

// alertLine prints the thresholds of a sensor: temperatures with their
// value, a fan's failure or a chip's throttling with its level.
func alertLine(w io.Writer, s probeSensor) {
	if len(s.Thresholds) == 0 {
		return
	}
	var parts []string
	for _, t := range s.Thresholds {
		level := "warn"
		if t.Level == "critical" {
			level = "crit"
		}
		if t.Kind != "" {
			parts = append(parts, fmt.Sprintf("%s when %s, after %s (%s)", level, map[string]string{"fan": "it fails", "throttle": "it keeps throttling"}[t.Kind], t.For, shortOrigin(t.Origin)))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", level, degrees(t.Celsius), shortOrigin(t.Origin)))
	}
	writeWrapped(w, "  alerts: "+strings.Join(parts, ", "), "          ")
}

// fanLine is a fan as sensors shows one, and why it counts as failed.
func fanLine(name string, s probeSensor) string {
	v := "N/A"
	if s.RPM != nil {
		v = fmt.Sprintf("%d RPM", *s.RPM)
	}
	line := fmt.Sprintf("%s  %8s", name, v)
	var lim []string
	if s.MinRPM != nil {
		lim = append(lim, fmt.Sprintf("min = %d RPM", *s.MinRPM))
	}
	if s.TargetRPM != nil {
		lim = append(lim, fmt.Sprintf("target = %d RPM", *s.TargetRPM))
	}
	if len(lim) > 0 {
		line += "  (" + strings.Join(lim, ", ") + ")"
	}
	if s.Failed != "" {
		line += "  FAILED: " + s.Failed
	}
	return line
}

// limits are the hardware's own, named as sensors names them.
func limits(s probeSensor) string {
	var out []string
	for _, l := range []struct {
		name string
		v    *float64
	}{{"high", s.Max}, {"crit", s.Crit}, {"emerg", s.Emergency}, {"hyst", s.CritHyst}} {
		if l.v != nil {
			out = append(out, l.name+" = "+degrees(l.v))
		}
	}
	for _, l := range s.Limits {
		out = append(out, l.Name+" = "+degrees(&l.Celsius))
	}
	for _, t := range s.Trips {
		// Two trip points alike (x86_pkg_temp's two passive trips, both
		// 0 °C until someone sets them) read as one.
		if l := t.Type + " = " + degrees(&t.Celsius); (t.Type != "critical" || s.Crit == nil) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, ", ")
}

// attrLines are the source's facts about the chip (an NVMe drive's model,
// serial, limits and how it was read).
func attrLines(c probeChip) []string {
	var facts []string
	for _, a := range c.Attrs {
		if a.Value == nil || a.Value == "" {
			continue
		}
		v := attrText(a.Value)
		if f, ok := a.Value.(float64); ok { // the sources' numeric facts are limits, °C
			v = degrees(&f)
		}
		facts = append(facts, strings.ReplaceAll(a.Key, "_", " ")+": "+v)
	}
	if len(facts) == 0 {
		return nil
	}
	return []string{strings.Join(facts, ", ")}
}

func degrees(v *float64) string {
	if v == nil {
		return "N/A"
	}
	return fmt.Sprintf("%+.1f°C", *v)
}

// shortOrigin keeps an origin inside a line: "rule 2 (/etc/…/thermal.toml:14)"
// becomes "rule 2, line 14", "hardware: temp1_crit" "hw temp1_crit".
func shortOrigin(o string) string {
	if rest, ok := strings.CutPrefix(o, "hardware: "); ok {
		return "hw " + rest
	}
	if i := strings.Index(o, " ("); i > 0 && strings.HasSuffix(o, ")") {
		if j := strings.LastIndexByte(o, ':'); j > i {
			return o[:i] + ", line " + strings.TrimSuffix(o[j+1:], ")")
		}
	}
	return o
}

// writeWrapped writes line, wrapped at spaces to 80 columns, continuation
// lines indented.
func writeWrapped(w io.Writer, line, indent string) {
	const width = 80
	for len([]rune(line)) > width {
		r := []rune(line)
		cut := strings.LastIndexByte(string(r[:width]), ' ')
		if cut <= len(indent) {
			break
		}
		fmt.Fprintln(w, strings.TrimRight(string(r[:width])[:cut], " "))
		line = indent + strings.TrimLeft(string(r[:width])[cut:]+string(r[width:]), " ")
	}
	fmt.Fprintln(w, line)
}
