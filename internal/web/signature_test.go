package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
	"github.com/mocpcr/mocpcr/internal/web"
)

// addSignRoute registers a stand-in for an approval handler: it answers
// 200 "signed" when verifyReauth allows, 303 to the re-auth URL when
// Entra ID must be asked, 400 with the message otherwise.
func addSignRoute(site *testSite) {
	site.web.HandleForTest("POST /test/sign", func(w http.ResponseWriter, r *http.Request) {
		err := site.web.VerifyReauth(r, r.PostFormValue("reauth_password"), "/test/page")
		if u := web.ReauthURL(err); u != "" {
			http.Redirect(w, r, u, http.StatusSeeOther)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Write([]byte("signed"))
	})
}

func TestReauthLocalPassword(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	addSignRoute(site)
	site.user("arno@example.com", auth.RoleApprover)
	b := site.browser()
	b.login("arno@example.com")
	csrf := b.csrf()
	if r := b.post("/test/sign", url.Values{"csrf_token": {csrf}}); r.StatusCode != 400 || !strings.Contains(r.Body, "enter your password") {
		t.Fatalf("no password: %d %s", r.StatusCode, r.Body)
	}
	if r := b.post("/test/sign", url.Values{"csrf_token": {csrf}, "reauth_password": {"wrong password!"}}); r.StatusCode != 400 || !strings.Contains(r.Body, "not correct") {
		t.Fatalf("wrong password: %d %s", r.StatusCode, r.Body)
	}
	if r := b.post("/test/sign", url.Values{"csrf_token": {csrf}, "reauth_password": {testPassword}}); r.StatusCode != 200 || r.Body != "signed" {
		t.Fatalf("right password: %d %s", r.StatusCode, r.Body)
	}
	// Wrong passwords at signing count towards the sign-in throttle.
	for i := 0; i < 5; i++ {
		b.post("/test/sign", url.Values{"csrf_token": {csrf}, "reauth_password": {"wrong password!"}})
	}
	if r := b.post("/test/sign", url.Values{"csrf_token": {csrf}, "reauth_password": {testPassword}}); r.StatusCode != 400 || !strings.Contains(r.Body, "Too many failed sign-ins") {
		t.Fatalf("after 5 wrong passwords: %d %s", r.StatusCode, r.Body)
	}
}

func TestReauthEntra(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site, fake := newEntraSite(t, db)
	addSignRoute(site)
	b := site.browser()
	b.entraLogin("/")
	csrf := b.csrf()
	// Just signed in: within the window.
	if r := b.post("/test/sign", url.Values{"csrf_token": {csrf}}); r.StatusCode != 200 {
		t.Fatalf("fresh sign-in: %d %s", r.StatusCode, r.Body)
	}
	site.clock.Advance(web.SignatureWindow + time.Second)
	r := b.post("/test/sign", url.Values{"csrf_token": {csrf}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/auth/login?prompt=login&return=%2Ftest%2Fpage" {
		t.Fatalf("stale sign-in: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// Following it asks Entra ID for prompt=login and records the time.
	b.follow = true
	end := b.get(r.Header.Get("Location"))
	b.follow = false
	qs := fake.AuthorizeQueries()
	if last := qs[len(qs)-1]; last.Get("prompt") != "login" {
		t.Fatalf("re-auth authorize request lacks prompt=login: %v", last)
	}
	if end.Request.URL.Path != "/test/page" {
		t.Fatalf("re-auth ended at %s", end.Request.URL)
	}
	if r := b.post("/test/sign", url.Values{"csrf_token": {csrf}}); r.StatusCode != 200 {
		t.Fatalf("after re-auth: %d %s", r.StatusCode, r.Body)
	}
	// Re-authenticating as somebody else does not count.
	site.clock.Advance(web.SignatureWindow + time.Second)
	fake.SetSignInUser(graphtest.SignInUser{OID: "oid-mallory", Name: "Mallory", PreferredUsername: "mallory@contoso.example"})
	b.follow = true
	end = b.get("/auth/login?prompt=login&return=%2Ftest%2Fpage")
	b.follow = false
	if end.StatusCode != http.StatusForbidden {
		t.Fatalf("re-auth as another account: %d", end.StatusCode)
	}
	if r := b.post("/test/sign", url.Values{"csrf_token": {csrf}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("signature allowed after re-auth as another account: %d", r.StatusCode)
	}
}
