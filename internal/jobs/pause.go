package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/store"
)

// senderPauses is what this queue knows of its sender mailboxes' pauses:
// the latest end it set or read for each. The database
// (email_sender_pauses) is the truth shared by replicas; this saves the
// other workers of this process from sending in the moment before they
// read it.
type senderPauses struct {
	mu    sync.Mutex
	until map[string]time.Time // by senderKey
}

func (p *senderPauses) get(key string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.until[key]
}

// raise moves key's end later, never earlier.
func (p *senderPauses) raise(key string, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.until == nil {
		p.until = map[string]time.Time{}
	}
	if until.After(p.until[key]) {
		p.until[key] = until
	}
}

// senderKey is the key of a sender mailbox in the pause and budget
// tables: the mailbox, case-insensitively.
func senderKey(sender string) string { return strings.ToLower(sender) }

// pausedUntil is when the sender mailbox may be sent from again: after
// the end of a pause any replica recorded, or zero when none is running.
// A pause that cannot be read holds the mailbox for the first step of the
// backoff, as a budget that cannot be counted does: sending into a
// Retry-After another replica was given is what prolongs throttling.
func (q *Queue) pausedUntil(ctx context.Context, sender string) time.Time {
	now := q.opt.Now()
	key := senderKey(sender)
	if until := q.pause.get(key); until.After(now) {
		return until
	}
	var until time.Time
	err := q.db.SQL.QueryRowContext(ctx, `SELECT paused_until FROM email_sender_pauses WHERE sender = $1`, key).Scan(&until)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return time.Time{}
		}
		hold := time.Duration(float64(q.opt.RetryBase) * q.opt.Jitter())
		q.log.WarnContext(ctx, "could not read the sender mailbox's pause, so its emails wait instead of being sent blindly",
			"sender", sender, "err", err, "retry_in", hold.Round(time.Millisecond).String())
		return now.Add(hold)
	}
	q.pause.raise(key, until)
	if until.After(now) {
		return until
	}
	return time.Time{}
}

// throttlePause is how long Graph's answer pauses the whole sender
// mailbox: the Retry-After of a 429 or 503, or, for a 429 without one,
// the email's own backoff (throttling belongs to the mailbox). Zero for
// every other failure.
func throttlePause(me *mail.Error, backoff time.Duration) time.Duration {
	switch {
	case me.Status != http.StatusTooManyRequests && me.Status != http.StatusServiceUnavailable:
		return 0
	case me.RetryAfter > 0:
		return me.RetryAfter
	case me.Status == http.StatusTooManyRequests:
		return backoff
	}
	return 0
}

// pauseSender records that no email may be sent from the sender mailbox
// until until, in this process at once and for every replica in the
// database. A pause already reaching further is kept. The first replica
// to record a pause (or to extend one) logs it.
func (q *Queue) pauseSender(ctx context.Context, sender string, until time.Time, me *mail.Error) {
	q.pause.raise(senderKey(sender), until)
	now := q.opt.Now().UTC()
	res, err := q.db.SQL.ExecContext(ctx, `
		INSERT INTO email_sender_pauses (sender, paused_until, reason, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (sender) DO UPDATE SET paused_until = excluded.paused_until, reason = excluded.reason, updated_at = excluded.updated_at
		WHERE excluded.paused_until > email_sender_pauses.paused_until`,
		senderKey(sender), until.UTC(), me.Error(), now)
	if err != nil {
		q.log.WarnContext(ctx, "could not share the sender mailbox's pause with other replicas", "err", err)
		return
	}
	if n, _ := res.RowsAffected(); n > 0 {
		q.log.WarnContext(ctx, fmt.Sprintf("Microsoft Graph asked to wait (Retry-After): no email is sent from %s, by any replica, until %s", sender, until.UTC().Format(time.RFC3339)),
			"sender", sender, "paused_for", until.Sub(now).Round(time.Millisecond).String(), "http_status", me.Status, "graph_request_id", me.RequestID)
	}
}

// SenderPause is a sender mailbox that Graph's Retry-After holds.
type SenderPause struct {
	Sender string    `json:"sender"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

// SenderPauses lists the sender mailboxes paused at now, for the admin
// pages.
func SenderPauses(ctx context.Context, q store.Querier, now time.Time) ([]SenderPause, error) {
	rows, err := q.QueryContext(ctx, `SELECT sender, paused_until, reason FROM email_sender_pauses WHERE paused_until > $1 ORDER BY sender`, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("sender pauses: %w", err)
	}
	defer rows.Close()
	var out []SenderPause
	for rows.Next() {
		var p SenderPause
		if err := rows.Scan(&p.Sender, &p.Until, &p.Reason); err != nil {
			return nil, fmt.Errorf("sender pauses: %w", err)
		}
		p.Until = p.Until.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}
