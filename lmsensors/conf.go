// Package lmsensors reads lm-sensors' own configuration (sensors.conf(5):
// /etc/sensors3.conf and /etc/sensors.d/*) and applies its chip statements
// to thermal's chips as libsensors applies them to `sensors` output: `label`
// renames a feature, `ignore` drops it, `compute` transforms its value and
// limits, `bus` maps the file's i2c bus numbers to this host's adapters by
// name. `set` writes limits to the hardware, which a reader never does: it
// is parsed and left alone.
//
// Where several chip statements match a chip, the latest in the files wins
// for each feature, as libsensors searches them from the last.
package lmsensors

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// Config is a parsed set of sensors.conf files.
type Config struct {
	Chips []Chip
	Buses []Bus
}

// Bus is a `bus "i2c-N" "adapter name"` statement.
type Bus struct {
	Name    string // i2c-N as the file numbers it
	Adapter string // the adapter's name (sysfs name attribute); may hold *
	File    string
	Line    int
}

// Chip is one chip statement and what follows it up to the next.
type Chip struct {
	Patterns []string // chip name patterns: "lm78-*", "*-isa-*", "it87-isa-0290"
	Labels   map[string]string
	Ignores  map[string]bool
	Computes map[string]Expr // feature -> the expression from raw to shown
	File     string
	Line     int
}

// maxFile bounds one lm-sensors configuration file; real ones are a few
// KiB.
const maxFile = 1 << 20

// Load parses the files at paths in order; a directory stands for the
// files in it in lexical order, skipping names that start with a dot (as
// libsensors reads /etc/sensors.d). A missing directory is nothing.
func Load(paths []string) (*Config, error) {
	c := &Config{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			if os.IsNotExist(err) {
				if strings.HasSuffix(p, "/") || filepath.Ext(p) == "" {
					continue // a sensors.d that is not there
				}
			}
			return nil, fmt.Errorf("lm_sensors: %w", err)
		}
		files := []string{p}
		if st.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("lm_sensors: %w", err)
			}
			files = files[:0]
			for _, e := range entries {
				if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
			sort.Strings(files)
		}
		for _, f := range files {
			// A regular file of at most 1 MiB: a FIFO would block the
			// beat, /dev/zero would never end, a huge file would cost its
			// size in memory. In a directory such an entry is passed over,
			// as a subdirectory is; named on its own it is an error.
			data, err := sysread.ReadRegular(f, maxFile)
			switch {
			case errors.Is(err, sysread.ErrNotRegular) && st.IsDir():
				continue
			case errors.Is(err, sysread.ErrNotRegular):
				return nil, fmt.Errorf("lm_sensors: %s: not a regular file", f)
			case errors.Is(err, sysread.ErrTooLarge):
				return nil, fmt.Errorf("lm_sensors: %s: larger than 1 MiB", f)
			case err != nil:
				return nil, fmt.Errorf("lm_sensors: %w", err)
			}
			if err := c.parse(f, data); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// Parse parses one file's text; name is used in errors ("name:line: …").
func Parse(name string, data []byte) (*Config, error) {
	c := &Config{}
	if err := c.parse(name, data); err != nil {
		return nil, err
	}
	return c, nil
}

// confParser carries the parse of one file: the file's name, the line the
// statement being parsed starts on, and the chip statement that label,
// ignore, compute and set statements belong to.
type confParser struct {
	c     *Config
	name  string
	start int
	cur   *Chip
}

// fail returns an error at the start of the current statement
// ("name:line: …").
func (p *confParser) fail(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.name, p.start, fmt.Sprintf(format, args...))
}

// parse adds one file's statements to c, joining continuation lines (ending
// in \) into one statement; name is used in errors.
func (c *Config) parse(name string, data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	p := &confParser{c: c, name: name}
	line := 0
	var stmt strings.Builder
	for sc.Scan() {
		line++
		text := sc.Text()
		if stmt.Len() == 0 {
			p.start = line
		}
		if strings.HasSuffix(text, "\\") { // a continuation line
			stmt.WriteString(strings.TrimSuffix(text, "\\"))
			stmt.WriteByte(' ')
			continue
		}
		stmt.WriteString(text)
		toks, err := lex(stmt.String())
		stmt.Reset()
		if err != nil {
			return p.fail("%v", err)
		}
		if err := p.statement(toks); err != nil {
			return err
		}
	}
	return sc.Err()
}

// statement applies one lexed statement; an empty one (a blank or comment
// line) is nothing.
func (p *confParser) statement(toks []token) error {
	if len(toks) == 0 {
		return nil
	}
	kw, args := toks[0], toks[1:]
	if kw.kind != tName {
		return p.fail("a statement starts with a keyword (chip, label, ignore, compute, set, bus), not %q", kw.text)
	}
	switch kw.text {
	case "bus":
		return p.bus(args)
	case "chip":
		return p.chip(args)
	case "label", "ignore", "compute", "set":
		return p.feature(kw.text, args)
	default:
		return p.fail("unknown statement %q (want chip, label, ignore, compute, set or bus)", kw.text)
	}
}

// bus adds a `bus "i2c-N" "adapter name"` statement.
func (p *confParser) bus(args []token) error {
	if len(args) < 2 || args[0].kind != tString || args[1].kind != tString {
		return p.fail(`bus takes "i2c-N" "adapter name"`)
	}
	p.c.Buses = append(p.c.Buses, Bus{Name: args[0].text, Adapter: args[1].text, File: p.name, Line: p.start})
	return nil
}

// chip adds a chip statement and makes it the one that the statements after
// it belong to.
func (p *confParser) chip(args []token) error {
	if len(args) == 0 {
		return p.fail("chip takes one or more quoted chip names")
	}
	ch := Chip{Labels: map[string]string{}, Ignores: map[string]bool{}, Computes: map[string]Expr{}, File: p.name, Line: p.start}
	for _, a := range args {
		if a.kind != tString {
			return p.fail("chip names are quoted: %q", a.text)
		}
		ch.Patterns = append(ch.Patterns, a.text)
	}
	p.c.Chips = append(p.c.Chips, ch)
	p.cur = &p.c.Chips[len(p.c.Chips)-1]
	return nil
}

// feature applies a label, ignore, compute or set statement (keyword kw) to
// the current chip statement; set is checked and otherwise left alone.
func (p *confParser) feature(kw string, args []token) error {
	if p.cur == nil {
		return p.fail("%s before any chip statement", kw)
	}
	if len(args) == 0 || args[0].kind != tName {
		return p.fail("%s takes a feature name (temp1, in0, fan1)", kw)
	}
	feature := args[0].text
	switch kw {
	case "label":
		if len(args) != 2 || args[1].kind != tString {
			return p.fail(`label takes a feature and a quoted label: label %s "CPU"`, feature)
		}
		p.cur.Labels[feature] = args[1].text
	case "ignore":
		if len(args) != 1 {
			return p.fail("ignore takes one feature")
		}
		p.cur.Ignores[feature] = true
	case "compute":
		return p.compute(feature, args[1:])
	case "set":
		if _, err := parseExpr(args[1:]); err != nil {
			return p.fail("set %s: %v", feature, err)
		}
	}
	return nil
}

// compute applies `compute FEATURE from-raw , to-raw` (rest is what follows
// FEATURE): thermal reads, so only the first expression matters; both must
// parse.
func (p *confParser) compute(feature string, rest []token) error {
	comma := -1
	for i, t := range rest {
		if t.kind == tOp && t.text == "," {
			comma = i
			break
		}
	}
	if comma < 1 || comma == len(rest)-1 {
		return p.fail("compute takes two expressions separated by a comma: compute %s @*2, @/2", feature)
	}
	from, err := parseExpr(rest[:comma])
	if err != nil {
		return p.fail("compute %s: %v", feature, err)
	}
	if _, err := parseExpr(rest[comma+1:]); err != nil {
		return p.fail("compute %s: %v", feature, err)
	}
	p.cur.Computes[feature] = from
	return nil
}

// Token kinds.
const (
	tName = iota
	tString
	tNumber
	tOp
)

type token struct {
	kind int
	text string
	num  float64
}

// lex splits one statement into tokens; # starts a comment.
func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '#':
			return out, nil
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
					switch s[j] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(s[j])
					}
					continue
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string")
			}
			out = append(out, token{kind: tString, text: b.String()})
			i = j + 1
		case c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			v, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %q", s[i:j])
			}
			out = append(out, token{kind: tNumber, text: s[i:j], num: v})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, token{kind: tName, text: s[i:j]})
			i = j
		case strings.IndexByte("+-*/(),@^`", c) >= 0:
			out = append(out, token{kind: tOp, text: string(c)})
			i++
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
	}
	return out, nil
}

// Expr is a compute expression: @ is the raw value.
type Expr struct {
	root *node
}

type node struct {
	op          byte // 'n' number, '@' raw, 'f' another feature, '+', '-', '*', '/', 'u' (unary minus), '^' (e^x), '`' (ln x)
	num         float64
	name        string
	left, right *node
}

// Eval computes the expression for raw value v.
func (e Expr) Eval(v float64) (float64, error) { return e.root.eval(v) }

// UsesOtherFeatures reports whether the expression names another feature
// (in3 in "@ + in3"), which thermal does not read.
func (e Expr) UsesOtherFeatures() bool { return e.root.usesNames() }

func (n *node) usesNames() bool {
	if n == nil {
		return false
	}
	return n.op == 'f' || n.left.usesNames() || n.right.usesNames()
}

func (n *node) eval(v float64) (float64, error) {
	switch n.op {
	case 'n':
		return n.num, nil
	case '@':
		return v, nil
	case 'f':
		return 0, fmt.Errorf("%s: expressions naming other features are not supported", n.name)
	}
	a, err := n.left.eval(v)
	if err != nil {
		return 0, err
	}
	switch n.op {
	case 'u':
		return -a, nil
	case '^':
		return math.Exp(a), nil
	case '`':
		return math.Log(a), nil
	}
	b, err := n.right.eval(v)
	if err != nil {
		return 0, err
	}
	switch n.op {
	case '+':
		return a + b, nil
	case '-':
		return a - b, nil
	case '*':
		return a * b, nil
	case '/':
		if b == 0 {
			return 0, fmt.Errorf("division by zero")
		}
		return a / b, nil
	}
	return 0, fmt.Errorf("bad operator %q", n.op)
}

// parseExpr parses an expression: + - lowest, then * /, then unary - ^ `.
func parseExpr(toks []token) (Expr, error) {
	p := parser{toks: toks}
	n, err := p.sum()
	if err != nil {
		return Expr{}, err
	}
	if p.i != len(toks) {
		return Expr{}, fmt.Errorf("unexpected %q", toks[p.i].text)
	}
	return Expr{n}, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek(op string) bool {
	return p.i < len(p.toks) && p.toks[p.i].kind == tOp && p.toks[p.i].text == op
}

func (p *parser) sum() (*node, error) {
	n, err := p.product()
	for err == nil && (p.peek("+") || p.peek("-")) {
		op := p.toks[p.i].text[0]
		p.i++
		var r *node
		if r, err = p.product(); err == nil {
			n = &node{op: op, left: n, right: r}
		}
	}
	return n, err
}

func (p *parser) product() (*node, error) {
	n, err := p.unary()
	for err == nil && (p.peek("*") || p.peek("/")) {
		op := p.toks[p.i].text[0]
		p.i++
		var r *node
		if r, err = p.unary(); err == nil {
			n = &node{op: op, left: n, right: r}
		}
	}
	return n, err
}

func (p *parser) unary() (*node, error) {
	for _, op := range []string{"-", "^", "`"} {
		if p.peek(op) {
			p.i++
			n, err := p.unary()
			if err != nil {
				return nil, err
			}
			code := op[0]
			if code == '-' {
				code = 'u'
			}
			return &node{op: code, left: n}, nil
		}
	}
	return p.atom()
}

func (p *parser) atom() (*node, error) {
	if p.i >= len(p.toks) {
		return nil, fmt.Errorf("expression ends too soon")
	}
	t := p.toks[p.i]
	p.i++
	switch {
	case t.kind == tNumber:
		return &node{op: 'n', num: t.num}, nil
	case t.kind == tOp && t.text == "@":
		return &node{op: '@'}, nil
	case t.kind == tName:
		return &node{op: 'f', name: t.text}, nil
	case t.kind == tOp && t.text == "(":
		n, err := p.sum()
		if err != nil {
			return nil, err
		}
		if !p.peek(")") {
			return nil, fmt.Errorf("missing )")
		}
		p.i++
		return n, nil
	}
	return nil, fmt.Errorf("unexpected %q", t.text)
}
