package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

// changeError maps a domain error to a status, once, here at the edge.
// Internal errors are logged and never shown.
func (s *Server) changeError(w http.ResponseWriter, r *http.Request, err error) {
	var de *change.Error
	if errors.As(err, &de) {
		status := http.StatusInternalServerError
		switch de.Code {
		case change.EInvalid:
			status = http.StatusUnprocessableEntity
		case change.EForbidden, change.EReauth:
			status = http.StatusForbidden
		case change.EConflict:
			status = http.StatusConflict
		case change.ENotFound:
			status = http.StatusNotFound
		}
		e := apiError{Error: de.Message, Code: string(de.Code), Field: de.Field}
		for _, fe := range de.Fields {
			e.Errors = append(e.Errors, apiFieldError{Field: fe.Field, Error: fe.Message})
		}
		writeAPIError(w, r, status, e)
		return
	}
	s.Logger.ErrorContext(r.Context(), "change API", "path", r.URL.Path, "err", err)
	writeJSONError(w, r, http.StatusInternalServerError, "internal error")
}

// apiUserFor is s.require for the change API: 401 for anonymous callers,
// 403 without the route-level permission; record-level rules (site,
// initiator, stage) are change.Service's.
func (s *Server) apiUserFor(w http.ResponseWriter, r *http.Request, a auth.Action) *auth.User {
	u, ok := s.require(w, r, a)
	if !ok {
		return nil
	}
	return u
}

func pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		writeJSONError(w, r, http.StatusNotFound, fmt.Sprintf("%s: %q is not an id", name, r.PathValue(name)))
		return 0, false
	}
	return id, true
}

// parseDate parses YYYY-MM-DD; empty gives nil.
func parseDate(field, s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, &change.Error{Code: change.EInvalid, Field: field, Message: fmt.Sprintf("%s: expected a date YYYY-MM-DD, got %q", field, s)}
	}
	return &t, nil
}

// signature asks the auth layer (verifyReauth) whether the caller just
// proved who they are: their password for local accounts, a fresh
// Entra ID sign-in otherwise. The returned error is what to tell the
// user when the domain insists on a signature.
func (s *Server) signature(r *http.Request, password string) (change.Signature, error) {
	if err := s.verifyReauth(r, password, r.URL.Path); err != nil {
		return change.Signature{}, err
	}
	method := "password"
	if password == "" {
		method = "entra"
	}
	return change.Signature{Verified: true, Method: method}, nil
}

// signedError answers a domain refusal; when the domain wanted a
// signature, the auth layer's reason (wrong password, fresh sign-in
// needed and where) is more useful than the domain's.
func (s *Server) signedError(w http.ResponseWriter, r *http.Request, err, reauthErr error) {
	if change.ErrorCode(err) == change.EReauth && reauthErr != nil {
		e := apiError{Error: "password: " + reauthErr.Error(), Code: string(change.EReauth), Field: "password"}
		var rr *ReauthRequired
		if errors.As(reauthErr, &rr) {
			e.ReauthURL = rr.URL
		}
		writeAPIError(w, r, http.StatusForbidden, e)
		return
	}
	s.changeError(w, r, err)
}

// signedDecision is the body of an approver's decision; Password
// signs it (empty for Entra ID users, who sign in again instead).
type signedDecision struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
	Password string `json:"password"`
}

// changeInput is the body of create and update. Absent fields are left
// as they are on update.
type changeInput struct {
	Kind                  *string   `json:"kind"`
	Duration              *string   `json:"duration"`
	Title                 *string   `json:"title"`
	Description           *string   `json:"description"`
	SiteID                *int64    `json:"site_id"`
	UnitID                *int64    `json:"unit_id"`
	EquipmentTags         *[]string `json:"equipment_tags"`
	Reason                *string   `json:"reason"`
	RiskRanking           *string   `json:"risk_ranking"`
	TechnicalBasis        *string   `json:"technical_basis"`
	SafetyHealthImpact    *string   `json:"safety_health_impact"`
	ProcedureChanges      *string   `json:"procedure_changes"`
	TimePeriod            *string   `json:"time_period"`
	AuthorizationRequired *string   `json:"authorization_required"`
	ExpiresOn             *string   `json:"expires_on"`
	ReviewDeadline        *string   `json:"review_deadline"`
}

// fields converts the body for the domain; a date that does not parse
// becomes one of f.Problems, reported with the domain's own findings.
func (in changeInput) fields() change.Fields {
	f := change.Fields{Title: in.Title, Description: in.Description, SiteID: in.SiteID, UnitID: in.UnitID,
		EquipmentTags: in.EquipmentTags, Reason: in.Reason, RiskRanking: in.RiskRanking, TechnicalBasis: in.TechnicalBasis,
		SafetyHealthImpact: in.SafetyHealthImpact, ProcedureChanges: in.ProcedureChanges, TimePeriod: in.TimePeriod,
		AuthorizationRequired: in.AuthorizationRequired}
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
			f.Problems = append(f.Problems, change.FieldError{Field: p.field, Message: err.Error()})
			continue
		}
		*p.out = &t
	}
	return f
}

func (s *Server) apiCreateChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, auth.ActionCreateChange, noID, func(ctx context.Context, u *auth.User, _ int64, in changeInput) (any, error) {
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
	changeCall(s, w, r, auth.ActionViewChanges, withChange, func(ctx context.Context, u *auth.User, id int64, in changeInput) (any, error) {
		return s.Changes.Update(ctx, u, id, in.fields())
	})
}

func (s *Server) apiGetChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, auth.ActionViewChanges, withChange, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		return s.Changes.Get(ctx, u, id)
	})
}

// listFilter reads List's filters from the query string.
func listFilter(r *http.Request) (change.Filter, error) {
	q := r.URL.Query()
	f := change.Filter{Kind: change.Kind(strings.ToUpper(q.Get("kind"))), Stage: change.Stage(q.Get("stage")),
		Duration: change.Duration(q.Get("duration")), Q: q.Get("q"), OpenOnly: q.Get("open") == "true" || q.Get("open") == "1",
		ReplacementInKind: q.Get("rik") == "true" || q.Get("rik") == "1"}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"site_id", &f.SiteID}, {"unit_id", &f.UnitID}, {"initiator_id", &f.InitiatorID}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return f, &change.Error{Code: change.EInvalid, Field: p.name, Message: p.name + ": expected a number, got " + strconv.Quote(v)}
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
				return f, &change.Error{Code: change.EInvalid, Field: p.name, Message: p.name + ": expected a non-negative number, got " + strconv.Quote(v)}
			}
			*p.dst = n
		}
	}
	return f, nil
}

func (s *Server) apiListChanges(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("format") == "csv" {
		s.apiListChangesCSV(w, r)
		return
	}
	changeCall(s, w, r, auth.ActionViewChanges, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		f, err := listFilter(r)
		if err != nil {
			return nil, err
		}
		cs, total, err := s.Changes.List(ctx, u, f)
		if err != nil {
			return nil, err
		}
		return map[string]any{"changes": cs, "total": total}, nil
	})
}

func (s *Server) apiListChangesCSV(w http.ResponseWriter, r *http.Request) {
	u := s.apiUserFor(w, r, auth.ActionViewChanges)
	if u == nil {
		return
	}
	f, err := listFilter(r)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	if f.Limit == 0 {
		f.Limit = 1000
	}
	cs, _, err := s.Changes.List(r.Context(), u, f)
	if err != nil {
		s.changeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="changes.csv"`)
	_ = change.WriteCSV(w, cs)
}

func (s *Server) apiConflicts(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, auth.ActionViewChanges, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		q := r.URL.Query()
		site, err := strconv.ParseInt(q.Get("site_id"), 10, 64)
		if err != nil {
			return nil, invalidInput("site_id: required, a number")
		}
		var unit int64
		if v := q.Get("unit_id"); v != "" {
			if unit, err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, invalidInput("unit_id: expected a number")
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

func (s *Server) apiSubmitChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, auth.ActionViewChanges, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Screening *change.Screening `json:"screening"`
	}) (any, error) {
		if in.Screening == nil {
			return nil, invalidInput("screening: the screening questionnaire is required at submit")
		}
		return s.Changes.Submit(ctx, u, id, *in.Screening)
	})
}

func (s *Server) apiTransition(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, auth.ActionViewChanges, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Action   string `json:"action"`
		Comment  string `json:"comment"`
		Password string `json:"password"`
	}) (any, error) {
		var sig change.Signature
		var reauthErr error
		if slices.Contains(change.SignedActions, change.Action(in.Action)) {
			sig, reauthErr = s.signature(r, in.Password)
		}
		c, err := s.Changes.Transition(ctx, u, id, change.TransitionRequest{
			Action: change.Action(in.Action), Comment: in.Comment, Signature: sig})
		return c, withReauth(err, reauthErr)
	})
}

func (s *Server) apiAssignReviewer(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, auth.ActionCoordinateChange, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Discipline string `json:"discipline"`
		ReviewerID int64  `json:"reviewer_id"`
	}) (any, error) {
		if err := s.Changes.AssignReviewer(ctx, u, id, in.Discipline, in.ReviewerID); err != nil {
			return nil, err
		}
		return s.Changes.Get(ctx, u, id)
	})
}

func (s *Server) apiSetApprovers(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, auth.ActionCoordinateChange, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Stages [][]int64 `json:"stages"`
	}) (any, error) {
		if err := s.Changes.SetApprovers(ctx, u, id, in.Stages); err != nil {
			return nil, err
		}
		return s.Changes.Get(ctx, u, id)
	})
}

func (s *Server) apiDecideReview(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, auth.ActionReviewChange, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Discipline string `json:"discipline"`
		Decision   string `json:"decision"`
		Comment    string `json:"comment"`
	}) (any, error) {
		if err := s.Changes.DecideReview(ctx, u, id, in.Discipline, change.Decision(in.Decision), in.Comment); err != nil {
			return nil, err
		}
		return s.Changes.Get(ctx, u, id)
	})
}

func (s *Server) apiDecideApproval(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, auth.ActionApproveChange, withChange, func(ctx context.Context, u *auth.User, id int64, in signedDecision) (any, error) {
		sig, reauthErr := s.signature(r, in.Password)
		a, err := s.Changes.Decide(ctx, u, id, change.Decision(in.Decision), in.Comment, sig)
		return a, withReauth(err, reauthErr)
	})
}
