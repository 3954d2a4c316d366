package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"time"

	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/thermal-heartbeat/thermal"
	"github.com/thermal-heartbeat/thermal/alert"
)

// Event is one announcement of a breach. It is committed to the state's
// outbox before it is sent, and sent (again) as it was committed: the same
// ID, time and text.
type Event struct {
	ID   string    `json:"event_id"` // 32 hex digits; Sentry drops an id it has already stored
	Time time.Time `json:"time"`     // when the transition happened
	thermal.SensorID
	Level     thermal.Level `json:"level"`
	Celsius   float64       `json:"celsius"`
	Threshold float64       `json:"threshold"`
	Cleared   bool          `json:"cleared,omitempty"` // the breach recovered
	Message   string        `json:"message"`
	// Readings are all readings of the beat, "source/chip/sensor" -> °C.
	Readings map[string]float64 `json:"readings,omitempty"`
	// Device tags the event with what the source knows of the device (a
	// GPU's model and UUID, a drive's model and serial).
	Device map[string]string `json:"device,omitempty"`
	// Kind is "" for a temperature breach, "fan" or "throttle" otherwise.
	Kind thermal.Kind `json:"kind,omitempty"`
}

// EventID derives the id of the event announcing t on host from what
// names the transition: the sensor, the level, whether it fired, was
// recalled or cleared, when the breach began, and for a reminder which
// `repeat` period since then it falls in. Nothing in it is what a lost
// state forgets: a beat that finds the transition again (its state was not
// saved: a full or read-only /var, a lock held by a hung beat) sends the
// same id, and Sentry keeps one event.
//
// When the state is not durable (durable false: this beat cannot save
// it), a breach found firing afresh on every beat would begin at every
// beat; its beginning is then taken to the hour (or the rule's repeat,
// when longer), so that a breach that stays sends one event per hour, not
// one per beat.
func EventID(host string, t alert.Transition, durable bool) string {
	h := sha256.New()
	since, at := t.Since.UTC(), ""
	if t.Kind == alert.Fired && !durable {
		since = since.Truncate(max(t.Repeat, time.Hour))
	}
	if t.Kind == alert.Repeat && t.Repeat > 0 { // each reminder period is an event of its own
		n := t.At.Sub(t.Since) / t.Repeat
		at = "period " + strconv.FormatInt(int64(n), 10) + " of " + t.Repeat.String() // a changed repeat is another series of periods
	}
	for _, s := range []string{host, t.Source, t.Chip, t.Sensor, string(t.Reading.Kind), string(t.Level), string(t.Kind), since.Format(time.RFC3339Nano), at} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x40 // the shape of a version 4 UUID, as elsewhere
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b)
}

// deviceKeys are the facts of a chip that name its device in an event.
var deviceKeys = []string{"model", "uuid", "serial"}

// EventFor is the event that announces transition t on host, with the
// beat's readings as context.
func EventFor(host string, t alert.Transition, values map[thermal.SensorID]float64, device thermal.Attrs, durable bool) Event {
	readings := contextReadings(t.SensorID, values)
	ev := Event{ID: EventID(host, t, durable), Time: t.At, SensorID: t.SensorID, Level: t.Level, Celsius: t.Celsius, Threshold: t.Threshold, Readings: readings}
	chip := t.Chip
	var named []string
	for _, k := range deviceKeys {
		if v, ok := device.Get(k).(string); ok && v != "" {
			if ev.Device == nil {
				ev.Device = map[string]string{}
			}
			ev.Device[k] = v
			named = append(named, v)
		}
	}
	if len(named) > 0 {
		chip += " (" + strings.Join(named, ", ") + ")"
	}
	since := t.Since.UTC().Format(time.RFC3339)
	switch {
	case t.Reading.Kind == thermal.KindFan && t.Kind == alert.Cleared:
		ev.Cleared = true
		ev.Message = fmt.Sprintf("%s: %s %s works again (%s)", host, chip, t.Sensor, t.Detail)
	case t.Reading.Kind == thermal.KindFan:
		ev.Message = fmt.Sprintf("%s: fan %s of %s failed: %s (since %s)", host, t.Sensor, chip, t.Detail, since)
	case t.Reading.Kind == thermal.KindThrottle && t.Kind == alert.Cleared:
		ev.Cleared = true
		ev.Message = fmt.Sprintf("%s: %s stopped throttling for heat", host, chip)
	case t.Reading.Kind == thermal.KindThrottle:
		ev.Message = fmt.Sprintf("%s: %s keeps throttling for heat (since %s)", host, chip, since)
		if t.Detail != "" {
			ev.Message += ": " + t.Detail
		}
		if id, v, ok := related(t.Related, values); ok {
			ev.Message += fmt.Sprintf("; %s %s at %g °C", id.Chip, id.Sensor, v)
		}
	case t.Kind == alert.Cleared:
		ev.Cleared = true
		ev.Message = fmt.Sprintf("%s: %s %s recovered: %g °C, below its %s threshold %g °C (less %g °C hysteresis)",
			host, chip, t.Sensor, t.Celsius, t.Level, t.Threshold, t.Hysteresis)
	default:
		ev.Message = fmt.Sprintf("%s: %s %s is %g °C, above its %s threshold %g °C (firing since %s)",
			host, chip, t.Sensor, t.Celsius, t.Level, t.Threshold, since)
	}
	if t.Reading.Kind != thermal.KindTemperature {
		// A fan or throttling event carries the temperatures of its chip
		// (all of the beat's when the chip has none) and no threshold.
		ev.Kind = t.Reading.Kind
		same := map[string]float64{}
		for id, v := range values {
			if id.Source == t.Source && id.Chip == t.Chip {
				same[id.String()] = v
			}
		}
		if len(same) > 0 {
			ev.Readings = same
		}
	}
	return ev
}

// related finds the reading that want names (empty fields match any): the
// first of the matching ones in sensor order, so that an event says the
// same from beat to beat.
func related(want *thermal.SensorID, values map[thermal.SensorID]float64) (thermal.SensorID, float64, bool) {
	if want == nil {
		return thermal.SensorID{}, 0, false
	}
	var best thermal.SensorID
	var v float64
	found := false
	for id, c := range values {
		if (want.Source == "" || id.Source == want.Source) && (want.Chip == "" || id.Chip == want.Chip) &&
			(want.Sensor == "" || id.Sensor == want.Sensor) && (!found || id.String() < best.String()) {
			best, v, found = id, c, true
		}
	}
	return best, v, found
}

// MaxContextReadings bounds the readings an event carries: the outbox keeps
// up to a hundred events in state.json, and Sentry caps an event's size; a
// host with thousands of sensors sends the event's own chip and the hottest
// of the rest.
const MaxContextReadings = 64

// contextReadings picks the readings of an event's context: every one of
// its chip, then the hottest others, at most MaxContextReadings.
func contextReadings(id thermal.SensorID, values map[thermal.SensorID]float64) map[string]float64 {
	out := make(map[string]float64, min(len(values), MaxContextReadings))
	if len(values) <= MaxContextReadings {
		for k, v := range values {
			out[k.String()] = v
		}
		return out
	}
	type kv struct {
		k thermal.SensorID
		v float64
	}
	var rest []kv
	for k, v := range values {
		if k.Source == id.Source && k.Chip == id.Chip && len(out) < MaxContextReadings {
			out[k.String()] = v
		} else {
			rest = append(rest, kv{k, v})
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		if rest[i].v != rest[j].v {
			return rest[i].v > rest[j].v
		}
		return rest[i].k.String() < rest[j].k.String()
	})
	for _, r := range rest {
		if len(out) >= MaxContextReadings {
			break
		}
		out[r.k.String()] = r.v
	}
	return out
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
			return fmt.Errorf("check-in URL: %w", redactErr(err, raw))
		}
		q := parsed.Query()
		q.Set("status", status)
		parsed.RawQuery = q.Encode()
		u = parsed.String()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader("status="+status))
	if err != nil {
		return fmt.Errorf("check-in URL: %w", redactErr(err, raw))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "thermal-heartbeat")
	resp, err := sameHost(client).Do(req)
	if err != nil {
		return fmt.Errorf("check-in URL: %w", describe(ctx, redactErr(err, raw)))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("check-in URL: HTTP %s", resp.Status)
	}
	return nil
}

// CheckInURLError says what is wrong with a check-in URL, or nil: it must
// be an http or https URL with a host, and hold no white space or '#' (an
// EnvironmentFile= line keeps an inline comment in the value, so
// "https://hc-ping.com/<uuid>   # my comment" pings the wrong URL).
func CheckInURLError(raw string) error {
	if err := inlineComment(raw); err != nil {
		return err
	}
	u, err := url.Parse(strings.NewReplacer("{status}", "ok", "{up}", "up", "{fail}", "").Replace(raw))
	if err != nil {
		return redactErr(err, raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("want an http:// or https:// URL with a host, got %s", RedactURL(raw))
	}
	return nil
}

// inlineComment says where a value from the environment holds white space
// or '#': what an inline comment leaves in an EnvironmentFile= value.
func inlineComment(raw string) error {
	if i := strings.IndexAny(raw, " \t\r\n#"); i >= 0 {
		return fmt.Errorf("it holds %q at byte %d (a comment after the value? systemd's EnvironmentFile= keeps it in the value)", raw[i:i+1], i)
	}
	return nil
}

// sameHost returns a copy of client that follows redirects on the URL's
// own host only, and only those that keep the POST and its body (307,
// 308): a check-in URL's token is never sent to another host, and a login
// page answering 200 to a GET is not a delivery.
func sameHost(client *http.Client) *http.Client {
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		if req.URL.Hostname() != via[0].URL.Hostname() {
			return fmt.Errorf("a redirect to another host (%s) is not followed", req.URL.Hostname())
		}
		if r := req.Response; r != nil && r.StatusCode != http.StatusTemporaryRedirect && r.StatusCode != http.StatusPermanentRedirect {
			// 301, 302 and 303 turn the POST into a GET without its body:
			// a 2xx after that would count what was never delivered.
			return fmt.Errorf("HTTP %s redirects a POST to a GET (to %s): not followed", r.Status, RedactURL(req.URL.String()))
		}
		return nil
	}
	return &c
}

// redactErr keeps the secrets of a URL (a DSN's key, a check-in URL's
// token in its path or query) out of an error: the URL a *url.Error carries
// is cut to scheme and host, and any other spelling of raw in the message
// is replaced; the chain is kept, so errors.Is still sees what went wrong.
func redactErr(err error, raw string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		c := *ue
		c.URL = RedactURL(c.URL)
		c.Err = redactErr(c.Err, raw)
		return &c
	}
	msg := err.Error()
	clean := msg
	for _, s := range spellings(raw) {
		if len(s) >= 8 { // short pieces ("/", "/ping") are not secrets and occur anywhere
			clean = strings.ReplaceAll(clean, s, RedactURL(raw))
		}
	}
	if clean == msg {
		return err
	}
	return redacted{msg: clean, err: err}
}

// spellings are the forms a URL can take in an error message.
func spellings(raw string) []string {
	out := []string{raw, url.PathEscape(raw), url.QueryEscape(raw)}
	if u, err := url.Parse(raw); err == nil {
		out = append(out, u.String(), u.Redacted())
		if u.User != nil {
			out = append(out, u.User.Username())
		}
		out = append(out, u.Path, u.RawQuery, u.EscapedPath())
	}
	return out
}

// RedactURL returns scheme://host/… of a URL, or a placeholder when it
// cannot be parsed: enough to tell which endpoint failed, nothing secret.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<URL>"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

type redacted struct {
	msg string
	err error
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.err }
