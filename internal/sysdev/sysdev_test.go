package sysdev

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// nvmeTree makes the devices of an NVMe drive: its PCI function (status
// pciStatus, with power/control), the class device nvme0 in the class's
// glue directory, without runtime PM, and the links ChipName follows.
func nvmeTree(t *testing.T, pciStatus string) (root, pci, nvme0 string) {
	t.Helper()
	root = t.TempDir()
	pci = filepath.Join(root, "devices/pci0000:00/0000:01:00.0")
	nvme0 = filepath.Join(pci, "nvme/nvme0")
	for _, d := range []string{filepath.Join(pci, "power"), nvme0, filepath.Join(root, "class/nvme"), filepath.Join(root, "bus/pci")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(pci, "power/runtime_status"), []byte(pciStatus+"\n"), 0o444)
	os.WriteFile(filepath.Join(pci, "power/control"), []byte("auto\n"), 0o444)
	os.Symlink("../../../bus/pci", filepath.Join(pci, "subsystem"))
	os.Symlink("../../../../../class/nvme", filepath.Join(nvme0, "subsystem"))
	os.Symlink("../../../0000:01:00.0", filepath.Join(nvme0, "device"))
	return root, pci, nvme0
}

// countingRead reads through sysread.ReadFile and records the paths.
func countingRead(root string) (sysread.ReadFunc, func() []string) {
	var mu sync.Mutex
	var reads []string
	return func(path string, buf []byte) ([]byte, error) {
			mu.Lock()
			reads = append(reads, strings.TrimPrefix(path, root))
			mu.Unlock()
			return sysread.ReadFile(path, buf)
		}, func() []string {
			mu.Lock()
			defer mu.Unlock()
			r := reads
			reads = nil
			return r
		}
}

// A class device's glue directory (…/0000:01:00.0/nvme) is no device: once
// ChipName has met the class device, Asleep walks past it without a read.
// Each directory is read once per Tree, whoever asks.
func TestAsleepSkipsGlueDirectories(t *testing.T) {
	root, _, nvme0 := nvmeTree(t, "active")
	read, reads := countingRead(root)
	tree := New(root, read)
	if name, _ := tree.ChipName("nvme", nvme0); name != "nvme-pci-0100" {
		t.Fatalf("chip name %s", name)
	}
	if tree.Asleep(nvme0) {
		t.Error("asleep behind an active PCI function")
	}
	want := []string{"/devices/pci0000:00/0000:01:00.0/nvme/nvme0/power/runtime_status", "/devices/pci0000:00/0000:01:00.0/power/runtime_status"}
	if got := reads(); !slices.Equal(got, want) {
		t.Errorf("reads %q, want %q", got, want)
	}
	if tree.Asleep(nvme0) || len(reads()) != 0 {
		t.Error("a second walk read again")
	}
}

// AsleepClass, for a class device ChipName never met (a steady beat's),
// walks past its glue directory all the same.
func TestAsleepClassSkipsGlueDirectories(t *testing.T) {
	root, _, nvme0 := nvmeTree(t, "active")
	read, reads := countingRead(root)
	if New(root, read).AsleepClass(nvme0, "nvme") {
		t.Error("asleep behind an active PCI function")
	}
	want := []string{"/devices/pci0000:00/0000:01:00.0/nvme/nvme0/power/runtime_status", "/devices/pci0000:00/0000:01:00.0/power/runtime_status"}
	if got := reads(); !slices.Equal(got, want) {
		t.Errorf("reads %q, want %q", got, want)
	}
	// A parent named otherwise is a device, read.
	root, _, nvme0 = nvmeTree(t, "suspended")
	read, reads = countingRead(root)
	if !New(root, read).AsleepClass(nvme0, "scsi_disk") {
		t.Error("awake behind a suspended PCI function")
	}
	if got := reads(); len(got) != 4 {
		t.Errorf("reads %q: want the glue directory's read too", got)
	}
}

// Without ChipName, the glue directory is read like any other, and the
// answer is the same.
func TestAsleepWithoutChipNameReadsEveryDirectory(t *testing.T) {
	root, _, nvme0 := nvmeTree(t, "suspended")
	read, reads := countingRead(root)
	if !New(root, read).Asleep(nvme0) {
		t.Error("awake behind a suspended PCI function")
	}
	if got := reads(); len(got) != 4 || !strings.HasSuffix(got[1], "/0000:01:00.0/nvme/power/runtime_status") {
		t.Errorf("reads %q: want nvme0's, the glue directory's, the function's status and control", got)
	}
}

// <sysfs>/devices/virtual is no device: never read.
func TestAsleepSkipsDevicesVirtual(t *testing.T) {
	root := t.TempDir()
	zone := filepath.Join(root, "devices/virtual/thermal/thermal_zone0")
	os.MkdirAll(zone, 0o755)
	read, reads := countingRead(root)
	if New(root, read).Asleep(zone) {
		t.Error("asleep")
	}
	for _, r := range reads() {
		if r == "/devices/virtual/power/runtime_status" {
			t.Errorf("read %s", r)
		}
	}
}

// The sources of one collection share a Tree; another collection, or none,
// gets its own, so that a device suspended since is seen asleep.
func TestSharedTreeIsPerCollection(t *testing.T) {
	root, pci, nvme0 := nvmeTree(t, "active")
	a, b := &thermal.Request{}, &thermal.Request{}
	ta, none := Shared(a, root), Shared(nil, root)
	if Shared(a, root) != ta || Shared(b, root) == ta || Shared(a, root+"/") == ta || Shared(nil, root) == none {
		t.Fatal("trees not shared per collection and tree")
	}
	if ta.Asleep(nvme0) {
		t.Fatal("asleep")
	}
	os.WriteFile(filepath.Join(pci, "power/runtime_status"), []byte("suspended\n"), 0o444)
	if !Shared(b, root).Asleep(nvme0) {
		t.Error("the next collection does not see the device suspended")
	}
}

// A Tree is answered from many goroutines at once (the hwmon source's
// workers while one is stuck; the sources of a collection).
func TestTreeIsSafeForConcurrentUse(t *testing.T) {
	root, _, nvme0 := nvmeTree(t, "active")
	tree := New(root, sysread.ReadFile)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if name, _ := tree.ChipName("nvme", nvme0); name != "nvme-pci-0100" || tree.Asleep(nvme0) {
					t.Errorf("%s, asleep", name)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A collection's Tree goes with its request.
func TestSharedTreeIsForgotten(t *testing.T) {
	root := t.TempDir()
	Shared(&thermal.Request{}, root)
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		shared.mu.Lock()
		n := 0
		for k := range shared.trees {
			if k.sys == root {
				n++
			}
		}
		shared.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the tree of a collected request is kept")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
