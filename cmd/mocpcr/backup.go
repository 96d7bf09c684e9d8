package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

func backup(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "backup", "backup [--out FILE]")
	out := fs.String("out", "", "file to write (default: DATA_DIR/backups/mocpcr-YYYYMMDD-HHMMSS.db)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, ok := loadConfig(env)
	if !ok {
		return 1
	}
	if !cfg.Embedded() {
		fmt.Fprintln(env.stderr, "mocpcr backup: DATABASE_URL points at PostgreSQL; back it up with pg_dump (see README, \"Backup and restore\")")
		return 2
	}
	path := *out
	if path == "" {
		path = filepath.Join(cfg.DataDir, "backups", "mocpcr-"+time.Now().UTC().Format("20060102-150405")+".db")
	}
	db, ok := openReported(ctx, env, cfg)
	if !ok {
		return 1
	}
	defer db.Close()
	if err := store.BackupSQLite(ctx, db, path); err != nil {
		fmt.Fprintln(env.stderr, "mocpcr backup:", err)
		return 1
	}
	st, _ := os.Stat(path)
	fmt.Fprintf(env.stdout, "backup written to %s (%d bytes)\n", path, st.Size())
	return 0
}
