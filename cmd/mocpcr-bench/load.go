package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
)

// dataset sizes at -scale 1. Sites grow with the scale from 2 (scale 1
// and below, as the suite always had) to 10 at scale 10: a ten-site
// operator after ten years.
const (
	fullUsers         = 2000
	fullChanges       = 10000
	fullNotifications = 1000000
	unitsPerSite      = 5
	auditPerChange    = 4
	// emails: one delivery log row per this many notifications.
	notificationsPerEmail = 100
)

type dataset struct {
	users, changes, notifications, sites int
	// tokens[i] is an API token of user ids[i]; sessions[i] a session
	// cookie value of the same user (the pages); site[i] their site's
	// index (0 to sites-1).
	ids      []int64
	tokens   []string
	sessions []string
	site     []int
	// byUserSite[s] are the numbers and ids of changes of site index s,
	// for routes that open one change (a user asks for one of their
	// site's).
	numbersBySite [][]string
	idsBySite     [][]int64
	// auditors are the indexes of users who may read the audit trail.
	auditors []int
	// coordinator is the one coordinator (and admin) of every site (event
	// latency, the delivery log).
	coordinator      int64
	coordinatorToken string
	siteID           int64
	siteIDs          []int64
}

func sitesAt(scale float64) int { return max(2, int(scale)) }

var stages = []string{"draft", "screening", "review", "approval", "implementation", "pssr", "closeout", "closed", "closed", "closed"}

// load fills an empty, migrated database: sites with units, users with
// roles, one site each, with an API token and a session, changes (a fifth
// temporary, with an expiry) with audit entries, notifications (a fifth
// unread) and delivery-log emails. Everything goes in bulk: big
// transactions of prepared multi-row INSERTs on SQLite, COPY on
// PostgreSQL.
func load(ctx context.Context, db *store.DB, scale float64) (*dataset, error) {
	d := &dataset{
		users:         max(50, int(fullUsers*scale)),
		changes:       max(100, int(fullChanges*scale)),
		notifications: max(1000, int(fullNotifications*scale)),
		sites:         sitesAt(scale),
	}
	d.numbersBySite, d.idsBySite = make([][]string, d.sites), make([][]int64, d.sites)
	now := time.Now().UTC().Truncate(time.Microsecond)
	rng := rand.New(rand.NewPCG(1, 2))
	var unitIDs [][]int64
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		for s := range d.sites {
			code := fmt.Sprintf("BN%c", 'A'+s)
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO sites (code, name) VALUES ($1, $2) RETURNING id`, code, "Bench "+code).Scan(&id); err != nil {
				return err
			}
			d.siteIDs = append(d.siteIDs, id)
			var units []int64
			for u := range unitsPerSite {
				var uid int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO units (site_id, code, name) VALUES ($1, $2, $3) RETURNING id`,
					id, fmt.Sprintf("U%d%02d", s, u), fmt.Sprintf("Unit %d", u)).Scan(&uid); err != nil {
					return err
				}
				units = append(units, uid)
			}
			unitIDs = append(unitIDs, units)
		}
		d.siteID = d.siteIDs[0]
		user, err := tx.PrepareContext(ctx, `INSERT INTO users (email, name, all_sites) VALUES ($1, $2, $3) RETURNING id`)
		if err != nil {
			return err
		}
		defer user.Close()
		role, err := tx.PrepareContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`)
		if err != nil {
			return err
		}
		defer role.Close()
		site, err := tx.PrepareContext(ctx, `INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2)`)
		if err != nil {
			return err
		}
		defer site.Close()
		for i := range d.users {
			var id int64
			if err := user.QueryRowContext(ctx, fmt.Sprintf("user%05d@bench.mocpcr.local", i), fmt.Sprintf("Bench User %d", i), i == 0).Scan(&id); err != nil {
				return err
			}
			d.ids = append(d.ids, id)
			d.site = append(d.site, i%d.sites)
			roles := []string{"initiator"}
			switch {
			case i == 0:
				roles = []string{"coordinator", "admin"}
				d.coordinator = id
			case i%50 == 1:
				roles = append(roles, "approver", "reviewer")
			case i%20 == 3:
				roles = append(roles, "auditor")
				d.auditors = append(d.auditors, i)
			}
			for _, r := range roles {
				if _, err := role.ExecContext(ctx, id, r); err != nil {
					return err
				}
			}
			if i != 0 {
				if _, err := site.ExecContext(ctx, id, d.siteIDs[i%d.sites]); err != nil {
					return err
				}
			}
			// One transaction for every token and session: one commit
			// instead of two per user.
			tok, err := auth.CreateAPIToken(ctx, tx, id, "bench")
			if err != nil {
				return err
			}
			d.tokens = append(d.tokens, tok)
			sess, _, err := auth.CreateSession(ctx, tx, id, auth.MethodPassword, time.Now())
			if err != nil {
				return err
			}
			d.sessions = append(d.sessions, sess)
			if i == 0 {
				d.coordinatorToken = tok
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}

	changeCols := []string{"number", "kind", "duration", "stage", "title", "description", "site_id", "unit_id", "initiator_id", "reason",
		"risk_ranking", "round", "expires_on", "created_at", "updated_at"}
	change := func(i int) []any {
		kind := "MOC"
		if i%3 == 0 {
			kind = "PCR"
		}
		at := now.Add(-time.Duration(d.changes-i) * time.Hour)
		s := i % d.sites
		number := fmt.Sprintf("%s-2025-%06d", kind, i+1)
		d.numbersBySite[s] = append(d.numbersBySite[s], number)
		d.idsBySite[s] = append(d.idsBySite[s], int64(i+1)) // ids follow the insert order of an empty table
		duration, expires := "permanent", any(nil)
		if i%5 == 2 {
			duration, expires = "temporary", now.AddDate(0, 0, rng.IntN(400)-100).Truncate(24*time.Hour)
		}
		var unit any
		if i%4 != 0 {
			unit = unitIDs[s][rng.IntN(unitsPerSite)]
		}
		// The initiator is someone of the change's site.
		ini := rng.IntN(d.users/d.sites)*d.sites + s
		if ini == 0 {
			ini = d.sites
		}
		return []any{number, kind, duration, stages[rng.IntN(len(stages))],
			fmt.Sprintf("Bench change %d: replace P-%d seals", i, i%900+100), "Generated for the benchmark", d.siteIDs[s], unit,
			d.ids[ini], "Benchmark", []string{"low", "medium", "high"}[i%3], 1, expires, at, at}
	}
	auditCols := []string{"change_id", "seq", "at", "actor_id", "actor_name", "action", "field", "new_value", "prev_hash", "hash"}
	audit := func(i int) []any {
		c, seq := i/auditPerChange+1, i%auditPerChange+1
		at := now.Add(-time.Duration(d.changes-c) * time.Hour).Add(time.Duration(seq) * time.Minute)
		return []any{c, seq, at, d.ids[1], "Bench User 1", []string{"created", "submitted", "field", "stage"}[seq-1], "title",
			fmt.Sprintf("value %d", seq), strings.Repeat("0", 64), strings.Repeat("1", 64)}
	}
	notifCols := []string{"user_id", "type", "title", "body", "link", "created_at", "read_at"}
	notification := func(i int) []any {
		at := now.Add(-time.Duration(d.notifications-i) * time.Second)
		var read any = at
		if rng.IntN(5) == 0 {
			read = nil
		}
		return []any{d.ids[rng.IntN(len(d.ids))], "change.submitted", fmt.Sprintf("MOC-2025-%06d submitted for screening", i%d.changes+1),
			"A change was submitted.", fmt.Sprintf("/changes/%d", i%d.changes+1), at, read}
	}
	emails := max(100, d.notifications/notificationsPerEmail)
	emailCols := []string{"user_id", "to_email", "subject", "html_body", "status", "attempts", "created_at", "updated_at", "sent_at"}
	email := func(i int) []any {
		at := now.Add(-time.Duration(emails-i) * time.Minute)
		u := rng.IntN(len(d.ids))
		return []any{d.ids[u], fmt.Sprintf("user%05d@bench.mocpcr.local", u), fmt.Sprintf("MOC-2025-%06d submitted", i%d.changes+1),
			"<p>A change was submitted.</p>", "sent", 1, at, at, at}
	}
	for _, t := range []struct {
		table string
		cols  []string
		n     int
		row   func(int) []any
	}{
		{"changes", changeCols, d.changes, change},
		{"change_audit", auditCols, d.changes * auditPerChange, audit},
		{"notifications", notifCols, d.notifications, notification},
		{"email_messages", emailCols, emails, email},
	} {
		t0 := time.Now()
		var rebuild func() error
		if t.n >= bigTable {
			var err error
			if rebuild, err = dropIndexes(ctx, db, t.table); err != nil {
				return nil, err
			}
		}
		if err := bulk(ctx, db, t.table, t.cols, t.n, t.row); err != nil {
			return nil, err
		}
		if rebuild != nil {
			if err := rebuild(); err != nil {
				return nil, err
			}
		}
		logf("  %s: %d rows in %s", t.table, t.n, time.Since(t0).Round(time.Millisecond))
	}
	// Fresh statistics, as a database that has been running would have;
	// on PostgreSQL also the visibility map autovacuum would have set by
	// then (it vacuums after inserts too), without which every count
	// reads the table instead of an index.
	steady := `ANALYZE`
	if db.Dialect == store.Postgres {
		steady = `VACUUM ANALYZE`
	}
	t0 := time.Now()
	if _, err := db.SQL.ExecContext(ctx, steady); err != nil {
		return nil, err
	}
	logf("  %s in %s", steady, time.Since(t0).Round(time.Millisecond))
	return d, nil
}

// bigTable is the row count from which a table's secondary indexes are
// dropped for the load and built again after it: inserting 10 million
// notifications into an index on (user_id, ...) touches a random page of
// it per row, while building it afterwards is one sort.
const bigTable = 1000000

// dropIndexes drops table's secondary indexes (not those of a primary
// key or unique constraint on PostgreSQL) and returns what creates them
// again, as the migrations defined them.
func dropIndexes(ctx context.Context, db *store.DB, table string) (func() error, error) {
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL`
	if db.Dialect == store.Postgres {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND schemaname = current_schema()
			AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = indexname)`
	}
	rows, err := db.SQL.QueryContext(ctx, q, table)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var n, d string
		if err := rows.Scan(&n, &d); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, n), append(defs, d)
	}
	rows.Close()
	for _, n := range names {
		if _, err := db.SQL.ExecContext(ctx, "DROP INDEX "+n); err != nil {
			return nil, err
		}
	}
	return func() error {
		t0 := time.Now()
		for _, d := range defs {
			if _, err := db.SQL.ExecContext(ctx, d); err != nil {
				return fmt.Errorf("rebuild index: %w", err)
			}
		}
		logf("  %s: %d indexes built again in %s", table, len(defs), time.Since(t0).Round(time.Millisecond))
		return nil
	}, nil
}

// sqliteBatch is how many rows one SQLite INSERT carries: the statement
// is parsed once and each call binds 7-15 columns × 200 rows (within
// SQLite's 32,766 variables), a fifth of the per-row cost of one row per
// call.
const sqliteBatch = 200

// sqliteTxRows is how many rows one SQLite load transaction holds: big
// enough that commits cost nothing, small enough that the WAL file stays
// a few hundred MB at scale 10.
const sqliteTxRows = 500000

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
	insert := func(rows int) string {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		p := 1
		for r := range rows {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for c := range cols {
				if c > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d", p)
				p++
			}
			b.WriteByte(')')
		}
		return b.String()
	}
	for start := 0; start < n; start += sqliteTxRows {
		end := min(n, start+sqliteTxRows)
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			full, err := tx.PrepareContext(ctx, insert(sqliteBatch))
			if err != nil {
				return err
			}
			defer full.Close()
			args := make([]any, 0, sqliteBatch*len(cols))
			for i := start; i < end; {
				k := min(sqliteBatch, end-i)
				args = args[:0]
				for j := range k {
					args = append(args, row(i+j)...)
				}
				st := full
				if k < sqliteBatch {
					if st, err = tx.PrepareContext(ctx, insert(k)); err != nil {
						return err
					}
					defer st.Close()
				}
				if _, err := st.ExecContext(ctx, args...); err != nil {
					return fmt.Errorf("insert %s: %w", table, err)
				}
				i += k
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
