package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// delegationRow is one delegation on the account page with its state
// (active, upcoming, past, revoked) as of today.
type delegationRow struct {
	change.Delegation
	State string
}

// delegationForm keeps what the user typed into the delegate form.
type delegationForm struct {
	DelegateID               int64
	StartsOn, EndsOn, Reason string
}

// delegationFields maps the domain's field names to the form's elements.
var delegationFields = map[string]string{
	"delegate_id": "delegate_id", "starts_on": "starts_on", "ends_on": "ends_on", "reason": "delegation_reason",
}

// delegationOrder is the form's fields top to bottom, for the summary.
var delegationOrder = []string{"delegation-form", "delegate_id", "starts_on", "ends_on", "delegation_reason"}

// delegationLabels are the form's labels for the domain's field names,
// in its messages too ("ends_on: must not be before starts_on" is "To
// must not be before From.").
var delegationLabels = map[string]string{"delegate_id": "Delegate", "starts_on": "From", "ends_on": "To", "reason": "Reason"}

// delegationErrors places a domain error on the form in its words.
func delegationErrors(err error) map[string]string {
	return labelledFormErrors(err, "delegation-form", delegationFields, delegationLabels)
}

// fillDelegations loads the delegations the user gave and received and,
// for approvers, the people they may delegate to.
func (s *Server) fillDelegations(r *http.Request, u *auth.User, d *accountData) error {
	ds, err := s.Changes.Delegations(r.Context(), u)
	if err != nil {
		return err
	}
	now := s.Now()
	for _, dl := range ds {
		row := delegationRow{Delegation: dl, State: dl.State(now)}
		if dl.DelegatorID == u.ID {
			d.Given = append(d.Given, row)
		} else {
			d.Received = append(d.Received, row)
		}
	}
	d.CanDelegate = auth.Can(u, auth.ActionApproveChange)
	if d.CanDelegate {
		if d.Candidates, err = s.Changes.DelegateCandidates(r.Context(), u); err != nil {
			return err
		}
	}
	return nil
}

// pageCreateDelegation lets an approver hand their approvals to
// another approver for dated days; every field error shows at once.
func (s *Server) pageCreateDelegation(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	f := delegationForm{StartsOn: strings.TrimSpace(r.PostFormValue("starts_on")), EndsOn: strings.TrimSpace(r.PostFormValue("ends_on")),
		Reason: strings.TrimSpace(r.PostFormValue("delegation_reason"))}
	errs := map[string]string{}
	if v := r.PostFormValue("delegate_id"); v == "" {
		errs["delegate_id"] = "Delegate: choose the approver who decides for you"
	} else if id, err := strconv.ParseInt(v, 10, 64); err != nil {
		errs["delegate_id"] = "Delegate: choose a person from the list"
	} else {
		f.DelegateID = id
	}
	start, err := requiredDate("starts_on", f.StartsOn)
	if err != nil {
		errs["starts_on"] = "From: " + dateProblem(f.StartsOn)
	}
	end, err := requiredDate("ends_on", f.EndsOn)
	if err != nil {
		errs["ends_on"] = "To: " + dateProblem(f.EndsOn)
	}
	if len(errs) == 0 {
		_, err = s.Changes.CreateDelegation(r.Context(), u, f.DelegateID, start, end, f.Reason)
		if err != nil && problem.KindOf(err) == problem.Internal {
			s.serverFault(w, r, "create delegation", err)
			return
		}
		if err != nil {
			errs = delegationErrors(err)
		}
	}
	if len(errs) > 0 {
		s.renderAccount(w, r, u, http.StatusBadRequest, accountData{Deleg: f}, &Page{Errors: errs, ErrorOrder: delegationOrder})
		return
	}
	http.Redirect(w, r, "/account?done=Delegation+saved.#delegations", http.StatusSeeOther)
}

func dateProblem(v string) string {
	if v == "" {
		return "enter a date"
	}
	return "expected a date like 2026-03-31, got " + strconv.Quote(v)
}

// pageRevokeDelegation ends a delegation the user gave.
func (s *Server) pageRevokeDelegation(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, problem.New(problem.NotFound, "You have no such delegation; it may already be revoked."))
		return
	}
	if err := s.Changes.RevokeDelegation(r.Context(), u, id); err != nil {
		if problem.KindOf(err) == problem.NotFound {
			s.fail(w, r, problem.New(problem.NotFound, "You have no such delegation; it may already be revoked."))
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?done=Delegation+revoked.#delegations", http.StatusSeeOther)
}
