package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal/internal/sysfstest"
	"github.com/thermal-heartbeat/thermal/state"
)

// A redirect is not an acceptance: a 302 to a login page that answers 200
// (an SSO proxy, a captive portal) and a 307 to another host leave the
// event in the outbox, say so in the log, and send nothing, the DSN's key
// least of all, to the other host (issue 18 #2).
func TestRedirectIsNotAcceptance(t *testing.T) {
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		var elsewhere atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			elsewhere.Add(1)
			io.WriteString(w, "<html>Please log in</html>")
		}))
		defer other.Close()
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/login?next="+r.URL.Path, code)
		}))
		defer proxy.Close()
		t.Setenv("SENTRY_DSN", strings.Replace(proxy.URL, "http://", "http://secretkey1234@", 1)+"/42")
		args, stateDir, _ := hotBeat(t)
		exit, stderr := beatAt(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), args...)
		if exit != exitOK {
			t.Fatalf("HTTP %d: exit %d: %s", code, exit, stderr)
		}
		if n := elsewhere.Load(); n != 0 {
			t.Errorf("HTTP %d: the other host got %d requests", code, n)
		}
		if p := outbox(t, stateDir); len(p) != 1 {
			t.Errorf("HTTP %d: outbox %+v; want the event kept", code, p)
		}
		if !strings.Contains(stderr, "event not delivered; kept for the next beat") || !strings.Contains(stderr, "not followed") {
			t.Errorf("HTTP %d: the log does not say the event was kept: %s", code, stderr)
		}
		if strings.Contains(stderr, "secretkey1234") {
			t.Errorf("HTTP %d: the DSN key is in the log: %s", code, stderr)
		}
	}
}

// A server that echoes the request in its error page does not put the
// DSN's key in the log (issue 18 #11).
func TestDSNKeyNotLoggedFromAnEchoedRequest(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "bad request: X-Sentry-Auth: "+r.Header.Get("X-Sentry-Auth"))
	}))
	defer echo.Close()
	t.Setenv("SENTRY_DSN", strings.Replace(echo.URL, "http://", "http://secretkey1234:secretsecret9876@", 1)+"/42")
	args, _, _ := hotBeat(t)
	_, stderr := beatAt(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), args...)
	if !strings.Contains(stderr, "refused") || strings.Contains(stderr, "secretkey1234") || strings.Contains(stderr, "secretsecret9876") {
		t.Errorf("log: %s", stderr)
	}
}

// A breach that stays firing while no beat can save the state (the lock
// held by a hung beat; a full or read-only /var is the same to the beat)
// is recalled once per repeat period, not once per beat: its reminders
// carry the same event id, which Sentry keeps once (issue 18 #1).
func TestLostStateDoesNotMultiplyEvents(t *testing.T) {
	srv := newSentry(t, "42")
	args, stateDir, _ := hotBeat(t, "--timeout", "150ms")
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if code, stderr := beatAt(t, t0, args...); code != exitOK {
		t.Fatalf("beat 1: exit %d: %s", code, stderr)
	}
	unlock, err := state.Lock(filepath.Join(stateDir, state.BeatFile), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	// Three hours of beats that cannot save what they did.
	for at := t0.Add(30 * time.Second); at.Before(t0.Add(3 * time.Hour)); at = at.Add(10 * time.Minute) {
		beatAt(t, at, args...)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	ids := map[string]bool{}
	for _, ev := range srv.events {
		ids[ev["event_id"].(string)] = true
	}
	// The firing, then one reminder in each later hour (repeat = 1h):
	// three events, however many beats sent them.
	if len(ids) != 3 || len(srv.events) < 10 {
		t.Errorf("%d distinct events from %d sent over three hours without state; want 3 (fired, two reminders)", len(ids), len(srv.events))
	}
}

// A breach that fires while SENTRY_DSN is unset is announced, as fired and
// since when, by the first beat that has a DSN again; one that fired and
// cleared meanwhile is not announced at all (issue 18 #8).
func TestBreachFiredWithoutDSNIsAnnouncedLater(t *testing.T) {
	args, _, _ := hotBeat(t)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	t.Setenv("SENTRY_DSN", "")
	for i := range 3 {
		if code, stderr := beatAt(t, t0.Add(time.Duration(i)*30*time.Second), args...); code != exitOK {
			t.Fatalf("beat without a DSN: exit %d: %s", code, stderr)
		}
	}
	srv := newSentry(t, "42")
	beatAt(t, t0.Add(2*time.Minute), args...)
	beatAt(t, t0.Add(150*time.Second), args...)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.events) != 1 {
		t.Fatalf("%d events once the DSN is back; want the firing, once", len(srv.events))
	}
	if msg := srv.events[0]["message"].(string); !strings.Contains(msg, "above its warning threshold 85 °C (firing since 2026-12-01T12:00:00Z)") {
		t.Errorf("message %q", msg)
	}
}

// A 429 is honoured: the event is kept and not sent again before
// Retry-After has passed (every category, as Sentry's rate-limit rules
// say), then sent, once (issue 18 #12).
func TestRetryAfterIsHonoured(t *testing.T) {
	srv := newSentry(t, "42")
	srv.status["event"] = func(n int) int {
		if n == 0 {
			return http.StatusTooManyRequests // with Retry-After: 60
		}
		return http.StatusOK
	}
	args, stateDir, _ := hotBeat(t)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	seen := func() int {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.seen["event"]
	}
	beatAt(t, t0, args...)
	if seen() != 1 || len(outbox(t, stateDir)) != 1 {
		t.Fatalf("first beat: %d event requests, outbox %v", seen(), outbox(t, stateDir))
	}
	beatAt(t, t0.Add(30*time.Second), args...)
	if seen() != 1 {
		t.Errorf("the event was sent again 30 s after a Retry-After of 60 s")
	}
	beatAt(t, t0.Add(90*time.Second), args...)
	if seen() != 2 || len(outbox(t, stateDir)) != 0 {
		t.Errorf("after the wait: %d event requests, outbox %v; want it sent and gone", seen(), outbox(t, stateDir))
	}
}

// A 429 stops the rest of the batch in the same beat: the other events
// wait in the outbox for Retry-After, unsent (issue 18 review).
func TestRetryAfterStopsTheBatch(t *testing.T) {
	srv := newSentry(t, "42")
	srv.status["event"] = func(int) int { return http.StatusTooManyRequests }
	root := sysfstest.UnpackString(t, hotFixture)
	cfg := filepath.Join(t.TempDir(), "thermal.toml")
	os.WriteFile(cfg, []byte("[[rule]]\nsensor = \"Package id *\"\nwarning = 85.0\nfor = \"0s\"\n\n[[rule]]\nsensor = \"Core 0\"\nwarning = 50.0\nfor = \"0s\"\n"), 0o644)
	stateDir := t.TempDir()
	beatAt(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), "--sysfs", root, "--dev", noDev, "--config", cfg,
		"--textfile-dir", t.TempDir(), "--state-dir", stateDir)
	srv.mu.Lock()
	n := srv.seen["event"]
	srv.mu.Unlock()
	if n != 1 || len(outbox(t, stateDir)) != 2 {
		t.Errorf("%d event requests after a 429, outbox %d; want 1 sent, both kept", n, len(outbox(t, stateDir)))
	}
}
