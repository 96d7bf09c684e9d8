package web_test

import (
	"encoding/json"
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

func TestAdminManagesUsersAndSites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		site.user("adam@example.com", auth.RoleAdmin)
		b := site.browser()
		b.login("adam@example.com")
		csrf := b.csrf()
		if r := b.post("/admin/sites", url.Values{"csrf_token": {csrf}, "code": {"nrf"}, "name": {"North Refinery"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("create site: %d\n%s", r.StatusCode, r.Body)
		}
		if r := b.post("/admin/sites", url.Values{"csrf_token": {csrf}, "code": {"NRF"}, "name": {"Again"}}); r.StatusCode != 400 || !strings.Contains(r.Body, `id="code-error"`) {
			t.Fatalf("duplicate site: %d", r.StatusCode)
		}
		nrf, err := auth.SiteByCode(t.Context(), db.SQL, "NRF")
		if err != nil {
			t.Fatal(err)
		}
		// Bad input names the field.
		r := b.post("/admin/users", url.Values{"csrf_token": {csrf}, "email": {"not-an-email"}, "name": {"X"}, "password": {"long enough password"},
			"roles": {"reviewer"}, "all_sites": {"on"}})
		if r.StatusCode != 400 || !strings.Contains(r.Body, `id="email-error"`) {
			t.Fatalf("bad email: %d\n%s", r.StatusCode, r.Body)
		}
		r = b.post("/admin/users", url.Values{"csrf_token": {csrf}, "email": {"new@example.com"}, "name": {"New Person"},
			"password": {"long enough password"}, "roles": {"reviewer", "approver"}, "sites": {itoa(nrf.ID)}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("create user: %d\n%s", r.StatusCode, r.Body)
		}
		u, err := auth.UserByEmail(t.Context(), db.SQL, "new@example.com")
		if err != nil || !u.Has(auth.RoleApprover) || !u.OnSite(nrf.ID) || u.OnSite(nrf.ID+1) {
			t.Fatalf("created user = %+v, %v", u, err)
		}
		newUser := site.browser()
		r = newUser.post("/auth/login", url.Values{"email": {"new@example.com"}, "password": {"long enough password"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("new user cannot sign in: %d", r.StatusCode)
		}
		// Disable: signed out at once, cannot sign in again.
		r = b.post("/admin/users/"+itoa(u.ID), url.Values{"csrf_token": {csrf}, "name": {"New Person"}, "roles": {"reviewer"}, "sites": {itoa(nrf.ID)}, "disabled": {"on"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d\n%s", r.StatusCode, r.Body)
		}
		if newUser.signedIn() {
			t.Fatal("disabled user still signed in")
		}
		if r := newUser.post("/auth/login", url.Values{"email": {"new@example.com"}, "password": {"long enough password"}}); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("disabled user signs in: %d", r.StatusCode)
		}
		// An admin cannot lock themself out.
		adam, _ := auth.UserByEmail(t.Context(), db.SQL, "adam@example.com")
		if r := b.post("/admin/users/"+itoa(adam.ID), url.Values{"csrf_token": {csrf}, "name": {"Adam"}, "roles": {"reviewer"}}); r.StatusCode != 400 {
			t.Fatalf("admin removed own admin role: %d", r.StatusCode)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Every API refusal has one shape, {error, code, field, request_id},
// whichever layer refused: the auth API's own checks here, the change
// API's domain errors in change_api_call_test.go.
func TestUsersAPIRefusalsNameTheField(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	admin := site.user("adam@example.com", auth.RoleAdmin)
	tok, err := auth.CreateAPIToken(t.Context(), db.SQL, admin.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"unknown role", `{"email":"a@example.com","name":"A","password":"long enough pw","roles":["wizard"]}`, 422, "invalid", "roles"},
		{"no password", `{"email":"a@example.com","name":"A","roles":["reviewer"],"all_sites":true}`, 422, "invalid", "password"},
		{"no such site", `{"email":"a@example.com","name":"A","password":"long enough pw","roles":["reviewer"],"site_ids":[999]}`, 422, "invalid", "site_ids"},
		{"no role", `{"email":"a@example.com","name":"A","password":"long enough pw","all_sites":true}`, 422, "invalid", "roles"},
		{"no site choice", `{"email":"a@example.com","name":"A","password":"long enough pw","roles":["reviewer"]}`, 422, "invalid", "site_ids"},
		{"both site choices", `{"email":"a@example.com","name":"A","password":"long enough pw","roles":["reviewer"],"site_ids":[1],"all_sites":true}`, 422, "invalid", "site_ids"},
		{"wrong type", `{"email":"a@example.com","name":7}`, 422, "invalid", "name"},
		{"typo", `{"emial":"a@example.com"}`, 422, "invalid", "emial"},
		{"not JSON", `email=a@example.com`, 422, "invalid", "body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := bearer(t, site.URL, "POST", "/api/v1/users", tok, strings.NewReader(c.body))
			var e map[string]string
			if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
				t.Fatalf("%d %q: %v", r.StatusCode, r.Body, err)
			}
			if r.StatusCode != c.status || e["code"] != c.code || e["field"] != c.field || e["request_id"] == "" ||
				!strings.HasPrefix(e["error"], c.field+": ") {
				t.Fatalf("got %d %v, want %d code %q field %q", r.StatusCode, e, c.status, c.code, c.field)
			}
		})
	}
	r := bearer(t, site.URL, "GET", "/api/v1/users", "", nil)
	if r.StatusCode != 401 || !strings.Contains(r.Body, `"code":"unauthenticated"`) {
		t.Fatalf("anonymous: %d %s", r.StatusCode, r.Body)
	}
}
