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

// The coordinator names the team (a lead who is not the initiator, and
// members per discipline or section); when implementation is complete
// the team is told, in the app and by email, with the walkdown link, and
// finds the walkdown in My work until startup.
func TestPSSRTeamIsToldWhenThePSSRIsReadyAndFindsItInMyWork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StageImplementation, nil)

		_, err := s.SetPSSRTeam(ctx, f.Coordinator, c.ID, change.PSSRTeamRequest{LeadID: f.Initiator.ID})
		if pe := problem.As(err); pe == nil || pe.Kind != problem.Invalid || pe.Field != "lead_id" {
			t.Fatalf("the initiator as lead: %v, want an invalid lead_id", err)
		}
		_, err = s.SetPSSRTeam(ctx, f.Coordinator, c.ID, change.PSSRTeamRequest{LeadID: f.Reviewer.ID,
			Members: []change.PSSRMemberRequest{{UserID: f.Reviewer2.ID, Scope: "piping stress"}}})
		if pe := problem.As(err); pe == nil || pe.Field != "members[0].scope" {
			t.Fatalf("an unknown scope: %v, want an invalid members[0].scope", err)
		}
		_, err = s.SetPSSRTeam(ctx, f.Reviewer, c.ID, change.PSSRTeamRequest{LeadID: f.Reviewer.ID})
		if problem.KindOf(err) != problem.Forbidden {
			t.Fatalf("a reviewer names the team: %v, want forbidden", err)
		}
		team := must(s.SetPSSRTeam(ctx, f.Coordinator, c.ID, change.PSSRTeamRequest{LeadID: f.Reviewer.ID,
			Members: []change.PSSRMemberRequest{{UserID: f.Reviewer2.ID, Scope: "Mechanical"}, {UserID: f.Initiator.ID, Scope: "field checks"}}}))(t)
		if len(team) != 3 || !team[0].Lead || team[0].UserID != f.Reviewer.ID {
			t.Fatalf("team %+v, want the lead first and two members", team)
		}
		if i := slices.IndexFunc(team, func(m change.PSSRMember) bool { return m.UserID == f.Reviewer2.ID }); i < 0 || team[i].Scope != "mechanical" {
			t.Errorf("the member's scope is not the discipline as named: %+v", team)
		}
		if i := slices.IndexFunc(team, func(m change.PSSRMember) bool { return m.UserID == f.Initiator.ID }); i < 0 || team[i].Scope != "Field checks" {
			t.Errorf("the member's scope is not the checklist section as named: %+v", team)
		}
		if w := must(s.MyWork(ctx, f.Reviewer2))(t); len(w.PSSR) != 0 {
			t.Errorf("a walkdown in My work before the PSSR is ready: %+v", w.PSSR)
		}

		last := changetest.LastNotification(t, db)
		f.Emails.Take()
		must(s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActCompleteImplementation}))(t)
		told := changetest.Notified(t, db, notify.TypePSSRReady, last)
		for _, who := range []int64{f.Reviewer.ID, f.Reviewer2.ID, f.Initiator.ID} {
			if n := countOf(told, who); n != 1 {
				t.Errorf("team member %d told %d times that the PSSR is ready, want once", who, n)
			}
		}
		mailed := map[int64]string{}
		for _, e := range f.Emails.Take() {
			if e.Type == notify.TypePSSRReady {
				mailed[e.UserID] = e.Link
			}
		}
		if link := mailed[f.Reviewer2.ID]; !strings.HasSuffix(link, "/changes/"+c.Number+"/walkdown") {
			t.Errorf("the member's email links to %q, want the walkdown page", link)
		}

		w := must(s.MyWork(ctx, f.Reviewer2))(t)
		if len(w.PSSR) != 1 || w.PSSR[0].ChangeID != c.ID || w.PSSR[0].What != "PSSR walkdown: mechanical" {
			t.Errorf("member's My work PSSR = %+v", w.PSSR)
		}
		if w := must(s.MyWork(ctx, f.Reviewer))(t); len(w.PSSR) != 1 || !strings.Contains(w.PSSR[0].What, "lead: signs the PSSR off") {
			t.Errorf("lead's My work PSSR = %+v", w.PSSR)
		}
		// Someone added while the PSSR runs is told at once; the others
		// are not told again.
		last = changetest.LastNotification(t, db)
		must(s.SetPSSRTeam(ctx, f.Coordinator, c.ID, change.PSSRTeamRequest{LeadID: f.Reviewer.ID,
			Members: []change.PSSRMemberRequest{{UserID: f.Reviewer2.ID, Scope: "mechanical"}, {UserID: f.Approver2.ID}}}))(t)
		if told := changetest.Notified(t, db, notify.TypePSSRReady, last); !slices.Equal(told, []int64{f.Approver2.ID}) {
			t.Errorf("told when the team changed during the PSSR: %v, want only the new member %d", told, f.Approver2.ID)
		}
		if w := must(s.MyWork(ctx, f.Initiator))(t); len(w.PSSR) != 0 {
			t.Errorf("a member taken off the team still has the walkdown: %+v", w.PSSR)
		}
	})
}

func countOf(ids []int64, id int64) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// Only the team lead signs the PSSR off, signed, once every item is
// answered and every deficiency closed; startup waits for that sign-off,
// and an answer changed after it (or a new lead) needs a new one.
func TestStartupWaitsForTheLeadsSignedPSSRSignOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StagePSSR, nil)
		must(s.SetPSSRTeam(ctx, f.Coordinator, c.ID, change.PSSRTeamRequest{LeadID: f.Reviewer.ID,
			Members: []change.PSSRMemberRequest{{UserID: f.Reviewer2.ID}}}))(t)
		d := must(s.Get(ctx, f.Reviewer, c.ID))(t)
		signOff := change.TransitionRequest{Action: change.ActSignOffPSSR, Signature: verified}
		if _, err := s.Transition(ctx, f.Reviewer, c.ID, signOff); problem.KindOf(err) != problem.Conflict || !strings.Contains(err.Error(), "not answered yet") {
			t.Errorf("sign-off with unanswered items: %v", err)
		}
		must(s.AnswerPSSR(ctx, f.Reviewer2, d.PSSR[0].ID, change.AnswerNo, "Guard missing on the coupling", 0))(t)
		for _, it := range d.PSSR[1:] {
			must(s.AnswerPSSR(ctx, f.Reviewer2, it.ID, change.AnswerNA, "Not affected", 0))(t)
		}
		if _, err := s.Transition(ctx, f.Reviewer, c.ID, signOff); err == nil || !strings.Contains(err.Error(), "must be closed before the PSSR is signed off") {
			t.Errorf("sign-off with an open deficiency: %v", err)
		}
		d = must(s.Get(ctx, f.Initiator, c.ID))(t)
		for _, a := range d.Actions {
			if a.Kind == change.ActionDeficiency {
				must(s.CompleteAction(ctx, f.Initiator, a.ID, "guard fitted"))(t)
			}
		}
		f.Clock.Advance(time.Minute)
		if _, err := s.Transition(ctx, f.Coordinator, c.ID, signOff); problem.KindOf(err) != problem.Forbidden {
			t.Errorf("the coordinator signs off for the lead: %v, want forbidden", err)
		}
		_, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified})
		if err == nil || !strings.Contains(err.Error(), f.Reviewer.Name+", the PSSR team lead, has not signed the PSSR off yet") {
			t.Errorf("startup before the sign-off: %v", err)
		}
		if _, err := s.Transition(ctx, f.Reviewer, c.ID, change.TransitionRequest{Action: change.ActSignOffPSSR}); problem.KindOf(err) != problem.Reauth {
			t.Errorf("unsigned sign-off: %v, want reauth_required", err)
		}
		d = must(s.Get(ctx, f.Reviewer, c.ID))(t)
		if st, ok := d.Statement(change.ActSignOffPSSR, ""); !ok || !strings.Contains(st.Meaning, "sign off the pre-startup safety review of "+c.Number+" as PSSR team lead") {
			t.Errorf("the sign-off form states %+v (offered %v)", st, ok)
		}
		must(s.Transition(ctx, f.Reviewer, c.ID, signOff))(t)
		d = must(s.Get(ctx, f.Coordinator, c.ID))(t)
		sig := d.PSSRSignOff()
		if sig == nil || sig.SignerID != f.Reviewer.ID || sig.ControlPoint != change.CPPSSRSignoff || sig.Method != "password" {
			t.Fatalf("sign-off record %+v", sig)
		}
		if !slices.Contains(d.AllowedActions, change.ActAuthorizeStartup) {
			t.Fatalf("startup not offered after the sign-off: allowed %v, blocked %v", d.AllowedActions, d.Blocked)
		}

		// An answer changed after the sign-off voids it.
		f.Clock.Advance(time.Minute)
		must(s.AnswerPSSR(ctx, f.Reviewer2, d.PSSR[1].ID, change.AnswerYes, "Procedure OP-12 rev 4 issued", 0))(t)
		_, err = s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified})
		if err == nil || !strings.Contains(err.Error(), "changed after it was signed off") {
			t.Errorf("startup after an answer changed past the sign-off: %v", err)
		}
		f.Clock.Advance(time.Minute)
		must(s.Transition(ctx, f.Reviewer, c.ID, signOff))(t)
		// A new lead must sign off themselves.
		must(s.SetPSSRTeam(ctx, f.Coordinator, c.ID, change.PSSRTeamRequest{LeadID: f.Approver2.ID}))(t)
		if d := must(s.Get(ctx, f.Coordinator, c.ID))(t); d.PSSRSignOff() != nil || slices.Contains(d.AllowedActions, change.ActAuthorizeStartup) {
			t.Errorf("the former lead's sign-off still counts for the new lead")
		}
		f.Clock.Advance(time.Minute)
		must(s.Transition(ctx, f.Approver2, c.ID, signOff))(t)
		c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified}))(t)
		if c.Stage != change.StageCloseout {
			t.Errorf("stage after startup %s", c.Stage)
		}
	})
}

// An answer given against the version a device loaded is refused when the
// item was answered since: the refusal says what is recorded, nothing is
// overwritten. The same answer resent by its author is no conflict.
func TestPSSRAnswerOnAnOutdatedItemIsAConflictNotAnOverwrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service
		c := toStage(t, f, change.StagePSSR, nil)
		d := must(s.Get(ctx, f.Reviewer, c.ID))(t)
		it := d.PSSR[1]
		loaded := it.Version
		if loaded != 0 {
			t.Fatalf("an unanswered item has version %d", loaded)
		}
		first := must(s.AnswerPSSRItem(ctx, f.Reviewer, it.ID, change.PSSRAnswer{Answer: "na", Comment: "No procedure touched", Version: &loaded}))(t)
		if first.Version != 1 {
			t.Errorf("version after the first answer %d, want 1", first.Version)
		}
		// A second device still showing version 0.
		_, err := s.AnswerPSSRItem(ctx, f.Coordinator, it.ID, change.PSSRAnswer{Answer: "no", Comment: "OP-12 not issued", Version: &loaded})
		pe := problem.As(err)
		if pe == nil || pe.Kind != problem.Conflict || pe.Field != "version" ||
			!strings.Contains(pe.Message, "now answered N/A by "+f.Reviewer.Name) || !strings.Contains(pe.Message, "Your answer No was not saved") {
			t.Fatalf("outdated answer: %v, want a conflict naming the recorded answer", err)
		}
		d = must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if got := d.PSSR[1]; got.Answer != "na" || got.Version != 1 {
			t.Errorf("the recorded answer was overwritten: %+v", got)
		}
		for _, a := range d.Actions {
			if a.Kind == change.ActionDeficiency {
				t.Errorf("the refused No raised a deficiency: %+v", a)
			}
		}
		trail := len(must(s.AuditTrail(ctx, f.Auditor, c.ID))(t))
		// The first device resends its answer (the reply was lost): no
		// conflict, and nothing recorded twice.
		again := must(s.AnswerPSSRItem(ctx, f.Reviewer, it.ID, change.PSSRAnswer{Answer: "na", Comment: "No procedure touched", Version: &loaded}))(t)
		if again.Version != 1 {
			t.Errorf("resent answer bumped the version to %d", again.Version)
		}
		if n := len(must(s.AuditTrail(ctx, f.Auditor, c.ID))(t)); n != trail {
			t.Errorf("resent answer added %d audit entries", n-trail)
		}
		// Answered against what is recorded now, it is saved.
		now := int64(1)
		got := must(s.AnswerPSSRItem(ctx, f.Coordinator, it.ID, change.PSSRAnswer{Answer: "no", Comment: "OP-12 not issued", Version: &now}))(t)
		if got.Answer != "no" || got.Version != 2 {
			t.Errorf("answer on the current version: %+v", got)
		}
	})
}
