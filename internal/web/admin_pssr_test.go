package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func TestAdminPSSRTemplatesRemindersAndUnits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := newWorkSite(t, db)
		f := s.f
		ctx := context.Background()
		admin := s.as(f.Admin)
		tok := admin.csrf()

		// Non-admins are refused.
		for _, p := range []string{"/admin/pssr-templates", "/admin/reminders", "/admin/units"} {
			if r := s.as(f.Coordinator).get(p); r.StatusCode != http.StatusForbidden {
				t.Errorf("coordinator %s: %d, want 403", p, r.StatusCode)
			}
		}

		// PSSR template: bad input is shown beside the fields.
		r := admin.post("/admin/pssr-templates", url.Values{"csrf_token": {tok}, "name": {" "}, "rows": {"3"}, "item_0_text": {"Valves lined up"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `<p class="field-error" id="name-error">Name is required.</p>`) {
			t.Errorf("template without a name: %d\n%s", r.StatusCode, r.Body)
		}
		if !strings.Contains(r.Body, `value="Valves lined up"`) {
			t.Error("the typed item was lost on the error page")
		}
		r = admin.post("/admin/pssr-templates", url.Values{"csrf_token": {tok}, "name": {"Electrical PSSR"}, "rows": {"3"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="items-error">Add at least one checklist item.`) {
			t.Errorf("template without items: %d", r.StatusCode)
		}
		// "Add more rows" re-renders without saving.
		r = admin.post("/admin/pssr-templates", url.Values{"csrf_token": {tok}, "name": {"Electrical PSSR"}, "rows": {"1"}, "item_0_text": {"A"}, "more": {"1"}})
		if r.StatusCode != http.StatusOK || strings.Count(r.Body, `class="item-row"`) != 1+5+3 {
			t.Errorf("add rows: %d, %d rows", r.StatusCode, strings.Count(r.Body, `class="item-row"`))
		}
		// Good input saves; blank rows are dropped.
		r = admin.post("/admin/pssr-templates", url.Values{"csrf_token": {tok}, "name": {"Electrical PSSR"}, "rows": {"4"},
			"item_0_text": {"Breakers labelled"}, "item_1_text": {""}, "item_2_text": {"Loop checks done"}, "item_2_evidence": {"1"}, "item_2_section": {" Field checks "}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/pssr-templates?saved=1" {
			t.Fatalf("save template: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		ts, err := f.Service.PSSRTemplates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var saved *change.PSSRTemplate
		for i := range ts {
			if ts[i].Name == "Electrical PSSR" {
				saved = &ts[i]
			}
		}
		want := []change.PSSRTemplateItem{{Text: "Breakers labelled"}, {Text: "Loop checks done", EvidenceRequired: true, Section: "Field checks"}}
		if saved == nil || !slices.Equal(saved.Items, want) {
			t.Fatalf("saved template: %+v", saved)
		}
		list := admin.get("/admin/pssr-templates?saved=1")
		if !strings.Contains(list.Body, "Template saved.") || !strings.Contains(list.Body, fmt.Sprintf(`href="/admin/pssr-templates/%d">Electrical PSSR</a>`, saved.ID)) {
			t.Error("template list lacks the saved template")
		}
		// Edit: the form shows the items; saving replaces them.
		edit := admin.get(fmt.Sprintf("/admin/pssr-templates/%d", saved.ID))
		if !strings.Contains(edit.Body, `value="Loop checks done"`) || !strings.Contains(edit.Body, `name="item_1_evidence" value="1" checked`) ||
			!strings.Contains(edit.Body, `name="item_1_section" type="text" value="Field checks"`) {
			t.Error("edit form does not show the items")
		}
		r = admin.post(fmt.Sprintf("/admin/pssr-templates/%d", saved.ID), url.Values{"csrf_token": {tok}, "name": {"Electrical PSSR v2"}, "is_default": {"1"},
			"rows": {"2"}, "item_0_text": {"Breakers labelled"}, "item_1_text": {"Arc-flash labels posted"}, "item_1_evidence": {"1"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit template: %d", r.StatusCode)
		}
		got, err := f.Service.PSSRTemplate(ctx, saved.ID)
		if err != nil || got.Name != "Electrical PSSR v2" || !got.IsDefault || len(got.Items) != 2 || got.Items[1].Text != "Arc-flash labels posted" {
			t.Errorf("edited template: %+v %v", got, err)
		}
		if r := admin.get("/admin/pssr-templates/999999"); r.StatusCode != http.StatusNotFound {
			t.Errorf("missing template: %d", r.StatusCode)
		}

		// Reminders: non-numbers and out-of-range values beside the fields.
		good := url.Values{"csrf_token": {tok}, "pending_after_days": {"4"}, "escalate_after_days": {"6"}, "action_due_soon_days": {"2"},
			"expiry_warning_days": {"30, 7"}, "run_hour": {"5"}}
		bad := func(k, v string) url.Values {
			out := url.Values{}
			for kk, vv := range good {
				out[kk] = vv
			}
			out.Set(k, v)
			return out
		}
		for _, c := range []struct{ field, value, msg string }{
			{"pending_after_days", "soon", "Remind after must be a whole number."},
			{"pending_after_days", "0", "Pending after days must be between 1 and 90."},
			{"run_hour", "24", "Run hour must be an hour between 0 and 23 (in each site&#39;s time zone)."},
			{"expiry_warning_days", "30, x", `Expiry warnings must be whole numbers`},
			{"expiry_warning_days", "400", "Expiry warning days each must be between 1 and 365 days, got 400."},
		} {
			r := admin.post("/admin/reminders", bad(c.field, c.value))
			errHTML := fmt.Sprintf(`<p class="field-error" id="%s-error">`, c.field)
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, errHTML+c.msg) &&
				!strings.Contains(r.Body, errHTML+strings.ReplaceAll(c.msg, `"`, "&#34;")) {
				t.Errorf("reminders %s=%q: %d, want %q beside the field", c.field, c.value, r.StatusCode, c.msg)
			}
			if !strings.Contains(r.Body, fmt.Sprintf(`value="%s"`, c.value)) {
				t.Errorf("reminders %s=%q: the typed value is not shown back", c.field, c.value)
			}
		}
		if r := admin.post("/admin/reminders", good); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save reminders: %d", r.StatusCode)
		}
		rs, err := f.Service.ReminderSettings(ctx)
		if err != nil || rs.PendingAfterDays != 4 || rs.EscalateAfterDays != 6 || rs.ActionDueSoonDays != 2 || rs.RunHour != 5 || !slices.Equal(rs.ExpiryWarningDays, []int{30, 7}) {
			t.Errorf("saved settings: %+v %v", rs, err)
		}
		if page := admin.get("/admin/reminders?saved=1"); !strings.Contains(page.Body, `value="30, 7"`) || !strings.Contains(page.Body, "Reminder settings saved.") {
			t.Error("reminder page does not show the saved values")
		}

		// Units: site missing, code taken, then a good one.
		nrf := fmt.Sprint(f.NRF)
		if r := admin.post("/admin/units", url.Values{"csrf_token": {tok}, "code": {"ALK"}, "name": {"Alkylation"}}); r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(r.Body, `id="site_id-error">Site is required`) {
			t.Errorf("unit without a site: %d", r.StatusCode)
		}
		if r := admin.post("/admin/units", url.Values{"csrf_token": {tok}, "site_id": {nrf}, "code": {"cdu-1"}, "name": {"Again"}}); r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(r.Body, `id="code-error">Code: site NRF already has a unit CDU-1`) {
			t.Errorf("duplicate unit: %d", r.StatusCode)
		}
		if r := admin.post("/admin/units", url.Values{"csrf_token": {tok}, "site_id": {nrf}, "code": {"ALK"}, "name": {""}}); r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(r.Body, `id="name-error">Name is required.`) {
			t.Errorf("unit without a name: %d", r.StatusCode)
		}
		r = admin.post("/admin/units", url.Values{"csrf_token": {tok}, "site_id": {nrf}, "code": {"alk"}, "name": {"Alkylation"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("add unit: %d", r.StatusCode)
		}
		page := admin.get(r.Header.Get("Location"))
		if !strings.Contains(page.Body, "Unit NRF ALK added.") || !strings.Contains(page.Body, "<td><strong>ALK</strong></td><td>Alkylation</td>") {
			t.Error("units page lacks the new unit")
		}
	})
}
