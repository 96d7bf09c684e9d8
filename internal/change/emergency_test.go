package change_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// submitEmergency files an emergency MOC (expiring in 20 days, no review
// deadline of its own) and submits it with a mechanical review and a PSSR.
func submitEmergency(t *testing.T, f *changetest.Fixture) *change.Change {
	t.Helper()
	ctx := context.Background()
	fields := changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101A")
	temporary(20)(&fields)
	e := change.DurationEmergency
	fields.Duration = &e
	c := must(f.Service.Create(ctx, f.Initiator, fields))(t)
	return must(f.Service.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"mechanical"}, PSSRNeeded: true}))(t)
}

var emergencyAuth = change.TransitionRequest{Action: change.ActAuthorizeEmergency, Signature: verified}

// An emergency change is implemented first only once an approver or
// coordinator other than the initiator has signed its emergency
// authorisation; then implementation, PSSR and startup run while the
// reviews and approvals catch up, and the last approval joins the two.
func TestEmergencyImplementedFirstOnlyAfterSomeoneElsesSignedAuthorisation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start) // Monday 2 March 2026
		ctx := context.Background()
		s := f.Service
		mark := changetest.LastNotification(t, db)
		c := submitEmergency(t, f)
		if got := changetest.Notified(t, db, notify.TypeApprovalRequested, mark); !slices.Equal(got, []int64{f.Coordinator.ID, f.Approver.ID, f.Approver2.ID}) {
			t.Errorf("emergency authorisation asked of %v, want the site's coordinators and approvers", got)
		}
		complete := change.TransitionRequest{Action: change.ActCompleteImplementation}
		if _, err := s.Transition(ctx, f.Initiator, c.ID, complete); problem.KindOf(err) != problem.Conflict {
			t.Fatalf("implementation before authorisation: %v", err)
		}
		if _, err := s.Transition(ctx, f.Initiator, c.ID, emergencyAuth); problem.KindOf(err) != problem.Forbidden {
			t.Fatalf("initiator authorises own emergency: %v", err)
		}
		if _, err := s.Transition(ctx, f.Reviewer, c.ID, emergencyAuth); problem.KindOf(err) != problem.Forbidden {
			t.Fatalf("reviewer authorises: %v", err)
		}
		if w := must(s.MyWork(ctx, f.Approver))(t); len(w.ToConfirm) != 1 || w.ToConfirm[0].What != "authorise emergency implementation" {
			t.Errorf("approver's My work: %+v", w.ToConfirm)
		}
		if _, err := s.Transition(ctx, f.Approver, c.ID, change.TransitionRequest{Action: change.ActAuthorizeEmergency}); problem.KindOf(err) != problem.Reauth {
			t.Fatalf("unsigned authorisation: %v", err)
		}
		c = must(s.Transition(ctx, f.Approver, c.ID, emergencyAuth))(t)
		if c.EmergencyAuthorizedAt == nil || c.ReviewDeadline == nil || c.ReviewDeadline.Format(time.DateOnly) != "2026-03-03" ||
			c.Stage != change.StageScreening || c.ImplementationStage() != change.StageImplementation {
			t.Fatalf("after authorisation: %+v", c)
		}
		if _, err := s.Transition(ctx, f.Approver, c.ID, emergencyAuth); problem.KindOf(err) != problem.Conflict {
			t.Errorf("second authorisation: %v", err)
		}
		// Implementation, PSSR and startup while still in Screening.
		c = must(s.Transition(ctx, f.Initiator, c.ID, complete))(t)
		if c.Stage != change.StageScreening || c.EmergencyStage != change.StagePSSR {
			t.Fatalf("after implementation: stage %s, work %s", c.Stage, c.EmergencyStage)
		}
		d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
		for _, it := range d.PSSR {
			must(s.AnswerPSSR(ctx, f.Coordinator, it.ID, change.AnswerNA, "not affected", 0))(t)
		}
		f.SignOffPSSR(t, c.ID)
		if _, err := s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified}); problem.KindOf(err) != problem.Forbidden {
			t.Errorf("initiator authorises startup: %v", err)
		}
		c = must(s.Transition(ctx, f.Approver, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified}))(t)
		if c.Stage != change.StageScreening || c.EmergencyStage != change.StageInService || c.StartupAt == nil {
			t.Fatalf("after startup: stage %s work %s", c.Stage, c.EmergencyStage)
		}
		d = must(s.Get(ctx, f.Coordinator, c.ID))(t)
		steps := d.Steps()
		if st := stepOf(steps, "Screening"); st.State != change.StepCurrent {
			t.Errorf("Screening step %+v", st)
		}
		if st := stepOf(steps, "In service"); st.State != change.StepCurrent || !strings.Contains(st.Note, "before full review") ||
			!strings.Contains(st.Note, "2026-03-03") {
			t.Errorf("In service step %+v", st)
		}
		// The review and approval catch up.
		ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID))
		ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver2.ID}}))
		f.ConfirmScreening(t, c.ID)
		must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
		ok(t, s.DecideReview(ctx, f.Reviewer, c.ID, "", change.DecisionReviewed, ""))
		must(s.Decide(ctx, f.Approver2, c.ID, change.DecisionApproved, "", verified))(t)
		d = must(s.Get(ctx, f.Auditor, c.ID))(t)
		if d.Change.Stage != change.StageInService || d.Change.EmergencyStage != "" || d.Change.ApprovedAt == nil {
			t.Fatalf("after the full review: stage %s work %q approved %v", d.Change.Stage, d.Change.EmergencyStage, d.Change.ApprovedAt)
		}
		sig := d.Signature(change.CPEmergency, 0)
		if sig == nil || sig.PrintedName != "Arno" || sig.Meaning != "By signing I authorise "+c.Number+" for implementation before full review" {
			t.Errorf("emergency signature %+v", sig)
		}
		var actions []string
		for _, e := range must(s.AuditTrail(ctx, f.Auditor, c.ID))(t) {
			actions = append(actions, e.Action)
		}
		for _, a := range []string{"emergency_authorized", "emergency_stage", "emergency_review_complete"} {
			if !slices.Contains(actions, a) {
				t.Errorf("audit trail lacks %s: %v", a, actions)
			}
		}
		if st := stepOf(d.Steps(), "Implementation"); !strings.HasPrefix(st.Note, "started before full review") {
			t.Errorf("Implementation step after the review: %+v", st)
		}
	})
}

// The full review is due by the deadline: the people it waits for are
// reminded, after the deadline their managers are told, and the
// dashboard flags the change.
func TestEmergencyReviewDeadlineRemindsEscalatesAndFlags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := submitEmergency(t, f)
		must(s.Transition(ctx, f.Approver, c.ID, emergencyAuth))(t)
		ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID))
		ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver2.ID}}))
		f.ConfirmScreening(t, c.ID)
		must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)

		mark := changetest.LastNotification(t, db)
		must(s.RunReminders(ctx, start))(t) // the day before the deadline
		if got := changetest.Notified(t, db, notify.TypeReminder, mark); !slices.Equal(got, []int64{f.Reviewer.ID}) {
			t.Errorf("reminded the day before: %v, want the reviewer", got)
		}
		if dash := must(s.Dashboard(ctx, f.Coordinator))(t); len(dash[0].EmergencyReviewOverdue) != 0 {
			t.Errorf("flagged before the deadline: %v", dash[0].EmergencyReviewOverdue)
		}
		wednesday := start.AddDate(0, 0, 2)
		f.Clock.Set(wednesday)
		mark = changetest.LastNotification(t, db)
		must(s.RunReminders(ctx, wednesday))(t)
		if got := changetest.Notified(t, db, notify.TypeEmergencyOverdue, mark); !slices.Equal(got, []int64{f.Coordinator.ID, f.Initiator.ID}) {
			t.Errorf("overdue told to %v, want the coordinator and the initiator", got)
		}
		if got := changetest.Notified(t, db, notify.TypeEscalation, mark); !slices.Equal(got, []int64{f.Coordinator.ID}) {
			t.Errorf("escalated to %v, want the reviewer's manager", got)
		}
		dash := must(s.Dashboard(ctx, f.Coordinator))(t)
		var nrf change.SiteDashboard
		for _, d := range dash {
			if d.SiteID == f.NRF {
				nrf = d
			}
		}
		if !slices.Equal(nrf.EmergencyReviewOverdue, []string{c.Number}) {
			t.Errorf("dashboard flags %v, want %s", nrf.EmergencyReviewOverdue, c.Number)
		}
	})
}

// The review deadline counts working days in the site's time zone.
func TestReviewDeadlineIsTheNextWorkingDayInTheSitesZone(t *testing.T) {
	chicago, _ := time.LoadLocation("America/Chicago")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	friLate := time.Date(2026, 3, 6, 23, 30, 0, 0, time.UTC) // Friday evening in Chicago, Saturday morning in Tokyo
	thuLate := time.Date(2026, 3, 5, 23, 30, 0, 0, time.UTC) // Thursday in Chicago, Friday in Tokyo
	for _, tc := range []struct {
		at   time.Time
		loc  *time.Location
		n    int
		want string
	}{
		{friLate, chicago, 1, "2026-03-09"},
		{friLate, tokyo, 1, "2026-03-09"},
		{thuLate, chicago, 1, "2026-03-06"},
		{thuLate, tokyo, 1, "2026-03-09"},
		{thuLate, chicago, 2, "2026-03-09"},
	} {
		if got := change.WorkingDaysAfter(tc.at, tc.loc, tc.n).Format(time.DateOnly); got != tc.want {
			t.Errorf("%d working days after %s in %s = %s, want %s", tc.n, tc.at, tc.loc, got, tc.want)
		}
	}
}
