package change

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// Service is the one entry point to changes for the JSON API, the HTML
// pages and the background jobs. Every method that changes something
// runs in one transaction: the change row, its audit entries, the
// notifications and the email jobs commit together or not at all.
type Service struct {
	DB       *store.DB
	Notifier *notify.Notifier
	// Now is the clock; tests replace it.
	Now func() time.Time
	// MaxAttachmentBytes limits uploads (default 20 MB).
	MaxAttachmentBytes int64

	// counts caches the change list's totals (listcount.go); nil counts
	// every time (a Service built without New).
	counts *countCache
}

// New returns a service on db that notifies through n.
func New(db *store.DB, n *notify.Notifier) *Service {
	s := &Service{DB: db, Notifier: n, Now: time.Now, MaxAttachmentBytes: 20 << 20, counts: newCountCache()}
	// The hook lives as long as the database handle: it is a flag check,
	// and the Service is the process's one change service.
	db.OnCommit(s.counts.committed)
	return s
}

// now is the current time as stored: UTC, microseconds (PostgreSQL's
// precision, so audit hashes recompute exactly after a round trip).
func (s *Service) now() time.Time {
	return s.Now().UTC().Truncate(time.Microsecond)
}

const changeColumns = `c.id, c.number, c.kind, c.duration, c.stage, c.title, c.description, c.site_id, s.code,
	COALESCE(c.unit_id, 0), COALESCE(un.code, ''), c.equipment_tags, c.reason, c.risk_ranking,
	c.technical_basis, c.safety_health_impact, c.procedure_changes, c.time_period, c.authorization_required,
	c.expires_on, c.review_deadline, c.initiator_id, u.name, c.screening, c.pssr_required, c.round,
	c.return_comment, c.void_reason, c.closed_note, c.reverted_at, c.created_at, c.updated_at,
	c.submitted_at, c.approved_at, c.startup_at, c.closed_at, c.replacement_in_kind, c.permanent_round,
	c.emergency_authorized_at, c.emergency_stage, c.risk_before, c.risk_assessment`

const changeFrom = ` FROM changes c JOIN sites s ON s.id = c.site_id JOIN users u ON u.id = c.initiator_id
	LEFT JOIN units un ON un.id = c.unit_id`

type scanner interface{ Scan(dest ...any) error }

func scanChange(row scanner) (*Change, error) {
	c := &Change{}
	var tags, screening, risk string
	var expires, deadline, reverted, submitted, approved, startup, closed, emergency sql.NullTime
	err := row.Scan(&c.ID, &c.Number, &c.Kind, &c.Duration, &c.Stage, &c.Title, &c.Description, &c.SiteID, &c.SiteCode,
		&c.UnitID, &c.UnitCode, &tags, &c.Reason, &c.RiskRanking,
		&c.TechnicalBasis, &c.SafetyHealthImpact, &c.ProcedureChanges, &c.TimePeriod, &c.AuthorizationRequired,
		&expires, &deadline, &c.InitiatorID, &c.InitiatorName, &screening, &c.PSSRRequired, &c.Round,
		&c.ReturnComment, &c.VoidReason, &c.ClosedNote, &reverted, &c.CreatedAt, &c.UpdatedAt,
		&submitted, &approved, &startup, &closed, &c.ReplacementInKind, &c.PermanentRound,
		&emergency, &c.EmergencyStage, &c.RiskBefore, &risk)
	if err != nil {
		return nil, err
	}
	c.EquipmentTags = splitTags(tags)
	if screening != "" {
		c.Screening = &Screening{}
		if err := json.Unmarshal([]byte(screening), c.Screening); err != nil {
			return nil, fmt.Errorf("change %d: screening: %w", c.ID, err)
		}
	}
	if risk != "" {
		c.Risk = &RiskAssessment{}
		if err := json.Unmarshal([]byte(risk), c.Risk); err != nil {
			return nil, fmt.Errorf("change %d: risk assessment: %w", c.ID, err)
		}
	}
	c.ExpiresOn, c.ReviewDeadline, c.RevertedAt = ptime(expires), ptime(deadline), ptime(reverted)
	c.SubmittedAt, c.ApprovedAt, c.StartupAt, c.ClosedAt = ptime(submitted), ptime(approved), ptime(startup), ptime(closed)
	c.EmergencyAuthorizedAt = ptime(emergency)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

func ptime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// nt turns an optional time into a query argument.
func nt(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

func nid(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func splitTags(s string) []string {
	out := []string{}
	for _, t := range strings.Split(s, "\n") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// loadChange reads one change without any visibility check.
func loadChange(ctx context.Context, q store.Querier, id int64) (*Change, error) {
	c, err := scanChange(q.QueryRowContext(ctx, `SELECT `+changeColumns+changeFrom+` WHERE c.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("change %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load change %d: %w", id, err)
	}
	return c, nil
}

// lockChange takes the change's row lock for the rest of tx (an UPDATE
// locks the row on PostgreSQL; SQLite transactions are already
// serialised by BEGIN IMMEDIATE) and returns the detail as actor sees it.
// Every mutation starts here, which keeps the state machine and the
// change's audit chain linear under concurrency.
func (s *Service) lockChange(ctx context.Context, tx *sql.Tx, actor *auth.User, id int64) (*Detail, error) {
	s.counts.changed()
	res, err := tx.ExecContext(ctx, `UPDATE changes SET lock_version = lock_version + 1 WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("lock change %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, notFound("change %d not found", id)
	}
	return s.loadDetail(ctx, tx, actor, id)
}

// changeTx runs fn in one transaction on change id, locked and loaded
// (lockChange) once actor may take act on it now (check).
func (s *Service) changeTx(ctx context.Context, actor *auth.User, id int64, act Action, fn func(tx *sql.Tx, d *Detail) error) error {
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		d, err := s.lockChange(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := s.check(actor, d, act); err != nil {
			return err
		}
		return fn(tx, d)
	})
}

// Get returns a change with its reviews, approvals, actions, PSSR,
// roster, attachments and what actor may do next.
func (s *Service) Get(ctx context.Context, actor *auth.User, id int64) (*Detail, error) {
	return s.loadDetail(ctx, s.DB.SQL, actor, id)
}

// GetByRef is Get by a reference from a path: a number (MOC-2026-0042) or an id (see Resolve).
func (s *Service) GetByRef(ctx context.Context, actor *auth.User, ref string) (*Detail, error) {
	id, err := s.Resolve(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, actor, id)
}

var numberPattern = regexp.MustCompile(`^[A-Z]+-\d{4}-\d+$`)

// Resolve returns the id of the change ref names, the way paths name a
// change (pages and API alike): by its number (MOC-2026-0042, any case)
// or by its numeric id. A change actor cannot see is not found, as Get
// would say.
func (s *Service) Resolve(ctx context.Context, actor *auth.User, ref string) (int64, error) {
	return resolve(ctx, s.DB.SQL, actor, ref)
}

// resolve is Resolve in q (a transaction that must see its own writes,
// or on SQLite's one writer connection, cannot read beside itself).
func resolve(ctx context.Context, q store.Querier, actor *auth.User, ref string) (int64, error) {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	query := `SELECT id, site_id FROM changes WHERE number = $1`
	var arg any = ref
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil && n > 0 {
		query, arg = `SELECT id, site_id FROM changes WHERE id = $1`, n
	} else if !numberPattern.MatchString(ref) {
		return 0, notFound("%q is neither a change id (like 42) nor a change number (like MOC-2026-0042)", ref)
	}
	var id, site int64
	err := q.QueryRowContext(ctx, query, arg).Scan(&id, &site)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (actor == nil || !actor.OnSite(site))) {
		return 0, notFound("change %s not found", ref)
	}
	return id, err
}

func (s *Service) loadDetail(ctx context.Context, q store.Querier, actor *auth.User, id int64) (*Detail, error) {
	c, err := loadChange(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if actor == nil || !actor.OnSite(c.SiteID) {
		return nil, notFound("change %d not found", id)
	}
	d := &Detail{Change: c, today: dateOnly(s.Now())}
	if d.Reviews, err = s.reviews(ctx, q, id); err != nil {
		return nil, err
	}
	if d.Approvals, err = s.approvals(ctx, q, id); err != nil {
		return nil, err
	}
	if d.Actions, err = s.listActions(ctx, q, `a.change_id = $1`, id); err != nil {
		return nil, err
	}
	if d.PSSR, err = s.pssrItems(ctx, q, id); err != nil {
		return nil, err
	}
	if d.PSSRTeam, err = s.pssrTeam(ctx, q, id); err != nil {
		return nil, err
	}
	if d.Acknowledgements, err = s.acknowledgements(ctx, q, id); err != nil {
		return nil, err
	}
	if d.Attachments, err = s.attachments(ctx, q, id); err != nil {
		return nil, err
	}
	if d.Extensions, err = s.extensions(ctx, q, id); err != nil {
		return nil, err
	}
	if d.Signatures, err = s.signatures(ctx, q, id); err != nil {
		return nil, err
	}
	if d.HazardReviews, err = s.hazardReviews(ctx, q, id, d.Actions); err != nil {
		return nil, err
	}
	if d.Links, d.HiddenLinks, err = s.links(ctx, q, actor, id); err != nil {
		return nil, err
	}
	if d.delegators, err = s.activeDelegators(ctx, q, actor.ID); err != nil {
		return nil, err
	}
	if err := s.loadScreeningRules(ctx, q, d); err != nil {
		return nil, err
	}
	d.AllowedActions = s.AllowedActions(actor, d)
	d.Blocked = s.blocked(actor, d)
	d.ToSign = d.statements(actor)
	return d, nil
}

var tagPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._/-]{0,39}$`)

// apply copies the set fields of f onto c and validates the result as a
// draft (submit checks more). It checks every field and reports all the
// invalid ones together with f.Problems (see problem.List); a check that
// builds on an invalid field (the unit of a site) is skipped.
func (s *Service) apply(ctx context.Context, q store.Querier, actor *auth.User, c *Change, f Fields, creating bool) error {
	var p problem.List
	for _, e := range f.Problems {
		p.Add(e)
	}
	// The value is checked first, so an unknown kind is answered as such
	// and not as an attempt to change the kind.
	kind := c.Kind
	if f.Kind != nil {
		kind = Kind(strings.ToUpper(strings.TrimSpace(string(*f.Kind))))
	}
	switch {
	case kind != KindMOC && kind != KindPCR:
		p.Invalid("kind", "must be MOC or PCR, got %q", kind)
	case !creating && kind != c.Kind:
		p.Invalid("kind", "cannot change the kind of a filed change (%s is a %s); file a new %s instead", c.Number, c.Kind, kind)
	default:
		c.Kind = kind
	}
	if f.Duration != nil {
		c.Duration = Duration(strings.ToLower(string(*f.Duration)))
	}
	if !slices.Contains([]Duration{DurationPermanent, DurationTemporary, DurationEmergency}, c.Duration) {
		p.Invalid("duration", "must be permanent, temporary or emergency, got %q", c.Duration)
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&c.Title, f.Title)
	set(&c.Description, f.Description)
	set(&c.Reason, f.Reason)
	set(&c.TechnicalBasis, f.TechnicalBasis)
	set(&c.SafetyHealthImpact, f.SafetyHealthImpact)
	set(&c.ProcedureChanges, f.ProcedureChanges)
	set(&c.TimePeriod, f.TimePeriod)
	set(&c.AuthorizationRequired, f.AuthorizationRequired)
	if f.RiskRanking != nil {
		c.RiskRanking = strings.ToLower(strings.TrimSpace(*f.RiskRanking))
	}
	if c.Title == "" {
		p.Invalid("title", "is required")
	}
	if len(c.Title) > 200 {
		p.Invalid("title", "must be at most 200 characters")
	}
	if c.RiskRanking != "" && !slices.Contains(RiskRankings, c.RiskRanking) {
		p.Invalid("risk_ranking", "must be one of %s, got %q", strings.Join(RiskRankings, ", "), c.RiskRanking)
	}
	if err := s.applySite(ctx, q, actor, c, f, creating, &p); err != nil {
		return err
	}
	if err := s.applyRisk(ctx, q, c, f, &p); err != nil {
		return err
	}
	if f.EquipmentTags != nil && len(*f.EquipmentTags) > MaxEquipmentTags {
		p.Invalid("equipment_tags", "at most %d tags per change, got %d (list the main items; the description can name more)", MaxEquipmentTags, len(*f.EquipmentTags))
	} else if f.EquipmentTags != nil {
		c.EquipmentTags = []string{}
		for _, t := range *f.EquipmentTags {
			t = strings.ToUpper(strings.TrimSpace(t))
			if t == "" {
				continue
			}
			if !tagPattern.MatchString(t) {
				p.Invalid("equipment_tags", "%q is not a tag like P-101A (letters, digits, - _ . /; at most 40)", t)
			}
			if !slices.Contains(c.EquipmentTags, t) {
				c.EquipmentTags = append(c.EquipmentTags, t)
			}
		}
	}
	if f.ExpiresOn != nil {
		c.ExpiresOn = dateptr(*f.ExpiresOn)
	}
	if f.ReviewDeadline != nil {
		c.ReviewDeadline = dateptr(*f.ReviewDeadline)
	}
	today := dateOnly(s.Now())
	if c.Duration.IsTemporary() {
		if c.ExpiresOn == nil {
			p.Invalid("expires_on", "a %s change needs an expiry date (YYYY-MM-DD)", c.Duration)
		} else if (creating || f.ExpiresOn != nil) && !c.ExpiresOn.After(today) {
			p.Invalid("expires_on", "must be after today (%s)", today.Format(time.DateOnly))
		} else if (creating || f.ExpiresOn != nil) && c.SiteID != 0 {
			// The site's maximum total duration holds from the start, not
			// only when an extension is asked for.
			if err := s.durationLimit(ctx, q, c, creating, &p); err != nil {
				return err
			}
		}
	} else {
		c.ExpiresOn = nil
	}
	if c.Duration == DurationEmergency {
		// Optional: without one, the emergency authorisation sets the
		// site's deadline (the next working day by default).
		if c.ReviewDeadline != nil && (creating || f.ReviewDeadline != nil) && c.ReviewDeadline.Before(today) {
			p.Invalid("review_deadline", "must not be in the past")
		}
	} else {
		c.ReviewDeadline = nil
	}
	return p.Err(FieldOrder...)
}

// applySite is apply for the site and the unit, which need the database;
// it returns only database errors, and adds the rest to p.
func (s *Service) applySite(ctx context.Context, q store.Querier, actor *auth.User, c *Change, f Fields, creating bool, p *problem.List) error {
	if p.Has("site_id") {
		return nil // the edge could not read it: nothing to check it, or a unit, against
	}
	if f.SiteID != nil {
		if !creating && *f.SiteID != c.SiteID {
			p.Invalid("site_id", "cannot move a change to another site")
			return nil
		}
		c.SiteID = *f.SiteID
	}
	if c.SiteID == 0 {
		p.Invalid("site_id", "is required")
		return nil
	}
	if !actor.OnSite(c.SiteID) {
		p.Invalid("site_id", "you are not a member of site %d", c.SiteID)
		return nil
	}
	var siteRetired sql.NullTime
	if err := q.QueryRowContext(ctx, `SELECT code, retired_at FROM sites WHERE id = $1`, c.SiteID).Scan(&c.SiteCode, &siteRetired); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			p.Invalid("site_id", "no site with id %d", c.SiteID)
			return nil
		}
		return err
	}
	// Retired sites and units take no new changes; a change already on
	// one keeps it through later edits.
	if creating && siteRetired.Valid {
		p.Invalid("site_id", "site %s is retired; choose another site", c.SiteCode)
		return nil
	}
	if p.Has("unit_id") {
		return nil
	}
	prevUnit := c.UnitID
	if creating {
		prevUnit = 0
	}
	if f.UnitID != nil {
		c.UnitID = *f.UnitID
	}
	c.UnitCode = ""
	if c.UnitID != 0 {
		var siteID int64
		var unitRetired sql.NullTime
		err := q.QueryRowContext(ctx, `SELECT site_id, code, retired_at FROM units WHERE id = $1`, c.UnitID).Scan(&siteID, &c.UnitCode, &unitRetired)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && siteID != c.SiteID) {
			p.Invalid("unit_id", "no unit %d at site %s", c.UnitID, c.SiteCode)
			return nil
		}
		if err != nil {
			return err
		}
		if unitRetired.Valid && c.UnitID != prevUnit {
			p.Invalid("unit_id", "unit %s is retired; choose another unit", c.UnitCode)
		}
	}
	return nil
}

func dateptr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	d := dateOnly(*t)
	return &d
}

// Create files a new change in Draft. Its number is allocated in the same
// transaction from the per-kind, per-year counter.
func (s *Service) Create(ctx context.Context, actor *auth.User, f Fields) (*Change, error) {
	if actor == nil || (!actor.Has(auth.RoleInitiator) && !actor.Has(auth.RoleCoordinator)) {
		return nil, forbidden("only an initiator or an MOC coordinator may create a change")
	}
	if f.Kind == nil {
		// Reported with the other invalid fields (apply), not alone.
		f.Problems = append(slices.Clone(f.Problems), problem.FieldError{Field: "kind", Message: "kind: is required: MOC or PCR"})
	}
	if f.Duration == nil {
		p := DurationPermanent
		f.Duration = &p
	}
	var id int64
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		c := &Change{Stage: StageDraft, InitiatorID: actor.ID, EquipmentTags: []string{}}
		if err := s.apply(ctx, tx, actor, c, f, true); err != nil {
			return err
		}
		now := s.now()
		var n int64
		if err := tx.QueryRowContext(ctx,
			`INSERT INTO change_counters (kind, year, last_value) VALUES ($1, $2, 1)
			 ON CONFLICT (kind, year) DO UPDATE SET last_value = change_counters.last_value + 1
			 RETURNING last_value`, string(c.Kind), now.Year()).Scan(&n); err != nil {
			return fmt.Errorf("allocate number: %w", err)
		}
		c.Number = fmt.Sprintf("%s-%d-%04d", c.Kind, now.Year(), n)
		s.counts.changed()
		err := tx.QueryRowContext(ctx, `INSERT INTO changes (number, kind, duration, stage, title, description, site_id, unit_id,
			equipment_tags, reason, risk_ranking, technical_basis, safety_health_impact, procedure_changes, time_period,
			authorization_required, expires_on, review_deadline, initiator_id, created_at, updated_at, risk_before, risk_assessment)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$20,$21,$22) RETURNING id`,
			c.Number, string(c.Kind), string(c.Duration), string(c.Stage), c.Title, c.Description, c.SiteID, nid(c.UnitID),
			strings.Join(c.EquipmentTags, "\n"), c.Reason, c.RiskRanking, c.TechnicalBasis, c.SafetyHealthImpact,
			c.ProcedureChanges, c.TimePeriod, c.AuthorizationRequired, nt(c.ExpiresOn), nt(c.ReviewDeadline), actor.ID, now,
			c.RiskBefore, riskJSON(c.Risk)).Scan(&id)
		if err != nil {
			return fmt.Errorf("create change: %w", err)
		}
		return s.audit(ctx, tx, id, actor, "", "created", "", "", c.Number+": "+c.Title)
	})
	if err != nil {
		return nil, err
	}
	return loadChange(ctx, s.DB.SQL, id)
}

// auditFields lists the editable fields as text, for field-level audit.
func auditFields(c *Change) [][2]string {
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	return [][2]string{
		{"duration", string(c.Duration)}, {"title", c.Title}, {"description", c.Description},
		{"unit_id", strconv.FormatInt(c.UnitID, 10)}, {"equipment_tags", strings.Join(c.EquipmentTags, ", ")},
		{"reason", c.Reason}, {"risk_ranking", c.RiskRanking}, {"technical_basis", c.TechnicalBasis},
		{"safety_health_impact", c.SafetyHealthImpact}, {"procedure_changes", c.ProcedureChanges},
		{"time_period", c.TimePeriod}, {"authorization_required", c.AuthorizationRequired},
		{"expires_on", date(c.ExpiresOn)}, {"review_deadline", date(c.ReviewDeadline)},
		{"risk_before", c.RiskBefore}, {"risk_assessment", riskJSON(c.Risk)},
	}
}

// Update edits a change in Draft or Returned. Each changed field is
// audited with its old and new value.
func (s *Service) Update(ctx context.Context, actor *auth.User, id int64, f Fields) (*Change, error) {
	err := s.changeTx(ctx, actor, id, ActEdit, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		before := auditFields(c)
		if err := s.apply(ctx, tx, actor, c, f, false); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE changes SET duration=$1, title=$2, description=$3, unit_id=$4, equipment_tags=$5,
			reason=$6, risk_ranking=$7, technical_basis=$8, safety_health_impact=$9, procedure_changes=$10, time_period=$11,
			authorization_required=$12, expires_on=$13, review_deadline=$14, updated_at=$15, risk_before=$17, risk_assessment=$18 WHERE id=$16`,
			string(c.Duration), c.Title, c.Description, nid(c.UnitID), strings.Join(c.EquipmentTags, "\n"), c.Reason,
			c.RiskRanking, c.TechnicalBasis, c.SafetyHealthImpact, c.ProcedureChanges, c.TimePeriod, c.AuthorizationRequired,
			nt(c.ExpiresOn), nt(c.ReviewDeadline), s.now(), id, c.RiskBefore, riskJSON(c.Risk))
		if err != nil {
			return fmt.Errorf("update %s: %w", c.Number, err)
		}
		for i, after := range auditFields(c) {
			if after[1] != before[i][1] {
				if err := s.audit(ctx, tx, id, actor, "", "field_changed", after[0], before[i][1], after[1]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return loadChange(ctx, s.DB.SQL, id)
}

// MissingBeforeSubmit names (by JSON field) the fields OSHA 1910.119(l)(2)
// and the site procedure require before a change is submitted and that
// are still empty. Submit enforces it; pages show it as a checklist.
func MissingBeforeSubmit(c *Change) []string {
	var missing []string
	for _, f := range [][2]string{
		{"title", c.Title}, {"description", c.Description}, {"reason", c.Reason}, {"risk_ranking", c.RiskRanking},
		{"technical_basis", c.TechnicalBasis}, {"safety_health_impact", c.SafetyHealthImpact},
		{"procedure_changes", c.ProcedureChanges}, {"time_period", c.TimePeriod},
		{"authorization_required", c.AuthorizationRequired},
	} {
		if strings.TrimSpace(f[1]) == "" {
			missing = append(missing, f[0])
		}
	}
	return missing
}

func validateScreening(c *Change, sc *Screening) error {
	if sc.Disciplines == nil {
		sc.Disciplines = []string{}
	}
	for i, d := range sc.Disciplines {
		d = strings.ToLower(strings.TrimSpace(d))
		if !slices.Contains(Disciplines, d) {
			return invalid("screening.disciplines", "%q is not a discipline: expected some of %s", d, strings.Join(Disciplines, ", "))
		}
		sc.Disciplines[i] = d
	}
	slices.Sort(sc.Disciplines)
	sc.Disciplines = slices.Compact(sc.Disciplines)
	if c.Kind == KindPCR && sc.PSSRNeeded {
		return invalid("screening.pssr_needed", "a PCR never has a PSSR: file an MOC for hardware changes")
	}
	if !sc.ReplacementInKind && len(sc.Disciplines) == 0 && !sc.HazardReviewNeeded && c.Kind == KindMOC {
		if sc.QuestionnaireID != 0 {
			return invalid(screeningAnswersField, "these answers require no discipline review nor hazard review, and an MOC needs at least one: "+
				"check the answers, or mark the change a replacement in kind")
		}
		return invalid("screening.disciplines", "name at least one affected discipline, or mark the change a replacement in kind")
	}
	return nil
}

// Submit moves a Draft or Returned change on, with the screening answers.
// A replacement in kind waits for its confirmation (ConfirmRIK); any
// other change goes to Screening with one discipline review per affected
// discipline (plus a hazard review when needed) and required actions for
// process safety information and procedure updates.
func (s *Service) Submit(ctx context.Context, actor *auth.User, id int64, sc Screening) (*Change, error) {
	err := s.changeTx(ctx, actor, id, ActSubmit, func(tx *sql.Tx, d *Detail) error {
		c := d.Change
		if missing := MissingBeforeSubmit(c); len(missing) > 0 {
			return &problem.Error{Kind: problem.Invalid, Field: missing[0],
				Message: fmt.Sprintf("%s: required before submit (missing: %s)", missing[0], strings.Join(missing, ", "))}
		}
		if sc.Answers != nil {
			// Answered on the questionnaire: the answers decide, not
			// whatever else the request claims.
			qn, err := currentQuestionnaire(ctx, tx, c.SiteID, s.now())
			if err != nil {
				return err
			}
			answers, err := qn.checkAnswers(c.Kind, sc.Answers)
			if err != nil {
				return err
			}
			out := qn.outcome(answers)
			out.ReplacementInKind = sc.ReplacementInKind
			out.QuestionnaireID, out.QuestionnaireVersion = qn.ID, qn.Version
			out.Answers, out.InitiatorAnswers = answers, maps.Clone(answers)
			sc = out
		} else {
			// The checkboxes' shape, for API clients written before
			// questionnaires: recorded as given, no answers to confirm.
			sc.QuestionnaireID, sc.QuestionnaireVersion, sc.InitiatorAnswers, sc.Overrides = 0, 0, nil, nil
			sc.ConfirmedBy, sc.ConfirmedByName, sc.ConfirmedAt, sc.CarriedOver, sc.TrainingRequired = 0, "", nil, false, false
		}
		if err := validateScreening(c, &sc); err != nil {
			return err
		}
		if c.Duration.IsTemporary() && c.ExpiresOn != nil && !c.ExpiresOn.After(dateOnly(s.Now())) {
			return invalid("expires_on", "has passed: set a new expiry date before submitting")
		}
		now := s.now()
		scJSON, _ := json.Marshal(sc)
		round := c.Round + 1
		oldStage := c.Stage
		if sc.ReplacementInKind {
			// The claim skips review and approval, so it is the one thing
			// someone else must check: it waits for a coordinator or an
			// approver of the site to confirm it, signed, or to reject it.
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET stage=$1, screening=$2, round=$3, submitted_at=$4, replacement_in_kind=TRUE,
				pssr_required=FALSE, return_comment='', updated_at=$4 WHERE id=$5`, string(StageRIKConfirmation), string(scJSON), round, now, id); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, id, actor, "", "submitted", "screening", "", string(scJSON)); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, id, actor, "", "stage", "stage", string(oldStage), string(StageRIKConfirmation)); err != nil {
				return err
			}
			confirmers, err := s.siteDeciders(ctx, tx, c)
			if err != nil {
				return err
			}
			return s.notify(ctx, tx, notify.TypeApprovalRequested, c, "Confirm replacement in kind: "+c.Number+" "+c.Title,
				actor.Name+" submitted "+c.Number+" as a replacement in kind. Confirm it (same specification) or reject it into the normal review.",
				confirmers...)
		}
		pssr := sc.PSSRNeeded && c.Kind == KindMOC
		if _, err := tx.ExecContext(ctx, `UPDATE changes SET stage=$1, screening=$2, round=$3, submitted_at=$4, pssr_required=$5,
			return_comment='', replacement_in_kind=FALSE, updated_at=$4 WHERE id=$6`, string(StageScreening), string(scJSON), round, now, pssr, id); err != nil {
			return err
		}
		disciplines := slices.Clone(sc.Disciplines)
		if sc.HazardReviewNeeded {
			disciplines = append(disciplines, DisciplineHazardReview)
		}
		// A resubmitted change keeps the reviewers of the last round for
		// the disciplines that still apply.
		prev := map[string]int64{}
		for _, r := range d.Reviews {
			if r.Round == c.Round && r.ReviewerID != 0 {
				prev[r.Discipline] = r.ReviewerID
			}
		}
		for _, disc := range disciplines {
			if _, err := tx.ExecContext(ctx, `INSERT INTO change_reviews (change_id, round, discipline, reviewer_id) VALUES ($1,$2,$3,$4)`,
				id, round, disc, nid(prev[disc])); err != nil {
				return fmt.Errorf("create review: %w", err)
			}
		}
		for _, a := range d.Approvals {
			if a.Round == c.Round {
				if _, err := tx.ExecContext(ctx, `INSERT INTO change_approvals (change_id, round, stage_no, approver_id) VALUES ($1,$2,$3,$4)`,
					id, round, a.StageNo, a.ApproverID); err != nil {
					return fmt.Errorf("carry approver: %w", err)
				}
			}
		}
		if err := s.audit(ctx, tx, id, actor, "", "submitted", "screening", "", string(scJSON)); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, id, actor, "", "stage", "stage", string(oldStage), string(StageScreening)); err != nil {
			return err
		}
		// Updates to process safety information and operating procedures
		// are tracked as required actions, created once.
		if err := s.addRequiredActions(ctx, tx, actor, d, sc); err != nil {
			return err
		}
		if c.Duration == DurationEmergency && c.EmergencyAuthorizedAt == nil {
			deciders, err := s.siteDeciders(ctx, tx, c)
			if err != nil {
				return err
			}
			if err := s.notify(ctx, tx, notify.TypeApprovalRequested, c, "Emergency authorisation needed: "+c.Number+" "+c.Title,
				actor.Name+" submitted emergency change "+c.Number+". An approver or MOC coordinator of the site may authorise it, signed, for implementation before full review.",
				deciders...); err != nil {
				return err
			}
		}
		coords, err := s.coordinators(ctx, tx, c.SiteID)
		if err != nil {
			return err
		}
		return s.notify(ctx, tx, notify.TypeSubmitted, c, c.Number+" submitted for screening: "+c.Title,
			actor.Name+" submitted "+c.Number+". Assign reviewers and approvers.", coords...)
	})
	if err != nil {
		return nil, err
	}
	return loadChange(ctx, s.DB.SQL, id)
}

// notify sends ev about c to recipients in tx, skipping nobody: the
// recipients were chosen by the caller.
func (s *Service) notify(ctx context.Context, tx *sql.Tx, typ notify.Type, c *Change, title, body string, recipients ...int64) error {
	if s.Notifier == nil || len(recipients) == 0 {
		return nil
	}
	// The change's site may send from its own mailbox.
	sender, err := siteMailSender(ctx, tx, c.SiteID)
	if err != nil {
		return err
	}
	return s.Notifier.Notify(ctx, tx, notify.Event{
		Type: typ, Title: title, Body: body, Link: fmt.Sprintf("/changes/%d", c.ID), Recipients: recipients, Sender: sender,
	})
}

// coordinators returns the enabled MOC coordinators of a site.
func (s *Service) coordinators(ctx context.Context, q store.Querier, siteID int64) ([]int64, error) {
	return userIDs(ctx, q, `SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'coordinator'
		WHERE NOT u.disabled AND `+auth.OnSiteSQL("u.id", "$1")+` ORDER BY u.id`, siteID)
}

func userIDs(ctx context.Context, q store.Querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// setStage moves the change and audits the move.
func (s *Service) setStage(ctx context.Context, tx *sql.Tx, actor *auth.User, c *Change, to Stage, extra string, args ...any) error {
	if err := s.moveStageColumn(ctx, tx, actor, c, "stage", c.Stage, to, extra, args...); err != nil {
		return err
	}
	c.Stage = to
	return nil
}

// moveStageColumn writes stage column col (stage or emergency_stage) from
// "from" to "to", with the extra SET clauses, and audits the move under
// the column's name.
func (s *Service) moveStageColumn(ctx context.Context, tx *sql.Tx, actor *auth.User, c *Change, col string, from, to Stage, extra string, args ...any) error {
	q := `UPDATE changes SET ` + col + ` = $1, updated_at = $2`
	all := []any{string(to), s.now()}
	if extra != "" {
		q += ", " + extra
		all = append(all, args...)
	}
	all = append(all, c.ID)
	q += fmt.Sprintf(" WHERE id = $%d", len(all))
	if _, err := tx.ExecContext(ctx, q, all...); err != nil {
		return fmt.Errorf("move %s %s to %s: %w", c.Number, col, to, err)
	}
	return s.audit(ctx, tx, c.ID, actor, "", col, col, string(from), string(to))
}
