package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Push POSTs an exposition (the textfile's text) to rawURL, for hosts
// without node_exporter: VictoriaMetrics' /api/v1/import/prometheus (single
// node or vminsert) and a Prometheus Pushgateway's
// /metrics/job/<job>/instance/<host> both take it as it is. It is best
// effort: once, under ctx, never retried; redirects on the URL's own host
// only. The error says what happened, with the URL's secrets kept out.
func Push(ctx context.Context, client *http.Client, rawURL string, exposition []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(exposition))
	if err != nil {
		return fmt.Errorf("push: %w", redactErr(err, rawURL))
	}
	req.Header.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	req.Header.Set("User-Agent", "thermal-heartbeat")
	resp, err := sameHost(client).Do(req)
	if err != nil {
		return fmt.Errorf("push: %w", describe(ctx, redactErr(err, rawURL)))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("push to %s: HTTP %s: %s", RedactURL(rawURL), resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
