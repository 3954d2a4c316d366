package config

import (
	"path"
	"strings"
)

// glob is a Match's glob compiled for the shapes configurations use: a
// name, a prefix or a suffix with one *, or * alone are matched without
// path.Match; any other pattern (?, [class], \, more stars, a malformed
// one) is handed to path.Match itself. It matches exactly what Match does:
// "" matches anything, as path.Match otherwise, a malformed pattern
// nothing.
type glob struct {
	op  globOp
	lit string // the name, prefix or suffix; the whole pattern for globPath
}

type globOp uint8

const (
	globAny     globOp = iota // "": anything
	globLiteral               // no metacharacter: the name itself
	globPrefix                // lit*: lit and then no /
	globSuffix                // *lit: no / and then lit
	globPath                  // anything else: path.Match
)

// compileGlob compiles a Match's glob.
func compileGlob(pattern string) glob {
	switch {
	case pattern == "":
		return glob{op: globAny}
	case !hasMeta(pattern):
		return glob{globLiteral, pattern}
	case strings.HasSuffix(pattern, "*") && !hasMeta(pattern[:len(pattern)-1]):
		return glob{globPrefix, pattern[:len(pattern)-1]}
	case strings.HasPrefix(pattern, "*") && !hasMeta(pattern[1:]):
		return glob{globSuffix, pattern[1:]}
	}
	return glob{globPath, pattern}
}

// hasMeta reports whether s has a character path.Match does not take
// literally.
func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// match reports whether s matches. A star matches any run of bytes but /,
// as in path.Match.
func (g glob) match(s string) bool {
	switch g.op {
	case globAny:
		return true
	case globLiteral:
		return s == g.lit
	case globPrefix:
		return strings.HasPrefix(s, g.lit) && strings.IndexByte(s[len(g.lit):], '/') < 0
	case globSuffix:
		return strings.HasSuffix(s, g.lit) && strings.IndexByte(s[:len(s)-len(g.lit)], '/') < 0
	}
	ok, _ := path.Match(g.lit, s) // patterns are validated at load
	return ok
}

// matcher is a Match with its globs compiled.
type matcher struct{ source, chip, sensor glob }

func compileMatch(m *Match) matcher {
	return matcher{compileGlob(m.Source), compileGlob(m.Chip), compileGlob(m.Sensor)}
}

// matchesChip reports whether the source and chip globs match.
func (m *matcher) matchesChip(source, chip string) bool {
	return m.source.match(source) && m.chip.match(chip)
}
