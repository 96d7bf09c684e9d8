package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The actions the workflow makes itself (PSI and procedure updates, PSSR
// deficiencies) and actions added without a date are due after the site's
// default number of days, which an admin sets through the API or the
// settings page.
func TestActionsWithoutADateAreDueAfterTheSiteDefault(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		_, adminTok := f.site.apiUser("adm@example.com", auth.RoleAdmin)
		settings := "/api/v1/sites/" + strconv.FormatInt(f.pssr.SiteID, 10) + "/settings"
		if r := bearer(t, f.site.URL, "GET", settings, adminTok, nil); !strings.Contains(r.Body, `"action_due_days":14`) {
			t.Errorf("default setting: %s", r.Body)
		}
		if r := bearer(t, f.site.URL, "PATCH", settings, adminTok, strings.NewReader(`{"action_due_days":0}`)); r.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(r.Body, "action_due_days") {
			t.Errorf("zero days: %d %s", r.StatusCode, r.Body)
		}
		if r := bearer(t, f.site.URL, "PATCH", settings, adminTok, strings.NewReader(`{"action_due_days":5}`)); r.StatusCode != http.StatusOK {
			t.Fatalf("set 5 days: %d %s", r.StatusCode, r.Body)
		}
		want := f.site.clock.Now().AddDate(0, 0, 5).Format(time.DateOnly)

		c, err := svc.Create(ctx, f.ini, completeFields(change.KindMOC, "New relief valve", f.pssr.SiteID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(ctx, f.ini, c.ID, change.Screening{PSIChanges: true, ProceduresChange: true, Disciplines: []string{"mechanical"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AnswerPSSR(ctx, f.coord, f.pssrItem, "no", "Guard missing on P-1", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddAction(ctx, f.ini, f.pssr.ID, change.NewAction{Title: "Undated", OwnerID: f.ini.ID, BeforeStartup: true}); err != nil {
			t.Fatal(err)
		}
		kinds := map[change.ActionKind]bool{}
		for _, id := range []int64{c.ID, f.pssr.ID} {
			d, err := svc.Get(ctx, f.coord, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range d.Actions {
				kinds[a.Kind] = true
				if a.DueOn == nil || a.DueOn.Format(time.DateOnly) != want {
					t.Errorf("%s action %q due %v, want %s", a.Kind, a.Title, a.DueOn, want)
				}
			}
		}
		for _, k := range []change.ActionKind{change.ActionPSI, change.ActionProcedure, change.ActionDeficiency, change.ActionGeneral} {
			if !kinds[k] {
				t.Errorf("no %s action was made", k)
			}
		}

		// The settings page carries the field, and names it when it is wrong.
		admin := f.site.user("adm2@example.com", auth.RoleAdmin)
		b := f.site.browser()
		b.login(admin.Email)
		page := "/admin/sites/" + strconv.FormatInt(f.pssr.SiteID, 10) + "/settings"
		if p := b.get(page); !strings.Contains(p.Body, `name="action_due_days"`) || !strings.Contains(p.Body, `value="5"`) {
			t.Errorf("settings page lacks the action due days field\n%s", excerpt(p.Body))
		}
		r := b.post(page, url.Values{"csrf_token": {b.csrf()}, "time_zone": {"UTC"}, "max_extensions": {"2"}, "max_temporary_days": {"365"}, "emergency_review_days": {"1"}, "action_due_days": {"400"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "between 1 and 365") {
			t.Errorf("400 days on the page: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
	})
}
