package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
)

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"MOCPCR_DATA_DIR": dir}
	if code, _, stderr := runCmd(t, vars, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Demo data writes audit chains for a few sample changes.
	if _, err := db.SQL.Exec(`INSERT INTO sites (code, name) VALUES ('NRF', 'n'), ('SCP', 's')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.Exec(`INSERT INTO users (email, name, all_sites) VALUES ('ines@demo.mocpcr.local', 'Ines', TRUE), ('arno@demo.mocpcr.local', 'Arno', TRUE), ('rita@demo.mocpcr.local', 'Rita', TRUE), ('cora@demo.mocpcr.local', 'Cora', TRUE)`); err != nil {
		t.Fatal(err)
	}
	tx, _ := db.SQL.Begin()
	if err := change.SeedDemo(ctx, tx); err != nil {
		t.Fatal(err)
	}
	tx.Commit()

	var audited int
	if err := db.SQL.QueryRow(`SELECT count(DISTINCT change_id) FROM change_audit`).Scan(&audited); err != nil || audited == 0 {
		t.Fatalf("demo audit trails: %d, %v", audited, err)
	}
	code, out, stderr := runCmd(t, vars, "audit", "verify")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("audit trail OK: %d changes", audited)) {
		t.Fatalf("clean: exit %d %q %q", code, out, stderr)
	}
	if _, err := db.SQL.Exec(`UPDATE change_audit SET actor_name = 'Mallory' WHERE seq = 1 AND change_id = (SELECT min(change_id) FROM change_audit)`); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(t, vars, "audit", "verify")
	if code != 1 || !strings.Contains(stderr, "audit entry 1: hash does not match") || !strings.Contains(stderr, "MOC-") {
		t.Fatalf("tampered: exit %d %q", code, stderr)
	}
	if code, _, _ := runCmd(t, vars, "audit"); code != 2 {
		t.Errorf("audit without verify: exit %d, want 2", code)
	}
}
