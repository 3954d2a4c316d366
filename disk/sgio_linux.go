//go:build linux

package disk

import (
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sgIO is the SG_IO ioctl (include/scsi/sg.h).
const sgIO = 0x2285

// Data directions of struct sg_io_hdr.
const (
	sgDxferNone    = -1
	sgDxferToDev   = -2
	sgDxferFromDev = -3
)

// sgIOHdr is struct sg_io_hdr (88 bytes on 64-bit architectures, 64 on
// 32-bit ones; asserted in the tests).
type sgIOHdr struct {
	interfaceID    int32
	dxferDirection int32
	cmdLen         uint8
	mxSbLen        uint8
	iovecCount     uint16
	dxferLen       uint32
	dxferp         uintptr
	cmdp           uintptr
	sbp            uintptr
	timeout        uint32
	flags          uint32
	packID         int32
	usrPtr         uintptr
	status         uint8
	maskedStatus   uint8
	msgStatus      uint8
	sbLenWr        uint8
	hostStatus     uint16
	driverStatus   uint16
	resid          int32
	duration       uint32
	info           uint32
}

// Device is an open drive: its block device node, opened read-only and
// non-blocking. Opening a non-removable SCSI disk sends it no command.
type Device struct {
	fd   int
	path string
}

// Open opens the drive's node read-only.
func Open(path string) (*Device, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Op: "open", Path: path, Errno: err.(syscall.Errno)}
	}
	return &Device{fd: fd, path: path}, nil
}

// Close closes the node.
func (d *Device) Close() error { return unix.Close(d.fd) }

// Do sends cmd through SG_IO with the package's Timeout.
func (d *Device) Do(cmd *Command) error {
	var sense [64]byte
	h := sgIOHdr{interfaceID: 'S', dxferDirection: sgDxferNone, cmdLen: uint8(len(cmd.CDB)), mxSbLen: uint8(len(sense)),
		cmdp: uintptr(unsafe.Pointer(&cmd.CDB[0])), sbp: uintptr(unsafe.Pointer(&sense[0])),
		timeout: uint32(Timeout.Milliseconds())}
	if len(cmd.Data) > 0 {
		h.dxferLen = uint32(len(cmd.Data))
		h.dxferp = uintptr(unsafe.Pointer(&cmd.Data[0]))
		switch cmd.Dir {
		case FromDisk:
			h.dxferDirection = sgDxferFromDev
		case ToDisk:
			h.dxferDirection = sgDxferToDev
		}
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(d.fd), sgIO, uintptr(unsafe.Pointer(&h)))
	// The kernel reads the CDB and writes the data and the sense through
	// the addresses in h; keep them alive until the call has returned.
	runtime.KeepAlive(cmd)
	runtime.KeepAlive(&sense)
	if errno != 0 {
		return &Error{Op: "SG_IO", Path: d.path, Errno: errno}
	}
	// driver_status' low bits are errors (timeout, …); DRIVER_SENSE (08h)
	// only says sense data came back.
	if h.hostStatus != 0 || h.driverStatus&0x7 != 0 {
		return &Error{Op: "SG_IO", Path: d.path, Host: h.hostStatus, Driver: h.driverStatus}
	}
	switch {
	case h.sbLenWr > 0:
		cmd.Sense = append(cmd.Sense[:0], sense[:h.sbLenWr]...)
	case h.status == statusCheckCondition:
		cmd.Sense = cmd.Sense[:0]
		return &Error{Op: "SG_IO", Path: d.path, Status: h.status}
	case h.status != statusGood:
		return &Error{Op: "SG_IO", Path: d.path, Status: h.status}
	}
	return nil
}

var _ Transport = (*Device)(nil)
