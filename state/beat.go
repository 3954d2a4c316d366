package state

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/thermal-heartbeat/thermal/alert"
	"github.com/thermal-heartbeat/thermal/notify"
	"github.com/thermal-heartbeat/thermal/pipeline"
)

// BeatFile is the name of the beat's state file in the state directory.
const BeatFile = "state.json"

// MaxOutbox bounds the undelivered events kept: a host cut off from Sentry
// for a day does not grow its state without end. The oldest go first.
const MaxOutbox = 100

// File is state.json: the breaches that are pending or firing, the
// outbox, and the history the next beat's readings are judged against.
type File struct {
	alert.State
	// Outbox holds the events committed and not yet accepted by Sentry.
	Outbox []Pending `json:"outbox,omitempty"`
	// ConfigSHA256 is the hash of the configuration file last kept as the
	// last good one.
	ConfigSHA256 string `json:"config_sha256,omitempty"`
	// Swept is when leftover temporary files were last removed.
	Swept time.Time `json:"swept,omitzero"`
	// NoSensors is set once "no sensors found" has been logged, so that a
	// VM's journal says it once, not every 30 s.
	NoSensors bool `json:"no_sensors,omitempty"`
	// RateLimits are the waits Sentry asked for, by data category: no
	// event (or check-in) is sent before its time.
	RateLimits notify.RateLimits `json:"rate_limits,omitempty"`
	// PushFailures counts the pushes of the exposition ([push]) that
	// failed.
	PushFailures uint64 `json:"push_failures,omitempty"`
	// History is the fans seen spinning and the throttle counts.
	pipeline.History
}

// Pending is an event in the outbox.
type Pending struct {
	notify.Event
	// Lease, while in the future, says another beat is sending the event
	// right now.
	Lease    time.Time `json:"lease,omitzero"`
	Attempts int       `json:"attempts,omitempty"`
}

// Loaded is a state file as read: the file, the bytes it came from (so
// that an unchanged state is not written again), and what went wrong.
type Loaded struct {
	File
	Before []byte
	// Keep is false when the file could not be read at all (permissions,
	// an I/O error): it is not corrupt, and the beat must not write over
	// it, or the events waiting in it would be lost.
	Keep bool
	// Err says why the beat starts fresh (a missing file is no error);
	// Dropped counts entries a beat cannot use, dropped from a file that
	// was read.
	Err     error
	Dropped int
}

// LoadFile reads the state file at path, starting fresh from one that is
// missing, corrupt or holds what a beat cannot use. It reads what
// json.Unmarshal would, with decodeFile (see codec.go).
func LoadFile(path string) Loaded {
	b, err := readFile(path)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return Loaded{Err: err}
	}
	var f File
	if err == nil && b != nil {
		if err = decodeFile(b, &f); err != nil {
			err = fmt.Errorf("state: %s: %w: %v", path, ErrCorrupt, err)
		}
	}
	if err != nil {
		return Loaded{Err: err, Keep: true}
	}
	n := f.validate()
	return Loaded{File: f, Before: b, Keep: true, Dropped: n}
}

// SaveFile writes f to path atomically, unless it is what was read
// (before). The bytes are those of json.MarshalIndent(f, "", "  ") and a
// newline, written by encodeFile (see codec.go).
func SaveFile(path string, f File, before []byte) error {
	b, err := encodeFile(&f)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if bytes.Equal(b, before) {
		return nil
	}
	return writeFileAtomic(path, b)
}

// validate drops what Evaluate and delivery cannot use; it returns how
// many entries it dropped.
func (f *File) validate() int {
	n := f.State.Validate()
	kept := f.Outbox[:0]
	seen := map[string]bool{}
	for _, p := range f.Outbox {
		if len(p.ID) != 32 || !isHex(p.ID) || p.Message == "" || seen[p.ID] {
			n++
			continue
		}
		seen[p.ID] = true
		kept = append(kept, p)
	}
	f.Outbox = kept
	return n
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// Enqueue commits events to the outbox, dropping the oldest beyond
// MaxOutbox; it returns those it dropped.
func (f *File) Enqueue(events []notify.Event) (dropped []Pending) {
	for _, e := range events {
		f.Outbox = append(f.Outbox, Pending{Event: e})
	}
	if over := len(f.Outbox) - MaxOutbox; over > 0 {
		dropped = append(dropped, f.Outbox[:over]...)
		f.Outbox = append(f.Outbox[:0], f.Outbox[over:]...)
	}
	return dropped
}

// Lease marks the events no other beat is sending now as sent by this one
// until until, and returns them. until is the longest a beat lives: a
// lease beyond it was taken by a beat whose clock ran ahead, and is not
// trusted (it would hold the event back for as long as the clock was off).
func (f *File) Lease(now, until time.Time) []Pending {
	var batch []Pending
	for i := range f.Outbox {
		if p := &f.Outbox[i]; !p.Lease.After(now) || p.Lease.After(until) {
			p.Lease = until
			batch = append(batch, *p)
		}
	}
	return batch
}

// Settle records what became of the events sent, by id: accepted and
// refused ones leave the outbox, the others lose their lease so that the
// next beat sends them. It returns how many Sentry accepted.
func (f *File) Settle(outcomes map[string]notify.Outcome) (delivered int) {
	for _, oc := range outcomes {
		if oc == notify.Accepted {
			delivered++
		}
	}
	kept := f.Outbox[:0]
	for _, p := range f.Outbox {
		res, sent := outcomes[p.ID]
		if sent {
			if res != notify.Retry {
				continue
			}
			p.Lease, p.Attempts = time.Time{}, p.Attempts+1
		}
		kept = append(kept, p)
	}
	f.Outbox = kept
	return delivered
}

// Sweep removes temporary files a killed process left behind in dir: names
// starting with prefix and ending in .tmp, older than a minute. It returns
// the paths it removed.
func Sweep(dir, prefix string) (removed []string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".tmp") || e.IsDir() {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Minute {
			if err := os.Remove(filepath.Join(dir, name)); err == nil {
				removed = append(removed, filepath.Join(dir, name))
			}
		}
	}
	return removed
}
