package change_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// fieldsOf returns the invalid fields err reports, in order.
func fieldsOf(t *testing.T, err error) (first string, all []string) {
	t.Helper()
	var e *problem.Error
	if !errors.As(err, &e) || e.Kind != problem.Invalid {
		t.Fatalf("got %v, want an invalid-input error", err)
	}
	for _, f := range e.Fields {
		all = append(all, f.Field)
	}
	return e.Field, all
}

// Create and Update check every field and report all the invalid ones,
// not one per attempt; the first stays in Field for older clients.
func TestValidationReportsEveryInvalidField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		s := f.Service

		_, err := s.Create(ctx, f.Initiator, change.Fields{})
		if first, all := fieldsOf(t, err); first != "kind" || !slices.Equal(all, []string{"kind", "title", "site_id"}) {
			t.Fatalf("empty create: first %q, all %v", first, all)
		}

		bad := change.Kind("XYZ")
		temp := change.DurationTemporary
		fields := change.Fields{Kind: &bad, Duration: &temp, Title: changetest.Str("T"), SiteID: &f.NRF,
			RiskRanking: changetest.Str("extreme"), EquipmentTags: &[]string{"bad tag!"},
			Problems: []problem.FieldError{{Field: "expires_on", Message: "expires_on: expected a date YYYY-MM-DD, got \"31/12\""}}}
		_, err = s.Create(ctx, f.Initiator, fields)
		var e *problem.Error
		errors.As(err, &e)
		if first, all := fieldsOf(t, err); first != "kind" || !slices.Equal(all, []string{"kind", "equipment_tags", "risk_ranking", "expires_on"}) {
			t.Fatalf("create: first %q, all %v", first, all)
		}
		// The edge's problem is kept, not replaced by "needs an expiry date".
		if got := e.Fields[3].Message; got != `expires_on: expected a date YYYY-MM-DD, got "31/12"` {
			t.Fatalf("expires_on message %q", got)
		}
		if cs, _, err := s.List(ctx, f.Coordinator, change.Filter{}); err != nil || len(cs) != 0 {
			t.Fatalf("a refused create saved %d changes (%v)", len(cs), err)
		}

		c := must(s.Create(ctx, f.Initiator, changetest.Complete(change.KindMOC, f.NRF, f.CDU, "P-101A")))(t)
		other := f.NRF + 1000
		_, err = s.Update(ctx, f.Initiator, c.ID, change.Fields{Title: changetest.Str(" "), RiskRanking: changetest.Str("extreme"), SiteID: &other})
		if first, all := fieldsOf(t, err); first != "title" || !slices.Equal(all, []string{"title", "site_id", "risk_ranking"}) {
			t.Fatalf("update: first %q, all %v", first, all)
		}
		if got := must(s.Get(ctx, f.Initiator, c.ID))(t); got.Change.Title != c.Title || got.Change.RiskRanking != c.RiskRanking {
			t.Fatalf("a refused update saved: %q %q", got.Change.Title, got.Change.RiskRanking)
		}
	})
}
