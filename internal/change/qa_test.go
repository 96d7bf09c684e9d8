package change_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/demo"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// An N/A on a PSSR item needs its justification, like a No needs the
// deficiency described.
func TestPSSRNotApplicableNeedsAComment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		c := toStage(t, f, change.StagePSSR, nil)
		d := must(f.Service.Get(ctx, f.Coordinator, c.ID))(t)
		it := d.PSSR[0]
		_, err := f.Service.AnswerPSSR(ctx, f.Coordinator, it.ID, change.AnswerNA, "  ", 0)
		if err == nil || change.ErrorCode(err) != change.EInvalid || !strings.HasPrefix(err.Error(), "comment: is required for N/A") {
			t.Fatalf("N/A without a comment: %v, want an invalid comment", err)
		}
		if d := must(f.Service.Get(ctx, f.Coordinator, c.ID))(t); d.PSSR[0].Answer != "" {
			t.Errorf("the refused N/A was saved: %q", d.PSSR[0].Answer)
		}
		got := must(f.Service.AnswerPSSR(ctx, f.Coordinator, it.ID, change.AnswerNA, "No relief devices touched", 0))(t)
		if got.Answer != change.AnswerNA || got.Comment != "No relief devices touched" || got.AnsweredByName != f.Coordinator.Name {
			t.Errorf("N/A with a comment: %+v", got)
		}
	})
}

// Refusals name every open item by its title, for people: no database
// ids, capitalised sentences, "PSSR deficiency" said once.
func TestStartupRefusalsListEveryOpenItemByTitle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StageImplementation, nil)
		for _, title := range []string{"Update PSI for P-101A", "Train operators"} {
			must(s.AddAction(ctx, f.Initiator, c.ID, change.NewAction{Title: title, OwnerID: f.Initiator.ID, BeforeStartup: true}))(t)
		}
		must(s.AddAction(ctx, f.Initiator, c.ID, change.NewAction{Title: "After startup", OwnerID: f.Initiator.ID}))(t)
		_, err := s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActCompleteImplementation})
		want := "2 pre-startup actions are still open: “Update PSI for P-101A”, “Train operators”. They must be done before startup."
		if err == nil || err.Error() != want {
			t.Fatalf("complete implementation with open actions: %v\nwant %s", err, want)
		}
		d := must(s.Get(ctx, f.Initiator, c.ID))(t)
		for _, a := range d.Actions {
			if a.BeforeStartup {
				must(s.CompleteAction(ctx, f.Initiator, a.ID, ""))(t)
			}
		}
		must(s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActCompleteImplementation}))(t)
		d = must(s.Get(ctx, f.Coordinator, c.ID))(t)
		_, err = s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified})
		if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("%d PSSR items are not answered yet: item 1 “", len(d.PSSR))) {
			t.Errorf("startup with unanswered items: %v", err)
		}
		must(s.AnswerPSSR(ctx, f.Coordinator, d.PSSR[0].ID, change.AnswerNo, "Seal flush plan missing", 0))(t)
		for _, it := range d.PSSR[1:] {
			must(s.AnswerPSSR(ctx, f.Coordinator, it.ID, change.AnswerNA, "Not affected", 0))(t)
		}
		_, err = s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified})
		want = "1 PSSR deficiency is still open: item 1 “Seal flush plan missing”. It must be closed before startup."
		if err == nil || err.Error() != want {
			t.Errorf("startup with an open deficiency: %v\nwant %s", err, want)
		}
		d = must(s.Get(ctx, f.Initiator, c.ID))(t)
		for _, a := range d.Actions {
			if a.Kind == change.ActionDeficiency {
				must(s.CompleteAction(ctx, f.Initiator, a.ID, "plan issued"))(t)
			}
		}
		must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified}))(t)
		_, err = s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActClose, Signature: verified})
		want = "1 action is still open: “After startup”. Close-out needs every action done."
		if err == nil || err.Error() != want {
			t.Errorf("close with an open action: %v\nwant %s", err, want)
		}
	})
}

// The demo's new regenerator trip is screened as a process-safety
// engineer would: instrumentation, process and operations reviews, a
// PSI update, a hazard review and a PSSR.
func TestDemoTripScreenedRealistically(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := demo.Seed(ctx, db, change.SeedDemo); err != nil {
			t.Fatal(err)
		}
		cora, err := auth.UserByEmail(ctx, db.SQL, "cora@demo.mocpcr.local")
		if err != nil {
			t.Fatal(err)
		}
		svc := &change.Service{DB: db, Now: func() time.Time { return start }}
		cs, _, err := svc.List(ctx, cora, change.Filter{Q: "high-temperature trip"})
		if err != nil || len(cs) != 1 {
			t.Fatalf("demo trip change: %v %d", err, len(cs))
		}
		d := must(svc.Get(ctx, cora, cs[0].ID))(t)
		sc := d.Change.Screening
		if d.Change.Stage != change.StageScreening || sc == nil || !sc.PSIChanges || !sc.HazardReviewNeeded || !sc.PSSRNeeded || !d.Change.PSSRRequired {
			t.Fatalf("demo trip screening = %+v (stage %s, PSSR required %v)", sc, d.Change.Stage, d.Change.PSSRRequired)
		}
		var reviews []string
		for _, r := range d.Reviews {
			reviews = append(reviews, r.Discipline)
		}
		for _, want := range []string{"instrumentation", "process", "operations", change.DisciplineHazardReview} {
			if !slices.Contains(reviews, want) {
				t.Errorf("demo trip reviews %v lack %s", reviews, want)
			}
		}
		var kinds []change.ActionKind
		for _, a := range d.Actions {
			kinds = append(kinds, a.Kind)
		}
		if !slices.Contains(kinds, change.ActionPSI) || !slices.Contains(kinds, change.ActionProcedure) {
			t.Errorf("demo trip actions %v lack the PSI and procedure updates", kinds)
		}
		// The coordinator can take it from here: assign, name approvers, start review.
		if !slices.Contains(d.AllowedActions, change.ActAssign) {
			t.Errorf("coordinator may not assign reviewers on the demo trip: %v", d.AllowedActions)
		}
	})
}

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
		_, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview})
		if err == nil || !strings.Contains(err.Error(), "assign a reviewer for the hazard review first") {
			t.Errorf("start review without a hazard reviewer: %v", err)
		}
	})
}

// A stage move whose preconditions still fail is not among the allowed
// actions (the page would offer a form that can only be refused);
// Blocked lists what is open, in the refusal's own sentences, and only
// for someone who could make the move once ready.
func TestStartupOfferedOnlyWhenReady(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StageImplementation, nil)
		must(s.AddAction(ctx, f.Initiator, c.ID, change.NewAction{Title: "Update PSI for P-101A", OwnerID: f.Initiator.ID, BeforeStartup: true}))(t)
		d := must(s.Get(ctx, f.Initiator, c.ID))(t)
		if slices.Contains(d.AllowedActions, change.ActCompleteImplementation) {
			t.Errorf("complete_implementation allowed with a pre-startup action open: %v", d.AllowedActions)
		}
		want := []string{"1 pre-startup action is still open: “Update PSI for P-101A”. It must be done before startup."}
		if got := d.Blocked[change.ActCompleteImplementation]; !slices.Equal(got, want) {
			t.Errorf("blocked complete_implementation = %q, want %q", got, want)
		}
		if d := must(s.Get(ctx, f.Reviewer, c.ID))(t); d.Blocked != nil {
			t.Errorf("a reviewer, who could not complete implementation anyway, sees what blocks it: %v", d.Blocked)
		}
		for _, a := range d.Actions {
			must(s.CompleteAction(ctx, f.Initiator, a.ID, ""))(t)
		}
		must(s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActCompleteImplementation}))(t)

		d = must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if slices.Contains(d.AllowedActions, change.ActAuthorizeStartup) {
			t.Errorf("authorize_startup allowed with PSSR items unanswered: %v", d.AllowedActions)
		}
		if got := d.Blocked[change.ActAuthorizeStartup]; len(got) != 1 || !strings.Contains(got[0], "not answered yet") {
			t.Errorf("blocked authorize_startup = %q, want the unanswered items", got)
		}
		must(s.AnswerPSSR(ctx, f.Coordinator, d.PSSR[0].ID, change.AnswerNo, "Seal flush plan missing", 0))(t)
		for _, it := range d.PSSR[1:] {
			must(s.AnswerPSSR(ctx, f.Coordinator, it.ID, change.AnswerNA, "Not affected", 0))(t)
		}
		ok(t, s.AddAcknowledgers(ctx, f.Initiator, c.ID, []int64{f.Reviewer.ID}))
		d = must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if slices.Contains(d.AllowedActions, change.ActAuthorizeStartup) {
			t.Errorf("authorize_startup allowed with a deficiency open: %v", d.AllowedActions)
		}
		want = []string{"1 PSSR deficiency is still open: item 1 “Seal flush plan missing”. It must be closed before startup.",
			f.Reviewer.Name + " has not acknowledged the change yet. The roster must sign off before startup."}
		if got := d.Blocked[change.ActAuthorizeStartup]; !slices.Equal(got, want) {
			t.Errorf("blocked authorize_startup = %q\nwant %q", got, want)
		}
		// The refusal gives the same sentences, all of them.
		_, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified})
		if err == nil || change.ErrorCode(err) != change.EConflict || err.Error() != strings.Join(want, " ") {
			t.Errorf("refusal = %v\nwant %s", err, strings.Join(want, " "))
		}
		for _, a := range d.Actions {
			if a.Kind == change.ActionDeficiency {
				must(s.CompleteAction(ctx, f.Initiator, a.ID, "plan issued"))(t)
			}
		}
		ok(t, s.Acknowledge(ctx, f.Reviewer, c.ID))
		d = must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if !slices.Contains(d.AllowedActions, change.ActAuthorizeStartup) || d.Blocked != nil {
			t.Errorf("ready for startup: allowed %v, blocked %v", d.AllowedActions, d.Blocked)
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
		if _, err := s.Get(ctx, f.Outsider, c.ID); change.ErrorCode(err) != change.ENotFound {
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

// The demo has one of each new path to walk through: a replacement in
// kind awaiting confirmation, an emergency change being implemented
// while its review runs, and a temporary change in service.
func TestDemoShowsEachControlPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := demo.Seed(ctx, db, change.SeedDemo); err != nil {
			t.Fatal(err)
		}
		audrey, err := auth.UserByEmail(ctx, db.SQL, "audrey@demo.mocpcr.local")
		if err != nil {
			t.Fatal(err)
		}
		svc := &change.Service{DB: db, Now: time.Now}
		get := func(q string) *change.Detail {
			t.Helper()
			cs, _, err := svc.List(ctx, audrey, change.Filter{Q: q})
			if err != nil || len(cs) != 1 {
				t.Fatalf("demo change %q: %v %d", q, err, len(cs))
			}
			return must(svc.Get(ctx, audrey, cs[0].ID))(t)
		}
		if d := get("P-205B"); d.Change.Stage != change.StageRIKConfirmation || !d.Change.ReplacementInKind {
			t.Errorf("RIK demo: %s", d.Change.Stage)
		}
		d := get("E-104")
		if !d.Change.UnderEmergency() || d.Change.ImplementationStage() != change.StageImplementation || d.Change.Stage != change.StageReview ||
			d.Signature(change.CPEmergency, 0) == nil || d.Change.ReviewDeadline == nil {
			t.Errorf("emergency demo: %+v", d.Change)
		}
		d = get("TK-301")
		if d.Change.Stage != change.StageInService || d.ApprovalSignature(d.Approvals[0].ID) == nil {
			t.Errorf("temporary demo: %s, signatures %+v", d.Change.Stage, d.Signatures)
		}
		if v := must(svc.VerifyAudit(ctx, audrey))(t); len(v.Broken) != 0 {
			t.Errorf("demo audit trail broken: %+v", v.Broken)
		}
	})
}
