package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/app"
	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/demo"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) records(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(l.b.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// One HTTP request that causes an email: the web log line and the email
// worker's log line carry the same request id; the metrics endpoint then
// shows the queue, the token, the latency histogram and the outcomes.
func TestEmailLogsCarryRequestIDAndMetricsAreComplete(t *testing.T) {
	fake := graphtest.New()
	t.Cleanup(fake.Close)
	fake.SetLatency(20 * time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.MapEnv(map[string]string{
		"MOCPCR_ADDR": ln.Addr().String(), "MOCPCR_DATA_DIR": t.TempDir(),
		"EMAIL_PROVIDER": "graph", "AUTH_PROVIDER": "local",
		"AZURE_TENANT_ID": graphtest.TenantID, "AZURE_CLIENT_ID": graphtest.ClientID,
		"AZURE_CLIENT_SECRET": graphtest.ClientSecret, "GRAPH_MAIL_SENDER": graphtest.Sender,
		"AZURE_AUTHORITY_HOST": fake.URL, "GRAPH_ENDPOINT": fake.URL,
	}))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewJSONHandler(&logs, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The demo people, for their roles; a site sending real email is
	// never seeded with them on its own. Not the demo changes: their due
	// actions would have the reminder job queue emails of its own, at a
	// moment of its choosing, beside the ones this test counts.
	if err := demo.Seed(ctx, a.DB); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); a.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })

	ines, err := auth.UserByEmail(ctx, a.DB.SQL, demo.Accounts[0].Email)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.CreateAPIToken(ctx, a.DB.SQL, ines.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	var siteID int64
	if err := a.DB.SQL.QueryRow(`SELECT id FROM sites ORDER BY id LIMIT 1`).Scan(&siteID); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, reqID string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, cfg.BaseURL+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Request-ID", reqID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s = %d: %s", method, path, resp.StatusCode, raw)
		}
		json.Unmarshal(raw, &out)
		return out
	}
	created := call("POST", "/api/v1/changes", "req-create-1", newChange(siteID))
	id := int64(created["change"].(map[string]any)["id"].(float64))
	before := len(fake.Messages())
	call("POST", fmt.Sprintf("/api/v1/changes/%d/submit", id), "req-submit-1",
		map[string]any{"screening": map[string]any{"disciplines": []string{"mechanical"}}})

	var sent []map[string]any
	waitUntil(t, time.Minute, "the email of the submit to be sent and logged", func() bool {
		sent = logs.records("email sent")
		return len(sent) > 0 && len(fake.Messages()) > before
	})
	if len(sent) == 0 {
		t.Fatalf("no 'email sent' log line; fake got %d messages", len(fake.Messages()))
	}
	for _, rec := range sent {
		if rec["request_id"] != "req-submit-1" {
			t.Errorf("email log line request_id = %v, want req-submit-1 (the submit request): %v", rec["request_id"], rec)
		}
	}
	var webLine bool
	for _, rec := range logs.records("http request") {
		if rec["request_id"] == "req-submit-1" && strings.HasSuffix(rec["path"].(string), "/submit") {
			webLine = true
		}
	}
	if !webLine {
		t.Error("no web log line with request_id req-submit-1")
	}

	// Queue something that cannot go out yet, so the gauges are not zero.
	fake.FailUnavailable(-1, "")
	call("POST", "/api/v1/changes", "req-create-2", newChange(siteID))
	created = call("POST", "/api/v1/changes", "req-create-3", newChange(siteID))
	id = int64(created["change"].(map[string]any)["id"].(float64))
	call("POST", fmt.Sprintf("/api/v1/changes/%d/submit", id), "req-submit-2",
		map[string]any{"screening": map[string]any{"disciplines": []string{"mechanical"}}})
	// The queue gauges are cached for a second, and the counters move just
	// after an attempt is recorded: poll until they show the refused try.
	// Later retries (backoff from 10 s) may have happened by then on a slow
	// machine, so the retry counters are at least one, not exactly one.
	var body string
	waitUntil(t, time.Minute, "the metrics to show the email waiting for a retry", func() bool {
		body = scrape(t, a)
		return metric(body, "mocpcr_email_retried_total") >= 1 && metric(body, "mocpcr_email_queue_depth") == 1 &&
			metric(body, `mocpcr_email_send_duration_seconds_count{outcome="retrying"}`) >= 1
	})
	for _, want := range []string{
		"mocpcr_email_sent_total 1",
		"mocpcr_email_failed_total 0",
		"mocpcr_email_given_up_total 0",
		"mocpcr_email_queue_depth 1",
		"mocpcr_email_waiting_config 0",
		"mocpcr_email_queue_oldest_seconds ",
		"mocpcr_graph_token_requests_total 1",
		"mocpcr_graph_token_failures_total 0",
		// The histogram has its buckets and the one sent email; which
		// bucket it fell in depends on the machine's speed.
		`mocpcr_email_send_duration_seconds_bucket{outcome="sent",le="0.05"} `,
		`mocpcr_email_send_duration_seconds_bucket{outcome="sent",le="+Inf"} 1`,
		`mocpcr_email_send_duration_seconds_count{outcome="sent"} 1`,
		`mocpcr_http_request_duration_seconds_bucket{route="POST /api/v1/changes"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "mocpcr_email_queue_oldest_seconds 0\n") {
		t.Error("oldest queued age is 0 with an email waiting")
	}
}

// metric is the value of the sample named exactly name (with its labels)
// in a text exposition, or -1 when there is none.
func metric(body, name string) float64 {
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return -1
}

func scrape(t *testing.T, a *app.App) string {
	t.Helper()
	rec := httptest.NewRecorder()
	a.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape = %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func newChange(siteID int64) map[string]any {
	return map[string]any{"kind": "MOC", "title": "Replace P-101 seals", "description": "Dual mechanical seals", "site_id": siteID,
		"equipment_tags": []string{"P-101A"}, "reason": "Repeated leaks", "risk_ranking": "low",
		"technical_basis": "Vendor data sheet", "safety_health_impact": "None",
		"procedure_changes": "None", "time_period": "Permanent", "authorization_required": "Area superintendent"}
}
