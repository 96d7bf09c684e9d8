package change_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// oldPlant writes, on a database migrated up to version, what a plant
// had before the change-control migrations: a site, an initiator, an
// approver and a change, then what stmts add (each may refer to them by
// {site}, {ini}, {appr}, {change}; $1 is at), and migrates the rest.
func oldPlant(t *testing.T, db *store.DB, version int64, at time.Time, stmts ...string) (changeID int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.MigrateTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	var site, ini, appr int64
	q := db.SQL
	if err := q.QueryRowContext(ctx, `INSERT INTO sites (code, name) VALUES ('OLD', 'Old site') RETURNING id`).Scan(&site); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name string
		id   *int64
	}{{"Ines", &ini}, {"Arno", &appr}} {
		if err := q.QueryRowContext(ctx, `INSERT INTO users (email, name) VALUES ($1, $1) RETURNING id`, u.name).Scan(u.id); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.QueryRowContext(ctx, `INSERT INTO changes (number, kind, duration, stage, title, site_id, initiator_id, round, created_at, updated_at)
		VALUES ('MOC-2025-0007', 'MOC', 'permanent', 'closeout', 'Old change', $1, $2, 1, $3, $3) RETURNING id`, site, ini, at).Scan(&changeID); err != nil {
		t.Fatal(err)
	}
	ids := strings.NewReplacer("{site}", fmt.Sprint(site), "{ini}", fmt.Sprint(ini), "{appr}", fmt.Sprint(appr), "{change}", fmt.Sprint(changeID))
	for _, st := range stmts {
		st = ids.Replace(st)
		var args []any
		if strings.Contains(st, "$1") {
			args = append(args, at)
		}
		if _, err := q.ExecContext(ctx, st, args...); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return changeID
}

// Approvals, extension decisions and startup authorisations signed
// before signature records existed become records, with their meaning.
func TestMigrationTurnsOldSignaturesIntoRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		at := time.Date(2025, 11, 3, 14, 0, 0, 0, time.UTC)
		edb := storetest.OpenEmpty(t, db.Dialect)
		id := oldPlant(t, edb, 100, at,
			`INSERT INTO change_approvals (change_id, round, stage_no, approver_id, requested_at, decision, decided_by, signed_name,
				signature_method, decided_at) VALUES ({change}, 1, 2, {appr}, $1, 'approved', {appr}, 'Arno', 'password', $1)`,
			`INSERT INTO change_extensions (change_id, old_expires_on, new_expires_on, reason, requested_by, requested_at, decision,
				decided_by, signed_name, decided_at, signature_method) VALUES ({change}, $1, $1, 'late parts', {ini}, $1, 'rejected', {appr}, 'Arno', $1, 'entra')`,
			`INSERT INTO change_audit (change_id, seq, at, actor_id, actor_name, action, field, new_value, prev_hash, hash)
				VALUES ({change}, 1, $1, {appr}, 'Arno', 'startup_authorized', 'signature', 'Arno (password)', '', '')`)
		svc := &change.Service{DB: edb, Now: func() time.Time { return at }}
		d := must(svc.Get(context.Background(), &auth.User{Name: "Audrey", Roles: []auth.Role{auth.RoleAuditor}, AllSites: true}, id))(t)
		want := []struct {
			cp      change.ControlPoint
			meaning string
			method  string
		}{
			{change.CPApproval, "By signing I approve MOC-2025-0007 as approver, stage 2", "password"},
			{change.CPExtension, "By signing I reject the request to extend temporary change MOC-2025-0007", "entra"},
			{change.CPStartup, "By signing I authorise startup of MOC-2025-0007", "password"},
		}
		if len(d.Signatures) != len(want) {
			t.Fatalf("migrated signatures: %+v", d.Signatures)
		}
		for i, w := range want {
			r := d.Signatures[i]
			if r.ControlPoint != w.cp || r.Meaning != w.meaning || r.PrintedName != "Arno" || r.Method != w.method ||
				!r.SignedAt.Equal(at) || r.TimeZone != "UTC" {
				t.Errorf("signature %d = %+v, want %s %q by Arno (%s) at %s UTC", i, r, w.cp, w.meaning, w.method, at)
			}
		}
	})
}

// Temporary changes that waited in Close-out for their revert or
// conversion are In service after the migration; others stay.
func TestMigrationMovesLiveTemporaryChangesInService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		at := time.Date(2025, 11, 3, 14, 0, 0, 0, time.UTC)
		edb := storetest.OpenEmpty(t, db.Dialect)
		id := oldPlant(t, edb, 121, at, `UPDATE changes SET duration = 'temporary', expires_on = $1 WHERE id = {change}`)
		var stage string
		if err := edb.SQL.QueryRow(`SELECT stage FROM changes WHERE id = $1`, id).Scan(&stage); err != nil || stage != "in_service" {
			t.Fatalf("temporary change in close-out migrated to %q (%v), want in_service", stage, err)
		}
		pdb := storetest.OpenEmpty(t, db.Dialect)
		perm := oldPlant(t, pdb, 121, at)
		if err := pdb.SQL.QueryRow(`SELECT stage FROM changes WHERE id = $1`, perm).Scan(&stage); err != nil || stage != "closeout" {
			t.Errorf("permanent change in close-out migrated to %q (%v), want it left in closeout", stage, err)
		}
	})
}
