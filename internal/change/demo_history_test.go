package change_test

import (
	"context"
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
