package change_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// An N/A on a PSSR item needs its justification, like a No needs the
// deficiency described.
func TestPSSRNotApplicableNeedsAComment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := changetest.Seed(t, db, start)
		ctx := context.Background()
		c := toStage(t, f, change.StagePSSR, nil)
		d := must(f.Service.Get(ctx, f.Coordinator, c.ID))(t)
		it := d.PSSR[0]
		_, err := f.Service.AnswerPSSR(ctx, f.Coordinator, it.ID, change.AnswerNA, "  ", 0)
		if err == nil || problem.KindOf(err) != problem.Invalid || !strings.HasPrefix(err.Error(), "comment: is required for N/A") {
			t.Fatalf("N/A without a comment: %v, want an invalid comment", err)
		}
		if d := must(f.Service.Get(ctx, f.Coordinator, c.ID))(t); d.PSSR[0].Answer != "" {
			t.Errorf("the refused N/A was saved: %q", d.PSSR[0].Answer)
		}
		got := must(f.Service.AnswerPSSR(ctx, f.Coordinator, it.ID, change.AnswerNA, "No relief devices touched", 0))(t)
		if got.Answer != change.AnswerNA || got.Comment != "No relief devices touched" || got.AnsweredByName != f.Coordinator.Name {
			t.Errorf("N/A with a comment: %+v", got)
		}
	})
}
