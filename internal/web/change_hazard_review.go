package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// hazardRecommendationRows is how many blank recommendation rows the
// hazard review form offers; a longer list goes through the API (or a
// second record).
const hazardRecommendationRows = 5

// pageRecordHazardReview reads the hazard review form of the change page:
// method, date, team (people of the site ticked, outsiders one per line
// as "Name, organisation"), summary, a worksheet (a new file or one
// already attached) and the recommendation rows that are filled in.
func (s *Server) pageRecordHazardReview(w http.ResponseWriter, r *http.Request) {
	u, d := s.loadChangePage(w, r)
	if d == nil {
		return
	}
	input := map[string]string{"hz-open": "yes"}
	for _, n := range []string{"method", "held_on", "outsiders", "summary", "worksheet_id"} {
		input["hz-"+n] = r.FormValue(n)
	}
	ids := map[string]string{"method": "hz-method", "held_on": "hz-held_on", "team": "hz-team", "summary": "hz-summary",
		"worksheet_id": "hz-worksheet", "file": "hz-worksheet", "recommendations": "hz-recs"}
	var p problem.List
	in := change.NewHazardReview{Method: change.HazardMethod(input["hz-method"]), Summary: input["hz-summary"]}
	held, err := parseDate("held_on", input["hz-held_on"])
	if err != nil {
		p.Invalid("held_on", "expected a date like 2026-12-31")
	}
	in.HeldOn = held
	for _, v := range r.Form["team_user_ids"] {
		input["hz-member-"+v] = "yes"
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			in.Team = append(in.Team, change.HazardTeamMember{UserID: id})
		}
	}
	for line := range strings.Lines(input["hz-outsiders"]) {
		name, org, _ := strings.Cut(line, ",")
		if strings.TrimSpace(name) == "" && strings.TrimSpace(org) == "" {
			continue
		}
		in.Team = append(in.Team, change.HazardTeamMember{Name: name, Organisation: org})
	}
	for i := range in.Team {
		// Every member's problem belongs beside the team fields.
		for _, f := range []string{"name", "organisation", "user_id"} {
			ids[fmt.Sprintf("team[%d].%s", i, f)] = "hz-team"
		}
	}
	for row := range hazardRecommendationRows {
		rp := fmt.Sprintf("rec-%d-", row)
		for _, n := range []string{"title", "owner_id", "due_on", "before_startup"} {
			input[rp+n] = r.FormValue(rp + n)
		}
		// A row with nothing in it is not a recommendation.
		if strings.TrimSpace(input[rp+"title"]) == "" && input[rp+"owner_id"] == "" && input[rp+"due_on"] == "" {
			continue
		}
		i := len(in.Recommendations)
		for _, n := range []string{"title", "owner_id", "due_on"} {
			ids[fmt.Sprintf("recommendations[%d].%s", i, n)] = rp + n
		}
		rec := change.HazardRecommendation{Title: input[rp+"title"], BeforeStartup: input[rp+"before_startup"] == "yes"}
		owner, perr := s.formPerson(r.Context(), d, fmt.Sprintf("recommendations[%d].owner_id", i), input[rp+"owner_id"])
		if perr = p.AddErr(perr); perr != nil {
			s.fail(w, r, perr)
			return
		}
		rec.OwnerID = owner
		due, derr := parseDate("due_on", input[rp+"due_on"])
		if derr != nil {
			p.Invalid(fmt.Sprintf("recommendations[%d].due_on", i), "expected a date like 2026-12-31")
		}
		rec.DueOn = due
		in.Recommendations = append(in.Recommendations, rec)
	}
	in.WorksheetID, _ = strconv.ParseInt(input["hz-worksheet_id"], 10, 64)
	err = p.Err()
	if err == nil {
		// Checked before the file is stored: a form with a mistake comes
		// back without having attached anything.
		check := in
		check.Team = append([]change.HazardTeamMember(nil), in.Team...)
		check.Recommendations = append([]change.HazardRecommendation(nil), in.Recommendations...)
		err = s.Changes.CheckHazardReview(&check)
	}
	if err == nil {
		var name string
		var data []byte
		if name, data, err = s.readUpload(r, "worksheet"); err == nil && data != nil {
			var a *change.Attachment
			if a, err = s.Changes.AddAttachment(r.Context(), u, d.Change.ID, name, data); err == nil {
				in.WorksheetID = a.ID
				input["hz-worksheet_id"] = strconv.FormatInt(a.ID, 10)
			}
		}
	}
	if err == nil {
		_, err = s.Changes.RecordHazardReview(r.Context(), u, d.Change.ID, in)
	}
	if err != nil {
		s.failChange(w, r, u, d, err, "f-hazard", ids, input)
		return
	}
	redirectChange(w, r, d.Change.Number, "hazard-recorded", "hazard-review")
}

// HazardMethods are the methods the hazard review form offers.
func (v *changeView) HazardMethods() []change.HazardMethod { return change.HazardMethods }

// RecommendationRows numbers the blank recommendation rows of the form.
func (v *changeView) RecommendationRows() []int {
	out := make([]int, hazardRecommendationRows)
	for i := range out {
		out[i] = i
	}
	return out
}

// HazardReviewNeeded reports whether screening asked for a hazard review.
func (v *changeView) HazardReviewNeeded() bool {
	return v.C.Screening != nil && v.C.Screening.HazardReviewNeeded
}
