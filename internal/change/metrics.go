package change

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// The performance metrics of an MOC programme (CCPS, Guidelines for the
// Management of Change for Process Safety, appendix on metrics), per
// calendar month of a period (in the site's zone for one site, else
// UTC). Every query reads plain rows bounded by the period and the
// filter; counting, durations and percentiles are done in Go, since date
// arithmetic and percentiles are what SQLite and PostgreSQL spell
// differently.

// MaxMetricsMonths bounds the period of one metrics request (10 years):
// it bounds the rows read, and so what one request can cost.
const MaxMetricsMonths = 120

// maxMetricsNumbers bounds the change numbers a metric lists by name.
const maxMetricsNumbers = 50

// MetricsFilter selects the changes the metrics count: the actor's
// sites, or one site (SiteID) or unit (UnitID), over the months From to
// To (first day of each, UTC), both included.
type MetricsFilter struct {
	SiteID int64
	UnitID int64
	From   time.Time
	To     time.Time
}

// DefaultMetricsPeriod is the last 12 months up to now's month.
func DefaultMetricsPeriod(now time.Time) (from, to time.Time) {
	to = monthOf(now)
	return to.AddDate(0, -11, 0), to
}

// monthOf is the first instant of t's month, UTC.
func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Metrics are the numbers of one period.
type Metrics struct {
	From   string `json:"from"` // YYYY-MM
	To     string `json:"to"`   // YYYY-MM
	SiteID int64  `json:"site_id,omitempty"`
	UnitID int64  `json:"unit_id,omitempty"`
	// TimeZone is the zone the months are read in: the site's when the
	// numbers are of one site (chosen, or the user's only one), else UTC.
	TimeZone string `json:"time_zone"`
	// AsOf is when the "now" numbers (waiting, past expiry, open) were taken.
	AsOf   time.Time      `json:"as_of"`
	Months []MonthMetrics `json:"months"`
	// Stages is the time changes spent in each stage they left during
	// the period, in days; Cycle is submit to close of the changes closed
	// in it.
	Stages []StageCycle `json:"stages"`
	Cycle  StageCycle   `json:"cycle"`
	// OverdueAfterDays is the reminder setting after which a waiting
	// review or approval counts as overdue.
	OverdueAfterDays int               `json:"overdue_after_days"`
	Overdue          []PersonOverdue   `json:"overdue"`
	Temporary        TemporaryMetrics  `json:"temporary"`
	Emergency        EmergencyMetrics  `json:"emergency"`
	Deficiencies     DeficiencyMetrics `json:"pssr_deficiencies"`
	RIK              RIKMetrics        `json:"replacement_in_kind"`
}

// MonthMetrics are one month's counts.
type MonthMetrics struct {
	Month  string `json:"month"` // YYYY-MM
	Opened int    `json:"opened"`
	Closed int    `json:"closed"`
	// Emergency of the opened were emergency changes; EmergencyMissed of
	// those missed their review deadline.
	Emergency       int `json:"emergency"`
	EmergencyMissed int `json:"emergency_missed_deadline"`
	// Submitted changes, RIK of them as replacements in kind.
	Submitted          int     `json:"submitted"`
	RIK                int     `json:"replacement_in_kind"`
	DeficienciesOpened int     `json:"pssr_deficiencies_opened"`
	DeficienciesClosed int     `json:"pssr_deficiencies_closed"`
	ExtensionsApproved int     `json:"extensions_approved"`
	CycleCount         int     `json:"cycle_count"`
	CycleMedianDays    float64 `json:"cycle_median_days"`
	CycleP90Days       float64 `json:"cycle_p90_days"`
}

// StageCycle is the time spent in one stage (or, for Cycle, from submit
// to close): how many visits ended in the period, their median and 90th
// percentile in days, and the same per month (the trend).
type StageCycle struct {
	Stage      Stage        `json:"stage,omitempty"`
	Label      string       `json:"label"`
	Count      int          `json:"count"`
	MedianDays float64      `json:"median_days"`
	P90Days    float64      `json:"p90_days"`
	Months     []CycleMonth `json:"months"`
}

// CycleMonth is a stage's durations ending in one month.
type CycleMonth struct {
	Month      string  `json:"month"`
	Count      int     `json:"count"`
	MedianDays float64 `json:"median_days"`
	P90Days    float64 `json:"p90_days"`
}

// PersonOverdue is one reviewer's or approver's record: what waits for
// them now past the reminder setting, and of what they decided in the
// period, how much was decided after it.
type PersonOverdue struct {
	UserID           int64  `json:"user_id"`
	Name             string `json:"name"`
	ReviewsOverdue   int    `json:"reviews_overdue"`
	ApprovalsOverdue int    `json:"approvals_overdue"`
	Decided          int    `json:"decided"`
	DecidedLate      int    `json:"decided_late"`
}

// TemporaryMetrics: live temporary changes past their expiry now, and
// the extensions decided in the period.
type TemporaryMetrics struct {
	PastExpiry         int      `json:"past_expiry"`
	PastExpiryNumbers  []string `json:"past_expiry_numbers"`
	ExtensionsApproved int      `json:"extensions_approved"`
	ExtensionsRejected int      `json:"extensions_rejected"`
	// ChangesExtended is how many changes had an extension approved.
	ChangesExtended int `json:"changes_extended"`
}

// EmergencyMetrics: emergency changes among those opened in the period,
// and those whose full review missed its deadline (completed late, or
// still waiting past it).
type EmergencyMetrics struct {
	Opened         int      `json:"opened"`
	OfAll          int      `json:"of_all"`
	SharePercent   float64  `json:"share_percent"`
	MissedDeadline int      `json:"missed_deadline"`
	MissedNumbers  []string `json:"missed_numbers"`
}

// DeficiencyMetrics: PSSR deficiencies raised and closed in the period,
// and open now.
type DeficiencyMetrics struct {
	Opened  int `json:"opened"`
	Closed  int `json:"closed"`
	OpenNow int `json:"open_now"`
}

// RIKMetrics: replacements in kind among the changes submitted in the period.
type RIKMetrics struct {
	Submitted    int     `json:"submitted"`
	RIK          int     `json:"replacement_in_kind"`
	SharePercent float64 `json:"share_percent"`
}

// metricStages are the stages whose time is measured, in workflow order.
var metricStages = []Stage{StageDraft, StageRIKConfirmation, StageScreening, StageReview, StageApproval,
	StageImplementation, StagePSSR, StageCloseout}

// checkMetricsFilter validates the filter for actor, naming the field.
func (s *Service) checkMetricsFilter(ctx context.Context, actor *auth.User, f *MetricsFilter) error {
	var p problem.List
	f.From, f.To = monthOf(f.From), monthOf(f.To)
	if f.To.Before(f.From) {
		p.Invalid("to", "is before from (%s): the period ends after it starts", f.From.Format("2006-01"))
	} else if n := monthsBetween(f.From, f.To) + 1; n > MaxMetricsMonths {
		p.Invalid("from", "the period is %d months long; at most %d (10 years)", n, MaxMetricsMonths)
	}
	if f.From.Year() < 2000 {
		p.Invalid("from", "must be 2000-01 or later")
	}
	if f.SiteID != 0 && !actor.OnSite(f.SiteID) {
		p.Invalid("site_id", "no site %d among your sites", f.SiteID)
	}
	if err := p.Err("site_id", "unit_id", "from", "to"); err != nil {
		return err
	}
	if f.UnitID != 0 {
		var site int64
		err := s.DB.SQL.QueryRowContext(ctx, `SELECT site_id FROM units WHERE id = $1`, f.UnitID).Scan(&site)
		if err == sql.ErrNoRows || (err == nil && (!actor.OnSite(site) || (f.SiteID != 0 && site != f.SiteID))) {
			return invalid("unit_id", "no unit %d at the chosen sites", f.UnitID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// metricsZone is the zone f's months are read in: the chosen site's (the
// unit's site when only a unit is chosen), or the actor's only site's,
// else UTC (the sites' zones may differ).
func (s *Service) metricsZone(ctx context.Context, actor *auth.User, f MetricsFilter) (*time.Location, error) {
	site := f.SiteID
	if site == 0 && f.UnitID != 0 {
		if err := s.DB.SQL.QueryRowContext(ctx, `SELECT site_id FROM units WHERE id = $1`, f.UnitID).Scan(&site); err != nil {
			return nil, fmt.Errorf("metrics: unit %d: %w", f.UnitID, err)
		}
	}
	if site == 0 && !actor.AllSites && len(actor.SiteIDs) == 1 {
		site = actor.SiteIDs[0]
	}
	if site == 0 {
		return time.UTC, nil
	}
	ss, err := siteSettings(ctx, s.DB.SQL, site)
	if err != nil {
		return nil, err
	}
	return ss.Location(), nil
}

func monthsBetween(a, b time.Time) int {
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// Metrics computes the performance metrics of the changes actor may see
// that match f.
func (s *Service) Metrics(ctx context.Context, actor *auth.User, f MetricsFilter) (*Metrics, error) {
	if actor == nil {
		return nil, forbidden("sign in first")
	}
	if err := s.checkMetricsFilter(ctx, actor, &f); err != nil {
		return nil, err
	}
	loc, err := s.metricsZone(ctx, actor, f)
	if err != nil {
		return nil, err
	}
	start := time.Date(f.From.Year(), f.From.Month(), 1, 0, 0, 0, 0, loc)
	end := time.Date(f.To.Year(), f.To.Month()+1, 1, 0, 0, 0, 0, loc)
	now := s.now()
	today := dateOnly(now)
	m := &Metrics{From: f.From.Format("2006-01"), To: f.To.Format("2006-01"), SiteID: f.SiteID, UnitID: f.UnitID, AsOf: now,
		TimeZone: loc.String(), Overdue: []PersonOverdue{}}
	m.Temporary.PastExpiryNumbers, m.Emergency.MissedNumbers = []string{}, []string{}
	idx := map[string]int{}
	for t := start; t.Before(end); t = t.AddDate(0, 1, 0) {
		idx[t.Format("2006-01")] = len(m.Months)
		m.Months = append(m.Months, MonthMetrics{Month: t.Format("2006-01")})
	}
	month := func(t time.Time) *MonthMetrics {
		if i, ok := idx[t.In(loc).Format("2006-01")]; ok && !t.Before(start) && t.Before(end) {
			return &m.Months[i]
		}
		return nil
	}

	// The changes that count: on the actor's (and the filter's) sites,
	// opened before the period ends and not closed (nor voided) before it
	// starts.
	var args []any
	where := []string{siteScope(actor, "c.site_id", &args)}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.SiteID != 0 {
		where = append(where, "c.site_id = "+arg(f.SiteID))
	}
	if f.UnitID != 0 {
		where = append(where, "c.unit_id = "+arg(f.UnitID))
	}
	where = append(where, "c.created_at < "+arg(end))
	st := arg(start)
	where = append(where, "(c.closed_at IS NULL OR c.closed_at >= "+st+")", "(c.stage <> 'voided' OR c.updated_at >= "+st+")")
	scope := strings.Join(where, " AND ")

	rows, err := s.DB.SQL.QueryContext(ctx, `SELECT c.id, c.number, c.duration, c.stage, c.created_at, c.submitted_at, c.approved_at,
		c.closed_at, c.review_deadline, c.expires_on, c.reverted_at, c.replacement_in_kind FROM changes c WHERE `+scope+` ORDER BY c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("metrics: changes: %w", err)
	}
	changes := map[int64]*metricsChange{}
	var cycleAll []float64
	cycleBy := map[string][]float64{}
	for rows.Next() {
		var r metricsChange
		if err := rows.Scan(&r.id, &r.number, &r.duration, &r.stage, &r.created, &r.submitted, &r.approved, &r.closed, &r.deadline,
			&r.exp, &r.rev, &r.rik); err != nil {
			rows.Close()
			return nil, err
		}
		changes[r.id] = &r
		if mm := month(r.created); mm != nil {
			mm.Opened++
			m.Emergency.OfAll++
			if r.duration == DurationEmergency {
				mm.Emergency++
				m.Emergency.Opened++
				missed := false
				if r.deadline.Valid {
					if r.approved.Valid {
						missed = dateOnly(r.approved.Time).After(dateOnly(r.deadline.Time))
					} else {
						missed = (&Change{Duration: r.duration, Stage: r.stage, ReviewDeadline: ptime(r.deadline)}).EmergencyReviewOverdue(today)
					}
				}
				if missed {
					mm.EmergencyMissed++
					m.Emergency.MissedDeadline++
					if len(m.Emergency.MissedNumbers) < maxMetricsNumbers {
						m.Emergency.MissedNumbers = append(m.Emergency.MissedNumbers, r.number)
					}
				}
			}
		}
		if r.submitted.Valid {
			if mm := month(r.submitted.Time); mm != nil {
				mm.Submitted++
				m.RIK.Submitted++
				if r.rik {
					mm.RIK++
					m.RIK.RIK++
				}
			}
		}
		if r.closed.Valid && r.stage == StageClosed {
			if mm := month(r.closed.Time); mm != nil {
				mm.Closed++
				if r.submitted.Valid {
					d := days(r.closed.Time.Sub(r.submitted.Time))
					cycleAll = append(cycleAll, d)
					cycleBy[mm.Month] = append(cycleBy[mm.Month], d)
				}
			}
		}
		if r.duration.IsTemporary() && r.exp.Valid && !r.rev.Valid && r.stage.IsOpen() && r.stage != StageDraft &&
			dateOnly(r.exp.Time).Before(today) {
			m.Temporary.PastExpiry++
			if len(m.Temporary.PastExpiryNumbers) < maxMetricsNumbers {
				m.Temporary.PastExpiryNumbers = append(m.Temporary.PastExpiryNumbers, r.number)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	m.Emergency.SharePercent = percent(m.Emergency.Opened, m.Emergency.OfAll)
	m.RIK.SharePercent = percent(m.RIK.RIK, m.RIK.Submitted)
	m.Cycle = cycleOf("", "Submit to close", cycleAll, cycleBy, m.Months)
	for i := range m.Months {
		c := cycleOf("", "", cycleBy[m.Months[i].Month], nil, nil)
		m.Months[i].CycleCount, m.Months[i].CycleMedianDays, m.Months[i].CycleP90Days = c.Count, c.MedianDays, c.P90Days
	}

	if err := s.metricsStages(ctx, m, scope, args, end, month, changes); err != nil {
		return nil, err
	}
	if err := s.metricsOverdue(ctx, m, scope, args, start, end, now); err != nil {
		return nil, err
	}
	if err := s.metricsActions(ctx, m, scope, args, month); err != nil {
		return nil, err
	}
	return m, nil
}

// metricsChange is one change as the metrics read it.
type metricsChange struct {
	id                                              int64
	number                                          string
	duration                                        Duration
	stage                                           Stage
	created                                         time.Time
	submitted, approved, closed, deadline, exp, rev sql.NullTime
	rik                                             bool
}

// metricsStages measures each stage visit that ended in the period from
// the audit trail's stage moves: entered at one move, left at the next
// (a draft is entered when the change is created). Only changes in
// scope are read, and only their moves before the period's end.
func (s *Service) metricsStages(ctx context.Context, m *Metrics, scope string, args []any, end time.Time,
	month func(time.Time) *MonthMetrics, changes map[int64]*metricsChange) error {
	args = append(slices.Clone(args), end)
	rows, err := s.DB.SQL.QueryContext(ctx, fmt.Sprintf(`SELECT a.change_id, a.at, a.old_value, a.new_value FROM change_audit a
		WHERE a.action = 'stage' AND a.field = 'stage' AND a.at < $%d AND a.change_id IN (SELECT c.id FROM changes c WHERE %s)
		ORDER BY a.change_id, a.seq`, len(args), scope), args...)
	if err != nil {
		return fmt.Errorf("metrics: stage moves: %w", err)
	}
	defer rows.Close()
	all := map[Stage][]float64{}
	by := map[Stage]map[string][]float64{}
	var cur int64
	var entered time.Time
	var in Stage
	for rows.Next() {
		var id int64
		var at time.Time
		var from, to Stage
		if err := rows.Scan(&id, &at, &from, &to); err != nil {
			return err
		}
		if id != cur {
			cur, in = id, ""
			if c := changes[id]; c != nil && from == StageDraft {
				in, entered = StageDraft, c.created
			}
		}
		if in != "" && in == from {
			if mm := month(at); mm != nil && slices.Contains(metricStages, in) {
				d := days(at.Sub(entered))
				all[in] = append(all[in], d)
				if by[in] == nil {
					by[in] = map[string][]float64{}
				}
				by[in][mm.Month] = append(by[in][mm.Month], d)
			}
		}
		in, entered = to, at
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, st := range metricStages {
		m.Stages = append(m.Stages, cycleOf(st, st.Label(), all[st], by[st], m.Months))
	}
	return nil
}

// metricsOverdue counts, per reviewer and approver, what waits for them
// now past the reminder setting (reviews of changes in review,
// approvals of the current stage of changes in approval) and what they
// decided in the period, and how much of it late.
func (s *Service) metricsOverdue(ctx context.Context, m *Metrics, scope string, args []any, start, end, now time.Time) error {
	rs, err := s.ReminderSettings(ctx)
	if err != nil {
		return err
	}
	m.OverdueAfterDays = rs.PendingAfterDays
	args = append(slices.Clone(args), start, end)
	ps, pe := fmt.Sprintf("$%d", len(args)-1), fmt.Sprintf("$%d", len(args))
	q := fmt.Sprintf(`SELECT 'review', r.reviewer_id, u.name, r.requested_at, r.decided_at
		FROM change_reviews r JOIN changes c ON c.id = r.change_id JOIN users u ON u.id = r.reviewer_id
		WHERE %[1]s AND r.requested_at IS NOT NULL AND r.decision <> 'withdrawn'
		AND ((r.decided_at IS NULL AND c.stage = 'review' AND r.round = c.round) OR (r.decided_at >= %[2]s AND r.decided_at < %[3]s))
		UNION ALL
		SELECT 'approval', a.approver_id, u.name, a.requested_at, a.decided_at
		FROM change_approvals a JOIN changes c ON c.id = a.change_id JOIN users u ON u.id = a.approver_id
		WHERE %[1]s AND a.requested_at IS NOT NULL
		AND ((a.decided_at IS NULL AND c.stage = 'approval' AND a.round = c.round) OR (a.decided_at >= %[2]s AND a.decided_at < %[3]s))`,
		scope, ps, pe)
	// The scope's placeholders appear twice: both halves share the arguments.
	rows, err := s.DB.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("metrics: overdue: %w", err)
	}
	defer rows.Close()
	people := map[int64]*PersonOverdue{}
	for rows.Next() {
		var kind, name string
		var uid int64
		var req time.Time
		var dec sql.NullTime
		if err := rows.Scan(&kind, &uid, &name, &req, &dec); err != nil {
			return err
		}
		p := people[uid]
		if p == nil {
			p = &PersonOverdue{UserID: uid, Name: name}
			people[uid] = p
		}
		if dec.Valid {
			p.Decided++
			if rs.WaitedTooLong(daysBetween(req, dec.Time)) {
				p.DecidedLate++
			}
			continue
		}
		if rs.WaitedTooLong(daysBetween(req, now)) {
			if kind == "review" {
				p.ReviewsOverdue++
			} else {
				p.ApprovalsOverdue++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, p := range people {
		if p.ReviewsOverdue+p.ApprovalsOverdue+p.DecidedLate > 0 {
			m.Overdue = append(m.Overdue, *p)
		}
	}
	// Most overdue first, then by name.
	slices.SortFunc(m.Overdue, func(a, b PersonOverdue) int {
		if d := (b.ReviewsOverdue + b.ApprovalsOverdue) - (a.ReviewsOverdue + a.ApprovalsOverdue); d != 0 {
			return d
		}
		if d := b.DecidedLate - a.DecidedLate; d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	return nil
}

// metricsActions counts PSSR deficiencies raised and closed per month and
// open now, and the extensions decided per month.
func (s *Service) metricsActions(ctx context.Context, m *Metrics, scope string, args []any, month func(time.Time) *MonthMetrics) error {
	rows, err := s.DB.SQL.QueryContext(ctx, `SELECT a.created_at, a.status, a.completed_at, a.verified_at FROM change_actions a
		JOIN changes c ON c.id = a.change_id WHERE a.kind = 'deficiency' AND `+scope, args...)
	if err != nil {
		return fmt.Errorf("metrics: deficiencies: %w", err)
	}
	for rows.Next() {
		var created time.Time
		var status string
		// Read apart: SQLite gives a COALESCE of two times as text.
		var closed, verified sql.NullTime
		if err := rows.Scan(&created, &status, &closed, &verified); err != nil {
			rows.Close()
			return err
		}
		if verified.Valid {
			// One that needed verification is closed when verified.
			closed = verified
		}
		if mm := month(created); mm != nil {
			mm.DeficienciesOpened++
			m.Deficiencies.Opened++
		}
		if status != ActionDone {
			m.Deficiencies.OpenNow++
		} else if closed.Valid {
			if mm := month(closed.Time); mm != nil {
				mm.DeficienciesClosed++
				m.Deficiencies.Closed++
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.DB.SQL.QueryContext(ctx, `SELECT e.change_id, e.decision, e.decided_at FROM change_extensions e
		JOIN changes c ON c.id = e.change_id WHERE e.decided_at IS NOT NULL AND `+scope, args...)
	if err != nil {
		return fmt.Errorf("metrics: extensions: %w", err)
	}
	defer rows.Close()
	extended := map[int64]bool{}
	for rows.Next() {
		var id int64
		var decision Decision
		var at time.Time
		if err := rows.Scan(&id, &decision, &at); err != nil {
			return err
		}
		mm := month(at)
		if mm == nil {
			continue
		}
		switch decision {
		case DecisionApproved:
			mm.ExtensionsApproved++
			m.Temporary.ExtensionsApproved++
			extended[id] = true
		case DecisionRejected:
			m.Temporary.ExtensionsRejected++
		}
	}
	m.Temporary.ChangesExtended = len(extended)
	return rows.Err()
}

// days is d in days.
func days(d time.Duration) float64 { return d.Hours() / 24 }

// percent is part of all in per cent, one decimal; 0 of nothing is 0.
func percent(part, all int) float64 {
	if all == 0 {
		return 0
	}
	return round1(100 * float64(part) / float64(all))
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// Percentile is the p-th percentile (0-100) of values by linear
// interpolation between the closest ranks (as a spreadsheet's
// PERCENTILE.INC): the median of 1, 2, 3, 4 is 2.5, the 90th percentile
// of 1..10 is 9.1. It is 0 for no values.
func Percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return 0
	}
	v := slices.Clone(values)
	sort.Float64s(v)
	rank := p / 100 * float64(len(v)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return v[lo] + (v[hi]-v[lo])*(rank-float64(lo))
}

// cycleOf summarises durations (days): all of the period, and per month
// in the order of months.
func cycleOf(stage Stage, label string, all []float64, by map[string][]float64, months []MonthMetrics) StageCycle {
	c := StageCycle{Stage: stage, Label: label, Count: len(all), MedianDays: round1(Percentile(all, 50)), P90Days: round1(Percentile(all, 90)),
		Months: []CycleMonth{}}
	for _, mm := range months {
		v := by[mm.Month]
		c.Months = append(c.Months, CycleMonth{Month: mm.Month, Count: len(v), MedianDays: round1(Percentile(v, 50)), P90Days: round1(Percentile(v, 90))})
	}
	return c
}

// WriteMetricsCSV writes m as one long table: metric, group (a stage or
// a person), month (YYYY-MM; empty for the whole period or "now") and
// value, so that a spreadsheet can pivot it any way.
func WriteMetricsCSV(w io.Writer, m *Metrics) error {
	cw := csv.NewWriter(w)
	put := func(metric, group, month string, v any) {
		_ = cw.Write([]string{metric, csvSafe(group), month, fmt.Sprint(v)})
	}
	_ = cw.Write([]string{"metric", "group", "month", "value"})
	for _, mm := range m.Months {
		put("opened", "", mm.Month, mm.Opened)
		put("closed", "", mm.Month, mm.Closed)
		put("emergency_opened", "", mm.Month, mm.Emergency)
		put("emergency_missed_deadline", "", mm.Month, mm.EmergencyMissed)
		put("submitted", "", mm.Month, mm.Submitted)
		put("replacement_in_kind", "", mm.Month, mm.RIK)
		put("pssr_deficiencies_opened", "", mm.Month, mm.DeficienciesOpened)
		put("pssr_deficiencies_closed", "", mm.Month, mm.DeficienciesClosed)
		put("extensions_approved", "", mm.Month, mm.ExtensionsApproved)
		put("cycle_count", "", mm.Month, mm.CycleCount)
		put("cycle_median_days", "", mm.Month, mm.CycleMedianDays)
		put("cycle_p90_days", "", mm.Month, mm.CycleP90Days)
	}
	put("cycle_count", "", "", m.Cycle.Count)
	put("cycle_median_days", "", "", m.Cycle.MedianDays)
	put("cycle_p90_days", "", "", m.Cycle.P90Days)
	for _, st := range m.Stages {
		put("stage_count", string(st.Stage), "", st.Count)
		put("stage_median_days", string(st.Stage), "", st.MedianDays)
		put("stage_p90_days", string(st.Stage), "", st.P90Days)
		for _, cm := range st.Months {
			if cm.Count > 0 {
				put("stage_count", string(st.Stage), cm.Month, cm.Count)
				put("stage_median_days", string(st.Stage), cm.Month, cm.MedianDays)
				put("stage_p90_days", string(st.Stage), cm.Month, cm.P90Days)
			}
		}
	}
	for _, p := range m.Overdue {
		put("reviews_overdue_now", p.Name, "", p.ReviewsOverdue)
		put("approvals_overdue_now", p.Name, "", p.ApprovalsOverdue)
		put("decided", p.Name, "", p.Decided)
		put("decided_late", p.Name, "", p.DecidedLate)
	}
	put("temporary_past_expiry_now", "", "", m.Temporary.PastExpiry)
	put("extensions_approved", "", "", m.Temporary.ExtensionsApproved)
	put("extensions_rejected", "", "", m.Temporary.ExtensionsRejected)
	put("changes_extended", "", "", m.Temporary.ChangesExtended)
	put("emergency_share_percent", "", "", m.Emergency.SharePercent)
	put("emergency_missed_deadline", "", "", m.Emergency.MissedDeadline)
	put("pssr_deficiencies_open_now", "", "", m.Deficiencies.OpenNow)
	put("replacement_in_kind_share_percent", "", "", m.RIK.SharePercent)
	cw.Flush()
	return cw.Error()
}
