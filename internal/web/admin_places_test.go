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

// Admins rename and retire sites and units. A retired unit or site is
// not offered for new changes and refused by the API, while changes
// already filed against it keep it; a code that changes show is fixed.
func TestEditAndRetireSitesAndUnits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site := newSite(t, db, nil)
		svc := site.web.Changes
		svc.Now = site.clock.Now
		admin := site.user("admin@example.com", auth.RoleAdmin)
		ini := site.user("ini@example.com", auth.RoleInitiator)
		adminTok, err := auth.CreateAPIToken(ctx, db.SQL, admin.ID, "t")
		if err != nil {
			t.Fatal(err)
		}
		iniTok, err := auth.CreateAPIToken(ctx, db.SQL, ini.ID, "t")
		if err != nil {
			t.Fatal(err)
		}
		nrf, err := auth.CreateSite(ctx, db.SQL, "NRF", "North Refinery")
		if err != nil {
			t.Fatal(err)
		}
		old := must2(svc.CreateUnit(ctx, admin, nrf.ID, "CDU-1", "Crude 1"))(t)
		spare := must2(svc.CreateUnit(ctx, admin, nrf.ID, "SPARE", "Spare"))(t)
		filed := must2(svc.Create(ctx, ini, change.Fields{Kind: ptr(change.KindMOC), Duration: ptr(change.DurationPermanent),
			Title: ptr("Pump swap"), SiteID: ptr(nrf.ID), UnitID: ptr(old.ID)}))(t)

		b := site.browser()
		b.login(admin.Email)
		tok := b.csrf()
		// Code of a unit with changes: refused beside the field, input kept.
		r := b.post("/admin/units/"+itoa(old.ID), url.Values{"csrf_token": {tok}, "code": {"CDU-9"}, "name": {"Crude one"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `id="code-error"`) || !strings.Contains(r.Body, `value="CDU-9"`) {
			t.Fatalf("code change of a used unit: %d\n%s", r.StatusCode, r.Body)
		}
		// Rename and retire.
		r = b.post("/admin/units/"+itoa(old.ID), url.Values{"csrf_token": {tok}, "code": {"CDU-1"}, "name": {"Crude one"}, "retired": {"on"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("rename and retire: %d\n%s", r.StatusCode, r.Body)
		}
		var name string
		var retired bool
		if err := db.SQL.QueryRow(`SELECT name, retired_at IS NOT NULL FROM units WHERE id = $1`, old.ID).Scan(&name, &retired); err != nil || name != "Crude one" || !retired {
			t.Fatalf("unit after save: %q retired=%v %v", name, retired, err)
		}
		// An unused unit's code may change.
		if r := b.post("/admin/units/"+itoa(spare.ID), url.Values{"csrf_token": {tok}, "code": {"SPARE-2"}, "name": {"Spare"}}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("code change of an unused unit: %d", r.StatusCode)
		}
		if p := b.get("/admin/units"); !strings.Contains(p.Body, ">retired<") || !strings.Contains(p.Body, "SPARE-2") {
			t.Errorf("units page does not show the retired unit and the new code")
		}

		// The new-change form no longer offers it; the API refuses it.
		ib := site.browser()
		ib.login(ini.Email)
		form := ib.get("/changes/new")
		if strings.Contains(form.Body, `<option value="`+itoa(old.ID)+`" data-site`) || !strings.Contains(form.Body, `<option value="`+itoa(spare.ID)+`" data-site`) {
			t.Errorf("new-change form should offer SPARE-2 but not the retired CDU-1")
		}
		r = bearer(t, site.URL, "POST", "/api/v1/changes", iniTok, strings.NewReader(
			`{"kind":"MOC","duration":"permanent","title":"x","site_id":`+itoa(nrf.ID)+`,"unit_id":`+itoa(old.ID)+`}`))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `"field":"unit_id"`) {
			t.Errorf("new change on a retired unit: %d %s", r.StatusCode, r.Body)
		}
		// The old change keeps its unit, through an edit too.
		if p := ib.get("/changes/" + filed.Number); !strings.Contains(p.Body, "NRF · CDU-1") {
			t.Errorf("old change lost its retired unit")
		}
		if _, err := svc.Update(ctx, ini, filed.ID, change.Fields{Title: ptr("Pump swap, edited")}); err != nil {
			t.Errorf("editing a change on a retired unit: %v", err)
		}
		if p := ib.get("/changes/" + filed.Number + "/edit"); !strings.Contains(p.Body, `<option value="`+itoa(old.ID)+`" data-site`) {
			t.Errorf("edit form of the old change does not show its retired unit")
		}

		// Sites through the API: the code is fixed once used, retire works.
		r = bearer(t, site.URL, "PATCH", "/api/v1/sites/"+itoa(nrf.ID), adminTok, strings.NewReader(`{"code":"NRX"}`))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `"field":"code"`) {
			t.Errorf("site code change with changes: %d %s", r.StatusCode, r.Body)
		}
		r = bearer(t, site.URL, "PATCH", "/api/v1/sites/"+itoa(nrf.ID), adminTok, strings.NewReader(`{"name":"North Works","retired":true}`))
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `"retired_at"`) || !strings.Contains(r.Body, "North Works") {
			t.Fatalf("retire site: %d %s", r.StatusCode, r.Body)
		}
		if r := bearer(t, site.URL, "PATCH", "/api/v1/sites/"+itoa(nrf.ID), iniTok, strings.NewReader(`{"retired":false}`)); r.StatusCode != http.StatusForbidden {
			t.Errorf("initiator editing a site: %d", r.StatusCode)
		}
		if p := ib.get("/changes/new"); strings.Contains(p.Body, `value="`+itoa(nrf.ID)+`"`) && strings.Contains(p.Body, "North Works") {
			t.Errorf("new-change form still offers the retired site")
		}
		r = bearer(t, site.URL, "POST", "/api/v1/changes", iniTok, strings.NewReader(`{"kind":"MOC","duration":"permanent","title":"x","site_id":`+itoa(nrf.ID)+`}`))
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `"field":"site_id"`) {
			t.Errorf("new change on a retired site: %d %s", r.StatusCode, r.Body)
		}
		r = bearer(t, site.URL, "PATCH", "/api/v1/units/"+itoa(spare.ID), adminTok, strings.NewReader(`{"retired":true}`))
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `"retired_at"`) {
			t.Errorf("retire unit by API: %d %s", r.StatusCode, r.Body)
		}
		// Admin page for the site.
		if p := b.get("/admin/sites/" + itoa(nrf.ID)); !strings.Contains(p.Body, "cannot change") || !strings.Contains(p.Body, `name="retired" checked`) {
			t.Errorf("site edit page:\n%s", p.Body)
		}
	})
}

func must2[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// Retiring a site retires its units for new changes: the change form no
// longer offers them and the units page marks them; the site form's hint
// does not claim the code is in change numbers.
func TestRetiredSiteTakesItsUnitsOutOfUse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site := newSite(t, db, nil)
		svc := site.web.Changes
		admin := site.user("admin@example.com", auth.RoleAdmin, auth.RoleInitiator)
		nrf := must2(auth.CreateSite(ctx, db.SQL, "NRF", "North Refinery"))(t)
		scp := must2(auth.CreateSite(ctx, db.SQL, "SCP", "South Chemical Plant"))(t)
		must2(svc.CreateUnit(ctx, admin, nrf.ID, "CDU-1", "Crude 1"))(t)
		must2(svc.CreateUnit(ctx, admin, scp.ID, "AMM-2", "Ammonia 2"))(t)
		must2(svc.CreateUnit(ctx, admin, scp.ID, "UTIL", "Utilities"))(t)

		b := site.browser()
		b.login(admin.Email)
		if p := b.get("/admin/sites"); strings.Contains(p.Body, "change numbers, e.g.") {
			t.Errorf("site code hint still claims change numbers show it")
		}
		if p := b.get("/changes/new"); !strings.Contains(p.Body, "AMM-2") {
			t.Fatalf("before retiring, SCP's units should be offered:\n%s", p.Body)
		}
		r := b.post("/admin/sites/"+itoa(scp.ID), url.Values{"csrf_token": {b.csrf()}, "code": {"SCP"}, "name": {"South Chemical Plant"}, "retired": {"on"}})
		if r.StatusCode >= 400 {
			t.Fatalf("retire site: %d\n%s", r.StatusCode, r.Body)
		}
		p := b.get("/changes/new")
		if strings.Contains(p.Body, "AMM-2") || strings.Contains(p.Body, "UTIL") || !strings.Contains(p.Body, "CDU-1") {
			t.Errorf("change form still offers the retired site's units:\n%s", p.Body)
		}
		p = b.get("/admin/units")
		scpPart := p.Body[strings.Index(p.Body, `id="site-`+itoa(scp.ID)+`"`):]
		scpPart = scpPart[:strings.Index(scpPart, "</section>")]
		if !strings.Contains(scpPart, "site retired") || strings.Count(scpPart, "retired with its site") != 2 || strings.Contains(scpPart, "in use") {
			t.Errorf("units of a retired site not marked:\n%s", scpPart)
		}
	})
}
