package disk

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// Direction is the direction of a command's data transfer.
type Direction int

// Data transfer directions.
const (
	None     Direction = iota // no data
	FromDisk                  // the drive sends Data
	ToDisk                    // the host sends Data
)

// Timeout bounds one command. A failing drive can take the SCSI layer 30-60
// s to give up on a command, and a thread in SG_IO cannot be interrupted:
// the beat has long moved on without the drive by then (its deadline is a
// second), but the process cannot exit until the ioctl returns. Three
// seconds is two orders of magnitude above what a healthy drive needs, even
// one whose queue must drain first.
const Timeout = 3 * time.Second

// Command is one SCSI command (a CDB) with its data buffer.
type Command struct {
	CDB  []byte
	Dir  Direction
	Data []byte
	// Sense is filled with the sense data the command returned, if any.
	Sense []byte
}

// Transport sends SCSI commands to one drive. The Linux implementation
// is a Device; tests use fakes.
type Transport interface {
	// Do sends cmd and waits for it. It returns an error when the kernel
	// refused the ioctl or the command did not complete (a *Error), and
	// nil when the drive answered, with cmd.Sense set when it answered
	// CHECK CONDITION: the caller interprets the sense data.
	Do(cmd *Command) error
}

// SCSI status and sense keys used here.
const (
	statusGood           = 0x00
	statusCheckCondition = 0x02

	keyNoSense        = 0x0
	keyRecoveredError = 0x1
	keyIllegalRequest = 0x5
	keyAbortedCommand = 0xB
)

// Error is a command that did not complete: the kernel refused the ioctl
// (Errno), or the host adapter or driver reported an error.
//
// errors.Is(err, os.ErrPermission) holds for EACCES and EPERM (ATA
// PASS-THROUGH needs CAP_SYS_RAWIO), and errors.Is(err, os.ErrNotExist)
// for ENOENT, ENXIO and ENODEV (no device node, or the drive went away).
type Error struct {
	Op     string // "open", "SG_IO"
	Path   string
	Errno  syscall.Errno
	Host   uint16 // host_status
	Driver uint16 // driver_status
	Status uint8  // SCSI status, when neither of the above is set
}

func (e *Error) Error() string {
	switch {
	case e.Errno != 0:
		return fmt.Sprintf("disk: %s %s: %v", e.Op, e.Path, e.Errno)
	case e.Host != 0 || e.Driver&0x7 != 0:
		return fmt.Sprintf("disk: %s %s: host status %#x, driver status %#x", e.Op, e.Path, e.Host, e.Driver)
	}
	return fmt.Sprintf("disk: %s %s: SCSI status %#x", e.Op, e.Path, e.Status)
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

// Sense is decoded sense data: the sense key, the additional sense code
// and qualifier, and the ATA registers an ATA PASS-THROUGH command returns
// (SAT-4 12.2.2.6: the ATA Status Return descriptor, or the fixed format's
// information fields).
type Sense struct {
	Key, ASC, ASCQ uint8
	ATA            *ATARegisters
}

// ATARegisters are the registers an ATA command completed with.
type ATARegisters struct {
	Error, Status, Device, Count uint8
	LBA                          uint32 // bits 0-23
}

// ParseSense decodes sense data in fixed (70h, 71h) or descriptor (72h,
// 73h) format. ok is false when b holds no sense data.
func ParseSense(b []byte) (s Sense, ok bool) {
	if len(b) < 2 {
		return Sense{}, false
	}
	switch b[0] & 0x7F {
	case 0x72, 0x73:
		if len(b) < 8 {
			return Sense{}, false
		}
		s.Key, s.ASC, s.ASCQ = b[1]&0xF, b[2], b[3]
		end := min(len(b), 8+int(b[7]))
		for d := 8; d+2 <= end; d += 2 + int(b[d+1]) {
			if b[d] == 0x09 && b[d+1] >= 12 && d+14 <= end {
				r := b[d:]
				s.ATA = &ATARegisters{Error: r[3], Count: r[5], Device: r[12], Status: r[13],
					LBA: uint32(r[7]) | uint32(r[9])<<8 | uint32(r[11])<<16}
			}
		}
		return s, true
	case 0x70, 0x71:
		if len(b) < 14 {
			return Sense{}, false
		}
		s.Key, s.ASC, s.ASCQ = b[2]&0xF, b[12], b[13]
		// ATA PASS-THROUGH INFORMATION AVAILABLE: the information field
		// holds ERROR, STATUS, DEVICE and COUNT(7:0), the command-specific
		// field LBA(7:0), (15:8), (23:16) after a flags byte.
		if s.ASC == 0x00 && s.ASCQ == 0x1D {
			s.ATA = &ATARegisters{Error: b[3], Status: b[4], Device: b[5], Count: b[6],
				LBA: uint32(b[9]) | uint32(b[10])<<8 | uint32(b[11])<<16}
		}
		return s, true
	}
	return Sense{}, false
}

// CommandError is a command the drive answered with CHECK CONDITION: it
// does not support it, or failed it.
type CommandError struct {
	Name  string // what was asked: "SMART READ DATA"
	Sense Sense
}

func (e *CommandError) Error() string {
	if a := e.Sense.ATA; a != nil && a.Status&0x01 != 0 {
		return fmt.Sprintf("the drive aborted %s (ATA error %#02x)", e.Name, a.Error)
	}
	return fmt.Sprintf("the drive refused %s (sense key %#x, ASC/ASCQ %#02x/%#02x)", e.Name, e.Sense.Key, e.Sense.ASC, e.Sense.ASCQ)
}

// errNoSense is a CHECK CONDITION without readable sense data.
var errNoSense = errors.New("CHECK CONDITION without sense data")

// do sends cmd and returns its sense (nil without CHECK CONDITION), or the
// error that a failed command amounts to. A CHECK CONDITION with sense key
// RECOVERED ERROR or NO SENSE carries the registers of a command that
// asked for them (CK_COND) and is a success.
func do(t Transport, name string, cmd *Command) (*Sense, error) {
	cmd.Sense = cmd.Sense[:0]
	if err := t.Do(cmd); err != nil {
		return nil, err
	}
	if len(cmd.Sense) == 0 {
		return nil, nil
	}
	s, ok := ParseSense(cmd.Sense)
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, errNoSense)
	}
	if (s.Key == keyRecoveredError || s.Key == keyNoSense) && (s.ATA == nil || s.ATA.Status&0x01 == 0) {
		return &s, nil
	}
	return &s, &CommandError{Name: name, Sense: s}
}
