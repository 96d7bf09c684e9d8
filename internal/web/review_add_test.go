package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A coordinator adds a discipline review during screening (reviewer now
// or later) and during review (reviewer required and asked at once), and
// replaces the reviewer of a pending review; bad input names the field
// and nobody else may.
func TestCoordinatorAddsADisciplineOrReviewerDuringScreeningAndReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		elec := f.site.user("elec@example.com", auth.RoleReviewer)
		coordTok := f.site.token(f.coord)
		post := func(c *change.Change, tok, body string) response {
			return bearer(t, f.site.URL, "POST", "/api/v1/changes/"+strconv.FormatInt(c.ID, 10)+"/review-requests", tok, strings.NewReader(body))
		}
		for _, tc := range []struct {
			c      *change.Change
			tok    string
			body   string
			status int
			want   string
		}{
			{f.screening, coordTok, `{"discipline":"plumbing"}`, 422, "discipline"},
			{f.screening, coordTok, `{"discipline":"electrical","reviewer_id":` + strconv.FormatInt(f.appr.ID, 10) + `}`, 422, "reviewer_id"},
			{f.review, coordTok, `{"discipline":"electrical"}`, 422, "reviewer_id"},
			{f.review, f.site.token(f.ini), `{"discipline":"electrical","reviewer_id":` + strconv.FormatInt(elec.ID, 10) + `}`, 403, ""},
			{f.approval, coordTok, `{"discipline":"electrical","reviewer_id":` + strconv.FormatInt(elec.ID, 10) + `}`, 409, ""},
		} {
			if r := post(tc.c, tc.tok, tc.body); r.StatusCode != tc.status || !strings.Contains(r.Body, tc.want) {
				t.Errorf("%s %s: %d %s, want %d naming %q", tc.c.Number, tc.body, r.StatusCode, r.Body, tc.status, tc.want)
			}
		}
		// Screening: a discipline with its reviewer to come.
		if r := post(f.screening, coordTok, `{"discipline":"electrical"}`); r.StatusCode != http.StatusOK {
			t.Fatalf("add in screening: %d %s", r.StatusCode, r.Body)
		}
		if _, err := svc.Transition(ctx, f.coord, f.screening.ID, change.TransitionRequest{Action: change.ActStartReview}); err == nil ||
			!strings.Contains(err.Error(), "electrical") {
			t.Errorf("start review with the added review unassigned: %v", err)
		}
		// Review: the new reviewer is asked at once and must decide before approval.
		if r := post(f.review, coordTok, `{"discipline":"electrical","reviewer_id":`+strconv.FormatInt(elec.ID, 10)+`}`); r.StatusCode != http.StatusOK {
			t.Fatalf("add in review: %d %s", r.StatusCode, r.Body)
		}
		elecTok := f.site.token(elec)
		if n := bearer(t, f.site.URL, "GET", "/api/v1/notifications", elecTok, nil); !strings.Contains(n.Body, "Review requested: "+f.review.Number) {
			t.Errorf("the added reviewer was not asked: %s", n.Body)
		}
		if err := svc.DecideReview(ctx, f.rev, f.review.ID, "mechanical", change.DecisionReviewed, ""); err != nil {
			t.Fatal(err)
		}
		if d, _ := svc.Get(ctx, f.coord, f.review.ID); d.Change.Stage != change.StageReview {
			t.Errorf("the change left review with the added review pending: %s", d.Change.Stage)
		}
		// Replace the electrical reviewer: the old one is told, the new one asked.
		elec2 := f.site.user("elec2@example.com", auth.RoleReviewer)
		if r := post(f.review, coordTok, `{"discipline":"electrical","reviewer_id":`+strconv.FormatInt(elec2.ID, 10)+`}`); r.StatusCode != http.StatusOK {
			t.Fatalf("replace the reviewer: %d %s", r.StatusCode, r.Body)
		}
		if n := bearer(t, f.site.URL, "GET", "/api/v1/notifications", elecTok, nil); !strings.Contains(n.Body, "was withdrawn") {
			t.Errorf("the replaced reviewer was not told: %s", n.Body)
		}
		if err := svc.DecideReview(ctx, elec, f.review.ID, "electrical", change.DecisionReviewed, ""); err == nil {
			t.Error("the replaced reviewer could still decide")
		}
		if err := svc.DecideReview(ctx, elec2, f.review.ID, "electrical", change.DecisionReviewed, ""); err != nil {
			t.Fatal(err)
		}
		if d, _ := svc.Get(ctx, f.coord, f.review.ID); d.Change.Stage != change.StageApproval {
			t.Errorf("stage after the last review: %s", d.Change.Stage)
		}
	})
}

// The change page offers the coordinator the add form in screening and
// saves it with a flash.
func TestAddReviewFormOnTheChangePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		if p := f.coord2.get("/changes/" + f.screening.Number); !strings.Contains(p.Body, `id="f-add-review"`) {
			t.Fatalf("no add form for the coordinator\n%s", excerpt(p.Body))
		}
		if p := f.ini2.get("/changes/" + f.screening.Number); strings.Contains(p.Body, `id="f-add-review"`) {
			t.Error("the initiator is offered the add form")
		}
		r := f.coord2.post("/changes/"+f.screening.Number+"/review-requests", url.Values{"csrf_token": {f.coord2.csrf()}, "discipline": {"process"},
			"reviewer_id": {strconv.FormatInt(f.rev.ID, 10)}})
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=review-added") {
			t.Fatalf("add: %d %q\n%s", r.StatusCode, r.Header.Get("Location"), excerpt(r.Body))
		}
		r = f.coord2.post("/changes/"+f.screening.Number+"/review-requests", url.Values{"csrf_token": {f.coord2.csrf()}, "discipline": {"nope"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errorBeside(r.Body, "add-review-discipline"), "must be one of") {
			t.Errorf("bad discipline: %d %q", r.StatusCode, errorBeside(r.Body, "add-review-discipline"))
		}
	})
}
