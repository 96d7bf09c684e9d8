package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestStablePlanSQL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE id = $1 AND b IN ($2, $10) LIMIT $3`, `SELECT a FROM t WHERE id = +$1 AND b IN (+$2, +$10) LIMIT +$3`},
		{`SELECT '$1', "$2" FROM t WHERE x = $1 || 'it''s $3'`, `SELECT '$1', "$2" FROM t WHERE x = +$1 || 'it''s $3'`},
		{`UPDATE t SET v = -$1 WHERE k = $2`, `UPDATE t SET v = -+$1 WHERE k = +$2`},
		{`SELECT $ FROM t`, `SELECT $ FROM t`},
		{"SELECT a -- don't $1\nFROM t WHERE b = '$2' AND c = $3", "SELECT a -- don't $1\nFROM t WHERE b = '$2' AND c = +$3"},
		{"SELECT /* it's $1 */ a FROM t WHERE b = $1 -- $2", "SELECT /* it's $1 */ a FROM t WHERE b = +$1 -- $2"},
		{"SELECT a /* unterminated $1", "SELECT a /* unterminated $1"},
	} {
		if got := stablePlanSQL(c.in); got != c.want {
			t.Errorf("stablePlanSQL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// statsDB is a SQLite table with an index and ANALYZE statistics
// (sqlite_stat4), the case in which SQLite re-plans bare parameters.
func statsDB(t testing.TB) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := openSQLite(ctx, filepath.Join(t.TempDir(), SQLiteFile), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE n (id INTEGER PRIMARY KEY, user_id BIGINT NOT NULL, label TEXT, at TIMESTAMP, read_at TIMESTAMP)`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE INDEX n_user ON n (user_id, read_at)`); err != nil {
			return err
		}
		for i := range 20000 {
			var read any
			if i%5 != 0 {
				read = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO n (user_id, label, at, read_at) VALUES ($1, $2, $3, $4)`,
				int64(i%(1+i%200)), fmt.Sprint("l", i%7), time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC), read); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `ANALYZE`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// The rewritten statements answer exactly as the bare ones, for every
// kind of value a parameter carries.
func TestStablePlanSameResults(t *testing.T) {
	db := statsDB(t)
	ctx := context.Background()
	q := db.Prepared()
	at := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	for _, c := range []struct {
		query string
		args  []any
	}{
		{`SELECT count(*) FROM n WHERE user_id = $1 AND read_at IS NULL`, []any{int64(3)}},
		{`SELECT count(*) FROM n WHERE user_id = $1`, []any{"3"}},
		{`SELECT count(*) FROM n WHERE label = $1`, []any{"l3"}},
		{`SELECT count(*) FROM n WHERE at < $1`, []any{at}},
		{`SELECT count(*) FROM n WHERE read_at IS $1`, []any{nil}},
		{`SELECT count(*) FROM n WHERE user_id IN ($1, $2) AND id > $3`, []any{int64(1), 7.0, 100}},
		{`SELECT count(*) FROM (SELECT id FROM n ORDER BY id DESC LIMIT $1 OFFSET $2)`, []any{25, 10}},
		{`SELECT count(*) FROM n WHERE $1 = '' OR label = $1`, []any{""}},
	} {
		var want, got int
		if err := db.SQL.QueryRowContext(ctx, c.query, c.args...).Scan(&want); err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		for range 2 { // the second run uses the kept statement
			if err := q.QueryRowContext(ctx, c.query, c.args...).Scan(&got); err != nil {
				t.Fatalf("prepared %s: %v", c.query, err)
			}
			if got != want {
				t.Errorf("%s %v: prepared answers %d, unprepared %d", c.query, c.args, got, want)
			}
		}
	}
}

// BenchmarkStatsEquality runs a kept statement with a new bound value
// each time: bare, SQLite re-prepares it on every call; rewritten, not.
func BenchmarkStatsEquality(b *testing.B) {
	db := statsDB(b)
	ctx := context.Background()
	const query = `SELECT count(*) FROM n WHERE user_id = $1 AND read_at IS NULL`
	for _, c := range []struct {
		name string
		sql  string
	}{{"bare", query}, {"stable", stablePlanSQL(query)}} {
		b.Run(c.name, func(b *testing.B) {
			st, err := db.SQL.PrepareContext(ctx, c.sql)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			i := 0
			for b.Loop() {
				var n int
				if err := st.QueryRowContext(ctx, int64(i%200)).Scan(&n); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
