package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func TestChangeOwnPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		site.user("ines@example.com", auth.RoleInitiator)
		laptop, phone := site.browser(), site.browser()
		laptop.login("ines@example.com")
		phone.login("ines@example.com")
		const newPW = "a much better passphrase"
		cases := []struct {
			form  url.Values
			field string
			msg   string
		}{
			{url.Values{"current_password": {"wrong password!"}, "new_password": {newPW}, "confirm_password": {newPW}}, "current_password", "Current password is not correct"},
			{url.Values{"current_password": {testPassword}, "new_password": {"short"}, "confirm_password": {"short"}}, "new_password", "New password must be at least 10 characters"},
			{url.Values{"current_password": {testPassword}, "new_password": {newPW}, "confirm_password": {newPW + "x"}}, "confirm_password", "Repeat the new password exactly"},
		}
		for _, tc := range cases {
			tc.form.Set("csrf_token", laptop.csrf())
			r := laptop.post("/account/password", tc.form)
			if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, tc.msg) || !strings.Contains(r.Body, `id="`+tc.field+`-error"`) {
				t.Errorf("%s: status %d, want 400 with %q beside the field", tc.field, r.StatusCode, tc.msg)
			}
		}
		r := laptop.post("/account/password", url.Values{"csrf_token": {laptop.csrf()},
			"current_password": {testPassword}, "new_password": {newPW}, "confirm_password": {newPW}})
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Password changed") {
			t.Fatalf("change password: %d", r.StatusCode)
		}
		if !laptop.signedIn() {
			t.Error("the browser that changed the password was signed out")
		}
		if phone.signedIn() {
			t.Error("another browser is still signed in after the password change")
		}
		fresh := site.browser()
		if r := fresh.post("/auth/login", url.Values{"email": {"ines@example.com"}, "password": {testPassword}}); r.StatusCode == http.StatusSeeOther {
			t.Error("the old password still signs in")
		}
		if r := fresh.post("/auth/login", url.Values{"email": {"ines@example.com"}, "password": {newPW}}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("the new password does not sign in: %d", r.StatusCode)
		}
	})
}

func TestAdminSetsPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		site.user("adam@example.com", auth.RoleAdmin)
		ines := site.user("ines@example.com", auth.RoleInitiator)
		admin, user := site.browser(), site.browser()
		admin.login("adam@example.com")
		user.login("ines@example.com")
		path := "/admin/users/" + strconv.FormatInt(ines.ID, 10)
		if r := admin.get(path); !strings.Contains(r.Body, "Set a new password") {
			t.Fatal("user edit page has no set-password form")
		}
		r := admin.post(path+"/password", url.Values{"csrf_token": {admin.csrf()}, "new_password": {"2short"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="new_password-error"`) {
			t.Errorf("short password: %d, want 400 with an error beside the field", r.StatusCode)
		}
		r = admin.post(path+"/password", url.Values{"csrf_token": {admin.csrf()}, "new_password": {"temporary passphrase 1"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("set password: %d", r.StatusCode)
		}
		if user.signedIn() {
			t.Error("the user's session survived the password reset")
		}
		if r := site.browser().post("/auth/login", url.Values{"email": {"ines@example.com"}, "password": {"temporary passphrase 1"}}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("new password does not sign in: %d", r.StatusCode)
		}
		// Only admins may do it.
		site.user("rita@example.com", auth.RoleReviewer)
		rita := site.browser()
		rita.login("rita@example.com")
		if r := rita.post(path+"/password", url.Values{"csrf_token": {rita.csrf()}, "new_password": {"whatever passphrase"}}); r.StatusCode != http.StatusForbidden {
			t.Errorf("a non-admin's reset answered %d, want 403", r.StatusCode)
		}
	})
}
