package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"testing/fstest"
)

// A failing migration must leave no trace and be named in the error.
func TestFailingMigrationRollsBackAndIsNamed(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.migrations = fstest.MapFS{
		"00001_ok.sql":     {Data: []byte("-- +goose Up\nCREATE TABLE a (x INTEGER);\n")},
		"00002_broken.sql": {Data: []byte("-- +goose Up\nCREATE TABLE b (x INTEGER);\nINSERT INTO nosuchtable VALUES (1);\n")},
	}
	_, err = db.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "migration 00002_broken.sql failed") {
		t.Fatalf("error = %v, want it to name 00002_broken.sql", err)
	}
	if tableExists(t, db.SQL, "b") {
		t.Error("table b from the failed migration exists: it was not rolled back")
	}
	if !tableExists(t, db.SQL, "a") {
		t.Error("table a from the good migration is missing")
	}
}

func tableExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}
