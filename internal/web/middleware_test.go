package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func TestCSRFProtection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		ines := site.user("ines@example.com", auth.RoleInitiator)
		b := site.browser()
		b.login("ines@example.com")
		token := b.csrf()

		send := func(form url.Values, hdr map[string]string) int {
			req, _ := http.NewRequest("POST", site.URL+"/account/tokens", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			return b.do(req).StatusCode
		}
		// Cross-origin, even with the right token: refused.
		if s := send(url.Values{"csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); s != http.StatusForbidden {
			t.Errorf("cross-site POST: %d, want 403", s)
		}
		if s := send(url.Values{"csrf_token": {token}}, map[string]string{"Origin": "https://evil.example"}); s != http.StatusForbidden {
			t.Errorf("POST from another Origin: %d, want 403", s)
		}
		// Same origin without the token, or with a wrong one: refused.
		if s := send(url.Values{}, map[string]string{"Sec-Fetch-Site": "same-origin"}); s != http.StatusForbidden {
			t.Errorf("POST without token: %d, want 403", s)
		}
		if s := send(url.Values{"csrf_token": {token + "x"}}, map[string]string{"Sec-Fetch-Site": "same-origin"}); s != http.StatusForbidden {
			t.Errorf("POST with wrong token: %d, want 403", s)
		}
		// The header form works for scripts.
		if s := send(url.Values{}, map[string]string{"Sec-Fetch-Site": "same-origin", "X-CSRF-Token": token}); s != http.StatusSeeOther {
			t.Errorf("POST with X-CSRF-Token: %d, want 303 (token created, then its page)", s)
		}
		toks, _ := auth.ListAPITokens(t.Context(), db.SQL, ines.ID)
		if len(toks) != 1 {
			t.Errorf("%d tokens created, want exactly 1 (only the accepted request)", len(toks))
		}
		// Sign-out is a form too: the layout carries the token.
		if r := b.post("/auth/logout", url.Values{}); r.StatusCode != http.StatusForbidden {
			t.Errorf("logout without token: %d", r.StatusCode)
		}
		if r := b.post("/auth/logout", url.Values{"csrf_token": {token}}); r.StatusCode != http.StatusSeeOther || b.signedIn() {
			t.Errorf("logout: %d, still signed in = %v", r.StatusCode, b.signedIn())
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	for _, path := range []string{"/auth/login", "/static/app.css", "/api/v1/me", "/nope"} {
		r := site.browser().get(path)
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: headers %v", path, r.Header)
		}
	}
}
