package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// loadChangePage finds the change named in the path ({ref}: its number
// or numeric id) as the user sees it. It answers (404 page) and returns
// nil when there is nothing to show.
func (s *Server) loadChangePage(w http.ResponseWriter, r *http.Request) (*auth.User, *change.Detail) {
	u := auth.UserFrom(r.Context())
	// The API's change paths resolve the same way (changeRequest).
	d, err := s.Changes.GetByRef(r.Context(), u, r.PathValue("ref"))
	if err != nil {
		s.fail(w, r, err)
		return nil, nil
	}
	return u, d
}

// changeView is what change_view.html and change_print.html show.
type changeView struct {
	D        *change.Detail
	C        *change.Change
	Can      map[string]bool
	Steps    []change.Step
	Timeline []timelineEntry
	// FullTimeline is Timeline with nothing shortened, for the print view.
	FullTimeline []timelineEntry
	// Conflicts are the other open changes on the same unit or equipment.
	Conflicts []change.Change
	// Input is what the user typed into a form that failed, by element id.
	Input map[string]string
	// Missing names the fields still empty that submit requires.
	Missing []string
	// Users to choose from (enabled, on the change's site), when the site
	// has few; else PeopleSearch, and Known holds the people the change
	// names already (loadPeople).
	Reviewers, Approvers, People []*auth.User
	PeopleSearch                 bool
	Known                        map[int64]*auth.User
	Disciplines                  []string
	// Current-round reviews and approvals, and earlier rounds' history.
	Reviews      []change.Review
	Approvals    []change.Approval
	PastReviews  []change.Review
	PastApproval []change.Approval
	// ApproverStage marks the approvers chosen so far, by stage.
	ApproverStage map[int64]int
	// MyReview is the review waiting for the user, if any.
	MyReview *change.Review
	// NeedsPassword: the user signs with their password (local account);
	// otherwise (Entra ID) with a password entered at Microsoft within the
	// signature window.
	NeedsPassword bool
	// SignWindowEnd, for an Entra ID user whose last password entry at
	// Microsoft is recent enough, is when signing without a new sign-in
	// stops being possible; nil when signing will send them to Microsoft.
	SignWindowEnd *time.Time
	Attachments   map[int64]change.Attachment
	OpenPSSR      int
	Deficiencies  int
	// PSSRScopes are the disciplines and checklist sections a PSSR team
	// member can be named for (the team form).
	PSSRScopes []string
	Today      time.Time
	Me         *auth.User
}

// ActionNo numbers an action within its change (1, 2, 3...), as the
// record shows it; database ids run across all changes.
func (v *changeView) ActionNo(id int64) int {
	for i, a := range v.D.Actions {
		if a.ID == id {
			return i + 1
		}
	}
	return 0
}

// RanReviews are the reviews that were asked for or decided, every
// round: a review set up for a round that never started review has
// nothing to show.
func (v *changeView) RanReviews() []change.Review {
	var out []change.Review
	for _, r := range v.D.Reviews {
		if r.RequestedAt != nil || r.DecidedAt != nil {
			out = append(out, r)
		}
	}
	return out
}

// ExpiryNote says, beside a temporary change's expiry, what became of
// it: extended (how often, from which date), reverted, made permanent.
func (v *changeView) ExpiryNote() string {
	c := v.C
	var parts []string
	var first string
	n := 0
	for _, e := range v.D.Extensions {
		if e.Decision == change.DecisionApproved {
			if n == 0 {
				first = e.OldExpiresOn.Format(time.DateOnly)
			}
			n++
		}
	}
	switch {
	case n == 1:
		parts = append(parts, "extended once, first due "+first)
	case n > 1:
		parts = append(parts, fmt.Sprintf("extended %d times, first due %s", n, first))
	}
	if c.RevertedAt != nil {
		parts = append(parts, "reverted "+c.RevertedAt.Format(time.DateOnly))
	}
	if c.PermanentRound != 0 && !c.Duration.IsTemporary() {
		parts = append(parts, "made permanent (no longer expires)")
	}
	return strings.Join(parts, "; ")
}

// When labels an action of this change as due before or after startup
// (for a PCR: completion, since a PCR starts nothing up).
func (v *changeView) When(before bool) string { return v.C.ActionWhen(before) }

// Statement is what signing action a with decision would state (the
// meaning in full, the printed name and job title), for the sign forms;
// nil when the user cannot sign it now.
func (v *changeView) Statement(a, decision string) *change.Statement {
	st, ok := v.D.Statement(change.Action(a), change.Decision(decision))
	if !ok {
		return nil
	}
	return &st
}

// WaitingApprovals are the approvals of the current round that were
// asked for and not yet signed: the print view lists them, and leaves
// out stages never asked (they have no signature to show).
func (v *changeView) WaitingApprovals() []change.Approval {
	var out []change.Approval
	for _, a := range v.Approvals {
		if a.RequestedAt != nil && a.DecidedAt == nil {
			out = append(out, a)
		}
	}
	return out
}

// Has reports whether the user may take action a (for the templates).
func (v *changeView) Has(a string) bool { return v.Can[a] }

// WaitingOn says, when nothing waits for the user, who or what the
// change waits for, so nobody has to guess the next step.
// emergencyNote is the banner of an emergency change.
type emergencyNote struct {
	Class, Lead, Text string
}

// EmergencyNote says where an emergency change stands on its two
// tracks, or nil for other changes.
func (v *changeView) EmergencyNote() *emergencyNote {
	c := v.C
	if c.Duration != change.DurationEmergency || !c.Stage.IsOpen() {
		return nil
	}
	due := ""
	if c.ReviewDeadline != nil {
		due = c.ReviewDeadline.Format(time.DateOnly)
	}
	switch {
	case c.AwaitingEmergencyAuthorization():
		return &emergencyNote{"warn", "Emergency change.", "Implementation may start once an approver or an MOC coordinator of the site (not the initiator) signs its emergency authorisation."}
	case c.EmergencyReviewOverdue(dayOf(v.Today)):
		return &emergencyNote{"bad", "Emergency review overdue.", "Implemented before full review; the full review was due by " + due + " and is still open."}
	case c.UnderEmergency():
		return &emergencyNote{"warn", "Emergency change under way before full review.", "Implementation stage: " + c.EmergencyStage.Label() +
			". The reviews and approvals run meanwhile; the full review is due by " + due + "."}
	}
	return nil
}

func (v *changeView) WaitingOn() string {
	switch v.C.Stage {
	case change.StageDraft, change.StageReturned:
		return "The initiator completes the change and submits it for screening."
	case change.StageRIKConfirmation:
		return "Submitted as a replacement in kind: an MOC coordinator or an approver of the site (not the initiator) confirms it, signed, or rejects it into the normal review."
	case change.StageScreening:
		return "Next, an MOC coordinator assigns a reviewer to each review, names the approvers and starts the review."
	case change.StageReview:
		if v.C.Converting() {
			return "Being re-reviewed to become permanent; it stays in service, temporary, meanwhile: see Reviews below."
		}
		return "Waiting for the reviewers: see Reviews below."
	case change.StageApproval:
		if v.C.Converting() {
			return "Waiting for the approvers to sign the re-approval that makes it permanent; it stays in service, temporary, meanwhile."
		}
		return "Waiting for the approvers to sign: see Approvals and signatures below."
	case change.StageImplementation:
		if v.C.Kind == change.KindPCR {
			return "The work is being done. When every action due before completion is done, the initiator or an MOC coordinator marks implementation complete."
		}
		return "The work is being done. When every pre-startup action is done, the initiator or an MOC coordinator marks implementation complete."
	case change.StagePSSR:
		return "Waiting for the pre-startup safety review: coordinators, approvers or reviewers answer the checklist, then an MOC coordinator or approver authorises startup."
	case change.StageInService:
		if left, ok := v.C.DaysToExpiry(v.Today); ok {
			return "In service until " + v.C.ExpiresOn.Format(time.DateOnly) + " (" + change.ExpiryCountdown(left) + "). Before then it is reverted (the initiator or an MOC coordinator), extended (approvers decide), or an MOC coordinator asks for it to be made permanent."
		}
		return "In service."
	case change.StageCloseout:
		if v.C.RevertedAt != nil {
			return "Reverted: when the restore actions are done, an MOC coordinator closes the change."
		}
		return "Waiting for an MOC coordinator to close the change once every action is done."
	}
	return ""
}

// missingForSubmit is the domain's list of empty required fields, in the
// page's words.
func missingForSubmit(c *change.Change) []string {
	out := change.MissingBeforeSubmit(c)
	for i, f := range out {
		out[i] = fieldLabel(f)
	}
	return out
}

// buildChangeView gathers everything the change page shows.
func (s *Server) buildChangeView(r *http.Request, u *auth.User, d *change.Detail) (*changeView, error) {
	ctx := r.Context()
	c := d.Change
	v := &changeView{D: d, C: c, Can: map[string]bool{}, Steps: d.Steps(), Input: map[string]string{},
		Disciplines: change.Disciplines, ApproverStage: map[int64]int{}, Attachments: map[int64]change.Attachment{},
		Today: s.Now().UTC(), Me: u}
	for _, a := range d.AllowedActions {
		v.Can[string(a)] = true
	}
	trail, err := s.Changes.AuditTrail(ctx, u, c.ID)
	if err != nil {
		return nil, err
	}
	v.Timeline = timeline(trail, d.Actions)
	v.FullTimeline = fullTimeline(trail, d.Actions)
	if c.Stage.IsOpen() {
		if v.Conflicts, err = s.Changes.Conflicts(ctx, u, c.SiteID, c.UnitID, c.EquipmentTags, c.ID); err != nil {
			return nil, err
		}
	}
	if c.Stage == change.StageDraft || c.Stage == change.StageReturned {
		v.Missing = missingForSubmit(c)
	}
	for _, rv := range d.Reviews {
		if rv.Round == c.Round {
			v.Reviews = append(v.Reviews, rv)
			if rv.ReviewerID == u.ID && rv.DecidedAt == nil && v.MyReview == nil && c.Stage == change.StageReview {
				rv := rv
				v.MyReview = &rv
			}
		} else {
			v.PastReviews = append(v.PastReviews, rv)
		}
	}
	for _, ap := range d.Approvals {
		if ap.Round == c.Round {
			v.Approvals = append(v.Approvals, ap)
			v.ApproverStage[ap.ApproverID] = ap.StageNo
		} else {
			v.PastApproval = append(v.PastApproval, ap)
		}
	}
	for _, a := range d.Attachments {
		v.Attachments[a.ID] = a
	}
	for _, it := range d.PSSR {
		if it.Answer == "" {
			v.OpenPSSR++
		}
	}
	for _, a := range d.Actions {
		if a.Kind == change.ActionDeficiency && !a.Closed() {
			v.Deficiencies++
		}
	}
	// An action's owner may hand it on, so they need the list of people too.
	// So does a reviewer naming the owners of their review's conditions.
	editsAction := slices.ContainsFunc(d.Actions, func(a change.ActionItem) bool { return v.CanEditAction(a) })
	if v.Can["assign_pssr_team"] {
		if v.PSSRScopes, err = s.Changes.PSSRScopes(ctx, d); err != nil {
			return nil, err
		}
	}
	if v.Can["assign"] || v.Can["add_action"] || v.Can["manage_roster"] || editsAction || v.MyReview != nil || v.Can["add_review"] ||
		v.Can["record_hazard_review"] || v.Can["assign_pssr_team"] {
		if err := s.loadPeople(ctx, v); err != nil {
			return nil, err
		}
	}
	hasPassword, err := auth.HasPassword(ctx, s.DB.SQL, u.ID)
	if err != nil {
		return nil, err
	}
	sess := auth.SessionFrom(ctx)
	v.NeedsPassword = !s.signsAtMicrosoft(u, sess, hasPassword)
	if !v.NeedsPassword && sess != nil {
		if end, fresh := s.signatureWindowEnd(sess); fresh {
			v.SignWindowEnd = &end
		}
	}
	return v, nil
}

// pageShowChange shows one change with everything hanging off it.
func (s *Server) pageShowChange(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	if ref := r.PathValue("ref"); ref != d.Change.Number {
		// Notification links use the numeric id; the page lives at its number.
		target := changeURL(d.Change)
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	s.renderChange(w, r, http.StatusOK, u, d, nil, nil)
}

// renderChange renders the change page; errs and input come from a
// failed form.
func (s *Server) renderChange(w http.ResponseWriter, r *http.Request, status int, u *auth.User, d *change.Detail, errs, input map[string]string) {
	v, err := s.buildChangeView(r, u, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for k, val := range input {
		v.Input[k] = val
	}
	// A refusal from a form the page no longer shows (the change moved on,
	// or the user may not do that) is shown at the top instead.
	for k, msg := range errs {
		if strings.HasPrefix(k, "f-") && !v.formShown(k) {
			delete(errs, k)
			errs["page-error"] = msg
		}
	}
	p := &Page{Title: d.Change.Number + " " + d.Change.Title, Errors: errs, Data: v, SiteID: d.Change.SiteID}
	if len(errs) == 0 {
		p.Flash = flashMessages[r.URL.Query().Get("done")]
	}
	s.render(w, r, status, "change_view.html", p)
}

// failChange re-renders the change page after a failed POST: the change
// as it is now, the errors beside the fields, and what the user typed.
func (s *Server) failChange(w http.ResponseWriter, r *http.Request, u *auth.User, d *change.Detail, err error, formID string, ids map[string]string, input map[string]string) {
	if problem.KindOf(err) == problem.Internal {
		s.Logger.ErrorContext(r.Context(), "change page action", "path", r.URL.Path, "err", err)
	}
	if fresh, gerr := s.Changes.Get(r.Context(), u, d.Change.ID); gerr == nil {
		d = fresh
	}
	s.renderChange(w, r, statusOf(err), u, d, formErrors(err, formID, ids), input)
}

// noStore keeps a change page out of caches and the back-forward cache:
// it changes with every decision, carries the form's security token, and
// a page parked in the back-forward cache would keep its live
// notification stream open, using up the browser's six connections to
// the server.

// pagePrintChange is a clean, printable summary for audits.
func (s *Server) pagePrintChange(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	v, err := s.buildChangeView(r, u, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "change_print.html", &Page{Title: d.Change.Number + " (print)", Data: v, SiteID: d.Change.SiteID})
}

// Overdue reports whether an open action item is past its due date.
func (v *changeView) Overdue(a change.ActionItem) bool {
	return a.Status == change.ActionOpen && change.PastDue(a.DueOn, v.Today)
}

// CanComplete reports whether the user may mark the action item done.
func (v *changeView) CanComplete(a change.ActionItem) bool {
	return a.Status == change.ActionOpen && v.C.Stage.IsOpen() && change.CanCompleteAction(v.Me, &a)
}

// CanEditAction reports whether the user may edit or reassign the action.
func (v *changeView) CanEditAction(a change.ActionItem) bool {
	return a.Status == change.ActionOpen && v.C.Stage.IsOpen() && change.CanEditAction(v.Me, &a)
}

// ActionField is the value an action's edit form shows for field: what
// the user typed when the form came back with an error, else the
// action's current value.
func (v *changeView) ActionField(a change.ActionItem, field string) string {
	key := fmt.Sprintf("action-%d-", a.ID)
	if v.Input[key+"edit"] != "" {
		return v.Input[key+field]
	}
	switch field {
	case "title":
		return a.Title
	case "owner_id":
		return strconv.FormatInt(a.OwnerID, 10)
	case "due_on":
		if a.DueOn != nil {
			return a.DueOn.Format(time.DateOnly)
		}
	case "before_startup":
		if a.BeforeStartup {
			return "yes"
		}
	case "verification_required":
		if a.VerificationRequired {
			return "yes"
		}
	}
	return ""
}

// CanVerify reports whether the user may verify the completed action.
func (v *changeView) CanVerify(a change.ActionItem) bool {
	return v.C.Stage.IsOpen() && change.CanVerifyAction(v.Me, &a)
}

// IsCoordinator says whether the user coordinates changes (who may ask
// for an action to be verified).
func (v *changeView) IsCoordinator() bool { return v.Me.Has(auth.RoleCoordinator) }

// ConditionsOf are the action items a review's conditions became.
func (v *changeView) ConditionsOf(reviewID int64) []change.ActionItem {
	var out []change.ActionItem
	for _, a := range v.D.Actions {
		if a.ReviewID == reviewID {
			out = append(out, a)
		}
	}
	return out
}

// DecisionLabel is a review or approval decision in words.
func (v *changeView) DecisionLabel(d change.Decision) string {
	switch d {
	case change.DecisionReviewedWithConditions:
		return "Reviewed — with conditions"
	case "":
		return ""
	}
	s := string(d)
	return strings.ToUpper(s[:1]) + s[1:]
}

// DisciplinesToAdd are the disciplines a coordinator may still add a
// review for in this round.
func (v *changeView) DisciplinesToAdd() []string {
	var out []string
	for _, disc := range append(slices.Clone(change.Disciplines), change.DisciplineHazardReview) {
		if !slices.ContainsFunc(v.D.Reviews, func(r change.Review) bool { return r.Round == v.C.Round && r.Discipline == disc }) {
			out = append(out, disc)
		}
	}
	return out
}

// PendingReviews are the current round's reviews still waiting, whose
// reviewer a coordinator may replace during review.
func (v *changeView) PendingReviews() []change.Review {
	var out []change.Review
	for _, r := range v.D.Reviews {
		if r.Round == v.C.Round && r.DecidedAt == nil {
			out = append(out, r)
		}
	}
	return out
}

// ConditionRows are the numbers of the blank condition rows the review
// form offers.
func (v *changeView) ConditionRows() []int { return []int{0, 1, 2} }

// AttachmentName names an attachment of the change, for PSSR evidence.
func (v *changeView) AttachmentName(id int64) string { return v.Attachments[id].Filename }

// HasPreview says whether an attachment is a picture the page shows as a
// thumbnail that opens its preview.
func (v *changeView) HasPreview(a change.Attachment) bool { return change.HasThumbnail(a.ContentType) }

// ReviewerSelected says whether reviewer id is the choice shown for a
// discipline: the user's last input, else the assigned reviewer.
func (v *changeView) ReviewerSelected(discipline string, assigned, id int64) bool {
	if in, ok := v.Input["reviewer-"+discipline]; ok {
		return in == strconv.FormatInt(id, 10)
	}
	return assigned == id
}

// ApproverChecked says whether approver id is ticked for stage (1 or 2).
func (v *changeView) ApproverChecked(stage int, id int64) bool {
	if len(v.Input) > 0 {
		return v.Input[fmt.Sprintf("stage%d-%d", stage, id)] == "yes"
	}
	return v.ApproverStage[id] == stage
}

// ScreenChecked says whether a screening box is ticked: the user's last
// input, else the answers of the previous submission.
func (v *changeView) ScreenChecked(key string) bool {
	if len(v.Input) > 0 {
		return v.Input["sc-"+key] == "yes"
	}
	sc := v.C.Screening
	if sc == nil {
		return false
	}
	switch key {
	case "replacement_in_kind":
		return sc.ReplacementInKind
	case "psi_changes":
		return sc.PSIChanges
	case "procedures_change":
		return sc.ProceduresChange
	case "hazard_review_needed":
		return sc.HazardReviewNeeded
	case "pssr_needed":
		return sc.PSSRNeeded
	}
	if d, ok := strings.CutPrefix(key, "d-"); ok {
		return slices.Contains(sc.Disciplines, d)
	}
	return false
}

// ScreeningFacts lists the screening answers in words.
func (v *changeView) ScreeningFacts() []string { return screeningFacts(v.C.Screening) }

// Label is the display name of a discipline.
func (v *changeView) Label(discipline string) string { return disciplineLabel(discipline) }

// TeamMember is the user's place on the PSSR team, or nil.
func (v *changeView) TeamMember(userID int64) *change.PSSRMember {
	for i := range v.D.PSSRTeam {
		if v.D.PSSRTeam[i].UserID == userID {
			return &v.D.PSSRTeam[i]
		}
	}
	return nil
}

// ItemHistory says what became of each No an item was answered: its
// deficiency, open or closed by whom and when.
func (v *changeView) ItemHistory(itemID int64) []string {
	var out []string
	for _, a := range v.D.PSSRItemDeficiencies(itemID) {
		out = append(out, change.DeficiencyHistory(a))
	}
	return out
}

// AnswerLabel is Yes, No or N/A.
func (v *changeView) AnswerLabel(a string) string { return answerLabel(a) }

// formShown reports whether the change page shows the form with this id
// to the user now.
func (v *changeView) formShown(id string) bool {
	switch {
	case id == "f-submit":
		return v.Can["submit"]
	case id == "f-review":
		return v.MyReview != nil
	case id == "f-decision":
		return v.Can["approve"]
	case id == "f-acknowledge":
		return v.Can["acknowledge"]
	case id == "f-reviewers":
		return v.Can["assign"] && len(v.Reviews) > 0
	case id == "f-approvers":
		return v.Can["assign"]
	case id == "f-action":
		return v.Can["add_action"]
	case id == "f-roster":
		return v.Can["manage_roster"]
	case id == "f-attach":
		return v.Can["attach"]
	case id == "f-hazard":
		return v.Can["record_hazard_review"]
	case id == "f-extension":
		return v.Can["request_extension"]
	case id == "f-extdecision":
		return v.Can["decide_extension"]
	case strings.HasPrefix(id, "f-t-"):
		// A move waiting on open points shows that list under this id,
		// where a refusal from a stale page belongs too.
		a := strings.TrimPrefix(id, "f-t-")
		return v.Can[a] || len(v.D.Blocked[change.Action(a)]) > 0
	case id == "f-pssr-team":
		return v.Can["assign_pssr_team"]
	case strings.HasPrefix(id, "f-pssr-"):
		return v.Can["answer_pssr"]
	case strings.HasPrefix(id, "f-action-"):
		n, _ := strconv.ParseInt(strings.TrimPrefix(id, "f-action-"), 10, 64)
		for _, a := range v.D.Actions {
			if a.ID == n {
				return v.CanComplete(a)
			}
		}
	}
	return false
}

// AnyNext reports whether the "What you can do now" card has a form.
func (v *changeView) AnyNext() bool {
	return v.Can["submit"] || v.MyReview != nil || v.Can["approve"] || v.Can["acknowledge"] || v.Can["decide_extension"] ||
		len(v.Transitions()) > 0 || len(v.D.Blocked) > 0
}

// ApprovingFor names the approver whose approval the user decides as
// their delegate, or "" when the approval waiting is their own.
func (v *changeView) ApprovingFor() string {
	if !v.Can["approve"] {
		return ""
	}
	_, onBehalf := v.D.ApprovalFor(v.Me.ID)
	return onBehalf
}

// blockedMove is a stage move the user could make once what is still
// open is done: the page lists that instead of a form that would be refused.
type blockedMove struct {
	Action, Label, Once string
	Open                []string
}

// BlockedMoves are the stage moves waiting on open points (Detail.Blocked).
func (v *changeView) BlockedMoves() []blockedMove {
	var out []blockedMove
	for _, m := range []blockedMove{
		{Action: string(change.ActStartReview), Label: "Start the review", Once: "The review can start once:"},
		{Action: string(change.ActCompleteImplementation), Label: "Complete implementation", Once: "Implementation can be completed once:"},
		{Action: string(change.ActSignOffPSSR), Label: "Sign off the PSSR", Once: "You can sign off the PSSR once:"},
		{Action: string(change.ActAuthorizeStartup), Label: "Authorise startup", Once: "Startup can be authorised once:"},
	} {
		if open := v.D.Blocked[change.Action(m.Action)]; len(open) > 0 {
			m.Open = open
			out = append(out, m)
		}
	}
	return out
}

// PendingExtension is the extension request waiting for a decision, if any.
func (v *changeView) PendingExtension() *change.Extension {
	for i := range v.D.Extensions {
		if v.D.Extensions[i].DecidedAt == nil {
			return &v.D.Extensions[i]
		}
	}
	return nil
}

// Transitions are the stage moves the user may make now, in the order
// the page shows them, with what each needs.
func (v *changeView) Transitions() []transitionButton {
	var out []transitionButton
	for _, t := range transitionButtons {
		if v.Can[t.Action] {
			if t.Action == string(change.ActCompleteImplementation) && v.C.Kind == change.KindPCR {
				t.Help = "Every action due before completion must be done first."
			}
			out = append(out, t)
		}
	}
	return out
}

// MainTransitions are the allowed stage moves that take the change forward.
func (v *changeView) MainTransitions() []transitionButton {
	return slices.DeleteFunc(v.Transitions(), func(t transitionButton) bool { return t.Danger })
}

// DangerTransitions are the allowed moves that send it back or stop it
// (return, void); the page folds them away.
func (v *changeView) DangerTransitions() []transitionButton {
	return slices.DeleteFunc(v.Transitions(), func(t transitionButton) bool { return !t.Danger })
}

// DangerOpen reports whether a folded-away form has an error to show.
func (v *changeView) DangerOpen(errs map[string]string) bool {
	for _, t := range v.DangerTransitions() {
		if errs["f-t-"+t.Action] != "" || errs["t-"+t.Action+"-comment"] != "" {
			return true
		}
	}
	return false
}

// transitionButton describes one stage move on the page.
type transitionButton struct {
	Action, Label, Help string
	// Comment: "" none, "optional" or "required" (with CommentLabel).
	Comment, CommentLabel string
	Sign, Danger          bool
	// Rereview offers the choice of a re-review before the re-approval.
	Rereview bool
}

var transitionButtons = []transitionButton{
	{Action: "confirm_rik", Label: "Confirm replacement in kind and sign", Help: "Same specification, like for like: the change closes without review or approval. Your signature is recorded.", Comment: "optional", CommentLabel: "What you checked", Sign: true},
	{Action: "reject_rik", Label: "Not a replacement in kind", Help: "Send it back to the initiator for the full screening, reviews and approvals.", Comment: "required", CommentLabel: "Why it is not like for like"},
	{Action: "authorize_emergency", Label: "Authorise emergency implementation and sign", Help: "Implementation (actions, and the PSSR when screening asked for one) may start now, while the reviews and approvals run; the full review is due by the site's review deadline. Your signature is recorded.", Comment: "optional", CommentLabel: "Conditions or note", Sign: true},
	{Action: "start_review", Label: "Start review", Help: "Every discipline review needs a reviewer, and at least one approver must be named: see Reviews and Approvals below."},
	{Action: "complete_implementation", Label: "Complete implementation", Help: "Every pre-startup action must be done first."},
	{Action: "signoff_pssr", Label: "Sign off the PSSR", Help: "As PSSR team lead: every checklist item answered, every deficiency closed. Startup waits for your signature; an answer changed afterwards needs a new one.", Comment: "optional", CommentLabel: "Note", Sign: true},
	{Action: "authorize_startup", Label: "Authorise startup", Help: "Every PSSR item answered, every deficiency and pre-startup action closed, the roster signed off. Your signature is recorded.", Sign: true},
	{Action: "close", Label: "Close out and sign", Help: "Every action must be done. A temporary change must be reverted or made permanent first. Your signature is recorded.", Comment: "optional", CommentLabel: "Close-out note", Sign: true},
	{Action: "revert", Label: "Revert: take it out of service", Help: "Restore actions are created (remove the temporary equipment or instruction, restore the P&IDs and procedures); the change closes once they are done.", Comment: "optional", CommentLabel: "How it is reverted"},
	{Action: "make_permanent", Label: "Ask to make it permanent", Help: "The change's approvers re-approve it, signed, as for a new change; it stays temporary until they have. Their delegates may sign as usual.", Comment: "required", CommentLabel: "Why it should stay for good", Rereview: true},
	{Action: "return", Label: "Return for revision", Help: "Send the change back to the initiator.", Comment: "required", CommentLabel: "What must be revised", Danger: true},
	{Action: "void", Label: "Void the change", Help: "Stop the change for good. This cannot be undone.", Comment: "required", CommentLabel: "Reason for voiding", Danger: true},
}
