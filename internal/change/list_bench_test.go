package change_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// benchChanges is the list benchmarks' table size: twice CountCap, so a
// count is cut off, and page 600 is deep in it.
const benchChanges = 20000

// loadChanges files n changes straight into the table (the service's
// Create would take minutes), with titles, stages, units and times
// spread out like a real plant's.
func loadChanges(b testing.TB, f *changetest.Fixture, n int) {
	b.Helper()
	ctx := context.Background()
	stages := change.Stages
	owners := []int64{f.Initiator.ID, f.Reviewer.ID, f.Coordinator.ID, f.Approver.ID}
	err := f.DB.Tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO changes (number, kind, duration, stage, title, site_id, unit_id, initiator_id,
			expires_on, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range n {
			at := start.Add(time.Duration(i) * time.Minute)
			site, unit := any(f.NRF), any(f.CDU)
			if i%3 == 0 {
				site, unit = f.SCP, nil
			}
			var expires any
			if i%5 == 0 {
				expires = at.AddDate(0, 0, 30+i%90)
			}
			if _, err := st.ExecContext(ctx, fmt.Sprintf("MOC-%d-%05d", 2026+i/90000, i%90000), []string{"MOC", "PCR"}[i%2],
				[]string{"permanent", "temporary"}[min(i%5, 1)], string(stages[i%len(stages)]), fmt.Sprintf("Change %07d", (i*7919)%n),
				site, unit, owners[i%len(owners)], expires, at, at.Add(time.Duration(i%97)*time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// The change list's cost by depth: page 1, and page 600 reached by
// offset (how the list paged before cursors) and by cursor. Each page is
// one /changes page's query work: 25 rows and the count when the page
// counts.
func BenchmarkChangeListByDepth(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			f := changetest.Seed(b, db, start)
			loadChanges(b, f, benchChanges)
			ctx := context.Background()
			for _, sort := range []string{"", "title", "-updated"} {
				// The cursor of page 600, found once by walking.
				deep := change.Filter{Sort: sort, Limit: 25}
				for range 599 {
					p, err := f.Service.ListPage(ctx, f.Coordinator, deep)
					if err != nil {
						b.Fatal(err)
					}
					deep.After = p.Next
				}
				for _, c := range []struct {
					name   string
					filter change.Filter
				}{
					{"page=1", change.Filter{Sort: sort, Limit: 25}},
					{"page=600/offset", change.Filter{Sort: sort, Limit: 25, Offset: 599 * 25}},
					{"page=600/cursor", deep},
				} {
					b.Run(fmt.Sprintf("sort=%s/%s", sort, c.name), func(b *testing.B) {
						for b.Loop() {
							if _, err := f.Service.ListPage(ctx, f.Coordinator, c.filter); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		})
	}
}
