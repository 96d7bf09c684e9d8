package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Through the API: an emergency change is implemented first only after
// someone other than the initiator signs its emergency authorisation; a
// missed review deadline shows on the dashboard.
func TestAPIEmergencyImplementedFirstAfterSignedAuthorisation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		body := newChangeBody("MOC", f.NRF, f.CDU)
		body["duration"] = "emergency"
		body["expires_on"] = f.Clock.Now().AddDate(0, 0, 20).Format(time.DateOnly)
		id := num(c.call("initiator", "POST", "/api/v1/changes", body, 201)["change"].(map[string]any)["id"])
		base := fmt.Sprintf("/api/v1/changes/%d", id)
		c.call("initiator", "POST", base+"/submit", map[string]any{"screening": map[string]any{"disciplines": []string{"mechanical"}}}, 200)
		impl := map[string]any{"action": "complete_implementation"}
		c.call("initiator", "POST", base+"/transitions", impl, 409)
		authorise := map[string]any{"action": "authorize_emergency", "password": changetest.Password}
		c.call("initiator", "POST", base+"/transitions", authorise, 403)
		c.call("approver", "POST", base+"/transitions", map[string]any{"action": "authorize_emergency"}, 403)
		work := c.call("approver", "GET", "/api/v1/my-work", nil, 200)["to_confirm"].([]any)
		if len(work) != 1 || work[0].(map[string]any)["what"] != "authorise emergency implementation" {
			t.Errorf("approver's to_confirm %v", work)
		}
		got := c.call("approver", "POST", base+"/transitions", authorise, 200)
		// Wednesday 1 April 2026: due Thursday.
		if got["emergency_authorized_at"] == nil || got["review_deadline"] != "2026-04-02T00:00:00Z" || got["stage"] != "screening" {
			t.Fatalf("after authorisation: %v", got)
		}
		got = c.call("initiator", "POST", base+"/transitions", impl, 200)
		if got["stage"] != "screening" || got["emergency_stage"] != "in_service" {
			t.Errorf("implemented before full review: %v", got)
		}
		f.Clock.Advance(72 * time.Hour)
		dash := c.call("coordinator", "GET", "/api/v1/change-dashboard", nil, 200)
		if !strings.Contains(fmt.Sprint(dash), "emergency_review_overdue:["+got["number"].(string)+"]") {
			t.Errorf("dashboard does not flag the missed review: %v", dash)
		}
	})
}

// On the pages: the banner says the change waits for its authorisation,
// the approver reads the meaning and signs, the banner then says it is
// under way before full review, and the print view keeps the signature.
func TestPagesEmergencyAuthorisation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		svc := f.site.web.Changes
		fields := completeFields(change.KindMOC, "Clamp on leaking flange", f.draft.SiteID)
		exp := f.site.clock.Now().AddDate(0, 0, 10)
		fields.Duration, fields.ExpiresOn = ptr(change.DurationEmergency), ptr(&exp)
		ch, err := svc.Create(t.Context(), f.ini, fields)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(t.Context(), f.ini, ch.ID, change.Screening{Disciplines: []string{"mechanical"}}); err != nil {
			t.Fatal(err)
		}
		path := "/changes/" + ch.Number
		if page := f.ini2.get(path).Body; !strings.Contains(page, "<strong>Emergency change.</strong>") || strings.Contains(page, `id="f-t-authorize_emergency"`) {
			t.Errorf("initiator's page: want the waiting banner and no authorisation form\n%s", excerpt(page))
		}
		page := f.ap2.get(path).Body
		form := page[strings.Index(page, `id="f-t-authorize_emergency"`):]
		form = form[:strings.Index(form, "</form>")]
		if !strings.Contains(form, "By signing I authorise "+ch.Number+" for implementation before full review") {
			t.Errorf("authorisation form does not state the meaning:\n%s", form)
		}
		r := f.ap2.post(path+"/transition", url.Values{"csrf_token": {f.ap2.csrf()}, "action": {"authorize_emergency"}, "reauth_password": {testPassword}})
		if r.StatusCode != 303 {
			t.Fatalf("authorise: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		if page := f.ini2.get(path).Body; !strings.Contains(page, "Emergency change under way before full review.") || !strings.Contains(page, `id="f-t-complete_implementation"`) {
			t.Errorf("after authorisation the initiator's page lacks the banner or the implementation form\n%s", excerpt(page))
		}
		if pr := f.coord2.get(path + "/print").Body; !strings.Contains(pr, `<tr class="sig-emergency_authorisation">`) {
			t.Errorf("print view lacks the emergency authorisation signature\n%s", excerpt(pr))
		}
	})
}
