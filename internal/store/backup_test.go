package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A backup taken while writers are busy is a consistent, openable database.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, store.SQLite)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var written atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				err := db.Tx(ctx, func(tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO sites (code, name) VALUES ($1, 'x')`, fmt.Sprintf("W%d-%d", w, i))
					return err
				})
				if err != nil {
					t.Errorf("writer: %v", err)
					return
				}
				written.Add(1)
			}
		}()
	}
	for written.Load() < 50 {
		runtime.Gosched() // let the writers get going before the snapshot
	}
	out := filepath.Join(t.TempDir(), "b", "backup.db")
	err := store.BackupSQLite(ctx, db, out)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	copyDB, err := sql.Open("sqlite", store.SQLiteDSN(out))
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var check string
	if err := copyDB.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var n int
	copyDB.QueryRow(`SELECT count(*) FROM sites`).Scan(&n)
	if n == 0 || int64(n) > written.Load() {
		t.Errorf("backup has %d sites, writers wrote %d", n, written.Load())
	}
	if err := store.BackupSQLite(ctx, db, out); err == nil {
		t.Error("backup over an existing file succeeded; it must refuse")
	}
}
