package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
)

// endpoint is one route as the suite measures it.
type endpoint struct {
	name string
	// path is the address user ds.ids[i] asks for (a change of their own
	// site where the route opens one).
	path func(i int) string
	// page: a browser page, requested with a session cookie; otherwise
	// an API call with a bearer token.
	page bool
	// pick are the indexes of the users who call it (nil: everyone), for
	// routes only some roles may open.
	pick []int
	// sql is the route's list query as user i, with its arguments: run
	// directly with its rows read, it is the lower bound of the route.
	// nil where the route is not a list.
	sql func(i int) (string, []any)
}

// sampleUsers is how many users the raw-SQL calls draw from.
const sampleUsers = 100

func fixed(p string) func(int) string { return func(int) string { return p } }

// endpoints are the routes the suite loads: every list (changes in
// several sorts and deep by cursor, notifications, the delivery log, the
// audit trail) in the API and as pages, the two busiest pages, a change
// and the dashboard.
func endpoints(ctx context.Context, db *store.DB, ds *dataset) []endpoint {
	svc := change.New(db, nil)
	actors := map[int]*auth.User{}
	actor := func(i int) *auth.User {
		if u, ok := actors[i]; ok {
			return u
		}
		u, err := auth.UserByID(ctx, db.SQL, ds.ids[i])
		if err != nil {
			panic(err)
		}
		actors[i] = u
		return u
	}
	fixedSQL := func(query string, args ...any) func(int) (string, []any) {
		return func(int) (string, []any) { return query, args }
	}
	// changeList is the raw SQL of the change list for filter f: the
	// page's query, built by the service itself (change.ListSQL). Its
	// total is counted once per filter and sites every 30 s
	// (change.CountTTL), so it is not part of a page's lower bound.
	type built struct {
		query string
		args  []any
	}
	changeList := func(f change.Filter) func(i int) (string, []any) {
		cache := map[int]built{}
		return func(i int) (string, []any) {
			b, ok := cache[i]
			if !ok {
				query, args, _, _, err := svc.ListSQL(actor(i), f)
				if err != nil {
					panic(err)
				}
				b = built{query, args}
				cache[i] = b
			}
			return b.query, b.args
		}
	}
	// changeOf is a change of user i's site, the same one for a user.
	changeOf := func(i int) int { return (i * 7919) % len(ds.idsBySite[ds.site[i]]) }
	changeID := func(i int) int64 { return ds.idsBySite[ds.site[i]][changeOf(i)] }
	number := func(i int) string { return ds.numbersBySite[ds.site[i]][changeOf(i)] }
	deep := deepCursor(ctx, svc, actor(0), ds.changes/2)
	var maxNotification int64
	_ = db.SQL.QueryRowContext(ctx, `SELECT max(id) FROM notifications`).Scan(&maxNotification)
	notifications := func(before int64) func(i int) (string, []any) {
		return func(i int) (string, []any) {
			return `SELECT id, type, title, body, link, created_at, read_at FROM notifications
				WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, []any{ds.ids[i], before, 21}
		}
	}
	auditTrail := func(limit int) func(i int) (string, []any) {
		return func(i int) (string, []any) {
			return `SELECT * FROM change_audit WHERE change_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, []any{changeID(i), 0, limit + 1}
		}
	}
	return []endpoint{
		{name: "My work (GET /api/v1/my-work)", path: fixed("/api/v1/my-work")},
		{name: "change list (GET /api/v1/changes?limit=50)", path: fixed("/api/v1/changes?limit=50"), sql: changeList(change.Filter{Limit: 50})},
		{name: "change list by site (GET /api/v1/changes?limit=50&sort=site)", path: fixed("/api/v1/changes?limit=50&sort=site"),
			sql: changeList(change.Filter{Limit: 50, Sort: "site"})},
		{name: "change list by expiry, latest first (GET /api/v1/changes?limit=50&sort=-expires)", path: fixed("/api/v1/changes?limit=50&sort=-expires"),
			sql: changeList(change.Filter{Limit: 50, Sort: "-expires"})},
		{name: "change list by owner (GET /api/v1/changes?limit=50&sort=initiator)", path: fixed("/api/v1/changes?limit=50&sort=initiator"),
			sql: changeList(change.Filter{Limit: 50, Sort: "initiator"})},
		{name: "change list by stage (GET /api/v1/changes?limit=50&sort=stage)", path: fixed("/api/v1/changes?limit=50&sort=stage"),
			sql: changeList(change.Filter{Limit: 50, Sort: "stage"})},
		{name: "change list, halfway by cursor (GET /api/v1/changes?limit=50&after=…)", path: fixed("/api/v1/changes?limit=50&after=" + url.QueryEscape(deep)),
			sql: changeList(change.Filter{Limit: 50, After: deep})},
		{name: "unread count (GET /api/v1/notifications/unread-count)", path: fixed("/api/v1/notifications/unread-count"),
			sql: func(i int) (string, []any) {
				return `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, []any{ds.ids[i]}
			}},
		{name: "notification list (GET /api/v1/notifications)", path: fixed("/api/v1/notifications"), sql: notifications(math.MaxInt64)},
		{name: "notification list, halfway by cursor (GET /api/v1/notifications?cursor=…)", path: fixed(fmt.Sprintf("/api/v1/notifications?cursor=%d", maxNotification/2)),
			sql: notifications(maxNotification / 2)},
		{name: "delivery log (GET /api/v1/admin/emails)", path: fixed("/api/v1/admin/emails"), pick: []int{0},
			sql: fixedSQL(`SELECT * FROM email_messages WHERE id < $1 ORDER BY id DESC LIMIT $2`, int64(math.MaxInt64), 51)},
		{name: "audit trail (GET /api/v1/changes/{id}/audit)", path: func(i int) string { return fmt.Sprintf("/api/v1/changes/%d/audit", changeID(i)) },
			pick: ds.auditors, sql: auditTrail(change.MaxAuditPage)},
		{name: "change (GET /api/v1/changes/{id})", path: func(i int) string { return fmt.Sprintf("/api/v1/changes/%d", changeID(i)) }},
		{name: "My work page (GET /)", path: fixed("/"), page: true},
		{name: "change list page (GET /changes)", path: fixed("/changes"), page: true, sql: changeList(change.Filter{Limit: 25})},
		{name: "change list page by owner (GET /changes?sort=initiator)", path: fixed("/changes?sort=initiator"), page: true,
			sql: changeList(change.Filter{Limit: 25, Sort: "initiator"})},
		{name: "notifications page (GET /notifications)", path: fixed("/notifications"), page: true, sql: notifications(math.MaxInt64)},
		{name: "change page (GET /changes/{number})", path: func(i int) string { return "/changes/" + number(i) }, page: true},
		{name: "audit page (GET /changes/{number}/audit)", path: func(i int) string { return "/changes/" + number(i) + "/audit" }, page: true,
			pick: ds.auditors, sql: auditTrail(200)},
		{name: "dashboard page (GET /dashboard)", path: fixed("/dashboard"), page: true},
	}
}

// deepCursor is the change list's cursor (newest first) after n changes
// as u sees them.
func deepCursor(ctx context.Context, svc *change.Service, u *auth.User, n int) string {
	f := change.Filter{Limit: 1000}
	for seen := 0; seen < n; {
		f.Limit = min(1000, n-seen)
		p, err := svc.ListPage(ctx, u, f)
		if err != nil {
			panic(err)
		}
		seen += len(p.Changes)
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	return f.After
}

// user draws the index of a user who may call ep.
func (ep endpoint) user(rng *mrand.Rand, ds *dataset) int {
	if len(ep.pick) > 0 {
		return ep.pick[rng.IntN(len(ep.pick))]
	}
	return rng.IntN(len(ds.ids))
}

// timeCalls times n calls of fn, each as a user drawn from the first
// sampleUsers of pick (or of everyone).
func timeCalls(ds *dataset, pick []int, n int, fn func(i int) error) ([]time.Duration, error) {
	users := pick
	if len(users) == 0 {
		for i := range min(sampleUsers, len(ds.ids)) {
			users = append(users, (i*104729)%len(ds.ids))
		}
	}
	users = users[:min(sampleUsers, len(users))]
	lat := make([]time.Duration, 0, n)
	for k := range n {
		t := time.Now()
		if err := fn(users[k%len(users)]); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

// request is ep's request as user i.
func (ep endpoint) request(s *server, ds *dataset, i int) *http.Request {
	req, _ := http.NewRequest("GET", s.url+ep.path(i), nil)
	if ep.page {
		req.AddCookie(&http.Cookie{Name: "mocpcr_session", Value: ds.sessions[i]})
	} else {
		req.Header.Set("Authorization", "Bearer "+ds.tokens[i])
	}
	return req
}

// singleClient times n requests made one after another.
func singleClient(s *server, ds *dataset, ep endpoint, n int) ([]time.Duration, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	rng := mrand.New(mrand.NewPCG(3, 4))
	var lat []time.Duration
	for range n {
		req := ep.request(s, ds, ep.user(rng, ds))
		t := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("GET %s = %d: %.300s", req.URL.Path, resp.StatusCode, b)
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

// loadAvg is the machine's load average (1, 5 and 15 minutes).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// readRows runs a query and reads every row without decoding it.
func readRows(ctx context.Context, q store.Querier, query string, args ...any) error {
	rs, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	dest := make([]any, len(cols))
	for i := range dest {
		dest[i] = new(sql.RawBytes)
	}
	for rs.Next() {
		if err := rs.Scan(dest...); err != nil {
			return err
		}
	}
	return rs.Err()
}

// explain writes the plan of each list route's query, as executed on
// PostgreSQL (EXPLAIN ANALYZE) or as planned on SQLite (EXPLAIN QUERY
// PLAN), for its first user: which index serves it, and at what cost.
func explain(ctx context.Context, db *store.DB, ds *dataset, eps []endpoint, w io.Writer) error {
	prefix := "EXPLAIN QUERY PLAN "
	if db.Dialect == store.Postgres {
		prefix = "EXPLAIN (ANALYZE, BUFFERS) "
	}
	for _, ep := range eps {
		if ep.sql == nil {
			continue
		}
		i := 1
		if len(ep.pick) > 0 {
			i = ep.pick[0]
		}
		query, args := ep.sql(i)
		rs, err := db.SQL.QueryContext(ctx, prefix+query, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", ep.name, err)
		}
		fmt.Fprintf(w, "== %s (%s)\n", ep.name, db.Dialect)
		cols, _ := rs.Columns()
		for rs.Next() {
			v := make([]any, len(cols))
			p := make([]any, len(cols))
			for k := range v {
				p[k] = &v[k]
			}
			if err := rs.Scan(p...); err != nil {
				rs.Close()
				return err
			}
			fmt.Fprintf(w, "  %s\n", v[len(v)-1])
		}
		rs.Close()
	}
	return nil
}
