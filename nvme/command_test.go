package nvme

import (
	"fmt"
	"syscall"
	"testing"
)

// Error reads as fmt's "nvme: %s %s: %v" and "…: NVMe status %#x" did.
func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Op: "open", Path: "/dev/nvme0", Errno: syscall.ENOENT}, fmt.Sprintf("nvme: %s %s: %v", "open", "/dev/nvme0", syscall.ENOENT)},
		{Error{Op: "ioctl", Path: "/dev/nvme1", Errno: syscall.EACCES}, "nvme: ioctl /dev/nvme1: permission denied"},
		{Error{Op: "ioctl", Path: "/dev/nvme1", Status: 0x4002}, fmt.Sprintf("nvme: %s %s: NVMe status %#x", "ioctl", "/dev/nvme1", uint16(0x4002))},
		{Error{Op: "ioctl", Path: "/dev/nvme1", Status: 0}, "nvme: ioctl /dev/nvme1: NVMe status 0x0"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}
