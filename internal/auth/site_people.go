package auth

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/mocpcr/mocpcr/internal/store"
)

// onSiteEnabled is the condition that the enabled user u works on the
// site $1 (on it, or on every site).
const onSiteEnabled = `NOT u.disabled AND (u.all_sites OR EXISTS (SELECT 1 FROM user_sites us WHERE us.user_id = u.id AND us.site_id = $1))`

// CountSiteUsers counts the enabled users who work on site siteID, so a
// page can choose between listing them and letting the user search.
func CountSiteUsers(ctx context.Context, q store.Querier, siteID int64) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users u WHERE `+onSiteEnabled, siteID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count site users: %w", err)
	}
	return n, nil
}

// FindSiteUsers returns up to limit enabled users of site siteID whose
// name or email contains text (any case), holding role unless role is
// empty, ordered by name: the suggestions of a people picker. The cost is
// bounded by the site's people, never by every user of every site.
func FindSiteUsers(ctx context.Context, q store.Querier, siteID int64, text string, role Role, limit int) ([]*User, error) {
	cond := onSiteEnabled + ` AND (lower(u.name) LIKE $2 ESCAPE '\' OR lower(u.email) LIKE $2 ESCAPE '\')`
	args := []any{siteID, "%" + likeEscape(strings.ToLower(strings.TrimSpace(text))) + "%", limit}
	if role != "" {
		cond += ` AND EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role = $4)`
		args = append(args, string(role))
	}
	return listUsers(ctx, q, `IN (SELECT u.id FROM users u WHERE `+cond+` ORDER BY lower(u.name), u.id LIMIT $3)`, args...)
}

// SiteUsersNamed returns the enabled users of site siteID that text names
// (at most two, enough to tell one from several): text is an email
// address, "Name <email>" as the picker suggests it, or a whole name in
// any case. A form that names a person by what the user typed resolves it
// here, on the site of the change, so a name never reaches another site.
func SiteUsersNamed(ctx context.Context, q store.Querier, siteID int64, text string) ([]*User, error) {
	text = strings.TrimSpace(text)
	col, val := "lower(u.name)", strings.ToLower(text)
	if a, err := mail.ParseAddress(text); err == nil {
		col, val = "lower(u.email)", strings.ToLower(a.Address)
	}
	return listUsers(ctx, q, `IN (SELECT u.id FROM users u WHERE `+onSiteEnabled+` AND `+col+` = $2 ORDER BY u.id LIMIT 2)`, siteID, val)
}

// UsersByID returns the users with the given ids (the ones that exist),
// ordered by name.
func UsersByID(ctx context.Context, q store.Querier, ids []int64) ([]*User, error) {
	if len(ids) == 0 {
		return []*User{}, nil
	}
	marks := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		marks[i] = fmt.Sprintf("$%d", i+1)
		args[i] = id
	}
	return listUsers(ctx, q, "IN ("+strings.Join(marks, ", ")+")", args...)
}

// likeEscape makes s match itself in a LIKE pattern with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
