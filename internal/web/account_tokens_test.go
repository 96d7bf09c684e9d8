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

func TestAPITokensCreateUseRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		site.user("ines@example.com", auth.RoleInitiator)
		b := site.browser()
		b.login("ines@example.com")
		r := b.post("/account/tokens", url.Values{"csrf_token": {b.csrf()}, "token_name": {"report script"}})
		// Post, redirect, get: reloading the page that shows the token
		// must not mint another.
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account#new-token" || tokenRE.MatchString(r.Body) {
			t.Fatalf("create token: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
		}
		r = b.get("/account")
		m := tokenRE.FindStringSubmatch(r.Body)
		if m == nil || !strings.Contains(r.Body, "shown only this once") || !strings.Contains(r.Body, "report script") ||
			r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("account page after creating a token: %d cache %q\n%s", r.StatusCode, r.Header.Get("Cache-Control"), r.Body)
		}
		tok := m[1]
		if again := b.get("/account"); strings.Contains(again.Body, tok) || strings.Contains(again.Body, "shown only this once") {
			t.Fatal("token shown again on a later visit (reload)")
		}
		if n := strings.Count(b.get("/account").Body, `action="/account/tokens/`); n != 1 {
			t.Fatalf("%d tokens listed after one create, want 1", n)
		}
		api := bearer(t, site.URL, "GET", "/api/v1/me", tok, nil)
		if api.StatusCode != 200 || !strings.Contains(api.Body, `"email":"ines@example.com"`) {
			t.Fatalf("/api/v1/me with token: %d %s", api.StatusCode, api.Body)
		}
		// Bearer calls are exempt from CSRF: no token, no Origin check.
		if r := bearer(t, site.URL, "POST", "/api/v1/sites", tok, strings.NewReader(`{"code":"X","name":"Y"}`)); r.StatusCode != http.StatusForbidden {
			t.Fatalf("initiator creating a site: %d (want 403 from policy, not CSRF)", r.StatusCode)
		}
		rm := revokeRE.FindStringSubmatch(b.get("/account").Body)
		if rm == nil {
			t.Fatal("no revoke button")
		}
		if r := b.post("/account/tokens/"+rm[1]+"/revoke", url.Values{"csrf_token": {b.csrf()}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.StatusCode)
		}
		if api := bearer(t, site.URL, "GET", "/api/v1/me", tok, nil); api.StatusCode != http.StatusUnauthorized || !strings.Contains(api.Body, "revoked") {
			t.Fatalf("revoked token: %d %s", api.StatusCode, api.Body)
		}
		if api := bearer(t, site.URL, "GET", "/api/v1/me", "", nil); api.StatusCode != http.StatusUnauthorized {
			t.Fatalf("no token: %d", api.StatusCode)
		}
	})
}
