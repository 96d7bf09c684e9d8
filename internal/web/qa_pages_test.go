package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Messages on the change page use the words of the form, never the API's
// field names, and the approvers form refuses what it could not show
// again (found walking through the demo as a newcomer).
func TestChangePageSpeaksTheFormsWords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		full, err := svc.Create(ctx, f.ini, completeFields(change.KindMOC, "Full draft", f.screening.SiteID))
		if err != nil {
			t.Fatal(err)
		}
		csrfIni, csrfCoord := f.ini2.csrf(), f.coord2.csrf()

		// Submit with no discipline ticked.
		r := f.ini2.post("/changes/"+full.Number+"/submit", url.Values{"csrf_token": {csrfIni}})
		msg := errorBeside(r.Body, "sc-disciplines")
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(msg, "replacement in kind") || strings.Contains(r.Body, "replacement_in_kind)") {
			t.Errorf("submit without disciplines: %d %q, want words people read (replacement in kind), not replacement_in_kind", r.StatusCode, msg)
		}

		// Start review while the hazard review has no reviewer.
		hz, err := svc.Create(ctx, f.ini, completeFields(change.KindMOC, "Hazard", f.screening.SiteID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(ctx, f.ini, hz.ID, change.Screening{Disciplines: []string{"mechanical"}, HazardReviewNeeded: true}); err != nil {
			t.Fatal(err)
		}
		if err := svc.AssignReviewer(ctx, f.coord, hz.ID, "mechanical", f.rev.ID); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetApprovers(ctx, f.coord, hz.ID, [][]int64{{f.appr.ID}}); err != nil {
			t.Fatal(err)
		}
		r = f.coord2.post("/changes/"+hz.Number+"/transition", url.Values{"csrf_token": {csrfCoord}, "action": {"start_review"}})
		if r.StatusCode != http.StatusUnprocessableEntity || strings.Contains(r.Body, "the hazard_review") || !strings.Contains(r.Body, "a reviewer for the hazard review first") {
			t.Errorf("start review without a hazard reviewer: %d, want “hazard review”, not hazard_review\n%s", r.StatusCode, excerpt(r.Body))
		}

		// The approvers form: stage 2 alone, or one person in both stages.
		appr := strconv.FormatInt(f.appr.ID, 10)
		for _, tc := range []struct {
			name string
			form url.Values
			want string
		}{
			{"stage 2 only", url.Values{"stage2": {appr}}, "at least one approver for stage 1"},
			{"one person in both stages", url.Values{"stage1": {appr}, "stage2": {appr}}, "one stage only"},
		} {
			tc.form.Set("csrf_token", csrfCoord)
			r := f.coord2.post("/changes/"+f.screening.Number+"/approvers", tc.form)
			if got := errorBeside(r.Body, "approvers-list"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, tc.want) {
				t.Errorf("approvers, %s: %d %q, want 422 with %q", tc.name, r.StatusCode, got, tc.want)
			}
		}
		d, err := svc.Get(ctx, f.coord, f.screening.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Approvals) != 0 {
			t.Errorf("refused approver forms still named %d approvers", len(d.Approvals))
		}
		r = f.coord2.post("/changes/"+f.screening.Number+"/approvers", url.Values{"csrf_token": {csrfCoord}, "stage1": {appr}})
		if r.StatusCode != http.StatusSeeOther {
			t.Errorf("approvers in stage 1: %d, want 303", r.StatusCode)
		}

		// PSSR Yes without evidence: the page has a file field and a list
		// of attached files, not the API's "name it here".
		item := strconv.FormatInt(f.pssrItem, 10)
		r = f.coord2.post("/changes/"+f.pssr.Number+"/pssr/"+item, url.Values{"csrf_token": {csrfCoord}, "answer": {"yes"}})
		if got := errorBeside(r.Body, "pssr-"+item+"-evidence"); !strings.Contains(got, "choose a file, or one already attached") || strings.Contains(got, "name it here") {
			t.Errorf("PSSR yes without evidence: %d %q", r.StatusCode, got)
		}

		// The initiator, with nothing to do during screening, is told what
		// happens next.
		r = f.ini2.get("/changes/" + f.screening.Number)
		if !strings.Contains(r.Body, "Nothing is waiting for you on this change right now. Next, an MOC coordinator assigns") {
			t.Errorf("screening page for the initiator does not say what happens next\n%s", excerpt(r.Body))
		}
	})
}
