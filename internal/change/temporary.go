package change

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// A temporary change (a bypass, a temporary instruction) is In service
// from startup, or the end of implementation without a PSSR, with its
// expiry counting down. From there it leaves the plant one of two ways:
//
//   - reverted: restore actions are created (remove the temporary
//     equipment or instruction, restore the P&IDs and procedures) and the
//     change waits in Close-out until they are done;
//   - made permanent: the change's approvers re-approve it, signed, as
//     rigorously as a new change (a re-review first if the coordinator
//     asks for one), in a new round. Refused, it stays In service.

// inServiceStage is where a change goes once it is started up: In
// service for a temporary change, Close-out otherwise.
func inServiceStage(c *Change) Stage {
	if c.Duration.IsTemporary() && c.RevertedAt == nil {
		return StageInService
	}
	return StageCloseout
}

// requestPermanent starts the re-approval of making the temporary change
// permanent: a new round with the current round's approvers (and, with
// rereview, its reviewers), in Review or Approval.
func (s *Service) requestPermanent(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail, reason string, rereview bool) error {
	c := d.Change
	if reason == "" {
		return invalid("comment", "is required: say why the temporary change should stay for good")
	}
	var approvals []Approval
	for _, a := range d.Approvals {
		if a.Round == c.Round {
			approvals = append(approvals, a)
		}
	}
	if len(approvals) == 0 {
		return conflict("%s has no approvers to re-approve it; it cannot be made permanent here", c.Number)
	}
	var reviews []Review
	if rereview {
		for _, r := range d.Reviews {
			if r.Round == c.Round && r.ReviewerID != 0 {
				reviews = append(reviews, r)
			}
		}
		if len(reviews) == 0 {
			return invalid("rereview", "%s had no reviews to repeat; ask for the re-approval alone", c.Number)
		}
	}
	round := c.Round + 1
	for _, a := range approvals {
		if _, err := tx.ExecContext(ctx, `INSERT INTO change_approvals (change_id, round, stage_no, approver_id) VALUES ($1,$2,$3,$4)`,
			c.ID, round, a.StageNo, a.ApproverID); err != nil {
			return fmt.Errorf("re-approval of %s: %w", c.Number, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE changes SET round = $1, permanent_round = $1, updated_at = $2 WHERE id = $3`,
		round, s.now(), c.ID); err != nil {
		return err
	}
	c.Round, c.PermanentRound = round, round
	what := "re-approval"
	if rereview {
		what = "re-review and re-approval"
	}
	if err := s.audit(ctx, tx, c.ID, actor, "", "make_permanent_requested", "duration", string(c.Duration),
		fmt.Sprintf("%s requested (round %d): %s", what, round, reason)); err != nil {
		return err
	}
	if err := s.notify(ctx, tx, notify.TypeSubmitted, c, "Make permanent requested: "+c.Number+" "+c.Title,
		fmt.Sprintf("%s asked for the %s of %s as a permanent change: %s. It stays temporary (expiry %s) until then.",
			actor.Name, what, c.Number, reason, c.ExpiresOn.Format(time.DateOnly)), c.InitiatorID); err != nil {
		return err
	}
	if rereview {
		var reviewers []int64
		for _, r := range reviews {
			if _, err := tx.ExecContext(ctx, `INSERT INTO change_reviews (change_id, round, discipline, reviewer_id, requested_at)
				VALUES ($1,$2,$3,$4,$5)`, c.ID, round, r.Discipline, r.ReviewerID, s.now()); err != nil {
				return fmt.Errorf("re-review of %s: %w", c.Number, err)
			}
			reviewers = append(reviewers, r.ReviewerID)
		}
		if err := s.setStage(ctx, tx, actor, c, StageReview, ""); err != nil {
			return err
		}
		return s.notify(ctx, tx, notify.TypeReviewRequested, c, "Re-review to make permanent: "+c.Number+" "+c.Title,
			"Temporary change "+c.Number+" is to become permanent: please review it again for your discipline.", reviewers...)
	}
	if err := s.setStage(ctx, tx, actor, c, StageApproval, ""); err != nil {
		return err
	}
	return s.requestApprovalStage(ctx, tx, c, 1)
}

// makePermanent ends a re-approval that every approver signed: the change
// is permanent, its expiry gone, and it waits for its close-out.
func (s *Service) makePermanent(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail) error {
	c := d.Change
	old := string(c.Duration)
	if _, err := tx.ExecContext(ctx, `UPDATE changes SET duration = $1, expires_on = NULL, updated_at = $2 WHERE id = $3`,
		string(DurationPermanent), s.now(), c.ID); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, c.ID, actor, "", "field_changed", "duration", old, string(DurationPermanent)); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, c.ID, actor, "", "made_permanent", "duration", old, fmt.Sprintf("re-approved in round %d", c.Round)); err != nil {
		return err
	}
	c.Duration, c.ExpiresOn = DurationPermanent, nil
	if err := s.setStage(ctx, tx, actor, c, StageCloseout, ""); err != nil {
		return err
	}
	coords, err := s.coordinators(ctx, tx, c.SiteID)
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, notify.TypeApproved, c, c.Number+" is now permanent", c.Title+": every approver re-approved it.",
		append(append(coords, c.InitiatorID), d.currentApprovers()...)...)
}

// refusePermanent ends a re-approval or re-review that was refused: the
// change stays a temporary change in service.
func (s *Service) refusePermanent(ctx context.Context, tx *sql.Tx, actor *auth.User, c *Change, why string) error {
	if err := s.setStage(ctx, tx, actor, c, StageInService, ""); err != nil {
		return err
	}
	coords, err := s.coordinators(ctx, tx, c.SiteID)
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, notify.TypeRejected, c, "Make permanent refused: "+c.Number,
		why+" It stays temporary, in service until "+c.ExpiresOn.Format(time.DateOnly)+": revert it or extend it.",
		append(coords, c.InitiatorID)...)
}

// revert takes a temporary change out of service: it records the revert
// and creates the restore actions, which Close-out waits for.
func (s *Service) revert(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail, comment string) error {
	c := d.Change
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE changes SET reverted_at = $1, updated_at = $1 WHERE id = $2`, now, c.ID); err != nil {
		return err
	}
	c.RevertedAt = &now
	if err := s.audit(ctx, tx, c.ID, actor, "", "reverted", "reverted", "", comment); err != nil {
		return err
	}
	for _, na := range restoreActions(c) {
		// Each is created once, even if the revert is recorded again.
		if slices.ContainsFunc(d.Actions, func(a ActionItem) bool { return a.Title == na.Title }) {
			continue
		}
		na.OwnerID = c.InitiatorID
		if _, err := s.insertAction(ctx, tx, actor, c, na); err != nil {
			return err
		}
	}
	return s.setStage(ctx, tx, actor, c, StageCloseout, "")
}

// restoreActions are what taking a temporary change out involves.
func restoreActions(c *Change) []NewAction {
	what := "the temporary equipment or instruction"
	if len(c.EquipmentTags) > 0 {
		what += " (" + strings.Join(c.EquipmentTags, ", ") + ")"
	}
	if c.Kind == KindPCR {
		return []NewAction{
			{Title: "Withdraw the temporary procedure or instruction of " + c.Number, Kind: ActionProcedure},
			{Title: "Restore the documents and operating procedures to their state before " + c.Number, Kind: ActionProcedure},
		}
	}
	return []NewAction{
		{Title: "Remove " + what, Kind: ActionGeneral},
		{Title: "Restore the P&IDs and process safety information to their state before " + c.Number, Kind: ActionPSI},
		{Title: "Restore the operating procedures and withdraw the temporary instructions of " + c.Number, Kind: ActionProcedure},
	}
}

// durationLimit reports an expiry of c further from its filing than the
// site's maximum total duration allows.
func (s *Service) durationLimit(ctx context.Context, q store.Querier, c *Change, creating bool, p *problem.List) error {
	ss, err := siteSettings(ctx, q, c.SiteID)
	if err != nil || ss.MaxTemporaryDays <= 0 {
		return err
	}
	from := dateOnly(s.now())
	if !creating {
		from = dateOnly(c.CreatedAt)
	}
	if days := daysBetween(from, *c.ExpiresOn); days > ss.MaxTemporaryDays {
		p.Invalid("expires_on", "%s is %d days after filing on %s; the site allows a temporary change at most %d days (maximum total duration)",
			c.ExpiresOn.Format(time.DateOnly), days, from.Format(time.DateOnly), ss.MaxTemporaryDays)
	}
	return nil
}

// extensionLimit refuses an extension of c to newExpiry that the site's
// limits do not allow, naming the limit.
func (s *Service) extensionLimit(ctx context.Context, q store.Querier, d *Detail, newExpiry time.Time) error {
	c := d.Change
	ss, err := siteSettings(ctx, q, c.SiteID)
	if err != nil {
		return err
	}
	var site string
	if err := q.QueryRowContext(ctx, `SELECT code FROM sites WHERE id = $1`, c.SiteID).Scan(&site); err != nil {
		return err
	}
	done := 0
	for _, e := range d.Extensions {
		if e.Decision == DecisionApproved {
			done++
		}
	}
	if done >= ss.MaxExtensions {
		return conflict("%s has been extended %s, the most site %s allows (maximum number of extensions: %d). Make it permanent or revert it.",
			c.Number, count(done, "time", "times"), site, ss.MaxExtensions)
	}
	if ss.MaxTemporaryDays > 0 {
		from, what := c.CreatedAt, "filing"
		if c.StartupAt != nil {
			from, what = *c.StartupAt, "startup"
		}
		if days := daysBetween(from, newExpiry); days > ss.MaxTemporaryDays {
			return invalid("expires_on", "%s would keep %s temporary for %d days from %s on %s; site %s allows at most %d days (maximum total duration). Make it permanent instead.",
				newExpiry.Format(time.DateOnly), c.Number, days, what, from.Format(time.DateOnly), site, ss.MaxTemporaryDays)
		}
	}
	return nil
}
