package change_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The list filters the change list page needs: overdue, temporary
// changes expiring soon, and sorting.
func TestListOverdueExpiringAndSort(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		s := f.Service
		numbers := func(cs []change.Change) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.Number)
			}
			return out
		}
		list := func(fl change.Filter) []string {
			t.Helper()
			cs, total, err := s.List(ctx, f.Coordinator, fl)
			if err != nil {
				t.Fatal(err)
			}
			if total != len(cs) {
				t.Fatalf("total %d, rows %d", total, len(cs))
			}
			return numbers(cs)
		}

		// An implemented temporary change expiring in 5 days, one with an
		// overdue action, and a plain draft.
		temp := toStage(t, f, change.StageImplementation, func(fl *change.Fields) {
			d := change.DurationTemporary
			exp := start.AddDate(0, 0, 5)
			expp := &exp
			fl.Duration, fl.ExpiresOn, fl.Title = &d, &expp, changetest.Str("Bravo temporary bypass")
		})
		late := toStage(t, f, change.StageImplementation, func(fl *change.Fields) { fl.Title = changetest.Str("Alpha late action") })
		due := start.AddDate(0, 0, 2)
		if _, err := s.AddAction(ctx, f.Coordinator, late.ID, change.NewAction{Title: "Update P&ID", OwnerID: f.Reviewer.ID, DueOn: &due}); err != nil {
			t.Fatal(err)
		}
		draft := toStage(t, f, change.StageDraft, func(fl *change.Fields) { fl.Title = changetest.Str("Charlie draft") })

		if got := list(change.Filter{ExpiringWithinDays: 3}); len(got) != 0 {
			t.Errorf("expiring within 3 days today: %v, want none", got)
		}
		if got := list(change.Filter{ExpiringWithinDays: 7}); !slices.Equal(got, []string{temp.Number}) {
			t.Errorf("expiring within 7 days: %v, want %s", got, temp.Number)
		}
		if got := list(change.Filter{Overdue: true}); len(got) != 0 {
			t.Errorf("overdue on day 0: %v, want none", got)
		}
		f.Clock.Advance(3 * 24 * time.Hour) // the action is now past due
		if got := list(change.Filter{Overdue: true}); !slices.Equal(got, []string{late.Number}) {
			t.Errorf("overdue on day 3: %v, want %s", got, late.Number)
		}
		f.Clock.Advance(3 * 24 * time.Hour) // and the temporary change past expiry
		if got := list(change.Filter{Overdue: true, Sort: "number"}); !slices.Equal(got, []string{temp.Number, late.Number}) {
			t.Errorf("overdue on day 6: %v, want %s and %s", got, temp.Number, late.Number)
		}
		if got := list(change.Filter{ExpiringWithinDays: 1}); !slices.Equal(got, []string{temp.Number}) {
			t.Errorf("expiring (already expired) on day 6: %v, want %s", got, temp.Number)
		}

		if got := list(change.Filter{Sort: "title"}); !slices.Equal(got, []string{late.Number, temp.Number, draft.Number}) {
			t.Errorf("sort by title: %v", got)
		}
		if got := list(change.Filter{Sort: "-title"}); !slices.Equal(got, []string{draft.Number, temp.Number, late.Number}) {
			t.Errorf("sort by title descending: %v", got)
		}
		if got := list(change.Filter{Sort: "stage"}); got[0] != draft.Number {
			t.Errorf("sort by stage: %v, want the draft first", got)
		}
		if got := list(change.Filter{Sort: "expires"}); got[0] != temp.Number {
			t.Errorf("sort by expiry: %v, want the temporary change first", got)
		}
		if got := list(change.Filter{Sort: "-expires"}); got[0] != temp.Number {
			t.Errorf("sort by expiry descending: %v, want changes without expiry last", got)
		}
		if _, _, err := s.List(ctx, f.Coordinator, change.Filter{Sort: "password"}); problem.KindOf(err) != problem.Invalid {
			t.Errorf("unknown sort key: %v, want invalid", err)
		}
	})
}
