//go:build linux

package nvme

import (
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctlAdminCmd is NVME_IOCTL_ADMIN_CMD: _IOWR('N', 0x41, struct nvme_admin_cmd).
const ioctlAdminCmd = 0xC0484E41

// passthruCmd is struct nvme_passthru_cmd from include/uapi/linux/nvme_ioctl.h
// (72 bytes on every architecture; asserted in the tests).
type passthruCmd struct {
	opcode      uint8
	flags       uint8
	rsvd1       uint16
	nsid        uint32
	cdw2        uint32
	cdw3        uint32
	metadata    uint64
	addr        uint64
	metadataLen uint32
	dataLen     uint32
	cdw10       uint32
	cdw11       uint32
	cdw12       uint32
	cdw13       uint32
	cdw14       uint32
	cdw15       uint32
	timeoutMs   uint32
	result      uint32
}

// Device is an open NVMe controller character device (/dev/nvmeN).
type Device struct {
	fd   int
	path string
}

// Open opens the controller node read-only. Admin commands that only read
// (Identify, Get Log Page) need no write access; the kernel still requires
// CAP_SYS_ADMIN for Get Log Page.
func Open(path string) (*Device, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Op: "open", Path: path, Errno: err.(syscall.Errno)}
	}
	return &Device{fd: fd, path: path}, nil
}

// Close closes the device node.
func (d *Device) Close() error { return unix.Close(d.fd) }

// AdminCommand issues cmd with the admin passthrough ioctl. The ioctl
// returns a negative errno when the kernel refuses it and a positive NVMe
// status when the controller fails the command; x/sys's ioctl helpers would
// discard the latter, so the syscall is made here.
func (d *Device) AdminCommand(cmd *Command) error {
	c := passthruCmd{
		opcode:  cmd.Opcode,
		nsid:    cmd.NSID,
		cdw10:   cmd.CDW10,
		dataLen: uint32(len(cmd.Data)),
	}
	if len(cmd.Data) > 0 {
		c.addr = uint64(uintptr(unsafe.Pointer(&cmd.Data[0])))
	}
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(d.fd), ioctlAdminCmd, uintptr(unsafe.Pointer(&c)))
	// The kernel writes into Data through the address in c; keep both
	// alive until the call has returned.
	runtime.KeepAlive(cmd.Data)
	runtime.KeepAlive(&c)
	if errno != 0 {
		return &Error{Op: "ioctl", Path: d.path, Errno: errno}
	}
	if int32(r) > 0 {
		return &Error{Op: "ioctl", Path: d.path, Status: uint16(r)}
	}
	return nil
}

var _ Transport = (*Device)(nil)
