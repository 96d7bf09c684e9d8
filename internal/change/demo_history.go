package change

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// demoHistoryChanges is how many finished changes the demo's last year
// holds: enough for every month of the metrics page to show something,
// few enough that seeding stays a fraction of a second.
const demoHistoryChanges = 44

// demoHistoryTitles are what a refinery files over a year. None starts
// with "A" and none names the samples' tags, so the samples stay the
// first by title and the ones a tag search finds.
var demoHistoryTitles = []string{
	"Replace corroded section of cooling water line CW-3301",
	"Change set point of reflux drum level alarm LAH-1402",
	"Install new sample point on naphtha rundown",
	"Uprate relief valve PSV-2107 for fire case",
	"Revise start-up procedure of the vacuum heater",
	"Replace obsolete flame scanners on H-101",
	"New chemical injection skid for corrosion inhibitor",
	"Change gasket material on hot oil exchanger flanges",
	"Temporary hose connection for nitrogen purge",
	"Modify interlock bypass rules in the control room",
	"Reroute flare header drain to closed system",
	"Upgrade DCS controllers of the tank farm",
	"Remove dead leg on LPG sphere inlet",
	"Revise permit-to-work procedure for hot taps",
	"Install fixed gas detection at the loading rack",
	"Replace pump P-330 with a different model",
}

// demoTags are their equipment, by title.
var demoTags = []string{"CW-3301", "LAH-1402", "SP-0610", "PSV-2107", "H-201", "BS-101A", "SK-4401", "E-212",
	"N2-HOSE-1", "ESD-BYP", "FL-0902", "DCS-TF-2", "V-501", "PTW-07", "GD-LR-1", "P-330"}

// seedDemoHistory adds a year of changes that went through the stages,
// with their audit trail, reviews, approvals and signatures at the times
// they happened, so the metrics page shows real trends: reviews and
// approvals get quicker over the year, a few emergency changes missed
// their review deadline, temporary changes were extended, some PSSRs
// found deficiencies. Three changes are still waiting (one review and
// one approval overdue), for the "overdue per person" numbers. The
// randomness is seeded: every demo database is the same relative to its
// start.
func seedDemoHistory(ctx context.Context, tx *sql.Tx, now time.Time, sites, units map[string]int64, people map[string]*auth.User) error {
	var clock time.Time
	s := &Service{Now: func() time.Time { return clock }}
	rnd := rand.New(rand.NewPCG(18, 2026))
	between := func(lo, hi float64) time.Duration {
		return time.Duration((lo + rnd.Float64()*(hi-lo)) * float64(24*time.Hour))
	}
	sig := Signature{Verified: true, Method: "password"}
	ines, rita, arno, cora := people["ines"], people["rita"], people["arno"], people["cora"]
	start := dateOnly(now).AddDate(0, 0, -360)
	for i := range demoHistoryChanges + 3 {
		open := i >= demoHistoryChanges // the last three still wait
		// Faster over the year: the trend the metrics should show.
		pace := 1.5 - 0.8*float64(i)/demoHistoryChanges
		created := start.Add(time.Duration(i) * 7 * 24 * time.Hour).Add(time.Duration(7+i%4) * time.Hour)
		if open {
			created = dateOnly(now).AddDate(0, 0, -16+2*(i-demoHistoryChanges)).Add(8 * time.Hour)
		}
		kind, duration := KindMOC, DurationPermanent
		rik := i%9 == 4
		switch {
		case i%4 == 3 && !rik:
			kind = KindPCR
		// Temporary ones (and emergency ones, temporary too) stay in the
		// plant for weeks: only the older ones have been removed by now.
		case i%8 == 2 && i < 36:
			duration = DurationEmergency
		case i%6 == 5 && i < 36:
			duration = DurationTemporary
		}
		pssr := kind == KindMOC && !rik && i%3 != 1
		site, unit := "NRF", []string{"CDU-1", "FCC", "TF"}[i%3]
		if i%5 == 1 {
			site, unit = "SCP", []string{"AMM-2", "UTIL"}[i%2]
		}
		sc := Screening{Disciplines: []string{"mechanical", "process"}, PSSRNeeded: pssr, ProceduresChange: kind == KindPCR}
		if rik {
			sc = Screening{ReplacementInKind: true}
		}
		scJSON, _ := json.Marshal(sc)
		year := created.Year()
		var n int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO change_counters (kind, year, last_value) VALUES ($1, $2, 1)
			ON CONFLICT (kind, year) DO UPDATE SET last_value = change_counters.last_value + 1 RETURNING last_value`,
			string(kind), year).Scan(&n); err != nil {
			return err
		}
		number := fmt.Sprintf("%s-%d-%04d", kind, year, n)
		title := demoHistoryTitles[i%len(demoHistoryTitles)]
		var exp any
		if duration.IsTemporary() {
			exp = dateOnly(created).AddDate(0, 3, 0)
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO changes (number, kind, duration, stage, title, description, site_id, unit_id, equipment_tags,
			reason, risk_ranking, technical_basis, safety_health_impact, procedure_changes, time_period, authorization_required,
			expires_on, initiator_id, screening, round, created_at, updated_at, pssr_required, replacement_in_kind)
			VALUES ($1,$2,$3,'draft',$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,1,$19,$19,$20,$21) RETURNING id`,
			number, string(kind), string(duration), title, "Demo history: "+title+".", sites[site], units[unit], demoTags[i%len(demoTags)],
			"Reliability and safety improvement", RiskRankings[i%len(RiskRankings)], "Engineering calculation EC-"+fmt.Sprint(500+i),
			"Assessed in screening; see the reviews", "Operating procedure updated where needed", "As filed", "Area superintendent and MOC coordinator",
			exp, ines.ID, string(scJSON), created, pssr, rik).Scan(&id); err != nil {
			return fmt.Errorf("demo history %s: %w", number, err)
		}
		c := &Change{ID: id, Number: number, Kind: kind, Duration: duration, SiteID: sites[site], SiteCode: site, Stage: StageDraft}
		d := &Detail{Change: c}
		clock = created
		if err := s.audit(ctx, tx, id, ines, "", "created", "", "", number+": "+title); err != nil {
			return err
		}
		// move records a stage move at the clock, as setStage does.
		move := func(to Stage, extra string, args ...any) error {
			return s.setStage(ctx, tx, ines, c, to, extra, args...)
		}
		clock = clock.Add(between(0.5, 3))
		if _, err := tx.ExecContext(ctx, `UPDATE changes SET screening = $1, submitted_at = $2 WHERE id = $3`, string(scJSON), clock, id); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, id, ines, "", "submitted", "screening", "", string(scJSON)); err != nil {
			return err
		}
		if rik {
			if err := move(StageRIKConfirmation, ""); err != nil {
				return err
			}
			clock = clock.Add(between(0.2, 3*pace))
			if _, err := s.sign(ctx, tx, cora, d, ActConfirmRIK, DecisionApproved, 0, "", sig); err != nil {
				return err
			}
			if err := move(StageClosed, "closed_at = $3", clock); err != nil {
				return err
			}
			continue
		}
		if err := move(StageScreening, ""); err != nil {
			return err
		}
		if duration == DurationEmergency {
			// Authorised at once; the full review is due the next day.
			clock = clock.Add(2 * time.Hour)
			deadline := dateOnly(clock).AddDate(0, 0, 1)
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET emergency_authorized_at = $1, review_deadline = $2 WHERE id = $3`,
				clock, deadline, id); err != nil {
				return err
			}
			if _, err := s.sign(ctx, tx, arno, d, ActAuthorizeEmergency, DecisionApproved, 0, "", sig); err != nil {
				return err
			}
		}
		clock = clock.Add(between(0.5, 4*pace))
		var revIDs []int64
		for _, r := range []struct {
			disc string
			who  *auth.User
		}{{"mechanical", rita}, {"process", arno}} {
			var rid int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO change_reviews (change_id, round, discipline, reviewer_id, requested_at)
				VALUES ($1,1,$2,$3,$4) RETURNING id`, id, r.disc, r.who.ID, clock).Scan(&rid); err != nil {
				return err
			}
			revIDs = append(revIDs, rid)
		}
		var apID int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO change_approvals (change_id, round, stage_no, approver_id) VALUES ($1,1,1,$2) RETURNING id`,
			id, cora.ID).Scan(&apID); err != nil {
			return err
		}
		if err := move(StageReview, ""); err != nil {
			return err
		}
		if open && i == demoHistoryChanges {
			continue // Rita's and Arno's reviews wait, overdue
		}
		reviewed := clock
		for k, rid := range revIDs {
			who := []*auth.User{rita, arno}[k]
			clock = reviewed.Add(between(0.3, 4.5*pace))
			if _, err := tx.ExecContext(ctx, `UPDATE change_reviews SET decision = 'reviewed', decided_by = $1, decided_at = $2 WHERE id = $3`,
				who.ID, clock, rid); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, id, who, "", "review_reviewed", []string{"mechanical", "process"}[k], "", ""); err != nil {
				return err
			}
		}
		if err := move(StageApproval, ""); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE change_approvals SET requested_at = $1 WHERE id = $2`, clock, apID); err != nil {
			return err
		}
		if open {
			if i == demoHistoryChanges+1 {
				continue // Cora's approval waits, overdue
			}
			// The third waits in approval, asked only yesterday.
			_, err := tx.ExecContext(ctx, `UPDATE change_approvals SET requested_at = $1 WHERE id = $2`, dateOnly(now).AddDate(0, 0, -1), apID)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE changes SET updated_at = $1 WHERE id = $2`, now, id)
			if err != nil {
				return err
			}
			continue
		}
		clock = clock.Add(between(0.3, 4*pace))
		d.Approvals = []Approval{{ID: apID, ChangeID: id, Round: 1, StageNo: 1, ApproverID: cora.ID, ApproverName: cora.Name, RequestedAt: &clock}}
		if _, err := s.sign(ctx, tx, cora, d, ActApprove, DecisionApproved, apID, "", sig); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE change_approvals SET decision = 'approved', decided_by = $1, signed_name = $2,
			signature_method = 'password', decided_at = $3 WHERE id = $4`, cora.ID, cora.Name, clock, apID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, id, cora, "", "approval_approved", "stage 1", "", cora.Name+" (password)"); err != nil {
			return err
		}
		if err := move(StageImplementation, "approved_at = $3", clock); err != nil {
			return err
		}
		clock = clock.Add(between(4, 20*pace))
		if pssr {
			if err := move(StagePSSR, ""); err != nil {
				return err
			}
			entered := clock
			clock = clock.Add(between(0.5, 3))
			if i%3 == 0 {
				// The walkdown found something, closed before startup.
				if _, err := tx.ExecContext(ctx, `INSERT INTO change_actions (change_id, title, kind, owner_id, due_on, before_startup, status,
					created_by, created_at, completed_by, completed_at) VALUES ($1, 'PSSR deficiency (item 4): guard missing on the coupling',
					'deficiency', $2, $3, TRUE, 'done', $4, $5, $2, $6)`, id, rita.ID, dateOnly(entered).AddDate(0, 0, 3), cora.ID, entered, clock); err != nil {
					return err
				}
			}
			if _, err := s.sign(ctx, tx, cora, d, ActAuthorizeStartup, DecisionApproved, 0, "", sig); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, id, cora, "", "startup_authorized", "signature", "", cora.Name+" (password)"); err != nil {
				return err
			}
		}
		if duration.IsTemporary() {
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET startup_at = $1 WHERE id = $2`, clock, id); err != nil {
				return err
			}
			if err := move(StageInService, ""); err != nil {
				return err
			}
			if i%2 == 1 {
				// Extended once, signed by the approver.
				clock = clock.Add(between(10, 20))
				old := dateOnly(created).AddDate(0, 3, 0)
				if _, err := tx.ExecContext(ctx, `INSERT INTO change_extensions (change_id, old_expires_on, new_expires_on, reason, requested_by,
					requested_at, decision, decided_by, signed_name, decided_at, signature_method) VALUES ($1,$2,$3,'Parts for the permanent repair are late',
					$4,$5,'approved',$6,$7,$5,'password')`, id, old, old.AddDate(0, 1, 0), ines.ID, clock, cora.ID, cora.Name); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE changes SET expires_on = $1 WHERE id = $2`, old.AddDate(0, 1, 0), id); err != nil {
					return err
				}
			}
			clock = clock.Add(between(10, 30))
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET reverted_at = $1 WHERE id = $2`, clock, id); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, id, ines, "", "reverted", "stage", "", "Temporary equipment removed, P&IDs restored"); err != nil {
				return err
			}
		} else if pssr {
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET startup_at = $1 WHERE id = $2`, clock, id); err != nil {
				return err
			}
		}
		if err := move(StageCloseout, ""); err != nil {
			return err
		}
		clock = clock.Add(between(1, 8*pace))
		if clock.After(now) {
			clock = now.Add(-time.Hour)
		}
		if _, err := s.sign(ctx, tx, cora, d, ActClose, DecisionApproved, 0, "", sig); err != nil {
			return err
		}
		if err := move(StageClosed, "closed_at = $3", clock); err != nil {
			return err
		}
	}
	return nil
}
