package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
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

// A user row without site rows works on every site, so creating a user
// with a site that does not exist must fail as a whole, with the field
// named, and leave no user behind: on the page, in the API and in between.
func TestCreateUserWithUnknownSiteLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		admin := site.user("adam@example.com", auth.RoleAdmin)
		b := site.browser()
		b.login("adam@example.com")
		r := b.post("/admin/users", url.Values{"csrf_token": {b.csrf()}, "email": {"new@example.com"}, "name": {"New Person"},
			"password": {"long enough password"}, "roles": {"approver"}, "sites": {"99999"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `class="field has-error" id="sites"`) || !strings.Contains(r.Body, "99999 does not exist") {
			t.Fatalf("page with an unknown site: %d\n%s", r.StatusCode, r.Body)
		}
		if _, err := auth.UserByEmail(t.Context(), db.SQL, "new@example.com"); err == nil {
			t.Fatal("the page left a user (with access to every site) behind")
		}
		tok, err := auth.CreateAPIToken(t.Context(), db.SQL, admin.ID, "t")
		if err != nil {
			t.Fatal(err)
		}
		api := bearer(t, site.URL, "POST", "/api/v1/users", tok, strings.NewReader(
			`{"email":"api@example.com","name":"Api","password":"long enough pw","roles":["approver"],"site_ids":[99999]}`))
		if api.StatusCode/100 != 4 || !strings.Contains(api.Body, `"field":"site_ids"`) {
			t.Fatalf("API with an unknown site: %d %s", api.StatusCode, api.Body)
		}
		if _, err := auth.UserByEmail(t.Context(), db.SQL, "api@example.com"); err == nil {
			t.Fatal("the API left a user behind")
		}
		if _, err := auth.CreateUser(t.Context(), db.SQL, auth.NewUser{Email: "direct@example.com", Name: "D", SiteIDs: []int64{99999}}); err == nil {
			t.Fatal("auth.CreateUser accepted an unknown site")
		}
		if _, err := auth.UserByEmail(t.Context(), db.SQL, "direct@example.com"); err == nil {
			t.Fatal("auth.CreateUser left a user behind")
		}
	})
}

// Editing a user follows the create rule (at least one role), on the
// page and in the API; empty site and unit forms name every field at
// once, in form order, with 400 like the other admin forms; messages use
// the form's words and good grammar.
func TestAdminFormsRulesAndWords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site := newSite(t, db, nil)
		svc := site.web.Changes
		admin := site.user("admin@example.com", auth.RoleAdmin, auth.RoleInitiator)
		rev := site.user("rev@example.com", auth.RoleReviewer)
		b := site.browser()
		b.login(admin.Email)
		tok := b.csrf()

		r := b.post("/admin/users/"+itoa(rev.ID), url.Values{"csrf_token": {tok}, "name": {"Rev"}, "all_sites": {"on"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "Roles: choose at least one role") {
			t.Errorf("edit with no roles: %d, want 400 and the create form's message", r.StatusCode)
		}
		if u, err := auth.UserByID(ctx, db.SQL, rev.ID); err != nil || len(u.Roles) != 1 {
			t.Errorf("roles after refused edit: %v %v", u.Roles, err)
		}
		adminTok, err := auth.CreateAPIToken(ctx, db.SQL, admin.ID, "t")
		if err != nil {
			t.Fatal(err)
		}
		if r := bearer(t, site.URL, "PATCH", "/api/v1/users/"+itoa(rev.ID), adminTok, strings.NewReader(`{"roles":[]}`)); r.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(r.Body, "choose at least one role") {
			t.Errorf("API edit with no roles: %d %s", r.StatusCode, r.Body)
		}

		r = b.post("/admin/sites", url.Values{"csrf_token": {tok}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="code-error"`) || !strings.Contains(r.Body, `id="name-error"`) {
			t.Errorf("empty site form: %d, want 400 with code and name errors\n%s", r.StatusCode, r.Body)
		}
		r = b.post("/admin/units", url.Values{"csrf_token": {tok}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="site_id-error"`) || !strings.Contains(r.Body, `id="code-error"`) ||
			!strings.Contains(r.Body, `id="name-error"`) {
			t.Errorf("empty unit form: %d, want 400 with site, code and name errors\n%s", r.StatusCode, r.Body)
		}
		sum := r.Body[strings.Index(r.Body, "error-summary"):]
		if s, c := strings.Index(sum, "Site is required"), strings.Index(sum, "Code is required"); s < 0 || c < s {
			t.Errorf("unit summary should start with Site, then Code:\n%s", sum)
		}

		scp := must2(auth.CreateSite(ctx, db.SQL, "SCP", "South"))(t)
		tf := must2(svc.CreateUnit(ctx, admin, scp.ID, "TF", "Tank farm"))(t)
		must2(svc.Create(ctx, admin, change.Fields{Kind: ptr(change.KindMOC), Duration: ptr(change.DurationPermanent),
			Title: ptr("Tank swap"), SiteID: ptr(scp.ID), UnitID: ptr(tf.ID)}))(t)
		p := b.get("/admin/units/" + itoa(tf.ID))
		if !strings.Contains(p.Body, "1 change is filed against this unit and shows its code") {
			t.Errorf("edit page wording:\n%s", p.Body)
		}
		r = b.post("/admin/units/"+itoa(tf.ID), url.Values{"csrf_token": {tok}, "code": {"TF-2"}, "name": {"Tank farm"}})
		if !strings.Contains(r.Body, "1 change is filed against unit TF and shows its code") || strings.Contains(r.Body, "1 changes") {
			t.Errorf("code change refusal wording:\n%s", r.Body)
		}
		r = b.post("/admin/sites/"+itoa(scp.ID), url.Values{"csrf_token": {tok}, "code": {""}, "name": {""}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="code-error">Code is required`) || !strings.Contains(r.Body, `id="name-error">Name is required`) {
			t.Errorf("empty site edit: %d, want both fields named\n%s", r.StatusCode, r.Body)
		}
		if _, err := db.SQL.Exec(`UPDATE sites SET retired_at = $1 WHERE id = $2`, site.clock.Now(), scp.ID); err != nil {
			t.Fatal(err)
		}
		r = b.post("/admin/units", url.Values{"csrf_token": {tok}, "site_id": {itoa(scp.ID)}, "code": {"NEW"}, "name": {"New"}})
		if !strings.Contains(r.Body, `id="site_id-error">Site: site SCP is retired`) || strings.Contains(r.Body, "Site id") {
			t.Errorf("retired site message should say Site:\n%s", r.Body)
		}
	})
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
