package sources_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/thermal-heartbeat/thermal"
	_ "github.com/thermal-heartbeat/thermal/sources"
)

const module = "github.com/thermal-heartbeat/thermal"

// imports maps every product package of the module to its imports.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}: {{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imps, _ := strings.Cut(line, ": ")
		m[pkg] = strings.Fields(imps)
	}
	return m
}

// A source is one package: package sources links them (one line each);
// no other package imports one, and none imports another. The pipeline
// produces and imports none of its consumers.
func TestSourcesArePlugIns(t *testing.T) {
	deps := imports(t)
	srcs := deps[module+"/sources"]
	if len(srcs) < 5 {
		t.Fatalf("package sources links %v", srcs)
	}
	for pkg, imps := range deps {
		for _, imp := range imps {
			if !slices.Contains(srcs, imp) || pkg == module+"/sources" {
				continue
			}
			if slices.Contains(srcs, pkg) {
				t.Errorf("source %s imports source %s: sources know nothing of one another", pkg, imp)
			} else {
				t.Errorf("%s imports the source %s: only package sources links sources", pkg, imp)
			}
		}
	}
	for _, consumer := range []string{"report", "alert", "notify", "state", "heartbeat"} {
		if slices.Contains(deps[module+"/pipeline"], module+"/"+consumer) {
			t.Errorf("pipeline imports its consumer %s", consumer)
		}
	}
}

// Nothing outside a source's package names it: no string literal in the
// product code of another package is a registered source's name. (The
// fixture builder's "hwmon" directive, in a test helper package, is a
// sysfs class, not the source.)
func TestNoPackageNamesAnotherSource(t *testing.T) {
	deps := imports(t)
	srcDirs := map[string]bool{}
	for _, p := range deps[module+"/sources"] {
		srcDirs[strings.TrimPrefix(p, module+"/")] = true
	}
	names := map[string]bool{}
	for _, r := range thermal.Registered() {
		names[r.Name] = true
	}
	root, _ := filepath.Abs("..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if srcDirs[rel] || rel == "internal/sysfstest" || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
				if v, _ := strconv.Unquote(bl.Value); names[v] {
					t.Errorf("%s names the source %q", fset.Position(bl.Pos()), v)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
