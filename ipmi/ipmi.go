package ipmi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/thermal-heartbeat/thermal/internal/sysread"
)

// bmcAddress is the BMC's slave address on the IPMB: sensors it owns are
// read directly; others would need bridging.
const bmcAddress = 0x20

// Network functions and commands used here (IPMI 2.0, appendix G).
const (
	netFnSensor  = 0x04
	netFnStorage = 0x0A

	cmdGetSensorThresholds = 0x27
	cmdGetSensorReading    = 0x2D
	cmdGetSDRRepoInfo      = 0x20
	cmdReserveSDRRepo      = 0x22
	cmdGetSDR              = 0x23
)

// Completion codes handled here.
const (
	ccReservationCancelled = 0xC5
	ccCannotReturnBytes    = 0xCA
	ccTimeout              = 0xC3
)

// Message is one request to the BMC.
type Message struct {
	LUN        uint8
	NetFn, Cmd uint8
	Data       []byte
}

// Transport sends requests to one BMC. The Linux implementation is a
// Device; tests use fakes.
type Transport interface {
	// Send sends m and returns the response data after the completion
	// code; a completion code other than 0 is a *CompletionError.
	Send(m Message) ([]byte, error)
}

// CompletionError is a request the BMC answered with a non-zero
// completion code.
type CompletionError struct {
	Cmd  string
	Code uint8
}

func (e *CompletionError) Error() string {
	return fmt.Sprintf("ipmi: %s: completion code %#02x", e.Cmd, e.Code)
}

// Error is a request that did not complete: the kernel refused the ioctl
// (Errno) or no answer came in time (Timeout).
type Error struct {
	Op      string
	Path    string
	Errno   syscall.Errno
	Timeout bool
}

func (e *Error) Error() string {
	if e.Timeout {
		return fmt.Sprintf("ipmi: %s %s: no answer in time", e.Op, e.Path)
	}
	return fmt.Sprintf("ipmi: %s %s: %v", e.Op, e.Path, e.Errno)
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

// RepoInfo is what Get SDR Repository Info says: its fingerprint is the
// record count and the last addition and erase times.
type RepoInfo struct {
	Version       uint8
	Records       uint16
	Added, Erased uint32
}

// Key changes whenever the repository does.
func (i RepoInfo) Key() string {
	return fmt.Sprintf("v%d/%d/%d/%d", i.Version, i.Records, i.Added, i.Erased)
}

// GetRepoInfo sends Get SDR Repository Info.
func GetRepoInfo(t Transport) (RepoInfo, error) {
	b, err := t.Send(Message{NetFn: netFnStorage, Cmd: cmdGetSDRRepoInfo})
	if err != nil {
		return RepoInfo{}, err
	}
	if len(b) < 13 {
		return RepoInfo{}, fmt.Errorf("ipmi: Get SDR Repository Info: %d bytes", len(b))
	}
	return RepoInfo{Version: b[0], Records: binary.LittleEndian.Uint16(b[1:]),
		Added: binary.LittleEndian.Uint32(b[5:]), Erased: binary.LittleEndian.Uint32(b[9:])}, nil
}

func reserve(t Transport) ([2]byte, error) {
	b, err := t.Send(Message{NetFn: netFnStorage, Cmd: cmdReserveSDRRepo})
	if err != nil {
		return [2]byte{}, err
	}
	if len(b) < 2 {
		return [2]byte{}, errors.New("ipmi: Reserve SDR Repository: short answer")
	}
	return [2]byte{b[0], b[1]}, nil
}

// wholeRecord asks Get SDR for the rest of a record in one answer; a BMC
// that cannot (CAh) gets smaller pieces.
const wholeRecord = 0xFF

// Limits of a repository walk: no BMC has more records, and a chain of
// next-record ids that loops must end.
const (
	maxRecords = 4096
	maxRetries = 8
)

// ReadRepository reads every record of the SDR repository: a reservation,
// then each record's header and its body, whole where the BMC can (many
// refuse: completion code CAh halves the piece, down to what it takes). A reservation the BMC cancelled (C5h: the repository
// changed, or another client reserved it) is taken again and the record
// read again.
func ReadRepository(t Transport) ([][]byte, error) {
	res, err := reserve(t)
	if err != nil {
		return nil, err
	}
	chunk := wholeRecord
	var out [][]byte
	seen := map[uint16]bool{}
	for id, retries := uint16(0), 0; id != 0xFFFF; {
		if seen[id] || len(out) >= maxRecords {
			return out, fmt.Errorf("ipmi: SDR repository: record %#04x again: the chain loops", id)
		}
		rec, next, err := readRecord(t, res, id, &chunk)
		var ce *CompletionError
		if errors.As(err, &ce) && ce.Code == ccReservationCancelled && retries < maxRetries {
			retries++
			if res, err = reserve(t); err != nil {
				return out, err
			}
			continue
		}
		if err != nil {
			return out, fmt.Errorf("ipmi: SDR record %#04x: %w", id, err)
		}
		seen[id] = true
		out = append(out, rec)
		id, retries = next, 0
	}
	return out, nil
}

// readRecord reads one record: its five-byte header, then its body.
func readRecord(t Transport, res [2]byte, id uint16, chunk *int) (rec []byte, next uint16, err error) {
	get := func(offset, n int) ([]byte, uint16, error) {
		for {
			b, err := t.Send(Message{NetFn: netFnStorage, Cmd: cmdGetSDR,
				Data: []byte{res[0], res[1], byte(id), byte(id >> 8), byte(offset), byte(n)}})
			var ce *CompletionError
			if errors.As(err, &ce) && (ce.Code == ccCannotReturnBytes || ce.Code == 0xFF && n == wholeRecord) && n > 1 {
				n = min(n, 128) / 2 // 255 -> 64 -> 32 -> 16 …
				*chunk = n
				continue
			}
			if err != nil {
				return nil, 0, err
			}
			if len(b) < 2 {
				return nil, 0, errors.New("short Get SDR answer")
			}
			return b[2:], binary.LittleEndian.Uint16(b), nil
		}
	}
	head, next, err := get(0, 5)
	if err != nil {
		return nil, 0, err
	}
	if len(head) < 5 {
		return nil, 0, errors.New("short record header")
	}
	rec = append(rec, head[:5]...)
	for total := 5 + int(head[4]); len(rec) < total; {
		part, _, err := get(len(rec), min(*chunk, total-len(rec)))
		if err != nil {
			return nil, 0, err
		}
		if len(part) == 0 {
			return nil, 0, errors.New("empty Get SDR answer")
		}
		rec = append(rec, part...)
	}
	return rec, next, nil
}

// GetThresholds sends Get Sensor Thresholds: the readable mask and the six
// raw thresholds, lower non-critical first.
func GetThresholds(t Transport, r Record) (mask uint8, th [6]uint8, err error) {
	b, err := t.Send(Message{LUN: r.LUN, NetFn: netFnSensor, Cmd: cmdGetSensorThresholds, Data: []byte{r.Number}})
	if err != nil {
		return 0, th, err
	}
	if len(b) < 7 {
		return 0, th, fmt.Errorf("ipmi: Get Sensor Thresholds: %d bytes", len(b))
	}
	copy(th[:], b[1:7])
	return b[0] & 0x3F, th, nil
}

// GetReading sends Get Sensor Reading.
func GetReading(t Transport, r Record) (Reading, error) {
	b, err := t.Send(Message{LUN: r.LUN, NetFn: netFnSensor, Cmd: cmdGetSensorReading, Data: []byte{r.Number}})
	if err != nil {
		return Reading{}, err
	}
	return ParseReading(b)
}
