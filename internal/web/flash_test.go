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

// A confirmation travels from the form post to the next page in a cookie;
// a link cannot make mocpcr show text of its choosing.
func TestFlashComesFromTheServerNotTheLink(t *testing.T) {
	site := newSite(t, storetest.Open(t, store.SQLite), nil)
	site.user("ines@example.com", auth.RoleInitiator)
	b := site.browser()
	b.login("ines@example.com")
	if r := b.get("/notifications?flash=" + url.QueryEscape("Your account is locked, call +1 555")); strings.Contains(r.Body, "call +1 555") {
		t.Fatal("a flash message from the query string was shown")
	}
	r := b.post("/notifications/read-all", url.Values{"csrf_token": {b.csrf()}})
	if r.StatusCode != http.StatusSeeOther || strings.Contains(r.Header.Get("Location"), "flash") {
		t.Fatalf("read-all: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if page := b.get(r.Header.Get("Location")); !strings.Contains(page.Body, "Marked 0 notifications read.") {
		t.Error("the confirmation did not reach the next page")
	}
	if page := b.get("/notifications"); strings.Contains(page.Body, "Marked 0 notifications read.") {
		t.Error("the confirmation was shown twice")
	}
}
