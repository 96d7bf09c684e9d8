package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// ListUsers returns every user, ordered by name, with roles and sites.
func ListUsers(ctx context.Context, q store.Querier) ([]*User, error) {
	return listUsers(ctx, q, "")
}

// SiteUsers returns the enabled users who work on site siteID (on it, or
// on every site), ordered by name, with roles and sites: the people a
// change's forms offer, read without the users of every other site.
func SiteUsers(ctx context.Context, q store.Querier, siteID int64) ([]*User, error) {
	return listUsers(ctx, q, `IN (SELECT id FROM users WHERE all_sites AND NOT disabled
		UNION SELECT us.user_id FROM user_sites us JOIN users su ON su.id = us.user_id WHERE us.site_id = $1 AND NOT su.disabled)`, siteID)
}

// listUsers reads the users whose id is in (a condition on the id, such
// as "IN (subquery)"; every user when empty).
func listUsers(ctx context.Context, q store.Querier, in string, args ...any) ([]*User, error) {
	// Three queries for any number of users (not three per user): the
	// change list page lists owners on every view.
	only := func(col string) string {
		if in == "" {
			return ""
		}
		return " WHERE " + col + " " + in
	}
	rows, err := q.QueryContext(ctx, `SELECT id, email, name, disabled, manager_id, entra_oid, job_title, all_sites FROM users`+only("id")+
		` ORDER BY lower(name), id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var users []*User
	byID := map[int64]*User{}
	for rows.Next() {
		u := &User{}
		var manager sql.NullInt64
		var oid sql.NullString
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.Disabled, &manager, &oid, &u.JobTitle, &u.AllSites); err != nil {
			rows.Close()
			return nil, err
		}
		u.ManagerID, u.EntraOID = manager.Int64, oid.String
		users = append(users, u)
		byID[u.ID] = u
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT user_id, role, source FROM user_roles`+only("user_id"), args...)
	if err != nil {
		return nil, fmt.Errorf("load roles: %w", err)
	}
	held := map[int64]map[Role]string{}
	for rows.Next() {
		var id int64
		var r, src string
		if err := rows.Scan(&id, &r, &src); err != nil {
			rows.Close()
			return nil, err
		}
		if held[id] == nil {
			held[id] = map[Role]string{}
		}
		held[id][Role(r)] = src
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, u := range users {
		u.setRoles(held[u.ID])
	}
	rows, err = q.QueryContext(ctx, `SELECT user_id, site_id FROM user_sites`+only("user_id")+` ORDER BY user_id, site_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("load sites: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, site int64
		if err := rows.Scan(&id, &site); err != nil {
			return nil, err
		}
		if u := byID[id]; u != nil {
			u.SiteIDs = append(u.SiteIDs, site)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if users == nil {
		users = []*User{}
	}
	return users, nil
}

// UserUpdate is what an administrator may change about a user.
type UserUpdate struct {
	Name  string
	Roles []Role // roles assigned in mocpcr; Entra ID roles are kept
	// AllSites or SiteIDs replace the user's site access; neither leaves
	// the user on no site.
	AllSites  bool
	SiteIDs   []int64
	ManagerID int64 // 0 for none
	Disabled  bool
	// JobTitle, when not nil, replaces the user's job title (printed on
	// their signatures; earlier signatures keep the title they had).
	JobTitle *string
}

// UpdateUser applies an administrator's edit. Disabling a user ends their
// sessions and revokes their API tokens: enabling them again later does
// not bring old tokens back.
func UpdateUser(ctx context.Context, db *store.DB, id int64, up UserUpdate, now time.Time) error {
	up.Name = strings.TrimSpace(up.Name)
	if up.Name == "" {
		return invalid("name", "name is required")
	}
	if up.ManagerID == id {
		return invalid("manager", "manager cannot be the user themself")
	}
	if up.JobTitle != nil {
		t := strings.TrimSpace(*up.JobTitle)
		if msg := JobTitleProblem(t); msg != "" {
			return problem.Field("job_title", msg)
		}
		up.JobTitle = &t
	}
	// Cached copies end when the change is committed (see UserCache).
	return db.Tx(ctx, func(tx *sql.Tx) error {
		var manager any
		if up.ManagerID != 0 {
			if _, err := UserByID(ctx, tx, up.ManagerID); err != nil {
				return invalid("manager", "manager must be an existing user")
			}
			manager = up.ManagerID
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = $1, manager_id = $2, disabled = $3, updated_at = $4 WHERE id = $5`,
			up.Name, manager, up.Disabled, now.UTC(), id)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if up.JobTitle != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET job_title = $1 WHERE id = $2`, *up.JobTitle, id); err != nil {
				return fmt.Errorf("update user: %w", err)
			}
		}
		if err := SetRoles(ctx, tx, id, up.Roles); err != nil {
			return err
		}
		for _, s := range up.SiteIDs {
			if _, err := SiteByID(ctx, tx, s); err != nil {
				return invalid("sites", "sites: site %d does not exist", s)
			}
		}
		if up.AllSites && len(up.SiteIDs) > 0 {
			return problem.Field("sites", AccessProblems(nil, up.SiteIDs, true, false)["sites"])
		}
		if err := SetSites(ctx, tx, id, up.AllSites, up.SiteIDs); err != nil {
			return err
		}
		if up.Disabled {
			if _, err := DeleteUserSessions(ctx, tx, id); err != nil {
				return err
			}
			_, err := RevokeUserAPITokens(ctx, tx, id, now)
			return err
		}
		return nil
	})
}

// Site is a plant or location; users and changes belong to sites.
type Site struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// RetiredAt is set once the site is retired: kept for the changes
	// filed against it, no longer offered for new ones.
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

// Retired reports whether the site is retired (for templates).
func (s Site) Retired() bool { return s.RetiredAt != nil }

// ListSites returns every site ordered by code.
func ListSites(ctx context.Context, q store.Querier) ([]Site, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, code, name, created_at, retired_at FROM sites ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var s Site
		var ret sql.NullTime
		if err := rows.Scan(&s.ID, &s.Code, &s.Name, &s.CreatedAt, &ret); err != nil {
			return nil, err
		}
		s.RetiredAt = retiredAt(ret)
		out = append(out, s)
	}
	return out, rows.Err()
}

// SiteByID loads a site; store.ErrNotFound if none.
func SiteByID(ctx context.Context, q store.Querier, id int64) (*Site, error) {
	return loadSite(ctx, q, `id = $1`, id)
}

// SiteByCode loads a site by its code, case-insensitively.
func SiteByCode(ctx context.Context, q store.Querier, code string) (*Site, error) {
	return loadSite(ctx, q, `upper(code) = upper($1)`, strings.TrimSpace(code))
}

func loadSite(ctx context.Context, q store.Querier, where string, arg any) (*Site, error) {
	var s Site
	var ret sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT id, code, name, created_at, retired_at FROM sites WHERE `+where, arg).Scan(&s.ID, &s.Code, &s.Name, &s.CreatedAt, &ret)
	s.RetiredAt = retiredAt(ret)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load site: %w", err)
	}
	return &s, nil
}

func retiredAt(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

var siteCodeRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,15}$`)

// siteFields normalises and checks a site's code and name.
func siteFields(code, name string) (string, string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	name = strings.TrimSpace(name)
	p := SiteProblems(code, name)
	for _, f := range []string{"code", "name"} {
		if msg := p[f]; msg != "" {
			return "", "", invalid(f, "%s", msg)
		}
	}
	return code, name, nil
}

// SiteProblems checks a site's code and name, by field, so a form can
// show both problems at once; CreateSite and UpdateSite apply the same
// check.
func SiteProblems(code, name string) map[string]string {
	code = strings.ToUpper(strings.TrimSpace(code))
	out := map[string]string{}
	if code == "" {
		out["code"] = "code is required: 1 to 16 letters, digits, - or _ (for example NRF)"
	} else if !siteCodeRE.MatchString(code) {
		out["code"] = fmt.Sprintf("code must be 1 to 16 letters, digits, - or _ (for example NRF), got %q", code)
	}
	if strings.TrimSpace(name) == "" {
		out["name"] = "name is required"
	}
	return out
}

// CreateSite adds a site. The code is upper-cased.
func CreateSite(ctx context.Context, q store.Querier, code, name string) (*Site, error) {
	code, name, err := siteFields(code, name)
	if err != nil {
		return nil, err
	}
	s := &Site{Code: code, Name: name}
	err = q.QueryRowContext(ctx, `INSERT INTO sites (code, name) VALUES ($1, $2) RETURNING id, created_at`, code, name).Scan(&s.ID, &s.CreatedAt)
	if store.IsUniqueViolation(err) {
		return nil, invalid("code", "code: a site with code %s already exists", code)
	}
	if err != nil {
		return nil, fmt.Errorf("create site: %w", err)
	}
	return s, nil
}

// AddSite is CreateSite in a transaction of its own, so that the caches
// of this process hear of the new site when it commits (UserCache.Watch).
func AddSite(ctx context.Context, db *store.DB, code, name string) (*Site, error) {
	var s *Site
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		s, err = CreateSite(ctx, tx, code, name)
		return err
	})
	return s, err
}

// UpdateSite renames a site and retires it (retiredAt set) or brings it
// back (nil). Whether its code may change is the caller's rule: changes
// show the code (change.Service.UpdateSite).
func UpdateSite(ctx context.Context, q store.Querier, id int64, code, name string, retiredAt *time.Time) error {
	code, name, err := siteFields(code, name)
	if err != nil {
		return err
	}
	res, err := q.ExecContext(ctx, `UPDATE sites SET code = $1, name = $2, retired_at = $3 WHERE id = $4`, code, name, retiredAt, id)
	if store.IsUniqueViolation(err) {
		return invalid("code", "code: a site with code %s already exists", code)
	}
	if err != nil {
		return fmt.Errorf("update site: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// APIToken describes a personal API token (never the token itself).
type APIToken struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// ExpiresAt is when the token stops working; nil: when revoked.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Expired reports whether the token's end has come by now.
func (t APIToken) Expired(now time.Time) bool { return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) }

// ListAPITokens returns a user's tokens that were not revoked (expired
// ones too, so their owner sees why a script stopped), newest first.
func ListAPITokens(ctx context.Context, q store.Querier, userID int64) ([]APIToken, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		var last, expires sql.NullTime
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt, &last, &expires); err != nil {
			return nil, err
		}
		if last.Valid {
			t.LastUsedAt = &last.Time
		}
		if expires.Valid {
			t.ExpiresAt = &expires.Time
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken revokes one of the user's tokens; store.ErrNotFound when
// the user has no such live token. It commits a transaction of its own,
// so that the token caches of this process drop it at once
// (UserCache.Watch).
func RevokeAPIToken(ctx context.Context, db *store.DB, userID, tokenID int64, now time.Time) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`,
			now.UTC(), tokenID, userID)
		if err != nil {
			return fmt.Errorf("revoke API token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// RevokeUserAPITokens revokes every live API token of a user. A token
// ends with the credential that made it: when an administrator resets
// the password or disables the user, when the user signs out everywhere
// and, if they choose, when they change their password. It returns how
// many were revoked.
func RevokeUserAPITokens(ctx context.Context, q store.Querier, userID int64, now time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, now.UTC(), userID)
	if err != nil {
		return 0, fmt.Errorf("revoke API tokens: %w", err)
	}
	return res.RowsAffected()
}

// SignOutEverywhere ends every session of a user and revokes their API
// tokens, together: a stolen token must not outlive the sign-out that was
// meant to shut the thief out.
func SignOutEverywhere(ctx context.Context, db *store.DB, userID int64, now time.Time) (sessions, tokens int64, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if sessions, err = DeleteUserSessions(ctx, tx, userID); err != nil {
			return err
		}
		tokens, err = RevokeUserAPITokens(ctx, tx, userID, now)
		return err
	})
	return sessions, tokens, err
}

// ResetPassword is an administrator setting a new password (hash from
// HashPassword) for a user who forgot theirs: every session ends and
// every API token is revoked, since any of them may be the reason.
func ResetPassword(ctx context.Context, db *store.DB, userID int64, hash string, now time.Time) (tokens int64, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		if err := SetPassword(ctx, tx, userID, hash); err != nil {
			return err
		}
		if _, err := DeleteUserSessions(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		tokens, err = RevokeUserAPITokens(ctx, tx, userID, now)
		return err
	})
	return tokens, err
}

// ChangeOwnPassword stores the password a user chose for themself, ends
// their other sessions (keepSessionID stays) and, when revokeTokens,
// revokes their API tokens, in one transaction.
func ChangeOwnPassword(ctx context.Context, db *store.DB, userID, keepSessionID int64, hash string, revokeTokens bool, now time.Time) (sessions, tokens int64, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		if err := SetPassword(ctx, tx, userID, hash); err != nil {
			return err
		}
		var err error
		if sessions, err = DeleteOtherSessions(ctx, tx, userID, keepSessionID); err != nil {
			return err
		}
		if revokeTokens {
			tokens, err = RevokeUserAPITokens(ctx, tx, userID, now)
		}
		return err
	})
	return sessions, tokens, err
}
