package web

import (
	"net/http"
	"strconv"

	"github.com/mocpcr/mocpcr/internal/change"
)

// pageAssignPSSRTeam saves the PSSR team form of the change page: the
// lead, and each person ticked with the discipline or section they walk.
func (s *Server) pageAssignPSSRTeam(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	_ = r.ParseForm()
	req := change.PSSRTeamRequest{}
	req.LeadID, _ = strconv.ParseInt(r.PostFormValue("lead_id"), 10, 64)
	input := map[string]string{"team-lead": r.PostFormValue("lead_id")}
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
	if _, err := s.Changes.SetPSSRTeam(r.Context(), u, d.Change.ID, req); err != nil {
		s.failChange(w, r, u, d, err, "f-pssr-team", map[string]string{"lead_id": "team-lead"}, input)
		return
	}
	redirectChange(w, r, d.Change.Number, "pssr-team", "pssr-team")
}
