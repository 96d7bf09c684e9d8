package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// "next" after a form is a path on this site only; a browser reads
// "/\evil.example" as another host.
func TestFormRedirectStaysOnSite(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	site.user("ines@example.com", auth.RoleInitiator)
	b := site.browser()
	b.login("ines@example.com")
	for next, want := range map[string]string{"/\\evil.example": "/notifications", "//evil.example": "/notifications",
		"https://evil.example/": "/notifications", "/changes?x=1": "/changes?x=1"} {
		r := b.post("/notifications/read-all", url.Values{"csrf_token": {b.csrf()}, "next": {next}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("next=%q: %d to %q, want %q", next, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
}

func TestSafeReturnRejectsOtherOrigins(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	site.user("ines@example.com", auth.RoleInitiator)
	for _, ret := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""} {
		b := site.browser()
		r := b.post("/auth/login", url.Values{"email": {"ines@example.com"}, "password": {testPassword}, "return": {ret}})
		if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "/" {
			t.Errorf("return %q: %d -> %q, want /", ret, r.StatusCode, loc)
		}
	}
}
