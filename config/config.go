package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
	"github.com/thermal-heartbeat/thermal/lmsensors"
)

// DefaultPath is where the configuration lives. When it does not exist the
// embedded defaults apply; an explicitly given path must exist.
const DefaultPath = "/etc/thermal-heartbeat/thermal.toml"

//go:embed defaults.toml
var defaults []byte

// Config is a parsed, validated configuration.
type Config struct {
	// Path is the file it came from; "" for the embedded defaults.
	Path    string
	Rules   []Rule
	Ignores []Match
	Labels  []Label
	Sentry  Sentry
	Push    Push
	// Defaults is set when the built-in rules follow the file's own
	// (defaults = true, the default for a file).
	Defaults bool
	// LMSensorsPaths are the lm-sensors configuration files or
	// directories the file names ([lm_sensors] config =
	// "/etc/sensors3.conf"); LoadLMSensors reads them into LMSensors,
	// which is applied to the chips before this file's rules.
	LMSensorsPaths []string
	LMSensors      *lmsensors.Config
	lmLine         int
	// Sources holds the options of the registered sources that have a
	// table in the file ([cpu] per_core = true), by source name, as their
	// Registration.Options decoded them.
	Sources map[string]any
}

// Match selects sensors by globs (path.Match syntax) on the source, the
// lm-sensors chip name and the sensor name; an empty glob matches anything.
type Match struct {
	Source, Chip, Sensor string
	Line                 int // where the table starts in the file
}

// Matches reports whether the match selects the sensor. A sensor renamed by
// a [[label]] is matched under both its kernel name and its new name.
func (m Match) Matches(source, chip string, sensors ...string) bool {
	glob := func(p, s string) bool {
		ok, _ := path.Match(p, s) // patterns are validated at load
		return p == "" || ok
	}
	if !glob(m.Source, source) || !glob(m.Chip, chip) {
		return false
	}
	for _, s := range sensors {
		if glob(m.Sensor, s) {
			return true
		}
	}
	return false
}

// Rule sets thresholds for the sensors it matches; the first matching rule
// wins.
type Rule struct {
	Match
	Warning, Critical *float64 // °C
	For               time.Duration
	Hysteresis        float64 // °C
	Repeat            time.Duration
	// Builtin is the rule's 1-based position among the built-in rules when
	// it is one of them (layered after a file's own); 0 for a file's rule.
	Builtin int
	// Kind is KindTemperature for a temperature rule, KindFan for a rule
	// that fires while a fan has failed, KindThrottle for one that fires
	// while a chip keeps throttling for heat; Level is theirs.
	Kind  thermal.Kind
	Level thermal.Level
}

// Label renames matching sensors in every output.
type Label struct {
	Match
	As string
}

// Push is the [push] table: where each beat also POSTs its exposition,
// for hosts without node_exporter.
type Push struct {
	// URL takes {hostname} (a Pushgateway's /metrics/job/thermal/instance/
	// {hostname}); "" pushes nothing.
	URL string
}

// PushURL is the push URL with {hostname} filled in (escaped for a path).
func (p Push) PushURL(hostname string) string {
	return strings.ReplaceAll(p.URL, "{hostname}", url.PathEscape(hostname))
}

// Sentry is the [sentry] table.
type Sentry struct {
	Monitor     string // cron monitor slug; {hostname} is replaced
	Environment string
}

// raw mirrors the file for decoding; the tables of registered sources
// ([cpu]) are decoded apart, into their own options.
type raw struct {
	Rule      []rawRule
	Ignore    []rawMatch
	Label     []rawLabel
	Sentry    struct{ Monitor, Environment string }
	Push      struct{ URL string }
	Defaults  *bool
	LMSensors struct{ Config any } `toml:"lm_sensors"`
}

type rawRule struct {
	Source, Chip, Sensor string
	Kind, Level          string
	Warning, Critical    *float64
	For                  *string
	Hysteresis           *float64
	Repeat               *string
}

type rawMatch struct{ Source, Chip, Sensor string }

type rawLabel struct{ Source, Chip, Sensor, As string }

// Default returns the embedded defaults (parsed once per process; the
// caller may not modify them).
func Default() *Config { return defaultConfig() }

// Builtin, given as the path, selects the embedded defaults whatever is in
// /etc.
const Builtin = "builtin"

// Load reads the configuration at path. When path is "" the default path is
// used, and its absence means the embedded defaults; a path given
// explicitly must exist. Builtin selects the embedded defaults.
func Load(path string) (*Config, error) {
	c, _, err := LoadFile(path)
	return c, err
}

// LoadFile is Load, returning also the file's bytes (nil for the embedded
// defaults), so that a beat can keep the last good file.
func LoadFile(path string) (*Config, []byte, error) {
	if path == Builtin {
		return Default(), nil, nil
	}
	explicit := path != ""
	if !explicit {
		path = DefaultPath
	}
	data, err := ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return Default(), nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := Parse(path, data)
	if err == nil {
		err = c.LoadLMSensors()
	}
	if err != nil {
		return nil, data, err
	}
	return c, data, nil
}

// MaxFileSize bounds a configuration file. Real ones are a few KiB; the
// TOML decoder's memory grows much faster than its input for some shapes.
const MaxFileSize = 256 << 10

// maxNesting bounds how deeply tables and arrays nest in a file: the shape
// of the configuration needs three levels.
const maxNesting = 16

// ReadFile reads a configuration file: a regular file of at most
// MaxFileSize bytes (a FIFO would block the beat, /dev/zero would never end).
func ReadFile(path string) ([]byte, error) {
	data, err := sysread.ReadRegular(path, MaxFileSize)
	switch {
	case errors.Is(err, sysread.ErrNotRegular):
		return nil, fmt.Errorf("config: %s: not a regular file", path)
	case errors.Is(err, sysread.ErrTooLarge):
		return nil, fmt.Errorf("config: %s: larger than %d bytes, which a configuration is at most", path, MaxFileSize)
	case err != nil:
		return nil, fmt.Errorf("config: %w", err)
	}
	return data, nil
}

// blankStrings returns data with the insides of strings and comments
// replaced by spaces, newlines kept: what the line locator must not take
// for tables or keys (a multi-line string holding "x = 1" or "[[rule]]").
func blankStrings(data []byte) []byte {
	out := bytes.Clone(data)
	blank := func(from, to int) {
		for k := from; k < to && k < len(out); k++ {
			if out[k] != '\n' {
				out[k] = ' '
			}
		}
	}
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '#':
			j := i
			for j < len(data) && data[j] != '\n' {
				j++
			}
			blank(i, j)
			i = j - 1
		case '"', '\'':
			q := data[i : i+1]
			if i+2 < len(data) && data[i+1] == c && data[i+2] == c {
				q = data[i : i+3]
			}
			j := i + len(q)
			for j < len(data) && !bytes.HasPrefix(data[j:], q) {
				if data[j] == '\\' && c == '"' {
					j++
				}
				if len(q) == 1 && j < len(data) && data[j] == '\n' {
					break // an unterminated one-line string ends with its line
				}
				j++
			}
			blank(i, j+len(q))
			i = j + len(q) - 1
		}
	}
	return out
}

// nesting returns the deepest nesting of [ and { outside strings and
// comments, and the line where it is reached.
func nesting(data []byte) (depth, line int) {
	d, ln := 0, 1
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			ln++
		case '#':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			i--
		case '"', '\'':
			q := string(data[i : i+1])
			if i+2 < len(data) && data[i+1] == c && data[i+2] == c {
				q = strings.Repeat(q, 3)
			}
			j := i + len(q)
			for j < len(data) && !bytes.HasPrefix(data[j:], []byte(q)) {
				if data[j] == '\\' && c == '"' {
					j++
				} else if data[j] == '\n' {
					ln++
				}
				j++
			}
			i = j + len(q) - 1
		case '[', '{':
			d++
			if d > depth {
				depth, line = d, ln
			}
		case ']', '}':
			d--
		}
	}
	return depth, line
}

// Parse parses and validates a configuration; name is used in errors
// ("name:line: …"). It does no I/O: Load and LoadFile also read the
// lm-sensors files the configuration names (LoadLMSensors).
func Parse(name string, data []byte) (*Config, error) {
	p := parser{display: name}
	if p.display == "" {
		p.display = "defaults"
	}
	r, md, err := p.decode(data)
	if err != nil {
		return nil, err
	}
	c := &Config{Path: name}
	if c.Rules, err = p.rules(r.Rule); err != nil {
		return nil, err
	}
	if c.Ignores, err = p.ignores(r.Ignore); err != nil {
		return nil, err
	}
	if c.Labels, err = p.labels(r.Label); err != nil {
		return nil, err
	}
	// A user's rules come first; the built-in ones still apply after them
	// unless the file says defaults = false: writing one rule must not
	// silently drop the NVMe and CPU defaults.
	if name != "" && (r.Defaults == nil || *r.Defaults) {
		for i, br := range builtin().Rules {
			br.Builtin = i + 1
			c.Rules = append(c.Rules, br)
		}
		c.Defaults = true
	}
	if r.LMSensors.Config != nil {
		c.lmLine = p.lines.tableKey("lm_sensors", 0, "config")
		if c.LMSensorsPaths, err = lmPaths(r.LMSensors.Config); err != nil {
			return nil, p.fail(c.lmLine, "%v", err)
		}
	}
	if c.Sources, err = p.sourceOptions(data, md); err != nil {
		return nil, err
	}
	if r.Push.URL != "" {
		if err := pushURLError(r.Push.URL); err != nil {
			return nil, p.fail(p.lines.tableKey("push", 0, "url"), "push.url: %v", err)
		}
		c.Push = Push{URL: r.Push.URL}
	}
	c.Sentry = Sentry{Monitor: r.Sentry.Monitor, Environment: r.Sentry.Environment}
	if c.Sentry.Monitor == "" {
		c.Sentry.Monitor = "thermal-{hostname}"
	}
	if s := MonitorSlug(c.Sentry.Monitor, "host"); !slugRE().MatchString(s) {
		return nil, p.fail(p.lines.tableKey("sentry", 0, "monitor"), "sentry.monitor %q makes the slug %q; use lowercase letters, digits, - and _", c.Sentry.Monitor, s)
	}
	return c, nil
}

// parser holds what the stages of Parse share: the name for messages and
// where tables and keys are in the file.
type parser struct {
	display string
	lines   lineIndex
}

func (p *parser) fail(line int, format string, args ...any) error {
	if line > 0 {
		return fmt.Errorf("%s:%d: %s", p.display, line, fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("%s: %s", p.display, fmt.Sprintf(format, args...))
}

// decode checks the file's size and nesting and decodes it strictly: a key
// that is neither the configuration's nor a registered source's table is
// an error.
func (p *parser) decode(data []byte) (*raw, toml.MetaData, error) {
	var r raw
	if len(data) > MaxFileSize {
		return nil, toml.MetaData{}, p.fail(0, "%d bytes; a configuration is at most %d", len(data), MaxFileSize)
	}
	if d, line := nesting(data); d > maxNesting {
		return nil, toml.MetaData{}, p.fail(line, "tables and arrays nest %d deep; at most %d", d, maxNesting)
	}
	md, err := toml.Decode(string(data), &r)
	if err != nil {
		return nil, md, p.decodeError(err)
	}
	p.lines = locate(data)
	for _, k := range md.Undecoded() {
		if _, ok := sourceTable(k[0]); ok {
			continue // decoded by sourceOptions
		}
		where := p.lines.key(k)
		if len(k) == 1 {
			return nil, md, p.fail(where, "unknown key %q (want %s)", k.String(), topKeys())
		}
		return nil, md, p.fail(where, "unknown key %q in [%s]", k[len(k)-1], k[0])
	}
	return &r, md, nil
}

// decodeError says where and what a decoding error is.
func (p *parser) decodeError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return p.fail(pe.Position.Line, "%s", pe.Message)
	}
	// Type mismatches come as "toml: line N (last key "k"): message".
	if m := decodeErrRE().FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		if t := m[2]; (t == "rule" || t == "ignore" || t == "label") && strings.Contains(m[3], "slice") {
			return p.fail(line, "[%s] must be written [[%s]]: each %s is one entry of a list", t, t, t)
		}
		if t := typeErrRE().FindStringSubmatch(m[3]); t != nil {
			return p.fail(line, "%s must be %s, not %s", m[2], kindOf(t[2], true), kindOf(t[1], false))
		}
		return p.fail(line, "%s: %s", m[2], m[3])
	}
	return p.fail(0, "%v", err)
}

// topKeys lists the top-level keys a file may have, for a message.
func topKeys() string {
	keys := []string{"rule", "ignore", "label", "sentry", "push", "defaults", "lm_sensors"}
	for _, r := range thermal.Registered() {
		if r.Options != nil {
			keys = append(keys, r.Name)
		}
	}
	return strings.Join(keys[:len(keys)-1], ", ") + " or " + keys[len(keys)-1]
}

// sourceTable returns the registration of the source whose options table
// is named name.
func sourceTable(name string) (thermal.Registration, bool) {
	r, ok := thermal.Lookup(name)
	return r, ok && r.Options != nil
}

// sourceOptions decodes the tables of registered sources ([cpu]) into
// their options, strictly. Only a file that has such a table pays for the
// second decode this takes.
func (p *parser) sourceOptions(data []byte, md toml.MetaData) (map[string]any, error) {
	var names []string
	for _, k := range md.Undecoded() {
		if _, ok := sourceTable(k[0]); ok && len(k) == 1 {
			names = append(names, k[0])
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	var tables map[string]toml.Primitive
	md2, err := toml.Decode(string(data), &tables)
	if err != nil {
		return nil, p.decodeError(err)
	}
	out := map[string]any{}
	for _, name := range names {
		reg, _ := sourceTable(name)
		opts := reg.Options()
		if err := md2.PrimitiveDecode(tables[name], opts); err != nil {
			if m := decodeErrRE().FindStringSubmatch(err.Error()); m != nil {
				return nil, p.decodeError(err)
			}
			return nil, p.fail(p.lines.table(name, 0), "[%s]: %v", name, err)
		}
		out[name] = opts
	}
	for _, k := range md2.Undecoded() {
		if _, ok := out[k[0]]; ok && len(k) > 1 {
			return nil, p.fail(p.lines.key(k), "unknown key %q in [%s]", k[len(k)-1], k[0])
		}
	}
	return out, nil
}

// rules validates the [[rule]] tables.
func (p *parser) rules(rs []rawRule) ([]Rule, error) {
	var out []Rule
	for i, rr := range rs {
		rule, err := p.rule(i, rr)
		if err != nil {
			return nil, err
		}
		out = append(out, rule)
	}
	return out, nil
}

func (p *parser) rule(i int, rr rawRule) (Rule, error) {
	line := p.lines.table("rule", i)
	at := func(key string) int {
		if l := p.lines.tableKey("rule", i, key); l > 0 {
			return l
		}
		return line
	}
	m, merr := newMatch(rr.Source, rr.Chip, rr.Sensor, line)
	if merr != nil {
		return Rule{}, p.fail(at(merr.key), "rule %d: %v", i+1, merr.err)
	}
	rule := Rule{Match: m, Warning: rr.Warning, Critical: rr.Critical,
		For: thermal.DefaultFor, Hysteresis: thermal.DefaultHysteresis, Repeat: thermal.DefaultRepeat}
	switch k := thermal.Kind(rr.Kind); k {
	case thermal.KindTemperature, "temperature":
		if rr.Level != "" {
			return Rule{}, p.fail(at("level"), "rule %d: level is for kind = \"fan\" or \"throttle\"; a temperature rule sets warning and/or critical", i+1)
		}
		if rr.Warning == nil && rr.Critical == nil {
			return Rule{}, p.fail(line, "rule %d: set warning, critical or both", i+1)
		}
	case thermal.KindFan, thermal.KindThrottle:
		// Fires while a fan has failed, or a chip keeps throttling for
		// heat; the level says how loudly.
		if rr.Warning != nil || rr.Critical != nil || rr.Hysteresis != nil {
			return Rule{}, p.fail(line, "rule %d: a kind = %q rule takes level, for and repeat, not warning, critical or hysteresis", i+1, rr.Kind)
		}
		rule.Kind, rule.Level, rule.Hysteresis = k, thermal.Warning, 0
		switch rr.Level {
		case "", "warning":
		case "critical":
			rule.Level = thermal.Critical
		default:
			return Rule{}, p.fail(at("level"), "rule %d: level = %q; want warning or critical", i+1, rr.Level)
		}
	default:
		return Rule{}, p.fail(at("kind"), "rule %d: kind = %q; want temperature (the default), fan or throttle", i+1, rr.Kind)
	}
	for _, v := range []struct {
		key string
		v   *float64
	}{{"warning", rr.Warning}, {"critical", rr.Critical}} {
		if v.v != nil && (math.IsNaN(*v.v) || math.IsInf(*v.v, 0)) {
			return Rule{}, p.fail(at(v.key), "rule %d: %s must be a temperature in °C, not %v", i+1, v.key, *v.v)
		}
		// A reading outside the sane range is dropped, so a threshold
		// there would never fire (or, below it, fire on every sensor).
		if lo, hi := thermal.Celsius(thermal.DefaultRange.Min), thermal.Celsius(thermal.DefaultRange.Max); v.v != nil && (*v.v < lo || *v.v > hi) {
			return Rule{}, p.fail(at(v.key), "rule %d: %s = %g °C is outside what a sensor can report (%g … %g °C)", i+1, v.key, *v.v, lo, hi)
		}
	}
	if rr.Warning != nil && rr.Critical != nil && *rr.Warning >= *rr.Critical {
		return Rule{}, p.fail(at("warning"), "rule %d: warning %g °C must be below critical %g °C", i+1, *rr.Warning, *rr.Critical)
	}
	if rr.Hysteresis != nil {
		if math.IsNaN(*rr.Hysteresis) || math.IsInf(*rr.Hysteresis, 0) || *rr.Hysteresis < 0 || *rr.Hysteresis > maxHysteresis {
			return Rule{}, p.fail(at("hysteresis"), "rule %d: hysteresis must be 0 to %g °C, not %v", i+1, float64(maxHysteresis), *rr.Hysteresis)
		}
		rule.Hysteresis = *rr.Hysteresis
	}
	for _, d := range []struct {
		key string
		s   *string
		dst *time.Duration
	}{{"for", rr.For, &rule.For}, {"repeat", rr.Repeat, &rule.Repeat}} {
		if d.s == nil {
			continue
		}
		v, err := time.ParseDuration(*d.s)
		if err != nil || v < 0 {
			return Rule{}, p.fail(at(d.key), "rule %d: %s = %q is not a duration (like \"90s\", \"5m\", \"1h\")", i+1, d.key, *d.s)
		}
		if why := durationBounds(d.key, v); why != "" {
			return Rule{}, p.fail(at(d.key), "rule %d: %s = %q: %s", i+1, d.key, *d.s, why)
		}
		*d.dst = v
	}
	return rule, nil
}

// Bounds of a rule's timing and hysteresis: beyond them a value is a
// typo, and taking it silently would page every beat or never.
const (
	maxHysteresis = 50.0               // °C
	maxFor        = 7 * 24 * time.Hour // a breach must hold at most a week before it fires
	minRepeat     = time.Minute        // a reminder at most once a minute (0: never)
)

// durationBounds says what is wrong with a rule's for or repeat, or "".
func durationBounds(key string, v time.Duration) string {
	switch {
	case key == "for" && v > maxFor:
		return "at most " + maxFor.String() + " (a week)"
	case key == "repeat" && v > 0 && v < minRepeat:
		return "0 (announce once) or at least 1m: a beat runs every 30 s"
	}
	return ""
}

// ignores validates the [[ignore]] tables.
func (p *parser) ignores(ris []rawMatch) ([]Match, error) {
	var out []Match
	for i, ri := range ris {
		line := p.lines.table("ignore", i)
		if ri.Source == "" && ri.Chip == "" && ri.Sensor == "" {
			return nil, p.fail(line, "ignore %d: set source, chip or sensor (an empty ignore would ignore everything)", i+1)
		}
		m, err := newMatch(ri.Source, ri.Chip, ri.Sensor, line)
		if err != nil {
			if l := p.lines.tableKey("ignore", i, err.key); l > 0 {
				line = l
			}
			return nil, p.fail(line, "ignore %d: %v", i+1, err.err)
		}
		out = append(out, m)
	}
	return out, nil
}

// labels validates the [[label]] tables.
func (p *parser) labels(rls []rawLabel) ([]Label, error) {
	var out []Label
	for i, rl := range rls {
		line := p.lines.table("label", i)
		m, err := newMatch(rl.Source, rl.Chip, rl.Sensor, line)
		if err != nil {
			if l := p.lines.tableKey("label", i, err.key); l > 0 {
				line = l
			}
			return nil, p.fail(line, "label %d: %v", i+1, err.err)
		}
		if strings.TrimSpace(rl.As) == "" {
			return nil, p.fail(line, "label %d: set as = \"new name\"", i+1)
		}
		if rl.Sensor == "" {
			return nil, p.fail(line, "label %d: set sensor: a label renames sensors", i+1)
		}
		out = append(out, Label{Match: m, As: rl.As})
	}
	return out, nil
}

// pushURLError says what is wrong with a push URL, or nil.
func pushURLError(raw string) error {
	u, err := url.Parse(strings.ReplaceAll(raw, "{hostname}", "host"))
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("%q: want an http:// or https:// URL (VictoriaMetrics' /api/v1/import/prometheus, a Pushgateway's /metrics/job/thermal/instance/{hostname})", raw)
	}
	return nil
}

// lmPaths is [lm_sensors] config: a path or a list of paths.
func lmPaths(v any) ([]string, error) {
	const want = "lm_sensors.config is a path or a list of paths (files or directories such as /etc/sensors.d)"
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		paths := make([]string, 0, len(v))
		for _, p := range v {
			s, ok := p.(string)
			if !ok {
				return nil, errors.New(want)
			}
			paths = append(paths, s)
		}
		return paths, nil
	}
	return nil, errors.New(want)
}

// LoadLMSensors reads the lm-sensors files the configuration names into
// LMSensors; the error names the configuration's file and line.
func (c *Config) LoadLMSensors() error {
	if len(c.LMSensorsPaths) == 0 || c.LMSensors != nil {
		return nil
	}
	lm, err := lmsensors.Load(c.LMSensorsPaths)
	if err != nil {
		p := parser{display: c.Path}
		return p.fail(c.lmLine, "%v", err)
	}
	c.LMSensors = lm
	return nil
}

// kindOf names a TOML or Go type for a person; want adds an example.
func kindOf(t string, want bool) string {
	pick := func(plain, example string) string {
		if want {
			return plain + " " + example
		}
		return plain
	}
	switch {
	case strings.HasPrefix(t, "float"), strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return pick("a number", "(80 or 80.5, no quotes)")
	case t == "string":
		return pick("a string", "(in quotes)")
	case t == "bool", t == "boolean":
		return pick("true or false", "(no quotes)")
	case strings.Contains(t, "slice"), strings.Contains(t, "array"):
		return pick("a list", "([...])")
	case strings.Contains(t, "map"), strings.Contains(t, "struct"), t == "table":
		return "a table"
	}
	return t
}

// The regular expressions are compiled on first use, not at start-up: a
// beat that loads no file needs none of them.
var (
	slugRE      = lazyRE(`^[a-z0-9_-]{1,50}$`)
	decodeErrRE = lazyRE(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)
	typeErrRE   = lazyRE(`incompatible types: TOML value has type ([\w.\[\]]+); destination has type ([\w.\[\]]+)`)
)

func lazyRE(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// MonitorSlug fills {hostname} into a monitor template. Sentry slugs are
// lowercase letters, digits, - and _; the hostname is lowercased and its
// other characters become -.
func MonitorSlug(template, hostname string) string {
	h := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, hostname)
	s := strings.ReplaceAll(template, "{hostname}", h)
	if len(s) > 50 {
		s = s[:50]
	}
	return s
}

type matchError struct {
	key string
	err error
}

func newMatch(source, chip, sensor string, line int) (Match, *matchError) {
	for _, g := range []struct{ key, glob string }{{"source", source}, {"chip", chip}, {"sensor", sensor}} {
		if _, err := path.Match(g.glob, ""); err != nil {
			return Match{}, &matchError{g.key, fmt.Errorf("%s = %q is not a valid glob: %v", g.key, g.glob, err)}
		}
	}
	return Match{Source: source, Chip: chip, Sensor: sensor, Line: line}, nil
}

// lineIndex records where tables and keys start in the file, for messages.
// BurntSushi/toml does not expose key positions, and this configuration's
// shape is flat (array tables of scalar keys), so a line scan suffices.
type lineIndex struct {
	tables map[string][]int          // "rule" -> line of each [[rule]]
	keys   map[string]map[string]int // "rule#0" -> key -> line
	top    map[string]int            // top-level keys
}

func locate(data []byte) lineIndex {
	li := lineIndex{tables: map[string][]int{}, keys: map[string]map[string]int{}, top: map[string]int{}}
	current := ""
	orig := strings.Split(string(data), "\n")
	for n, blanked := range strings.Split(string(blankStrings(data)), "\n") {
		// The blanked line says what the line is; a quoted key's name is
		// read from the original.
		line := strings.TrimSpace(blanked)
		if i := strings.IndexByte(blanked, '='); i >= 0 && strings.TrimSpace(blanked[:i]) == "" {
			line = strings.TrimSpace(orig[n])
		}
		switch {
		case strings.HasPrefix(line, "[["):
			t, _, _ := strings.Cut(strings.TrimPrefix(line, "[["), "]]")
			t = strings.TrimSpace(t)
			li.tables[t] = append(li.tables[t], n+1)
			current = t + "#" + strconv.Itoa(len(li.tables[t])-1)
		case strings.HasPrefix(line, "["):
			t, _, _ := strings.Cut(strings.TrimPrefix(line, "["), "]")
			t = strings.TrimSpace(t)
			li.tables[t] = append(li.tables[t], n+1)
			current = t + "#0"
		case strings.Contains(line, "=") && !strings.HasPrefix(line, "#"):
			k, _, _ := strings.Cut(line, "=")
			k = strings.Trim(strings.TrimSpace(k), `"'`)
			if current == "" {
				li.top[k] = n + 1
				continue
			}
			if li.keys[current] == nil {
				li.keys[current] = map[string]int{}
			}
			if _, seen := li.keys[current][k]; !seen {
				li.keys[current][k] = n + 1
			}
		}
	}
	return li
}

func (li lineIndex) table(name string, i int) int {
	if i < len(li.tables[name]) {
		return li.tables[name][i]
	}
	return 0
}

func (li lineIndex) tableKey(name string, i int, key string) int {
	return li.keys[name+"#"+strconv.Itoa(i)][key]
}

// key finds the first line of an undecoded key.
func (li lineIndex) key(k toml.Key) int {
	if len(k) == 1 {
		if l, ok := li.top[k[0]]; ok {
			return l
		}
		return li.table(k[0], 0)
	}
	for i := range li.tables[k[0]] {
		if l := li.tableKey(k[0], i, k[len(k)-1]); l > 0 {
			return l
		}
	}
	return li.table(k[0], 0)
}

// DisplayPath is the config's path for messages: the file, or "built-in
// defaults".
func (c *Config) DisplayPath() string {
	if c.Path == "" {
		return "built-in defaults"
	}
	if abs, err := filepath.Abs(c.Path); err == nil {
		return abs
	}
	return c.Path
}
