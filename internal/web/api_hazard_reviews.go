package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// apiListHazardReviews answers a change's hazard review records, each
// with its team and the action items its recommendations became.
func (s *Server) apiListHazardReviews(w http.ResponseWriter, r *http.Request) {
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"hazard_reviews": d.HazardReviews} })
}

// apiRecordHazardReview records a hazard review; a worksheet is uploaded
// first as an attachment of the change and named by worksheet_id.
func (s *Server) apiRecordHazardReview(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Method      string                    `json:"method"`
		HeldOn      string                    `json:"held_on"`
		Team        []change.HazardTeamMember `json:"team"`
		Summary     string                    `json:"summary"`
		WorksheetID int64                     `json:"worksheet_id"`
		// Recommendations each become an action item.
		Recommendations []struct {
			Title         string `json:"title"`
			OwnerID       int64  `json:"owner_id"`
			DueOn         string `json:"due_on"`
			BeforeStartup *bool  `json:"before_startup"`
		} `json:"recommendations"`
	}) (any, error) {
		held, err := requiredDate("held_on", in.HeldOn)
		if err != nil {
			return nil, err
		}
		if len(in.Recommendations) > change.MaxHazardRecommendations {
			return nil, problem.Invalidf("recommendations", "at most %d recommendations in one record, got %d", change.MaxHazardRecommendations, len(in.Recommendations))
		}
		h := change.NewHazardReview{Method: change.HazardMethod(in.Method), HeldOn: &held, Team: in.Team, Summary: in.Summary, WorksheetID: in.WorksheetID}
		for i, rec := range in.Recommendations {
			due, err := parseDate(fmt.Sprintf("recommendations[%d].due_on", i), rec.DueOn)
			if err != nil {
				return nil, err
			}
			if rec.BeforeStartup == nil {
				return nil, problem.Invalidf(fmt.Sprintf("recommendations[%d].before_startup", i), "required, true when it must be done before startup")
			}
			h.Recommendations = append(h.Recommendations, change.HazardRecommendation{Title: rec.Title, OwnerID: rec.OwnerID, DueOn: due, BeforeStartup: *rec.BeforeStartup})
		}
		hr, err := s.Changes.RecordHazardReview(ctx, u, id, h)
		if err != nil {
			return nil, err
		}
		return created(hr, ""), nil
	})
}
