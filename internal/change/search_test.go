package change_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// numbers lists the numbers of the changes actor finds with q.
func numbers(t *testing.T, svc *change.Service, actor *auth.User, q string) []string {
	t.Helper()
	cs, _, err := svc.List(context.Background(), actor, change.Filter{Q: q, Sort: "number"})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Number)
	}
	return out
}

// Search finds every word of the query in any text field — description,
// reason, technical basis, the procedure changes — not only in the title
// or number, also as the start of a longer word, and follows an edit.
func TestSearchFindsWordsInEveryTextField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		a := toStage(t, f, change.StageDraft, func(fl *change.Fields) {
			fl.Title = changetest.Str("Relief valve upgrade")
			fl.Description = changetest.Str("Replace the fatigued spring of PSV-12 with an Inconel one")
		})
		b := toStage(t, f, change.StageDraft, func(fl *change.Fields) {
			fl.Title = changetest.Str("Cooling water pump")
			fl.TechnicalBasis = changetest.Str("Hydraulic calculation HC-88 by the vendor")
			fl.ProcedureChanges = changetest.Str("Startup procedure SOP-4 gets a priming step")
		})
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"inconel", []string{a.Number}},          // description only
			{"Fatigued SPRING", []string{a.Number}},  // two words, any case, in the description
			{"spring pump", []string{}},              // every word must match one change
			{"hydraulic", []string{b.Number}},        // technical basis
			{"priming", []string{b.Number}},          // procedure changes
			{"prim", []string{b.Number}},             // the start of a word
			{"valve", []string{a.Number}},            // title, as before
			{a.Number[4:], []string{a.Number}},       // part of the number, as before
			{"P-101A", []string{a.Number, b.Number}}, // an equipment tag, as before
			{"nothing-like-this", []string{}},
		} {
			if got := numbers(t, f.Service, f.Initiator, tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("search %q found %v, want %v", tc.q, got, tc.want)
			}
		}
		// An edit is found at once, and the old words no longer are.
		must(f.Service.Update(ctx, f.Initiator, a.ID, change.Fields{Description: changetest.Str("Titanium spring instead")}))(t)
		if got := numbers(t, f.Service, f.Initiator, "titanium"); !slices.Equal(got, []string{a.Number}) {
			t.Errorf("after the edit, titanium finds %v", got)
		}
		if got := numbers(t, f.Service, f.Initiator, "inconel"); len(got) != 0 {
			t.Errorf("after the edit, the old word still finds %v", got)
		}
		// Other sites' changes stay out of the results.
		must(f.Service.Create(ctx, f.Outsider, func() change.Fields {
			fl := changetest.Complete(change.KindMOC, f.SCP, 0, "P-9")
			fl.Description = changetest.Str("Titanium spring at the other site")
			return fl
		}()))(t)
		if got := numbers(t, f.Service, f.Initiator, "titanium"); !slices.Equal(got, []string{a.Number}) {
			t.Errorf("search reaches another site's change: %v", got)
		}
		// Query syntax of either engine is just text.
		for _, q := range []string{`"`, `a:* & !b`, `NEAR(x y)`, `*`, `'); DROP TABLE changes; --`} {
			if _, _, err := f.Service.List(ctx, f.Initiator, change.Filter{Q: q}); err != nil {
				t.Errorf("search %q: %v", q, err)
			}
		}
		long := strings.Repeat("x", change.MaxQueryLength+1)
		if _, _, err := f.Service.List(ctx, f.Initiator, change.Filter{Q: long}); problem.As(err) == nil || problem.As(err).Field != "q" {
			t.Errorf("a %d-character search: %v, want an error naming q", len(long), err)
		}
	})
}

// Paging a search by cursor returns every match once, in order.
func TestSearchPagesByCursor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		var want []string
		for i := range 7 {
			desc := "Unrelated work"
			if i%2 == 0 {
				desc = "Flange gasket swap"
			}
			c := toStage(t, f, change.StageDraft, func(fl *change.Fields) { fl.Description = changetest.Str(desc) })
			if i%2 == 0 {
				want = append(want, c.Number)
			}
		}
		var got []string
		after := ""
		for range 10 {
			p, err := f.Service.ListPage(ctx, f.Initiator, change.Filter{Q: "gasket", Sort: "number", Limit: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Changes {
				got = append(got, c.Number)
			}
			if after = p.Next; after == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("paged search found %v, want %v", got, want)
		}
	})
}

// Changes filed before the index existed are found after the migration.
func TestSearchMigrationIndexesExistingChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		at := time.Date(2025, 11, 3, 14, 0, 0, 0, time.UTC)
		edb := storetest.OpenEmpty(t, db.Dialect)
		id := oldPlant(t, edb, 175, at, `UPDATE changes SET description = 'Bypass the seized damper on the flue' WHERE id = {change}`)
		svc := &change.Service{DB: edb, Now: func() time.Time { return at }}
		audrey := &auth.User{Name: "Audrey", Roles: []auth.Role{auth.RoleAuditor}, AllSites: true}
		cs, _, err := svc.List(context.Background(), audrey, change.Filter{Q: "seized damper"})
		if err != nil || len(cs) != 1 || cs[0].ID != id {
			t.Errorf("an old change is not found by its description: %v %+v", err, cs)
		}
	})
}

// A word shorter than store.MinPrefixTerm matches whole words only: "1"
// does not find every change mentioning P-101.
func TestSearchShortWordsMatchWholeWords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		a := toStage(t, f, change.StageDraft, func(fl *change.Fields) { fl.Description = changetest.Str("Stage 1 of the seal work") })
		toStage(t, f, change.StageDraft, func(fl *change.Fields) { fl.Description = changetest.Str("Seal work on P-101") })
		if got := numbers(t, f.Service, f.Initiator, "seal 1"); !slices.Equal(got, []string{a.Number}) {
			t.Errorf("seal 1 found %v, want only %s", got, a.Number)
		}
	})
}
