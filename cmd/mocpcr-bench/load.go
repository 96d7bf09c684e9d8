package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
)

// dataset sizes at -scale 1.
const (
	fullUsers         = 2000
	fullChanges       = 10000
	fullNotifications = 1000000
)

type dataset struct {
	users, changes, notifications int
	// tokens[i] is an API token of user ids[i].
	ids    []int64
	tokens []string
	// sessions[i] is a session cookie value of user ids[i] (the pages).
	sessions []string
	// coordinator is the one coordinator of site 1 (event latency).
	coordinator      int64
	coordinatorToken string
	siteID           int64
}

var stages = []string{"draft", "screening", "review", "approval", "implementation", "pssr", "closeout", "closed", "closed", "closed"}

// load fills an empty, migrated database: users with roles, two sites,
// changes and notifications (a fifth unread), in bulk: one transaction of
// prepared statements on SQLite, COPY on PostgreSQL.
func load(ctx context.Context, db *store.DB, scale float64) (*dataset, error) {
	d := &dataset{
		users:         max(50, int(fullUsers*scale)),
		changes:       max(100, int(fullChanges*scale)),
		notifications: max(1000, int(fullNotifications*scale)),
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	rng := rand.New(rand.NewPCG(1, 2))
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		for _, code := range []string{"BNA", "BNB"} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sites (code, name) VALUES ($1, $2)`, code, "Bench "+code); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM sites WHERE code = 'BNA'`).Scan(&d.siteID); err != nil {
			return err
		}
		user, err := tx.PrepareContext(ctx, `INSERT INTO users (email, name, all_sites) VALUES ($1, $2, TRUE) RETURNING id`)
		if err != nil {
			return err
		}
		role, err := tx.PrepareContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`)
		if err != nil {
			return err
		}
		for i := range d.users {
			var id int64
			if err := user.QueryRowContext(ctx, fmt.Sprintf("user%05d@bench.mocpcr.local", i), fmt.Sprintf("Bench User %d", i)).Scan(&id); err != nil {
				return err
			}
			d.ids = append(d.ids, id)
			roles := []string{"initiator"}
			switch {
			case i == 0:
				roles = []string{"coordinator"}
				d.coordinator = id
			case i%50 == 1:
				roles = append(roles, "approver", "reviewer")
			}
			for _, r := range roles {
				if _, err := role.ExecContext(ctx, id, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	for _, id := range d.ids {
		tok, err := auth.CreateAPIToken(ctx, db.SQL, id, "bench")
		if err != nil {
			return nil, err
		}
		d.tokens = append(d.tokens, tok)
		sess, _, err := auth.CreateSession(ctx, db.SQL, id, auth.MethodPassword, time.Now())
		if err != nil {
			return nil, err
		}
		d.sessions = append(d.sessions, sess)
		if id == d.coordinator {
			d.coordinatorToken = tok
		}
	}

	changeCols := []string{"number", "kind", "duration", "stage", "title", "description", "site_id", "initiator_id", "reason",
		"risk_ranking", "round", "created_at", "updated_at"}
	change := func(i int) []any {
		kind := "MOC"
		if i%3 == 0 {
			kind = "PCR"
		}
		at := now.Add(-time.Duration(d.changes-i) * time.Hour)
		site := d.siteID
		if i%2 == 1 {
			site++
		}
		return []any{fmt.Sprintf("%s-2025-%05d", kind, i+1), kind, "permanent", stages[rng.IntN(len(stages))],
			fmt.Sprintf("Bench change %d: replace P-%d seals", i, i%900+100), "Generated for the benchmark", site,
			d.ids[1+rng.IntN(len(d.ids)-1)], "Benchmark", []string{"low", "medium", "high"}[i%3], 1, at, at}
	}
	notifCols := []string{"user_id", "type", "title", "body", "link", "created_at", "read_at"}
	notification := func(i int) []any {
		at := now.Add(-time.Duration(d.notifications-i) * time.Second)
		var read any = at
		if rng.IntN(5) == 0 {
			read = nil
		}
		return []any{d.ids[rng.IntN(len(d.ids))], "change.submitted", fmt.Sprintf("MOC-2025-%05d submitted for screening", i%d.changes+1),
			"A change was submitted.", fmt.Sprintf("/changes/%d", i%d.changes+1), at, read}
	}
	if err := bulk(ctx, db, "changes", changeCols, d.changes, change); err != nil {
		return nil, err
	}
	if err := bulk(ctx, db, "notifications", notifCols, d.notifications, notification); err != nil {
		return nil, err
	}
	// Fresh statistics, as a database that has been running would have;
	// on PostgreSQL also the visibility map autovacuum would have set by
	// then (it vacuums after inserts too), without which every count
	// reads the table instead of an index.
	steady := `ANALYZE`
	if db.Dialect == store.Postgres {
		steady = `VACUUM ANALYZE`
	}
	if _, err := db.SQL.ExecContext(ctx, steady); err != nil {
		return nil, err
	}
	return d, nil
}

// bulk inserts n rows made by row.
func bulk(ctx context.Context, db *store.DB, table string, cols []string, n int, row func(i int) []any) error {
	if db.Dialect == store.Postgres {
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			i++
			return row(i - 1), nil
		})
		if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{table}, cols, src); err != nil {
			return fmt.Errorf("copy %s: %w", table, err)
		}
		return nil
	}
	return db.Tx(ctx, func(tx *sql.Tx) error {
		ph := ""
		for i := range cols {
			if i > 0 {
				ph += ", "
			}
			ph += fmt.Sprintf("$%d", i+1)
		}
		colList := ""
		for i, c := range cols {
			if i > 0 {
				colList += ", "
			}
			colList += c
		}
		st, err := tx.PrepareContext(ctx, "INSERT INTO "+table+" ("+colList+") VALUES ("+ph+")")
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range n {
			if _, err := st.ExecContext(ctx, row(i)...); err != nil {
				return fmt.Errorf("insert %s: %w", table, err)
			}
		}
		return nil
	})
}
