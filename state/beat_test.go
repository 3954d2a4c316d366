package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/notify"
	"github.com/thermal-heartbeat/thermal/pipeline"
)

func event(i int) notify.Event {
	return notify.Event{ID: fmt.Sprintf("%032x", i+1), Message: fmt.Sprintf("event %d", i)}
}

// The outbox: committed events wait until Sentry takes them; a beat sends
// only what no other beat has leased; an accepted or refused event leaves,
// one to retry stays, its lease lifted; the oldest go beyond MaxOutbox.
func TestOutboxEnqueueLeaseSettle(t *testing.T) {
	var f File
	if dropped := f.Enqueue([]notify.Event{event(0), event(1), event(2)}); len(dropped) != 0 {
		t.Fatalf("dropped %v", dropped)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.Outbox[2].Lease = now.Add(time.Second) // another beat is sending it
	batch := f.Lease(now, now.Add(10*time.Second))
	if len(batch) != 2 || batch[0].ID != event(0).ID || batch[1].ID != event(1).ID {
		t.Fatalf("leased %+v", batch)
	}
	if again := f.Lease(now, now.Add(10*time.Second)); len(again) != 0 {
		t.Errorf("leased twice: %+v", again)
	}
	delivered := f.Settle(map[string]notify.Outcome{event(0).ID: notify.Accepted, event(1).ID: notify.Retry})
	if delivered != 1 || len(f.Outbox) != 2 || f.Outbox[0].ID != event(1).ID || !f.Outbox[0].Lease.IsZero() || f.Outbox[0].Attempts != 1 {
		t.Errorf("after settling: delivered %d, outbox %+v", delivered, f.Outbox)
	}
	var many []notify.Event
	for i := range MaxOutbox + 5 {
		many = append(many, event(10+i))
	}
	dropped := f.Enqueue(many)
	if len(f.Outbox) != MaxOutbox || len(dropped) != 7 || dropped[0].ID != event(1).ID {
		t.Errorf("over the cap: %d kept, dropped %d starting %s", len(f.Outbox), len(dropped), dropped[0].ID)
	}
}

// A missing file is an empty state; a corrupt one starts fresh and may be
// replaced; one that cannot be read is left alone; unusable entries are
// dropped; an unchanged state is not written again.
func TestLoadFileAndSaveFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, BeatFile)
	if l := LoadFile(path); l.Err != nil || !l.Keep || l.Before != nil {
		t.Fatalf("missing: %+v", l)
	}
	f := File{NoSensors: true, History: pipeline.History{Spinning: map[string]bool{"hwmon/c/fan1": true}}}
	f.Enqueue([]notify.Event{event(0)})
	if err := SaveFile(path, f, nil); err != nil {
		t.Fatal(err)
	}
	l := LoadFile(path)
	if l.Err != nil || !l.Keep || !l.NoSensors || !l.Spinning["hwmon/c/fan1"] || len(l.Outbox) != 1 {
		t.Fatalf("round trip: %+v", l)
	}
	info, _ := os.Stat(path)
	if err := SaveFile(path, l.File, l.Before); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Stat(path); !os.SameFile(info, again) {
		t.Errorf("an unchanged state was written again")
	}
	raw, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(raw), event(0).ID, "not hex", 1)), 0o600)
	if l := LoadFile(path); l.Dropped != 1 || len(l.Outbox) != 0 {
		t.Errorf("an outbox entry with a bad id: %+v", l)
	}
	os.WriteFile(path, []byte(`{"outbox": [`), 0o600)
	if l := LoadFile(path); !errors.Is(l.Err, ErrCorrupt) || !l.Keep {
		t.Errorf("corrupt: %+v", l)
	}
	if os.Geteuid() != 0 {
		os.Chmod(path, 0)
		if l := LoadFile(path); l.Err == nil || l.Keep {
			t.Errorf("unreadable: %+v; want it kept as it is", l)
		}
	}
}

// A lease further ahead than a beat can live (a beat ran with its clock
// ahead) is not trusted: the event is sent (issue 18 #9).
func TestLeaseFromTheFutureIsNotTrusted(t *testing.T) {
	var f File
	f.Enqueue([]notify.Event{event(0), event(1)})
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.Outbox[0].Lease = now.Add(365 * 24 * time.Hour)
	f.Outbox[1].Lease = now.Add(5 * time.Second) // a live beat's
	batch := f.Lease(now, now.Add(10*time.Second))
	if len(batch) != 1 || batch[0].ID != event(0).ID {
		t.Errorf("leased %+v; want the event whose lease is a year ahead", batch)
	}
}
