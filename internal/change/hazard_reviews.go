package change

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// HazardMethod is how a hazard review was done.
type HazardMethod string

// The hazard review methods.
const (
	HazardHAZOP     HazardMethod = "hazop"
	HazardWhatIf    HazardMethod = "what_if"
	HazardChecklist HazardMethod = "checklist"
	HazardLOPA      HazardMethod = "lopa"
	HazardOther     HazardMethod = "other"
)

// HazardMethods lists the methods in the order forms offer them.
var HazardMethods = []HazardMethod{HazardHAZOP, HazardWhatIf, HazardChecklist, HazardLOPA, HazardOther}

// Label is the method as people write it.
func (m HazardMethod) Label() string {
	switch m {
	case HazardHAZOP:
		return "HAZOP"
	case HazardWhatIf:
		return "What-if"
	case HazardChecklist:
		return "Checklist"
	case HazardLOPA:
		return "LOPA"
	}
	return "Other"
}

// Bounds of one hazard review record: a large HAZOP team is a dozen
// people and a node's worksheet a few dozen recommendations; the bounds
// keep one record from costing every later reader of the change.
const (
	// MaxHazardReviewsPerChange bounds the records of one change.
	MaxHazardReviewsPerChange = 20
	// MaxHazardTeam bounds the team members of one record.
	MaxHazardTeam = 40
	// MaxHazardRecommendations bounds the recommendations of one record.
	MaxHazardRecommendations = 50
	// MaxHazardSummary bounds the summary, in characters.
	MaxHazardSummary = 20000
	// MaxHazardName bounds a team member's name or organisation, in characters.
	MaxHazardName = 200
	// MaxRecommendationTitle bounds a recommendation's text, in characters.
	MaxRecommendationTitle = 1000
)

// HazardReview is one hazard review record of a change.
type HazardReview struct {
	ID       int64 `json:"id"`
	ChangeID int64 `json:"change_id"`
	// Round is the change's round when the record was made.
	Round int `json:"round"`
	// ReviewID is the hazard review (discipline hazard_review) of that
	// round, when there was one.
	ReviewID int64        `json:"review_id,omitempty"`
	Method   HazardMethod `json:"method"`
	// HeldOn is the date the review was held (UTC midnight).
	HeldOn  time.Time          `json:"held_on"`
	Team    []HazardTeamMember `json:"team"`
	Summary string             `json:"summary"`
	// WorksheetID is the attachment of the change holding the worksheet (0: none).
	WorksheetID int64 `json:"worksheet_id,omitempty"`
	// Recommendations are the action items the review asked for.
	Recommendations []ActionItem `json:"recommendations"`
	RecordedBy      int64        `json:"recorded_by,omitempty"`
	RecordedName    string       `json:"recorded_name"`
	RecordedAt      time.Time    `json:"recorded_at"`
}

// HazardTeamMember is one person of a hazard review team: someone in
// mocpcr (UserID set) or a named outsider (a vendor's engineer, an
// external facilitator) with their organisation.
type HazardTeamMember struct {
	UserID       int64  `json:"user_id,omitempty"`
	Name         string `json:"name"`
	Organisation string `json:"organisation,omitempty"`
}

// HazardRecommendation is one recommendation of a hazard review: it
// becomes an action item with its owner and due date (the site's default
// when nil), due before or after startup.
type HazardRecommendation struct {
	Title         string     `json:"title"`
	OwnerID       int64      `json:"owner_id"`
	DueOn         *time.Time `json:"due_on"`
	BeforeStartup bool       `json:"before_startup"`
}

// NewHazardReview is what RecordHazardReview needs.
type NewHazardReview struct {
	Method HazardMethod
	// HeldOn is required: the date the team met (not in the future).
	HeldOn          *time.Time
	Team            []HazardTeamMember
	Summary         string
	WorksheetID     int64
	Recommendations []HazardRecommendation
}

// hazardReviews loads a change's records with their teams; the
// recommendations are filled from actions (the change's action items).
func (s *Service) hazardReviews(ctx context.Context, q store.Querier, changeID int64, actions []ActionItem) ([]HazardReview, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, change_id, round, COALESCE(review_id, 0), method, held_on, summary, COALESCE(worksheet_id, 0),
		COALESCE(recorded_by, 0), recorded_name, recorded_at FROM change_hazard_reviews WHERE change_id = $1 ORDER BY id`, changeID)
	if err != nil {
		return nil, fmt.Errorf("load hazard reviews: %w", err)
	}
	out := []HazardReview{}
	for rows.Next() {
		var h HazardReview
		if err := rows.Scan(&h.ID, &h.ChangeID, &h.Round, &h.ReviewID, &h.Method, &h.HeldOn, &h.Summary, &h.WorksheetID,
			&h.RecordedBy, &h.RecordedName, &h.RecordedAt); err != nil {
			rows.Close()
			return nil, err
		}
		h.HeldOn, h.RecordedAt = dateOnly(h.HeldOn), h.RecordedAt.UTC()
		h.Team, h.Recommendations = []HazardTeamMember{}, []ActionItem{}
		out = append(out, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	byID := map[int64]*HazardReview{}
	for i := range out {
		byID[out[i].ID] = &out[i]
	}
	mrows, err := q.QueryContext(ctx, `SELECT m.hazard_review_id, COALESCE(m.user_id, 0), m.name, m.organisation FROM change_hazard_review_members m
		JOIN change_hazard_reviews h ON h.id = m.hazard_review_id WHERE h.change_id = $1 ORDER BY m.hazard_review_id, m.position`, changeID)
	if err != nil {
		return nil, fmt.Errorf("load hazard review teams: %w", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var hid int64
		var m HazardTeamMember
		if err := mrows.Scan(&hid, &m.UserID, &m.Name, &m.Organisation); err != nil {
			return nil, err
		}
		if h := byID[hid]; h != nil {
			h.Team = append(h.Team, m)
		}
	}
	for _, a := range actions {
		if h := byID[a.HazardReviewID]; h != nil {
			h.Recommendations = append(h.Recommendations, a)
		}
	}
	return out, mrows.Err()
}

// CheckHazardReview validates everything that needs no database, every
// invalid field at once, naming nested ones by their path
// (team[2].name, recommendations[0].owner_id). RecordHazardReview checks
// it again; the page calls it first so that a form with a mistake does
// not attach its worksheet file before the refusal.
func (s *Service) CheckHazardReview(in *NewHazardReview) error {
	var p problem.List
	if !slices.Contains(HazardMethods, in.Method) {
		p.Invalid("method", "must be one of hazop, what_if, checklist, lopa or other, got %q", in.Method)
	}
	today := dateOnly(s.now())
	switch {
	case in.HeldOn == nil:
		p.Invalid("held_on", "is required: the date the team held the review")
	case dateOnly(*in.HeldOn).After(today):
		p.Invalid("held_on", "is in the future (%s): record the review once it has been held", dateOnly(*in.HeldOn).Format(time.DateOnly))
	}
	in.Summary = strings.TrimSpace(in.Summary)
	switch n := utf8.RuneCountInString(in.Summary); {
	case n == 0:
		p.Invalid("summary", "is required: what the team studied and what it found")
	case n > MaxHazardSummary:
		p.Invalid("summary", "is %d characters long; at most %d (attach the full worksheet instead)", n, MaxHazardSummary)
	}
	switch n := len(in.Team); {
	case n == 0:
		p.Invalid("team", "name at least one team member")
	case n > MaxHazardTeam:
		p.Invalid("team", "at most %d team members, got %d", MaxHazardTeam, n)
	}
	if len(in.Team) <= MaxHazardTeam {
		for i := range in.Team {
			m := &in.Team[i]
			f := fmt.Sprintf("team[%d].", i)
			m.Name, m.Organisation = strings.TrimSpace(m.Name), strings.TrimSpace(m.Organisation)
			if m.UserID < 0 || (m.UserID == 0 && m.Name == "") {
				p.Invalid(f+"name", "name the team member, or choose someone in mocpcr")
			}
			if n := utf8.RuneCountInString(m.Name); n > MaxHazardName {
				p.Invalid(f+"name", "is %d characters long; at most %d", n, MaxHazardName)
			}
			if n := utf8.RuneCountInString(m.Organisation); n > MaxHazardName {
				p.Invalid(f+"organisation", "is %d characters long; at most %d", n, MaxHazardName)
			}
		}
	}
	if n := len(in.Recommendations); n > MaxHazardRecommendations {
		p.Invalid("recommendations", "at most %d recommendations in one record, got %d", MaxHazardRecommendations, n)
	} else {
		for i := range in.Recommendations {
			r := &in.Recommendations[i]
			f := fmt.Sprintf("recommendations[%d].", i)
			r.Title = strings.TrimSpace(r.Title)
			switch n := utf8.RuneCountInString(r.Title); {
			case n == 0:
				p.Invalid(f+"title", "is required: say what the team recommends")
			case n > MaxRecommendationTitle:
				p.Invalid(f+"title", "is %d characters long; at most %d", n, MaxRecommendationTitle)
			}
			if r.OwnerID <= 0 {
				p.Invalid(f+"owner_id", "choose who owns the recommendation")
			}
			if r.DueOn != nil && dateOnly(*r.DueOn).Before(today) {
				p.Invalid(f+"due_on", "must be today or later, got %s", dateOnly(*r.DueOn).Format(time.DateOnly))
			}
		}
	}
	return p.Err("method", "held_on", "team", "summary", "worksheet_id", "recommendations")
}

// RecordHazardReview adds a hazard review record to the change, with its
// team and worksheet, and turns each recommendation into an action item
// linked to the record: its owner is told (in the app and by email), and
// one due before startup blocks startup like any pre-startup action.
// Everything is one transaction and one audit trail: the record, then
// each recommendation's action.
func (s *Service) RecordHazardReview(ctx context.Context, actor *auth.User, changeID int64, in NewHazardReview) (*HazardReview, error) {
	if err := s.CheckHazardReview(&in); err != nil {
		return nil, err
	}
	var id int64
	err := s.changeTx(ctx, actor, changeID, ActRecordHazardReview, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		if len(d.HazardReviews) >= MaxHazardReviewsPerChange {
			return conflict("%s already has %d hazard review records, the most one change holds", c.Number, len(d.HazardReviews))
		}
		if in.WorksheetID != 0 && !slices.ContainsFunc(d.Attachments, func(a Attachment) bool { return a.ID == in.WorksheetID }) {
			return invalid("worksheet_id", "attachment %d is not attached to %s: attach the worksheet to the change first", in.WorksheetID, c.Number)
		}
		var seen []int64
		for i := range in.Team {
			m := &in.Team[i]
			if m.UserID == 0 {
				continue
			}
			f := fmt.Sprintf("team[%d].user_id", i)
			if slices.Contains(seen, m.UserID) {
				return invalid(f, "user %d is named twice in the team", m.UserID)
			}
			seen = append(seen, m.UserID)
			u, err := auth.UserByID(ctx, tx, m.UserID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || !u.OnSite(c.SiteID))) {
				return invalid(f, "no active user %d at site %s: name people from outside as outsiders", m.UserID, c.SiteCode)
			}
			if err != nil {
				return err
			}
			// The record keeps the name the person had at the review.
			m.Name, m.Organisation = u.Name, ""
		}
		var reviewID int64
		for _, r := range d.Reviews {
			if r.Round == c.Round && r.Discipline == DisciplineHazardReview {
				reviewID = r.ID
			}
		}
		held := dateOnly(*in.HeldOn)
		if err := tx.QueryRowContext(ctx, `INSERT INTO change_hazard_reviews (change_id, round, review_id, method, held_on, summary, worksheet_id,
			recorded_by, recorded_name, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`,
			c.ID, c.Round, nid(reviewID), string(in.Method), held, in.Summary, nid(in.WorksheetID), actor.ID, actor.Name, s.now()).Scan(&id); err != nil {
			return fmt.Errorf("record hazard review: %w", err)
		}
		names := make([]string, len(in.Team))
		for i, m := range in.Team {
			if _, err := tx.ExecContext(ctx, `INSERT INTO change_hazard_review_members (hazard_review_id, position, user_id, name, organisation)
				VALUES ($1,$2,$3,$4,$5)`, id, i+1, nid(m.UserID), m.Name, m.Organisation); err != nil {
				return fmt.Errorf("record hazard review team: %w", err)
			}
			names[i] = m.Name
			if m.Organisation != "" {
				names[i] += " (" + m.Organisation + ")"
			}
		}
		detail := fmt.Sprintf("%s held %s; team: %s; %s", in.Method.Label(), held.Format(time.DateOnly), strings.Join(names, ", "),
			count(len(in.Recommendations), "recommendation", "recommendations"))
		if in.WorksheetID != 0 {
			detail += fmt.Sprintf("; worksheet: attachment %d", in.WorksheetID)
		}
		if err := s.audit(ctx, tx, c.ID, actor, "", "hazard_review_recorded", fmt.Sprintf("hazard review %d", id), "", detail+". "+in.Summary); err != nil {
			return err
		}
		for i, r := range in.Recommendations {
			_, err := s.insertAction(ctx, tx, actor, c, NewAction{Title: r.Title, Kind: ActionRecommendation, OwnerID: r.OwnerID,
				DueOn: r.DueOn, BeforeStartup: r.BeforeStartup, hazardReviewID: id})
			var pe *problem.Error
			if errors.As(err, &pe) && pe.Field != "" {
				// Say which recommendation is wrong, not just which field.
				return invalid(fmt.Sprintf("recommendations[%d].%s", i, pe.Field), "%s", strings.TrimPrefix(pe.Message, pe.Field+": "))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d, err := s.Get(ctx, actor, changeID)
	if err != nil {
		return nil, err
	}
	for i := range d.HazardReviews {
		if d.HazardReviews[i].ID == id {
			return &d.HazardReviews[i], nil
		}
	}
	return nil, fmt.Errorf("hazard review %d vanished", id)
}

// requireHazardRecord refuses to mark the hazard review done while the
// change holds no hazard review record: the review is a record (method,
// team, findings, recommendations), not a tick.
func (d *Detail) requireHazardRecord() error {
	if len(d.HazardReviews) > 0 {
		return nil
	}
	return &problem.Error{Kind: problem.Conflict, Field: "hazard_review", Message: "Record the hazard review first (method, date, team, " +
		"summary and recommendations, under Hazard review on the change page): the hazard review is marked done on its record."}
}
