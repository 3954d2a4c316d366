// Package sysfstest builds sysfs trees for tests from a small text format.
//
// Real sysfs trees have ':' in file names (0000:00:18.3, LNXTHERM:00), which
// Go module zips refuse, so fixtures are kept as text and unpacked into a
// temporary directory at test time, with real relative symlinks as the
// kernel makes them. The format, one directive per line:
//
//	# comment
//	cd /devices/platform/coretemp.0      set the current directory (created)
//	d power                              a directory
//	f temp1_input 45000                  a file; the rest of the line is its content, plus "\n"
//	l subsystem -> /bus/platform         a symlink; a target starting with / is taken from
//	                                     the tree's root and written relative, as sysfs does
//	x temp3_input                        an attribute whose read fails (a directory: EISDIR)
//	hwmon hwmon2 /devices/pci0000:00/0000:00:18.3
//	                                     a hwmon class device under that device: creates
//	                                     <dev>/hwmon/hwmon2 with its device and subsystem links and
//	                                     class/hwmon/hwmon2, and cds into it
//	hwmon hwmon5 -                       the same without a device link (a virtual chip)
//
// Paths not starting with / are relative to the current directory.
package sysfstest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Unpack builds the tree described by r under root.
func Unpack(root string, r io.Reader) error {
	cwd := "/"
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		verb, rest, _ := strings.Cut(text, " ")
		rest = strings.TrimSpace(rest)
		abs := func(p string) string {
			if strings.HasPrefix(p, "/") {
				return filepath.Clean(p)
			}
			return filepath.Join(cwd, p)
		}
		var err error
		switch verb {
		case "cd":
			cwd = abs(rest)
			err = os.MkdirAll(filepath.Join(root, cwd), 0o755)
		case "d", "x":
			err = os.MkdirAll(filepath.Join(root, abs(rest)), 0o755)
		case "f":
			name, content, _ := strings.Cut(rest, " ")
			err = writeFile(root, abs(name), content+"\n")
		case "l":
			name, target, ok := strings.Cut(rest, " -> ")
			if !ok {
				err = fmt.Errorf("want: l NAME -> TARGET")
				break
			}
			err = symlink(root, abs(strings.TrimSpace(name)), strings.TrimSpace(target))
		case "hwmon":
			name, dev, _ := strings.Cut(rest, " ")
			dev = strings.TrimSpace(dev)
			dir := "/devices/virtual/hwmon/" + name
			if dev != "-" {
				dir = filepath.Join(abs(dev), "hwmon", name)
			}
			cwd = dir
			if err = os.MkdirAll(filepath.Join(root, dir, "power"), 0o755); err != nil {
				break
			}
			if err = symlink(root, "/class/hwmon/"+name, dir); err != nil {
				break
			}
			if err = symlink(root, dir+"/subsystem", "/class/hwmon"); err != nil {
				break
			}
			if dev != "-" {
				err = symlink(root, dir+"/device", abs(dev))
			}
		default:
			err = fmt.Errorf("unknown directive %q", verb)
		}
		if err != nil {
			return fmt.Errorf("line %d: %q: %w", line, text, err)
		}
	}
	return sc.Err()
}

func writeFile(root, p, content string) error {
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, []byte(content), 0o444)
}

func symlink(root, p, target string) error {
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	if strings.HasPrefix(target, "/") {
		rel, err := filepath.Rel(filepath.Dir(p), filepath.Clean(target))
		if err != nil {
			return err
		}
		target = rel
	}
	return os.Symlink(target, full)
}

// UnpackFile unpacks the fixture file at path into a new temporary directory
// and returns the directory: the tree's root, to be passed as --sysfs.
func UnpackFile(tb testing.TB, path string) string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	root := tb.TempDir()
	if err := Unpack(root, f); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return root
}

// UnpackString is UnpackFile for a fixture given inline.
func UnpackString(tb testing.TB, fixture string) string {
	tb.Helper()
	root := tb.TempDir()
	if err := Unpack(root, strings.NewReader(fixture)); err != nil {
		tb.Fatal(err)
	}
	return root
}

// Generate returns a fixture with n temperature sensors spread over
// platform chips of 16 labelled channels each (with max and crit limits), for
// benchmarks that need trees of a given size.
func Generate(n int) string {
	var b strings.Builder
	b.WriteString("cd /bus/platform\n")
	for chip := 0; chip*16 < n; chip++ {
		dev := fmt.Sprintf("/devices/platform/coretemp.%d", chip)
		fmt.Fprintf(&b, "cd %s\nl subsystem -> /bus/platform\nhwmon hwmon%d %s\nf name coretemp\n", dev, chip, dev)
		for ch := 1; ch <= 16 && chip*16+ch <= n; ch++ {
			fmt.Fprintf(&b, "f temp%d_label Core %d\nf temp%d_input %d\nf temp%d_max 88000\nf temp%d_crit 98000\n",
				ch, ch-1, ch, 40000+ch*250, ch, ch)
		}
	}
	return b.String()
}
