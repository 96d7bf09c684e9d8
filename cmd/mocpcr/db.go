package main

import (
	"context"

	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/store"
)

func openDB(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	return store.Open(ctx, store.Options{URL: cfg.DatabaseURL.Value(), DataDir: cfg.DataDir})
}
