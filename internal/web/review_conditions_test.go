package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A reviewer decides "reviewed — with conditions" through the API: each
// condition is an action linked to the review, the review still counts
// as done, a bad condition is named by its place, and a before-startup
// condition blocks startup until it is done.
func TestReviewWithConditionsMakesActionsThatBlockStartup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		revTok := f.site.token(f.rev)
		path := "/api/v1/changes/" + strconv.FormatInt(f.review.ID, 10) + "/reviews"
		due := f.site.clock.Now().AddDate(0, 0, 5).Format(time.DateOnly)
		for _, tc := range []struct{ body, field string }{
			{`{"discipline":"mechanical","decision":"reviewed_with_conditions"}`, "conditions"},
			{`{"discipline":"mechanical","decision":"reviewed_with_conditions","conditions":[{"title":"ok","owner_id":` + strconv.FormatInt(f.ini.ID, 10) + `,"before_startup":true},{"title":" ","owner_id":1,"before_startup":true}]}`, "conditions[1].title"},
			{`{"discipline":"mechanical","decision":"reviewed_with_conditions","conditions":[{"title":"x","owner_id":999999,"before_startup":true}]}`, "conditions[0].owner_id"},
			{`{"discipline":"mechanical","decision":"reviewed_with_conditions","conditions":[{"title":"x","owner_id":1}]}`, "conditions[0].before_startup"},
			{`{"discipline":"mechanical","decision":"reviewed","conditions":[{"title":"x","owner_id":1,"before_startup":true}]}`, "conditions"},
		} {
			r := bearer(t, f.site.URL, "POST", path, revTok, strings.NewReader(tc.body))
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, tc.field) {
				t.Errorf("%s: %d %s, want 422 naming %s", tc.body, r.StatusCode, r.Body, tc.field)
			}
		}
		body := `{"discipline":"mechanical","decision":"reviewed_with_conditions","comment":"fine if",
			"conditions":[{"title":"Add a relief valve upstream","owner_id":` + strconv.FormatInt(f.ini.ID, 10) + `,"due_on":"` + due + `","before_startup":true},
			{"title":"Repaint the line","owner_id":` + strconv.FormatInt(f.ini.ID, 10) + `,"before_startup":false}]}`
		if r := bearer(t, f.site.URL, "POST", path, revTok, strings.NewReader(body)); r.StatusCode != http.StatusOK {
			t.Fatalf("review with conditions: %d %s", r.StatusCode, r.Body)
		}
		d, err := svc.Get(ctx, f.coord, f.review.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Change.Stage != change.StageApproval {
			t.Errorf("stage after the last review: %s", d.Change.Stage)
		}
		var reviewID int64
		for _, rv := range d.Reviews {
			if rv.Discipline == "mechanical" && rv.Round == d.Change.Round {
				reviewID = rv.ID
				if rv.Decision != change.DecisionReviewedWithConditions {
					t.Errorf("decision %q", rv.Decision)
				}
			}
		}
		var conds []change.ActionItem
		for _, a := range d.Actions {
			if a.ReviewID == reviewID && a.Kind == change.ActionCondition {
				conds = append(conds, a)
			}
		}
		if len(conds) != 2 || !conds[0].BeforeStartup || conds[0].DueOn.Format(time.DateOnly) != due || conds[1].BeforeStartup || conds[1].DueOn == nil {
			t.Fatalf("conditions as actions: %+v", conds)
		}
		// The change page shows the decision in words and links the conditions.
		page := f.coord2.get("/changes/" + f.review.Number)
		if !strings.Contains(page.Body, "Reviewed — with conditions") || !strings.Contains(page.Body, `href="#action-`+strconv.FormatInt(conds[0].ID, 10)+`"`) {
			t.Errorf("the page does not show the conditions of the review\n%s", excerpt(page.Body))
		}
		// Through approval and implementation: startup waits for the condition.
		if _, err := svc.Decide(ctx, f.appr, f.review.ID, change.DecisionApproved, "", change.Signature{Verified: true, Method: "password"}); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Transition(ctx, f.ini, f.review.ID, change.TransitionRequest{Action: change.ActCompleteImplementation})
		if err == nil || !strings.Contains(err.Error(), "Add a relief valve upstream") {
			t.Errorf("completing implementation with an open before-startup condition: %v", err)
		}
	})
}

// The review form takes conditions in its rows, shows a bad one beside
// its field with the input kept, and records them.
func TestReviewFormTakesConditions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		path := "/changes/" + f.review.Number + "/review"
		if p := f.rev2.get("/changes/" + f.review.Number); !strings.Contains(p.Body, `name="cond-0-title"`) || !strings.Contains(p.Body, `value="reviewed_with_conditions"`) {
			t.Fatalf("the review form offers no conditions\n%s", excerpt(p.Body))
		}
		tok := f.rev2.csrf()
		owner := strconv.FormatInt(f.ini.ID, 10)
		r := f.rev2.post(path, url.Values{"csrf_token": {tok}, "discipline": {"mechanical"}, "decision": {"reviewed_with_conditions"},
			"cond-0-title": {"Fit a guard"}, "cond-0-owner_id": {owner}, "cond-1-title": {"Label it"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errorBeside(r.Body, "cond-1-owner_id"), "choose who owns") ||
			!strings.Contains(r.Body, "Fit a guard") {
			t.Fatalf("condition without an owner: %d %q\n%s", r.StatusCode, errorBeside(r.Body, "cond-1-owner_id"), excerpt(r.Body))
		}
		r = f.rev2.post(path, url.Values{"csrf_token": {tok}, "discipline": {"mechanical"}, "decision": {"reviewed_with_conditions"},
			"cond-0-title": {"Fit a guard"}, "cond-0-owner_id": {owner}, "cond-0-before_startup": {"yes"}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("review with a condition: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		d, err := f.site.web.Changes.Get(context.Background(), f.coord, f.review.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range d.Actions {
			found = found || (a.Title == "Fit a guard" && a.Kind == change.ActionCondition && a.BeforeStartup && a.ReviewID != 0)
		}
		if !found {
			t.Errorf("the condition is not an action: %+v", d.Actions)
		}
	})
}
