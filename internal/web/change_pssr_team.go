package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/mocpcr/mocpcr/internal/change"
)

// teamAddRows is how many people a large site's PSSR team form adds at once.
const teamAddRows = 3

// pageAssignPSSRTeam saves the PSSR team form of the change page: the
// lead, and each person ticked with the discipline or section they walk.
func (s *Server) pageAssignPSSRTeam(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	_ = r.ParseForm()
	req := change.PSSRTeamRequest{}
	input := map[string]string{"team-lead": r.PostFormValue("lead_id")}
	fields := map[string]string{"lead_id": "team-lead"}
	lead, err := s.formPerson(r.Context(), d, "lead_id", r.PostFormValue("lead_id"))
	if err != nil {
		s.failChange(w, r, u, d, err, "f-pssr-team", fields, input)
		return
	}
	req.LeadID = lead
	for _, v := range r.PostForm["member_ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		scope := r.PostFormValue("scope_" + v)
		req.Members = append(req.Members, change.PSSRMemberRequest{UserID: id, Scope: scope})
		input["team-member-"+v] = "yes"
		input["team-scope-"+v] = scope
	}
	// A large site's form lists the team and has search fields to add to it.
	for row := range teamAddRows {
		key := fmt.Sprintf("member_add_%d", row)
		text, scope := r.PostFormValue(key), r.PostFormValue(fmt.Sprintf("scope_add_%d", row))
		input["team-add-"+strconv.Itoa(row)], input["team-add-scope-"+strconv.Itoa(row)] = text, scope
		fields[key] = "team-add-" + strconv.Itoa(row)
		id, err := s.formPerson(r.Context(), d, key, text)
		if err != nil {
			s.failChange(w, r, u, d, err, "f-pssr-team", fields, input)
			return
		}
		if id > 0 && !slices.ContainsFunc(req.Members, func(m change.PSSRMemberRequest) bool { return m.UserID == id }) {
			req.Members = append(req.Members, change.PSSRMemberRequest{UserID: id, Scope: scope})
		}
	}
	if _, err := s.Changes.SetPSSRTeam(r.Context(), u, d.Change.ID, req); err != nil {
		s.failChange(w, r, u, d, err, "f-pssr-team", fields, input)
		return
	}
	redirectChange(w, r, d.Change.Number, "pssr-team", "pssr-team")
}
