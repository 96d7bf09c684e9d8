package notify

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

// typeLabels describe each type on the preferences page, in display order.
var typeLabels = []struct {
	Type  Type
	Label string
}{
	{TypeReviewRequested, "A review is requested from you"},
	{TypeApprovalRequested, "An approval is requested from you"},
	{TypeActionAssigned, "An action is assigned to you"},
	{TypeAcknowledgement, "An acknowledgement is requested from you"},
	{TypeSubmitted, "A change is submitted"},
	{TypeApproved, "A change is approved"},
	{TypeDelegateDecided, "Your delegate decides one of your approvals"},
	{TypeRejected, "A change is rejected"},
	{TypeReturned, "A change is returned for rework"},
	{TypeActionDueSoon, "An action is due soon"},
	{TypeActionOverdue, "An action is overdue"},
	{TypePSSRReady, "A pre-startup safety review is ready"},
	{TypeStartupAuthorized, "Start-up is authorized"},
	{TypeClosed, "A change is closed"},
	{TypeVoided, "A change is voided"},
	{TypeTemporaryExpiring, "A temporary change is about to expire"},
	{TypeEmergencyOverdue, "An emergency change is overdue for review"},
	{TypeReminder, "Reminders"},
	{TypeEscalation, "Escalations"},
	{TypeSecretExpiring, "The email client secret is about to expire (admins)"},
	{TypeEmailBudget, "The sender mailbox nears its daily email limit (admins)"},
	{TypeTest, "Test notifications"},
}

// Types lists every notification type in display order.
func Types() []Type {
	out := make([]Type, len(typeLabels))
	for i, t := range typeLabels {
		out[i] = t.Type
	}
	return out
}

// Label is a human description of t.
func Label(t Type) string {
	for _, l := range typeLabels {
		if l.Type == t {
			return l.Label
		}
	}
	return string(t)
}

// Pref is one type's email setting for a user.
type Pref struct {
	Type  Type   `json:"type"`
	Label string `json:"label"`
	Email bool   `json:"email"`
	// Locked types ask the user to act; their email cannot be turned off.
	Locked bool `json:"locked"`
}

// Prefs returns userID's email setting for every type. Email is on unless
// the user turned it off; in-app notifications are always on.
func Prefs(ctx context.Context, q store.Querier, userID int64) ([]Pref, error) {
	rows, err := q.QueryContext(ctx, `SELECT type, email FROM notification_prefs WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("read notification preferences: %w", err)
	}
	defer rows.Close()
	off := map[Type]bool{}
	for rows.Next() {
		var t string
		var email bool
		if err := rows.Scan(&t, &email); err != nil {
			return nil, fmt.Errorf("read notification preferences: %w", err)
		}
		off[Type(t)] = !email
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Pref, 0, len(typeLabels))
	for _, l := range typeLabels {
		locked := IsActionRequired(l.Type)
		out = append(out, Pref{Type: l.Type, Label: l.Label, Email: locked || !off[l.Type], Locked: locked})
	}
	return out, nil
}

// SetPrefs changes userID's email settings for the given types; types not
// given keep their setting. Turning off an action-required type, or naming
// an unknown type, is a problem.Invalid error naming the type.
func SetPrefs(ctx context.Context, q store.Querier, userID int64, email map[Type]bool, now time.Time) error {
	known := Types()
	for t, on := range email {
		if !slices.Contains(known, t) {
			return invalid("email."+string(t), "email.%s: unknown notification type", t)
		}
		if !on && IsActionRequired(t) {
			return invalid("email."+string(t), "email.%s: %s asks you to act, so its email cannot be turned off", t, Label(t))
		}
	}
	for _, t := range known {
		on, ok := email[t]
		if !ok {
			continue
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM notification_prefs WHERE user_id = $1 AND type = $2`, userID, string(t)); err != nil {
			return fmt.Errorf("save notification preferences: %w", err)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO notification_prefs (user_id, type, email, updated_at) VALUES ($1, $2, $3, $4)`,
			userID, string(t), on, now.UTC()); err != nil {
			return fmt.Errorf("save notification preferences: %w", err)
		}
	}
	return nil
}

// EmailEnabled reports whether userID gets email for type t.
func EmailEnabled(ctx context.Context, q store.Querier, userID int64, t Type) (bool, error) {
	if IsActionRequired(t) {
		return true, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM notification_prefs WHERE user_id = $1 AND type = $2 AND email = FALSE`, userID, string(t)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read notification preference: %w", err)
	}
	return n == 0, nil
}

// SaveSettings changes userID's email settings and, unless dailyDigest is
// nil, the daily digest choice, in one transaction: both are saved or
// neither is.
func SaveSettings(ctx context.Context, db *store.DB, userID int64, email map[Type]bool, dailyDigest *bool, now time.Time) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		if dailyDigest != nil {
			if err := SetDailyDigest(ctx, tx, userID, *dailyDigest, now); err != nil {
				return err
			}
		}
		return SetPrefs(ctx, tx, userID, email, now)
	})
}
