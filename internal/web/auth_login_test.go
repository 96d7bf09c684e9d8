package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func TestLocalLoginAndReturn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		site.user("ines@example.com", auth.RoleInitiator)
		b := site.browser()

		// An anonymous page request goes to sign-in with a return address.
		r := b.get("/account")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/auth/login?return=%2Faccount" {
			t.Fatalf("anonymous /account: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		if r := b.get("/auth/login?return=%2Faccount"); r.StatusCode != 200 || !strings.Contains(r.Body, `name="password"`) {
			t.Fatalf("login page: %d", r.StatusCode)
		}
		// Wrong password: 401 with the error beside the field, no session.
		r = b.post("/auth/login", url.Values{"email": {"ines@example.com"}, "password": {"wrong password"}, "return": {"/account"}})
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, `id="password-error"`) {
			t.Fatalf("wrong password: %d\n%s", r.StatusCode, r.Body)
		}
		if b.signedIn() {
			t.Fatal("signed in after a wrong password")
		}
		// Right password: back to the return address.
		r = b.post("/auth/login", url.Values{"email": {"INES@example.com"}, "password": {testPassword}, "return": {"/account"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
			t.Fatalf("login: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		var cookie *http.Cookie
		for _, c := range r.Cookies() {
			if c.Name == "mocpcr_session" {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure {
			t.Fatalf("session cookie = %+v (want HttpOnly, Lax, not Secure on http)", cookie)
		}
		var n int
		if err := db.SQL.QueryRow(`SELECT count(*) FROM sessions WHERE token_hash = $1`, cookie.Value).Scan(&n); err != nil || n != 0 {
			t.Fatalf("session token stored in plain text (n=%d, err=%v)", n, err)
		}
		if r := b.get("/account"); r.StatusCode != 200 || !strings.Contains(r.Body, "ines@example.com") {
			t.Fatalf("account after login: %d", r.StatusCode)
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		site.user("rita@example.com", auth.RoleReviewer)
		b := site.browser()
		bad := url.Values{"email": {"rita@example.com"}, "password": {"not the password"}}
		for i := 1; i < 5; i++ {
			if r := b.post("/auth/login", bad); r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d", i, r.StatusCode)
			}
		}
		r := b.post("/auth/login", bad)
		if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.Body, "Too many failed sign-ins; try again in 15 minutes") {
			t.Fatalf("5th failure: %d\n%s", r.StatusCode, r.Body)
		}
		// Locked: even the right password is refused, without checking it.
		site.clock.Advance(10 * time.Minute)
		r = b.post("/auth/login", url.Values{"email": {"rita@example.com"}, "password": {testPassword}})
		if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.Body, "try again in 5 minutes") {
			t.Fatalf("locked login: %d\n%s", r.StatusCode, r.Body)
		}
		// The lock is in the database: a second server (replica) sees it.
		replica := newSite(t, db, nil)
		replica.clock.Advance(10 * time.Minute)
		if r := replica.browser().post("/auth/login", url.Values{"email": {"rita@example.com"}, "password": {testPassword}}); r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("replica ignores the lock: %d", r.StatusCode)
		}
		// After the lockout the right password works and clears the count.
		site.clock.Advance(6 * time.Minute)
		b.login("rita@example.com")
	})
}

func TestLoginThrottlePerIP(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	site.web.Throttle.IPLimit = 3
	site.user("a@example.com")
	b := site.browser()
	// Spraying one password over many accounts from one address.
	for i, email := range []string{"x@example.com", "y@example.com"} {
		if r := b.post("/auth/login", url.Values{"email": {email}, "password": {"Spring2026!!"}}); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.StatusCode)
		}
	}
	if r := b.post("/auth/login", url.Values{"email": {"z@example.com"}, "password": {"Spring2026!!"}}); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("3rd failure from one address: %d", r.StatusCode)
	}
	if r := b.post("/auth/login", url.Values{"email": {"a@example.com"}, "password": {testPassword}}); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("address not locked: %d", r.StatusCode)
	}
}

func TestSessionTimeouts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		site.user("ines@example.com", auth.RoleInitiator)

		// Idle: 8 hours without a request ends the session.
		b := site.browser()
		b.login("ines@example.com")
		site.clock.Advance(7*time.Hour + 59*time.Minute)
		if !b.signedIn() {
			t.Fatal("session ended before the idle timeout")
		}
		site.clock.Advance(7*time.Hour + 59*time.Minute) // used just now, so still fine
		if !b.signedIn() {
			t.Fatal("activity did not extend the session")
		}
		site.clock.Advance(8 * time.Hour)
		if b.signedIn() {
			t.Fatal("session alive after 8 idle hours")
		}
		if r := b.get("/account"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("expired session /account: %d", r.StatusCode)
		}

		// Absolute: 7 days at most, however busy.
		b = site.browser()
		b.login("ines@example.com")
		for i := 0; i < 7*24/6-1; i++ {
			site.clock.Advance(6 * time.Hour)
			if !b.signedIn() {
				t.Fatalf("session ended after %d hours of activity", (i+1)*6)
			}
		}
		site.clock.Advance(6 * time.Hour)
		if b.signedIn() {
			t.Fatal("session alive after 7 days")
		}
		var n int
		if err := db.SQL.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("expired sessions left in the table: %d %v", n, err)
		}
	})
}

func TestSignOutEverywhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		site.user("ines@example.com", auth.RoleInitiator)
		site.user("rita@example.com", auth.RoleReviewer)
		laptop, phone, other := site.browser(), site.browser(), site.browser()
		laptop.login("ines@example.com")
		phone.login("ines@example.com")
		other.login("rita@example.com")
		if r := laptop.get("/account"); !strings.Contains(r.Body, "signed in on 2 browsers") {
			t.Fatalf("account page does not count sessions:\n%s", r.Body)
		}
		r := laptop.post("/auth/logout-everywhere", url.Values{"csrf_token": {laptop.csrf()}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout everywhere: %d", r.StatusCode)
		}
		if laptop.signedIn() || phone.signedIn() {
			t.Fatal("a session of the user survived sign out everywhere")
		}
		if !other.signedIn() {
			t.Fatal("another user's session was ended")
		}
	})
}

var tokenRE = regexp.MustCompile(`value="(mocpcr_[A-Za-z0-9_-]+)"`)
var revokeRE = regexp.MustCompile(`action="/account/tokens/(\d+)/revoke"`)

func TestDemoLoginPageListsAccounts(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	site.web.Demo = true
	r := site.browser().get("/auth/login")
	for _, want := range []string{"ines@demo.mocpcr.local", "audrey@demo.mocpcr.local", "mocpcr-demo"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("demo sign-in page lacks %q", want)
		}
	}
	site.web.Demo = false
	if r := site.browser().get("/auth/login"); strings.Contains(r.Body, "mocpcr-demo") {
		t.Error("password shown outside demo mode")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
