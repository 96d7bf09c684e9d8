package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// When one reviewer's rejection returns the change, the reviews still
// pending are withdrawn: their reviewers are notified with the reason,
// the review leaves their My work, and the change page says "Withdrawn".
func TestRejectionWithdrawsPendingReviewsAndTellsTheirReviewers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		elec := f.site.user("elec@example.com", auth.RoleReviewer)
		elecTok := f.site.token(elec)
		c, err := svc.Create(ctx, f.ini, completeFields(change.KindMOC, "Two disciplines", f.pssr.SiteID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(ctx, f.ini, c.ID, change.Screening{Disciplines: []string{"mechanical", "electrical"}}); err != nil {
			t.Fatal(err)
		}
		for disc, who := range map[string]int64{"mechanical": f.rev.ID, "electrical": elec.ID} {
			if err := svc.AssignReviewer(ctx, f.coord, c.ID, disc, who); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.SetApprovers(ctx, f.coord, c.ID, [][]int64{{f.appr.ID}}); err != nil {
			t.Fatal(err)
		}
		confirmScreening(t, svc, f.coord, c.ID)
		if _, err := svc.Transition(ctx, f.coord, c.ID, change.TransitionRequest{Action: change.ActStartReview}); err != nil {
			t.Fatal(err)
		}
		if w := bearer(t, f.site.URL, "GET", "/api/v1/my-work", elecTok, nil); !strings.Contains(w.Body, c.Number) {
			t.Fatalf("the electrical review is not in My work: %s", w.Body)
		}
		r := bearer(t, f.site.URL, "POST", "/api/v1/changes/"+strconv.FormatInt(c.ID, 10)+"/reviews", f.site.token(f.rev),
			strings.NewReader(`{"discipline":"mechanical","decision":"rejected","comment":"pump curve missing"}`))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("reject: %d %s", r.StatusCode, r.Body)
		}
		if w := bearer(t, f.site.URL, "GET", "/api/v1/my-work", elecTok, nil); strings.Contains(w.Body, c.Number) {
			t.Errorf("the withdrawn review is still in My work: %s", w.Body)
		}
		n := bearer(t, f.site.URL, "GET", "/api/v1/notifications", elecTok, nil)
		if !strings.Contains(n.Body, "Your electrical review of "+c.Number+" was withdrawn") || !strings.Contains(n.Body, "pump curve missing") {
			t.Errorf("the reviewer was not told why: %s", n.Body)
		}
		if n := bearer(t, f.site.URL, "GET", "/api/v1/notifications", f.site.token(f.rev), nil); strings.Contains(n.Body, "was withdrawn") {
			t.Errorf("the rejecting reviewer is told their own review was withdrawn: %s", n.Body)
		}
		d, err := svc.Get(ctx, f.coord, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, rv := range d.Reviews {
			if rv.Discipline == "electrical" && (rv.Decision != change.DecisionWithdrawn || !strings.Contains(rv.Comment, "pump curve missing")) {
				t.Errorf("electrical review after the rejection: %+v", rv)
			}
		}
		if p := f.coord2.get("/changes/" + c.Number); !strings.Contains(p.Body, `dec-withdrawn">Withdrawn<`) {
			t.Errorf("the change page does not show the withdrawn review\n%s", excerpt(p.Body))
		}
	})
}
