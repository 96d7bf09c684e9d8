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
