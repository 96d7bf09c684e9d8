package change

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// PlaceUpdate edits a site or unit; nil fields stay as they are.
// Retired true retires it (no longer offered for new changes), false
// brings it back.
type PlaceUpdate struct {
	Code    *string `json:"code"`
	Name    *string `json:"name"`
	Retired *bool   `json:"retired"`
}

// retiredFrom turns Retired into the stored timestamp: retiring keeps
// the first retirement time.
func (s *Service) retiredFrom(up PlaceUpdate, cur *time.Time) *time.Time {
	if up.Retired == nil {
		return cur
	}
	if !*up.Retired {
		return nil
	}
	if cur != nil {
		return cur
	}
	now := s.now()
	return &now
}

// codeInUse refuses a new code for a site or unit that changes are filed
// against: their records and printouts show the code, and a new one would
// rewrite what people signed. The name may change at any time.
func codeInUse(ctx context.Context, q store.Querier, column string, id int64, what, oldCode, newCode string) error {
	if strings.EqualFold(strings.TrimSpace(newCode), oldCode) {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM changes WHERE `+column+` = $1`, id).Scan(&n); err != nil {
		return err
	}
	if n == 1 {
		return invalid("code", "cannot change: 1 change is filed against %s %s and shows its code; change the name instead, or retire it and add a new one",
			what, oldCode)
	}
	if n > 1 {
		return invalid("code", "cannot change: %d changes are filed against %s %s and show its code; change the name instead, or retire it and add a new one",
			n, what, oldCode)
	}
	return nil
}

// UpdateSite renames, retires or brings back a site (admin only).
func (s *Service) UpdateSite(ctx context.Context, actor *auth.User, id int64, up PlaceUpdate) (*auth.Site, error) {
	if !actor.Has(auth.RoleAdmin) {
		return nil, forbidden("only an admin may edit sites")
	}
	var out *auth.Site
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := auth.SiteByID(ctx, tx, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !actor.ManagesSite(id)) {
			// Another site's record is answered as one that does not exist.
			return notFound("no site %d", id)
		}
		if err != nil {
			return err
		}
		code, name := cur.Code, cur.Name
		if up.Code != nil {
			code = *up.Code
		}
		if up.Name != nil {
			name = *up.Name
		}
		// Both fields' problems at once, in the words auth.UpdateSite uses.
		var p problem.List
		for f, msg := range auth.SiteProblems(code, name) {
			p.Add(problem.FieldError{Field: f, Message: f + ": " + strings.TrimSpace(strings.TrimPrefix(msg, f))})
		}
		if err := p.Err("code", "name"); err != nil {
			return err
		}
		if err := codeInUse(ctx, tx, "site_id", id, "site", cur.Code, code); err != nil {
			return err
		}
		// auth's refusal (a code another site has) names its field already.
		if err := auth.UpdateSite(ctx, tx, id, code, name, s.retiredFrom(up, cur.RetiredAt)); err != nil {
			return err
		}
		out, err = auth.SiteByID(ctx, tx, id)
		return err
	})
	return out, err
}

// UpdateUnit renames, retires or brings back a unit (admin only). A
// retired unit stays on the changes filed against it.
func (s *Service) UpdateUnit(ctx context.Context, actor *auth.User, id int64, up PlaceUpdate) (*Unit, error) {
	if !actor.Has(auth.RoleAdmin) {
		return nil, forbidden("only an admin may edit units")
	}
	var out *Unit
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := unitByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if !actor.ManagesSite(cur.SiteID) {
			return notFound("no unit %d", id)
		}
		code, name := cur.Code, cur.Name
		if up.Code != nil {
			code = strings.ToUpper(strings.TrimSpace(*up.Code))
		}
		if up.Name != nil {
			name = strings.TrimSpace(*up.Name)
		}
		var p problem.List
		if code == "" {
			p.Invalid("code", "is required")
		}
		if name == "" {
			p.Invalid("name", "is required")
		}
		if err := p.Err("code", "name"); err != nil {
			return err
		}
		if err := codeInUse(ctx, tx, "unit_id", id, "unit", cur.Code, code); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE units SET code = $1, name = $2, retired_at = $3 WHERE id = $4`,
			code, name, s.retiredFrom(up, cur.RetiredAt), id)
		if store.IsUniqueViolation(err) {
			return invalid("code", "site %s already has a unit %s", cur.SiteCode, code)
		}
		if err != nil {
			return err
		}
		out, err = unitByID(ctx, tx, id)
		return err
	})
	return out, err
}

// UnitByID loads one unit, retired or not (admin edit page).
func (s *Service) UnitByID(ctx context.Context, id int64) (*Unit, error) {
	return unitByID(ctx, s.DB.SQL, id)
}

func unitByID(ctx context.Context, q store.Querier, id int64) (*Unit, error) {
	var u Unit
	var ret sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT u.id, u.site_id, s.code, u.code, u.name, u.retired_at, s.retired_at IS NOT NULL FROM units u JOIN sites s ON s.id = u.site_id
		WHERE u.id = $1`, id).Scan(&u.ID, &u.SiteID, &u.SiteCode, &u.Code, &u.Name, &ret, &u.SiteRetired)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no unit %d", id)
	}
	if err != nil {
		return nil, err
	}
	u.RetiredAt = ptime(ret)
	return &u, nil
}

// CountChangesAt counts the changes filed against a site or unit (kind
// "site" or "unit"), for the edit page's word on whether the code may
// change.
func (s *Service) CountChangesAt(ctx context.Context, kind string, id int64) (int, error) {
	column := "site_id"
	if kind == "unit" {
		column = "unit_id"
	}
	var n int
	err := s.DB.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM changes WHERE `+column+` = $1`, id).Scan(&n)
	return n, err
}
