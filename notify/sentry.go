package notify

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/getsentry/sentry-go"

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

// SentryOptions configure the SDK path.
type SentryOptions struct {
	DSN         string
	Release     string // set explicitly: the SDK would otherwise probe VCS
	Environment string
	Host        string // server name and part of every fingerprint
	Monitor     string // cron monitor slug
}

// Sentry sends check-ins and events through the SDK.
type Sentry struct {
	hub      *sentry.Hub
	opts     SentryOptions
	failures *atomic.Int32
}

// countingTransport counts requests to Sentry that failed or were refused,
// which the SDK only logs: a page that did not arrive must be sent again.
type countingTransport struct {
	next     http.RoundTripper
	failures *atomic.Int32
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode/100 != 2 {
		t.failures.Add(1)
	}
	return resp, err
}

// NewSentry initialises a client for opts.DSN. It starts no goroutine and
// touches no network until something is sent.
func NewSentry(opts SentryOptions) (*Sentry, error) {
	failures := new(atomic.Int32)
	client, err := sentry.NewClient(sentry.ClientOptions{
		HTTPTransport: countingTransport{next: http.DefaultTransport, failures: failures},
		Dsn:           opts.DSN,
		Release:       opts.Release,
		Environment:   opts.Environment,
		ServerName:    opts.Host,
		// The beat reports what it read, not where it runs: no stack
		// traces, no default integrations that read modules or the
		// environment.
		Integrations: func([]sentry.Integration) []sentry.Integration { return nil },
	})
	if err != nil {
		return nil, fmt.Errorf("sentry: %w", err)
	}
	return &Sentry{hub: sentry.NewHub(client, sentry.NewScope()), opts: opts, failures: failures}, nil
}

// CheckIn sends one check-in to the monitor, upserting its configuration.
func (s *Sentry) CheckIn(ok bool) {
	status := sentry.CheckInStatusOK
	if !ok {
		status = sentry.CheckInStatusError
	}
	s.hub.CaptureCheckIn(&sentry.CheckIn{MonitorSlug: s.opts.Monitor, Status: status},
		&sentry.MonitorConfig{
			Schedule:              sentry.IntervalSchedule(monitorIntervalMinutes, sentry.MonitorScheduleUnitMinute),
			CheckInMargin:         monitorMarginMinutes,
			MaxRuntime:            monitorMaxRuntime,
			FailureIssueThreshold: failureThreshold,
			RecoveryThreshold:     recoveryThreshold,
		})
}

// Event sends one breach event.
func (s *Sentry) Event(e Event) {
	level := sentry.LevelWarning
	if e.Level == thermal.Critical {
		level = sentry.LevelError
	}
	if e.Cleared {
		level = sentry.LevelInfo
	}
	ev := sentry.NewEvent()
	ev.Level = level
	ev.Message = e.Message
	ev.Tags = map[string]string{
		"source":    e.Source,
		"chip":      e.Chip,
		"sensor":    e.Sensor,
		"level":     string(e.Level),
		"celsius":   strconv.FormatFloat(e.Celsius, 'f', -1, 64),
		"threshold": strconv.FormatFloat(e.Threshold, 'f', -1, 64),
	}
	readings := make(map[string]any, len(e.Readings))
	for k, v := range e.Readings {
		readings[k] = v
	}
	ev.Contexts = map[string]sentry.Context{"thermal": readings}
	ev.Fingerprint = []string{"thermal", s.opts.Host, e.Source, e.Chip, e.Sensor, string(e.Level)}
	s.hub.CaptureEvent(ev)
}

// Flush waits for delivery until ctx is done; it reports whether everything
// was sent and accepted.
func (s *Sentry) Flush(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	return s.hub.Flush(time.Until(deadline)) && s.failures.Load() == 0
}
