package change_test

import (
	"context"
	"database/sql"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/demo"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The demo's year of history gives the metrics page something in every
// month: changes opened and closed, every stage timed, reviews quicker
// at the end of the year than at the start, overdue reviews and an
// approval, emergency changes that missed their deadline, extensions,
// PSSR deficiencies; and its audit trail verifies, with nothing dated
// in the future.
func TestDemoHistoryFillsTheMetrics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := demo.Seed(ctx, db, change.SeedDemo); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		cora := must(auth.UserByEmail(ctx, db.SQL, "cora@demo.mocpcr.local"))(t)
		svc := &change.Service{DB: db, Now: func() time.Time { return now }}
		from, to := change.DefaultMetricsPeriod(now)
		m := must(svc.Metrics(ctx, cora, change.MetricsFilter{From: from, To: to}))(t)
		opened, closed := 0, 0
		for _, mm := range m.Months {
			if mm.Opened > 0 {
				opened++
			}
			if mm.Closed > 0 {
				closed++
			}
		}
		if opened < 11 || closed < 9 {
			t.Errorf("months with changes opened %d, closed %d of 12", opened, closed)
		}
		for _, st := range m.Stages {
			if st.Count == 0 {
				t.Errorf("no stay timed in %s", st.Label)
			}
		}
		if m.Cycle.Count < 30 {
			t.Errorf("only %d changes closed in the year", m.Cycle.Count)
		}
		first, last := m.Months[1].CycleMedianDays, m.Months[9].CycleMedianDays
		if first == 0 || last == 0 || last >= first {
			t.Errorf("submit-to-close median %.1f days early in the year, %.1f late: no trend", first, last)
		}
		if len(m.Overdue) < 2 || m.Emergency.MissedDeadline == 0 || m.Temporary.ExtensionsApproved == 0 || m.Deficiencies.Closed == 0 || m.RIK.RIK == 0 {
			t.Errorf("metrics lack overdue %v, missed %d, extensions %d, deficiencies %d, RIK %d", m.Overdue, m.Emergency.MissedDeadline,
				m.Temporary.ExtensionsApproved, m.Deficiencies.Closed, m.RIK.RIK)
		}
		if rep := must(change.VerifyAudit(ctx, db.SQL))(t); !rep.OK() {
			t.Errorf("demo audit trail broken: %v", rep.Broken)
		}
		var future int
		if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM change_audit WHERE at > $1`, now.Add(time.Minute)).Scan(&future); err != nil || future != 0 {
			t.Errorf("%d audit entries in the future (%v)", future, err)
		}
	})
}

// The dashboard's numbers, counted by the database, are the ones a
// reading of every change gives: on the demo's year of history, for a
// user of every site and for a one-site user.
func TestDashboardCountsMatchEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := demo.Seed(ctx, db, change.SeedDemo); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		svc := &change.Service{DB: db, Now: func() time.Time { return now }}
		today := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
		type want struct {
			open                             map[change.Stage]int
			pssr, expired, near, closed, due int
			overdue                          []string
			cycle                            time.Duration
		}
		wants := map[int64]*want{}
		rows, err := db.SQL.QueryContext(ctx, `SELECT site_id, number, stage, duration, expires_on, reverted_at, submitted_at, closed_at, review_deadline
			FROM changes ORDER BY number`)
		ok(t, err)
		for rows.Next() {
			var site int64
			var number string
			var stage change.Stage
			var dur change.Duration
			var exp, rev, sub, closed, deadline sql.NullTime
			ok(t, rows.Scan(&site, &number, &stage, &dur, &exp, &rev, &sub, &closed, &deadline))
			w := wants[site]
			if w == nil {
				w = &want{open: map[change.Stage]int{}, overdue: []string{}}
				wants[site] = w
			}
			if stage.IsOpen() {
				w.open[stage]++
			}
			if stage == change.StagePSSR {
				w.pssr++
			}
			c := change.Change{Duration: dur, Stage: stage}
			if deadline.Valid {
				c.ReviewDeadline = &deadline.Time
			}
			if c.EmergencyReviewOverdue(today) {
				w.overdue = append(w.overdue, number)
			}
			if dur.IsTemporary() && exp.Valid && !rev.Valid && stage.IsOpen() && stage != change.StageDraft {
				e := exp.Time.UTC()
				switch days := int(time.Date(e.Year(), e.Month(), e.Day(), 0, 0, 0, 0, time.UTC).Sub(today).Hours() / 24); {
				case days < 0:
					w.expired++
				case days <= 14:
					w.near++
				}
			}
			if stage == change.StageClosed && sub.Valid && closed.Valid {
				w.cycle += closed.Time.Sub(sub.Time)
				w.closed++
			}
		}
		ok(t, rows.Err())
		rows.Close()
		arows, err := db.SQL.QueryContext(ctx, `SELECT c.site_id, a.due_on FROM change_actions a JOIN changes c ON c.id = a.change_id
			WHERE a.status = 'open' AND a.due_on IS NOT NULL AND c.stage NOT IN ('closed', 'voided')`)
		ok(t, err)
		for arows.Next() {
			var site int64
			var due time.Time
			ok(t, arows.Scan(&site, &due))
			if due.UTC().Before(today) && wants[site] != nil {
				wants[site].due++
			}
		}
		arows.Close()

		cora := must(auth.UserByEmail(ctx, db.SQL, "cora@demo.mocpcr.local"))(t)
		admin := &auth.User{ID: -1, AllSites: true}
		for _, who := range []*auth.User{cora, admin} {
			dash := must(svc.Dashboard(ctx, who))(t)
			if len(dash) == 0 {
				t.Fatalf("no dashboard for %v", who.SiteIDs)
			}
			for _, d := range dash {
				w := wants[d.SiteID]
				if w == nil {
					w = &want{open: map[change.Stage]int{}, overdue: []string{}}
				}
				avg := 0.0
				if w.closed > 0 {
					avg = float64(int(w.cycle.Hours()/24/float64(w.closed)*10)) / 10
				}
				if !maps.Equal(d.OpenByStage, w.open) || d.PendingPSSRs != w.pssr || d.TemporaryExpired != w.expired || d.TemporaryNearExpiry != w.near ||
					d.ClosedCount != w.closed || d.OverdueActions != w.due || !slices.Equal(d.EmergencyReviewOverdue, w.overdue) || math.Abs(d.AverageCycleDays-avg) > 0.1 {
					t.Errorf("site %s: dashboard %+v, every change gives %+v (average %.1f)", d.SiteCode, d, *w, avg)
				}
			}
			if who == cora && len(dash) != len(cora.SiteIDs) && !cora.AllSites {
				t.Errorf("cora sees %d sites, works on %d", len(dash), len(cora.SiteIDs))
			}
		}
		if total := func() int {
			n := 0
			for _, w := range wants {
				n += w.closed + len(w.overdue) + w.expired + w.due
			}
			return n
		}(); total == 0 {
			t.Fatal("the demo history has nothing closed, overdue or expired: the comparison proves nothing")
		}
	})
}
