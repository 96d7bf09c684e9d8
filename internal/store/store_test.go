package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func TestMigrateFromEmptyIsIdempotent(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenEmpty(t, d)
			pending, err := db.Pending(ctx)
			if err != nil || pending == 0 {
				t.Fatalf("fresh database: pending = %d, %v; want > 0", pending, err)
			}
			first, err := db.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(first.Applied) != pending {
				t.Errorf("applied %d migrations, want %d", len(first.Applied), pending)
			}
			second, err := db.Migrate(ctx)
			if err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			if len(second.Applied) != 0 {
				t.Errorf("second migrate applied %v, want nothing", second.Applied)
			}
			if p, _ := db.Pending(ctx); p != 0 {
				t.Errorf("pending after migrate = %d", p)
			}
			var n int
			if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
				t.Errorf("users table missing after migrate: %v", err)
			}
		})
	}
}

func TestConcurrentWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const writers = 50
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- db.Tx(ctx, func(tx *sql.Tx) error {
					// Read then write inside one transaction: the pattern that
					// fails with "database is locked" without BEGIN IMMEDIATE.
					var n int
					if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sites`).Scan(&n); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `INSERT INTO sites (code, name) VALUES ($1, $2)`,
						fmt.Sprintf("S%02d", i), fmt.Sprintf("Site %d after %d", i, n))
					return err
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("writer failed: %v", err)
			}
		}
		var n int
		if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM sites`).Scan(&n); err != nil || n != writers {
			t.Fatalf("sites = %d (%v), want %d", n, err, writers)
		}
	})
}

func TestTxRollsBackOnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sites (code, name) VALUES ('X', 'x')`); err != nil {
				return err
			}
			return fmt.Errorf("boom")
		})
		if err == nil || err.Error() != "boom" {
			t.Fatalf("Tx error = %v, want boom", err)
		}
		var n int
		db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM sites`).Scan(&n)
		if n != 0 {
			t.Errorf("rolled-back insert is visible: %d rows", n)
		}
	})
}

func TestUniqueViolationOnBothEngines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO sites (code, name) VALUES ('A', 'a')`); err != nil {
			t.Fatal(err)
		}
		_, err := db.SQL.ExecContext(ctx, `INSERT INTO sites (code, name) VALUES ('A', 'b')`)
		if !store.IsUniqueViolation(err) {
			t.Fatalf("IsUniqueViolation(%v) = false", err)
		}
	})
}

func TestBrokenPostgresURLGivesOneClearError(t *testing.T) {
	ctx := context.Background()
	_, err := store.Open(ctx, store.Options{URL: "postgres://admin:s3cretpw@127.0.0.1:1/nowhere"})
	if err == nil {
		t.Fatal("open of unreachable PostgreSQL succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "cannot connect to PostgreSQL at postgres://127.0.0.1:1/nowhere (DATABASE_URL)") {
		t.Errorf("error does not say what failed: %q", msg)
	}
	if strings.Contains(msg, "s3cretpw") || strings.Contains(msg, "admin") || strings.Contains(msg, "\n") {
		t.Errorf("error leaks credentials or spans lines: %q", msg)
	}
	_, err = store.Open(ctx, store.Options{URL: "postgres://admin:s3cretpw@[bad"})
	if err == nil || strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("unparseable URL: %v", err)
	}
}

func TestPreparedQuerierBehavesLikeSQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := db.Prepared()
		if _, err := q.ExecContext(ctx, `CREATE TABLE prep_kv (k BIGINT PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			res, err := q.ExecContext(ctx, `INSERT INTO prep_kv (k, v) VALUES ($1, $2)`, i, fmt.Sprint("v", i))
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("insert affected %d rows, want 1", n)
			}
		}
		var got []string
		for range 2 { // the second round runs the prepared statement again
			got = got[:0]
			rows, err := q.QueryContext(ctx, `SELECT v FROM prep_kv WHERE k >= $1 ORDER BY k`, 1)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			rows.Close()
			if strings.Join(got, ",") != "v1,v2" {
				t.Fatalf("rows = %v, want [v1 v2]", got)
			}
		}
		var v string
		if err := q.QueryRowContext(ctx, `SELECT v FROM prep_kv WHERE k = $1`, 9).Scan(&v); err != sql.ErrNoRows {
			t.Errorf("missing row: %v, want sql.ErrNoRows", err)
		}
		if _, err := q.QueryContext(ctx, `SELECT nope FROM prep_kv`); err == nil || !strings.Contains(err.Error(), "nope") {
			t.Errorf("bad query: error %v, want one naming the column", err)
		}
	})
}

// A readiness probe asks Pending every few seconds; once everything is
// applied the answer is remembered instead of asking goose (and the
// database) again. Removing goose's version table afterwards proves the
// database is no longer consulted.
func TestPendingRemembersFullyMigrated(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenEmpty(t, d)
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if p, err := db.Pending(ctx); err != nil || p != 0 {
				t.Fatalf("pending after migrate = %d, %v", p, err)
			}
			if _, err := db.SQL.ExecContext(ctx, `DROP TABLE goose_db_version`); err != nil {
				t.Fatal(err)
			}
			if p, err := db.Pending(ctx); err != nil || p != 0 {
				t.Errorf("pending once migrated = %d, %v; want the remembered 0", p, err)
			}
		})
	}
}

// SecondsBetween measures stored timestamps alike on both engines, to
// the millisecond, across a day boundary and with sub-second parts.
func TestSecondsBetweenStoredTimestamps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE span_probe (a `+map[store.Dialect]string{store.SQLite: "TIMESTAMP", store.Postgres: "TIMESTAMPTZ"}[db.Dialect]+`, b `+map[store.Dialect]string{store.SQLite: "TIMESTAMP", store.Postgres: "TIMESTAMPTZ"}[db.Dialect]+`)`); err != nil {
			t.Fatal(err)
		}
		a := time.Date(2026, 3, 2, 23, 59, 59, 250_000_000, time.UTC)
		b := a.Add(36*time.Hour + 1500*time.Millisecond)
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO span_probe (a, b) VALUES ($1, $2)`, a, b); err != nil {
			t.Fatal(err)
		}
		var secs float64
		if err := db.SQL.QueryRowContext(ctx, `SELECT `+db.SecondsBetween("a", "b")+` FROM span_probe`).Scan(&secs); err != nil {
			t.Fatal(err)
		}
		if want := b.Sub(a).Seconds(); math.Abs(secs-want) > 0.001 {
			t.Fatalf("SecondsBetween = %f, want %f", secs, want)
		}
	})
}
