package change_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

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
		must(s.SetPSSRTeam(ctx, f.Coordinator, c.ID, change.PSSRTeamRequest{LeadID: f.Reviewer.ID}))(t)
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
		want = "1 PSSR deficiency is still open: item 1 “Seal flush plan missing”. It must be closed before startup. " +
			f.Reviewer.Name + ", the PSSR team lead, has not signed the PSSR off yet."
		if err == nil || err.Error() != want {
			t.Errorf("startup with an open deficiency: %v\nwant %s", err, want)
		}
		d = must(s.Get(ctx, f.Initiator, c.ID))(t)
		for _, a := range d.Actions {
			if a.Kind == change.ActionDeficiency {
				must(s.CompleteAction(ctx, f.Initiator, a.ID, "plan issued"))(t)
			}
		}
		f.SignOffPSSR(t, c.ID)
		must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified}))(t)
		_, err = s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActClose, Signature: verified})
		want = "1 action is still open: “After startup”. Close-out needs every action done."
		if err == nil || err.Error() != want {
			t.Errorf("close with an open action: %v\nwant %s", err, want)
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
		if got := d.Blocked[change.ActAuthorizeStartup]; len(got) != 2 || !strings.Contains(got[0], "not answered yet") || !strings.HasPrefix(got[1], "No PSSR team lead is named") {
			t.Errorf("blocked authorize_startup = %q, want the unanswered items and the missing PSSR lead", got)
		}
		must(s.SetPSSRTeam(ctx, f.Coordinator, c.ID, change.PSSRTeamRequest{LeadID: f.Reviewer.ID}))(t)
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
			f.Reviewer.Name + " has not acknowledged the change yet. The roster must sign off before startup.",
			f.Reviewer.Name + ", the PSSR team lead, has not signed the PSSR off yet."}
		if got := d.Blocked[change.ActAuthorizeStartup]; !slices.Equal(got, want) {
			t.Errorf("blocked authorize_startup = %q\nwant %q", got, want)
		}
		// The refusal gives the same sentences, all of them.
		_, err := s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActAuthorizeStartup, Signature: verified})
		if err == nil || problem.KindOf(err) != problem.Conflict || err.Error() != strings.Join(want, " ") {
			t.Errorf("refusal = %v\nwant %s", err, strings.Join(want, " "))
		}
		for _, a := range d.Actions {
			if a.Kind == change.ActionDeficiency {
				must(s.CompleteAction(ctx, f.Initiator, a.ID, "plan issued"))(t)
			}
		}
		ok(t, s.Acknowledge(ctx, f.Reviewer, c.ID))
		f.SignOffPSSR(t, c.ID)
		d = must(s.Get(ctx, f.Coordinator, c.ID))(t)
		if !slices.Contains(d.AllowedActions, change.ActAuthorizeStartup) || d.Blocked != nil {
			t.Errorf("ready for startup: allowed %v, blocked %v", d.AllowedActions, d.Blocked)
		}
	})
}
