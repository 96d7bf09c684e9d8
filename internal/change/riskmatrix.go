package change

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// A site's risk matrix is configured by its admin and versioned: saving
// it writes a new version, and a change keeps the version it was assessed
// with, so a later edit of the matrix never re-ranks a change behind its
// reviewers' backs. The four level keys are fixed (RiskRankings): the
// change list, its filters, the CSV export and the dashboard speak of
// them across sites; a site names and colours them, and decides which
// cells fall in which, and which approval stages each requires.

// Bounds of a matrix (see limits.go for why bounds at all).
const (
	MinMatrixSize          = 2
	MaxMatrixSize          = 7
	MaxRiskCategories      = 8
	MaxApprovalStageDefs   = 8
	MaxRiskLabel           = 60
	MaxRiskHelp            = 300
	MaxRiskMitigations     = 4000
	maxStageApproversInDef = 50
)

// RiskMatrix is one version of a site's risk matrix.
type RiskMatrix struct {
	ID        int64     `json:"id"`
	SiteID    int64     `json:"site_id"`
	Version   int       `json:"version"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	RiskMatrixDefinition
}

// RiskMatrixDefinition is what an admin edits.
type RiskMatrixDefinition struct {
	// Severities are the rows, least severe first.
	Severities []RiskScale `json:"severities"`
	// Likelihoods are the columns, least likely first.
	Likelihoods []RiskScale `json:"likelihoods"`
	// Categories are the consequences each change is assessed for.
	Categories []RiskCategory `json:"categories"`
	// Levels are the four levels, lowest first, as this site names them.
	Levels []RiskLevel `json:"levels"`
	// Cells[s][l] is the level key of severity s and likelihood l.
	Cells [][]string `json:"cells"`
	// Stages are the named approval stages levels may require.
	Stages []ApprovalStageDef `json:"stages"`
}

// RiskScale is one row or column heading.
type RiskScale struct {
	Label string `json:"label"`
	Help  string `json:"help,omitempty"`
}

// RiskCategory is one consequence category (people, environment...).
type RiskCategory struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// RiskLevel is how a site names and colours one of the four levels, and
// the approval stages a change at that level must have.
type RiskLevel struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Colour string `json:"colour"`
	// RequiredStages name entries of Stages.
	RequiredStages []string `json:"required_stages"`
}

// ApprovalStageDef is a named approval stage (e.g. "Plant manager") and
// the approvers who may sign it: a change that requires it must have one
// of them among its approvers before review starts.
type ApprovalStageDef struct {
	Name        string  `json:"name"`
	ApproverIDs []int64 `json:"approver_ids"`
}

// DefaultRiskMatrix is the 5 × 5 matrix a site starts with (version 1,
// written by migration 00160 for the sites that existed then). It is
// frozen: a different default would be a new version, never this one.
func DefaultRiskMatrix() RiskMatrixDefinition {
	cell := func(s, l int) string {
		switch p := s * l; {
		case p >= 20:
			return "very_high"
		case p >= 10:
			return "high"
		case p >= 5:
			return "medium"
		}
		return "low"
	}
	d := RiskMatrixDefinition{
		Severities: []RiskScale{{"Minor", "First aid; no lasting effect"}, {"Moderate", "Recordable injury; minor release contained on site"},
			{"Serious", "Lost-time injury; reportable release"}, {"Major", "Permanent disability; release with off-site effect"},
			{"Catastrophic", "Fatality; major off-site release"}},
		Likelihoods: []RiskScale{{"Rare", "Not expected in the life of the plant"}, {"Unlikely", "Could happen once in the life of the plant"},
			{"Possible", "Could happen once in 10 years"}, {"Likely", "Could happen once a year"}, {"Almost certain", "Expected several times a year"}},
		Categories: []RiskCategory{{"people", "People"}, {"environment", "Environment"}, {"asset", "Asset"}, {"reputation", "Reputation"}},
		Levels: []RiskLevel{{"low", "Low", "#2e7d32", []string{}}, {"medium", "Medium", "#f9a825", []string{}},
			{"high", "High", "#ef6c00", []string{}}, {"very_high", "Very high", "#c62828", []string{}}},
		Stages: []ApprovalStageDef{},
	}
	for s := 1; s <= 5; s++ {
		row := make([]string, 5)
		for l := 1; l <= 5; l++ {
			row[l-1] = cell(s, l)
		}
		d.Cells = append(d.Cells, row)
	}
	return d
}

// Level is the level definition of key, or a bare one.
func (m *RiskMatrixDefinition) Level(key string) RiskLevel {
	for _, l := range m.Levels {
		if l.Key == key {
			return l
		}
	}
	return RiskLevel{Key: key, Label: key}
}

// Cell is the level key of a rating, "" when the rating is off the matrix.
func (m *RiskMatrixDefinition) Cell(r RiskRating) string {
	if r.Severity < 1 || r.Severity > len(m.Cells) || r.Likelihood < 1 || r.Likelihood > len(m.Cells[r.Severity-1]) {
		return ""
	}
	return m.Cells[r.Severity-1][r.Likelihood-1]
}

// Stage is the approval stage definition named name, or nil.
func (m *RiskMatrixDefinition) Stage(name string) *ApprovalStageDef {
	for i := range m.Stages {
		if strings.EqualFold(m.Stages[i].Name, name) {
			return &m.Stages[i]
		}
	}
	return nil
}

var colourPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
var categoryKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,29}$`)

// nonKeyRunes are what a key made from a label replaces with _.
var nonKeyRunes = regexp.MustCompile(`[^a-z0-9]+`)

// validate checks a definition, reporting every problem by field
// (severities[2].label, cells[1][3]).
func (m *RiskMatrixDefinition) validate() error {
	var p problem.List
	text := func(field, v string, required bool, max int) string {
		v = strings.TrimSpace(v)
		switch {
		case required && v == "":
			p.Invalid(field, "is required")
		case utf8.RuneCountInString(v) > max:
			p.Invalid(field, "must be at most %d characters", max)
		}
		return v
	}
	scales := func(name string, list []RiskScale) {
		if len(list) < MinMatrixSize || len(list) > MaxMatrixSize {
			p.Invalid(name, "must have %d to %d entries, got %d", MinMatrixSize, MaxMatrixSize, len(list))
		}
		for i := range list {
			list[i].Label = text(fmt.Sprintf("%s[%d].label", name, i), list[i].Label, true, MaxRiskLabel)
			list[i].Help = text(fmt.Sprintf("%s[%d].help", name, i), list[i].Help, false, MaxRiskHelp)
		}
	}
	scales("severities", m.Severities)
	scales("likelihoods", m.Likelihoods)
	if len(m.Categories) == 0 || len(m.Categories) > MaxRiskCategories {
		p.Invalid("categories", "must have 1 to %d consequence categories, got %d", MaxRiskCategories, len(m.Categories))
	}
	seen := map[string]bool{}
	for i := range m.Categories {
		c := &m.Categories[i]
		c.Label = text(fmt.Sprintf("categories[%d].label", i), c.Label, true, MaxRiskLabel)
		c.Key = strings.ToLower(strings.TrimSpace(c.Key))
		if c.Key == "" {
			c.Key = strings.Trim(nonKeyRunes.ReplaceAllString(strings.ToLower(c.Label), "_"), "_")
		}
		if !categoryKeyPattern.MatchString(c.Key) {
			p.Invalid(fmt.Sprintf("categories[%d].key", i), "%q is not a key (lower-case letters, digits and _, starting with a letter)", c.Key)
		} else if seen[c.Key] {
			p.Invalid(fmt.Sprintf("categories[%d].key", i), "%q is listed twice", c.Key)
		}
		seen[c.Key] = true
	}
	if len(m.Stages) > MaxApprovalStageDefs {
		p.Invalid("stages", "at most %d named approval stages, got %d", MaxApprovalStageDefs, len(m.Stages))
	}
	names := map[string]bool{}
	for i := range m.Stages {
		st := &m.Stages[i]
		st.Name = text(fmt.Sprintf("stages[%d].name", i), st.Name, true, MaxRiskLabel)
		if names[strings.ToLower(st.Name)] {
			p.Invalid(fmt.Sprintf("stages[%d].name", i), "%q is listed twice", st.Name)
		}
		names[strings.ToLower(st.Name)] = true
		if len(st.ApproverIDs) == 0 {
			p.Invalid(fmt.Sprintf("stages[%d].approver_ids", i), "name at least one approver who may sign the %s stage", st.Name)
		} else if len(st.ApproverIDs) > maxStageApproversInDef {
			p.Invalid(fmt.Sprintf("stages[%d].approver_ids", i), "at most %d approvers, got %d", maxStageApproversInDef, len(st.ApproverIDs))
		}
		slices.Sort(st.ApproverIDs)
		st.ApproverIDs = slices.Compact(st.ApproverIDs)
	}
	if len(m.Levels) != len(RiskRankings) {
		p.Invalid("levels", "must define the %d levels %s, got %d", len(RiskRankings), strings.Join(RiskRankings, ", "), len(m.Levels))
	} else {
		for i := range m.Levels {
			l := &m.Levels[i]
			if l.Key != RiskRankings[i] {
				p.Invalid(fmt.Sprintf("levels[%d].key", i), "must be %q (levels are %s, lowest first)", RiskRankings[i], strings.Join(RiskRankings, ", "))
			}
			l.Label = text(fmt.Sprintf("levels[%d].label", i), l.Label, true, MaxRiskLabel)
			if !colourPattern.MatchString(l.Colour) {
				p.Invalid(fmt.Sprintf("levels[%d].colour", i), "%q is not a colour like #c62828", l.Colour)
			}
			l.Colour = strings.ToLower(l.Colour)
			if l.RequiredStages == nil {
				l.RequiredStages = []string{}
			}
			for _, name := range l.RequiredStages {
				if m.Stage(name) == nil {
					p.Invalid(fmt.Sprintf("levels[%d].required_stages", i), "%q is not one of the named approval stages", name)
				}
			}
		}
	}
	if len(m.Cells) != len(m.Severities) {
		p.Invalid("cells", "must have one row per severity (%d), got %d", len(m.Severities), len(m.Cells))
	}
	for s, row := range m.Cells {
		if len(row) != len(m.Likelihoods) {
			p.Invalid(fmt.Sprintf("cells[%d]", s), "must have one cell per likelihood (%d), got %d", len(m.Likelihoods), len(row))
			continue
		}
		for l, key := range row {
			if !slices.Contains(RiskRankings, key) {
				p.Invalid(fmt.Sprintf("cells[%d][%d]", s, l), "must be one of %s, got %q", strings.Join(RiskRankings, ", "), key)
			}
		}
	}
	if m.Stages == nil {
		m.Stages = []ApprovalStageDef{}
	}
	return p.Err()
}

// RiskRating is one point of the matrix, 1-based; 0 for both means the
// category was not rated.
type RiskRating struct {
	Severity   int `json:"severity"`
	Likelihood int `json:"likelihood"`
}

// RiskPair is a category's risk before the change and after it, with
// the mitigations in place.
type RiskPair struct {
	Before RiskRating `json:"before"`
	After  RiskRating `json:"after"`
}

// RiskAssessment is a change's risk, per category, on one version of its
// site's matrix.
type RiskAssessment struct {
	MatrixID      int64               `json:"matrix_id"`
	MatrixVersion int                 `json:"matrix_version"`
	Categories    map[string]RiskPair `json:"categories"`
	Mitigations   string              `json:"mitigations"`
}

// RiskInput is what a create or update sends for the assessment.
type RiskInput struct {
	Categories  map[string]RiskPair `json:"categories"`
	Mitigations string              `json:"mitigations"`
}

// Levels are the highest level before and after the change over the
// rated categories ("" if none is rated).
func (a *RiskAssessment) Levels(m *RiskMatrixDefinition) (before, after string) {
	for _, pr := range a.Categories {
		before = higherLevel(before, m.Cell(pr.Before))
		after = higherLevel(after, m.Cell(pr.After))
	}
	return before, after
}

// higherLevel is the higher of two level keys.
func higherLevel(a, b string) string {
	if slices.Index(RiskRankings, b) > slices.Index(RiskRankings, a) {
		return b
	}
	return a
}

// assess checks in against the matrix m, every problem by field
// (risk.categories.people.after), and returns the assessment.
func assess(m *RiskMatrix, in RiskInput) (*RiskAssessment, error) {
	var p problem.List
	a := &RiskAssessment{MatrixID: m.ID, MatrixVersion: m.Version, Categories: map[string]RiskPair{},
		Mitigations: strings.TrimSpace(in.Mitigations)}
	if utf8.RuneCountInString(a.Mitigations) > MaxRiskMitigations {
		p.Invalid("risk.mitigations", "must be at most %d characters", MaxRiskMitigations)
	}
	for key := range in.Categories {
		if !slices.ContainsFunc(m.Categories, func(c RiskCategory) bool { return c.Key == key }) {
			keys := make([]string, len(m.Categories))
			for i, c := range m.Categories {
				keys[i] = c.Key
			}
			p.Invalid("risk.categories", "%q is not a consequence category of this site's matrix (version %d): expected %s",
				key, m.Version, strings.Join(keys, ", "))
		}
	}
	for _, cat := range m.Categories {
		pr, ok := in.Categories[cat.Key]
		if !ok || (pr.Before == RiskRating{} && pr.After == RiskRating{}) {
			continue
		}
		for _, side := range []struct {
			name string
			r    RiskRating
		}{{"before", pr.Before}, {"after", pr.After}} {
			if m.Cell(side.r) == "" {
				p.Invalid("risk.categories."+cat.Key+"."+side.name, "%s %s: choose a severity (1 to %d) and a likelihood (1 to %d)",
					cat.Label, side.name, len(m.Severities), len(m.Likelihoods))
			}
		}
		a.Categories[cat.Key] = pr
	}
	if len(a.Categories) == 0 && !p.Has("risk.categories") {
		p.Invalid("risk.categories", "rate at least one consequence category before and after the change")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return a, nil
}

func scanRiskMatrix(row scanner) (*RiskMatrix, error) {
	m := &RiskMatrix{}
	var def string
	if err := row.Scan(&m.ID, &m.SiteID, &m.Version, &def, &m.CreatedBy, &m.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(def), &m.RiskMatrixDefinition); err != nil {
		return nil, fmt.Errorf("risk matrix %d: %w", m.ID, err)
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}

const riskMatrixSelect = `SELECT m.id, m.site_id, m.version, m.definition, COALESCE(u.name, ''), m.created_at
	FROM risk_matrices m LEFT JOIN users u ON u.id = m.created_by`

// riskMatrixByID loads one version.
func riskMatrixByID(ctx context.Context, q store.Querier, id int64) (*RiskMatrix, error) {
	m, err := scanRiskMatrix(q.QueryRowContext(ctx, riskMatrixSelect+` WHERE m.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("risk matrix %d not found", id)
	}
	return m, err
}

// currentRiskMatrix is a site's newest matrix version. A site made after
// migration 00160 has none until first needed: it then gets the default
// as version 1 (in q, when q is a transaction).
func currentRiskMatrix(ctx context.Context, q store.Querier, siteID int64, now time.Time) (*RiskMatrix, error) {
	m, err := scanRiskMatrix(q.QueryRowContext(ctx, riskMatrixSelect+` WHERE m.site_id = $1 ORDER BY m.version DESC LIMIT 1`, siteID))
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return m, err
	}
	def, _ := json.Marshal(DefaultRiskMatrix())
	if _, err := q.ExecContext(ctx, `INSERT INTO risk_matrices (site_id, version, definition, created_at) VALUES ($1, 1, $2, $3)
		ON CONFLICT (site_id, version) DO NOTHING`, siteID, string(def), now); err != nil {
		return nil, fmt.Errorf("site %d default risk matrix: %w", siteID, err)
	}
	return scanRiskMatrix(q.QueryRowContext(ctx, riskMatrixSelect+` WHERE m.site_id = $1 ORDER BY m.version DESC LIMIT 1`, siteID))
}

// RiskMatrix returns a site's current matrix (version 0 asks for the
// newest) or the given version, to anyone who works on the site.
func (s *Service) RiskMatrix(ctx context.Context, actor *auth.User, siteID int64, version int) (*RiskMatrix, error) {
	if err := s.siteVisible(ctx, actor, siteID); err != nil {
		return nil, err
	}
	if version == 0 {
		return currentRiskMatrix(ctx, s.DB.SQL, siteID, s.now())
	}
	m, err := scanRiskMatrix(s.DB.SQL.QueryRowContext(ctx, riskMatrixSelect+` WHERE m.site_id = $1 AND m.version = $2`, siteID, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("site %d has no risk matrix version %d", siteID, version)
	}
	return m, err
}

// ChangeRiskMatrix is the matrix a change was assessed with, or for a
// change not assessed on one, its site's current matrix.
func (s *Service) ChangeRiskMatrix(ctx context.Context, c *Change) (*RiskMatrix, error) {
	return s.changeRiskMatrix(ctx, s.DB.SQL, c)
}

func (s *Service) changeRiskMatrix(ctx context.Context, q store.Querier, c *Change) (*RiskMatrix, error) {
	if c.Risk != nil && c.Risk.MatrixID != 0 {
		return riskMatrixByID(ctx, q, c.Risk.MatrixID)
	}
	return currentRiskMatrix(ctx, q, c.SiteID, s.now())
}

// siteVisible answers not found for a site actor does not work on.
func (s *Service) siteVisible(ctx context.Context, actor *auth.User, siteID int64) error {
	if actor == nil || !actor.OnSite(siteID) {
		return notFound("site %d not found", siteID)
	}
	if _, err := auth.SiteByID(ctx, s.DB.SQL, siteID); errors.Is(err, store.ErrNotFound) {
		return notFound("site %d not found", siteID)
	} else if err != nil {
		return err
	}
	return nil
}

// siteManaged is siteVisible for an admin who manages the site.
func (s *Service) siteManaged(ctx context.Context, actor *auth.User, siteID int64, what string) error {
	if !actor.Has(auth.RoleAdmin) {
		return forbidden("only an admin may change the %s", what)
	}
	if _, err := auth.SiteByID(ctx, s.DB.SQL, siteID); errors.Is(err, store.ErrNotFound) || !actor.ManagesSite(siteID) {
		return notFound("site %d not found", siteID)
	} else if err != nil {
		return err
	}
	return nil
}

// SaveRiskMatrix writes def as the site's next matrix version (admin of
// the site). Changes assessed before keep the version they were assessed
// with. Every approver a stage names must be an enabled approver of the
// site.
func (s *Service) SaveRiskMatrix(ctx context.Context, actor *auth.User, siteID int64, def RiskMatrixDefinition) (*RiskMatrix, error) {
	if err := s.siteManaged(ctx, actor, siteID, "risk matrix"); err != nil {
		return nil, err
	}
	if err := def.validate(); err != nil {
		return nil, err
	}
	// The approvers the stages name must be approvers of the site when
	// the version is written.
	approvers := func(tx *sql.Tx) error {
		for i, st := range def.Stages {
			for _, uid := range st.ApproverIDs {
				if _, err := userWithRole(ctx, tx, fmt.Sprintf("stages[%d].approver_ids", i), uid, auth.RoleApprover, siteID); err != nil {
					return err
				}
			}
		}
		return nil
	}
	id, err := saveVersion(ctx, s, actor, siteID, "risk matrix", "risk_matrices", def, approvers, currentRiskMatrix)
	if err != nil {
		return nil, err
	}
	return riskMatrixByID(ctx, s.DB.SQL, id)
}

// missingStages names the approval stages the change's level requires
// that no approver of the current round can sign, each with who may.
func (d *Detail) missingStages(m *RiskMatrix) []string {
	c := d.Change
	if m == nil || c.RiskRanking == "" {
		return nil
	}
	var out []string
	for _, name := range m.Level(c.RiskRanking).RequiredStages {
		st := m.Stage(name)
		if st == nil {
			continue
		}
		if !slices.ContainsFunc(d.Approvals, func(a Approval) bool {
			return a.Round == c.Round && slices.Contains(st.ApproverIDs, a.ApproverID)
		}) {
			out = append(out, st.Name)
		}
	}
	return out
}

// requireRiskStages refuses while the change lacks an approval stage its
// risk level requires, naming each (Conflict).
func (d *Detail) requireRiskStages() *problem.Error {
	missing := d.missingStages(d.riskMatrix)
	if len(missing) == 0 {
		return nil
	}
	lvl := d.riskMatrix.Level(d.Change.RiskRanking)
	var who []string
	for _, name := range missing {
		who = append(who, fmt.Sprintf("%q (signed by one of: %s)", name, strings.Join(d.stageApproverNames[name], ", ")))
	}
	return &problem.Error{Kind: problem.Conflict, Field: "approvers", Message: fmt.Sprintf(
		"%s risk requires the approval %s %s: name %s as approvers of %s.", lvl.Label,
		map[bool]string{true: "stage", false: "stages"}[len(missing) == 1], strings.Join(who, " and "),
		map[bool]string{true: "one of them", false: "one of each"}[len(missing) == 1], d.Change.Number)}
}

// riskJSON is an assessment as stored ("" for none).
func riskJSON(a *RiskAssessment) string {
	if a == nil {
		return ""
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// applyRisk is apply for the risk assessment: given, it is checked on
// the site's current matrix and sets both levels; a ranking sent with
// it, or alone on an assessed change, must agree with the assessment.
// It returns only database errors, and adds the rest to p.
func (s *Service) applyRisk(ctx context.Context, q store.Querier, c *Change, f Fields, p *problem.List) error {
	if f.Risk == nil {
		if f.RiskRanking == nil || c.Risk == nil || p.Has("risk_ranking") {
			return nil
		}
		// apply has copied the ranking sent: on an assessed change it may
		// only repeat the assessment's (or be empty, as from a form
		// without the field), and the assessment's stays.
		m, err := riskMatrixByID(ctx, q, c.Risk.MatrixID)
		if err != nil {
			return err
		}
		_, after := c.Risk.Levels(&m.RiskMatrixDefinition)
		if c.RiskRanking != "" && c.RiskRanking != after {
			p.Invalid("risk_ranking", "follows the risk assessment (%s after the change): change the assessment, not the ranking", m.Level(after).Label)
		}
		c.RiskRanking = after
		return nil
	}
	if c.SiteID == 0 || p.Has("site_id") {
		return nil
	}
	m, err := currentRiskMatrix(ctx, q, c.SiteID, s.now())
	if err != nil {
		return err
	}
	a, err := assess(m, *f.Risk)
	if pe := problem.As(err); pe != nil {
		for _, fe := range pe.Fields {
			p.Add(fe)
		}
		return nil
	} else if err != nil {
		return err
	}
	before, after := a.Levels(&m.RiskMatrixDefinition)
	if f.RiskRanking != nil && strings.TrimSpace(*f.RiskRanking) != "" && !p.Has("risk_ranking") &&
		strings.ToLower(strings.TrimSpace(*f.RiskRanking)) != after {
		p.Invalid("risk_ranking", "follows the risk assessment (%s after the change): send the assessment alone", m.Level(after).Label)
		return nil
	}
	c.Risk, c.RiskBefore, c.RiskRanking = a, before, after
	return nil
}

// loadScreeningRules loads onto d what the workflow's risk and screening
// rules read: the change's matrix and questionnaire, and who may sign
// the approval stages its level requires.
func (s *Service) loadScreeningRules(ctx context.Context, q store.Querier, d *Detail) error {
	var err error
	if d.Matrix, err = s.changeRiskMatrix(ctx, q, d.Change); err != nil {
		return err
	}
	d.riskMatrix = d.Matrix
	if d.Questionnaire, err = s.changeQuestionnaire(ctx, q, d.Change); err != nil {
		return err
	}
	d.stageApproverNames = map[string][]string{}
	for _, name := range d.Matrix.Level(d.Change.RiskRanking).RequiredStages {
		st := d.Matrix.Stage(name)
		if st == nil {
			continue
		}
		for _, id := range st.ApproverIDs {
			u, err := auth.UserByID(ctx, q, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			d.stageApproverNames[st.Name] = append(d.stageApproverNames[st.Name], u.Name)
		}
	}
	return nil
}
