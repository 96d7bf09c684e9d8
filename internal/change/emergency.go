package change

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
)

// An emergency change (CCPS's emergency MOC) is implemented first. After
// it is submitted, an approver or MOC coordinator of the site other than
// the initiator signs its emergency authorisation ("authorised for
// implementation before full review"). From then on two things run at
// once: the implementation (actions, the PSSR when screening asked for
// one, startup) in EmergencyStage, and the reviews and approvals in
// Stage. The full review is due by the review deadline; the last
// approval moves Stage to where the implementation has got to.

// WorkingDaysAfter is the date n working days (Monday to Friday) after
// t's date in loc, as a date (UTC midnight) like the other dates.
func WorkingDaysAfter(t time.Time, loc *time.Location, n int) time.Time {
	l := t.In(loc)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return d
}

// authorizeEmergency records the signed emergency authorisation and
// starts the implementation, setting the review deadline from the
// site's setting unless an earlier one was given.
func (s *Service) authorizeEmergency(ctx context.Context, tx *sql.Tx, actor *auth.User, d *Detail, comment string, sig Signature) error {
	c := d.Change
	if _, err := s.sign(ctx, tx, actor, d, ActAuthorizeEmergency, DecisionAuthorized, 0, comment, sig); err != nil {
		return err
	}
	ss, err := siteSettings(ctx, tx, c.SiteID)
	if err != nil {
		return err
	}
	now := s.now()
	deadline := WorkingDaysAfter(now, ss.Location(), ss.EmergencyReviewDays)
	if c.ReviewDeadline != nil && c.ReviewDeadline.Before(deadline) {
		deadline = *c.ReviewDeadline
	}
	old := ""
	if c.ReviewDeadline != nil {
		old = c.ReviewDeadline.Format(time.DateOnly)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE changes SET emergency_authorized_at = $1, emergency_stage = $2, review_deadline = $3,
		updated_at = $1 WHERE id = $4`, now, string(StageImplementation), deadline, c.ID); err != nil {
		return err
	}
	c.EmergencyAuthorizedAt, c.EmergencyStage, c.ReviewDeadline = &now, StageImplementation, &deadline
	if err := s.audit(ctx, tx, c.ID, actor, "", "emergency_authorized", "review_deadline", old,
		fmt.Sprintf("implementation may start before full review; full review due %s", deadline.Format(time.DateOnly))); err != nil {
		return err
	}
	coords, err := s.coordinators(ctx, tx, c.SiteID)
	if err != nil {
		return err
	}
	to := append(append(coords, c.InitiatorID), d.pendingDeciders()...)
	return s.notify(ctx, tx, notify.TypeApproved, c, "Emergency authorised: "+c.Number+" "+c.Title,
		fmt.Sprintf("%s authorised %s for implementation before full review. The full review (reviews and approvals) is due by %s.",
			actor.Name, c.Number, deadline.Format(time.DateOnly)), to...)
}

// pendingDeciders are the reviewers and approvers of the current round
// who have not decided yet.
func (d *Detail) pendingDeciders() []int64 {
	var out []int64
	for _, r := range d.Reviews {
		if r.Round == d.Change.Round && r.DecidedAt == nil && r.ReviewerID != 0 {
			out = append(out, r.ReviewerID)
		}
	}
	for _, a := range d.Approvals {
		if a.Round == d.Change.Round && a.DecidedAt == nil {
			out = append(out, a.ApproverID)
		}
	}
	return out
}

// setWorkStage moves the implementation of the change: its stage, or
// for an emergency change under way before its full review, its
// EmergencyStage (audited alike, so the trail shows both tracks).
func (s *Service) setWorkStage(ctx context.Context, tx *sql.Tx, actor *auth.User, c *Change, to Stage, extra string, args ...any) error {
	if !c.UnderEmergency() {
		return s.setStage(ctx, tx, actor, c, to, extra, args...)
	}
	if err := s.moveStageColumn(ctx, tx, actor, c, "emergency_stage", c.EmergencyStage, to, extra, args...); err != nil {
		return err
	}
	c.EmergencyStage = to
	return nil
}

// finishEmergencyReview is the last approval of an emergency change that
// was implemented first: the stage takes up where the implementation is.
func (s *Service) finishEmergencyReview(ctx context.Context, tx *sql.Tx, actor *auth.User, c *Change, now time.Time) error {
	to := c.EmergencyStage
	late := ""
	if c.ReviewDeadline != nil && dateOnly(now).After(*c.ReviewDeadline) {
		late = fmt.Sprintf(" (due %s: late)", c.ReviewDeadline.Format(time.DateOnly))
	}
	if err := s.audit(ctx, tx, c.ID, actor, "", "emergency_review_complete", "stage", string(c.Stage),
		"full review complete"+late); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE changes SET emergency_stage = '' WHERE id = $1`, c.ID); err != nil {
		return err
	}
	c.EmergencyStage = ""
	return s.setStage(ctx, tx, actor, c, to, "approved_at = $3", now)
}
