package change

import (
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// Action is something a user can do to a change. The UI shows a button
// for each action AllowedActions returns, and every Service method checks
// the same rule (check) before acting, so the two never disagree.
type Action string

// The actions.
const (
	ActEdit                   Action = "edit"
	ActSubmit                 Action = "submit"
	ActAssign                 Action = "assign"
	ActStartReview            Action = "start_review"
	ActReview                 Action = "review"
	ActApprove                Action = "approve"
	ActReturn                 Action = "return"
	ActVoid                   Action = "void"
	ActAddAction              Action = "add_action"
	ActCompleteImplementation Action = "complete_implementation"
	ActAnswerPSSR             Action = "answer_pssr"
	ActAuthorizeStartup       Action = "authorize_startup"
	ActClose                  Action = "close"
	ActAcknowledge            Action = "acknowledge"
	ActManageRoster           Action = "manage_roster"
	ActAttach                 Action = "attach"
	// ActLink links a related change, or removes such a link.
	ActLink             Action = "link"
	ActRequestExtension Action = "request_extension"
	ActDecideExtension  Action = "decide_extension"
	ActRevert           Action = "revert"
	ActMakePermanent    Action = "make_permanent"
	// ActConfirmRIK confirms, signed, that a change is a replacement in kind.
	ActConfirmRIK Action = "confirm_rik"
	// ActRejectRIK rejects a replacement-in-kind claim into the normal flow.
	ActRejectRIK Action = "reject_rik"
	// ActAuthorizeEmergency authorises, signed, an emergency change for
	// implementation before its full review.
	ActAuthorizeEmergency Action = "authorize_emergency"
	// ActAddReview adds a discipline review, or names or replaces the
	// reviewer of one still pending, during screening and review.
	ActAddReview Action = "add_review"
	// ActRecordHazardReview records a hazard review (method, team,
	// findings, recommendations) on the change.
	ActRecordHazardReview Action = "record_hazard_review"
	// ActAssignPSSRTeam names the PSSR team and its lead.
	ActAssignPSSRTeam Action = "assign_pssr_team"
	// ActSignOffPSSR is the PSSR team lead's signed sign-off of the
	// review; startup waits for it.
	ActSignOffPSSR Action = "signoff_pssr"
	// ActConfirmScreening confirms, signed, the screening answers (or
	// overrides some, with a reason) before the review starts.
	ActConfirmScreening Action = "confirm_screening"
)

// AllActions lists every action in the order the UI shows buttons.
var AllActions = []Action{ActEdit, ActSubmit, ActConfirmRIK, ActRejectRIK, ActAuthorizeEmergency, ActConfirmScreening, ActAssign, ActAddReview, ActStartReview, ActRecordHazardReview, ActReview, ActApprove, ActReturn,
	ActAddAction, ActCompleteImplementation, ActAssignPSSRTeam, ActAnswerPSSR, ActSignOffPSSR, ActAuthorizeStartup, ActClose, ActAcknowledge,
	ActManageRoster, ActAttach, ActLink, ActRequestExtension, ActDecideExtension, ActRevert, ActMakePermanent, ActVoid}

// AllowedActions returns what actor may do to the change right now. d must
// have been loaded for actor (Service.Get does that).
func (s *Service) AllowedActions(actor *auth.User, d *Detail) []Action {
	var out []Action
	for _, a := range AllActions {
		if s.check(actor, d, a) == nil {
			out = append(out, a)
		}
	}
	return out
}

// blocked fills d.Blocked: the stage moves actor's role and the change's
// stage allow but whose preconditions still fail, with what is open, so
// the page can say what is missing instead of offering a form that would
// only be refused.
func (s *Service) blocked(actor *auth.User, d *Detail) map[Action][]string {
	var out map[Action][]string
	for _, a := range []Action{ActStartReview, ActCompleteImplementation, ActSignOffPSSR, ActAuthorizeStartup} {
		if s.checkRole(actor, d, a) != nil {
			continue
		}
		if open := d.preconditions(a); len(open) > 0 {
			if out == nil {
				out = map[Action][]string{}
			}
			for _, e := range open {
				out[a] = append(out[a], e.Message)
			}
		}
	}
	return out
}

func in(st Stage, stages ...Stage) bool { return slices.Contains(stages, st) }

// check says whether actor may take action a on the change now, and if
// not, why: Forbidden when the user's role or relation to the change
// does not allow it, Conflict when the change's state does not, or when
// what a stage move needs first is still open (preconditions), every
// open point in one message.
func (s *Service) check(actor *auth.User, d *Detail, a Action) error {
	if err := s.checkRole(actor, d, a); err != nil {
		return err
	}
	open := d.preconditions(a)
	switch len(open) {
	case 0:
		return nil
	case 1:
		return open[0]
	}
	msgs := make([]string, len(open))
	for i, e := range open {
		msgs[i] = e.Message
	}
	return conflict("%s", strings.Join(msgs, " "))
}

// preconditions are what must be done before the stage move a, each
// still open one as the conflict that names it (empty when none, and for
// actions without such preconditions).
func (d *Detail) preconditions(a Action) []*problem.Error {
	var out []*problem.Error
	add := func(err *problem.Error) {
		if err != nil {
			out = append(out, err)
		}
	}
	switch a {
	case ActStartReview:
		add(d.requireScreeningConfirmed())
		add(d.requireScreenedReviews())
		add(d.requireRiskStages())
	case ActApprove:
		// Approvers are fixed when the review starts; this holds a change
		// started before its level required the stage.
		add(d.requireRiskStages())
	case ActCompleteImplementation:
		add(d.requirePreStartupDone())
		if !d.Change.PSSRRequired {
			add(d.requireRosterDone())
		}
	case ActSignOffPSSR:
		add(d.requirePSSRAnswered())
		add(d.requireDeficienciesClosed())
	case ActAuthorizeStartup:
		add(d.requirePSSRAnswered())
		add(d.requirePreStartupDone())
		add(d.requireRosterDone())
		add(d.requirePSSRSignedOff())
	}
	return out
}

// checkRole is check without the preconditions: whether the user's role,
// relation to the change and the change's stage allow a.
func (s *Service) checkRole(actor *auth.User, d *Detail, a Action) error {
	c := d.Change
	if actor == nil {
		return forbidden("sign in first")
	}
	if !actor.OnSite(c.SiteID) {
		return notFound("change %d not found", c.ID)
	}
	isOwner := actor.ID == c.InitiatorID
	coord := actor.Has(auth.RoleCoordinator)
	stageErr := func() error {
		return conflict("%s is in stage %s: %s is not possible now", c.Number, c.Stage.Label(), a)
	}
	switch a {
	case ActEdit:
		if !isOwner && !coord {
			return forbidden("only the initiator or an MOC coordinator may edit %s", c.Number)
		}
		if !in(c.Stage, StageDraft, StageReturned) {
			return stageErr()
		}
	case ActSubmit:
		if !isOwner {
			return forbidden("only the initiator may submit %s", c.Number)
		}
		if !in(c.Stage, StageDraft, StageReturned) {
			return stageErr()
		}
	case ActConfirmRIK, ActRejectRIK:
		if !coord && !actor.Has(auth.RoleApprover) {
			return forbidden("only an MOC coordinator or an approver of the site may confirm or reject a replacement in kind")
		}
		if isOwner {
			return forbidden("nobody confirms their own replacement in kind: an MOC coordinator or an approver of the site must")
		}
		if c.Stage != StageRIKConfirmation {
			return stageErr()
		}
	case ActAuthorizeEmergency:
		if !coord && !actor.Has(auth.RoleApprover) {
			return forbidden("only an approver or an MOC coordinator of the site may authorise an emergency change")
		}
		if isOwner {
			return forbidden("nobody authorises their own emergency change: an approver or an MOC coordinator of the site must")
		}
		if c.Duration != DurationEmergency {
			return conflict("%s is not an emergency change: it is implemented after its review and approval", c.Number)
		}
		if c.EmergencyAuthorizedAt != nil {
			return conflict("%s was already authorised for implementation before full review", c.Number)
		}
		if !in(c.Stage, StageScreening, StageReview, StageApproval) {
			return stageErr()
		}
	case ActAssign, ActStartReview:
		if !coord {
			return forbidden("only an MOC coordinator may assign reviewers and approvers")
		}
		if c.Stage != StageScreening {
			return stageErr()
		}
	case ActConfirmScreening:
		if !coord {
			return forbidden("only an MOC coordinator may confirm the screening of %s", c.Number)
		}
		if isOwner {
			return forbidden("nobody confirms the screening of their own change: another MOC coordinator of the site must")
		}
		if c.Stage != StageScreening {
			return stageErr()
		}
		if !c.screeningToConfirm() {
			return conflict("%s has no screening answers to confirm (carried over from before questionnaires, or a replacement in kind, which is confirmed as such)", c.Number)
		}
		if c.Screening.ConfirmedAt != nil {
			return conflict("the screening of %s was already confirmed by %s", c.Number, c.Screening.ConfirmedByName)
		}
	case ActAddReview:
		if !coord {
			return forbidden("only an MOC coordinator may add a discipline review or a reviewer")
		}
		if c.Converting() || !in(c.Stage, StageScreening, StageReview) {
			return stageErr()
		}
	case ActRecordHazardReview:
		// Whoever leads the study records it: the coordinator, the
		// initiator who organised it, or the reviewer asked for the
		// hazard review. The hazard review's sign-off stays that
		// reviewer's decision (never the initiator's).
		if !coord && !isOwner && !d.isHazardReviewer(actor.ID) {
			return forbidden("only the initiator, an MOC coordinator or the hazard reviewer of %s may record its hazard review", c.Number)
		}
		if !in(c.Stage, StageScreening, StageReview, StageApproval) {
			return stageErr()
		}
	case ActReview:
		if !actor.Has(auth.RoleReviewer) {
			return forbidden("only a reviewer may record a review")
		}
		if c.Stage != StageReview {
			return stageErr()
		}
		if d.pendingReviewFor(actor.ID) == nil {
			return forbidden("%s has no review assigned to you", c.Number)
		}
	case ActApprove:
		if isOwner {
			return forbidden("nobody approves their own change")
		}
		if c.Stage != StageApproval {
			return stageErr()
		}
		if d.pendingApprovalFor(actor.ID) == nil {
			if who := d.blockedDelegation(actor.ID); who != "" {
				return forbidden("you cannot sign for %s on %s: you are an approver of it yourself or have already signed in this round, "+
					"and nobody signs twice in one round; the approval waits for %s or another delegate", who, c.Number, who)
			}
			return forbidden("%s has no approval waiting for you (or for someone who delegated to you)", c.Number)
		}
	case ActReturn:
		if !coord {
			return forbidden("only an MOC coordinator may return a change for revision")
		}
		if c.Converting() {
			return conflict("%s is being re-approved to become permanent: a refusal keeps it in service, it is not returned for revision", c.Number)
		}
		if !in(c.Stage, StageScreening, StageReview, StageApproval) {
			return stageErr()
		}
	case ActVoid:
		ownDraft := isOwner && in(c.Stage, StageDraft, StageReturned)
		if !coord && !actor.Has(auth.RoleAdmin) && !ownDraft {
			return forbidden("only an MOC coordinator or an admin may void %s", c.Number)
		}
		if !c.Stage.IsOpen() {
			return stageErr()
		}
	case ActAddAction:
		if !isOwner && !coord {
			return forbidden("only the initiator or an MOC coordinator may add action items")
		}
		if !in(c.Stage, StageScreening, StageReview, StageApproval, StageImplementation, StagePSSR, StageInService, StageCloseout) {
			return stageErr()
		}
	case ActCompleteImplementation:
		if !isOwner && !coord {
			return forbidden("only the initiator or an MOC coordinator may complete implementation")
		}
		if c.ImplementationStage() != StageImplementation {
			return stageErr()
		}
	case ActAnswerPSSR:
		// The team may include people without a working role (an
		// operator who knows the unit): naming them is the coordinator's
		// say that they walk the checklist.
		if !coord && !actor.Has(auth.RoleApprover) && !actor.Has(auth.RoleReviewer) && !d.onPSSRTeam(actor.ID) {
			return forbidden("only the PSSR team, a coordinator, approver or reviewer may answer the PSSR checklist")
		}
		if c.ImplementationStage() != StagePSSR {
			return stageErr()
		}
	case ActAssignPSSRTeam:
		if !coord {
			return forbidden("only an MOC coordinator may name the PSSR team")
		}
		if !c.PSSRRequired {
			return conflict("%s needs no PSSR: screening did not ask for one", c.Number)
		}
		if !in(c.ImplementationStage(), StageScreening, StageReview, StageApproval, StageImplementation, StagePSSR) {
			return stageErr()
		}
	case ActSignOffPSSR:
		if c.ImplementationStage() != StagePSSR {
			return stageErr()
		}
		lead := d.PSSRLead()
		if lead == nil {
			return conflict("%s has no PSSR team lead yet: an MOC coordinator names the team and its lead", c.Number)
		}
		if isOwner {
			return forbidden("nobody signs off the PSSR of their own change")
		}
		if lead.UserID != actor.ID {
			return forbidden("only the PSSR team lead, %s, may sign off the PSSR of %s", lead.Name, c.Number)
		}
		if d.PSSRSignOff() != nil {
			return conflict("you have already signed off the PSSR of %s", c.Number)
		}
	case ActAuthorizeStartup:
		if !coord && !actor.Has(auth.RoleApprover) {
			return forbidden("only an MOC coordinator or an approver may authorise startup")
		}
		if isOwner {
			return forbidden("nobody authorises startup of their own change")
		}
		if c.ImplementationStage() != StagePSSR {
			return stageErr()
		}
	case ActClose:
		if !coord {
			return forbidden("only an MOC coordinator may close a change")
		}
		if c.Stage != StageCloseout {
			return stageErr()
		}
	case ActAcknowledge:
		var mine *Acknowledgement
		for i := range d.Acknowledgements {
			if d.Acknowledgements[i].UserID == actor.ID {
				mine = &d.Acknowledgements[i]
			}
		}
		if mine == nil {
			return forbidden("you are not on the acknowledgement roster of %s", c.Number)
		}
		if mine.AcknowledgedAt != nil {
			return conflict("you already acknowledged %s", c.Number)
		}
		if !in(c.ImplementationStage(), StageApproval, StageImplementation, StagePSSR, StageInService, StageCloseout) {
			return stageErr()
		}
	case ActManageRoster:
		if !isOwner && !coord {
			return forbidden("only the initiator or an MOC coordinator may change the acknowledgement roster")
		}
		if !in(c.Stage, StageScreening, StageReview, StageApproval, StageImplementation, StagePSSR, StageInService) {
			return stageErr()
		}
	case ActAttach:
		if !isOwner && !coord && !actor.Has(auth.RoleReviewer) && !actor.Has(auth.RoleApprover) {
			return forbidden("auditors and users without a working role cannot attach files")
		}
		if !c.Stage.IsOpen() {
			return stageErr()
		}
	case ActLink:
		if !isOwner && !coord {
			return forbidden("only the initiator or an MOC coordinator may link related changes")
		}
		// A closed or voided change is a finished record: the change
		// still open links to it, not the other way round.
		if !c.Stage.IsOpen() {
			return stageErr()
		}
	case ActRequestExtension:
		if !isOwner && !coord {
			return forbidden("only the initiator or an MOC coordinator may request an extension")
		}
		if !c.LiveTemporary() {
			return conflict("%s is not a live temporary change: %s is not possible", c.Number, a)
		}
		if d.pendingExtension() != nil {
			return conflict("%s already has an extension request waiting for approval", c.Number)
		}
	case ActRevert:
		if !isOwner && !coord {
			return forbidden("only the initiator or an MOC coordinator may revert a temporary change")
		}
		if !c.Duration.IsTemporary() || c.RevertedAt != nil || c.Stage != StageInService {
			return conflict("%s is not a temporary change in service: it can be reverted once it is in service", c.Number)
		}
	case ActDecideExtension:
		if !actor.Has(auth.RoleApprover) {
			return forbidden("only an approver may decide an extension")
		}
		// The people who approved the change (this round), or whoever
		// they delegated to: being an approver somewhere on the site is
		// not a say over this change.
		if !d.isRoundApprover(actor.ID) && !slices.ContainsFunc(d.delegators, d.isRoundApprover) {
			return forbidden("only the approvers of %s (or their delegates) may decide its extension", c.Number)
		}
		ext := d.pendingExtension()
		if ext == nil {
			return conflict("%s has no extension request waiting", c.Number)
		}
		if isOwner || ext.RequestedBy == actor.ID {
			return forbidden("nobody approves their own extension request")
		}
		if !c.LiveTemporary() {
			return conflict("%s is not a live temporary change: %s is not possible", c.Number, a)
		}
	case ActMakePermanent:
		if !coord {
			return forbidden("only an MOC coordinator may ask for a temporary change to be made permanent")
		}
		if !c.Duration.IsTemporary() || c.RevertedAt != nil || c.Stage != StageInService {
			return conflict("%s is not a temporary change in service: it can be made permanent once it is in service", c.Number)
		}
	default:
		return invalid("action", "unknown action %q", a)
	}
	return nil
}

// isHazardReviewer reports whether userID is the reviewer of the
// current round's hazard review.
func (d *Detail) isHazardReviewer(userID int64) bool {
	return slices.ContainsFunc(d.Reviews, func(r Review) bool {
		return r.Round == d.Change.Round && r.Discipline == DisciplineHazardReview && r.ReviewerID == userID
	})
}

func (d *Detail) pendingReviewFor(userID int64) *Review {
	for i := range d.Reviews {
		r := &d.Reviews[i]
		if r.Round == d.Change.Round && r.ReviewerID == userID && r.DecidedAt == nil {
			return r
		}
	}
	return nil
}

// currentApprovalStage is the lowest stage number of the current round
// with an undecided approval, or 0.
func (d *Detail) currentApprovalStage() int {
	cur := 0
	for _, a := range d.Approvals {
		if a.Round == d.Change.Round && a.DecidedAt == nil && (cur == 0 || a.StageNo < cur) {
			cur = a.StageNo
		}
	}
	return cur
}

// pendingApprovalFor finds the undecided approval of the current stage
// that userID may decide: their own first, else one delegated to them.
func (d *Detail) pendingApprovalFor(userID int64) *Approval {
	cur := d.currentApprovalStage()
	if cur == 0 {
		return nil
	}
	var delegated *Approval
	for i := range d.Approvals {
		a := &d.Approvals[i]
		if a.Round != d.Change.Round || a.StageNo != cur || a.DecidedAt != nil {
			continue
		}
		if a.ApproverID == userID {
			return a
		}
		if delegated == nil && slices.Contains(d.delegators, a.ApproverID) {
			delegated = a
		}
	}
	if delegated != nil && !d.maySignAsDelegate(userID) {
		return nil
	}
	return delegated
}

// maySignAsDelegate reports whether userID may sign an approval of the
// current round for someone who delegated to them. Nobody signs twice in
// one round: not an approver of the change in this round (any stage),
// nor someone who already signed one of its approvals.
func (d *Detail) maySignAsDelegate(userID int64) bool {
	for _, a := range d.Approvals {
		if a.Round == d.Change.Round && (a.ApproverID == userID || a.DecidedBy == userID) {
			return false
		}
	}
	return true
}

// blockedDelegation names the approver whose pending approval userID
// would decide as a delegate but may not (maySignAsDelegate), or "".
func (d *Detail) blockedDelegation(userID int64) string {
	cur := d.currentApprovalStage()
	if cur == 0 || d.maySignAsDelegate(userID) {
		return ""
	}
	for _, a := range d.Approvals {
		if a.Round == d.Change.Round && a.StageNo == cur && a.DecidedAt == nil && slices.Contains(d.delegators, a.ApproverID) {
			return a.ApproverName
		}
	}
	return ""
}

// isRoundApprover reports whether userID is an approver of the change in
// its current round.
func (d *Detail) isRoundApprover(userID int64) bool {
	for _, a := range d.Approvals {
		if a.Round == d.Change.Round && a.ApproverID == userID {
			return true
		}
	}
	return false
}

// ApprovalFor is the approval userID would decide now (pendingApprovalFor):
// their own, or one they decide as a delegate (OnBehalf is then the
// approver's name), or nil.
func (d *Detail) ApprovalFor(userID int64) (ap *Approval, onBehalf string) {
	ap = d.pendingApprovalFor(userID)
	if ap != nil && ap.ApproverID != userID {
		onBehalf = ap.ApproverName
	}
	return ap, onBehalf
}

func (d *Detail) pendingExtension() *Extension {
	for i := range d.Extensions {
		if d.Extensions[i].DecidedAt == nil {
			return &d.Extensions[i]
		}
	}
	return nil
}

// dateOnly returns t's UTC calendar date at midnight.
func dateOnly(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
