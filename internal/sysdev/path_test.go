package sysdev

import (
	"path/filepath"
	"testing"
)

var pathSeeds = []string{
	"", "/", ".", "..", "a", "/a", "a/", "/a/", "//a", "a//b", "a/./b", "a/../b", "../a", "./a", "/..", "/.a", "a/.b",
	"/sys/devices/pci0000:00/0000:00:1c.0/0000:10:00.0/nvme/nvme0/hwmon/hwmon12",
	"../../devices/platform/coretemp.0/hwmon/hwmon0", "../../../../class/nvme", "../../..", "../", "device",
	"/tmp/hw/tree355/devices/pci0000:00/0000:00:1c.0/0000:10:00.0/nvme//nvme0/",
}

// Join, Resolve and the walk up in Asleep are filepath's functions, without
// the cost of cleaning clean paths.
func TestPathsAreFilepaths(t *testing.T) {
	for _, a := range pathSeeds {
		for _, b := range pathSeeds {
			checkPaths(t, a, b)
		}
	}
}

func FuzzPathsAreFilepaths(f *testing.F) {
	for _, a := range pathSeeds {
		f.Add(a, "../../devices/x")
	}
	f.Fuzz(checkPaths)
}

func checkPaths(t *testing.T, dir, name string) {
	if got, want := isClean(dir), filepath.Clean(dir) == dir; got && !want {
		t.Errorf("isClean(%q) = true, but Clean gives %q", dir, filepath.Clean(dir))
	}
	if got, want := clean(dir), filepath.Clean(dir); got != want {
		t.Errorf("clean(%q) = %q, want %q", dir, got, want)
	}
	if c := filepath.Clean(dir); c != "" {
		if got, want := parent(c), filepath.Dir(c); got != want {
			t.Errorf("parent(%q) = %q, want %q", c, got, want)
		}
	}
	if got, want := Join(dir, name), filepath.Join(dir, name); got != want {
		t.Errorf("Join(%q, %q) = %q, want %q", dir, name, got, want)
	}
	want := filepath.Join(dir, name)
	if filepath.IsAbs(name) {
		want = filepath.Clean(name)
	}
	if got := Resolve(dir, name); got != want {
		t.Errorf("Resolve(%q, %q) = %q, want %q", dir, name, got, want)
	}
}
