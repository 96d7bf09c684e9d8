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

// Every site is an explicit choice ("All sites"), never what ticking no
// site means, and a new user needs a role; users stored with no sites
// keep every site.
func TestUserAccessIsExplicit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		admin := site.user("adam@example.com", auth.RoleAdmin)
		old := site.user("old@example.com", auth.RoleReviewer) // stored the old way: no site rows
		nrf, err := auth.CreateSite(t.Context(), db.SQL, "NRF", "North Refinery")
		if err != nil {
			t.Fatal(err)
		}
		b := site.browser()
		b.login(admin.Email)
		csrf := b.csrf()

		r := b.post("/admin/users", url.Values{"csrf_token": {csrf}, "email": {"nora@example.com"}, "name": {"Nora"}, "password": {"long enough password"}})
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("no role, no sites: %d", r.StatusCode)
		}
		for _, want := range []string{"Roles: choose at least one role", "Sites: tick the sites the user works on, or “All sites”", `value="nora@example.com"`} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("no role, no sites: missing %q", want)
			}
		}
		if _, err := auth.UserByEmail(t.Context(), db.SQL, "nora@example.com"); err == nil {
			t.Fatal("user created without role or site choice")
		}
		r = b.post("/admin/users", url.Values{"csrf_token": {csrf}, "email": {"nora@example.com"}, "name": {"Nora"}, "password": {"long enough password"},
			"roles": {"auditor"}, "all_sites": {"on"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("all sites: %d\n%s", r.StatusCode, r.Body)
		}
		nora, err := auth.UserByEmail(t.Context(), db.SQL, "nora@example.com")
		if err != nil || len(nora.SiteIDs) != 0 || !nora.OnSite(nrf.ID) {
			t.Fatalf("all-sites user = %+v %v", nora, err)
		}

		// A user stored with no sites shows "All sites" ticked and keeps it.
		page := b.get("/admin/users/" + itoa(old.ID))
		if !strings.Contains(page.Body, `name="all_sites" checked`) {
			t.Errorf("existing all-site user not shown with All sites ticked")
		}
		if r := b.post("/admin/users/"+itoa(old.ID), url.Values{"csrf_token": {csrf}, "name": {"Old"}, "roles": {"reviewer"}}); r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(r.Body, "Sites: tick") {
			t.Errorf("edit with nothing ticked: %d", r.StatusCode)
		}
		if r := b.post("/admin/users/"+itoa(old.ID), url.Values{"csrf_token": {csrf}, "name": {"Old"}, "roles": {"reviewer"}, "all_sites": {"on"}}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("edit keeping all sites: %d", r.StatusCode)
		}
		if u, _ := auth.UserByID(t.Context(), db.SQL, old.ID); len(u.SiteIDs) != 0 || !u.OnSite(nrf.ID) {
			t.Errorf("old user lost every-site access: %v", u.SiteIDs)
		}

		// The API: all_sites in and out; [] alone is refused.
		tok, err := auth.CreateAPIToken(t.Context(), db.SQL, admin.ID, "t")
		if err != nil {
			t.Fatal(err)
		}
		r = bearer(t, site.URL, "POST", "/api/v1/users", tok, strings.NewReader(`{"email":"api@example.com","name":"Api","password":"long enough pw","roles":["auditor"],"all_sites":true}`))
		if r.StatusCode != http.StatusCreated || !strings.Contains(r.Body, `"all_sites":true`) {
			t.Fatalf("API create with all_sites: %d %s", r.StatusCode, r.Body)
		}
		path := "/api/v1/users/" + itoa(old.ID)
		if r := bearer(t, site.URL, "PATCH", path, tok, strings.NewReader(`{"site_ids":[]}`)); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `"field":"site_ids"`) {
			t.Errorf("PATCH site_ids [] alone: %d %s", r.StatusCode, r.Body)
		}
		if r := bearer(t, site.URL, "PATCH", path, tok, strings.NewReader(`{"site_ids":[`+itoa(nrf.ID)+`]}`)); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `"all_sites":false`) {
			t.Errorf("PATCH to one site: %d %s", r.StatusCode, r.Body)
		}
		if r := bearer(t, site.URL, "PATCH", path, tok, strings.NewReader(`{"all_sites":true}`)); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `"all_sites":true`) {
			t.Errorf("PATCH back to all sites: %d %s", r.StatusCode, r.Body)
		}
	})
}

// An empty new-user form names every missing field at once, not only the
// password; the edit form likewise names the name beside the sites.
func TestNewUserFormShowsEveryError(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	admin := site.user("adam@example.com", auth.RoleAdmin)
	b := site.browser()
	b.login(admin.Email)
	csrf := b.csrf()
	r := b.post("/admin/users", url.Values{"csrf_token": {csrf}})
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty form: %d", r.StatusCode)
	}
	for _, want := range []string{`id="email-error">Email is required`, `id="name-error">Name is required`, `id="password-error"`,
		"Roles: choose at least one role", "Sites: tick"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("empty form: missing %q", want)
		}
	}
	r = b.post("/admin/users/"+itoa(admin.ID), url.Values{"csrf_token": {csrf}, "roles": {"admin"}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="name-error"`) || !strings.Contains(r.Body, "Sites: tick") {
		t.Errorf("edit without name and sites: %d", r.StatusCode)
	}
}
