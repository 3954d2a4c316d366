package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The README says what the code does (issue 19 #7): its synopsis lists
// each command's flags, the files it names in the state directory are the
// ones the code writes, the unit settings it quotes are the unit's, and
// every metric it names is one the code renders.
func TestREADMEMatchesTheCode(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)

	// Flags: the synopsis line of each command against its --help.
	for _, cmd := range []string{"beat", "probe", "check"} {
		m := regexp.MustCompile(`(?m)^thermal ` + cmd + ` +(.*)$`).FindStringSubmatch(text)
		if m == nil {
			t.Errorf("README has no synopsis of thermal %s", cmd)
			continue
		}
		var listed []string
		for _, f := range regexp.MustCompile(`--?([a-z-]+)`).FindAllStringSubmatch(m[1], -1) {
			listed = append(listed, f[1])
		}
		_, help, _ := runThermal(t, cmd, "--help")
		var real []string
		for _, f := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(help, -1) {
			real = append(real, f[1])
		}
		slices.Sort(listed)
		slices.Sort(real)
		if !slices.Equal(listed, real) {
			t.Errorf("thermal %s: README lists %v, the command has %v", cmd, listed, real)
		}
	}

	// Files of the state directory: each name the README gives is in the
	// code that writes it.
	code := productCode(t)
	for _, f := range regexp.MustCompile("`(?:<state-dir>/)?([a-z-]+\\.(?:cache|json|toml))`").FindAllStringSubmatch(text, -1) {
		name := strings.TrimSuffix(strings.TrimSuffix(f[1], ".cache"), ".json")
		if f[1] == "thermal.toml" || strings.Contains(f[1], "sensors") {
			continue // the configuration's own file
		}
		if !strings.Contains(code, `"`+name) {
			t.Errorf("README names %s, which no product code writes", f[1])
		}
	}

	// Unit settings quoted as Key=Value.
	unit, _ := os.ReadFile("../../systemd/thermal-heartbeat.service")
	for _, kv := range regexp.MustCompile("`([A-Z][A-Za-z]+=[^`]+)`").FindAllStringSubmatch(text, -1) {
		if strings.HasPrefix(kv[1], "GOMAXPROCS=") || strings.HasPrefix(kv[1], "SENTRY_DSN=") || strings.HasPrefix(kv[1], "THERMAL_CHECKIN_URL=") {
			continue // an environment variable, not a unit setting
		}
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(kv[1]) + `$`).Match(unit) {
			// The README may quote a setting to say the unit does not
			// use it; then it says "not" right before.
			i := strings.Index(text, kv[1])
			if i < 0 || !strings.Contains(text[max(0, i-12):i], "not ") {
				t.Errorf("README quotes %s, which the unit does not set", kv[1])
			}
		}
	}

	// Metrics: every node_thermal_* name is rendered by the code.
	for _, m := range regexp.MustCompile(`node_thermal_[a-z_]+`).FindAllString(text, -1) {
		if !strings.Contains(code, `"`+m+`"`) && !strings.Contains(code, `"`+strings.TrimSuffix(m, "_total")+`"`) {
			t.Errorf("README names %s, which no product code renders", m)
		}
	}
}

// productCode is the text of every non-test Go file of the module.
func productCode(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir("../..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != "../.." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			src, _ := os.ReadFile(p)
			b.Write(src)
		}
		return nil
	})
	return b.String()
}
