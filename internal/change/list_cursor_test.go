package change_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// seedVariedChanges files n changes whose sort values repeat (titles,
// kinds, stages, units, owners, times, expiry dates, some none), so every
// sort has ties the id must break.
func seedVariedChanges(t *testing.T, f *changetest.Fixture, n int) {
	t.Helper()
	ctx := context.Background()
	owners := []int64{f.Initiator.ID, f.Reviewer.ID, f.Coordinator.ID}
	stages := []change.Stage{change.StageDraft, change.StageReview, change.StageApproval, change.StageImplementation}
	for i := range n {
		file(t, f, i)
		id := lastChangeID(t, f.DB)
		unit := any(nil)
		switch i % 3 {
		case 1:
			unit = f.CDU
		case 2:
			unit = f.FCC
		}
		var expires any
		if i%4 != 0 {
			expires = start.AddDate(0, 0, i%3)
		}
		at := start.Add(time.Duration(i/2) * time.Hour) // pairs share a time
		if _, err := f.DB.SQL.ExecContext(ctx, `UPDATE changes SET title = $1, kind = $2, stage = $3, unit_id = $4, initiator_id = $5,
			expires_on = $6, created_at = $7, updated_at = $8 WHERE id = $9`,
			fmt.Sprintf("Change %c", 'A'+i%4), []string{"MOC", "PCR"}[i%2], string(stages[i%len(stages)]), unit,
			owners[i%len(owners)], expires, at, at.Add(time.Duration(i%3)*time.Minute), id); err != nil {
			t.Fatal(err)
		}
	}
}

// file creates one change as the initiator.
func file(t *testing.T, f *changetest.Fixture, i int) {
	t.Helper()
	fl := changetest.Complete(change.KindMOC, f.NRF, f.CDU)
	fl.Title = changetest.Str(fmt.Sprintf("Inserted %d", i))
	if _, err := f.Service.Create(context.Background(), f.Initiator, fl); err != nil {
		t.Fatal(err)
	}
}

func lastChangeID(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var id int64
	if err := db.SQL.QueryRow(`SELECT max(id) FROM changes`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func ids(cs []change.Change) []int64 {
	out := make([]int64, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// Paging by cursor returns every change exactly once and in the list's
// order, for every sort both ways, even while changes are filed between
// pages.
func TestListCursorVisitsEveryChangeOnceInOrderWhileChangesAreAdded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		seedVariedChanges(t, f, 17)
		sorts := []string{""}
		for _, k := range change.SortKeys {
			sorts = append(sorts, k, "-"+k)
		}
		added := 0
		for _, sort := range sorts {
			t.Run("sort="+sort, func(t *testing.T) {
				before, _, err := f.Service.List(ctx, f.Coordinator, change.Filter{Sort: sort, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				var seen []int64
				filter := change.Filter{Sort: sort, Limit: 6}
				for pages := 0; ; pages++ {
					if pages > len(before) {
						t.Fatal("the cursor never reached the end")
					}
					p, err := f.Service.ListPage(ctx, f.Coordinator, filter)
					if err != nil {
						t.Fatal(err)
					}
					seen = append(seen, ids(p.Changes)...)
					if p.Next == "" {
						break
					}
					file(t, f, 100+added) // a change filed between pages
					added++
					filter.After = p.Next
				}
				after, _, err := f.Service.List(ctx, f.Coordinator, change.Filter{Sort: sort, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				// Every change there before paging was seen; nothing twice;
				// and the pages follow the order of the list as it is now.
				for _, id := range ids(before) {
					if n := count(seen, id); n != 1 {
						t.Errorf("change %d seen %d times", id, n)
					}
				}
				var inOrder []int64
				for _, id := range ids(after) {
					if slices.Contains(seen, id) {
						inOrder = append(inOrder, id)
					}
				}
				if !slices.Equal(seen, inOrder) {
					t.Errorf("pages in order %v, the list has them as %v", seen, inOrder)
				}
			})
		}
	})
}

func count(s []int64, v int64) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// Only a page read without a cursor is counted, unless the caller asks;
// a cursor that is not the list's own, or one made for another sort, is
// refused naming the parameter.
func TestListCountsFirstPagesAndRefusesForeignCursors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		seedVariedChanges(t, f, 5)
		first, err := f.Service.ListPage(ctx, f.Coordinator, change.Filter{Sort: "title", Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if first.Total == nil || *first.Total != 5 || !first.TotalExact || first.Next == "" {
			t.Fatalf("first page: total %v exact %v next %q, want 5, exact, a cursor", first.Total, first.TotalExact, first.Next)
		}
		second, err := f.Service.ListPage(ctx, f.Coordinator, change.Filter{Sort: "title", Limit: 2, After: first.Next})
		if err != nil {
			t.Fatal(err)
		}
		if second.Total != nil {
			t.Errorf("a page by cursor was counted (%d) without being asked", *second.Total)
		}
		counted, err := f.Service.ListPage(ctx, f.Coordinator, change.Filter{Sort: "title", Limit: 2, After: first.Next, Count: true})
		if err != nil {
			t.Fatal(err)
		}
		if counted.Total == nil || *counted.Total != 5 {
			t.Errorf("asked to count: total %v, want 5", counted.Total)
		}
		for name, fl := range map[string]change.Filter{
			"garbage":        {After: "not-a-cursor"},
			"another sort":   {Sort: "-title", After: first.Next},
			"with an offset": {Sort: "title", After: first.Next, Offset: 2},
		} {
			_, err := f.Service.ListPage(ctx, f.Coordinator, fl)
			pe := problem.As(err)
			if pe == nil || pe.Kind != problem.Invalid || (pe.Field != "after" && pe.Field != "offset") {
				t.Errorf("%s: got %v, want an invalid after or offset", name, err)
			}
		}
	})
}

// The stage sort is served by an index on the very expression the list
// sorts by; a stage added to Stages without a new index would silently
// sort every matching change again.
func TestStageSortIndexMatchesTheStageOrder(t *testing.T) {
	b, err := os.ReadFile("../store/migrations/00190_list_sort_keys.sql")
	if err != nil {
		t.Fatal(err)
	}
	if want := change.StageOrderSQL("stage"); !strings.Contains(string(b), want) {
		t.Errorf("migration 00190 does not index the stage order the list sorts by:\n%s", want)
	}
}

// The site, unit and owner sorts read copies of the code and name kept
// in changes: a change filed before migration 00190 gets them, and a
// renamed owner, site or unit re-sorts at once.
func TestSortByOwnerSiteAndUnitFollowsMigrationAndRenames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2025, 11, 3, 14, 0, 0, 0, time.UTC)
		edb := storetest.OpenEmpty(t, db.Dialect)
		old := oldPlant(t, edb, 150, at) // filed by "Ines" at site OLD
		f := changetest.Seed(t, edb, start)
		file(t, f, 1) // filed by the fixture's initiator at NRF, unit CDU-1
		svc := f.Service
		first := func(sort string) int64 {
			t.Helper()
			p, err := svc.ListPage(ctx, f.Coordinator, change.Filter{Sort: sort, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Changes) != 1 {
				t.Fatalf("sort %s: %d changes", sort, len(p.Changes))
			}
			return p.Changes[0].ID
		}
		var ines, mine int64
		if err := edb.SQL.QueryRowContext(ctx, `SELECT initiator_id FROM changes WHERE id = $1`, old).Scan(&ines); err != nil {
			t.Fatal(err)
		}
		mine = lastChangeID(t, edb)
		if _, err := edb.SQL.ExecContext(ctx, `UPDATE users SET all_sites = TRUE WHERE id = $1`, f.Coordinator.ID); err != nil {
			t.Fatal(err)
		}
		f.Coordinator.AllSites = true
		// "ines" sorts before the fixture's initiator; "NRF" before "OLD";
		// no unit ('') before "CDU-1".
		for sort, want := range map[string]int64{"initiator": old, "-initiator": mine, "site": mine, "-site": old, "unit": old, "-unit": mine} {
			if got := first(sort); got != want {
				t.Errorf("after the migration, sort %s starts with change %d, want %d", sort, got, want)
			}
		}
		for _, st := range []string{
			`UPDATE users SET name = 'Zora' WHERE id = ` + fmt.Sprint(ines),
			`UPDATE sites SET code = 'AAA' WHERE code = 'OLD'`,
		} {
			if _, err := edb.SQL.ExecContext(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := edb.SQL.ExecContext(ctx, `UPDATE changes SET unit_id = $1 WHERE id = $2`, f.FCC, mine); err != nil {
			t.Fatal(err)
		}
		if _, err := edb.SQL.ExecContext(ctx, `UPDATE units SET code = 'ZZZ' WHERE id = $1`, f.FCC); err != nil {
			t.Fatal(err)
		}
		for sort, want := range map[string]int64{"initiator": mine, "-initiator": old, "site": old, "-site": mine, "-unit": mine} {
			if got := first(sort); got != want {
				t.Errorf("after the renames, sort %s starts with change %d, want %d", sort, got, want)
			}
		}
		var unitKey string
		if err := edb.SQL.QueryRowContext(ctx, `SELECT sort_unit FROM changes WHERE id = $1`, mine).Scan(&unitKey); err != nil || unitKey != "ZZZ" {
			t.Errorf("sort_unit = %q (%v), want ZZZ", unitKey, err)
		}
	})
}
