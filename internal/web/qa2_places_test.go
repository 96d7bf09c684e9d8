package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

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
