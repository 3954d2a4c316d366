// Package golden compares test output with golden files kept in testdata,
// rewriting them when the test runs with -update. Tests only.
package golden

import (
	"os"
	"strings"
	"testing"
)

// Check compares got with the golden file at path; with update set it
// writes got there first. A difference fails the test with a line diff.
func Check(tb testing.TB, path, got string, update bool) {
	tb.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		tb.Errorf("%s differs (-want +got; run the test with -update and review the diff):\n%s", path, Diff(string(want), got))
	}
}

// Diff returns the lines that differ, as -want/+got pairs.
func Diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var x, y string
		if i < len(w) {
			x = w[i]
		}
		if i < len(g) {
			y = g[i]
		}
		if x != y {
			b.WriteString("-" + x + "\n+" + y + "\n")
		}
	}
	return b.String()
}
