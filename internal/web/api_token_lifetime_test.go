package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// makeToken creates a token on the account page and returns it.
func (b *browser) makeToken(name, expiresOn string) string {
	b.t.Helper()
	r := b.post("/account/tokens", url.Values{"csrf_token": {b.csrf()}, "token_name": {name}, "token_expires_on": {expiresOn}})
	if r.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("create token %q: %d\n%s", name, r.StatusCode, r.Body)
	}
	m := tokenRE.FindStringSubmatch(b.get("/account").Body)
	if m == nil {
		b.t.Fatalf("token %q not shown after creating it", name)
	}
	return m[1]
}

// tokenWorks reports whether the API accepts tok.
func (s *testSite) tokenWorks(tok string) bool {
	s.t.Helper()
	r := bearer(s.t.(*testing.T), s.URL, "GET", "/api/v1/me", tok, nil)
	return r.StatusCode == http.StatusOK
}

// A token is a credential made under another one (the password, the
// session): it must end when that credential is taken away, or a thief
// holding a token keeps access through the very reset meant to stop them.
func TestAPITokensEndWithTheCredentialThatMadeThem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		site.user("adam@example.com", auth.RoleAdmin)
		ines := site.user("ines@example.com", auth.RoleInitiator)
		admin, user := site.browser(), site.browser()
		admin.login("adam@example.com")
		path := "/admin/users/" + strconv.FormatInt(ines.ID, 10)

		t.Run("admin password reset", func(t *testing.T) {
			user.login("ines@example.com")
			tok := user.makeToken("reset", "")
			if page := admin.get(path); !strings.Contains(page.Body, "their API tokens are revoked") {
				t.Error("the set-password form does not say that it revokes API tokens")
			}
			if r := admin.post(path+"/password", url.Values{"csrf_token": {admin.csrf()}, "new_password": {testPassword}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("set password: %d", r.StatusCode)
			}
			if site.tokenWorks(tok) {
				t.Error("API token still works after an administrator reset the password")
			}
		})

		t.Run("disabling the user", func(t *testing.T) {
			user.login("ines@example.com")
			tok := user.makeToken("disable", "")
			edit := func(disabled bool) {
				t.Helper()
				f := url.Values{"csrf_token": {admin.csrf()}, "name": {ines.Name}, "roles": {"initiator"}, "all_sites": {"on"}}
				if disabled {
					f.Set("disabled", "on")
				}
				if r := admin.post(path, f); r.StatusCode != http.StatusSeeOther {
					t.Fatalf("save user (disabled=%v): %d\n%s", disabled, r.StatusCode, r.Body)
				}
			}
			if page := admin.get(path); !strings.Contains(page.Body, "API tokens revoked") {
				t.Error("the Disabled box does not say that it revokes API tokens")
			}
			edit(true)
			edit(false)
			if site.tokenWorks(tok) {
				t.Error("API token works again after the user was disabled and enabled")
			}
		})

		t.Run("sign out everywhere", func(t *testing.T) {
			user.login("ines@example.com")
			tok := user.makeToken("everywhere", "")
			if page := user.get("/account"); !strings.Contains(page.Body, "Signing out everywhere also revokes your API tokens") {
				t.Error("the account page does not say that signing out everywhere revokes API tokens")
			}
			if r := user.post("/auth/logout-everywhere", url.Values{"csrf_token": {user.csrf()}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign out everywhere: %d", r.StatusCode)
			}
			if site.tokenWorks(tok) {
				t.Error("API token still works after sign out everywhere")
			}
		})

		t.Run("own password change offers it", func(t *testing.T) {
			user.login("ines@example.com")
			kept := user.makeToken("kept", "")
			form := url.Values{"csrf_token": {user.csrf()}, "current_password": {testPassword},
				"new_password": {"interim passphrase 2"}, "confirm_password": {"interim passphrase 2"}}
			if r := user.post("/account/password", form); r.StatusCode != http.StatusOK {
				t.Fatalf("change password keeping tokens: %d", r.StatusCode)
			}
			if !site.tokenWorks(kept) {
				t.Error("token revoked although the user chose to keep their tokens")
			}
			page := user.get("/account")
			if !strings.Contains(page.Body, `name="revoke_tokens" checked`) {
				t.Error("the password form does not offer revoking API tokens, ticked")
			}
			form = url.Values{"csrf_token": {user.csrf()}, "current_password": {"interim passphrase 2"},
				"new_password": {testPassword}, "confirm_password": {testPassword}, "revoke_tokens": {"on"}}
			r := user.post("/account/password", form)
			if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "your API tokens were revoked") {
				t.Fatalf("change password revoking tokens: %d", r.StatusCode)
			}
			if site.tokenWorks(kept) {
				t.Error("token still works after a password change that revoked tokens")
			}
		})
	})
}

// A token may be given a last day; it stops at the midnight (UTC) after
// it, and the account page shows it as expired, with when it was last used.
func TestAPITokenExpiresAfterItsLastDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		site.user("ines@example.com", auth.RoleInitiator)
		b := site.browser()
		b.login("ines@example.com")
		today := site.clock.Now().UTC().Format(time.DateOnly)

		for _, tc := range []struct{ value, msg string }{
			{"31.12.2026", "Expires on must be a date like 2026-12-31"},
			{site.clock.Now().AddDate(0, 0, -1).UTC().Format(time.DateOnly), "Expires on must be today or later"},
		} {
			r := b.post("/account/tokens", url.Values{"csrf_token": {b.csrf()}, "token_name": {"bad"}, "token_expires_on": {tc.value}})
			if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, tc.msg) || !strings.Contains(r.Body, `id="token_expires_on-error"`) {
				t.Errorf("expires on %q: %d, want 400 with %q beside the field", tc.value, r.StatusCode, tc.msg)
			}
		}

		tok := b.makeToken("tonight", today)
		if !site.tokenWorks(tok) {
			t.Fatal("token refused on its last day")
		}
		page := b.get("/account").Body
		if strings.Contains(page, ">never<") {
			t.Error("account page does not show when the token was last used")
		}
		y, m, d := site.clock.Now().UTC().Date()
		midnight := time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
		site.clock.Advance(midnight.Sub(site.clock.Now()))
		if site.tokenWorks(tok) {
			t.Error("token still works after its last day")
		}
		// The session may or may not have idled out by midnight, depending
		// on the hour the test runs at; a new browser signs in either way.
		b = site.browser()
		b.login("ines@example.com")
		if page := b.get("/account").Body; !strings.Contains(page, "expired") {
			t.Error("account page does not mark the expired token")
		}
	})
}
