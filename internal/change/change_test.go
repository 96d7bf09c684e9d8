package change_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
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

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var verified = change.Signature{Verified: true, Method: "password"}

// must(f())(t) fails the test when f returned an error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// toStage drives a new MOC at NRF/CDU-1 to the given stage.
func toStage(t *testing.T, f *changetest.Fixture, stage change.Stage, mod func(*change.Fields)) *change.Change {
	t.Helper()
	ctx := context.Background()
	s := f.Service
	fields := changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101A")
	if mod != nil {
		mod(&fields)
	}
	c := must(s.Create(ctx, f.Initiator, fields))(t)
	if stage == change.StageDraft {
		return c
	}
	c = must(s.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"mechanical"}, PSSRNeeded: true}))(t)
	ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID))
	ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}}))
	f.ConfirmScreening(t, c.ID)
	if stage == change.StageScreening {
		return c
	}
	c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
	if stage == change.StageReview {
		return c
	}
	ok(t, s.DecideReview(ctx, f.Reviewer, c.ID, "", change.DecisionReviewed, ""))
	if stage == change.StageApproval {
		return c
	}
	must(s.Decide(ctx, f.Approver, c.ID, change.DecisionApproved, "", verified))(t)
	if stage == change.StageImplementation {
		return c
	}
	c = must(s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActCompleteImplementation}))(t)
	if stage == change.StagePSSR {
		return c
	}
	d := must(s.Get(ctx, f.Coordinator, c.ID))(t)
	for _, it := range d.PSSR {
		ans := change.AnswerNA
		must(s.AnswerPSSR(ctx, f.Coordinator, it.ID, ans, "does not apply to a seal change", 0))(t)
	}
	f.SignOffPSSR(t, c.ID)
	c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified}))(t)
	if stage == change.StageCloseout || stage == change.StageInService {
		if c.Stage != stage {
			t.Fatalf("toStage(%s) ended in %s", stage, c.Stage)
		}
		return c
	}
	c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActClose, Signature: verified}))(t)
	if c.Stage != stage {
		t.Fatalf("toStage(%s) ended in %s", stage, c.Stage)
	}
	return c
}

func TestNumbersUniqueUnderConcurrentCreation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		const creators = 30
		var wg sync.WaitGroup
		numbers := make(chan string, 2*creators)
		errs := make(chan error, 2*creators)
		for i := range 2 * creators {
			wg.Add(1)
			go func() {
				defer wg.Done()
				kind := change.KindMOC
				if i%2 == 1 {
					kind = change.KindPCR
				}
				c, err := f.Service.Create(context.Background(), f.Initiator, changetest.Complete(kind, f.NRF, f.CDU))
				if err != nil {
					errs <- err
					return
				}
				numbers <- c.Number
			}()
		}
		wg.Wait()
		close(numbers)
		close(errs)
		for err := range errs {
			t.Errorf("create: %v", err)
		}
		seen := map[string]bool{}
		pattern := regexp.MustCompile(`^(MOC|PCR)-2026-\d{4}$`)
		for n := range numbers {
			if seen[n] {
				t.Errorf("number %s given twice", n)
			}
			if !pattern.MatchString(n) {
				t.Errorf("number %q does not look like MOC-2026-0042", n)
			}
			seen[n] = true
		}
		for _, k := range []string{"MOC", "PCR"} {
			for i := 1; i <= creators; i++ {
				if n := fmt.Sprintf("%s-2026-%04d", k, i); !seen[n] {
					t.Errorf("%s missing: numbers are not a gap-free sequence", n)
				}
			}
		}
	})
}

// Every refused transition is refused with the right code, and refused
// actions are exactly the ones AllowedActions leaves out.
func TestRefusedTransitions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		cases := []struct {
			stage  change.Stage
			actor  string
			action change.Action
			want   problem.Kind
		}{
			{change.StageDraft, "reviewer", change.ActSubmit, problem.Forbidden},
			{change.StageDraft, "coordinator", change.ActSubmit, problem.Forbidden},
			{change.StageDraft, "coordinator", change.ActStartReview, problem.Conflict},
			{change.StageDraft, "coordinator", change.ActClose, problem.Conflict},
			{change.StageDraft, "auditor", change.ActVoid, problem.Forbidden},
			{change.StageDraft, "outsider", change.ActVoid, problem.NotFound},
			{change.StageDraft, "initiator", change.ActReturn, problem.Forbidden},
			{change.StageScreening, "initiator", change.ActStartReview, problem.Forbidden},
			{change.StageScreening, "initiator", change.ActSubmit, problem.Conflict},
			{change.StageScreening, "coordinator", change.ActCompleteImplementation, problem.Conflict},
			{change.StageReview, "coordinator", change.ActStartReview, problem.Conflict},
			{change.StageReview, "approver", change.ActAuthorizeStartup, problem.Conflict},
			{change.StageReview, "initiator", change.ActClose, problem.Forbidden},
			{change.StageApproval, "initiator", change.ActCompleteImplementation, problem.Conflict},
			{change.StageApproval, "coordinator", change.ActAuthorizeStartup, problem.Conflict},
			{change.StageImplementation, "coordinator", change.ActReturn, problem.Conflict},
			{change.StageImplementation, "coordinator", change.ActAuthorizeStartup, problem.Conflict},
			{change.StageImplementation, "reviewer", change.ActCompleteImplementation, problem.Forbidden},
			{change.StagePSSR, "initiator", change.ActAuthorizeStartup, problem.Forbidden},
			{change.StagePSSR, "coordinator", change.ActClose, problem.Conflict},
			{change.StagePSSR, "coordinator", change.ActRevert, problem.Conflict},
			{change.StageCloseout, "initiator", change.ActClose, problem.Forbidden},
			{change.StageCloseout, "coordinator", change.ActReturn, problem.Conflict},
			{change.StageClosed, "coordinator", change.ActVoid, problem.Conflict},
			{change.StageClosed, "admin", change.ActVoid, problem.Conflict},
			{change.StageClosed, "coordinator", change.ActClose, problem.Conflict},
		}
		byStage := map[change.Stage]*change.Change{}
		users := f.Users()
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s/%s", tc.stage, tc.actor, tc.action), func(t *testing.T) {
				c := byStage[tc.stage]
				if c == nil {
					c = toStage(t, f, tc.stage, nil)
					byStage[tc.stage] = c
				}
				actor := users[tc.actor]
				if tc.want != problem.NotFound {
					d := must(f.Service.Get(ctx, actor, c.ID))(t)
					if slices.Contains(d.AllowedActions, tc.action) {
						t.Errorf("AllowedActions offers %s to %s in %s", tc.action, tc.actor, tc.stage)
					}
				}
				var err error
				if tc.action == change.ActSubmit {
					_, err = f.Service.Submit(ctx, actor, c.ID, change.Screening{Disciplines: []string{"process"}})
				} else {
					_, err = f.Service.Transition(ctx, actor, c.ID, change.TransitionRequest{Action: tc.action, Comment: "because", Signature: verified})
				}
				if problem.KindOf(err) != tc.want {
					t.Fatalf("err = %v (code %q), want code %q", err, problem.KindOf(err), tc.want)
				}
				if err.Error() == "" {
					t.Error("refusal without a message")
				}
				after := must(f.Service.Get(ctx, f.Coordinator, c.ID))(t)
				if after.Change.Stage != tc.stage {
					t.Errorf("stage moved to %s on a refused transition", after.Change.Stage)
				}
			})
		}
	})
}

func TestSubmitNeedsOSHAFieldsAndScreening(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		c := toStage(t, f, change.StageDraft, func(fl *change.Fields) { fl.TechnicalBasis = changetest.Str("") })
		_, err := f.Service.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"process"}})
		if problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), "technical_basis") {
			t.Fatalf("submit without technical basis: %v", err)
		}
		pcr := must(f.Service.Create(ctx, f.Initiator, changetest.Complete(change.KindPCR, f.NRF, f.CDU)))(t)
		_, err = f.Service.Submit(ctx, f.Initiator, pcr.ID, change.Screening{PSSRNeeded: true})
		if problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), "screening.pssr_needed") {
			t.Fatalf("PCR with PSSR: %v", err)
		}
		// Replacement in kind skips review but waits for its confirmation.
		rik := must(f.Service.Submit(ctx, f.Initiator, pcr.ID, change.Screening{ReplacementInKind: true}))(t)
		if rik.Stage != change.StageRIKConfirmation || rik.ClosedAt != nil {
			t.Fatalf("replacement in kind: stage %s", rik.Stage)
		}
		// Temporary needs an expiry date; an emergency change may leave its
		// review deadline to the emergency authorisation.
		tmp := changetest.Complete(change.KindMOC, f.NRF, f.CDU)
		d := change.DurationTemporary
		tmp.Duration = &d
		if _, err := f.Service.Create(ctx, f.Initiator, tmp); problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), "expires_on") {
			t.Errorf("temporary without expiry: %v", err)
		}
		e := change.DurationEmergency
		tmp.Duration = &e
		exp := start.AddDate(0, 1, 0)
		pe := &exp
		tmp.ExpiresOn = &pe
		if em, err := f.Service.Create(ctx, f.Initiator, tmp); err != nil || em.ReviewDeadline != nil {
			t.Errorf("emergency without review deadline: %v %v", em, err)
		}
		past := start.AddDate(0, 0, -1)
		pp := &past
		tmp.ReviewDeadline = &pp
		if _, err := f.Service.Create(ctx, f.Initiator, tmp); problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), "review_deadline: must not be in the past") {
			t.Errorf("emergency with a past review deadline: %v", err)
		}
	})
}

func TestSelfApprovalRefusedAndDelegationRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		// The coordinator files a change and tries to approve it.
		fields := changetest.Complete(change.KindMOC, f.NRF, f.CDU)
		c := must(s.Create(ctx, f.Coordinator, fields))(t)
		must(s.Submit(ctx, f.Coordinator, c.ID, change.Screening{Disciplines: []string{"process"}}))(t)
		if err := s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Coordinator.ID}}); problem.KindOf(err) != problem.Invalid ||
			!strings.Contains(err.Error(), "own change") {
			t.Fatalf("initiator as approver: %v", err)
		}
		ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "process", f.Reviewer.ID))
		if err := s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}, {f.Approver2.ID, f.Approver.ID}}); problem.KindOf(err) != problem.Invalid ||
			!strings.Contains(err.Error(), "signs once per round") {
			t.Fatalf("one approver in two stages: %v", err)
		}
		ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}, {f.Approver2.ID}}))
		// Another coordinator confirms the screening of Cora's own change.
		cody := must(auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "cody@plant.test", Name: "Cody",
			Roles: []auth.Role{auth.RoleCoordinator}, AllSites: true}))(t)
		f.ConfirmScreeningAs(t, cody, c.ID)
		must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
		ok(t, s.DecideReview(ctx, f.Reviewer, c.ID, "process", change.DecisionReviewed, ""))
		// Arno delegated to the coordinator — still no self-approval.
		must(s.CreateDelegation(ctx, f.Approver, f.Coordinator.ID, start, start.AddDate(0, 0, 7), "holiday"))(t)
		if _, err := s.Decide(ctx, f.Coordinator, c.ID, change.DecisionApproved, "", verified); problem.KindOf(err) != problem.Forbidden ||
			!strings.Contains(err.Error(), "own change") {
			t.Fatalf("self-approval through delegation: %v", err)
		}
		// Stage 2 approver cannot act before stage 1.
		if _, err := s.Decide(ctx, f.Approver2, c.ID, change.DecisionApproved, "", verified); problem.KindOf(err) != problem.Forbidden {
			t.Fatalf("stage 2 before stage 1: %v", err)
		}
		// Unsigned approval is refused.
		if _, err := s.Decide(ctx, f.Approver, c.ID, change.DecisionApproved, "", change.Signature{}); problem.KindOf(err) != problem.Reauth {
			t.Fatalf("unsigned approval: %v", err)
		}
		must(s.Decide(ctx, f.Approver, c.ID, change.DecisionApproved, "", verified))(t)
		// Anke delegates to Arno for a dated period, but Arno signed
		// stage 1: nobody signs twice in one round, so stage 2 waits for
		// her (the delegated signature itself is recorded in
		// TestDelegateWhoSignedThisRoundIsRefusedAnotherDelegatedSignature).
		must(s.CreateDelegation(ctx, f.Approver2, f.Approver.ID, start.AddDate(0, 0, -1), start.AddDate(0, 0, 1), "training"))(t)
		if _, err := s.Decide(ctx, f.Approver, c.ID, change.DecisionApproved, "ok", verified); problem.KindOf(err) != problem.Forbidden {
			t.Fatalf("Arno signing stage 2 for Anke after signing stage 1: %v", err)
		}
		must(s.Decide(ctx, f.Approver2, c.ID, change.DecisionApproved, "ok", verified))(t)
		d := must(s.Get(ctx, f.Auditor, c.ID))(t)
		if d.Change.Stage != change.StageImplementation {
			t.Fatalf("stage %s after all approvals", d.Change.Stage)
		}
		// Outside the dated period the delegation does not apply.
		f.Clock.Set(start.AddDate(0, 0, 5))
		c2 := toStage(t, f, change.StageScreening, nil)
		ok(t, s.SetApprovers(ctx, f.Coordinator, c2.ID, [][]int64{{f.Approver2.ID}}))
		must(s.Transition(ctx, f.Coordinator, c2.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
		ok(t, s.DecideReview(ctx, f.Reviewer, c2.ID, "", change.DecisionReviewed, ""))
		if _, err := s.Decide(ctx, f.Approver, c2.ID, change.DecisionApproved, "", verified); problem.KindOf(err) != problem.Forbidden {
			t.Fatalf("expired delegation used: %v", err)
		}
	})
}

func TestRemindersOncePerDayEvenConcurrently(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		c := toStage(t, f, change.StageReview, nil)
		_ = c
		// Settings: remind after 3 days, escalate 2 days later.
		day := func(n int) time.Time { return start.AddDate(0, 0, n).Add(6 * time.Hour) }
		if n := must(f.Service.RunReminders(ctx, day(1)))(t); n != 0 {
			t.Fatalf("reminders on day 1 = %d, want 0 (pending only 1 day)", n)
		}
		f.Clock.Set(day(3))
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := f.Service.RunReminders(ctx, day(3))
				if err != nil {
					t.Error(err)
				}
				counts[i] = n
			}()
		}
		wg.Wait()
		if counts[0]+counts[1] != 1 {
			t.Fatalf("two concurrent runs sent %v reminders, want 1 in total", counts)
		}
		if got := changetest.Notified(t, db, notify.TypeReminder, 0); !slices.Equal(got, []int64{f.Reviewer.ID}) {
			t.Fatalf("reminded %v, want the reviewer %d", got, f.Reviewer.ID)
		}
		// Same day again: nothing.
		if n := must(f.Service.RunReminders(ctx, day(3).Add(5*time.Hour)))(t); n != 0 {
			t.Fatalf("second run the same day sent %d", n)
		}
		// Next day: reminder again; day 5: plus escalation to the manager.
		if n := must(f.Service.RunReminders(ctx, day(4)))(t); n != 1 {
			t.Fatalf("day 4 sent %d, want 1", n)
		}
		if n := must(f.Service.RunReminders(ctx, day(5)))(t); n != 2 {
			t.Fatalf("day 5 sent %d, want reminder + escalation", n)
		}
		if got := changetest.Notified(t, db, notify.TypeEscalation, 0); !slices.Equal(got, []int64{f.Coordinator.ID}) {
			t.Fatalf("escalated to %v, want the manager %d", got, f.Coordinator.ID)
		}
	})
}

func TestTemporaryExpiryRemindersOnTheRightDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		expiry := start.AddDate(0, 0, 30)
		c := toStage(t, f, change.StageInService, func(fl *change.Fields) {
			d := change.DurationTemporary
			fl.Duration = &d
			e := &expiry
			fl.ExpiresOn = &e
		})
		var days []int
		for n := -20; n <= 3; n++ {
			now := dateOnlyUTC(expiry).AddDate(0, 0, n).Add(7 * time.Hour)
			before := changetest.LastNotification(t, db)
			must(f.Service.RunReminders(ctx, now))(t)
			got := changetest.Notified(t, db, notify.TypeTemporaryExpiring, before)
			if slices.Contains(got, f.Initiator.ID) {
				days = append(days, -n)
			}
			if n > 0 && !slices.Contains(got, f.Coordinator.ID) {
				t.Errorf("day %d after expiry: coordinator not told (%v)", n, got)
			}
		}
		want := []int{14, 7, 1, 0, -1, -2, -3}
		if !slices.Equal(days, want) {
			t.Fatalf("owner warned %v days before expiry, want %v", days, want)
		}
		// Reverted changes stop reminding.
		must(f.Service.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActRevert}))(t)
		before := changetest.LastNotification(t, db)
		must(f.Service.RunReminders(ctx, expiry.AddDate(0, 0, 10)))(t)
		if got := changetest.Notified(t, db, notify.TypeTemporaryExpiring, before); len(got) != 0 {
			t.Fatalf("reverted change still reminds: %v", got)
		}
	})
}

func dateOnlyUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func TestAuditChainDetectsEditedRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		c := toStage(t, f, change.StageApproval, nil)
		other := toStage(t, f, change.StageScreening, nil)
		rep := must(f.Service.VerifyAudit(ctx, f.Auditor))(t)
		if !rep.OK() || rep.Entries < 10 || rep.Changes != 2 {
			t.Fatalf("clean chain: %+v", rep)
		}
		// Concurrent appends to one change stay linear.
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.Service.AddAction(ctx, f.Coordinator, other.ID, change.NewAction{Title: fmt.Sprintf("Task %d", i), OwnerID: f.Initiator.ID})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if rep := must(f.Service.VerifyAudit(ctx, f.Auditor))(t); !rep.OK() {
			t.Fatalf("after concurrent appends: %+v", rep.Broken)
		}
		if _, err := db.SQL.Exec(`UPDATE change_audit SET new_value = 'tampered' WHERE change_id = $1 AND seq = 3`, c.ID); err != nil {
			t.Fatal(err)
		}
		rep = must(f.Service.VerifyAudit(ctx, f.Auditor))(t)
		if rep.OK() || len(rep.Broken) != 1 || rep.Broken[0].ChangeID != c.ID || rep.Broken[0].Seq != 3 {
			t.Fatalf("edited entry 3 not named: %+v", rep.Broken)
		}
		// A deleted entry is caught too.
		if _, err := db.SQL.Exec(`DELETE FROM change_audit WHERE change_id = $1 AND seq = 2`, other.ID); err != nil {
			t.Fatal(err)
		}
		rep = must(f.Service.VerifyAudit(ctx, f.Auditor))(t)
		if len(rep.Broken) != 2 || rep.Broken[1].ChangeID != other.ID || rep.Broken[1].Seq != 3 {
			t.Fatalf("deleted entry not caught: %+v", rep.Broken)
		}
	})
}

func TestConflictsShowOpenChangesOnUnitOrTags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		a := toStage(t, f, change.StageDraft, nil) // CDU-1, P-101A
		b := must(f.Service.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.FCC, "P-101A")))(t)
		cs := must(f.Service.Conflicts(ctx, f.Initiator, f.NRF, f.FCC, []string{"p-101a"}, b.ID))(t)
		if len(cs) != 1 || cs[0].ID != a.ID {
			t.Fatalf("conflicts = %v, want %s", cs, a.Number)
		}
		cs = must(f.Service.Conflicts(ctx, f.Initiator, f.NRF, f.FCC, []string{"X-1"}, 0))(t)
		if len(cs) != 1 || cs[0].ID != b.ID {
			t.Fatalf("unit conflicts = %v, want %s", cs, b.Number)
		}
		// A change with a unit and no equipment tags: the unit alone.
		cs = must(f.Service.Conflicts(ctx, f.Initiator, f.NRF, f.FCC, nil, 0))(t)
		if len(cs) != 1 || cs[0].ID != b.ID {
			t.Fatalf("conflicts on the unit alone = %v, want %s", cs, b.Number)
		}
		if cs := must(f.Service.Conflicts(ctx, f.Initiator, f.NRF, 0, nil, 0))(t); len(cs) != 0 {
			t.Fatalf("neither unit nor tags, yet conflicts: %v", cs)
		}
		if cs := must(f.Service.Conflicts(ctx, f.Outsider, f.NRF, f.CDU, nil, 0))(t); len(cs) != 0 {
			t.Fatalf("outsider sees conflicts of another site: %v", cs)
		}
	})
}

func TestAttachmentsSniffedAndLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		c := toStage(t, f, change.StageDraft, nil)
		f.Service.MaxAttachmentBytes = 1024
		if _, err := f.Service.AddAttachment(ctx, f.Initiator, c.ID, "evil.pdf", []byte("MZ\x90\x00\x03binary exe")); problem.KindOf(err) != problem.Invalid {
			t.Errorf("executable named .pdf accepted: %v", err)
		}
		if _, err := f.Service.AddAttachment(ctx, f.Initiator, c.ID, "big.txt", []byte(strings.Repeat("a", 2048))); problem.KindOf(err) != problem.Invalid {
			t.Errorf("oversized file accepted: %v", err)
		}
		a := must(f.Service.AddAttachment(ctx, f.Initiator, c.ID, "calc.pdf", []byte("%PDF-1.4\n%test\n")))(t)
		if a.ContentType != "application/pdf" {
			t.Errorf("content type %q", a.ContentType)
		}
		got, data := must2(t)(f.Service.AttachmentData(ctx, f.Reviewer, c.ID, a.ID))
		if got.Filename != "calc.pdf" || string(data) != "%PDF-1.4\n%test\n" {
			t.Errorf("download: %+v %q", got, data)
		}
		if _, _, err := f.Service.AttachmentData(ctx, f.Outsider, c.ID, a.ID); problem.KindOf(err) != problem.NotFound {
			t.Errorf("outsider downloaded: %v", err)
		}
		if _, err := f.Service.AddAttachment(ctx, f.Auditor, c.ID, "a.txt", []byte("hello")); problem.KindOf(err) != problem.Forbidden {
			t.Errorf("auditor uploaded: %v", err)
		}
	})
}

func must2(t *testing.T) func(*change.Attachment, []byte, error) (*change.Attachment, []byte) {
	return func(a *change.Attachment, b []byte, err error) (*change.Attachment, []byte) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// The reminder hour is read in each site's zone: a Texas plant's 06:00
// is 12:00 UTC, and its day ends at its own midnight.
func TestRemindersGoOutAtTheSitesLocalHour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		zone := "America/Chicago" // UTC-6 in early March
		must(s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{TimeZone: &zone}))(t)
		rs := must(s.ReminderSettings(ctx))(t)
		rs.RunHour = 6
		must(s.UpdateReminderSettings(ctx, f.Admin, *rs))(t)
		c := toStage(t, f, change.StageReview, nil) // asked 2 March, 03:00 in Chicago
		at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }

		if n := must(s.RunReminders(ctx, at(5, 11)))(t); n != 0 {
			t.Fatalf("05:00 in Chicago (11:00 UTC) sent %d reminders, want none before the site's 06:00", n)
		}
		before := changetest.LastNotification(t, db)
		if n := must(s.RunReminders(ctx, at(5, 12)))(t); n != 1 {
			t.Fatalf("06:00 in Chicago sent %d reminders, want 1", n)
		}
		var body string
		if err := db.SQL.QueryRow(`SELECT body FROM notifications WHERE id > $1 AND type = $2`, before, string(notify.TypeReminder)).Scan(&body); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, c.Number) || !strings.Contains(body, "waiting since 2026-03-02") {
			t.Errorf("reminder body %q", body)
		}
		// 03:00 UTC on 6 March is still 5 March in Chicago: sent already.
		if n := must(s.RunReminders(ctx, at(6, 3)))(t); n != 0 {
			t.Fatalf("21:00 in Chicago, the same local day, sent %d more", n)
		}
		if n := must(s.RunReminders(ctx, at(6, 12)))(t); n != 1 {
			t.Fatalf("the next local day at 06:00 sent %d, want 1", n)
		}
		// The job runs once some site's hour has come: SCP has no zone
		// (UTC) and is due from 06:00 UTC; with SCP in Chicago too, not
		// before 12:00 UTC.
		if due := must(s.ReminderJobDue(ctx, at(7, 6)))(t); !due {
			t.Error("reminder job not due at 06:00 UTC, SCP's hour")
		}
		must(s.UpdateSiteSettings(ctx, f.Admin, f.SCP, change.SiteSettingsUpdate{TimeZone: &zone}))(t)
		if due := must(s.ReminderJobDue(ctx, at(7, 11)))(t); due {
			t.Error("reminder job due at 05:00 in Chicago, before every site's 06:00")
		}
		if due := must(s.ReminderJobDue(ctx, at(7, 12)))(t); !due {
			t.Error("reminder job not due at 06:00 in Chicago")
		}
		// A person's own day (their digest) is their first site's.
		if loc := must(s.UserZone(ctx, f.Initiator.ID))(t); loc.String() != zone {
			t.Errorf("zone of an NRF user = %s, want %s", loc, zone)
		}
		if loc := must(s.UserZone(ctx, f.Coordinator.ID))(t); loc != time.UTC {
			t.Errorf("zone of a user of every site = %s, want UTC", loc)
		}
		if _, err := s.UpdateReminderSettings(ctx, f.Admin, change.ReminderSettings{PendingAfterDays: 3, EscalateAfterDays: 2, RunHour: 24}); problem.KindOf(err) != problem.Invalid ||
			!strings.Contains(err.Error(), "run_hour") {
			t.Errorf("run hour 24: %v", err)
		}
	})
}
