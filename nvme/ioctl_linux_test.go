//go:build linux

package nvme

import (
	"testing"
	"unsafe"
)

// The layout of struct nvme_passthru_cmd is ABI: 72 bytes, the same on 386
// and amd64 (make lint vets GOARCH=386; CI runs this test there too).
func TestPassthruCmdLayout(t *testing.T) {
	var c passthruCmd
	if got := unsafe.Sizeof(c); got != 72 {
		t.Errorf("sizeof = %d, want 72", got)
	}
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"nsid", unsafe.Offsetof(c.nsid), 4},
		{"metadata", unsafe.Offsetof(c.metadata), 16},
		{"addr", unsafe.Offsetof(c.addr), 24},
		{"data_len", unsafe.Offsetof(c.dataLen), 36},
		{"cdw10", unsafe.Offsetof(c.cdw10), 40},
		{"timeout_ms", unsafe.Offsetof(c.timeoutMs), 64},
		{"result", unsafe.Offsetof(c.result), 68},
	} {
		if f.got != f.want {
			t.Errorf("offsetof(%s) = %d, want %d", f.name, f.got, f.want)
		}
	}
	// _IOWR('N', 0x41, 72 bytes)
	if want := uint32(3<<30 | 72<<16 | 'N'<<8 | 0x41); uint32(ioctlAdminCmd) != want {
		t.Errorf("ioctl number %#x, want %#x", uint32(ioctlAdminCmd), want)
	}
}
