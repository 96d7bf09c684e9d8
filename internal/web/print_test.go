package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The print view is the record an auditor files: the audit trail in
// full, actions numbered within the change, no rows for reviews or
// approvals that never ran, and what became of a temporary change's
// expiry beside it.
func TestPrintViewIsTheFullRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		long := strings.Repeat("The relief valve set point stays at 12 barg; ", 8) + "END-OF-TEXT"
		fields := completeFields(change.KindMOC, "Long description", f.draft.SiteID)
		exp := f.site.clock.Now().AddDate(0, 1, 0)
		fields.Duration, fields.ExpiresOn = ptr(change.DurationTemporary), ptr(&exp)
		ch, err := svc.Create(ctx, f.ini, fields)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Update(ctx, f.ini, ch.ID, change.Fields{Description: &long}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(ctx, f.ini, ch.ID, change.Screening{Disciplines: []string{"mechanical"}, PSIChanges: true, ProceduresChange: true}); err != nil {
			t.Fatal(err)
		}
		path := "/changes/" + ch.Number
		page := f.coord2.get(path).Body
		if strings.Contains(page[strings.Index(page, `class="timeline"`):], "END-OF-TEXT") {
			t.Error("the page's timeline was expected to shorten long values")
		}
		pr := f.coord2.get(path + "/print").Body
		audit := pr[strings.Index(pr, "<h2>Audit trail</h2>"):]
		if !strings.Contains(audit, "END-OF-TEXT") {
			t.Errorf("the print view's audit trail cuts the description short")
		}
		nums := regexp.MustCompile(`<tr><td>(\d+)</td><td>Update`).FindAllStringSubmatch(pr, -1)
		if len(nums) != 2 || nums[0][1] != "1" || nums[1][1] != "2" {
			t.Errorf("action numbers in the print view: %v, want 1 and 2", nums)
		}
		if strings.Contains(pr, "<h2>Reviews</h2>") {
			t.Error("the print view lists a review that was never asked for")
		}
		if !strings.Contains(pr, "No decision has been signed yet.") {
			t.Error("the print view of an unsigned change shows signature rows")
		}

		// An extended temporary change says so beside its expiry.
		sig := change.Signature{Verified: true, Method: "password"}
		d, _ := svc.Get(ctx, f.coord, f.pssr.ID)
		for _, it := range d.PSSR {
			if _, err := svc.AnswerPSSR(ctx, f.coord, it.ID, change.AnswerNA, "n/a", 0); err != nil {
				t.Fatal(err)
			}
		}
		f.signOffPSSR(t)
		if _, err := svc.Transition(ctx, f.appr, f.pssr.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: sig}); err != nil {
			t.Fatal(err)
		}
		old := d.Change.ExpiresOn.Format(time.DateOnly)
		if err := svc.RequestExtension(ctx, f.ini, f.pssr.ID, d.Change.ExpiresOn.AddDate(0, 0, 14), "parts late"); err != nil {
			t.Fatal(err)
		}
		if err := svc.DecideExtension(ctx, f.appr, f.pssr.ID, change.DecisionApproved, "", sig); err != nil {
			t.Fatal(err)
		}
		if pr := f.coord2.get("/changes/" + f.pssr.Number + "/print").Body; !strings.Contains(pr, "(extended once, first due "+old+")") {
			t.Errorf("the print view does not say the expiry was extended\n%s", excerpt(pr))
		}
	})
}

// A PCR starts nothing up: its page, its refusals and its emails speak
// of completion, never of startup.
func TestPCRNeverSpeaksOfStartup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		svc := f.site.web.Changes
		sig := change.Signature{Verified: true, Method: "password"}
		pcr, err := svc.Create(ctx, f.ini, completeFields(change.KindPCR, "Revise loading procedure", f.draft.SiteID))
		if err != nil {
			t.Fatal(err)
		}
		steps := []func() error{
			func() error {
				_, err := svc.Submit(ctx, f.ini, pcr.ID, change.Screening{Disciplines: []string{"operations"}})
				return err
			},
			func() error { return svc.AssignReviewer(ctx, f.coord, pcr.ID, "operations", f.rev.ID) },
			func() error { return svc.SetApprovers(ctx, f.coord, pcr.ID, [][]int64{{f.appr.ID}}) },
			func() error { confirmScreening(t, svc, f.coord, pcr.ID); return nil },
			func() error {
				_, err := svc.Transition(ctx, f.coord, pcr.ID, change.TransitionRequest{Action: change.ActStartReview})
				return err
			},
			func() error { return svc.DecideReview(ctx, f.rev, pcr.ID, "", change.DecisionReviewed, "") },
			func() error { _, err := svc.Decide(ctx, f.appr, pcr.ID, change.DecisionApproved, "", sig); return err },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		path := "/changes/" + pcr.Number
		r := f.ini2.post(path+"/actions", url.Values{"csrf_token": {f.ini2.csrf()}, "title": {"Brief the loaders"}, "owner_id": {itoa(f.ini.ID)},
			"before_startup": {"yes"}})
		if r.StatusCode != 303 {
			t.Fatalf("add action: %d\n%s", r.StatusCode, excerpt(r.Body))
		}
		_, err = svc.Transition(ctx, f.ini, pcr.ID, change.TransitionRequest{Action: change.ActCompleteImplementation})
		if err == nil || !strings.Contains(err.Error(), "before implementation is complete") || strings.Contains(err.Error(), "startup") {
			t.Errorf("PCR refusal: %v", err)
		}
		for _, p := range []string{path, path + "/print"} {
			// What people read: the text, not the markup's names.
			body := strings.ToLower(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(f.ini2.get(p).Body, " "))
			if i := strings.Index(body, "startup"); i >= 0 {
				t.Errorf("%s speaks of startup: …%s…", p, strings.Join(strings.Fields(body[max(0, i-400):min(len(body), i+100)]), " "))
			}
		}
		// Emails are made from the notifications' words.
		rows, err := db.SQL.Query(`SELECT title, body FROM notifications WHERE link = $1`, "/changes/"+itoa(pcr.ID))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var title, body string
			if err := rows.Scan(&title, &body); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.ToLower(title+" "+body), "startup") {
				t.Errorf("a notification about %s speaks of startup: %s — %s", pcr.Number, title, body)
			}
		}
	})
}
