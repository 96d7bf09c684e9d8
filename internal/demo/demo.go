// Package demo seeds a small plant so that a newcomer who starts mocpcr
// with no configuration can sign in and walk through a change.
package demo

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
)

// Password is the demo accounts' password, shown on the sign-in page in
// demo mode. It is never used outside demo mode.
const Password = "mocpcr-demo"

// Account is one seeded demo user.
type Account struct {
	Email string
	Name  string
	Roles []auth.Role
	// JobTitle is printed on the account's signatures.
	JobTitle string
}

// Accounts are the demo users, one per kind of person in an MOC.
var Accounts = []Account{
	{"ines@demo.mocpcr.local", "Ines Initiator", []auth.Role{auth.RoleInitiator}, "Process Engineer"},
	{"rita@demo.mocpcr.local", "Rita Reviewer", []auth.Role{auth.RoleReviewer, auth.RoleInitiator}, "Mechanical Integrity Engineer"},
	{"arno@demo.mocpcr.local", "Arno Approver", []auth.Role{auth.RoleApprover, auth.RoleReviewer}, "Operations Superintendent"},
	{"cora@demo.mocpcr.local", "Cora Coordinator", []auth.Role{auth.RoleCoordinator, auth.RoleApprover, auth.RoleInitiator}, "MOC Coordinator"},
	{"adam@demo.mocpcr.local", "Adam Admin", []auth.Role{auth.RoleAdmin}, "IT Administrator"},
	{"audrey@demo.mocpcr.local", "Audrey Auditor", []auth.Role{auth.RoleAuditor}, "PSM Auditor"},
}

// Sites are the demo sites.
var Sites = []struct{ Code, Name string }{
	{"NRF", "North Refinery"},
	{"SCP", "South Chemical Plant"},
}

// IsEmpty reports whether the database has no users yet, the condition
// for seeding.
func IsEmpty(ctx context.Context, db *store.DB) (bool, error) {
	var n int
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return false, fmt.Errorf("count users: %w", err)
	}
	return n == 0, nil
}

// Seed creates the demo sites and users in one transaction. Other
// packages add their demo records through Extra.
func Seed(ctx context.Context, db *store.DB, extra ...func(ctx context.Context, tx *sql.Tx) error) error {
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return err
	}
	return db.Tx(ctx, func(tx *sql.Tx) error {
		for _, s := range Sites {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sites (code, name) VALUES ($1, $2)`, s.Code, s.Name); err != nil {
				return fmt.Errorf("seed site %s: %w", s.Code, err)
			}
		}
		var managerID int64
		for _, a := range Accounts {
			u, err := auth.CreateUser(ctx, tx, auth.NewUser{Email: a.Email, Name: a.Name, PasswordHash: hash, Roles: a.Roles, JobTitle: a.JobTitle, AllSites: true})
			if err != nil {
				return fmt.Errorf("seed user %s: %w", a.Email, err)
			}
			if u.Has(auth.RoleCoordinator) {
				managerID = u.ID
			}
		}
		// The coordinator is everyone's manager, so escalations have somewhere to go.
		if _, err := tx.ExecContext(ctx, `UPDATE users SET manager_id = $1 WHERE id <> $1`, managerID); err != nil {
			return fmt.Errorf("seed managers: %w", err)
		}
		for _, fn := range extra {
			if err := fn(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
}
