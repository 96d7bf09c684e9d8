package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mocpcr/mocpcr/internal/store"
)

// ThrottleConfig limits password guessing. Failures are counted per
// account and per client address within Window; reaching a limit locks
// that key for Lockout.
type ThrottleConfig struct {
	AccountLimit int
	IPLimit      int
	Window       time.Duration
	Lockout      time.Duration
}

// DefaultThrottle: five wrong passwords lock an account for 15 minutes;
// twenty from one address lock that address (password spraying).
var DefaultThrottle = ThrottleConfig{AccountLimit: 5, IPLimit: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

// ThrottledError says sign-in is locked for a while.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	m := int((e.RetryAfter + time.Minute - 1) / time.Minute)
	if m < 1 {
		m = 1
	}
	unit := "minutes"
	if m == 1 {
		unit = "minute"
	}
	return fmt.Sprintf("Too many failed sign-ins; try again in %d %s", m, unit)
}

// ErrBadCredentials is the one answer for an unknown email, a wrong
// password, a disabled account or an account without a password, so the
// sign-in form does not reveal which accounts exist.
var ErrBadCredentials = errors.New("email or password is not correct")

// dummyHash is a bcrypt hash at bcrypt.DefaultCost (of a password nobody
// has), written out so that no process computes it or keeps it as state.
const dummyHash = "$2a$10$ReArRgzcWa/gOokbDroN1uNF/XMjmD0YnM6eZFBURGpXDVNc.fgFe"

// spendBcrypt costs as much as a real password check, so an unknown
// email answers as slowly as a known one.
func spendBcrypt(pw string) {
	_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(pw))
}

// PasswordLogin checks a local account's email and password, applying
// the throttle. It returns *ThrottledError when locked, ErrBadCredentials
// when the credentials are wrong, or the user.
func PasswordLogin(ctx context.Context, db *store.DB, email, password, clientIP string, now time.Time, tc ThrottleConfig) (*User, error) {
	email = strings.TrimSpace(email)
	keys := []throttleKey{{"account:" + strings.ToLower(email), tc.AccountLimit}, {"ip:" + clientIP, tc.IPLimit}}
	for _, k := range keys {
		if until, err := lockedUntil(ctx, db.SQL, k.key, now); err != nil {
			return nil, err
		} else if until.After(now) {
			return nil, &ThrottledError{RetryAfter: until.Sub(now)}
		}
	}
	var id int64
	var hash sql.NullString
	var disabled bool
	err := db.SQL.QueryRowContext(ctx, `SELECT id, password_hash, disabled FROM users WHERE lower(email) = lower($1)`, email).
		Scan(&id, &hash, &disabled)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	ok := false
	if err == nil && hash.Valid && hash.String != "" {
		ok = CheckPassword(hash.String, password)
	} else {
		spendBcrypt(password)
	}
	if ok && !disabled {
		if _, err := db.SQL.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = $1`, keys[0].key); err != nil {
			return nil, fmt.Errorf("sign in: %w", err)
		}
		return UserByID(ctx, db.SQL, id)
	}
	var locked time.Duration
	for _, k := range keys {
		d, err := recordFailure(ctx, db, k, now, tc)
		if err != nil {
			return nil, err
		}
		locked = max(locked, d)
	}
	if locked > 0 {
		return nil, &ThrottledError{RetryAfter: locked}
	}
	return nil, ErrBadCredentials
}

type throttleKey struct {
	key   string
	limit int
}

func lockedUntil(ctx context.Context, q store.Querier, key string, now time.Time) (time.Time, error) {
	var until sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT locked_until FROM login_throttle WHERE key = $1`, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("check sign-in throttle: %w", err)
	}
	return until.Time, nil
}

// recordFailure counts one failure for a key and returns the lockout it
// triggered, if any. The UPDATE takes the row lock (PostgreSQL) or the
// write lock (SQLite), so concurrent failures on several replicas are all
// counted.
func recordFailure(ctx context.Context, db *store.DB, k throttleKey, now time.Time, tc ThrottleConfig) (time.Duration, error) {
	var locked time.Duration
	now = now.UTC()
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO login_throttle (key, failures, window_start) VALUES ($1, 0, $2) ON CONFLICT (key) DO NOTHING`, k.key, now); err != nil {
			return err
		}
		var failures int
		var start time.Time
		if err := tx.QueryRowContext(ctx,
			`UPDATE login_throttle SET failures = failures + 1 WHERE key = $1 RETURNING failures, window_start`, k.key).
			Scan(&failures, &start); err != nil {
			return err
		}
		if now.Sub(start) > tc.Window {
			failures = 1
			if _, err := tx.ExecContext(ctx, `UPDATE login_throttle SET failures = 1, window_start = $2 WHERE key = $1`, k.key, now); err != nil {
				return err
			}
		}
		if failures >= k.limit {
			locked = tc.Lockout
			_, err := tx.ExecContext(ctx, `UPDATE login_throttle SET failures = 0, window_start = $2, locked_until = $3 WHERE key = $1`,
				k.key, now, now.Add(tc.Lockout))
			return err
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record failed sign-in: %w", err)
	}
	return locked, nil
}

// SetPassword stores a new password hash (from HashPassword) for a user.
func SetPassword(ctx context.Context, q store.Querier, userID int64, hash string) error {
	if _, err := q.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, nullString(hash), userID); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// HasPassword reports whether a user can sign in with a local password
// (and so re-authenticates with it).
func HasPassword(ctx context.Context, q store.Querier, userID int64) (bool, error) {
	var hash sql.NullString
	if err := q.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&hash); err != nil {
		return false, fmt.Errorf("load user: %w", err)
	}
	return hash.Valid && hash.String != "", nil
}

// CheckUserPassword verifies a signed-in user's password (for
// re-authentication before a signature). Failures count towards the
// account's throttle like sign-in failures do.
func CheckUserPassword(ctx context.Context, db *store.DB, userID int64, password string, now time.Time, tc ThrottleConfig) error {
	var email string
	var hash sql.NullString
	if err := db.SQL.QueryRowContext(ctx, `SELECT email, password_hash FROM users WHERE id = $1`, userID).Scan(&email, &hash); err != nil {
		return fmt.Errorf("load user: %w", err)
	}
	k := throttleKey{"account:" + strings.ToLower(email), tc.AccountLimit}
	if until, err := lockedUntil(ctx, db.SQL, k.key, now); err != nil {
		return err
	} else if until.After(now) {
		return &ThrottledError{RetryAfter: until.Sub(now)}
	}
	if hash.Valid && CheckPassword(hash.String, password) {
		return nil
	}
	d, err := recordFailure(ctx, db, k, now, tc)
	if err != nil {
		return err
	}
	if d > 0 {
		return &ThrottledError{RetryAfter: d}
	}
	return ErrBadCredentials
}
