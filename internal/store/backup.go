package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// BackupSQLite writes a consistent copy of the SQLite database to path
// with VACUUM INTO, which reads one snapshot while writers carry on, so it
// is safe on a running server. The copy is written next to path and
// renamed, so a failed backup never leaves a half file behind.
func BackupSQLite(ctx context.Context, db *DB, path string) error {
	if db.Dialect != SQLite {
		return errors.New("backup is for the SQLite database; use pg_dump for PostgreSQL")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already exists; choose another --out file", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create backup directory: %w", err)
	}
	tmp := path + ".partial"
	_ = os.Remove(tmp)
	if _, err := db.SQL.ExecContext(ctx, `VACUUM INTO '`+strings.ReplaceAll(tmp, "'", "''")+`'`); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write backup: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write backup: %w", err)
	}
	return nil
}
