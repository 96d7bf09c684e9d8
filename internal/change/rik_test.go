package change_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// submitRIK files a complete MOC as who and submits it as a replacement in kind.
func submitRIK(t *testing.T, f *changetest.Fixture, who *auth.User) *change.Change {
	t.Helper()
	ctx := context.Background()
	c := must(f.Service.Create(ctx, who, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101A")))(t)
	return must(f.Service.Submit(ctx, who, c.ID, change.Screening{ReplacementInKind: true}))(t)
}

// A replacement in kind no longer closes on the initiator's word: it
// waits, visibly, for a coordinator or an approver of the site, and only
// their signed confirmation closes it. The initiator cannot confirm it
// even when they hold both roles.
func TestReplacementInKindClosesOnlyOnSomeoneElsesSignedConfirmation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		mark := changetest.LastNotification(t, db)
		// Cora is coordinator, approver and initiator: she files the claim.
		c := submitRIK(t, f, f.Coordinator)
		if c.Stage != change.StageRIKConfirmation || !c.ReplacementInKind || c.ClosedAt != nil {
			t.Fatalf("submitted RIK: stage %s, rik %v, closed %v", c.Stage, c.ReplacementInKind, c.ClosedAt)
		}
		got := changetest.Notified(t, db, notify.TypeApprovalRequested, mark)
		if want := []int64{f.Approver.ID, f.Approver2.ID}; !slices.Equal(got, want) {
			t.Errorf("confirmation requested from %v, want the site's approvers %v (not the initiator)", got, want)
		}
		confirm := change.TransitionRequest{Action: change.ActConfirmRIK, Signature: verified}
		for _, who := range []*auth.User{f.Coordinator, f.Reviewer, f.Outsider} {
			if _, err := s.Transition(ctx, who, c.ID, confirm); err == nil {
				t.Errorf("%s confirmed the replacement in kind", who.Name)
			}
		}
		if d := must(s.Get(ctx, f.Coordinator, c.ID))(t); slices.Contains(d.AllowedActions, change.ActConfirmRIK) || len(d.ToSign) != 0 {
			t.Errorf("the initiator is offered the confirmation: %v %v", d.AllowedActions, d.ToSign)
		}
		w := must(s.MyWork(ctx, f.Approver))(t)
		if len(w.ToConfirm) != 1 || w.ToConfirm[0].ChangeID != c.ID {
			t.Errorf("approver's My work to confirm: %+v", w.ToConfirm)
		}
		if w := must(s.MyWork(ctx, f.Coordinator))(t); len(w.ToConfirm) != 0 {
			t.Errorf("the initiator's My work asks them to confirm their own claim: %+v", w.ToConfirm)
		}
		d := must(s.Get(ctx, f.Approver, c.ID))(t)
		if st, ok := d.Statement(change.ActConfirmRIK, ""); !ok || st.Meaning != "By signing I confirm "+c.Number+" as a replacement in kind: same specification" {
			t.Errorf("confirmation statement %+v (%v)", st, ok)
		}
		if steps := d.Steps(); steps[1].State != change.StepCurrent || steps[2].State != change.StepSkipped {
			t.Errorf("steps while awaiting confirmation: %+v", steps)
		}
		if _, err := s.Transition(ctx, f.Approver, c.ID, change.TransitionRequest{Action: change.ActConfirmRIK}); problem.KindOf(err) != problem.Reauth {
			t.Errorf("unsigned confirmation: %v", err)
		}
		c = must(s.Transition(ctx, f.Approver, c.ID, confirm))(t)
		if c.Stage != change.StageClosed || !strings.Contains(c.ClosedNote, "confirmed by Arno") {
			t.Fatalf("after confirmation: %s %q", c.Stage, c.ClosedNote)
		}
		d = must(s.Get(ctx, f.Auditor, c.ID))(t)
		if sig := d.Signature(change.CPRIK, 0); sig == nil || sig.PrintedName != "Arno" || sig.JobTitle != "Operations Superintendent" {
			t.Errorf("RIK confirmation signature %+v", sig)
		}
		var labels []string
		for _, st := range d.Steps() {
			labels = append(labels, st.Label+":"+st.State+":"+st.Note)
		}
		want := []string{"Draft:done:", "Replacement-in-kind confirmation:done:confirmed by Arno", "Review:skipped:not needed: replacement in kind",
			"Approval:skipped:not needed: replacement in kind", "Closed:done:"}
		if !slices.Equal(labels, want) {
			t.Errorf("steps of a confirmed RIK:\n%v\nwant\n%v", labels, want)
		}
	})
}

// A rejected claim goes back to the initiator with the reason and then
// through the normal flow.
func TestRejectedReplacementInKindGoesThroughNormalFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := submitRIK(t, f, f.Initiator)
		if _, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActRejectRIK, Comment: " "}); problem.KindOf(err) != problem.Invalid ||
			!strings.HasPrefix(err.Error(), "comment: is required") {
			t.Fatalf("rejection without a reason: %v", err)
		}
		c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActRejectRIK, Comment: "new seal is a different material"}))(t)
		if c.Stage != change.StageReturned || !strings.Contains(c.ReturnComment, "Not a replacement in kind") || !strings.Contains(c.ReturnComment, "different material") {
			t.Fatalf("after rejection: %s %q", c.Stage, c.ReturnComment)
		}
		c = must(s.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"mechanical"}}))(t)
		if c.Stage != change.StageScreening || c.ReplacementInKind {
			t.Errorf("resubmitted with full screening: %s rik=%v", c.Stage, c.ReplacementInKind)
		}
	})
}

// Auditors list the replacement-in-kind changes (filter and CSV columns,
// with who confirmed each and when) to sample them.
func TestReplacementInKindListedForAuditors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		rik := submitRIK(t, f, f.Initiator)
		toStage(t, f, change.StageScreening, nil)
		cs, n := listed(t, f, change.Filter{ReplacementInKind: true})
		if n != 1 || cs[0].ID != rik.ID {
			t.Fatalf("RIK filter: %d changes %+v", n, cs)
		}
		must(f.Service.Transition(context.Background(), f.Coordinator, rik.ID, change.TransitionRequest{Action: change.ActConfirmRIK, Signature: verified}))(t)
		all, _ := listed(t, f, change.Filter{})
		ok(t, f.Service.WithRIKConfirmations(context.Background(), all))
		var buf bytes.Buffer
		ok(t, change.WriteCSV(&buf, all))
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := func(name string) int { return slices.Index(rows[0], name) }
		if col("replacement_in_kind") < 0 || col("rik_confirmed_by") < 0 || col("rik_confirmed_at") < 0 {
			t.Fatalf("CSV header %q", rows[0])
		}
		var yes int
		for _, r := range rows[1:] {
			if r[col("replacement_in_kind")] != "yes" {
				if r[col("rik_confirmed_by")] != "" {
					t.Errorf("%s is no replacement in kind but names a confirmer %q", r[0], r[col("rik_confirmed_by")])
				}
				continue
			}
			yes++
			if r[0] != rik.Number || r[col("rik_confirmed_by")] != f.Coordinator.Name || !strings.HasSuffix(r[col("rik_confirmed_at")], "Z") {
				t.Errorf("RIK row %q: want %s confirmed by %s with the time", r, rik.Number, f.Coordinator.Name)
			}
		}
		if yes != 1 {
			t.Errorf("CSV marks %d changes as replacement in kind, want 1:\n%s", yes, buf.String())
		}
	})
}

// listed is what the auditor's List returns for filter.
func listed(t *testing.T, f *changetest.Fixture, filter change.Filter) ([]change.Change, int) {
	t.Helper()
	cs, n, err := f.Service.List(context.Background(), f.Auditor, filter)
	if err != nil {
		t.Fatal(err)
	}
	return cs, n
}
