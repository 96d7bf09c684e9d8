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

// temporary makes fl a temporary change expiring in days.
func temporary(days int) func(*change.Fields) {
	return func(fl *change.Fields) {
		d := change.DurationTemporary
		exp := start.AddDate(0, 0, days)
		pe := &exp
		fl.Duration, fl.ExpiresOn = &d, &pe
	}
}

func stepOf(steps []change.Step, label string) change.Step {
	for _, s := range steps {
		if s.Label == label {
			return s
		}
	}
	return change.Step{}
}

// After startup a temporary change is In service, counting down to its
// expiry; only then can it be made permanent or reverted.
func TestTemporaryChangeInServiceAfterStartupWithCountdown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		impl := toStage(t, f, change.StageImplementation, temporary(30))
		d := must(s.Get(ctx, f.Coordinator, impl.ID))(t)
		for _, a := range []change.Action{change.ActMakePermanent, change.ActRevert} {
			if slices.Contains(d.AllowedActions, a) {
				t.Errorf("%s offered in Implementation", a)
			}
			if _, err := s.Transition(ctx, f.Coordinator, impl.ID, change.TransitionRequest{Action: a, Comment: "x"}); problem.KindOf(err) != problem.Conflict {
				t.Errorf("%s in Implementation: %v, want a conflict", a, err)
			}
		}
		c := toStage(t, f, change.StageInService, temporary(30))
		d = must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if !slices.Contains(d.AllowedActions, change.ActMakePermanent) || !slices.Contains(d.AllowedActions, change.ActRevert) ||
			slices.Contains(d.AllowedActions, change.ActClose) {
			t.Errorf("in service the coordinator may %v", d.AllowedActions)
		}
		st := stepOf(d.Steps(), "In service")
		if st.State != change.StepCurrent || st.Note != "expires in 30 days" {
			t.Errorf("In service step %+v", st)
		}
		if cs, _ := listed(t, f, change.Filter{Stage: change.StageInService}); len(cs) != 1 || cs[0].ID != c.ID {
			t.Errorf("list of changes in service: %+v", cs)
		}
	})
}

// Making a temporary change permanent is a signed re-approval by the
// change's approvers, in a new round: the coordinator asks, the
// approvers (or their delegates) sign, and until they do it stays
// temporary. The initiator cannot do any of it.
func TestMakePermanentNeedsSignedReapprovalByTheApprovers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StageInService, temporary(30))
		ask := change.TransitionRequest{Action: change.ActMakePermanent, Comment: "The bypass proved safe; keep it"}
		if _, err := s.Transition(ctx, f.Initiator, c.ID, ask); problem.KindOf(err) != problem.Forbidden {
			t.Fatalf("initiator asks to make permanent: %v", err)
		}
		if _, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActMakePermanent}); problem.KindOf(err) != problem.Invalid {
			t.Fatalf("make permanent without a reason: %v", err)
		}
		must(s.CreateDelegation(ctx, f.Approver, f.Approver2.ID, start, start.AddDate(0, 0, 5), "away"))(t)
		mark := changetest.LastNotification(t, db)
		c = must(s.Transition(ctx, f.Coordinator, c.ID, ask))(t)
		if c.Stage != change.StageApproval || c.Round != 2 || c.PermanentRound != 2 || c.Duration != change.DurationTemporary || !c.Converting() {
			t.Fatalf("after asking: stage %s round %d permanent round %d %s", c.Stage, c.Round, c.PermanentRound, c.Duration)
		}
		if got, want := changetest.Notified(t, db, notify.TypeApprovalRequested, mark), []int64{f.Approver.ID, f.Approver2.ID}; !slices.Equal(got, want) {
			t.Errorf("re-approval requested from %v, want the approver and his delegate %v", got, want)
		}
		if got := changetest.Notified(t, db, notify.TypeSubmitted, mark); !slices.Equal(got, []int64{f.Initiator.ID}) {
			t.Errorf("initiator told of the request: %v", got)
		}
		if _, err := s.Decide(ctx, f.Initiator, c.ID, change.DecisionApproved, "", verified); problem.KindOf(err) != problem.Forbidden {
			t.Errorf("initiator re-approves: %v", err)
		}
		d := must(s.Get(ctx, f.Approver2, c.ID))(t)
		st, _ := d.Statement(change.ActApprove, change.DecisionApproved)
		want := "By signing I approve making temporary change " + c.Number + " permanent as approver, stage 1, on behalf of Arno"
		if st.Meaning != want {
			t.Errorf("re-approval meaning %q, want %q", st.Meaning, want)
		}
		if _, err := s.Decide(ctx, f.Approver2, c.ID, change.DecisionApproved, "", change.Signature{}); problem.KindOf(err) != problem.Reauth {
			t.Errorf("unsigned re-approval: %v", err)
		}
		must(s.Decide(ctx, f.Approver2, c.ID, change.DecisionApproved, "", verified))(t)
		d = must(s.Get(ctx, f.Auditor, c.ID))(t)
		c = d.Change
		if c.Duration != change.DurationPermanent || c.ExpiresOn != nil || c.Stage != change.StageCloseout {
			t.Fatalf("after re-approval: %s expires %v stage %s", c.Duration, c.ExpiresOn, c.Stage)
		}
		sig := d.Signature(change.CPMakePermanent, 0)
		if sig == nil || sig.Meaning != want || sig.PrintedName != "Anke" || sig.OnBehalfOf != "Arno" {
			t.Errorf("make-permanent signature %+v", sig)
		}
		trail := must(s.AuditTrail(ctx, f.Auditor, c.ID))(t)
		var actions []string
		for _, e := range trail {
			actions = append(actions, e.Action)
		}
		for _, a := range []string{"make_permanent_requested", "made_permanent"} {
			if !slices.Contains(actions, a) {
				t.Errorf("audit trail lacks %s: %v", a, actions)
			}
		}
		if st := stepOf(d.Steps(), "In service"); st.State != change.StepDone || st.Note != "made permanent" {
			t.Errorf("In service step after conversion: %+v", st)
		}
	})
}

// The coordinator may ask for a re-review first; a refusal there keeps
// the change temporary and in service, it is not returned for revision.
func TestMakePermanentRereviewRefusedKeepsItInService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StageInService, temporary(30))
		c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActMakePermanent, Comment: "keep it", Rereview: true}))(t)
		if c.Stage != change.StageReview {
			t.Fatalf("re-review asked: stage %s", c.Stage)
		}
		if w := must(s.MyWork(ctx, f.Reviewer))(t); len(w.Reviews) != 1 {
			t.Errorf("reviewer's My work: %+v", w.Reviews)
		}
		if _, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActReturn, Comment: "x"}); problem.KindOf(err) != problem.Conflict {
			t.Errorf("return during the re-review: %v", err)
		}
		mark := changetest.LastNotification(t, db)
		ok(t, s.DecideReview(ctx, f.Reviewer, c.ID, "", change.DecisionRejected, "seal wear not acceptable long-term"))
		d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if d.Change.Stage != change.StageInService || d.Change.Duration != change.DurationTemporary || d.Change.ExpiresOn == nil {
			t.Fatalf("after refused re-review: %s %s", d.Change.Stage, d.Change.Duration)
		}
		if got := changetest.Notified(t, db, notify.TypeRejected, mark); !slices.Contains(got, f.Initiator.ID) || !slices.Contains(got, f.Coordinator.ID) {
			t.Errorf("refusal told to %v", got)
		}
		if !slices.Contains(d.AllowedActions, change.ActRevert) {
			t.Errorf("after refusal the coordinator may not revert: %v", d.AllowedActions)
		}
	})
}

// Extensions are limited per site, and a refusal names the limit.
func TestExtensionLimitsNamedInRefusal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		must(s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{MaxExtensions: ptr(1), MaxTemporaryDays: ptr(90)}))(t)
		// The total holds from filing: a temporary change cannot be filed
		// for longer than the site allows and then never extended.
		long := changetest.Complete(change.KindMOC, f.NRF, f.CDU)
		temporary(120)(&long)
		if _, err := s.Create(ctx, f.Initiator, long); problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), "expires_on") || !strings.Contains(err.Error(), "at most 90 days (maximum total duration)") {
			t.Errorf("filing a temporary change past the total duration: %v", err)
		}
		c := toStage(t, f, change.StageInService, temporary(30))
		err := s.RequestExtension(ctx, f.Initiator, c.ID, start.AddDate(0, 0, 120), "parts late")
		if problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), "maximum total duration") || !strings.Contains(err.Error(), "at most 90 days") {
			t.Errorf("extension past the total duration: %v", err)
		}
		ok(t, s.RequestExtension(ctx, f.Initiator, c.ID, start.AddDate(0, 0, 60), "parts late"))
		ok(t, s.DecideExtension(ctx, f.Approver, c.ID, change.DecisionApproved, "", verified))
		err = s.RequestExtension(ctx, f.Initiator, c.ID, start.AddDate(0, 0, 80), "still late")
		if problem.KindOf(err) != problem.Conflict || !strings.Contains(err.Error(), "maximum number of extensions: 1") {
			t.Errorf("second extension: %v", err)
		}
		if _, err := s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{MaxExtensions: ptr(-1), MaxTemporaryDays: ptr(99999)}); err == nil ||
			!strings.Contains(err.Error(), "max_extensions") {
			t.Errorf("bad limits: %v", err)
		}
	})
}

// Reverting creates the restore actions; the change closes only once
// they are done.
func TestRevertCreatesRestoreActionsAndClosesWhenDone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StageInService, temporary(30))
		c = must(s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActRevert, Comment: "bypass removed"}))(t)
		if c.Stage != change.StageCloseout || c.RevertedAt == nil {
			t.Fatalf("after revert: %s %v", c.Stage, c.RevertedAt)
		}
		d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
		var restore []change.ActionItem
		for _, a := range d.Actions {
			if a.Status == change.ActionOpen {
				restore = append(restore, a)
			}
		}
		if len(restore) != 3 || !strings.Contains(restore[0].Title, "P-101A") || restore[1].Kind != change.ActionPSI || restore[2].Kind != change.ActionProcedure {
			t.Fatalf("restore actions: %+v", restore)
		}
		// The owner is told the restore actions are due before close-out,
		// not "after startup" as if the change were starting up.
		var body string
		if err := db.SQL.QueryRow(`SELECT body FROM notifications WHERE type = $1 AND title LIKE $2`,
			string(notify.TypeActionAssigned), "%Remove the temporary%").Scan(&body); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, "before close-out") || strings.Contains(body, "startup") {
			t.Errorf("restore action notification: %q", body)
		}
		if _, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActClose, Signature: verified}); problem.KindOf(err) != problem.Conflict ||
			!strings.Contains(err.Error(), "3 actions are still open") {
			t.Errorf("close with restore actions open: %v", err)
		}
		for _, a := range restore {
			must(s.CompleteAction(ctx, f.Initiator, a.ID, "done"))(t)
		}
		c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActClose, Signature: verified}))(t)
		if c.Stage != change.StageClosed {
			t.Fatalf("close after restore: %s", c.Stage)
		}
		if st := stepOf(must(s.Get(ctx, f.Auditor, c.ID))(t).Steps(), "In service"); !strings.HasPrefix(st.Note, "reverted ") {
			t.Errorf("In service step of a reverted change: %+v", st)
		}
	})
}
