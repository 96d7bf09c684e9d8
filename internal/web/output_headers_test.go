package web_test

import (
	"context"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Whatever a signed-in caller is answered, page or API, is kept out of
// every cache; static files stay cacheable; HSTS is sent only when the
// public URL is https.
func TestSignedInAnswersAreNotStoredAndHTTPSIsPinned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, base := range []string{"", "https://moc.example.com"} {
			env := map[string]string{}
			if base != "" {
				env["MOCPCR_BASE_URL"] = base
			}
			site := newSite(t, db, env)
			u := site.user("hsts"+base[min(len(base), 8):]+"@example.com", auth.RoleInitiator)
			tok, err := auth.CreateAPIToken(context.Background(), db.SQL, u.ID, "test")
			if err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/", "/changes", "/account", "/api/v1/me", "/api/v1/changes", "/notifications"} {
				r := bearer(t, site.URL, "GET", path, tok, nil)
				if got := r.Header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("base %q: GET %s as a signed-in user: Cache-Control %q, want no-store", base, path, got)
				}
				hsts := r.Header.Get("Strict-Transport-Security")
				if (base != "") != (hsts != "") {
					t.Errorf("base %q: GET %s: Strict-Transport-Security %q", base, path, hsts)
				}
			}
			if got := bearer(t, site.URL, "GET", "/static/app.css", tok, nil).Header.Get("Cache-Control"); got == "no-store" {
				t.Errorf("static files are not cacheable (Cache-Control %q)", got)
			}
		}
	})
}
