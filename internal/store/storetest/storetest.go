// Package storetest gives tests a fresh, migrated database on SQLite and,
// when MOCPCR_TEST_DATABASE_URL is set, on PostgreSQL, so every store test
// runs on both engines.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/mocpcr/mocpcr/internal/store"
)

// EnvVar points tests at a PostgreSQL server, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvVar = "MOCPCR_TEST_DATABASE_URL"

// Dialects returns the engines to test on: SQLite always, PostgreSQL when
// EnvVar is set.
func Dialects() []store.Dialect {
	if os.Getenv(EnvVar) != "" {
		return []store.Dialect{store.SQLite, store.Postgres}
	}
	return []store.Dialect{store.SQLite}
}

// Each runs fn as a subtest per dialect, each with its own fresh,
// migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	if os.Getenv(EnvVar) == "" {
		t.Logf("PostgreSQL half skipped: set %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it", EnvVar)
	}
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated database of the given dialect.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	db := OpenEmpty(t, d)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// OpenEmpty returns a fresh database with no migrations applied.
func OpenEmpty(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	opt := Options(t, d)
	db, err := store.Open(context.Background(), opt)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Options returns store options for a fresh database: a new SQLite file
// in a temporary directory, or a new PostgreSQL schema that is dropped
// when the test ends. Tests that start server processes use it to point
// them at the same database.
func Options(t testing.TB, d store.Dialect) store.Options {
	t.Helper()
	if d == store.SQLite {
		return store.Options{DataDir: t.TempDir()}
	}
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skipf("PostgreSQL tests need %s", EnvVar)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		// Asked for PostgreSQL but it does not answer: fail, do not skip.
		t.Fatalf("%s is set but PostgreSQL does not answer: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return store.Options{URL: u.String()}
}
