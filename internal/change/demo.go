package change

import (
	"context"
	"database/sql"
	"fmt"
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
	samples := []struct {
		kind     Kind
		duration Duration
		stage    Stage
		site     string
		unit     string
		tags     string
		title    string
	}{
		{KindMOC, DurationPermanent, StageDraft, "NRF", "CDU-1", "P-101A\nP-101B", "Replace crude charge pump seals with dual seals"},
		{KindMOC, DurationPermanent, StageScreening, "NRF", "FCC", "FV-2203", "Add high-temperature trip on regenerator"},
		{KindPCR, DurationPermanent, StageApproval, "SCP", "AMM-2", "", "Revise ammonia loading procedure OP-114"},
		{KindMOC, DurationTemporary, StageImplementation, "NRF", "TF", "TK-301", "Temporary bypass of TK-301 level switch during inspection"},
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
		if sm.stage != StageDraft {
			round, submitted = 1, now
			screening = `{"replacement_in_kind":false,"disciplines":["operations","process"],"psi_changes":false,"procedures_change":true,"hazard_review_needed":false,"pssr_needed":false}`
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO changes (number, kind, duration, stage, title, description, site_id, unit_id, equipment_tags,
			reason, risk_ranking, technical_basis, safety_health_impact, procedure_changes, time_period, authorization_required,
			expires_on, initiator_id, screening, round, created_at, updated_at, submitted_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$21,$22) RETURNING id`,
			number, string(sm.kind), string(sm.duration), string(sm.stage), sm.title, "Demo change: "+strings.ToLower(sm.title)+".",
			sites[sm.site], units[sm.unit], sm.tags, "Reliability and safety improvement", "medium",
			"Vendor recommendation and engineering calculation EC-"+fmt.Sprint(100+i), "Reduces loss-of-containment risk; no new hazards identified",
			"Operating procedure updated to match", "Permanent from implementation", "Area superintendent and MOC coordinator",
			exp, ines.ID, screening, round, now, submitted).Scan(&id)
		if err != nil {
			return fmt.Errorf("demo change %s: %w", number, err)
		}
		if err := s.audit(ctx, tx, id, ines, "", "created", "", "", number+": "+sm.title); err != nil {
			return err
		}
		if sm.stage != StageDraft {
			if err := s.audit(ctx, tx, id, ines, "", "stage", "stage", string(StageDraft), string(sm.stage)); err != nil {
				return err
			}
		}
		switch sm.stage {
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
