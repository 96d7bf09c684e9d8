package change

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// TransitionRequest asks for one of the stage moves that carry no other
// data than a comment and, for startup and close-out, a signature:
// start_review, return, void, complete_implementation, authorize_startup,
// close, revert, make_permanent, confirm_rik, reject_rik, authorize_emergency.
type TransitionRequest struct {
	Action Action
	// Comment is required for return (what to revise), void (the reason)
	// and reject_rik (why it is not a replacement in kind).
	Comment   string
	Signature Signature
	// Rereview, for make_permanent, has the change reviewed again (same
	// disciplines and reviewers) before its approvers re-approve it.
	Rereview bool
}

// Transitions lists the actions Transition accepts.
var Transitions = []Action{ActStartReview, ActReturn, ActVoid, ActCompleteImplementation, ActSignOffPSSR, ActAuthorizeStartup,
	ActClose, ActRevert, ActMakePermanent, ActConfirmRIK, ActRejectRIK, ActAuthorizeEmergency}

// Transition moves a change along its workflow. Whether the actor's role
// and the change's state allow it is decided by the same rule that
// AllowedActions uses; a refusal is a *problem.Error of kind Forbidden or
// Conflict and a message saying why.
func (s *Service) Transition(ctx context.Context, actor *auth.User, id int64, req TransitionRequest) (*Change, error) {
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		d, err := s.lockChange(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		known := false
		for _, a := range Transitions {
			known = known || a == req.Action
		}
		if !known {
			names := make([]string, len(Transitions))
			for i, a := range Transitions {
				names[i] = string(a)
			}
			return invalid("action", "%q is not a transition: expected one of %s", req.Action, strings.Join(names, ", "))
		}
		if err := s.check(actor, d, req.Action); err != nil {
			return err
		}
		c := d.Change
		comment := strings.TrimSpace(req.Comment)
		switch req.Action {
		case ActStartReview:
			return s.startReview(ctx, tx, actor, d)
		case ActConfirmRIK:
			return s.confirmRIK(ctx, tx, actor, d, comment, req.Signature)
		case ActRejectRIK:
			return s.rejectRIK(ctx, tx, actor, d, comment)
		case ActAuthorizeEmergency:
			return s.authorizeEmergency(ctx, tx, actor, d, comment, req.Signature)
		case ActReturn:
			if comment == "" {
				return invalid("comment", "is required: tell the initiator what to revise")
			}
			return s.returnToInitiator(ctx, tx, actor, c, notify.TypeReturned, "Returned by "+actor.Name+": "+comment)
		case ActVoid:
			if comment == "" {
				return invalid("comment", "is required: give the reason for voiding")
			}
			if err := s.setStage(ctx, tx, actor, c, StageVoided, "void_reason = $3", comment); err != nil {
				return err
			}
			coords, err := s.coordinators(ctx, tx, c.SiteID)
			if err != nil {
				return err
			}
			return s.notify(ctx, tx, notify.TypeVoided, c, c.Number+" voided", "Voided by "+actor.Name+": "+comment,
				append(coords, c.InitiatorID)...)
		case ActCompleteImplementation:
			// check has refused while pre-startup actions (and, without a
			// PSSR, the roster) are open.
			if c.PSSRRequired {
				if err := s.createPSSRChecklist(ctx, tx, c); err != nil {
					return err
				}
				if err := s.setWorkStage(ctx, tx, actor, c, StagePSSR, ""); err != nil {
					return err
				}
				coords, err := s.coordinators(ctx, tx, c.SiteID)
				if err != nil {
					return err
				}
				// The team hears it once, in its own words, with the
				// walkdown link; the others as before.
				team := d.teamIDs()
				others := slices.DeleteFunc(append(coords, d.currentApprovers()...), func(id int64) bool { return slices.Contains(team, id) })
				if err := s.notifyPSSRTeam(ctx, tx, c, team); err != nil {
					return err
				}
				return s.notify(ctx, tx, notify.TypePSSRReady, c, "PSSR ready: "+c.Number+" "+c.Title,
					"Implementation is complete; the pre-startup safety review can start.", others...)
			}
			return s.setWorkStage(ctx, tx, actor, c, inServiceStage(c), "startup_at = $3", s.now())
		case ActSignOffPSSR:
			// check has refused while an item is unanswered or a
			// deficiency open, and anyone but the team lead.
			if !req.Signature.Verified {
				return &problem.Error{Kind: problem.Reauth, Field: "password", Message: "password: confirm your identity to sign off the PSSR"}
			}
			if _, err := s.sign(ctx, tx, actor, d, ActSignOffPSSR, DecisionSignedOff, 0, comment, req.Signature); err != nil {
				return err
			}
			coords, err := s.coordinators(ctx, tx, c.SiteID)
			if err != nil {
				return err
			}
			return s.notify(ctx, tx, notify.TypePSSRReady, c, "PSSR signed off: "+c.Number+" "+c.Title,
				actor.Name+" signed off the pre-startup safety review as PSSR team lead. Startup can be authorised once nothing else is open.",
				append(append(coords, d.currentApprovers()...), c.InitiatorID)...)
		case ActAuthorizeStartup:
			// check has refused while a PSSR item is unanswered, a
			// deficiency or pre-startup action open or the roster unsigned.
			if !req.Signature.Verified {
				return &problem.Error{Kind: problem.Reauth, Field: "password", Message: "password: confirm your identity to authorise startup"}
			}
			if _, err := s.sign(ctx, tx, actor, d, ActAuthorizeStartup, DecisionAuthorized, 0, comment, req.Signature); err != nil {
				return err
			}
			if err := s.setWorkStage(ctx, tx, actor, c, inServiceStage(c), "startup_at = $3", s.now()); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, c.ID, actor, "", "startup_authorized", "signature", "",
				fmt.Sprintf("%s (%s)", actor.Name, req.Signature.Method)); err != nil {
				return err
			}
			coords, err := s.coordinators(ctx, tx, c.SiteID)
			if err != nil {
				return err
			}
			return s.notify(ctx, tx, notify.TypeStartupAuthorized, c, "Startup authorised: "+c.Number+" "+c.Title,
				"Startup was authorised by "+actor.Name+".", append(coords, c.InitiatorID)...)
		case ActClose:
			var open []string
			for _, a := range d.Actions {
				if !a.Closed() {
					open = append(open, actionTitle(a))
				}
			}
			if len(open) > 0 {
				return conflict("%s still open: %s. Close-out needs every action done.",
					count(len(open), "action is", "actions are"), strings.Join(open, ", "))
			}
			if c.Duration.IsTemporary() && c.RevertedAt == nil {
				return conflict("%s is temporary: revert it or convert it to permanent before closing", c.Number)
			}
			if !req.Signature.Verified {
				return &problem.Error{Kind: problem.Reauth, Field: "password", Message: "password: confirm your identity to sign the close-out"}
			}
			if _, err := s.sign(ctx, tx, actor, d, ActClose, DecisionClosed, 0, comment, req.Signature); err != nil {
				return err
			}
			if err := s.setStage(ctx, tx, actor, c, StageClosed, "closed_at = $3, closed_note = $4", s.now(), comment); err != nil {
				return err
			}
			coords, err := s.coordinators(ctx, tx, c.SiteID)
			if err != nil {
				return err
			}
			return s.notify(ctx, tx, notify.TypeClosed, c, c.Number+" closed", c.Title, append(coords, c.InitiatorID)...)
		case ActRevert:
			return s.revert(ctx, tx, actor, d, comment)
		case ActMakePermanent:
			return s.requestPermanent(ctx, tx, actor, d, comment, req.Rereview)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return loadChange(ctx, s.DB.SQL, id)
}

// requirePSSRAnswered refuses while PSSR items have no answer, naming them.
func (d *Detail) requirePSSRAnswered() *problem.Error {
	var unanswered []string
	for _, it := range d.PSSR {
		if it.Answer == "" {
			unanswered = append(unanswered, fmt.Sprintf("item %d %s", it.Position, quoteTitle(it.Text)))
		}
	}
	if len(unanswered) == 0 {
		return nil
	}
	return conflict("%s %s not answered yet: %s. Every item needs an answer before startup.",
		count(len(unanswered), "PSSR item", "PSSR items"), isAre(len(unanswered)), strings.Join(unanswered, ", "))
}

// requirePreStartupDone refuses while pre-startup actions or PSSR
// deficiencies are open, naming every one by its title (people do not
// know action ids) so the refusal is a to-do list.
func (d *Detail) requirePreStartupDone() *problem.Error {
	var actions, deficiencies []string
	for _, a := range d.Actions {
		if !a.BeforeStartup || a.Closed() {
			continue
		}
		if a.Kind == ActionDeficiency {
			deficiencies = append(deficiencies, actionTitle(a))
		} else {
			actions = append(actions, actionTitle(a))
		}
	}
	var parts []string
	kind := d.Change.Kind
	if n := len(actions); n > 0 {
		parts = append(parts, fmt.Sprintf("%s still open: %s. %s be done %s.",
			kind.preActions(n), strings.Join(actions, ", "), itThey(n)+" must", kind.Before()))
	}
	if n := len(deficiencies); n > 0 {
		parts = append(parts, fmt.Sprintf("%s still open: %s. %s be closed before startup.",
			count(n, "PSSR deficiency is", "PSSR deficiencies are"), strings.Join(deficiencies, ", "), itThey(n)+" must"))
	}
	if len(parts) > 0 {
		return conflict("%s", strings.Join(parts, " "))
	}
	return nil
}

// deficiencyTitle matches the title AnswerPSSR gives a deficiency, so a
// refusal that already says "PSSR deficiency" does not say it twice.
var deficiencyTitle = regexp.MustCompile(`^PSSR deficiency \(item (\d+)\): (.*)$`)

// actionTitle names an action item for a message: its title in quotes,
// a deficiency as "item N “what is wrong”".
func actionTitle(a ActionItem) string {
	t := quoteTitle(a.Title)
	if m := deficiencyTitle.FindStringSubmatch(a.Title); m != nil {
		t = "item " + m[1] + " " + quoteTitle(m[2])
	}
	if a.Status == ActionToVerify {
		// Done but not closed: say what it waits for.
		t += " (awaiting verification)"
	}
	return t
}

// quoteTitle quotes a title, shortened to keep a message readable.
func quoteTitle(t string) string {
	t = strings.TrimSpace(t)
	if r := []rune(t); len(r) > 80 {
		t = strings.TrimSpace(string(r[:79])) + "…"
	}
	return "“" + t + "”"
}

// count writes "1 thing" or "3 things".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func itThey(n int) string {
	if n == 1 {
		return "It"
	}
	return "They"
}

// requireRosterDone holds startup until everyone on the training and
// acknowledgement roster has signed off. When operating procedures
// change, 1910.119(l)(3) wants the operators trained before startup, so
// an empty roster holds it too: "training complete" must name someone.
func (d *Detail) requireRosterDone() *problem.Error {
	before := d.Change.Kind.Before()
	if sc := d.Change.Screening; sc != nil && sc.needsTraining() && len(d.Acknowledgements) == 0 {
		return &problem.Error{Kind: problem.Conflict, Field: "acknowledgers", Message: "The training and acknowledgement roster is empty: " +
			"operating procedures change, so add the people who operate the process and have them sign off " + before + "."}
	}
	var waiting []string
	for _, a := range d.Acknowledgements {
		if a.AcknowledgedAt == nil {
			waiting = append(waiting, a.UserName)
		}
	}
	switch len(waiting) {
	case 0:
		return nil
	case 1:
		return conflict("%s has not acknowledged the change yet. The roster must sign off %s.", waiting[0], before)
	}
	return conflict("%s and %s have not acknowledged the change yet. The roster must sign off %s.",
		strings.Join(waiting[:len(waiting)-1], ", "), waiting[len(waiting)-1], before)
}

func (d *Detail) currentApprovers() []int64 {
	var out []int64
	for _, a := range d.Approvals {
		if a.Round == d.Change.Round {
			out = append(out, a.ApproverID)
		}
	}
	return out
}
