package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
)

// Whatever the URL looks like (invalid escapes, spaces, non-ASCII, a token
// in the path, the query or the userinfo), its secret never reaches the
// error, and the error chain survives.
func FuzzRedact(f *testing.F) {
	f.Add("/ping/", "s3cr3t-t0ken-abcdef", "")
	f.Add("/ping/", "tok%zz-secret-1234", "")
	f.Add("/ping?key=", "tok en-secret-1234", "")
	f.Add("/api/push/", "tökén-secret-12345", "?status={up}")
	f.Fuzz(func(t *testing.T, prefix, token, suffix string) {
		// The secret is in the path or the query; the host is not secret.
		if len(token) < 12 || prefix == "" || (prefix[0] != '/' && prefix[0] != '?') || strings.ContainsAny(token, "\x00") ||
			strings.Contains("http://127.0.0.1:1"+prefix, token) {
			return
		}
		raw := "http://127.0.0.1:1" + prefix + token + suffix
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := CheckInURL(ctx, &http.Client{Timeout: time.Second}, raw, true)
		if err == nil {
			return
		}
		if msg := err.Error(); strings.Contains(msg, token) || strings.Contains(msg, url.PathEscape(token)) || strings.Contains(msg, url.QueryEscape(token)) {
			t.Fatalf("the token is in the error: %q", msg)
		}
	})
}

func TestRedactKeepsTheChain(t *testing.T) {
	inner := errors.New("connection refused")
	err := redactErr(&url.Error{Op: "Post", URL: "http://h/ping/s3cr3t-t0ken-abcdef", Err: inner}, "http://h/ping/s3cr3t-t0ken-abcdef")
	if !errors.Is(err, inner) || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "http://h/…") {
		t.Errorf("redacted error %q (chain kept: %v)", err, errors.Is(err, inner))
	}
}

func TestNewSentryEndpoint(t *testing.T) {
	for dsn, want := range map[string]string{
		"https://key@o1.ingest.sentry.io/42":      "https://o1.ingest.sentry.io/api/42/envelope/",
		"http://key:secret@localhost:9000/sub/7/": "http://localhost:9000/sub/api/7/envelope/",
	} {
		s, err := NewSentry(http.DefaultClient, SentryOptions{DSN: dsn, Release: "thermal@test"})
		if err != nil || s.endpoint != want {
			t.Errorf("%s: endpoint %v, %v; want %s", dsn, s, err, want)
		}
	}
	for _, bad := range []string{"", "https://o1.ingest.sentry.io/42", "https://key@host/notanumber", "ftp://key@host/1", "http://key@host/%zz"} {
		if _, err := NewSentry(http.DefaultClient, SentryOptions{DSN: bad}); err == nil || strings.Contains(err.Error(), "key@") {
			t.Errorf("DSN %q: err %v", bad, err)
		}
	}
}

// An event on a host with thousands of sensors carries its own chip and
// the hottest of the rest, not every reading: the outbox keeps a hundred
// events in state.json.
func TestContextReadingsAreBounded(t *testing.T) {
	values := map[thermal.SensorID]float64{}
	for i := 0; i < 3000; i++ {
		values[thermal.SensorID{Source: "hwmon", Chip: fmt.Sprintf("chip%d", i/16), Sensor: fmt.Sprintf("Core %d", i%16)}] = float64(i % 97)
	}
	id := thermal.SensorID{Source: "hwmon", Chip: "chip7", Sensor: "Core 3"}
	got := contextReadings(id, values)
	if len(got) != MaxContextReadings {
		t.Fatalf("%d readings", len(got))
	}
	for i := 0; i < 16; i++ {
		if _, ok := got[fmt.Sprintf("hwmon/chip7/Core %d", i)]; !ok {
			t.Errorf("the event's own chip lacks Core %d", i)
		}
	}
	hottest := 0
	for _, v := range got {
		if v == 96 {
			hottest++
		}
	}
	if hottest == 0 {
		t.Error("the hottest readings are not in the context")
	}
}

func TestEventIDNamesTheTransition(t *testing.T) {
	since := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tr := alert.Transition{Kind: alert.Fired, Since: since, At: since.Add(time.Minute)}
	tr.SensorID = thermal.SensorID{Source: "hwmon", Chip: "coretemp-isa-0000", Sensor: "Package id 0"}
	tr.Level = "critical"
	id := EventID("h1", tr, true)
	if len(id) != 32 {
		t.Fatalf("id %q: want 32 hex digits", id)
	}
	again := tr
	again.At = since.Add(2 * time.Minute) // found again by a beat whose state was not saved
	if got := EventID("h1", again, true); got != id {
		t.Errorf("the same breach found again: id %s, want %s", got, id)
	}
	for name, other := range map[string]func(*alert.Transition){
		"cleared":     func(x *alert.Transition) { x.Kind = alert.Cleared },
		"later":       func(x *alert.Transition) { x.Since = since.Add(time.Hour) },
		"other level": func(x *alert.Transition) { x.Level = "warning" },
		"other chip":  func(x *alert.Transition) { x.Chip = "nvme-pci-0100" },
	} {
		x := tr
		other(&x)
		if EventID("h1", x, true) == id {
			t.Errorf("%s: same id as the first firing", name)
		}
	}
	if EventID("h2", tr, true) == id {
		t.Error("another host: same id")
	}
	r1, r2 := tr, tr
	r1.Kind, r2.Kind = alert.Repeat, alert.Repeat
	r1.Repeat, r2.Repeat = time.Hour, time.Hour
	r1.At = since.Add(time.Hour + time.Minute)
	r2.At = r1.At.Add(time.Hour)
	if EventID("h1", r1, true) == EventID("h1", r2, true) {
		t.Error("two reminders of one breach: same id")
	}
	// A reminder found again by every beat whose state was not saved (its
	// last_sent forgotten) is the same event within its repeat period
	// (issue 18 #1).
	r3 := r1
	r3.At = r1.At.Add(30 * time.Minute)
	if EventID("h1", r3, false) != EventID("h1", r1, true) {
		t.Error("the same reminder period, found again: a new id")
	}
	// A breach that fires afresh on every beat because no state can be
	// saved is one event per hour.
	f1, f2, f3 := tr, tr, tr
	f1.Since, f2.Since, f3.Since = since.Add(10*time.Minute), since.Add(40*time.Minute), since.Add(70*time.Minute)
	if EventID("h1", f1, false) != EventID("h1", f2, false) || EventID("h1", f1, false) == EventID("h1", f3, false) {
		t.Error("without durable state, a breach firing every beat: not one id per hour")
	}
	if EventID("h1", f1, true) == EventID("h1", f2, true) {
		t.Error("with durable state, two firings half an hour apart: same id")
	}
}

// Only a refusal of the event itself drops it; a refusal of the sender
// (a revoked key, a wrong project) keeps it for after the fix.
func TestSentryOutcomeByStatus(t *testing.T) {
	for status, want := range map[int]Outcome{
		200: Accepted, 400: Rejected, 413: Rejected, 422: Rejected,
		401: Retry, 403: Retry, 404: Retry, 429: Retry, 500: Retry, 503: Retry,
		301: Retry, 302: Retry, 307: Retry, 308: Retry, // a redirect is not an acceptance
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
		u, _ := url.Parse(srv.URL)
		s, err := NewSentry(srv.Client(), SentryOptions{DSN: "http://key@" + u.Host + "/1", Release: "thermal@test", Host: "h1"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Event(context.Background(), Event{ID: NewEventID(), Time: time.Now(), Message: "m"})
		srv.Close()
		if got != want {
			t.Errorf("HTTP %d: %v (%v), want %v", status, got, err, want)
		}
		if (err == nil) != (want == Accepted) {
			t.Errorf("HTTP %d: err %v", status, err)
		}
	}
}

// Sentry's rate-limit answers (develop.sentry.dev/sdk/rate-limiting):
// X-Sentry-Rate-Limits by category, else a 429's Retry-After for all,
// bounded to an hour.
func TestParseRateLimits(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("X-Sentry-Rate-Limits", "60:error;monitor:organization, 2700::key, junk")
	rl := parseRateLimits(h, 200, now)
	if !rl["error"].Equal(now.Add(time.Minute)) || !rl["monitor"].Equal(now.Add(time.Minute)) || !rl[""].Equal(now.Add(45*time.Minute)) {
		t.Errorf("X-Sentry-Rate-Limits: %v", rl)
	}
	if until, limited := rl.Until("error", now); !limited || !until.Equal(now.Add(45*time.Minute)) {
		t.Errorf("Until(error) = %v %v; the category-less limit is later", until, limited)
	}
	h = http.Header{}
	h.Set("Retry-After", "31536000")
	if rl := parseRateLimits(h, 429, now); !rl[""].Equal(now.Add(time.Hour)) {
		t.Errorf("a year's Retry-After: %v; want an hour at most", rl)
	}
	if rl := parseRateLimits(http.Header{}, 429, now); !rl[""].Equal(now.Add(time.Minute)) {
		t.Errorf("429 without Retry-After: %v", rl)
	}
	if rl := parseRateLimits(http.Header{}, 503, now); rl != nil {
		t.Errorf("503: %v", rl)
	}
	merged := RateLimits{"error": now.Add(-time.Second)}.Merge(RateLimits{"monitor": now.Add(time.Second)}, now)
	if len(merged) != 1 || merged["monitor"].IsZero() {
		t.Errorf("merge keeps what has not passed: %v", merged)
	}
}

// A push or check-in redirected with 301/302/303 (which turn the POST into
// a bodiless GET) is a failure, not a delivery; 307/308 keep the body and
// are followed on the same host (issue 18 review).
func TestPushRedirects(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.Path] = r.Method + " " + string(body)
		mu.Unlock()
		switch r.URL.Path {
		case "/moved":
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
		case "/kept":
			http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
		}
	}))
	defer srv.Close()
	if err := Push(context.Background(), srv.Client(), srv.URL+"/moved", []byte("x 1\n")); err == nil || !strings.Contains(err.Error(), "not followed") {
		t.Errorf("301: %v; want a failure", err)
	}
	if got["/new"] != "" {
		t.Errorf("the 301 was followed: %q", got["/new"])
	}
	if err := Push(context.Background(), srv.Client(), srv.URL+"/kept", []byte("x 1\n")); err != nil || got["/new"] != "POST x 1\n" {
		t.Errorf("307: %v, /new got %q", err, got["/new"])
	}
}

// A reminder under a changed repeat is another event, not one Sentry
// already has.
func TestEventIDOfARepeatChange(t *testing.T) {
	since := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	a := alert.Transition{Kind: alert.Repeat, Since: since, At: since.Add(time.Hour + time.Minute)}
	a.SensorID = thermal.SensorID{Source: "hwmon", Chip: "c", Sensor: "s"}
	a.Repeat = time.Hour
	b := a
	b.Repeat, b.At = 2*time.Hour, since.Add(3*time.Hour+time.Minute) // period 1 of 2h
	if EventID("h", a, true) == EventID("h", b, true) {
		t.Error("the first reminder under repeat = 1h and under 2h: one id")
	}
}
