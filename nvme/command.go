package nvme

import (
	"errors"
	"strconv"
	"syscall"

	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// Admin command opcodes and parameters used here.
const (
	OpGetLogPage = 0x02
	OpIdentify   = 0x06

	LogSMART      = 0x02
	SMARTLogSize  = 512
	IdentifySize  = 4096
	cnsController = 0x01
	nsidAll       = 0xFFFFFFFF // the controller as a whole; nsid 0 is rejected (status 0x400B)
)

// Command is one admin command with its data buffer (controller to host).
type Command struct {
	Opcode uint8
	NSID   uint32
	CDW10  uint32
	Data   []byte
}

// Transport issues admin commands to one controller. The Linux
// implementation is a Device; tests use fakes.
type Transport interface {
	AdminCommand(cmd *Command) error
}

// SMARTLogCommand returns the Get Log Page command for the SMART / Health
// log of the whole controller: 512 bytes, so NUMDL = 512/4 − 1 = 0x7F.
func SMARTLogCommand(buf []byte) *Command {
	return &Command{Opcode: OpGetLogPage, NSID: nsidAll, CDW10: uint32(SMARTLogSize/4-1)<<16 | LogSMART, Data: buf[:SMARTLogSize]}
}

// IdentifyControllerCommand returns the Identify command for the
// controller data structure (CNS 01h, 4096 bytes).
func IdentifyControllerCommand(buf []byte) *Command {
	return &Command{Opcode: OpIdentify, CDW10: cnsController, Data: buf[:IdentifySize]}
}

// Error is a failed admin command: either the kernel refused the ioctl
// (Errno) or the controller completed it with a non-zero NVMe status.
//
// errors.Is(err, os.ErrPermission) holds for EACCES and EPERM (reading the
// SMART log needs CAP_SYS_ADMIN), and errors.Is(err, os.ErrNotExist) for
// ENOENT, ENODEV and ENXIO (no device node, or the controller went away).
type Error struct {
	Op     string        // "open", "ioctl"
	Path   string        // the device node
	Errno  syscall.Errno // 0 when the controller returned a status
	Status uint16        // NVMe status (status code type and code), 0 when Errno is set
}

// Error reads "nvme: <op> <node>: <errno>" or "…: NVMe status 0x<status>";
// concatenated, not through fmt: a host whose ioctl is refused formats it
// for each controller on every beat.
func (e *Error) Error() string {
	if e.Errno != 0 {
		return "nvme: " + e.Op + " " + e.Path + ": " + e.Errno.Error()
	}
	return "nvme: " + e.Op + " " + e.Path + ": NVMe status 0x" + strconv.FormatUint(uint64(e.Status), 16)
}

// Unwrap returns the errno, if any.
func (e *Error) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// Is maps the errno to the os package's error classes (sysread.ErrnoIs).
func (e *Error) Is(target error) bool { return sysread.ErrnoIs(e.Errno, target) }

// ErrShort is returned by the parsers for a buffer smaller than the
// structure they parse.
var ErrShort = errors.New("nvme: buffer too short")
