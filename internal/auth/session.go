package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

// Sign-in methods recorded on a session.
const (
	MethodPassword = "password"
	MethodEntra    = "entra"
)

// SessionConfig holds the session lifetimes.
type SessionConfig struct {
	// IdleTimeout ends a session not used for this long.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after sign-in, however busy.
	AbsoluteTimeout time.Duration
}

// DefaultSessionConfig is a working day idle, a week at most.
var DefaultSessionConfig = SessionConfig{IdleTimeout: 8 * time.Hour, AbsoluteTimeout: 7 * 24 * time.Hour}

// Session is a signed-in browser.
type Session struct {
	ID        int64
	UserID    int64
	CSRFToken string
	Method    string
	CreatedAt time.Time
	// LastSeenAt is updated at most once a minute.
	LastSeenAt time.Time
	// AuthAt is when the user last entered a credential: the password
	// sign-in or re-authentication, or for Entra ID the ID token's
	// auth_time (1970 when the token did not say: far outside any
	// signature window). Signatures are measured from it.
	AuthAt time.Time
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession starts a session for a user who entered their credential
// now and returns the cookie value. Only its hash is stored.
func CreateSession(ctx context.Context, q store.Querier, userID int64, method string, now time.Time) (string, *Session, error) {
	return CreateSessionAuthenticatedAt(ctx, q, userID, method, now, now)
}

// CreateSessionAuthenticatedAt is CreateSession for a sign-in whose
// credential was entered at authAt, which may be long before now (single
// sign-on reusing a Microsoft session); the zero time means unknown.
func CreateSessionAuthenticatedAt(ctx context.Context, q store.Querier, userID int64, method string, now, authAt time.Time) (string, *Session, error) {
	tok := randomToken()
	now = now.UTC()
	if authAt.IsZero() {
		// auth_at is NOT NULL; 1970 can never be within a signature window.
		authAt = time.Unix(0, 0)
	}
	s := &Session{UserID: userID, CSRFToken: randomToken(), Method: method, CreatedAt: now, LastSeenAt: now, AuthAt: authAt.UTC()}
	err := q.QueryRowContext(ctx,
		`INSERT INTO sessions (token_hash, user_id, csrf_token, method, created_at, last_seen_at, auth_at)
		 VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id`,
		HashToken(tok), userID, s.CSRFToken, method, now, s.AuthAt).Scan(&s.ID)
	if err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	return tok, s, nil
}

// SessionByTokenBatched returns the live session for a cookie value, or
// store.ErrNotFound when there is none, it timed out, or its user is
// disabled. An expired session is deleted on the way. The last-seen time
// is kept in touches (see Touches) instead of written at once; nil
// touches writes it at once. A pending time in touches counts for the
// idle timeout.
func SessionByTokenBatched(ctx context.Context, q store.Querier, tok string, now time.Time, cfg SessionConfig, touches *Touches) (*Session, error) {
	if tok == "" {
		return nil, store.ErrNotFound
	}
	s := &Session{}
	var disabled bool
	err := q.QueryRowContext(ctx,
		`SELECT s.id, s.user_id, s.csrf_token, s.method, s.created_at, s.last_seen_at, s.auth_at, u.disabled
		 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, HashToken(tok)).
		Scan(&s.ID, &s.UserID, &s.CSRFToken, &s.Method, &s.CreatedAt, &s.LastSeenAt, &s.AuthAt, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	if touches != nil {
		if at, ok := touches.session(s.ID); ok && at.After(s.LastSeenAt) {
			s.LastSeenAt = at
		}
	}
	if disabled || now.Sub(s.LastSeenAt) >= cfg.IdleTimeout || now.Sub(s.CreatedAt) >= cfg.AbsoluteTimeout {
		_, _ = q.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, s.ID)
		if touches != nil {
			touches.forgetSession(s.ID)
		}
		return nil, store.ErrNotFound
	}
	// A write per page view would serialise every request on SQLite's
	// single writer; a minute of slack on an 8-hour idle limit is harmless.
	if now.Sub(s.LastSeenAt) > touchEvery {
		s.LastSeenAt = now.UTC()
		if touches != nil {
			touches.touchSession(s.ID, s.LastSeenAt)
			return s, nil
		}
		if _, err := q.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, s.LastSeenAt, s.ID); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return s, nil
}

// DeleteSession ends one session (sign out).
func DeleteSession(ctx context.Context, q store.Querier, tok string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, HashToken(tok)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (sign out everywhere,
// or when an administrator disables the user). It returns how many ended.
func DeleteUserSessions(ctx context.Context, q store.Querier, userID int64) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions: %w", err)
	}
	return res.RowsAffected()
}

// CountUserSessions returns how many sessions a user has open.
func CountUserSessions(ctx context.Context, q store.Querier, userID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE user_id = $1`, userID).Scan(&n)
	return n, err
}

// MarkAuthenticated records that the session's user entered their
// credential again at the given time (now for a password, auth_time for
// Entra ID), which opens the window for electronic signatures.
func MarkAuthenticated(ctx context.Context, q store.Querier, sessionID int64, at time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE sessions SET auth_at = $1 WHERE id = $2`, at.UTC(), sessionID); err != nil {
		return fmt.Errorf("record re-authentication: %w", err)
	}
	return nil
}

// PurgeSessions deletes sessions past either timeout; a periodic job may
// call it. Expired sessions are refused even if never purged.
func PurgeSessions(ctx context.Context, q store.Querier, now time.Time, cfg SessionConfig) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2`,
		now.Add(-cfg.IdleTimeout).UTC(), now.Add(-cfg.AbsoluteTimeout).UTC())
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return res.RowsAffected()
}

type sessionKey struct{}

// WithSession returns a context carrying the browser session.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the request's session, or nil for API-token calls
// and anonymous requests.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// DeleteOtherSessions ends every session of a user except keepID, as after
// a password change: other browsers must sign in with the new password.
func DeleteOtherSessions(ctx context.Context, q store.Querier, userID, keepID int64) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keepID)
	if err != nil {
		return 0, fmt.Errorf("end other sessions: %w", err)
	}
	return res.RowsAffected()
}
