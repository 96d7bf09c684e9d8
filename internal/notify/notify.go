// Package notify turns events into notifications: one in-app notification
// per recipient, always, and one email job per recipient who gets email,
// both written in the caller's transaction so they exist exactly when the
// event does.
package notify

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

// Type names a kind of event. Users choose email on or off per type.
type Type string

// The notification types.
const (
	TypeSubmitted         Type = "change.submitted"
	TypeReviewRequested   Type = "review.requested"
	TypeApprovalRequested Type = "approval.requested"
	TypeApproved          Type = "change.approved"
	// TypeDelegateDecided tells an approver that their delegate decided
	// one of their approvals.
	TypeDelegateDecided   Type = "approval.delegate_decided"
	TypeRejected          Type = "change.rejected"
	TypeReturned          Type = "change.returned"
	TypeActionAssigned    Type = "action.assigned"
	TypeActionDueSoon     Type = "action.due_soon"
	TypeActionOverdue     Type = "action.overdue"
	TypePSSRReady         Type = "pssr.ready"
	TypeStartupAuthorized Type = "startup.authorized"
	TypeClosed            Type = "change.closed"
	TypeVoided            Type = "change.voided"
	TypeTemporaryExpiring Type = "temporary.expiring"
	TypeEmergencyOverdue  Type = "emergency.overdue"
	TypeReminder          Type = "reminder"
	TypeEscalation        Type = "escalation"
	TypeAcknowledgement   Type = "acknowledgement.requested"
	TypeSecretExpiring    Type = "secret.expiring"
	// TypeEmailBudget warns admins that a sender mailbox has used most of
	// its daily recipient budget.
	TypeEmailBudget Type = "email.budget"
	TypeTest        Type = "test"
)

// ActionRequired are the types that ask the recipient to do something;
// their emails cannot be turned off.
var ActionRequired = []Type{TypeReviewRequested, TypeApprovalRequested, TypeActionAssigned, TypeAcknowledgement}

// IsActionRequired reports whether t asks the recipient to act.
func IsActionRequired(t Type) bool { return slices.Contains(ActionRequired, t) }

// Event is something that happened that people must hear about.
type Event struct {
	Type  Type
	Title string
	Body  string
	// Link is a path under the base URL, for example /changes/42.
	Link       string
	Recipients []int64
	// Sender is the mailbox the emails go out from when it is not
	// GRAPH_MAIL_SENDER: the change's site's own sender; "" for the
	// default.
	Sender string
}

// Email is one email job: the queue delivers it after the transaction
// commits.
type Email struct {
	NotificationID int64
	UserID         int64
	Type           Type
	ToEmail        string
	ToName         string
	Subject        string
	Title          string
	Body           string
	Link           string // absolute URL
	// Sender is the sender mailbox, "" for GRAPH_MAIL_SENDER.
	Sender string
}

// EmailQueue stores an email job inside the caller's transaction.
type EmailQueue interface {
	EnqueueTx(ctx context.Context, tx *sql.Tx, e Email) error
}

// Notifier writes notifications.
type Notifier struct {
	// Emails receives one job per recipient who gets email; nil sends none.
	Emails EmailQueue
	// BaseURL makes links absolute in emails.
	BaseURL string
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Dialect is the database engine. On PostgreSQL Notify also issues
	// pg_notify in the transaction, so every replica's live hub hears of
	// the notification when (and only when) the transaction commits.
	Dialect store.Dialect
}

// Notify writes the event's notifications in tx: one in-app notification
// per recipient, always, and one email job per recipient who is not
// disabled and has not turned this type's email off. A recipient who chose
// the daily digest gets no email for a digest type (IsDigestType): the
// notification is held for the digest instead. Duplicate recipients
// are notified once. If tx rolls back, none of it exists.
func (n *Notifier) Notify(ctx context.Context, tx *sql.Tx, ev Event) error {
	if ev.Type == "" || strings.TrimSpace(ev.Title) == "" {
		return fmt.Errorf("notify: event needs a type and a title")
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	recipients := slices.Clone(ev.Recipients)
	slices.Sort(recipients)
	recipients = slices.Compact(recipients)
	for _, uid := range recipients {
		var id int64
		err := tx.QueryRowContext(ctx,
			`INSERT INTO notifications (user_id, type, title, body, link, created_at)
			 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			uid, string(ev.Type), ev.Title, ev.Body, ev.Link, now().UTC()).Scan(&id)
		if err != nil {
			return fmt.Errorf("notify user %d: %w", uid, err)
		}
		if n.Dialect == store.Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, current_schema() || ':' || $2)`, Channel, fmt.Sprint(uid)); err != nil {
				return fmt.Errorf("notify user %d: %w", uid, err)
			}
		}
		if n.Emails == nil {
			continue
		}
		var email, name string
		var disabled bool
		if err := tx.QueryRowContext(ctx, `SELECT email, name, disabled FROM users WHERE id = $1`, uid).Scan(&email, &name, &disabled); err != nil {
			return fmt.Errorf("notify user %d: %w", uid, err)
		}
		if disabled {
			continue
		}
		on, err := EmailEnabled(ctx, tx, uid, ev.Type)
		if err != nil {
			return fmt.Errorf("notify user %d: %w", uid, err)
		}
		if !on {
			continue
		}
		if held, err := holdForDigest(ctx, tx, uid, id, ev.Type, now()); err != nil {
			return fmt.Errorf("notify user %d: %w", uid, err)
		} else if held {
			continue
		}
		if err := n.Emails.EnqueueTx(ctx, tx, Email{
			NotificationID: id, UserID: uid, Type: ev.Type,
			ToEmail: email, ToName: name,
			Subject: ev.Title, Title: ev.Title, Body: ev.Body,
			Link:   strings.TrimRight(n.BaseURL, "/") + ev.Link,
			Sender: ev.Sender,
		}); err != nil {
			return fmt.Errorf("queue email for user %d: %w", uid, err)
		}
	}
	return nil
}
