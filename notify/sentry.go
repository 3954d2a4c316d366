package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/thermal-heartbeat/thermal"
)

// Sentry monitor settings for a 30 s heartbeat: Sentry schedules have minute
// granularity, so an interval monitor of 1 minute with a 1-minute margin;
// an issue after 2 failed check-ins, resolved after 2 good ones.
const (
	monitorIntervalMinutes = 1
	monitorMarginMinutes   = 1
	monitorMaxRuntime      = 1
	failureThreshold       = 2
	recoveryThreshold      = 2
)

// SentryOptions configure the Sentry client.
type SentryOptions struct {
	DSN         string
	Release     string // thermal@<version>
	Environment string
	Host        string // server name and part of every fingerprint
	Monitor     string // cron monitor slug
	// Now is the clock rate limits are reckoned by (time.Now when nil): the
	// beat's, so that a wait is measured as the beat measures time.
	Now func() time.Time
}

// Sentry sends check-ins and events to Sentry's envelope endpoint
// (develop.sentry.dev/sdk/data-model/envelopes), one envelope per request,
// synchronously: the caller learns, for every event, whether Sentry stored
// it. The beat needs that to keep a page in its outbox until it is accepted
// and to re-send it under the same event_id (Sentry drops an event_id it has
// already stored), which an asynchronous SDK transport does not tell.
type Sentry struct {
	client   *http.Client
	endpoint string // https://host/api/<project>/envelope/
	auth     string // X-Sentry-Auth
	dsn      string
	secrets  []string // the DSN's key and secret, never logged
	opts     SentryOptions

	mu     sync.Mutex
	limits RateLimits // what Sentry's answers in this run asked to wait for
}

// RateLimits are the times, by data category ("error" for events,
// "monitor" for check-ins; "" for every category), before which Sentry
// asked not to be sent more (develop.sentry.dev/sdk/rate-limiting).
type RateLimits map[string]time.Time

// Until returns when sending in category is allowed again, and whether
// that is after now.
func (rl RateLimits) Until(category string, now time.Time) (time.Time, bool) {
	until := rl[category]
	if all := rl[""]; all.After(until) {
		until = all
	}
	return until, until.After(now)
}

// Merge adds other's limits, keeping the later of two, and drops those
// that have passed by now.
func (rl RateLimits) Merge(other RateLimits, now time.Time) RateLimits {
	out := RateLimits{}
	for _, m := range []RateLimits{rl, other} {
		for c, t := range m {
			if t.After(now) && t.After(out[c]) {
				out[c] = t
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// maxRateLimit bounds a wait Sentry asks for: a broken proxy's Retry-After
// of a year must not silence a host for a year.
const maxRateLimit = time.Hour

// parseRateLimits reads the limits an answer sets: X-Sentry-Rate-Limits
// ("60:error;monitor:organization, 2700::key"), else, on a 429,
// Retry-After (seconds or an HTTP date; 60 s when absent) for every
// category.
func parseRateLimits(h http.Header, status int, now time.Time) RateLimits {
	rl := RateLimits{}
	set := func(category string, d time.Duration) {
		d = min(max(d, time.Second), maxRateLimit)
		if t := now.Add(d); t.After(rl[category]) {
			rl[category] = t
		}
	}
	if v := h.Get("X-Sentry-Rate-Limits"); v != "" {
		for _, entry := range strings.Split(v, ",") {
			fields := strings.Split(strings.TrimSpace(entry), ":")
			secs, err := strconv.ParseFloat(fields[0], 64)
			if err != nil || secs < 0 {
				continue
			}
			d := time.Duration(secs * float64(time.Second))
			if len(fields) < 2 || fields[1] == "" {
				set("", d)
				continue
			}
			for _, c := range strings.Split(fields[1], ";") {
				set(c, d)
			}
		}
		return rl
	}
	if status != http.StatusTooManyRequests {
		return nil
	}
	d := 60 * time.Second
	if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil {
			d = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			d = t.Sub(now)
		}
	}
	set("", d)
	return rl
}

// RateLimits returns what Sentry asked in this run's answers.
func (s *Sentry) RateLimits() RateLimits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits
}

// DSNError says what is wrong with a DSN, or nil.
func DSNError(dsn string) error {
	_, err := NewSentry(http.DefaultClient, SentryOptions{DSN: dsn})
	return err
}

// NewSentry checks opts.DSN and returns a client. It touches no network.
func NewSentry(client *http.Client, opts SentryOptions) (*Sentry, error) {
	if err := inlineComment(opts.DSN); err != nil {
		return nil, fmt.Errorf("sentry: SENTRY_DSN: %w", err)
	}
	u, err := url.Parse(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("sentry: SENTRY_DSN: %w", redactErr(err, opts.DSN))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User == nil || u.User.Username() == "" {
		return nil, errors.New("sentry: SENTRY_DSN must look like https://<key>@<host>/<project>")
	}
	path := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndexByte(path, '/')
	project := path[i+1:]
	if _, err := strconv.ParseUint(project, 10, 64); err != nil {
		return nil, fmt.Errorf("sentry: SENTRY_DSN: the project (%q) must be a number", project)
	}
	endpoint := u.Scheme + "://" + u.Host + path[:i] + "/api/" + project + "/envelope/"
	auth := "Sentry sentry_version=7, sentry_client=" + strings.ReplaceAll(opts.Release, "@", "/") + ", sentry_key=" + u.User.Username()
	if secret, ok := u.User.Password(); ok && secret != "" {
		auth += ", sentry_secret=" + secret
	}
	secrets := []string{u.User.Username()}
	if secret, ok := u.User.Password(); ok && secret != "" {
		secrets = append(secrets, secret)
	}
	return &Sentry{client: noRedirects(client), endpoint: endpoint, auth: auth, dsn: opts.DSN, secrets: secrets, opts: opts}, nil
}

// noRedirects returns a copy of client that follows no redirect: only a
// 2xx from the DSN's host is an acceptance (a 302 to an SSO page answering
// 200 is not), and the DSN's key never goes to another host.
func noRedirects(client *http.Client) *http.Client {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// redact hides the DSN's key and secret in what a server said (a proxy
// that echoes the request in its 400 page).
func (s *Sentry) redact(msg string) string {
	for _, k := range s.secrets {
		if len(k) >= 4 {
			msg = strings.ReplaceAll(msg, k, "[redacted]")
		}
	}
	return msg
}

// NewEventID returns a fresh event id: 32 hex digits, as Sentry wants them.
func NewEventID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// Outcome of one delivery.
type Outcome int

const (
	// Accepted: Sentry stored it (2xx).
	Accepted Outcome = iota
	// Retry: it did not arrive, Sentry asked to come back later (network
	// error, timeout, 429, 5xx) or refused the sender, not the event (401,
	// 403, 404: a revoked key, a wrong project or proxy, mended by a fix
	// of the DSN): send it again, with the same event_id.
	Retry
	// Rejected: Sentry refused the event itself for good (400, 413, 422):
	// sending it again would be refused again.
	Rejected
)

func (o Outcome) String() string {
	return [...]string{"accepted", "not delivered", "rejected"}[o]
}

// CheckIn sends one check-in to the monitor, upserting its configuration.
func (s *Sentry) CheckIn(ctx context.Context, ok bool) (Outcome, error) {
	status := "ok"
	if !ok {
		status = "error"
	}
	ci := map[string]any{
		"check_in_id":  NewEventID(),
		"monitor_slug": s.opts.Monitor,
		"status":       status,
		"release":      s.opts.Release,
		"monitor_config": map[string]any{
			"schedule":                map[string]any{"type": "interval", "value": monitorIntervalMinutes, "unit": "minute"},
			"checkin_margin":          monitorMarginMinutes,
			"max_runtime":             monitorMaxRuntime,
			"failure_issue_threshold": failureThreshold,
			"recovery_threshold":      recoveryThreshold,
		},
	}
	if s.opts.Environment != "" {
		ci["environment"] = s.opts.Environment
	}
	return s.send(ctx, "", "check_in", ci)
}

// sentryEvent is an event's payload.
type sentryEvent struct {
	EventID     string                    `json:"event_id"`
	Timestamp   string                    `json:"timestamp"`
	Level       string                    `json:"level"`
	Platform    string                    `json:"platform"`
	Logger      string                    `json:"logger"`
	Message     string                    `json:"message"`
	Release     string                    `json:"release,omitempty"`
	Environment string                    `json:"environment,omitempty"`
	ServerName  string                    `json:"server_name,omitempty"`
	Tags        map[string]string         `json:"tags"`
	Contexts    map[string]map[string]any `json:"contexts,omitempty"`
	Fingerprint []string                  `json:"fingerprint"`
	SDK         map[string]string         `json:"sdk"`
}

// Event sends one breach event under its own e.ID.
func (s *Sentry) Event(ctx context.Context, e Event) (Outcome, error) {
	level := "warning"
	if e.Level == thermal.Critical {
		level = "error"
	}
	if e.Cleared {
		level = "info"
	}
	readings := make(map[string]any, len(e.Readings))
	for k, v := range e.Readings {
		readings[k] = v
	}
	at := e.Time
	if at.IsZero() {
		at = time.Now()
	}
	ev := sentryEvent{
		EventID: e.ID, Timestamp: at.UTC().Format(time.RFC3339Nano), Level: level, Platform: "other", Logger: "thermal",
		Message: e.Message, Release: s.opts.Release, Environment: s.opts.Environment, ServerName: s.opts.Host,
		Tags: map[string]string{
			"source":    e.Source,
			"chip":      e.Chip,
			"sensor":    e.Sensor,
			"level":     string(e.Level),
			"celsius":   strconv.FormatFloat(e.Celsius, 'f', -1, 64),
			"threshold": strconv.FormatFloat(e.Threshold, 'f', -1, 64),
		},
		Contexts:    map[string]map[string]any{"thermal": readings},
		Fingerprint: []string{"thermal", s.opts.Host, e.Source, e.Chip, e.Sensor, string(e.Level)},
		SDK:         map[string]string{"name": "thermal-heartbeat", "version": strings.TrimPrefix(s.opts.Release, "thermal@")},
	}
	for k, v := range e.Device {
		ev.Tags[k] = v
	}
	if e.Kind != "" {
		// No temperature against a threshold: say what kind of breach.
		delete(ev.Tags, "celsius")
		delete(ev.Tags, "threshold")
		ev.Tags["kind"] = string(e.Kind)
	}
	return s.send(ctx, e.ID, "event", ev)
}

// send posts one envelope holding one item.
func (s *Sentry) send(ctx context.Context, eventID, typ string, payload any) (Outcome, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return Rejected, fmt.Errorf("sentry: %s: %w", typ, err)
	}
	header := map[string]string{"sent_at": time.Now().UTC().Format(time.RFC3339Nano), "dsn": s.dsn}
	if eventID != "" {
		header["event_id"] = eventID
	}
	h, _ := json.Marshal(header)
	item, _ := json.Marshal(map[string]any{"type": typ, "length": len(body)})
	var env bytes.Buffer
	env.Grow(len(h) + len(item) + len(body) + 3)
	env.Write(h)
	env.WriteByte('\n')
	env.Write(item)
	env.WriteByte('\n')
	env.Write(body)
	env.WriteByte('\n')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, &env)
	if err != nil {
		return Rejected, fmt.Errorf("sentry: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-sentry-envelope")
	req.Header.Set("X-Sentry-Auth", s.auth)
	req.Header.Set("User-Agent", "thermal-heartbeat")
	resp, err := s.client.Do(req)
	if err != nil {
		return Retry, fmt.Errorf("sentry: %s: %w", typ, describe(ctx, redactErr(err, s.dsn)))
	}
	defer resp.Body.Close()
	now := time.Now
	if s.opts.Now != nil {
		now = s.opts.Now
	}
	if rl := parseRateLimits(resp.Header, resp.StatusCode, now()); len(rl) > 0 {
		s.mu.Lock()
		s.limits = s.limits.Merge(rl, now())
		s.mu.Unlock()
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := s.redact(string(raw))
	switch {
	case resp.StatusCode/100 == 2:
		return Accepted, nil
	case resp.StatusCode/100 == 3:
		// Not an acceptance, and not followed: a login page or a moved
		// endpoint answers; the event is kept until the DSN is fixed.
		return Retry, fmt.Errorf("sentry: %s: HTTP %s, a redirect to %s: not followed (is SENTRY_DSN the project's DSN, and no proxy in the way?)",
			typ, resp.Status, RedactURL(resp.Header.Get("Location")))
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge ||
		resp.StatusCode == http.StatusUnprocessableEntity:
		// The envelope itself is refused: it would be refused again.
		return Rejected, fmt.Errorf("sentry: %s refused: HTTP %s: %s", typ, resp.Status, strings.TrimSpace(msg))
	}
	// 429, 5xx, and what a fix of the DSN or the proxy mends (401, 403,
	// 404, a redirect): keep it, the outbox's bound stops the growth.
	return Retry, fmt.Errorf("sentry: %s: HTTP %s%s: %s", typ, resp.Status, retryAfter(resp), strings.TrimSpace(msg))
}

func retryAfter(resp *http.Response) string {
	if v := resp.Header.Get("Retry-After"); v != "" {
		return " (retry after " + v + " s)"
	}
	return ""
}

// describe tells a deadline from other failures: "did not answer within
// the deadline" only when that is what happened.
func describe(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer before the deadline (%w)", context.DeadlineExceeded)
	}
	return err
}
