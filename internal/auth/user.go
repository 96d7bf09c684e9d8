// Package auth knows who is signed in and what they may do: users, roles,
// sites, API tokens, sessions and sign-in (local accounts and Entra ID).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// Role is one of the fixed roles of an MOC system.
type Role string

// The roles. Their string values are also the Entra ID app role values.
const (
	RoleInitiator   Role = "initiator"
	RoleReviewer    Role = "reviewer"
	RoleApprover    Role = "approver"
	RoleCoordinator Role = "coordinator"
	RoleAdmin       Role = "admin"
	RoleAuditor     Role = "auditor"
)

// AllRoles lists every role in display order.
var AllRoles = []Role{RoleInitiator, RoleReviewer, RoleApprover, RoleCoordinator, RoleAdmin, RoleAuditor}

// ParseRole accepts a role name, case-insensitively.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(AllRoles, r) {
		return r, nil
	}
	names := make([]string, len(AllRoles))
	for i, r := range AllRoles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("role %q is not known: expected one of %s", s, strings.Join(names, ", "))
}

// User is a person who can sign in.
type User struct {
	ID    int64
	Email string
	Name  string
	Roles []Role
	// AllSites: the user works on every site, including sites added
	// later. Otherwise only on SiteIDs; with none, on no site at all (a
	// first Entra ID sign-in, until an administrator grants one).
	AllSites bool
	// SiteIDs are the sites the user works on when not AllSites.
	SiteIDs  []int64
	Disabled bool
	// EntraRoles is the subset of Roles that came from the Entra ID token's
	// roles claim at the last sign-in; the rest were assigned in mocpcr.
	EntraRoles []Role
	// ManagerID is the user's manager for escalations; 0 if none.
	ManagerID int64
	// EntraOID is the Entra ID object id; empty for local-only users.
	EntraOID string
	// JobTitle is printed with the user's name on every signature they
	// give ("Arno Berg, Operations Superintendent"); empty if not set.
	JobTitle string
}

// Has reports whether the user holds role r.
func (u *User) Has(r Role) bool { return u != nil && slices.Contains(u.Roles, r) }

// OnSite reports whether the user may see records of the given site.
func (u *User) OnSite(siteID int64) bool {
	return u != nil && (u.AllSites || slices.Contains(u.SiteIDs, siteID))
}

// NoSite reports whether the user works on no site yet: signed in once
// with Entra ID and waiting for an administrator to grant a site.
func (u *User) NoSite() bool { return u != nil && !u.AllSites && len(u.SiteIDs) == 0 }

// OnSiteSQL is User.OnSite for queries: the condition that the user whose
// id is userExpr works on the site whose id is siteExpr. Every query that
// picks people for a site uses it, so "every site" has one definition.
func OnSiteSQL(userExpr, siteExpr string) string {
	return "(EXISTS (SELECT 1 FROM users su WHERE su.id = " + userExpr + " AND su.all_sites)" +
		" OR EXISTS (SELECT 1 FROM user_sites us WHERE us.user_id = " + userExpr + " AND us.site_id = " + siteExpr + "))"
}

type ctxKey struct{}

// WithUser returns a context carrying the signed-in user.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// UserFrom returns the signed-in user, or nil.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(ctxKey{}).(*User)
	return u
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Email        string
	Name         string
	PasswordHash string // empty for Entra ID users
	EntraOID     string
	Roles        []Role
	SiteIDs      []int64
	JobTitle     string
	// AllSites or SiteIDs (not both) is the user's site access; one of
	// them is required (see AccessProblems).
	AllSites bool
}

// invalid is a refusal of input a user can fix, about field (a form
// field's name: "email", "roles", "sites", "code", ...).
func invalid(field, format string, args ...any) error {
	return problem.Field(field, fmt.Sprintf(format, args...))
}

// AccessProblems checks the access an administrator gives a new or
// edited user, by field ("roles", "sites"), so forms show every problem
// at once. Every site is the broadest access, so it must be chosen
// (allSites), never the result of ticking nothing. needRole also asks for at least one role:
// always for a new user, and on an edit unless Entra ID gives the user
// roles (RoleNeeded), since a user with no role can do nothing.
func AccessProblems(roles []Role, siteIDs []int64, allSites, needRole bool) map[string]string {
	out := map[string]string{}
	if needRole && len(roles) == 0 {
		out["roles"] = "roles: choose at least one role"
	}
	switch {
	case allSites && len(siteIDs) > 0:
		out["sites"] = "sites: choose either “All sites” or particular sites, not both"
	case !allSites && len(siteIDs) == 0:
		out["sites"] = "sites: tick the sites the user works on, or “All sites”"
	}
	return out
}

// RoleNeeded reports whether an edit of u must keep at least one role
// assigned in the application: only Entra ID roles may stand in for one.
func RoleNeeded(u *User) bool { return len(u.EntraRoles) == 0 }

// IdentityProblems checks a new user's email and name, by field, so a
// form can show both problems at once; CreateUser applies the same check.
func IdentityProblems(email, name string) map[string]string {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	out := map[string]string{}
	if email == "" {
		out["email"] = "email is required: an address like jane.doe@example.com"
	} else if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		out["email"] = fmt.Sprintf("email must be an address like jane.doe@example.com, got %q", email)
	}
	if name == "" {
		out["name"] = "name is required"
	}
	return out
}

// CreateUser inserts a user with roles and sites. The site access must
// be chosen: AllSites or at least one site (an error naming "sites"
// otherwise), so no caller grants every site by leaving the list empty.
//
// Pass a transaction (store.DB.Tx) where a half-created user matters: the
// user, its roles and its sites are separate rows.
func CreateUser(ctx context.Context, q store.Querier, nu NewUser) (*User, error) {
	if msg := AccessProblems(nil, nu.SiteIDs, nu.AllSites, false)["sites"]; msg != "" {
		return nil, problem.Field("sites", msg)
	}
	return createUser(ctx, q, nu)
}

// createUser is CreateUser without the site rule: a first Entra ID
// sign-in creates a user on no site (deny by default).
func createUser(ctx context.Context, q store.Querier, nu NewUser) (*User, error) {
	nu.Email = strings.TrimSpace(nu.Email)
	nu.Name = strings.TrimSpace(nu.Name)
	if p := IdentityProblems(nu.Email, nu.Name); len(p) > 0 {
		for _, f := range []string{"email", "name"} {
			if p[f] != "" {
				return nil, invalid(f, "%s", p[f])
			}
		}
	}
	// Checked before anything is written, so a failed site insert leaves
	// no user behind.
	for _, s := range nu.SiteIDs {
		if _, err := SiteByID(ctx, q, s); errors.Is(err, store.ErrNotFound) {
			return nil, invalid("sites", "sites: site %d does not exist", s)
		} else if err != nil {
			return nil, err
		}
	}
	nu.JobTitle = strings.TrimSpace(nu.JobTitle)
	if msg := JobTitleProblem(nu.JobTitle); msg != "" {
		return nil, problem.Field("job_title", msg)
	}
	var id int64
	err := q.QueryRowContext(ctx,
		`INSERT INTO users (email, name, password_hash, entra_oid, job_title, all_sites) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		nu.Email, nu.Name, nullString(nu.PasswordHash), nullString(nu.EntraOID), nu.JobTitle, nu.AllSites).Scan(&id)
	if store.IsUniqueViolation(err) {
		return nil, invalid("email", "a user with email %s already exists", nu.Email)
	}
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	if err := SetRoles(ctx, q, id, nu.Roles); err != nil {
		return nil, err
	}
	if err := SetSites(ctx, q, id, nu.AllSites, nu.SiteIDs); err != nil {
		return nil, err
	}
	return &User{ID: id, Email: nu.Email, Name: nu.Name, Roles: nu.Roles, AllSites: nu.AllSites, SiteIDs: nu.SiteIDs, JobTitle: nu.JobTitle}, nil
}

// MaxJobTitle is the longest job title accepted: it is printed beside
// the name on signature lines.
const MaxJobTitle = 100

// JobTitleProblem says what is wrong with a (trimmed) job title, or "".
func JobTitleProblem(title string) string {
	if len([]rune(title)) > MaxJobTitle {
		return fmt.Sprintf("job_title: must be at most %d characters", MaxJobTitle)
	}
	if strings.ContainsAny(title, "\r\n") {
		return "job_title: must be one line"
	}
	return ""
}

// AddUser is CreateUser in a transaction of its own: the user, its roles
// and its sites are written together or not at all.
func AddUser(ctx context.Context, db *store.DB, nu NewUser) (*User, error) {
	var u *User
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = CreateUser(ctx, tx, nu)
		return err
	})
	return u, err
}

// Role sources in user_roles.source.
const (
	roleSourceApp   = "app"
	roleSourceEntra = "entra"
)

// SetRoles replaces the roles an administrator assigned to a user in
// mocpcr. Roles that come from the Entra ID token are kept; a user's
// effective roles are the union of both (see docs/readme-auth.md).
func SetRoles(ctx context.Context, q store.Querier, userID int64, roles []Role) error {
	return setRoles(ctx, q, userID, roles, roleSourceApp)
}

// setRoles replaces the roles of one source. A role held from both
// sources is stored once, as 'app', so it survives the token dropping it.
func setRoles(ctx context.Context, q store.Querier, userID int64, roles []Role, source string) error {
	for _, r := range roles {
		if _, err := ParseRole(string(r)); err != nil {
			return invalid("roles", "%v", err)
		}
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = $1 AND source = $2`, userID, source); err != nil {
		return fmt.Errorf("set roles: %w", err)
	}
	for _, r := range roles {
		stmt := `INSERT INTO user_roles (user_id, role, source) VALUES ($1, $2, $3) ON CONFLICT (user_id, role) DO NOTHING`
		if source == roleSourceApp {
			stmt = `INSERT INTO user_roles (user_id, role, source) VALUES ($1, $2, $3) ON CONFLICT (user_id, role) DO UPDATE SET source = $3`
		}
		if _, err := q.ExecContext(ctx, stmt, userID, string(r), source); err != nil {
			return fmt.Errorf("set roles: %w", err)
		}
	}
	return nil
}

// SetSites replaces a user's site access: every site, or the sites
// listed (none: no site).
func SetSites(ctx context.Context, q store.Querier, userID int64, allSites bool, siteIDs []int64) error {
	if _, err := q.ExecContext(ctx, `UPDATE users SET all_sites = $1 WHERE id = $2`, allSites, userID); err != nil {
		return fmt.Errorf("set sites: %w", err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM user_sites WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("set sites: %w", err)
	}
	for _, s := range siteIDs {
		if _, err := q.ExecContext(ctx, `INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2)`, userID, s); err != nil {
			return fmt.Errorf("set sites: %w", err)
		}
	}
	return nil
}

// UserByID loads a user with roles and sites; store.ErrNotFound if none.
func UserByID(ctx context.Context, q store.Querier, id int64) (*User, error) {
	return loadUser(ctx, q, `id = $1`, id)
}

// UserByEmail loads a user by email, case-insensitively.
func UserByEmail(ctx context.Context, q store.Querier, email string) (*User, error) {
	return loadUser(ctx, q, `lower(email) = lower($1)`, strings.TrimSpace(email))
}

func loadUser(ctx context.Context, q store.Querier, where string, arg any) (*User, error) {
	u := &User{}
	var manager sql.NullInt64
	var oid sql.NullString
	err := q.QueryRowContext(ctx, `SELECT id, email, name, disabled, manager_id, entra_oid, job_title, all_sites FROM users WHERE `+where, arg).
		Scan(&u.ID, &u.Email, &u.Name, &u.Disabled, &manager, &oid, &u.JobTitle, &u.AllSites)
	u.ManagerID, u.EntraOID = manager.Int64, oid.String
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT role, source FROM user_roles WHERE user_id = $1`, u.ID)
	if err != nil {
		return nil, fmt.Errorf("load roles: %w", err)
	}
	held := map[Role]string{}
	for rows.Next() {
		var r, src string
		if err := rows.Scan(&r, &src); err != nil {
			rows.Close()
			return nil, err
		}
		held[Role(r)] = src
	}
	rows.Close()
	u.setRoles(held)
	rows, err = q.QueryContext(ctx, `SELECT site_id FROM user_sites WHERE user_id = $1 ORDER BY site_id`, u.ID)
	if err != nil {
		return nil, fmt.Errorf("load sites: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		u.SiteIDs = append(u.SiteIDs, s)
	}
	return u, rows.Err()
}

// setRoles fills Roles and EntraRoles from role → source, in display
// order (initiator first, auditor last), not alphabetical.
func (u *User) setRoles(held map[Role]string) {
	for _, r := range AllRoles {
		if src, ok := held[r]; ok {
			u.Roles = append(u.Roles, r)
			if src == roleSourceEntra {
				u.EntraRoles = append(u.EntraRoles, r)
			}
		}
	}
}

// APITokenPrefix makes leaked tokens recognisable to secret scanners.
const APITokenPrefix = "mocpcr_"

// CreateAPIToken mints a personal API token for a user that lasts until
// it is revoked. The plaintext is returned once; only its hash is stored.
func CreateAPIToken(ctx context.Context, q store.Querier, userID int64, name string) (string, error) {
	return CreateAPITokenUntil(ctx, q, userID, name, time.Time{})
}

// CreateAPITokenUntil is CreateAPIToken for a token that stops working at
// expiresAt (the zero time: never).
func CreateAPITokenUntil(ctx context.Context, q store.Querier, userID int64, name string, expiresAt time.Time) (string, error) {
	if strings.TrimSpace(name) == "" {
		name = "API token"
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := APITokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	var expires any
	if !expiresAt.IsZero() {
		expires = expiresAt.UTC()
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
		userID, name, HashToken(tok), expires); err != nil {
		return "", fmt.Errorf("create API token: %w", err)
	}
	return tok, nil
}

// HashToken is how tokens (API and session) are stored: a plain SHA-256
// is enough because the tokens are 256-bit random, not passwords.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// UserByAPIToken returns the enabled user owning a live token.
func UserByAPIToken(ctx context.Context, q store.Querier, tok string, now time.Time) (*User, error) {
	if !validTokenForm(tok) {
		return nil, store.ErrNotFound
	}
	e, err := lookupAPIToken(ctx, q, HashToken(tok))
	if err != nil {
		return nil, err
	}
	if e.expired(now) {
		return nil, store.ErrNotFound
	}
	// Recorded at most once a minute: a write per request would serialise
	// every API call on SQLite's single writer.
	if !e.lastUsed.Valid || now.Sub(e.lastUsed.Time) > time.Minute {
		touchAPIToken(ctx, q, e.tokenID, now)
	}
	return UserByID(ctx, q, e.userID)
}

// validTokenForm reports whether tok looks like an API token at all.
func validTokenForm(tok string) bool { return strings.HasPrefix(tok, APITokenPrefix) }

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
