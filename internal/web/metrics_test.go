package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/metrics"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
	"github.com/mocpcr/mocpcr/internal/web"
)

func TestMetricsAreForAdminsAndLabelByRoute(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := startSite(t, db, siteOptions{deps: web.Deps{Metrics: metrics.New("test")}})
	srv := site.srv
	token := func(role auth.Role, email string) string {
		_, tok := site.apiUser(email, role)
		return tok
	}
	admin, initiator := token(auth.RoleAdmin, "admin@example.com"), token(auth.RoleInitiator, "ini@example.com")
	get := func(path, tok string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get("/healthz", "")
	get("/healthz", "")
	if code, _ := get("/metrics", ""); code != 401 {
		t.Errorf("anonymous /metrics = %d, want 401", code)
	}
	if code, _ := get("/metrics", initiator); code != 403 {
		t.Errorf("initiator /metrics = %d, want 403", code)
	}
	code, body := get("/metrics", admin)
	if code != 200 {
		t.Fatalf("admin /metrics = %d", code)
	}
	for _, want := range []string{
		`mocpcr_http_requests_total{code="200",method="GET",route="GET /healthz"} 2`,
		`mocpcr_http_request_duration_seconds_bucket{route="GET /healthz"`,
		`mocpcr_build_info{goversion=`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
