package main

import (
	"context"
	"fmt"
	"net"

	"github.com/mocpcr/mocpcr/internal/app"
)

func serve(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "serve", "serve [--demo]")
	demoFlag := fs.Bool("demo", false, "seed demo data into an empty PostgreSQL database (the embedded SQLite default always does)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, ok := loadConfig(env)
	if !ok {
		return 1
	}
	logger := app.NewLogger(cfg, env.stderr)
	a, err := app.New(ctx, cfg, logger, app.Options{Demo: *demoFlag, Version: buildVersion()})
	if err != nil {
		fmt.Fprintln(env.stderr, "mocpcr:", err)
		return 1
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintf(env.stderr, "mocpcr: cannot listen on %s (MOCPCR_ADDR): %v\n", cfg.Addr, err)
		return 1
	}
	if err := a.Serve(ctx, ln); err != nil {
		fmt.Fprintln(env.stderr, "mocpcr:", err)
		return 1
	}
	return 0
}

func migrate(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "migrate", "migrate")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	_, db, ok := openConfigured(ctx, env)
	if !ok {
		return 1
	}
	defer db.Close()
	res, err := db.Migrate(ctx)
	for _, p := range res.Applied {
		fmt.Fprintln(env.stdout, "applied", p)
	}
	if err != nil {
		fmt.Fprintln(env.stderr, "mocpcr:", err)
		return 1
	}
	if len(res.Applied) == 0 {
		fmt.Fprintln(env.stdout, "database is up to date")
	}
	return 0
}
