package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Through the API: an admin saves a site's matrix (a new version), a
// change is assessed on it, the initiator answers the questionnaire and
// only a coordinator's signed confirmation lets the review start.
func TestAPIRiskAssessmentAndScreeningConfirmation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, c := newChangeAPI(t, db)
		site := fmt.Sprintf("/api/v1/sites/%d", f.NRF)
		m := c.call("initiator", "GET", site+"/risk-matrix", nil, 200)
		if num(m["version"]) != 1 || len(m["cells"].([]any)) != 5 {
			t.Fatalf("default matrix: %v", m)
		}
		def := change.DefaultRiskMatrix()
		def.Stages = []change.ApprovalStageDef{{Name: "Plant manager", ApproverIDs: []int64{f.Approver2.ID}}}
		def.Levels[3].RequiredStages = []string{"Plant manager"}
		c.call("coordinator", "PUT", site+"/risk-matrix", def, 403)
		if v := c.call("admin", "PUT", site+"/risk-matrix", def, 200); num(v["version"]) != 2 {
			t.Fatalf("saved matrix: %v", v)
		}
		c.call("auditor", "GET", site+"/risk-matrix?version=1", nil, 200)
		c.call("auditor", "GET", site+"/risk-matrix?version=x", nil, 422)

		body := newChangeBody("MOC", f.NRF, f.CDU)
		delete(body, "risk_ranking")
		body["risk_assessment"] = map[string]any{"categories": map[string]any{
			"environment": map[string]any{"before": map[string]int{"severity": 5, "likelihood": 4}, "after": map[string]int{"severity": 5, "likelihood": 5}}},
			"mitigations": "Bunded area"}
		ch := c.call("initiator", "POST", "/api/v1/changes", body, 201)["change"].(map[string]any)
		if ch["risk_ranking"] != "very_high" || ch["risk_assessment"].(map[string]any)["matrix_version"].(float64) != 2 {
			t.Fatalf("assessed change: %v", ch)
		}
		base := fmt.Sprintf("/api/v1/changes/%d", num(ch["id"]))
		c.call("initiator", "PATCH", base, map[string]any{"risk_ranking": "low"}, 422)

		q := c.call("initiator", "GET", site+"/screening-questionnaire", nil, 200)["questions"].([]any)
		answers := map[string]string{}
		for _, qu := range q {
			answers[qu.(map[string]any)["key"].(string)] = "no"
		}
		answers["mechanical"] = "yes"
		c.call("initiator", "POST", base+"/submit", map[string]any{"screening": map[string]any{"answers": map[string]string{"mechanical": "yes"}}}, 422)
		c.call("initiator", "POST", base+"/submit", map[string]any{"screening": map[string]any{"answers": answers}}, 200)
		c.call("coordinator", "POST", base+"/reviewers", map[string]any{"discipline": "mechanical", "reviewer_id": f.Reviewer.ID}, 200)
		c.call("coordinator", "PUT", base+"/approvers", map[string]any{"stages": [][]int64{{f.Approver.ID}, {f.Approver2.ID}}}, 200)
		e := c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "start_review"}, 409)
		if !strings.Contains(e["error"].(string), "not confirmed") {
			t.Errorf("start review before confirmation: %v", e)
		}
		over := map[string]any{"overrides": []map[string]string{{"question": "civil", "answer": "yes"}}, "password": changetest.Password}
		if e := c.call("coordinator", "POST", base+"/screening-confirmation", over, 422); e["field"] != "overrides[0].reason" {
			t.Errorf("override without reason: %v", e)
		}
		c.call("initiator", "POST", base+"/screening-confirmation", map[string]any{"password": changetest.Password}, 403)
		over["overrides"] = []map[string]string{{"question": "civil", "answer": "yes", "reason": "new plinth"}}
		got := c.call("coordinator", "POST", base+"/screening-confirmation", over, 200)
		if sc := got["screening"].(map[string]any); sc["confirmed_by_name"] != "Cora" || len(sc["overrides"].([]any)) != 1 {
			t.Fatalf("confirmed screening: %v", sc)
		}
		c.call("coordinator", "POST", base+"/reviewers", map[string]any{"discipline": "civil", "reviewer_id": f.Reviewer2.ID}, 200)
		if st := c.call("coordinator", "POST", base+"/transitions", map[string]any{"action": "start_review"}, 200); st["stage"] != "review" {
			t.Fatalf("after confirmation: %v", st)
		}
	})
}

// A change an API client screened on the checkboxes waits for the same
// signed confirmation, and the change page offers it, saying so.
func TestChangePageConfirmsACheckboxScreening(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		svc := f.site.web.Changes
		ctx := t.Context()
		c, err := svc.Create(ctx, f.ini, completeFields(change.KindMOC, "Screened through the API", f.draft.SiteID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(ctx, f.ini, c.ID, change.Screening{Disciplines: []string{"mechanical"}}); err != nil {
			t.Fatal(err)
		}
		path := "/changes/" + c.Number
		page := f.coord2.get(path).Body
		if !strings.Contains(page, `id="f-confirm-screening"`) || !strings.Contains(page, "screened this change on the checkboxes") ||
			!strings.Contains(page, "Waiting for an MOC coordinator to confirm the screening") {
			t.Fatalf("the change page does not offer the confirmation of a checkbox screening:\n%s", excerpt(page))
		}
		if page := f.ini2.get(path).Body; strings.Contains(page, `id="f-confirm-screening"`) {
			t.Error("the initiator is offered the confirmation of their own screening")
		}
		r := f.coord2.post(path+"/screening-confirmation", url.Values{"csrf_token": {f.coord2.csrf()}, "reauth_password": {testPassword}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		if page := f.coord2.get(path).Body; !strings.Contains(page, "Confirmed by <strong>User coord@example.com</strong>") ||
			strings.Contains(page, `id="f-confirm-screening"`) {
			t.Errorf("after the confirmation the page does not say who confirmed:\n%s", excerpt(page))
		}
	})
}
