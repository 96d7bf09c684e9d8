package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// peopleListMax is how many people of a site the change page's forms
// list in full. A site with more gets fields that search instead, so the
// page does not grow with the site (2,000 people at a large site would be
// 2,000 options in every owner, reviewer and team field).
const peopleListMax = 100

// peopleSuggestions is how many people a search answers with.
const peopleSuggestions = 20

// personSuggestion is one answer of the people search.
type personSuggestion struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	// Label is what the field shows and sends back: "Name <email>".
	Label string `json:"label"`
}

// personLabel is how a search field shows a person, and the text it
// sends back: the email makes two people of one name distinct.
func personLabel(u *auth.User) string { return u.Name + " <" + u.Email + ">" }

// pageListChangePeople answers the people fields of a change page on a
// large site: GET /changes/{ref}/people?q=text&role=reviewer|approver.
func (s *Server) pageListChangePeople(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	text := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(text) > 100 {
		s.fail(w, r, problem.Invalidf("q", "expected at most 100 characters, got %d", len(text)))
		return
	}
	role := auth.Role(r.URL.Query().Get("role"))
	if role != "" && role != auth.RoleReviewer && role != auth.RoleApprover {
		s.fail(w, r, problem.Invalidf("role", "expected reviewer, approver or nothing, got %q", role))
		return
	}
	people, err := s.Changes.People(r.Context(), u, r.PathValue("ref"), text, role, peopleSuggestions)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]personSuggestion, len(people))
	for i, p := range people {
		out[i] = personSuggestion{ID: p.ID, Name: p.Name, Email: p.Email, Label: personLabel(p)}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// formPerson is the user a people field of the change page names: the id
// a list sends, or what the user typed into a search field (an email,
// "Name <email>" as suggested, or a whole name), looked up on the
// change's site. Empty is 0.
func (s *Server) formPerson(ctx context.Context, d *change.Detail, field, raw string) (int64, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0, nil
	}
	if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return id, nil
	}
	if len(raw) > 400 {
		return 0, problem.Invalidf(field, "expected a name or an email address, got %d characters", len(raw))
	}
	found, err := auth.SiteUsersNamed(ctx, s.DB.SQL, d.Change.SiteID, raw)
	if err != nil {
		return 0, err
	}
	switch len(found) {
	case 0:
		return 0, problem.Invalidf(field, "no one at this site is %q: choose a suggestion or type their email address", raw)
	case 1:
		return found[0].ID, nil
	default:
		return 0, problem.Invalidf(field, "more than one person at this site is called %q: type their email address to say which", raw)
	}
}

// loadPeople fills the view's people: every person of the site when
// there are few, else only those the change names already (for the
// search fields to show), with PeopleSearch set.
func (s *Server) loadPeople(ctx context.Context, v *changeView) error {
	c := v.C
	n, err := auth.CountSiteUsers(ctx, s.DB.SQL, c.SiteID)
	if err != nil {
		return err
	}
	var users []*auth.User
	if n <= peopleListMax {
		if users, err = auth.SiteUsers(ctx, s.DB.SQL, c.SiteID); err != nil {
			return err
		}
	} else {
		v.PeopleSearch = true
		if users, err = auth.UsersByID(ctx, s.DB.SQL, v.namedPeople()); err != nil {
			return err
		}
	}
	v.Known = make(map[int64]*auth.User, len(users))
	for _, p := range users {
		v.Known[p.ID] = p
		if v.PeopleSearch {
			continue
		}
		v.People = append(v.People, p)
		if p.ID == c.InitiatorID {
			continue
		}
		if p.Has(auth.RoleReviewer) {
			v.Reviewers = append(v.Reviewers, p)
		}
		if p.Has(auth.RoleApprover) {
			v.Approvers = append(v.Approvers, p)
		}
	}
	return nil
}

// namedPeople are the people the change's forms show as chosen already:
// reviewers, approvers, action owners and the PSSR team.
func (v *changeView) namedPeople() []int64 {
	seen := map[int64]bool{}
	var ids []int64
	add := func(id int64) {
		if id > 0 && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, rv := range v.Reviews {
		add(rv.ReviewerID)
	}
	for id := range v.ApproverStage {
		add(id)
	}
	for _, a := range v.D.Actions {
		add(a.OwnerID)
	}
	for _, m := range v.D.PSSRTeam {
		add(m.UserID)
	}
	return ids
}

// PersonText is what a search field shows: the text the user typed when
// the form came back with an error (input, when given), else the person
// whose id value holds, as "Name <email>".
func (v *changeView) PersonText(inputKey, value string) string {
	if in, ok := v.Input[inputKey]; ok && inputKey != "" {
		value = in
	}
	if id, err := strconv.ParseInt(value, 10, 64); err == nil {
		if p := v.Known[id]; p != nil {
			return personLabel(p)
		}
		return ""
	}
	return value
}

// TeamAddRows are the numbers of the PSSR team form's search fields.
func (v *changeView) TeamAddRows() []int { return rowNumbers(teamAddRows) }

// ApproverAddRows are the numbers of each stage's search fields.
func (v *changeView) ApproverAddRows() []int { return rowNumbers(2) }

func rowNumbers(n int) []int {
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	return rows
}

// PeopleURL is where a search field of the change page asks for people
// holding role (empty: anyone of the site).
func (v *changeView) PeopleURL(role string) string {
	u := changeURL(v.C, "people")
	if role != "" {
		u += "?role=" + role
	}
	return u
}

// ChosenApprovers are the approvers the approvers form of a large site
// lists (ticked) for stage: those chosen so far, or ticked in the input
// that came back with an error.
func (v *changeView) ChosenApprovers(stage int) []*auth.User {
	var out []*auth.User
	for id, st := range v.ApproverStage {
		if p := v.Known[id]; p != nil && (st == stage || v.ApproverChecked(stage, id)) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *auth.User) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	return out
}
