// Package envelope decodes Sentry envelopes (develop.sentry.dev/sdk/data-model/envelopes):
// a JSON header line, then items, each a JSON header line carrying its type
// and, usually, the payload's length, then the payload. Tests use it in
// HTTP servers that stand in for Sentry.
package envelope

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Item is one envelope item.
type Item struct {
	Type    string
	Header  map[string]any
	Payload []byte
}

// Envelope is a decoded envelope.
type Envelope struct {
	Header map[string]any
	Items  []Item
}

// Decode parses an envelope.
func Decode(b []byte) (Envelope, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	var env Envelope
	line, err := r.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return env, err
	}
	if err := json.Unmarshal(line, &env.Header); err != nil {
		return env, fmt.Errorf("envelope header: %w", err)
	}
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) == 0 {
			if err != nil {
				return env, nil
			}
			continue
		}
		var it Item
		if err := json.Unmarshal(line, &it.Header); err != nil {
			return env, fmt.Errorf("item header %q: %w", line, err)
		}
		it.Type, _ = it.Header["type"].(string)
		if n, ok := it.Header["length"].(float64); ok {
			it.Payload = make([]byte, int(n))
			if _, err := io.ReadFull(r, it.Payload); err != nil {
				return env, fmt.Errorf("item %s: payload: %w", it.Type, err)
			}
			r.ReadByte() // the newline after the payload, if any
		} else {
			p, _ := r.ReadBytes('\n')
			it.Payload = bytes.TrimRight(p, "\n")
		}
		env.Items = append(env.Items, it)
	}
}

// FromRequest reads and decodes the envelope an SDK posted.
func FromRequest(req *http.Request) (Envelope, error) {
	body := req.Body
	if strings.Contains(req.Header.Get("Content-Encoding"), "gzip") {
		z, err := gzip.NewReader(body)
		if err != nil {
			return Envelope{}, err
		}
		body = z
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return Envelope{}, err
	}
	return Decode(b)
}
