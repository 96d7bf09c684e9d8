package change_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// toApproval brings a change to the approval stage with the given
// approval stages.
func toApproval(t *testing.T, f *changetest.Fixture, stages [][]int64) *change.Change {
	t.Helper()
	ctx := context.Background()
	s := f.Service
	c := toStage(t, f, change.StageScreening, nil)
	ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, stages))
	must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
	ok(t, s.DecideReview(ctx, f.Reviewer, c.ID, "", change.DecisionReviewed, ""))
	return c
}

// offered reports whether the change page (Detail.ApprovalFor) and My
// work offer actor an approval to sign on change c now.
func offered(t *testing.T, f *changetest.Fixture, c *change.Change, actor *auth.User) (page, work bool) {
	t.Helper()
	ctx := context.Background()
	d := must(f.Service.Get(ctx, actor, c.ID))(t)
	ap, _ := d.ApprovalFor(actor.ID)
	w := must(f.Service.MyWork(ctx, actor))(t)
	return ap != nil, slices.ContainsFunc(w.Approvals, func(it change.WorkItem) bool { return it.ChangeID == c.ID })
}

// A delegate who is an approver of the same change in another stage
// would put two signatures of one person in one round: the delegated
// one is neither offered nor accepted, and the approver keeps it.
func TestDelegateWhoApprovesAnotherStageIsNotOfferedTheDelegatedSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		must(s.CreateDelegation(ctx, f.Approver, f.Approver2.ID, start, start.AddDate(0, 0, 7), "holiday"))(t)
		c := toApproval(t, f, [][]int64{{f.Approver.ID}, {f.Approver2.ID}})

		if page, work := offered(t, f, c, f.Approver2); page || work {
			t.Errorf("Anke, approver of stage 2, is offered Arno's stage 1 signature (page %v, My work %v)", page, work)
		}
		if got := changetest.Notified(t, db, notify.TypeApprovalRequested, 0); !slices.Equal(got, []int64{f.Approver.ID}) {
			t.Errorf("stage 1 approval request went to %v, want only Arno (%d): Anke may not decide it", got, f.Approver.ID)
		}
		_, err := s.Decide(ctx, f.Approver2, c.ID, change.DecisionApproved, "", verified)
		if problem.KindOf(err) != problem.Forbidden || !strings.Contains(err.Error(), "nobody signs twice in one round") {
			t.Fatalf("Anke signing for Arno: %v, want a refusal saying nobody signs twice in one round", err)
		}
		must(s.Decide(ctx, f.Approver, c.ID, change.DecisionApproved, "", verified))(t)
		if page, _ := offered(t, f, c, f.Approver2); !page {
			t.Error("Anke is not offered her own stage 2 approval")
		}
	})
}

// A delegate who signed one stage for somebody may not sign the next
// stage for somebody else: that too is one person signing twice.
func TestDelegateWhoSignedThisRoundIsRefusedAnotherDelegatedSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		must(s.CreateDelegation(ctx, f.Approver, f.Approver2.ID, start, start.AddDate(0, 0, 7), "holiday"))(t)
		must(s.CreateDelegation(ctx, f.Coordinator, f.Approver2.ID, start, start.AddDate(0, 0, 7), "training"))(t)
		c := toApproval(t, f, [][]int64{{f.Approver.ID}, {f.Coordinator.ID}})

		if page, work := offered(t, f, c, f.Approver2); !page || !work {
			t.Fatalf("Anke is not offered Arno's stage 1 signature (page %v, My work %v)", page, work)
		}
		ap := must(s.Decide(ctx, f.Approver2, c.ID, change.DecisionApproved, "", verified))(t)
		if !ap.OnBehalfOf || ap.ApproverID != f.Approver.ID || ap.DecidedBy != f.Approver2.ID || ap.SignedName != "Anke on behalf of Arno" {
			t.Fatalf("delegated approval recorded as %+v", ap)
		}
		trail := must(s.AuditTrail(ctx, f.Auditor, c.ID))(t)
		if !slices.ContainsFunc(trail, func(e change.AuditEntry) bool {
			return e.Action == "approval_approved" && e.ActorID == f.Approver2.ID && e.OnBehalfOf == "Arno"
		}) {
			t.Error("audit trail does not show Anke acting on behalf of Arno")
		}
		if page, work := offered(t, f, c, f.Approver2); page || work {
			t.Errorf("Anke, who signed stage 1, is offered Cora's stage 2 signature (page %v, My work %v)", page, work)
		}
		_, err := s.Decide(ctx, f.Approver2, c.ID, change.DecisionApproved, "", verified)
		if problem.KindOf(err) != problem.Forbidden || !strings.Contains(err.Error(), "already signed in this round") {
			t.Fatalf("Anke signing stage 2 for Cora: %v, want a refusal", err)
		}
		must(s.Decide(ctx, f.Coordinator, c.ID, change.DecisionApproved, "", verified))(t)
	})
}

// An extension of a temporary change is decided by the people who
// approved the change (or their delegates), not by whoever holds the
// approver role on the site.
func TestExtensionIsDecidedOnlyByTheChangesApproversOrTheirDelegates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StageInService, temporary(30))
		ok(t, s.RequestExtension(ctx, f.Initiator, c.ID, start.AddDate(0, 0, 45), "parts late"))

		d := must(s.Get(ctx, f.Approver2, c.ID))(t)
		if slices.Contains(d.AllowedActions, change.ActDecideExtension) {
			t.Error("Anke, an approver of the site but not of the change, is offered the extension decision")
		}
		err := s.DecideExtension(ctx, f.Approver2, c.ID, change.DecisionApproved, "", verified)
		if problem.KindOf(err) != problem.Forbidden || !strings.Contains(err.Error(), "only the approvers of") {
			t.Fatalf("Anke deciding the extension: %v, want a refusal naming the change's approvers", err)
		}

		// Arno approved the change; his delegate may decide for him.
		f.Clock.Advance(time.Hour)
		must(s.CreateDelegation(ctx, f.Approver, f.Approver2.ID, f.Clock.Now(), f.Clock.Now().AddDate(0, 0, 7), "holiday"))(t)
		d = must(s.Get(ctx, f.Approver2, c.ID))(t)
		if !slices.Contains(d.AllowedActions, change.ActDecideExtension) {
			t.Errorf("Arno's delegate is not offered the extension decision: %v", d.AllowedActions)
		}
		ok(t, s.DecideExtension(ctx, f.Approver2, c.ID, change.DecisionApproved, "", verified))
	})
}
