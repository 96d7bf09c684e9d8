package change_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Messages call the hazard review a "hazard review", not a
// "hazard_review review" (the API shows them as they are).
func TestHazardReviewNamedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101A")))(t)
		must(s.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"mechanical"}, HazardReviewNeeded: true}))(t)
		ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID))
		ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}}))
		f.ConfirmScreening(t, c.ID)
		_, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview})
		if err == nil || !strings.Contains(err.Error(), "assign a reviewer for the hazard review first") {
			t.Errorf("start review without a hazard reviewer: %v", err)
		}
	})
}

// A delegate acts only on changes of their own sites (check answers
// "not found" elsewhere), so My work lists, and the approval request
// reaches, only the delegates who can open the change.
func TestDelegateOffSiteGetsNoDeadLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		// Arno (NRF) delegates to Otto (SCP only) and to Anke (NRF).
		must(s.CreateDelegation(ctx, f.Approver, f.Outsider.ID, start, start.AddDate(0, 0, 7), "holiday"))(t)
		must(s.CreateDelegation(ctx, f.Approver, f.Approver2.ID, start, start.AddDate(0, 0, 7), "holiday"))(t)
		mark := changetest.LastNotification(t, db)
		c := toStage(t, f, change.StageApproval, nil)
		got := changetest.Notified(t, db, notify.TypeApprovalRequested, mark)
		if slices.Contains(got, f.Outsider.ID) || !slices.Contains(got, f.Approver2.ID) || !slices.Contains(got, f.Approver.ID) {
			t.Errorf("approval requested from %v: want Arno and Anke, not Otto (%d), who cannot open the change", got, f.Outsider.ID)
		}
		w := must(s.MyWork(ctx, f.Outsider))(t)
		if len(w.Approvals) != 0 {
			t.Errorf("Otto's My work lists %+v: a change he cannot open", w.Approvals)
		}
		if _, err := s.Get(ctx, f.Outsider, c.ID); problem.KindOf(err) != problem.NotFound {
			t.Fatalf("Otto opens the NRF change: %v", err)
		}
		w = must(s.MyWork(ctx, f.Approver2))(t)
		if len(w.Approvals) != 1 || w.Approvals[0].ChangeID != c.ID || w.Approvals[0].OnBehalfOf != f.Approver.Name {
			t.Errorf("Anke's My work approvals = %+v, want %s on behalf of Arno", w.Approvals, c.Number)
		}
	})
}

// When a delegate decides an approval, the approver hears of it, in the
// app and by email like any other notification.
func TestApproverToldWhenDelegateDecided(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		must(s.CreateDelegation(ctx, f.Approver, f.Approver2.ID, start, start.AddDate(0, 0, 7), "holiday"))(t)
		c := toStage(t, f, change.StageApproval, nil)
		f.Emails.Take()
		mark := changetest.LastNotification(t, db)
		must(s.Decide(ctx, f.Approver2, c.ID, change.DecisionApproved, "looks fine", verified))(t)
		if got := changetest.Notified(t, db, notify.TypeDelegateDecided, mark); !slices.Equal(got, []int64{f.Approver.ID}) {
			t.Fatalf("delegate_decided notified %v, want Arno (%d)", got, f.Approver.ID)
		}
		var title, body string
		if err := db.SQL.QueryRow(`SELECT title, body FROM notifications WHERE type = $1 AND id > $2`, string(notify.TypeDelegateDecided), mark).Scan(&title, &body); err != nil {
			t.Fatal(err)
		}
		if want := "Anke approved " + c.Number + " on your behalf"; title != want || !strings.Contains(body, "Comment: looks fine") {
			t.Errorf("notification %q / %q, want title %q and the comment", title, body, want)
		}
		emailed := false
		for _, e := range f.Emails.Take() {
			emailed = emailed || e.UserID == f.Approver.ID && e.Type == notify.TypeDelegateDecided
		}
		if !emailed {
			t.Error("no email to Arno about the decision taken on his behalf")
		}
		// His own decision tells nobody "on your behalf".
		c2 := toStage(t, f, change.StageApproval, nil)
		mark = changetest.LastNotification(t, db)
		must(s.Decide(ctx, f.Approver, c2.ID, change.DecisionApproved, "", verified))(t)
		if got := changetest.Notified(t, db, notify.TypeDelegateDecided, mark); len(got) != 0 {
			t.Errorf("own decision notified %v as a delegate's", got)
		}
	})
}

// An extension request reaches the approvers' delegates acting today (on
// the change's site) as an approval request does, and the decision keeps
// how the signer confirmed who they were.
func TestExtensionRequestReachesDelegates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StageImplementation, func(fl *change.Fields) {
			d := change.DurationTemporary
			exp := start.AddDate(0, 1, 0)
			pe := &exp
			fl.Duration, fl.ExpiresOn = &d, &pe
		})
		// Arno approved; he is away and delegates to Anke, and to Otto of another site.
		must(s.CreateDelegation(ctx, f.Approver, f.Approver2.ID, start, start.AddDate(0, 0, 7), "holiday"))(t)
		must(s.CreateDelegation(ctx, f.Approver, f.Outsider.ID, start, start.AddDate(0, 0, 7), "holiday"))(t)
		mark := changetest.LastNotification(t, db)
		ok(t, s.RequestExtension(ctx, f.Initiator, c.ID, start.AddDate(0, 2, 0), "spare part late"))
		if got, want := changetest.Notified(t, db, notify.TypeApprovalRequested, mark), []int64{f.Approver.ID, f.Approver2.ID}; !slices.Equal(got, want) {
			t.Errorf("extension request notified %v, want Arno and his on-site delegate Anke %v", got, want)
		}
		ok(t, s.DecideExtension(ctx, f.Approver2, c.ID, change.DecisionApproved, "", change.Signature{Verified: true, Method: "entra"}))
		d := must(s.Get(ctx, f.Auditor, c.ID))(t)
		if e := d.Extensions[0]; e.SignedName != f.Approver2.Name || e.SignatureMethod != "entra" {
			t.Errorf("extension signed %q by %q, want %q by entra", e.SignedName, e.SignatureMethod, f.Approver2.Name)
		}
	})
}
