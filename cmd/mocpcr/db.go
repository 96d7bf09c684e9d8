package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mocpcr/mocpcr/internal/app"

	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/store"
)

func openDB(ctx context.Context, env *environment, cfg *config.Config) (*store.DB, error) {
	logger := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return store.Open(ctx, app.StoreOptions(cfg, logger))
}

// openConfigured is how a command that uses the database starts: load the
// configuration and open the database, saying why on stderr when either
// fails (then ok is false: exit 1). The caller closes db.
func openConfigured(ctx context.Context, env *environment) (cfg *config.Config, db *store.DB, ok bool) {
	if cfg, ok = loadConfig(env); !ok {
		return nil, nil, false
	}
	if db, ok = openReported(ctx, env, cfg); !ok {
		return nil, nil, false
	}
	return cfg, db, true
}

// openReported is openDB that says why on stderr when it fails.
func openReported(ctx context.Context, env *environment, cfg *config.Config) (*store.DB, bool) {
	db, err := openDB(ctx, env, cfg)
	if err != nil {
		fmt.Fprintln(env.stderr, "mocpcr:", err)
		return nil, false
	}
	return db, true
}

// migrateFirst applies pending migrations before a command writes,
// saying why on stderr when it cannot.
func migrateFirst(ctx context.Context, env *environment, db *store.DB) bool {
	if _, err := db.Migrate(ctx); err != nil {
		fmt.Fprintln(env.stderr, "mocpcr:", err)
		return false
	}
	return true
}
