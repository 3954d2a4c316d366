package testenv

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/thermal-heartbeat/thermal/internal/envelope"
)

// Sentry stands in for Sentry: it decodes every envelope the SDK posts,
// answers each item type with a status the test may set, and keeps the
// check-ins and events it accepted. It holds the SDK to what thermal sends:
// one item an envelope, a JSON payload, and an event's 32-digit event_id
// in the envelope's header too; anything else is answered 400.
type Sentry struct {
	mu       sync.Mutex
	status   map[string]func(n int) int // item type -> status of its n-th (0-based) request
	seen     map[string]int             // item type -> requests so far
	paths    []string                   // URL path of every envelope decoded
	checkIns []map[string]any           // accepted, in order
	events   []map[string]any           // accepted, in order
	accepted map[string]int             // event_id -> times accepted
}

// NewSentry starts a Sentry for the length of the test and points
// SENTRY_DSN at it, under project.
func NewSentry(tb testing.TB, project string) *Sentry {
	tb.Helper()
	s := &Sentry{status: map[string]func(int) int{}, seen: map[string]int{}, accepted: map[string]int{}}
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	tb.Setenv("SENTRY_DSN", strings.Replace(ts.URL, "http://", "http://public@", 1)+"/"+project)
	return s
}

// ServeHTTP takes one envelope.
func (s *Sentry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	env, err := envelope.FromRequest(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paths = append(s.paths, r.URL.Path)
	if len(env.Items) != 1 {
		http.Error(w, fmt.Sprintf("bad envelope: %d items, want 1", len(env.Items)), http.StatusBadRequest)
		return
	}
	it := env.Items[0]
	code := http.StatusOK
	if f := s.status[it.Type]; f != nil {
		code = f(s.seen[it.Type])
	}
	s.seen[it.Type]++
	var m map[string]any
	if err := json.Unmarshal(it.Payload, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if code/100 == 2 {
		if err := s.accept(env.Header, it.Type, m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
	w.WriteHeader(code)
}

// accept keeps an item answered 2xx; s.mu is held.
func (s *Sentry) accept(header map[string]any, typ string, m map[string]any) error {
	switch typ {
	case "event":
		id, _ := m["event_id"].(string)
		if hid, _ := header["event_id"].(string); hid != id || len(id) != 32 {
			return fmt.Errorf("event_id missing or not in the header")
		}
		s.accepted[id]++
		s.events = append(s.events, m)
	case "check_in":
		s.checkIns = append(s.checkIns, m)
	}
	return nil
}

// SetStatus makes Sentry answer the n-th (0-based) request carrying an
// item of type typ ("event", "check_in") with f(n); items answered other
// than 2xx are not kept. 429 comes with Retry-After: 60.
func (s *Sentry) SetStatus(typ string, f func(n int) int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status[typ] = f
}

// Sent returns how many requests carried an item of type typ, whatever
// they were answered.
func (s *Sentry) Sent(typ string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[typ]
}

// Paths returns the URL path of every envelope posted, in order.
func (s *Sentry) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.paths)
}

// CheckIns returns the check-ins accepted, in order.
func (s *Sentry) CheckIns() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.checkIns)
}

// CheckInStatuses returns the statuses of the check-ins accepted, in order,
// joined by commas: "ok,error".
func (s *Sentry) CheckInStatuses() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, ci := range s.checkIns {
		st, _ := ci["status"].(string)
		out = append(out, st)
	}
	return strings.Join(out, ",")
}

// Events returns the events accepted, in order.
func (s *Sentry) Events() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// Accepted returns how many times each event_id was accepted.
func (s *Sentry) Accepted() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.accepted)
}

// EventCounts returns how many distinct events were accepted, and how many
// times in all.
func (s *Sentry) EventCounts() (distinct, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.accepted {
		distinct++
		total += n
	}
	return distinct, total
}
