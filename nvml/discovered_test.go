package nvml

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// A steady beat lists the PCI functions and reads no vendor while they are
// the ones the discovery saw; only the GPUs' power state is read again. A
// function plugged in (a new link) makes the discovery run again, and so
// does a corrupt cache entry.
func TestDiscoveryCached(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../testdata/nvml/nvidia-gpus.tree")
	fs, err := NewFS(root, thermal.DefaultRange)
	if err != nil {
		t.Fatal(err)
	}
	var reads []string
	fs.read = func(path string, buf []byte) ([]byte, error) {
		reads = append(reads, strings.TrimPrefix(path, root))
		return sysread.ReadFile(path, buf)
	}
	cache := sysfstest.MemCache{}
	show := func(gs []gpu) string { return fmt.Sprintf("%+v", gs) }
	want := show(fs.GPUs())
	reads = nil
	first := fs.gpus(cache)
	if show(first) != want || len(first) == 0 {
		t.Fatalf("discovery through the cache: %s, want %s", show(first), want)
	}
	reads = nil
	if got := show(fs.gpus(cache)); got != want {
		t.Errorf("steady beat: %s, want %s", got, want)
	}
	for _, r := range reads {
		if !strings.HasSuffix(r, "/power/runtime_status") && !strings.HasSuffix(r, "/power/control") {
			t.Errorf("steady beat read %s", r)
		}
	}
	// The last GPU asleep now: its power state is read again.
	dev := first[len(first)-1].dir
	os.WriteFile(filepath.Join(dev, "power/runtime_status"), []byte("suspended\n"), 0o644)
	if got := fs.gpus(cache); !got[len(got)-1].asleep {
		t.Errorf("a GPU suspended since is awake: %+v", got[len(got)-1])
	}
	os.WriteFile(filepath.Join(dev, "power/runtime_status"), []byte("active\n"), 0o644)

	// Another NVIDIA GPU is plugged in.
	hot := filepath.Join(root, "devices/pci0000:00/0000:00:09.0/0000:09:00.0")
	os.MkdirAll(hot, 0o755)
	os.WriteFile(filepath.Join(hot, "vendor"), []byte("0x10de\n"), 0o444)
	os.WriteFile(filepath.Join(hot, "class"), []byte("0x030200\n"), 0o444)
	os.Symlink("../../../bus/pci", filepath.Join(hot, "subsystem"))
	if err := os.Symlink("../../../devices/pci0000:00/0000:00:09.0/0000:09:00.0", filepath.Join(root, "bus/pci/devices/0000:09:00.0")); err != nil {
		t.Fatal(err)
	}
	reads = nil
	if got := fs.gpus(cache); len(got) != len(first)+1 || got[len(got)-1].busID != "0000:09:00.0" {
		t.Errorf("after a GPU was plugged in: %+v", got)
	}
	if len(reads) == 0 {
		t.Error("no vendor read after a GPU was plugged in")
	}
	cache[gpusKey] = []byte(gpusMagic + "garbage\n")
	if got := fs.gpus(cache); len(got) != len(first)+1 {
		t.Errorf("after a corrupt entry: %+v", got)
	}
	if _, ok := decodeGPUs(cache[gpusKey], fingerprintOf(t, root)); !ok {
		t.Errorf("a corrupt entry is not replaced: %q", cache[gpusKey])
	}
}

func fingerprintOf(t *testing.T, root string) uint64 {
	t.Helper()
	entries, err := sysread.ReadDirEntries(filepath.Join(root, "bus/pci/devices"), make([]byte, 8192))
	if err != nil {
		t.Fatal(err)
	}
	return sysread.Fingerprint(entries)
}

// A GPU found while the kernel adds it (its bus link made, its subsystem
// link not yet) is still named from its PCI address, so the discovery
// cached then is right.
func TestDiscoveryOfAGPUBeingAdded(t *testing.T) {
	root := sysfstest.UnpackFile(t, "../testdata/nvml/nvidia-gpus.tree")
	fs, err := NewFS(root, thermal.DefaultRange)
	if err != nil {
		t.Fatal(err)
	}
	want := fs.GPUs()
	os.Remove(filepath.Join(root, "devices/pci0000:00/0000:00:01.0/0000:01:00.0/subsystem"))
	cache := sysfstest.MemCache{}
	if got := fs.gpus(cache); fmt.Sprint(got) != fmt.Sprint(want) || cache[gpusKey] == nil {
		t.Errorf("a GPU without its subsystem link: %+v, want %+v; cache %q", got, want, cache[gpusKey])
	}
}
