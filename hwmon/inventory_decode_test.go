package hwmon

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// splitDecode is a plain decoder of the format (strings.Split, strconv and
// a map), as decode was before it was made fast: the oracle decode answers
// to. Format 4 added the class entry's inode number to the chip line.
func splitDecode(data []byte) (*Inventory, error) {
	s, ok := strings.CutPrefix(string(data), inventoryMagic)
	if !ok {
		return nil, errors.New("unknown format")
	}
	inv := &Inventory{Chips: map[string]InventoryChip{}}
	var cur *InventoryChip
	var curEntry string
	flush := func() {
		if cur != nil {
			inv.Chips[curEntry] = *cur
		}
	}
	for line := range strings.SplitSeq(s, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		switch {
		case f[0] == "C" && len(f) == 10:
			flush()
			ino, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return nil, errors.New("bad inode number")
			}
			curEntry = unescape(f[2])
			cur = &InventoryChip{Link: unescape(f[3]), Ino: ino, Source: unescape(f[4]), Name: unescape(f[5]),
				Driver: unescape(f[6]), Bus: unescape(f[7]), Path: unescape(f[8]), Device: unescape(f[9]), Channels: []InventoryChannel{}}
		case len(f[0]) == 1 && strings.Contains("TFPWA", f[0]) && len(f) == 9 && cur != nil:
			num, err1 := strconv.Atoi(f[1])
			attrs, err2 := strconv.ParseUint(f[2], 10, 8)
			if err1 != nil || err2 != nil || num < 1 || (f[3] != "0" && f[3] != "1") {
				return nil, errors.New("bad channel line")
			}
			ch := InventoryChannel{Kind: f[0][0], N: num, Attrs: uint8(attrs), Known: f[3] == "1", Label: unescape(f[4])}
			for i, dst := range []**int64{&ch.Max, &ch.Crit, &ch.Emergency, &ch.CritHyst} {
				if f := f[5+i]; f != "" {
					v, err := strconv.ParseInt(f, 10, 64)
					if err != nil {
						return nil, errors.New("bad limit")
					}
					*dst = &v
				}
			}
			cur.Channels = append(cur.Channels, ch)
		default:
			return nil, errors.New("bad line")
		}
	}
	flush()
	return inv, nil
}

// checkDecode: what decode accepts, the plain decoder accepts alike;
// what MarshalBinary writes, decode accepts.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	var got Inventory
	if err := got.UnmarshalBinary(data); err != nil {
		return
	}
	want, err := splitDecode(data)
	if err != nil {
		t.Fatalf("decode accepts %q, the plain decoder does not: %v", data, err)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Fatalf("decode(%q) =\n%+v\nthe plain decoder gives\n%+v", data, got, *want)
	}
}

func FuzzDecodeAgreesWithPlainDecoder(f *testing.F) {
	f.Add([]byte(inventoryMagic + "C\t0\thwmon0\tl\thwmon\tx-isa-0000\tx\tisa\t/p\t/d\nT\t1\t1\t1\tlabel\t1000\t\t\t-5\n"))
	f.Add([]byte(inventoryMagic + "C\t18446744073709551615\thwmon1\tl\thwmon\tnct-isa-0290\tnct\tisa\t/p\t/d\nF\t1\t9\t1\tCPU Fan\t300\t\t\t\nW\t2\t1\t1\t\t\t\t\t\n"))
	f.Add([]byte(inventoryMagic + "C\t42\thwmon1\tl\\t\thwmon\tn\\\\\tnct\tisa\t/p\t\nP\t1\t1\t0\ta\\nb\t-9223372036854775808\t9223372036854775807\t0\t\n"))
	f.Fuzz(checkDecode)
}

// Every fixture's inventory decodes as the plain decoder decodes it.
func TestDecodeAgreesWithPlainDecoderOnFixtures(t *testing.T) {
	for _, tree := range []string{"intel-server.tree", "amd-workstation.tree", "exotic.tree", "qemu-6.1.tree", "raspberry-pi.tree", "jetson.tree"} {
		_, inv, err := newFS(t, fixtureRoot(t, tree)).ChipsCached(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := inv.MarshalBinary()
		var got Inventory
		if err := got.UnmarshalBinary(data); err != nil {
			t.Fatalf("%s: %v", tree, err)
		}
		checkDecode(t, data)
	}
}
