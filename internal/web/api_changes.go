package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// changeInput is the body of create and update. Absent fields are left
// as they are on update.
type changeInput struct {
	Kind          *string   `json:"kind"`
	Duration      *string   `json:"duration"`
	Title         *string   `json:"title"`
	Description   *string   `json:"description"`
	SiteID        *int64    `json:"site_id"`
	UnitID        *int64    `json:"unit_id"`
	EquipmentTags *[]string `json:"equipment_tags"`
	Reason        *string   `json:"reason"`
	RiskRanking   *string   `json:"risk_ranking"`
	// RiskAssessment rates the change on its site's risk matrix; the
	// level after the change becomes risk_ranking.
	RiskAssessment        *change.RiskInput `json:"risk_assessment"`
	TechnicalBasis        *string           `json:"technical_basis"`
	SafetyHealthImpact    *string           `json:"safety_health_impact"`
	ProcedureChanges      *string           `json:"procedure_changes"`
	TimePeriod            *string           `json:"time_period"`
	AuthorizationRequired *string           `json:"authorization_required"`
	ExpiresOn             *string           `json:"expires_on"`
	ReviewDeadline        *string           `json:"review_deadline"`
}

// fields converts the body for the domain; a date that does not parse
// becomes one of f.Problems, reported with the domain's own findings.
func (in changeInput) fields() change.Fields {
	f := change.Fields{Title: in.Title, Description: in.Description, SiteID: in.SiteID, UnitID: in.UnitID,
		EquipmentTags: in.EquipmentTags, Reason: in.Reason, RiskRanking: in.RiskRanking, TechnicalBasis: in.TechnicalBasis,
		SafetyHealthImpact: in.SafetyHealthImpact, ProcedureChanges: in.ProcedureChanges, TimePeriod: in.TimePeriod,
		AuthorizationRequired: in.AuthorizationRequired, Risk: in.RiskAssessment}
	if in.Kind != nil {
		k := change.Kind(strings.ToUpper(strings.TrimSpace(*in.Kind)))
		f.Kind = &k
	}
	if in.Duration != nil {
		d := change.Duration(strings.ToLower(strings.TrimSpace(*in.Duration)))
		f.Duration = &d
	}
	for _, p := range []struct {
		field string
		in    *string
		out   ***time.Time
	}{{"expires_on", in.ExpiresOn, &f.ExpiresOn}, {"review_deadline", in.ReviewDeadline, &f.ReviewDeadline}} {
		if p.in == nil {
			continue
		}
		t, err := parseDate(p.field, *p.in)
		if err != nil {
			f.Problems = append(f.Problems, problem.FieldError{Field: p.field, Message: err.Error()})
			continue
		}
		*p.out = &t
	}
	return f
}

func (s *Server) apiCreateChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, in changeInput) (any, error) {
		c, err := s.Changes.Create(ctx, u, in.fields())
		if err != nil {
			return nil, err
		}
		conflicts, err := s.Changes.Conflicts(ctx, u, c.SiteID, c.UnitID, c.EquipmentTags, c.ID)
		if err != nil {
			return nil, err
		}
		return created(map[string]any{"change": c, "conflicts": conflicts}, fmt.Sprintf("/api/v1/changes/%d", c.ID)), nil
	})
}

func (s *Server) apiUpdateChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in changeInput) (any, error) {
		return s.Changes.Update(ctx, u, id, in.fields())
	})
}

func (s *Server) apiGetChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		return s.Changes.Get(ctx, u, id)
	})
}

// listFilter reads List's filters from the query string.
func listFilter(r *http.Request) (change.Filter, error) {
	q := r.URL.Query()
	f := change.Filter{Kind: change.Kind(strings.ToUpper(q.Get("kind"))), Stage: change.Stage(q.Get("stage")),
		Duration: change.Duration(q.Get("duration")), Q: q.Get("q"), OpenOnly: q.Get("open") == "true" || q.Get("open") == "1",
		ReplacementInKind: q.Get("rik") == "true" || q.Get("rik") == "1", Sort: q.Get("sort"), After: q.Get("after")}
	if v := q.Get("count"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, problem.Invalidf("count", "must be true or false, got %q", v)
		}
		f.Count = b
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"site_id", &f.SiteID}, {"unit_id", &f.UnitID}, {"initiator_id", &f.InitiatorID}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return f, &problem.Error{Kind: problem.Invalid, Field: p.name, Message: p.name + ": expected a number, got " + strconv.Quote(v)}
			}
			*p.dst = n
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"limit", &f.Limit}, {"offset", &f.Offset}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, &problem.Error{Kind: problem.Invalid, Field: p.name, Message: p.name + ": expected a non-negative number, got " + strconv.Quote(v)}
			}
			*p.dst = n
		}
	}
	return f, nil
}

func (s *Server) apiListChanges(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("format") == "csv" {
		s.apiExportChanges(w, r)
		return
	}
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		f, err := listFilter(r)
		if err != nil {
			return nil, err
		}
		return s.Changes.ListPage(ctx, u, f)
	})
}

func (s *Server) apiExportChanges(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	f, err := listFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if f.Limit == 0 {
		f.Limit = 1000
	}
	cs, _, err := s.Changes.List(r.Context(), u, f)
	if err == nil {
		err = s.Changes.WithRIKConfirmations(r.Context(), cs)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="changes.csv"`)
	_ = change.WriteCSV(w, cs)
}

func (s *Server) apiListConflicts(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		q := r.URL.Query()
		site, err := strconv.ParseInt(q.Get("site_id"), 10, 64)
		if err != nil {
			return nil, problem.Invalidf("site_id", "required, a number")
		}
		var unit int64
		if v := q.Get("unit_id"); v != "" {
			if unit, err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, problem.Invalidf("unit_id", "expected a number")
			}
		}
		var tags []string
		if v := q.Get("tags"); v != "" {
			tags = strings.Split(v, ",")
		}
		cs, err := s.Changes.Conflicts(ctx, u, site, unit, tags, 0)
		if err != nil {
			return nil, err
		}
		return map[string]any{"conflicts": cs}, nil
	})
}

func (s *Server) apiListActions(w http.ResponseWriter, r *http.Request) {
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"actions": d.Actions} })
}

func (s *Server) apiListPSSR(w http.ResponseWriter, r *http.Request) {
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"items": d.PSSR} })
}

func (s *Server) apiListAttachments(w http.ResponseWriter, r *http.Request) {
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"attachments": d.Attachments} })
}

// detailPart answers with one part of a change's detail.
func (s *Server) detailPart(w http.ResponseWriter, r *http.Request, part func(*change.Detail) any) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		return s.detailOf(ctx, u, id, part)
	})
}

func (s *Server) apiDownloadAttachment(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.changeRequest(w, r, withChange)
	if !ok {
		return
	}
	aid, ok := pathID(w, r, "aid")
	if !ok {
		return
	}
	a, data, err := s.Changes.AttachmentData(r.Context(), u, id, aid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveAttachment(w, a, data)
}
