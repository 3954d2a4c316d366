//go:build linux

package disk

import (
	"testing"
	"unsafe"
)

// struct sg_io_hdr is 88 bytes with 64-bit pointers, 64 with 32-bit ones.
func TestSGIOHdrLayout(t *testing.T) {
	want := uintptr(64)
	if unsafe.Sizeof(uintptr(0)) == 8 {
		want = 88
	}
	if got := unsafe.Sizeof(sgIOHdr{}); got != want {
		t.Errorf("sizeof(sg_io_hdr) = %d, want %d", got, want)
	}
	if off := unsafe.Offsetof(sgIOHdr{}.status); unsafe.Sizeof(uintptr(0)) == 8 && off != 64 {
		t.Errorf("status at %d, want 64", off)
	}
}
