package change_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func at(month time.Month, d int) time.Time { return time.Date(2026, month, d, 9, 0, 0, 0, time.UTC) }

// runThrough files a change at created and moves it through every stage
// to closed, spending days[i] in draft, screening, review, approval,
// implementation and close-out.
func runThrough(t *testing.T, f *changetest.Fixture, created time.Time, days [6]int) *change.Change {
	t.Helper()
	ctx := context.Background()
	s := f.Service
	clock := created
	f.Clock.Set(clock)
	next := func(i int) { clock = clock.AddDate(0, 0, days[i]); f.Clock.Set(clock) }
	c := must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101A")))(t)
	next(0)
	must(s.Submit(ctx, f.Initiator, c.ID, change.Screening{Disciplines: []string{"mechanical"}}))(t)
	ok(t, s.AssignReviewer(ctx, f.Coordinator, c.ID, "mechanical", f.Reviewer.ID))
	ok(t, s.SetApprovers(ctx, f.Coordinator, c.ID, [][]int64{{f.Approver.ID}}))
	next(1)
	f.ConfirmScreening(t, c.ID)
	must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
	next(2)
	ok(t, s.DecideReview(ctx, f.Reviewer, c.ID, "", change.DecisionReviewed, ""))
	next(3)
	must(s.Decide(ctx, f.Approver, c.ID, change.DecisionApproved, "", verified))(t)
	next(4)
	must(s.Transition(ctx, f.Initiator, c.ID, change.TransitionRequest{Action: change.ActCompleteImplementation}))(t)
	next(5)
	c = must(s.Transition(ctx, f.Coordinator, c.ID, change.TransitionRequest{Action: change.ActClose, Signature: verified}))(t)
	if c.Stage != change.StageClosed {
		t.Fatalf("%s ended in %s", c.Number, c.Stage)
	}
	return c
}

func stageCycle(t *testing.T, m *change.Metrics, st change.Stage) change.StageCycle {
	t.Helper()
	for _, c := range m.Stages {
		if c.Stage == st {
			return c
		}
	}
	t.Fatalf("no cycle time for %s", st)
	return change.StageCycle{}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.05 }

// The metrics of known changes: opened and closed per month, cycle time
// per stage and submit to close (median, 90th percentile, per month),
// overdue and late reviews per reviewer, temporary changes past expiry
// and extensions, emergency share and missed deadlines, PSSR
// deficiencies, replacement-in-kind share; the site filter leaves the
// other site's changes out.
func TestMetricsOfKnownChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, at(1, 1))
		s := f.Service
		// Three changes closed: review took 4, 2 and 6 days; submit to
		// close 18, 8 and 18 days.
		a := runThrough(t, f, at(1, 5), [6]int{1, 2, 4, 1, 7, 4})
		runThrough(t, f, at(2, 2), [6]int{1, 1, 2, 1, 3, 1})
		runThrough(t, f, at(2, 9), [6]int{2, 3, 6, 2, 5, 2}) // closed 1 March
		// An emergency change whose review deadline (4 March) passed.
		f.Clock.Set(at(3, 2))
		em := changetest.Complete(change.KindMOC, f.NRF, f.CDU, "E-104")
		dur, exp, deadline := change.DurationEmergency, at(4, 30), time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
		expP, deadlineP := &exp, &deadline
		em.Duration, em.ExpiresOn, em.ReviewDeadline = &dur, &expP, &deadlineP
		d := must(s.Create(ctx, f.Initiator, em))(t)
		must(s.Submit(ctx, f.Initiator, d.ID, change.Screening{Disciplines: []string{"mechanical"}}))(t)
		// A replacement in kind.
		f.Clock.Set(at(3, 3))
		e := must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-205B")))(t)
		must(s.Submit(ctx, f.Initiator, e.ID, change.Screening{ReplacementInKind: true}))(t)
		// A temporary change in review since 10 March, its review waiting.
		f.Clock.Set(at(3, 9))
		g := must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "TK-301")))(t)
		must(s.Submit(ctx, f.Initiator, g.ID, change.Screening{Disciplines: []string{"mechanical"}}))(t)
		ok(t, s.AssignReviewer(ctx, f.Coordinator, g.ID, "mechanical", f.Reviewer.ID))
		ok(t, s.SetApprovers(ctx, f.Coordinator, g.ID, [][]int64{{f.Approver.ID}}))
		f.Clock.Set(at(3, 10))
		f.ConfirmScreening(t, g.ID)
		must(s.Transition(ctx, f.Coordinator, g.ID, change.TransitionRequest{Action: change.ActStartReview}))(t)
		// Facts the workflow would take many steps to reach: G is
		// temporary and past its expiry, with an extension approved and
		// one rejected; A had a PSSR deficiency closed in February and one
		// still open.
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE changes SET duration = 'temporary', expires_on = $1 WHERE id = $2`, []any{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), g.ID}},
			{`INSERT INTO change_extensions (change_id, old_expires_on, new_expires_on, reason, requested_by, requested_at, decision, decided_by, decided_at, signed_name, signature_method)
				VALUES ($1, $2, $2, 'parts late', $3, $2, 'approved', $4, $2, 'Arno', 'password')`, []any{g.ID, at(3, 11), f.Initiator.ID, f.Approver.ID}},
			{`INSERT INTO change_extensions (change_id, old_expires_on, new_expires_on, reason, requested_by, requested_at, decision, decided_by, decided_at, signed_name, signature_method)
				VALUES ($1, $2, $2, 'again', $3, $2, 'rejected', $4, $2, 'Arno', 'password')`, []any{g.ID, at(3, 12), f.Initiator.ID, f.Approver.ID}},
			{`INSERT INTO change_actions (change_id, title, kind, owner_id, due_on, before_startup, status, created_at, completed_by, completed_at)
				VALUES ($1, 'PSSR deficiency (item 1): guard missing', 'deficiency', $2, $3, TRUE, 'done', $3, $2, $4)`, []any{a.ID, f.Reviewer.ID, at(1, 20), at(2, 3)}},
			{`INSERT INTO change_actions (change_id, title, kind, owner_id, due_on, before_startup, status, created_at)
				VALUES ($1, 'PSSR deficiency (item 2): label', 'deficiency', $2, $3, TRUE, 'open', $3)`, []any{a.ID, f.Reviewer.ID, at(1, 21)}},
		} {
			if _, err := db.SQL.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		// A change at the other site, filed in February.
		f.Clock.Set(at(2, 10))
		must(s.Create(ctx, f.Outsider, changetest.Complete(change.KindMOC, f.SCP, 0)))(t)

		f.Clock.Set(at(3, 20))
		filter := change.MetricsFilter{SiteID: f.NRF, From: at(1, 1), To: at(3, 1)}
		m := must(s.Metrics(ctx, f.Coordinator, filter))(t)
		if m.From != "2026-01" || m.To != "2026-03" || len(m.Months) != 3 {
			t.Fatalf("period %s..%s, %d months", m.From, m.To, len(m.Months))
		}
		type oc struct{ opened, closed int }
		var got []oc
		for _, mm := range m.Months {
			got = append(got, oc{mm.Opened, mm.Closed})
		}
		if want := []oc{{1, 1}, {2, 1}, {3, 1}}; !slices.Equal(got, want) {
			t.Errorf("opened/closed per month = %v, want %v", got, want)
		}
		rv := stageCycle(t, m, change.StageReview)
		if rv.Count != 3 || !near(rv.MedianDays, 4) || !near(rv.P90Days, 5.6) {
			t.Errorf("review: %d visits, median %.1f, p90 %.1f; want 3, 4, 5.6", rv.Count, rv.MedianDays, rv.P90Days)
		}
		// By the month each review ended: A's in January, B's and C's in February.
		if rv.Months[0].Count != 1 || !near(rv.Months[0].MedianDays, 4) || rv.Months[1].Count != 2 || !near(rv.Months[1].MedianDays, 4) ||
			!near(rv.Months[1].P90Days, 5.6) || rv.Months[2].Count != 0 {
			t.Errorf("review trend = %+v, want 4 (Jan), 2 and 6 (Feb), none (Mar)", rv.Months)
		}
		if dr := stageCycle(t, m, change.StageDraft); dr.Count != 6 || !near(dr.MedianDays, 0.5) {
			// Drafts left: the three closed (1, 1, 2 days) and D, E, G (0 days each).
			t.Errorf("draft: %d visits, median %.1f", dr.Count, dr.MedianDays)
		}
		if im := stageCycle(t, m, change.StageImplementation); im.Count != 3 || !near(im.MedianDays, 5) || !near(im.P90Days, 6.6) {
			t.Errorf("implementation: %d, median %.1f, p90 %.1f; want 3, 5, 6.6", im.Count, im.MedianDays, im.P90Days)
		}
		if m.Cycle.Count != 3 || !near(m.Cycle.MedianDays, 18) || !near(m.Cycle.P90Days, 18) || !near(m.Months[1].CycleMedianDays, 8) {
			t.Errorf("submit to close: %+v (February median %.1f)", m.Cycle, m.Months[1].CycleMedianDays)
		}
		// Rita: G's review waits 10 days; she took 4 and 6 days (> 3) on two of three.
		if len(m.Overdue) != 1 || m.Overdue[0].UserID != f.Reviewer.ID || m.Overdue[0].ReviewsOverdue != 1 ||
			m.Overdue[0].Decided != 3 || m.Overdue[0].DecidedLate != 2 || m.OverdueAfterDays != 3 {
			t.Errorf("overdue = %+v (after %d days)", m.Overdue, m.OverdueAfterDays)
		}
		if tm := m.Temporary; tm.PastExpiry != 1 || !slices.Equal(tm.PastExpiryNumbers, []string{g.Number}) || tm.ExtensionsApproved != 1 ||
			tm.ExtensionsRejected != 1 || tm.ChangesExtended != 1 || m.Months[2].ExtensionsApproved != 1 {
			t.Errorf("temporary = %+v", tm)
		}
		if em := m.Emergency; em.Opened != 1 || em.OfAll != 6 || !near(em.SharePercent, 16.7) || em.MissedDeadline != 1 ||
			!slices.Equal(em.MissedNumbers, []string{d.Number}) || m.Months[2].EmergencyMissed != 1 {
			t.Errorf("emergency = %+v", em)
		}
		if df := m.Deficiencies; df.Opened != 2 || df.Closed != 1 || df.OpenNow != 1 || m.Months[0].DeficienciesOpened != 2 || m.Months[1].DeficienciesClosed != 1 {
			t.Errorf("deficiencies = %+v", df)
		}
		if rk := m.RIK; rk.Submitted != 6 || rk.RIK != 1 || !near(rk.SharePercent, 16.7) {
			t.Errorf("replacement in kind = %+v", rk)
		}
		// Every site: the other site's draft counts among February's.
		all := must(s.Metrics(ctx, f.Coordinator, change.MetricsFilter{From: at(1, 1), To: at(3, 1)}))(t)
		if all.Months[1].Opened != 3 {
			t.Errorf("all sites, February opened = %d, want 3", all.Months[1].Opened)
		}
		// The other site's user sees none of NRF's.
		other := must(s.Metrics(ctx, f.Outsider, change.MetricsFilter{From: at(1, 1), To: at(3, 1)}))(t)
		if other.Months[0].Opened != 0 || other.Months[1].Opened != 1 {
			t.Errorf("SCP user sees %+v", other.Months)
		}
	})
}

// The period is bounded and the filter must be the user's: a refusal
// names the field.
func TestMetricsRefuseUnboundedOrForeignFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, at(3, 1))
		s := f.Service
		for _, tc := range []struct {
			name  string
			f     change.MetricsFilter
			field string
		}{
			{"more than 120 months", change.MetricsFilter{From: time.Date(2016, 2, 1, 0, 0, 0, 0, time.UTC), To: at(3, 1)}, "from"},
			{"ends before it starts", change.MetricsFilter{From: at(3, 1), To: at(1, 1)}, "to"},
			{"another site", change.MetricsFilter{SiteID: f.SCP, From: at(1, 1), To: at(3, 1)}, "site_id"},
			{"a unit of another site", change.MetricsFilter{SiteID: f.SCP, UnitID: f.CDU, From: at(1, 1), To: at(3, 1)}, "site_id"},
			{"no such unit", change.MetricsFilter{UnitID: 99999, From: at(1, 1), To: at(3, 1)}, "unit_id"},
		} {
			_, err := s.Metrics(ctx, f.Initiator, tc.f)
			if pe := problem.As(err); pe == nil || pe.Kind != problem.Invalid || pe.Field != tc.field {
				t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
			}
		}
		// Exactly 120 months is allowed.
		must(s.Metrics(ctx, f.Initiator, change.MetricsFilter{From: time.Date(2016, 4, 1, 0, 0, 0, 0, time.UTC), To: at(3, 1)}))(t)
	})
}

// The percentiles interpolate between ranks, as spreadsheets do.
func TestPercentileInterpolatesBetweenRanks(t *testing.T) {
	ten := []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	for _, tc := range []struct {
		v    []float64
		p    float64
		want float64
	}{
		{ten, 50, 5.5}, {ten, 90, 9.1}, {[]float64{1, 2, 3, 4}, 50, 2.5}, {[]float64{7}, 90, 7}, {nil, 50, 0},
	} {
		if got := change.Percentile(tc.v, tc.p); !near(got, tc.want) {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.v, tc.p, got, tc.want)
		}
	}
}

// The months of one site's metrics are that site's calendar months: a
// change filed at 23:30 UTC on 31 March is filed on 1 April in Berlin;
// across sites (zones may differ) months are UTC, and the answer says so.
func TestMetricsMonthsAreTheSitesCalendarMonths(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		zone := "Europe/Berlin"
		must(s.UpdateSiteSettings(ctx, f.Admin, f.NRF, change.SiteSettingsUpdate{TimeZone: &zone}))(t)
		f.Clock.Set(time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC))
		must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-1")))(t)
		f.Clock.Set(time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC))
		period := change.MetricsFilter{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
		opened := func(m *change.Metrics) map[string]int {
			out := map[string]int{}
			for _, mm := range m.Months {
				out[mm.Month] = mm.Opened
			}
			return out
		}
		site := period
		site.SiteID = f.NRF
		m := must(s.Metrics(ctx, f.Coordinator, site))(t)
		if got := opened(m); got["2026-03"] != 0 || got["2026-04"] != 1 || m.TimeZone != zone {
			t.Errorf("NRF's months in %s: opened %v, want the change in April", m.TimeZone, got)
		}
		all := must(s.Metrics(ctx, f.Coordinator, period))(t)
		if got := opened(all); got["2026-03"] != 1 || got["2026-04"] != 0 || all.TimeZone != "UTC" {
			t.Errorf("every site's months in %s: opened %v, want the change in March (UTC)", all.TimeZone, got)
		}
		// A one-site user reads their site's months without choosing it.
		if m := must(s.Metrics(ctx, f.Initiator, period))(t); opened(m)["2026-04"] != 1 || m.TimeZone != zone {
			t.Errorf("a one-site user's months in %s: %v", m.TimeZone, opened(m))
		}
	})
}
