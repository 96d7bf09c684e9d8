package change_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/demo"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The demo's new regenerator trip is screened as a process-safety
// engineer would: instrumentation, process and operations reviews, a
// PSI update, a hazard review and a PSSR.
func TestDemoTripScreenedRealistically(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := demo.Seed(ctx, db, change.SeedDemo); err != nil {
			t.Fatal(err)
		}
		cora, err := auth.UserByEmail(ctx, db.SQL, "cora@demo.mocpcr.local")
		if err != nil {
			t.Fatal(err)
		}
		svc := &change.Service{DB: db, Now: func() time.Time { return start }}
		cs, _, err := svc.List(ctx, cora, change.Filter{Q: "high-temperature trip"})
		if err != nil || len(cs) != 1 {
			t.Fatalf("demo trip change: %v %d", err, len(cs))
		}
		d := must(svc.Get(ctx, cora, cs[0].ID))(t)
		sc := d.Change.Screening
		if d.Change.Stage != change.StageScreening || sc == nil || !sc.PSIChanges || !sc.HazardReviewNeeded || !sc.PSSRNeeded || !d.Change.PSSRRequired {
			t.Fatalf("demo trip screening = %+v (stage %s, PSSR required %v)", sc, d.Change.Stage, d.Change.PSSRRequired)
		}
		var reviews []string
		for _, r := range d.Reviews {
			reviews = append(reviews, r.Discipline)
		}
		for _, want := range []string{"instrumentation", "process", "operations", change.DisciplineHazardReview} {
			if !slices.Contains(reviews, want) {
				t.Errorf("demo trip reviews %v lack %s", reviews, want)
			}
		}
		var kinds []change.ActionKind
		for _, a := range d.Actions {
			kinds = append(kinds, a.Kind)
		}
		if !slices.Contains(kinds, change.ActionPSI) || !slices.Contains(kinds, change.ActionProcedure) {
			t.Errorf("demo trip actions %v lack the PSI and procedure updates", kinds)
		}
		// The coordinator can take it from here: assign, name approvers, start review.
		if !slices.Contains(d.AllowedActions, change.ActAssign) {
			t.Errorf("coordinator may not assign reviewers on the demo trip: %v", d.AllowedActions)
		}
	})
}

// The demo has one of each new path to walk through: a replacement in
// kind awaiting confirmation, an emergency change being implemented
// while its review runs, and a temporary change in service.
func TestDemoShowsEachControlPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := demo.Seed(ctx, db, change.SeedDemo); err != nil {
			t.Fatal(err)
		}
		audrey, err := auth.UserByEmail(ctx, db.SQL, "audrey@demo.mocpcr.local")
		if err != nil {
			t.Fatal(err)
		}
		svc := &change.Service{DB: db, Now: time.Now}
		get := func(q string) *change.Detail {
			t.Helper()
			cs, _, err := svc.List(ctx, audrey, change.Filter{Q: q})
			if err != nil || len(cs) != 1 {
				t.Fatalf("demo change %q: %v %d", q, err, len(cs))
			}
			return must(svc.Get(ctx, audrey, cs[0].ID))(t)
		}
		if d := get("P-205B"); d.Change.Stage != change.StageRIKConfirmation || !d.Change.ReplacementInKind {
			t.Errorf("RIK demo: %s", d.Change.Stage)
		}
		d := get("E-104")
		if !d.Change.UnderEmergency() || d.Change.ImplementationStage() != change.StageImplementation || d.Change.Stage != change.StageReview ||
			d.Signature(change.CPEmergency, 0) == nil || d.Change.ReviewDeadline == nil {
			t.Errorf("emergency demo: %+v", d.Change)
		}
		d = get("TK-301")
		if d.Change.Stage != change.StageInService || d.ApprovalSignature(d.Approvals[0].ID) == nil {
			t.Errorf("temporary demo: %s, signatures %+v", d.Change.Stage, d.Signatures)
		}
		if v := must(svc.VerifyAudit(ctx, audrey))(t); len(v.Broken) != 0 {
			t.Errorf("demo audit trail broken: %+v", v.Broken)
		}
	})
}
