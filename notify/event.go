package notify

import (
	"time"

	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
)

// Event is one announcement of a breach.
type Event struct {
	thermal.SensorID
	Level              thermal.Level
	Celsius, Threshold float64
	Cleared            bool // the breach recovered
	Message            string
	// Readings are all readings of the beat, "source/chip/sensor" -> °C.
	Readings map[string]float64
}

// EventFor is the event that announces transition t on host, with the
// beat's readings as context.
func EventFor(host string, t alert.Transition, values map[thermal.SensorID]float64) Event {
	readings := make(map[string]float64, len(values))
	for id, v := range values {
		readings[id.String()] = v
	}
	ev := Event{SensorID: t.SensorID, Level: t.Level, Celsius: t.Celsius, Threshold: t.Threshold, Readings: readings}
	switch t.Kind {
	case alert.Cleared:
		ev.Cleared = true
		ev.Message = fmt.Sprintf("%s: %s %s recovered: %g °C, below its %s threshold %g °C (less %g °C hysteresis)",
			host, t.Chip, t.Sensor, t.Celsius, t.Level, t.Threshold, t.Hysteresis)
	default:
		ev.Message = fmt.Sprintf("%s: %s %s is %g °C, above its %s threshold %g °C (firing since %s)",
			host, t.Chip, t.Sensor, t.Celsius, t.Level, t.Threshold, t.Since.UTC().Format(time.RFC3339))
	}
	return ev
}

// CheckInURL posts one heartbeat to a plain URL. Placeholders in the URL are
// filled in: {status} becomes ok or error, {up} becomes up or down (Uptime
// Kuma push), {fail} becomes "" or "/fail" (healthchecks.io). A URL without
// placeholders gets status=ok|error added to its query, which is the shape
// of Sentry's HTTP cron check-in endpoint.
func CheckInURL(ctx context.Context, client *http.Client, raw string, ok bool) error {
	status, up, fail := "ok", "up", ""
	if !ok {
		status, up, fail = "error", "down", "/fail"
	}
	u := raw
	if strings.Contains(u, "{status}") || strings.Contains(u, "{up}") || strings.Contains(u, "{fail}") {
		u = strings.NewReplacer("{status}", status, "{up}", up, "{fail}", fail).Replace(u)
	} else {
		parsed, err := url.Parse(u)
		if err != nil {
			return fmt.Errorf("check-in URL: %w", err)
		}
		q := parsed.Query()
		q.Set("status", status)
		parsed.RawQuery = q.Encode()
		u = parsed.String()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader("status="+status))
	if err != nil {
		return fmt.Errorf("check-in URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "thermal-heartbeat")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("check-in URL: %w", redact(err, u))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("check-in URL: HTTP %s", resp.Status)
	}
	return nil
}

// redact keeps tokens in check-in URLs out of logs.
func redact(err error, raw string) error {
	if u, perr := url.Parse(raw); perr == nil {
		msg := strings.ReplaceAll(err.Error(), raw, u.Scheme+"://"+u.Host+"/…")
		return fmt.Errorf("%s", msg)
	}
	return err
}
