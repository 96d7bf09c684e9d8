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
	cora, err := user("cora")
	if err != nil {
		return err
	}
	now := s.now()
	// A year of history first, so its numbers come before the samples'.
	if err := seedDemoHistory(ctx, tx, now, sites, units, map[string]*auth.User{"ines": ines, "rita": rita, "arno": arno, "cora": cora}); err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	year := now.Year()
	if err := seedDemoRiskAndScreening(ctx, tx, sites["NRF"], arno.ID, cora.ID, now); err != nil {
		return err
	}
	// The demo signers sign as if they had re-entered their password.
	demoSignature := Signature{Verified: true, Method: "password"}
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
	// A seal swapped for the identical OEM part: the initiator claims a
	// replacement in kind, which someone else must confirm.
	likeForLike := Screening{ReplacementInKind: true}
	// A leaking flange clamped at once: mechanical and process review the
	// clamp after the fact, under the emergency procedure.
	leakClamp := Screening{Disciplines: []string{"mechanical", "process"}}
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
		// In service after startup, its expiry counting down.
		{KindMOC, DurationTemporary, StageInService, "NRF", "TF", "TK-301", "Temporary bypass of TK-301 level switch during inspection", procedureOnly, ""},
		{KindMOC, DurationPermanent, StageRIKConfirmation, "NRF", "FCC", "P-205B", "Replace P-205B mechanical seal with the identical OEM seal", likeForLike,
			"OEM part number and material certificate identical to the installed seal (same specification)"},
		// Authorised and being implemented while its review runs.
		{KindMOC, DurationEmergency, StageReview, "NRF", "CDU-1", "E-104\nFL-104-3", "Emergency clamp on leaking E-104 outlet flange", leakClamp,
			"Engineered leak-seal clamp rated for 25 barg at 180 °C per vendor calculation LS-2291"},
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
		case StageInService:
			// Approved (signed), started up, and in the plant until expiry.
			c, err := loadChange(ctx, tx, id)
			if err != nil {
				return err
			}
			var apID int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO change_approvals (change_id, round, stage_no, approver_id, requested_at)
				VALUES ($1,1,1,$2,$3) RETURNING id`, id, arno.ID, now).Scan(&apID); err != nil {
				return err
			}
			d := &Detail{Change: c, Approvals: []Approval{{ID: apID, ChangeID: id, Round: 1, StageNo: 1, ApproverID: arno.ID,
				ApproverName: arno.Name, RequestedAt: &now}}}
			if _, err := s.sign(ctx, tx, arno, d, ActApprove, DecisionApproved, apID, "", demoSignature); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE change_approvals SET decision = 'approved', decided_by = $1, signed_name = $2,
				signature_method = 'password', decided_at = $3 WHERE id = $4`, arno.ID, arno.Name, now, apID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET approved_at = $1, startup_at = $1 WHERE id = $2`, now, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO change_actions (change_id, title, kind, owner_id, due_on, before_startup, created_by, created_at)
				VALUES ($1, 'Check the bypass tag and the shift-book entry at each shift handover', 'general', $2, $3, FALSE, $2, $4)`,
				id, rita.ID, dateOnly(now).AddDate(0, 0, 2), now); err != nil {
				return err
			}
		case StageRIKConfirmation:
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET replacement_in_kind = TRUE WHERE id = $1`, id); err != nil {
				return err
			}
		case StageReview:
			// The emergency change: Arno authorised it, signed; the clamp
			// is being fitted while Rita and Arno review it and Cora is to
			// approve it, by the next working day.
			for _, r := range []struct {
				disc string
				who  *auth.User
			}{{"mechanical", rita}, {"process", arno}} {
				if _, err := tx.ExecContext(ctx, `INSERT INTO change_reviews (change_id, round, discipline, reviewer_id, requested_at)
					VALUES ($1,1,$2,$3,$4)`, id, r.disc, r.who.ID, now); err != nil {
					return fmt.Errorf("demo review: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO change_approvals (change_id, round, stage_no, approver_id) VALUES ($1,1,1,$2)`,
				id, cora.ID); err != nil {
				return err
			}
			c, err := loadChange(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := s.authorizeEmergency(ctx, tx, arno, &Detail{Change: c}, "Clamp only; no hot work", demoSignature); err != nil {
				return err
			}
			if _, err := s.insertAction(ctx, tx, ines, c, NewAction{Title: "Fit the engineered clamp and inject the sealant (permit to work)",
				Kind: ActionGeneral, OwnerID: rita.ID, BeforeStartup: true, DueOn: &now}); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedDemoRiskAndScreening gives the demo refinery a configured risk
// matrix and questionnaire: version 1 the defaults, version 2 the
// site's own. Very high risk needs the operations superintendent's
// stage (Arno or Cora sign it); the questionnaire adds the questions
// audits ask about first (safety instrumented functions, the operating
// envelope, organisational change).
func seedDemoRiskAndScreening(ctx context.Context, tx *sql.Tx, siteID, superintendent, coordinator int64, now time.Time) error {
	m := DefaultRiskMatrix()
	m.Stages = []ApprovalStageDef{{Name: "Operations superintendent", ApproverIDs: []int64{superintendent, coordinator}}}
	m.Levels[3].RequiredStages = []string{"Operations superintendent"}
	q := DefaultQuestionnaire()
	none := ScreeningEffects{Disciplines: []string{}, Actions: []string{}}
	q.Questions = append(q.Questions,
		Question{Key: "sif", Text: "Does it bypass or change a safety instrumented function?", Help: "Trips, permissives and SIL-rated loops, even for a short time.",
			Yes: ScreeningEffects{Disciplines: []string{"instrumentation"}, HazardReview: true, Actions: []string{}}, No: none},
		Question{Key: "envelope", Text: "Does it change the operating envelope?", Help: "Pressures, temperatures, flows or compositions outside the current safe operating limits.",
			Yes: ScreeningEffects{Disciplines: []string{"process"}, HazardReview: true, Actions: []string{RequiredPSI}}, No: none},
		Question{Key: "organisation", Text: "Is it an organisational change?", Help: "Staffing, shift patterns or responsibilities for process safety.",
			Yes: ScreeningEffects{Disciplines: []string{"operations", "ehs"}, Actions: []string{RequiredTraining}}, No: none})
	for _, row := range []struct {
		table string
		defs  []any
	}{{"risk_matrices", []any{DefaultRiskMatrix(), m}}, {"screening_questionnaires", []any{DefaultQuestionnaire(), q}}} {
		for i, def := range row.defs {
			b, _ := json.Marshal(def)
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+row.table+` (site_id, version, definition, created_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (site_id, version) DO NOTHING`, siteID, i+1, string(b), now); err != nil {
				return fmt.Errorf("demo %s: %w", row.table, err)
			}
		}
	}
	return nil
}
