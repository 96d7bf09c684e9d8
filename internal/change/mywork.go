package change

import (
	"context"
	"time"
)

// The rules of My work, shared by the home page and /api/v1/my-work:
// how long something has waited for a user, and when it is overdue.

// DaysWaiting is the number of whole UTC calendar days from since to today.
func DaysWaiting(since, today time.Time) int { return daysBetween(since, today) }

// WaitedTooLong reports whether something that has waited days for a
// user is overdue: from the day the first reminder goes out.
func (rs *ReminderSettings) WaitedTooLong(days int) bool { return days >= rs.PendingAfterDays }

// PastDue reports whether a due date has passed: it is before today's
// UTC date. A nil date is never past due.
func PastDue(due *time.Time, today time.Time) bool {
	return due != nil && dateOnly(*due).Before(dateOnly(today))
}

// ExpiryPassed reports whether c is a live temporary change past its
// expiry date. A draft's expiry does not run yet.
func (c *Change) ExpiryPassed(today time.Time) bool {
	return c.Duration.IsTemporary() && c.ExpiresOn != nil && c.RevertedAt == nil && c.Stage.IsOpen() &&
		c.Stage != StageDraft && PastDue(c.ExpiresOn, today)
}

// WaitedTooLong reports whether something else of this work (a draft
// returned for revision) that has waited days is overdue, by the same
// reminder threshold as the items.
func (w *Work) WaitedTooLong(days int) bool { return w.reminders.WaitedTooLong(days) }

// markWaiting fills in how long each item of w has waited and whether it
// is overdue, as of now: past its due date, or waiting as long as the
// reminder threshold.
func (s *Service) markWaiting(ctx context.Context, w *Work) error {
	rs, err := s.ReminderSettings(ctx)
	if err != nil {
		return err
	}
	w.reminders = rs
	today := s.now()
	for _, items := range [][]WorkItem{w.Reviews, w.Approvals, w.Acknowledgements, w.Extensions, w.ToConfirm, w.PSSR} {
		for i := range items {
			it := &items[i]
			if it.Since != nil {
				it.DaysWaiting = DaysWaiting(*it.Since, today)
				it.Overdue = rs.WaitedTooLong(it.DaysWaiting)
			}
			it.Overdue = it.Overdue || PastDue(it.DueOn, today)
		}
	}
	return nil
}
