package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func TestHealthAndReadiness(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			db := storetest.OpenEmpty(t, d)
			srv := newSite(t, db, nil).srv
			status := func(path string) int {
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.Header.Get("X-Request-ID") == "" {
					t.Errorf("%s: no X-Request-ID", path)
				}
				return resp.StatusCode
			}
			if s := status("/healthz"); s != 200 {
				t.Errorf("/healthz = %d", s)
			}
			if s := status("/readyz"); s != 503 {
				t.Errorf("/readyz before migrations = %d, want 503", s)
			}
			if _, err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if s := status("/readyz"); s != 200 {
				t.Errorf("/readyz after migrations = %d, want 200", s)
			}
			db.SQL.Close()
			if s := status("/readyz"); s != 503 {
				t.Errorf("/readyz with database closed = %d, want 503", s)
			}
			if s := status("/healthz"); s != 200 {
				t.Errorf("/healthz with database closed = %d, want 200 (process is alive)", s)
			}
		})
	}
}
