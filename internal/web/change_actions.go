package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// The POST handlers of the change page. Each reads its small form, calls
// change.Service, and redirects back with a flash message, or re-renders
// the page with the error beside the field and the input kept.

func (s *Server) pageSubmitChange(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	_ = r.ParseForm()
	yes := func(n string) bool { return r.PostFormValue(n) == "yes" || r.PostFormValue(n) == "on" }
	sc := change.Screening{ReplacementInKind: yes("replacement_in_kind"), PSIChanges: yes("psi_changes"),
		ProceduresChange: yes("procedures_change"), HazardReviewNeeded: yes("hazard_review_needed"), PSSRNeeded: yes("pssr_needed"),
		Disciplines: r.PostForm["disciplines"]}
	input := map[string]string{}
	for _, n := range []string{"replacement_in_kind", "psi_changes", "procedures_change", "hazard_review_needed", "pssr_needed"} {
		if yes(n) {
			input["sc-"+n] = "yes"
		}
	}
	for _, disc := range sc.Disciplines {
		input["sc-d-"+disc] = "yes"
	}
	ids := map[string]string{"screening.disciplines": "sc-disciplines", "screening.pssr_needed": "sc-pssr_needed"}
	if r.PostFormValue("questionnaire") != "" {
		// The questionnaire's form: the answers decide. A replacement in
		// kind may leave them out; its confirmation is the check.
		answers := readAnswers(r, d.Questionnaire, input, ids)
		sc = change.Screening{ReplacementInKind: sc.ReplacementInKind}
		if len(answers) > 0 || !sc.ReplacementInKind {
			sc.Answers = answers
		}
	}
	c, err := s.Changes.Submit(r.Context(), u, d.Change.ID, sc)
	if err != nil {
		errs := formErrors(err, "f-submit", ids)
		var de *problem.Error
		if errors.As(err, &de) && slices.Contains(changeFormFields, de.Field) {
			// A required field is empty: say which, and where to fill it in.
			errs = map[string]string{"f-submit": fieldError(de.Field, de.Message, nil) + " Edit the change to fill it in."}
		}
		if fresh, gerr := s.Changes.Get(r.Context(), u, d.Change.ID); gerr == nil {
			d = fresh
		}
		s.renderChange(w, r, statusOf(err), u, d, errs, input)
		return
	}
	done := "submitted"
	if c.Stage == change.StageRIKConfirmation {
		done = "submitted-rik"
	}
	redirectChange(w, r, c.Number, done, "")
}

func (s *Server) pageTransitionChange(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	act := change.Action(r.PostFormValue("action"))
	if !slices.Contains(change.Transitions, act) {
		s.fail(w, r, problem.Invalidf("action", "%q is not a step this page can take", act))
		return
	}
	prefix := "t-" + string(act)
	comment := r.PostFormValue("comment")
	rereview := r.PostFormValue("rereview") == "yes"
	input := map[string]string{prefix + "-comment": comment}
	if rereview {
		input[prefix+"-rereview"] = "yes"
	}
	var sig change.Signature
	var reauthErr error
	if slices.Contains(change.SignedActions, act) {
		var ok bool
		if sig, reauthErr, ok = s.pageSignature(w, r, d.Change.Number, r.PostFormValue("reauth_password")); !ok {
			return
		}
	}
	_, err := s.Changes.Transition(r.Context(), u, d.Change.ID, change.TransitionRequest{Action: act, Comment: comment, Signature: sig, Rereview: rereview})
	if err != nil {
		err = signatureError(err, reauthErr)
		ids := map[string]string{"comment": prefix + "-comment", "password": prefix + "-password"}
		if act == change.ActStartReview {
			ids = map[string]string{"reviewer_id": "f-reviewers", "approvers": "f-approvers"}
		}
		s.failChange(w, r, u, d, err, "f-"+prefix, ids, input)
		return
	}
	redirectChange(w, r, d.Change.Number, string(act), "")
}

func (s *Server) pageAssignReviewers(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	input := map[string]string{}
	for _, rv := range d.Reviews {
		if rv.Round != d.Change.Round {
			continue
		}
		key := "reviewer-" + rv.Discipline
		v := strings.TrimSpace(r.PostFormValue(key))
		input[key] = v
		id, err := s.formPerson(r.Context(), d, "reviewer_id", v)
		if err == nil && (id == 0 || id == rv.ReviewerID) {
			continue
		}
		if err == nil {
			err = s.Changes.AssignReviewer(r.Context(), u, d.Change.ID, rv.Discipline, id)
		}
		if err != nil {
			s.failChange(w, r, u, d, err, "f-reviewers", map[string]string{"reviewer_id": key, "discipline": key}, input)
			return
		}
	}
	redirectChange(w, r, d.Change.Number, "reviewers", "reviews")
}

// pageAddReview adds a discipline review, or replaces the reviewer of a
// pending one, during screening and review.
func (s *Server) pageAddReview(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	disc := r.PostFormValue("discipline")
	input := map[string]string{"add-review-discipline": disc, "add-review-reviewer": r.PostFormValue("reviewer_id")}
	ids := map[string]string{"discipline": "add-review-discipline", "reviewer_id": "add-review-reviewer"}
	reviewer, err := s.formPerson(r.Context(), d, "reviewer_id", r.PostFormValue("reviewer_id"))
	if err == nil {
		err = s.Changes.AddReview(r.Context(), u, d.Change.ID, disc, reviewer)
	}
	if err != nil {
		s.failChange(w, r, u, d, err, "f-add-review", ids, input)
		return
	}
	redirectChange(w, r, d.Change.Number, "review-added", "reviews")
}

func (s *Server) pageSetApprovers(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	_ = r.ParseForm()
	var stages [][]int64
	input := map[string]string{}
	seen := map[int64]bool{}
	twice := false
	for _, name := range []string{"stage1", "stage2"} {
		var ids []int64
		// A list ticks ids; a large site's search fields add a name each.
		added := 0
		for _, v := range r.PostForm[name] {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				input[fmt.Sprintf("%s-add-%d", name, added)] = v
				added++
			}
			id, err := s.formPerson(r.Context(), d, "approvers", v)
			if err != nil {
				s.failChange(w, r, u, d, err, "f-approvers", map[string]string{"approvers": "approvers-list"}, input)
				return
			}
			if id == 0 {
				continue
			}
			twice = twice || seen[id]
			seen[id] = true
			ids = append(ids, id)
			input[fmt.Sprintf("%s-%d", name, id)] = "yes"
		}
		stages = append(stages, ids)
	}
	if len(stages[1]) == 0 {
		stages = stages[:1]
	}
	var err error
	switch {
	case len(stages[0]) == 0:
		// Stage 2 alone would silently become stage 1.
		err = &problem.Error{Kind: problem.Invalid, Field: "approvers", Message: "approvers: choose at least one approver for stage 1 (stage 2 signs after it)"}
	case twice:
		// One person in both stages would sign twice, and the form could
		// only show one of the two ticks afterwards.
		err = &problem.Error{Kind: problem.Invalid, Field: "approvers", Message: "approvers: tick each person in one stage only"}
	default:
		err = s.Changes.SetApprovers(r.Context(), u, d.Change.ID, stages)
	}
	if err != nil {
		s.failChange(w, r, u, d, err, "f-approvers", map[string]string{"approvers": "approvers-list"}, input)
		return
	}
	redirectChange(w, r, d.Change.Number, "approvers", "approvals")
}

func (s *Server) pageDecideReview(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	dec := change.Decision(r.PostFormValue("decision"))
	comment := r.PostFormValue("comment")
	input := map[string]string{"review-comment": comment}
	ids := map[string]string{"comment": "review-comment", "decision": "f-review", "conditions": "review-conditions"}
	rd := change.ReviewDecision{Discipline: r.PostFormValue("discipline"), Decision: dec, Comment: comment}
	var p problem.List
	if dec == change.DecisionReviewedWithConditions {
		input["cond-open"] = "yes"
		// The form has blank rows; a row with nothing in it is not a condition.
		for row := range 3 {
			cp := fmt.Sprintf("cond-%d-", row)
			for _, n := range []string{"title", "owner_id", "due_on", "before_startup"} {
				input[cp+n] = r.PostFormValue(cp + n)
			}
			if strings.TrimSpace(input[cp+"title"]) == "" && input[cp+"owner_id"] == "" && input[cp+"due_on"] == "" {
				continue
			}
			i := len(rd.Conditions)
			for _, n := range []string{"title", "owner_id", "due_on"} {
				ids[fmt.Sprintf("conditions[%d].%s", i, n)] = cp + n
			}
			cd := change.ReviewCondition{Title: input[cp+"title"], BeforeStartup: input[cp+"before_startup"] == "yes"}
			owner, perr := s.formPerson(r.Context(), d, fmt.Sprintf("conditions[%d].owner_id", i), input[cp+"owner_id"])
			if perr = p.AddErr(perr); perr != nil {
				s.fail(w, r, perr)
				return
			}
			cd.OwnerID = owner
			due, derr := parseDate("due_on", input[cp+"due_on"])
			if derr != nil {
				p.Invalid(fmt.Sprintf("conditions[%d].due_on", i), "expected a date like 2026-12-31")
			}
			cd.DueOn = due
			rd.Conditions = append(rd.Conditions, cd)
		}
	}
	err := p.Err()
	if err == nil {
		err = s.Changes.DecideReviewWith(r.Context(), u, d.Change.ID, rd)
	}
	if err != nil {
		s.failChange(w, r, u, d, err, "f-review", ids, input)
		return
	}
	done := "reviewed"
	if dec == change.DecisionRejected {
		done = "review-rej"
	}
	redirectChange(w, r, d.Change.Number, done, "")
}

func (s *Server) pageDecideApproval(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	dec := change.Decision(r.PostFormValue("decision"))
	comment := r.PostFormValue("comment")
	input := map[string]string{"decision-comment": comment}
	ids := map[string]string{"comment": "decision-comment", "password": "reauth_password", "decision": "f-decision"}
	if dec != change.DecisionApproved && dec != change.DecisionRejected {
		s.failChange(w, r, u, d, &problem.Error{Kind: problem.Invalid, Field: "decision", Message: "decision: press Approve or Reject"}, "f-decision", ids, input)
		return
	}
	if dec == change.DecisionRejected && strings.TrimSpace(comment) == "" {
		// Say so before asking for the password again.
		s.failChange(w, r, u, d, &problem.Error{Kind: problem.Invalid, Field: "comment", Message: "comment: is required when rejecting: say why"}, "f-decision", ids, input)
		return
	}
	sig, reauthErr, ok := s.pageSignature(w, r, d.Change.Number, r.PostFormValue("reauth_password"))
	if !ok {
		return
	}
	if _, err := s.Changes.Decide(r.Context(), u, d.Change.ID, dec, comment, sig); err != nil {
		s.failChange(w, r, u, d, signatureError(err, reauthErr), "f-decision", ids, input)
		return
	}
	redirectChange(w, r, d.Change.Number, string(dec), "")
}

func (s *Server) pageAddAction(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	input := map[string]string{}
	for _, n := range []string{"title", "kind", "owner_id", "due_on", "before_startup"} {
		input["action-"+n] = r.PostFormValue(n)
	}
	ids := map[string]string{"title": "action-title", "kind": "action-kind", "owner_id": "action-owner_id", "due_on": "action-due_on"}
	// Check every field first so one submit shows every problem, as the
	// New change form does; the domain checks them again.
	errs := map[string]string{}
	if strings.TrimSpace(r.PostFormValue("title")) == "" {
		errs["action-title"] = "What must be done is required: say what the action is"
	}
	owner, perr := s.formPerson(r.Context(), d, "owner_id", r.PostFormValue("owner_id"))
	switch pe := problem.As(perr); {
	case pe != nil:
		errs["action-owner_id"] = "Owner: " + strings.TrimPrefix(pe.Message, pe.Field+": ")
	case perr != nil:
		s.fail(w, r, perr)
		return
	case owner <= 0:
		errs["action-owner_id"] = "Owner: choose who owns the action"
	}
	due, err := parseDate("due_on", r.PostFormValue("due_on"))
	switch {
	case err != nil:
		errs["action-due_on"] = "Due date: expected a date like 2026-12-31"
	case due != nil && due.Before(dayOf(s.Now())):
		errs["action-due_on"] = "Due date must be today or later"
	}
	if len(errs) > 0 {
		s.renderChange(w, r, http.StatusUnprocessableEntity, u, d, errs, input)
		return
	}
	kind := change.ActionKind(r.PostFormValue("kind"))
	if kind == "" {
		kind = change.ActionGeneral
	}
	_, err = s.Changes.AddAction(r.Context(), u, d.Change.ID, change.NewAction{Title: r.PostFormValue("title"), Kind: kind,
		OwnerID: owner, DueOn: due, BeforeStartup: r.PostFormValue("before_startup") != ""})
	if err != nil {
		s.failChange(w, r, u, d, err, "f-action", ids, input)
		return
	}
	redirectChange(w, r, d.Change.Number, "action-added", "actions")
}

// itemInPath reads the path value name as the id of one of the change's
// items (exists says which ids are), answering 404 when it is not one.
func (s *Server) itemInPath(w http.ResponseWriter, r *http.Request, name string, exists func(id int64) bool) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || !exists(id) {
		s.fail(w, r, errNotHere)
		return 0, false
	}
	return id, true
}

func (s *Server) pageCompleteAction(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	aid, ok := s.itemInPath(w, r, "aid", func(id int64) bool {
		return slices.ContainsFunc(d.Actions, func(a change.ActionItem) bool { return a.ID == id })
	})
	if !ok {
		return
	}
	note := r.PostFormValue("note")
	key := fmt.Sprintf("action-%d-note", aid)
	evKey := fmt.Sprintf("action-%d-evidence", aid)
	input := map[string]string{key: note, evKey: r.PostFormValue("evidence_id")}
	var evidence int64
	if v := r.PostFormValue("evidence_id"); v != "" {
		var err error
		if evidence, err = strconv.ParseInt(v, 10, 64); err != nil {
			s.failChange(w, r, u, d, problem.Invalidf("evidence_id", "choose one of the change's attachments"),
				fmt.Sprintf("f-action-%d", aid), map[string]string{"evidence_id": evKey}, input)
			return
		}
	}
	a, err := s.Changes.CompleteActionWithEvidence(r.Context(), u, aid, note, evidence)
	if err != nil {
		s.failChange(w, r, u, d, err, fmt.Sprintf("f-action-%d", aid), map[string]string{"note": key, "evidence_id": evKey}, input)
		return
	}
	done := "action-done"
	if a.Status == change.ActionToVerify {
		done = "action-to-verify"
	}
	redirectChange(w, r, d.Change.Number, done, "actions")
}

// pageVerifyAction is a coordinator's verification of a completed action.
func (s *Server) pageVerifyAction(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	aid, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil || !slices.ContainsFunc(d.Actions, func(a change.ActionItem) bool { return a.ID == aid }) {
		s.render(w, r, http.StatusNotFound, "notfound.html", &Page{Title: "Not found"})
		return
	}
	if _, err := s.Changes.VerifyAction(r.Context(), u, aid, r.PostFormValue("note")); err != nil {
		s.failChange(w, r, u, d, err, fmt.Sprintf("f-action-%d-verify", aid), nil, nil)
		return
	}
	redirectChange(w, r, d.Change.Number, "action-verified", "actions")
}

// pageEditAction saves the edit form of one action item: title, owner,
// due date and before or after startup.
func (s *Server) pageEditAction(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	aid, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil || !slices.ContainsFunc(d.Actions, func(a change.ActionItem) bool { return a.ID == aid }) {
		s.render(w, r, http.StatusNotFound, "notfound.html", &Page{Title: "Not found"})
		return
	}
	prefix := fmt.Sprintf("action-%d-", aid)
	input := map[string]string{prefix + "edit": "yes"}
	for _, n := range []string{"title", "owner_id", "due_on", "before_startup", "verification_required"} {
		input[prefix+n] = r.PostFormValue(n)
	}
	ids := map[string]string{"title": prefix + "title", "owner_id": prefix + "owner_id", "due_on": prefix + "due_on", "before_startup": prefix + "before_startup"}
	title := r.PostFormValue("title")
	before := r.PostFormValue("before_startup") == "yes"
	up := change.ActionUpdate{Title: &title, BeforeStartup: &before}
	// Only a coordinator's form carries the box; others leave it as it is.
	if u.Has(auth.RoleCoordinator) {
		verify := r.PostFormValue("verification_required") == "yes"
		up.VerificationRequired = &verify
	}
	var p problem.List
	owner, perr := s.formPerson(r.Context(), d, "owner_id", r.PostFormValue("owner_id"))
	if perr = p.AddErr(perr); perr != nil {
		s.fail(w, r, perr)
		return
	}
	switch {
	case p.Has("owner_id"):
	case owner <= 0:
		p.Invalid("owner_id", "choose who owns the action")
	default:
		up.OwnerID = &owner
	}
	if due, derr := requiredDate("due_on", r.PostFormValue("due_on")); derr != nil {
		p.Invalid("due_on", "expected a date like 2026-12-31")
	} else {
		up.DueOn = &due
	}
	err = p.Err("owner_id", "due_on")
	if err == nil {
		_, err = s.Changes.UpdateAction(r.Context(), u, aid, up)
	}
	if err != nil {
		s.failChange(w, r, u, d, err, fmt.Sprintf("f-action-%d-edit", aid), ids, input)
		return
	}
	redirectChange(w, r, d.Change.Number, "action-edited", "actions")
}

func (s *Server) pageAnswerPSSR(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	itemID, ok := s.itemInPath(w, r, "item", func(id int64) bool {
		return slices.ContainsFunc(d.PSSR, func(it change.PSSRItem) bool { return it.ID == id })
	})
	if !ok {
		return
	}
	prefix := fmt.Sprintf("pssr-%d", itemID)
	answer, comment := r.FormValue("answer"), r.FormValue("comment")
	ids := map[string]string{"comment": prefix + "-comment", "attachment_id": prefix + "-evidence", "file": prefix + "-evidence",
		"answer": "f-" + prefix, "version": "f-" + prefix}
	input := map[string]string{prefix + "-comment": comment}
	a, err := s.pssrAnswerForm(r, u, d)
	if err == nil {
		_, err = s.Changes.AnswerPSSRItem(r.Context(), u, itemID, a)
	}
	if pe := problem.As(err); pe != nil && pe.Field == "attachment_id" {
		// The API's advice names the attachment's id; this form offers a
		// file field and the files already attached instead.
		err = problem.Field("attachment_id", "This item requires evidence: choose a file, or one already attached to the change.")
	}
	// The walkdown page's plain forms (no script) come back to it.
	walkdown := r.FormValue("from") == "walkdown"
	section, _ := strconv.Atoi(r.FormValue("section"))
	if err != nil {
		if walkdown {
			if fresh, gerr := s.Changes.Get(r.Context(), u, d.Change.ID); gerr == nil {
				d = fresh
			}
			msg := "Something went wrong on our side; nothing was saved. Try again."
			if pe := problem.As(err); pe != nil && statusOf(err) != http.StatusInternalServerError {
				msg = fieldError(pe.Field, pe.Message, nil)
			} else {
				s.Logger.ErrorContext(r.Context(), "walkdown answer", "path", r.URL.Path, "err", err)
			}
			s.renderWalkdown(w, r, statusOf(err), u, d, section, map[string]string{prefix: msg}, input)
			return
		}
		s.failChange(w, r, u, d, err, "f-"+prefix, ids, input)
		return
	}
	done := "pssr"
	if answer == change.AnswerNo {
		done = "pssr-no"
	}
	if walkdown {
		http.Redirect(w, r, fmt.Sprintf("%s?section=%d&done=%s#%s", changeURL(d.Change, "walkdown"), section, done, prefix), http.StatusSeeOther)
		return
	}
	redirectChange(w, r, d.Change.Number, done, prefix)
}

func (s *Server) pageAddAcknowledgers(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	_ = r.ParseForm()
	var ids []int64
	for _, v := range r.PostForm["user_ids"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	var err error
	if len(ids) == 0 {
		err = &problem.Error{Kind: problem.Invalid, Field: "user_ids", Message: "user_ids: choose at least one person"}
	} else {
		err = s.Changes.AddAcknowledgers(r.Context(), u, d.Change.ID, ids)
	}
	if err != nil {
		s.failChange(w, r, u, d, err, "f-roster", map[string]string{"user_ids": "roster-users"}, nil)
		return
	}
	redirectChange(w, r, d.Change.Number, "roster", "roster")
}

func (s *Server) pageAcknowledgeChange(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	if err := s.Changes.Acknowledge(r.Context(), u, d.Change.ID); err != nil {
		s.failChange(w, r, u, d, err, "f-acknowledge", nil, nil)
		return
	}
	redirectChange(w, r, d.Change.Number, "acked", "roster")
}

func (s *Server) pageUploadAttachment(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	name, data, err := s.readUpload(r, "file")
	if err == nil && data == nil {
		err = &problem.Error{Kind: problem.Invalid, Field: "file", Message: "file: choose a file to attach"}
	}
	if err == nil {
		_, err = s.Changes.AddAttachment(r.Context(), u, d.Change.ID, name, data)
	}
	if err != nil {
		s.failChange(w, r, u, d, err, "f-attach", map[string]string{"file": "attach-file", "filename": "attach-file"}, nil)
		return
	}
	redirectChange(w, r, d.Change.Number, "attached", "attachments")
}

func (s *Server) pageRequestExtension(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	reason := r.PostFormValue("reason")
	input := map[string]string{"ext-expires_on": r.PostFormValue("expires_on"), "ext-reason": reason}
	t, err := requiredDate("expires_on", r.PostFormValue("expires_on"))
	if err == nil {
		err = s.Changes.RequestExtension(r.Context(), u, d.Change.ID, t, reason)
	}
	if err != nil {
		s.failChange(w, r, u, d, err, "f-extension", map[string]string{"expires_on": "ext-expires_on", "reason": "ext-reason"}, input)
		return
	}
	redirectChange(w, r, d.Change.Number, "ext-asked", "extensions")
}

func (s *Server) pageDecideExtension(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	comment := r.PostFormValue("comment")
	ids := map[string]string{"comment": "extd-comment", "password": "extd-password", "decision": "f-extdecision"}
	sig, reauthErr, ok := s.pageSignature(w, r, d.Change.Number, r.PostFormValue("reauth_password"))
	if !ok {
		return
	}
	err := s.Changes.DecideExtension(r.Context(), u, d.Change.ID, change.Decision(r.PostFormValue("decision")), comment, sig)
	if err != nil {
		s.failChange(w, r, u, d, signatureError(err, reauthErr), "f-extdecision", ids, map[string]string{"extd-comment": comment})
		return
	}
	redirectChange(w, r, d.Change.Number, "ext-decided", "extensions")
}

// flashMessages are the messages a redirect may ask the change page to
// show (?done=key). A fixed list, so a link cannot put words in our mouth.
var flashMessages = map[string]string{
	"created":                 "Draft saved. Check the details, then submit it for screening when ready.",
	"saved":                   "Draft saved.",
	"submitted":               "Submitted for screening. The MOC coordinators have been notified.",
	"reviewers":               "Reviewers saved.",
	"approvers":               "Approvers saved.",
	"reviewed":                "Your review is recorded.",
	"approved":                "Your approval is signed and recorded.",
	"rejected":                "Your rejection is signed and recorded; the change went back to the initiator.",
	"review-rej":              "Your review is recorded; the change went back to the initiator.",
	"action-added":            "Action item added; its owner has been notified.",
	"action-done":             "Action item marked done.",
	"action-edited":           "Action item saved; a new owner has been notified.",
	"review-added":            "Review saved; during review the reviewer has been asked.",
	"action-to-verify":        "Action item completed; it counts as closed once a coordinator has verified it.",
	"action-verified":         "Action item verified; it is closed.",
	"pssr":                    "PSSR answer recorded.",
	"pssr-no":                 "PSSR answer recorded. The deficiency was added as a pre-startup action; it must be closed before startup.",
	"pssr-team":               "PSSR team saved; members added while the PSSR is under way have been told.",
	"signoff_pssr":            "PSSR signed off; startup can be authorised once nothing else is open.",
	"roster":                  "Added to the acknowledgement roster; they have been notified.",
	"linked":                  "Related change linked; it shows on both changes.",
	"unlinked":                "Link removed from both changes.",
	"acked":                   "Your acknowledgement is recorded.",
	"attached":                "File attached.",
	"hazard-recorded":         "Hazard review recorded; the owners of its recommendations have been notified.",
	"ext-asked":               "Extension requested; an approver must approve it.",
	"ext-decided":             "Extension decision signed and recorded.",
	"start_review":            "Review started. The reviewers have been notified.",
	"return":                  "Returned to the initiator for revision.",
	"void":                    "Change voided.",
	"complete_implementation": "Implementation marked complete.",
	"authorize_startup":       "Startup authorised and signed.",
	"close":                   "Change closed.",
	"revert":                  "Reverted: the restore actions are created; the change can be closed once they are done.",
	"make_permanent":          "Re-approval requested: the approvers have been asked to sign. The change stays temporary until they have.",
	"submitted-rik":           "Submitted as a replacement in kind: an MOC coordinator or an approver of the site must confirm it before it closes.",
	"screening-confirmed":     "Screening confirmed and signed. The reviews and actions follow the confirmed answers.",
	"confirm_rik":             "Replacement in kind confirmed and signed; the change is closed.",
	"reject_rik":              "Replacement-in-kind claim rejected; the change went back to the initiator for the full screening.",
	"authorize_emergency":     "Emergency authorisation signed: implementation may start while the reviews and approvals run.",
}

// redirectChange sends the browser back to the change page with a flash
// message, after a successful POST.
func redirectChange(w http.ResponseWriter, r *http.Request, number, done, anchor string) {
	u := changeURL(number)
	if done != "" {
		u += "?done=" + url.QueryEscape(done)
	}
	if anchor != "" {
		u += "#" + anchor
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}
