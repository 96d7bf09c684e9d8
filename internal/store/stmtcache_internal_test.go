package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

func TestStmtCacheReusesAndCaps(t *testing.T) {
	ctx := context.Background()
	db, err := openSQLite(ctx, filepath.Join(t.TempDir(), SQLiteFile), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := db.Prepared()
	if _, err := q.ExecContext(ctx, `CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := q.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := db.stmts.len(); n != 2 {
		t.Errorf("cached %d statements after two distinct queries, want 2", n)
	}
	// Past the cap queries still run, unprepared.
	for i := range maxCachedStmts + 10 {
		var v string
		if err := q.QueryRowContext(ctx, fmt.Sprintf(`SELECT v FROM kv WHERE k = $1 AND %d = %d`, i, i), 7).Scan(&v); err != nil || v != "v7" {
			t.Fatalf("query %d: %q, %v; want v7", i, v, err)
		}
	}
	if n := db.stmts.len(); n != maxCachedStmts {
		t.Errorf("cached %d statements, want the cap %d", n, maxCachedStmts)
	}
	rows, err := q.QueryContext(ctx, `SELECT k FROM kv ORDER BY k`) // not cached any more: cap reached
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if n != 20 {
		t.Errorf("read %d rows, want 20", n)
	}
}
