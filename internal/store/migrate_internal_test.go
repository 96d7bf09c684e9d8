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

// Each engine runs the shared lines and its own blocks only, so a
// trigger can be written once per engine in the same migration.
func TestDialectBlocksKeepOnlyTheEnginesOwnStatements(t *testing.T) {
	src := "CREATE TABLE a (x INT);\n-- {{sqlite}}\nCREATE TRIGGER s;\n-- {{end}}\n-- {{postgres}}\nCREATE FUNCTION p;\n-- {{end}}\nCREATE INDEX i;\n"
	for d, want := range map[Dialect]string{
		SQLite:   "CREATE TABLE a (x INT);\nCREATE TRIGGER s;\nCREATE INDEX i;\n",
		Postgres: "CREATE TABLE a (x INT);\nCREATE FUNCTION p;\nCREATE INDEX i;\n",
	} {
		if got := dialectBlocks(src, d); got != want {
			t.Errorf("%s: got\n%s\nwant\n%s", d, got, want)
		}
	}
}
