package change

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// demoUnits are seeded per demo site.
var demoUnits = map[string][][2]string{
	"NRF": {{"CDU-1", "Crude Distillation Unit 1"}, {"FCC", "Fluid Catalytic Cracker"}, {"TF", "Tank Farm"}},
	"SCP": {{"AMM-2", "Ammonia Plant 2"}, {"UTIL", "Utilities"}},
}

// SeedDemo adds demo units and a few sample changes in various stages.
// It runs inside demo.Seed's transaction (pass it as an extra seeder),
// after the demo sites and users exist.
func SeedDemo(ctx context.Context, tx *sql.Tx) error {
	s := &Service{Now: time.Now}
	sites := map[string]int64{}
	units := map[string]int64{}
	for code, us := range demoUnits {
		var siteID int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM sites WHERE code = $1`, code).Scan(&siteID); err != nil {
			return fmt.Errorf("demo units: site %s: %w", code, err)
		}
		sites[code] = siteID
		for _, u := range us {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO units (site_id, code, name) VALUES ($1,$2,$3) RETURNING id`, siteID, u[0], u[1]).Scan(&id); err != nil {
				return fmt.Errorf("demo unit %s: %w", u[0], err)
			}
			units[u[0]] = id
		}
	}
	user := func(prefix string) (*auth.User, error) {
		return auth.UserByEmail(ctx, tx, prefix+"@demo.mocpcr.local")
	}
	ines, err := user("ines")
	if err != nil {
		return fmt.Errorf("demo changes: %w", err)
	}
	arno, err := user("arno")
	if err != nil {
		return err
	}
	rita, err := user("rita")
	if err != nil {
		return err
	}
	now := s.now()
	year := now.Year()
	expires := dateOnly(now).AddDate(0, 0, 10)
	// The screening a process-safety engineer would give each story.
	procedureOnly := Screening{Disciplines: []string{"operations", "process"}, ProceduresChange: true}
	// A new trip is a safety instrumented function: instrumentation and
	// process design review it, operations runs it, the cause-and-effect
	// chart and SIS documents change (PSI), the trip is added to the
	// operating procedures, a hazard review (HAZOP/LOPA) sizes it and a
	// PSSR checks it before startup.
	newTrip := Screening{Disciplines: []string{"instrumentation", "process", "operations"}, PSIChanges: true,
		ProceduresChange: true, HazardReviewNeeded: true, PSSRNeeded: true}
	samples := []struct {
		kind      Kind
		duration  Duration
		stage     Stage
		site      string
		unit      string
		tags      string
		title     string
		screening Screening
		basis     string
	}{
		{KindMOC, DurationPermanent, StageDraft, "NRF", "CDU-1", "P-101A\nP-101B", "Replace crude charge pump seals with dual seals", Screening{}, ""},
		{KindMOC, DurationPermanent, StageScreening, "NRF", "FCC", "TT-2210\nTSHH-2210\nFV-2203", "Add high-temperature trip on regenerator", newTrip,
			"HAZOP recommendation H-17 (afterburn in the regenerator dilute phase); new 2oo3 temperature trip TSHH-2210 closing FV-2203, SIL 2 per LOPA"},
		{KindPCR, DurationPermanent, StageApproval, "SCP", "AMM-2", "", "Revise ammonia loading procedure OP-114", procedureOnly, ""},
		{KindMOC, DurationTemporary, StageImplementation, "NRF", "TF", "TK-301", "Temporary bypass of TK-301 level switch during inspection", procedureOnly, ""},
	}
	for i, sm := range samples {
		var n int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO change_counters (kind, year, last_value) VALUES ($1, $2, 1)
			ON CONFLICT (kind, year) DO UPDATE SET last_value = change_counters.last_value + 1 RETURNING last_value`,
			string(sm.kind), year).Scan(&n); err != nil {
			return err
		}
		number := fmt.Sprintf("%s-%d-%04d", sm.kind, year, n)
		var exp any
		if sm.duration.IsTemporary() {
			exp = expires
		}
		round := 0
		var submitted any
		screening := ""
		pssr := false
		if sm.stage != StageDraft {
			round, submitted = 1, now
			b, _ := json.Marshal(sm.screening)
			screening = string(b)
			pssr = sm.screening.PSSRNeeded && sm.kind == KindMOC
		}
		basis := sm.basis
		if basis == "" {
			basis = "Vendor recommendation and engineering calculation EC-" + fmt.Sprint(100+i)
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO changes (number, kind, duration, stage, title, description, site_id, unit_id, equipment_tags,
			reason, risk_ranking, technical_basis, safety_health_impact, procedure_changes, time_period, authorization_required,
			expires_on, initiator_id, screening, round, created_at, updated_at, submitted_at, pssr_required)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$21,$22,$23) RETURNING id`,
			number, string(sm.kind), string(sm.duration), string(sm.stage), sm.title, "Demo change: "+strings.ToLower(sm.title)+".",
			sites[sm.site], units[sm.unit], sm.tags, "Reliability and safety improvement", "medium",
			basis, "Reduces loss-of-containment risk; no new hazards identified",
			"Operating procedure updated to match", "Permanent from implementation", "Area superintendent and MOC coordinator",
			exp, ines.ID, screening, round, now, submitted, pssr).Scan(&id)
		if err != nil {
			return fmt.Errorf("demo change %s: %w", number, err)
		}
		if err := s.audit(ctx, tx, id, ines, "", "created", "", "", number+": "+sm.title); err != nil {
			return err
		}
		if sm.stage != StageDraft {
			if err := s.audit(ctx, tx, id, ines, "", "submitted", "screening", "", screening); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, id, ines, "", "stage", "stage", string(StageDraft), string(sm.stage)); err != nil {
				return err
			}
		}
		switch sm.stage {
		case StageScreening:
			// What Submit does: a review per discipline (the coordinator
			// assigns the reviewers) and the PSI and procedure actions.
			disciplines := slices.Clone(sm.screening.Disciplines)
			if sm.screening.HazardReviewNeeded {
				disciplines = append(disciplines, DisciplineHazardReview)
			}
			for _, disc := range disciplines {
				if _, err := tx.ExecContext(ctx, `INSERT INTO change_reviews (change_id, round, discipline) VALUES ($1,1,$2)`, id, disc); err != nil {
					return fmt.Errorf("demo review: %w", err)
				}
			}
			c := &Change{ID: id, Number: number, SiteID: sites[sm.site], SiteCode: sm.site}
			for _, a := range []struct {
				need  bool
				kind  ActionKind
				title string
			}{
				{sm.screening.PSIChanges, ActionPSI, "Update the cause-and-effect chart, SRS and P&ID for TSHH-2210"},
				{sm.screening.ProceduresChange, ActionProcedure, "Add the regenerator trip and its bypass rules to the FCC operating procedures"},
			} {
				if !a.need {
					continue
				}
				if _, err := s.insertAction(ctx, tx, ines, c, NewAction{Title: a.title, Kind: a.kind, OwnerID: ines.ID, BeforeStartup: true}); err != nil {
					return err
				}
			}
		case StageApproval:
			if _, err := tx.ExecContext(ctx, `INSERT INTO change_approvals (change_id, round, stage_no, approver_id, requested_at) VALUES ($1,1,1,$2,$3)`,
				id, arno.ID, now); err != nil {
				return err
			}
		case StageImplementation:
			if _, err := tx.ExecContext(ctx, `INSERT INTO change_approvals (change_id, round, stage_no, approver_id, requested_at, decision,
				decided_by, signed_name, signature_method, decided_at) VALUES ($1,1,1,$2,$3,'approved',$2,$4,'password',$3)`,
				id, arno.ID, now, arno.Name); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET approved_at = $1 WHERE id = $2`, now, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO change_actions (change_id, title, kind, owner_id, due_on, before_startup, created_by, created_at)
				VALUES ($1, 'Tag the bypass and log it in the shift book', 'general', $2, $3, TRUE, $2, $4)`,
				id, rita.ID, dateOnly(now).AddDate(0, 0, 2), now); err != nil {
				return err
			}
		}
	}
	return nil
}
