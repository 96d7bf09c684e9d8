package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statement cache. Queries built from filters
// (the change list) have a bounded but not tiny number of shapes; past
// the cap a query simply runs unprepared.
const maxCachedStmts = 256

// stmtCache keeps statements prepared by their SQL text. The SQLite driver
// parses and plans every query it is given afresh, and for the wide change
// queries (a dozen joins) that parse was half of My work's CPU time under
// load. database/sql prepares a cached *sql.Stmt on each pool connection
// the first time it runs there, and again transparently if a connection is
// replaced, so one entry serves the whole pool.
type stmtCache struct {
	db *sql.DB

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
	full  bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the prepared statement for query, or nil when the cache is
// full or preparing failed (the caller then runs the query unprepared, so
// a bad query reports its error the usual way).
func (c *stmtCache) stmt(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	st, full := c.stmts[query], c.full
	c.mu.RUnlock()
	if st != nil || full {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[query]; st != nil {
		return st
	}
	if len(c.stmts) >= maxCachedStmts {
		c.full = true
		return nil
	}
	// Prepared outside the request's context: the statement outlives it.
	st, err := c.db.PrepareContext(context.WithoutCancel(ctx), stablePlanSQL(query))
	if err != nil {
		return nil
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := c.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, query, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, query, args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

// len is how many statements are cached (for tests).
func (c *stmtCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.stmts)
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
	c.full = true // nothing new after Close
}
