package main

import (
	"context"
	"fmt"

	"github.com/mocpcr/mocpcr/internal/change"
)

// auditCommand runs "mocpcr audit verify": it recomputes every change's
// hash chain and exits 1 naming the first broken entry of each broken
// chain, 0 when all verify.
func auditCommand(ctx context.Context, env *environment, args []string) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(env.stderr, "Usage: mocpcr audit verify")
		return 2
	}
	fs := newFlagSet(env, "audit verify", "audit verify")
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	_, db, ok := openConfigured(ctx, env)
	if !ok {
		return 1
	}
	defer db.Close()
	if pending, err := db.Pending(ctx); err != nil || pending > 0 {
		fmt.Fprintln(env.stderr, "mocpcr: the database is not migrated: run 'mocpcr migrate' first")
		return 1
	}
	rep, err := change.VerifyAudit(ctx, db.SQL)
	if err != nil {
		fmt.Fprintln(env.stderr, "mocpcr: audit verify:", err)
		return 1
	}
	if !rep.OK() {
		for _, b := range rep.Broken {
			fmt.Fprintln(env.stderr, "audit chain broken:", b.String())
		}
		fmt.Fprintf(env.stderr, "audit verify FAILED: %d of %d changes have a broken chain (%d entries checked)\n", len(rep.Broken), rep.Changes, rep.Entries)
		return 1
	}
	fmt.Fprintf(env.stdout, "audit trail OK: %d changes, %d entries, every hash chain verifies\n", rep.Changes, rep.Entries)
	return 0
}
