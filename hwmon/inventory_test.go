package hwmon

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// countingFS records every attribute read.
func countingFS(t *testing.T, root string) (FS, func() []string) {
	fs := newFS(t, root)
	var mu sync.Mutex
	var reads []string
	fs.dirReads = false
	fs.read = func(path string, buf []byte) ([]byte, error) {
		mu.Lock()
		reads = append(reads, strings.TrimPrefix(path, root))
		mu.Unlock()
		return sysread.ReadFile(path, buf)
	}
	fs.readLink = func(path string, buf []byte) (string, error) {
		mu.Lock()
		reads = append(reads, "readlink "+strings.TrimPrefix(path, root))
		mu.Unlock()
		return sysread.Readlink(path, buf)
	}
	return fs, func() []string {
		mu.Lock()
		defer mu.Unlock()
		r := reads
		reads = nil
		return r
	}
}

func TestSteadyStateReadsOnlyInputs(t *testing.T) {
	root := fixtureRoot(t, "intel-server.tree")
	fs, reads := countingFS(t, root)
	first, inv, err := fs.ChipsCached(context.Background(), nil)
	if err != nil || !inv.Changed {
		t.Fatalf("first beat: %v, changed %v", err, inv.Changed)
	}
	reads()
	second, inv2, err := fs.ChipsCached(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reads() {
		// Inputs and the state bits (fault, a fan's alarm and enable) are read every beat.
		if !strings.HasSuffix(r, "_input") && !strings.HasSuffix(r, "_fault") && !strings.HasSuffix(r, "_alarm") && !strings.HasSuffix(r, "_enable") && !strings.HasSuffix(r, "/runtime_status") && !strings.HasSuffix(r, "/power/control") &&
			!strings.HasSuffix(r, "nct6775.656/hwmon/hwmon4/temp7_label") { // unreadable input: that channel stays unknown
			t.Errorf("steady-state beat read %s", r)
		}
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("steady-state beat differs from the full one:\nfirst  %+v\nsecond %+v", first, second)
	}
	// The nct6798's unreadable PCH_CHIP_TEMP keeps it learning; the rest is known.
	for e, c := range inv2.Chips {
		for _, ch := range c.Channels {
			if !ch.Known && c.Name != "nct6798-isa-0290" && c.Name != "tmp421-i2c-0-4c" {
				t.Errorf("%s (%s) temp%d not known after a full read", e, c.Name, ch.N)
			}
		}
	}
}

func TestInventoryFollowsReloadAndHotplug(t *testing.T) {
	root := fixtureRoot(t, "qemu-6.1.tree")
	fs, _ := countingFS(t, root)
	_, inv, err := fs.ChipsCached(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Reload lm75 as hwmon7 with a label, and hot-plug a new chip.
	old := filepath.Join(root, "devices/i2c-1/1-0048/hwmon/hwmon2")
	moved := filepath.Join(root, "devices/i2c-1/1-0048/hwmon/hwmon7")
	if err := os.Rename(old, moved); err != nil {
		t.Fatal(err)
	}
	os.Chmod(moved, 0o755)
	os.WriteFile(filepath.Join(moved, "temp1_label"), []byte("Inlet\n"), 0o444)
	os.Remove(filepath.Join(root, "class/hwmon/hwmon2"))
	os.Symlink("../../devices/i2c-1/1-0048/hwmon/hwmon7", filepath.Join(root, "class/hwmon/hwmon7"))
	hot := filepath.Join(root, "devices/platform/coretemp.0/hwmon/hwmon8")
	os.MkdirAll(hot, 0o755)
	os.WriteFile(filepath.Join(hot, "name"), []byte("coretemp\n"), 0o444)
	os.WriteFile(filepath.Join(hot, "temp1_input"), []byte("41000\n"), 0o444)
	os.Symlink("../../..", filepath.Join(hot, "device"))
	os.Symlink("../../devices/platform/coretemp.0/hwmon/hwmon8", filepath.Join(root, "class/hwmon/hwmon8"))

	chips, inv2, err := fs.ChipsCached(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if !inv2.Changed {
		t.Error("inventory not marked changed")
	}
	names := map[string][]thermal.Sensor{}
	for _, c := range chips {
		names[c.Name] = c.Sensors
	}
	if s := names["lm75-i2c-1-48"]; len(s) != 1 || s[0].Name != "Inlet" {
		t.Errorf("reloaded lm75 = %+v, want its new label", s)
	}
	if s := names["coretemp-isa-0000"]; len(s) != 1 || s[0].Value != 41000 {
		t.Errorf("hot-plugged coretemp = %+v", s)
	}
}

func fixtureRoot(t *testing.T, tree string) string {
	t.Helper()
	return sysfstest.UnpackFile(t, "../testdata/sysfs/"+tree)
}

// A chip left out by the caller (the kernel's nvme chip of a controller the
// ioctl reads) or one that cannot be named must not make every beat rewrite
// the inventory.
func TestInventorySettlesWithSkippedAndBrokenChips(t *testing.T) {
	root := fixtureRoot(t, "intel-server.tree")
	os.Remove(filepath.Join(root, "devices/platform/coretemp.1/hwmon/hwmon3/name"))
	fs, _ := countingFS(t, root)
	fs.req = &thermal.Request{Admit: func(c *thermal.Chip) bool { return c.Driver != "nvme" }}
	_, inv, err := fs.ChipsCached(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		chips, next, err := fs.ChipsCached(context.Background(), inv)
		if err != nil {
			t.Fatal(err)
		}
		if next.Changed {
			t.Errorf("beat %d: the inventory changed again", i+2)
		}
		for _, c := range chips {
			if c.Driver == "nvme" {
				t.Errorf("skipped chip %s reported", c.Name)
			}
		}
		inv = next
	}
}

func TestInventoryEncodingRoundTrips(t *testing.T) {
	for _, tree := range []string{"intel-server.tree", "amd-workstation.tree", "exotic.tree", "qemu-6.1.tree", "raspberry-pi.tree"} {
		fs := newFS(t, fixtureRoot(t, tree))
		_, inv, err := fs.ChipsCached(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		// Labels with the encoding's own separators survive.
		for e, c := range inv.Chips {
			if len(c.Channels) > 0 {
				c.Channels[0].Label = "tab\there\\ and\nnewline"
				inv.Chips[e] = c
				break
			}
		}
		data, err := inv.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Inventory
		if err := got.UnmarshalBinary(data); err != nil {
			t.Fatalf("%s: %v", tree, err)
		}
		inv.Changed = false
		if !reflect.DeepEqual(&got, inv) {
			t.Errorf("%s: round trip differs:\n got %+v\nwant %+v", tree, got, *inv)
		}
	}
}

// A corrupt cache entry is an error, never a panic or a half inventory.
func FuzzInventoryUnmarshal(f *testing.F) {
	f.Add([]byte(inventoryMagic + "C\t7\thwmon0\tl\thwmon\tx-isa-0000\tx\tisa\t/p\t/d\nT\t1\t1\t1\tlabel\t1000\t\t\t\n"))
	f.Add([]byte(inventoryMagic + "T\t1\t1\t1\n"))
	f.Add([]byte(inventoryMagic + "C\t8\thwmon1\tl\thwmon\tnct-isa-0290\tnct\tisa\t/p\t/d\nF\t1\t9\t1\tCPU Fan\t300\t\t\t\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var inv Inventory
		if err := inv.UnmarshalBinary(data); err != nil {
			return
		}
		again, err := inv.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var inv2 Inventory
		if err := inv2.UnmarshalBinary(again); err != nil || !reflect.DeepEqual(inv, inv2) {
			t.Fatalf("re-encoding changed the inventory: %v", err)
		}
	})
}

// Every kind of channel (power, pwm, a Pi's under-voltage alarm) is
// learnt once: the inventory settles after the first beat, as it does for
// temperatures and fans (a channel it could not encode made every beat
// inspect every chip again).
func TestInventorySettlesWithEveryChannelKind(t *testing.T) {
	for _, tree := range []string{"amd-workstation.tree", "raspberry-pi.tree"} {
		fs := newFS(t, fixtureRoot(t, tree))
		_, inv, err := fs.ChipsCached(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			data, _ := inv.MarshalBinary()
			var prev Inventory
			if err := prev.UnmarshalBinary(data); err != nil {
				t.Fatalf("%s: beat %d: the inventory does not decode: %v", tree, i+2, err)
			}
			_, next, err := fs.ChipsCached(context.Background(), &prev)
			if err != nil {
				t.Fatal(err)
			}
			if next.Changed {
				t.Errorf("%s: beat %d: the inventory changed again", tree, i+2)
			}
			inv = next
		}
	}
}

// A class entry keeps its inode number while its link stands: the steady
// beat reads no link. An entry made again under the same name (hwmonN is
// reused by the next device to register) is a new node with another
// number, and its chip is inspected afresh.
func TestInventoryKnowsEntriesByInode(t *testing.T) {
	root := fixtureRoot(t, "qemu-6.1.tree")
	fs, reads := countingFS(t, root)
	_, inv, err := fs.ChipsCached(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for e, c := range inv.Chips {
		if c.Ino == 0 {
			t.Errorf("%s: no inode number noted", e)
		}
	}

	// An inventory that knows no numbers (written by a build before them,
	// or on a filesystem that gives none) is trusted by link once, and
	// saved with the numbers.
	for e, c := range inv.Chips {
		c.Ino = 0
		inv.Chips[e] = c
	}
	inv.Changed = false
	reads()
	_, inv, err = fs.ChipsCached(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	for _, r := range reads() {
		if strings.HasPrefix(r, "readlink ") {
			links++
		} else if strings.HasSuffix(r, "/name") {
			t.Errorf("a chip known by its link was inspected again: read %s", r)
		}
	}
	if links != len(inv.Chips) || !inv.Changed {
		t.Errorf("read %d links for %d chips, changed %v; want one each, changed", links, len(inv.Chips), inv.Changed)
	}
	inv.Changed = false
	_, inv, err = fs.ChipsCached(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reads() {
		if strings.HasPrefix(r, "readlink ") {
			t.Errorf("steady beat: %s", r)
		}
	}
	if inv.Changed {
		t.Error("steady beat: inventory changed")
	}

	// Another chip at the lm75's address takes its hwmon2: the same link
	// target, but a new link (renamed over the old one, so that it cannot
	// reuse its inode), as the kernel makes it (e2e checks the kernel).
	remake := func(entry, target string) {
		t.Helper()
		tmp := filepath.Join(root, "class/hwmon/."+entry+".new")
		if err := os.Symlink(target, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(root, "class/hwmon", entry)); err != nil {
			t.Fatal(err)
		}
	}
	lm75 := filepath.Join(root, "devices/i2c-1/1-0048/hwmon/hwmon2")
	if err := os.WriteFile(filepath.Join(lm75, "name"), []byte("tmp102\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	remake("hwmon2", "../../devices/i2c-1/1-0048/hwmon/hwmon2")
	chips, inv, err := fs.ChipsCached(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range chips {
		names = append(names, c.Name)
	}
	if !slices.Contains(names, "tmp102-i2c-1-48") || slices.Contains(names, "lm75-i2c-1-48") || !inv.Changed {
		t.Errorf("after another chip took hwmon2 under the same target: chips %v, changed %v; want tmp102-i2c-1-48, no lm75", names, inv.Changed)
	}
	inv.Changed = false

	// hwmon2 is made again for a device elsewhere: a new link target.
	moved := filepath.Join(root, "devices/platform/coretemp.0/hwmon/hwmon2")
	os.MkdirAll(moved, 0o755)
	os.WriteFile(filepath.Join(moved, "name"), []byte("coretemp\n"), 0o444)
	os.WriteFile(filepath.Join(moved, "temp1_input"), []byte("43000\n"), 0o444)
	os.Symlink("../../..", filepath.Join(moved, "device"))
	remake("hwmon2", "../../devices/platform/coretemp.0/hwmon/hwmon2")
	chips, inv2, err := fs.ChipsCached(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if !inv2.Changed {
		t.Error("inventory not marked changed")
	}
	var found bool
	for _, c := range chips {
		if c.Name == "tmp102-i2c-1-48" {
			t.Errorf("the re-made hwmon2 still read as the chip before: %+v", c)
		}
		if c.Name == "coretemp-isa-0000" && len(c.Sensors) == 1 && c.Sensors[0].Value == 43000 {
			found = true
		}
	}
	if !found {
		t.Errorf("the re-made hwmon2 not read as its new device: %+v", chips)
	}
}
