// Package store opens mocpcr's database (an embedded SQLite file by
// default, PostgreSQL when DATABASE_URL says so), applies the embedded
// migrations and runs transactions. Dialect differences live here and in
// the migration renderer, nowhere else.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite" // pure-Go SQLite driver: the binary builds with CGO_ENABLED=0
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the database engine.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database. SQL is shared by every package; Pool is the
// pgx pool underneath it on PostgreSQL (nil on SQLite) for the job queue
// and LISTEN/NOTIFY.
type DB struct {
	SQL     *sql.DB
	Pool    *pgxpool.Pool
	Dialect Dialect
	// Path is the SQLite file, empty on PostgreSQL.
	Path string

	stmts *stmtCache // SQLite only; see Prepared

	migrated atomic.Bool // every embedded migration is applied; see Pending
	// migrations, when set, replaces the embedded migrations (tests of
	// the migration machinery itself).
	migrations fs.FS

	commitMu    sync.Mutex
	commitHooks map[*func()]struct{}
}

// OnCommit calls fn after every transaction Tx commits in this process,
// until the returned function is called. fn runs on the committing
// goroutine, so it must not block: it is for signals ("look again"), such
// as waking the SQLite live-notification poller at once instead of at its
// next tick. Writes by other processes are not seen here.
func (db *DB) OnCommit(fn func()) (stop func()) {
	key := &fn
	db.commitMu.Lock()
	if db.commitHooks == nil {
		db.commitHooks = map[*func()]struct{}{}
	}
	db.commitHooks[key] = struct{}{}
	db.commitMu.Unlock()
	return func() {
		db.commitMu.Lock()
		delete(db.commitHooks, key)
		db.commitMu.Unlock()
	}
}

func (db *DB) committed() {
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	for fn := range db.commitHooks {
		(*fn)()
	}
}

// Prepared runs queries as statements kept prepared by their SQL text, for
// the hottest read paths. On SQLite that saves parsing and planning the
// query on every call; PostgreSQL's driver (pgx) already keeps a statement
// cache per connection, so there it is db.SQL itself. Use it with fixed SQL
// text (arguments as placeholders), never with values spliced in.
func (db *DB) Prepared() Querier {
	if db.stmts == nil {
		return db.SQL
	}
	return db.stmts
}

// Options says which database to open.
type Options struct {
	// URL is a postgres:// URL; empty means the embedded SQLite file.
	URL string
	// DataDir holds the SQLite file.
	DataDir string
	// Password, when set, is the PostgreSQL password, kept apart from URL
	// so that it may hold any character (@, /, #, %...) without
	// URL-encoding. A password in URL too is an error.
	Password string
	// Wait is how long Open keeps retrying a PostgreSQL server that is not
	// reachable yet (a database container still starting), with backoff;
	// 0 tries once. Errors that waiting cannot fix (a refused password, an
	// unknown database, a malformed URL) fail at once.
	Wait time.Duration
	// OnWait, when set, is told about each failed attempt before Open
	// waits delay and tries again.
	OnWait func(err error, delay time.Duration)
	// MaxConns is the connection pool's size; 0 is the default
	// (PostgresMaxConns, or pool_max_conns in the URL; 32 on SQLite).
	MaxConns int
}

// PostgresMaxConns is the default PostgreSQL pool size: the web server's
// read gate admits max(8, 4 per core) requests at once, and the job
// queue, the live-update listener and writes need a few more. A larger
// pool only queues the same work inside PostgreSQL, which on a small
// machine shares the cores with mocpcr; a smaller one makes admitted
// requests wait for a connection.
func PostgresMaxConns() int32 {
	return int32(max(8, 4*runtime.GOMAXPROCS(0)) + 4)
}

// SQLiteFile is the database file name inside the data directory.
const SQLiteFile = "mocpcr.db"

// Open connects and checks the connection. It does not migrate.
func Open(ctx context.Context, opt Options) (*DB, error) {
	if opt.URL == "" {
		return openSQLite(ctx, filepath.Join(opt.DataDir, SQLiteFile), opt.MaxConns)
	}
	return openPostgresWaiting(ctx, opt)
}

// SQLiteDSN is the connection string every SQLite handle uses: WAL so
// readers never wait for writers, a busy timeout so concurrent writers
// queue instead of failing with "database is locked", and BEGIN IMMEDIATE
// so a transaction takes the write lock up front rather than failing when
// it upgrades from read to write.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
}

// sqliteMaxConns bounds the SQLite connection pool; each idle connection
// costs a page cache of a few MB at most.
const sqliteMaxConns = 32

func openSQLite(ctx context.Context, path string, maxConns int) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory (MOCPCR_DATA_DIR): %w", err)
	}
	db, err := sql.Open("sqlite", SQLiteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	// Readers never wait for each other in WAL mode, so the pool is sized
	// for concurrent requests rather than cores: with 8 connections, 50
	// clients spent most of their time queued in database/sql while the
	// CPU sat two-thirds idle. Writers still take turns on the busy timeout.
	if maxConns <= 0 {
		maxConns = sqliteMaxConns
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	return &DB{SQL: db, Dialect: SQLite, Path: path, stmts: newStmtCache(db)}, nil
}

// postgresConfig parses the URL and applies Options.Password.
func postgresConfig(opt Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(opt.URL)
	if err != nil {
		// pgx errors can quote the URL, password included; never pass them on.
		return nil, errors.New("DATABASE_URL is not a valid PostgreSQL URL: expected postgres://user:password@host:5432/dbname?sslmode=require")
	}
	if opt.Password != "" {
		if u, err := url.Parse(opt.URL); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				return nil, errors.New("DATABASE_PASSWORD is set but DATABASE_URL holds a password too: keep the password in one of them (DATABASE_PASSWORD takes any character without URL-encoding)")
			}
		}
		cfg.ConnConfig.Password = opt.Password
	}
	// Statements: pgx's default exec mode prepares each statement once per
	// connection and keeps it (a cache of 512 per connection), so the hot
	// queries are planned once per connection, not per call.
	switch {
	case opt.MaxConns > 0:
		cfg.MaxConns = int32(opt.MaxConns)
	case !strings.Contains(opt.URL, "pool_max_conns"):
		cfg.MaxConns = PostgresMaxConns()
	}
	return cfg, nil
}

// openPostgresWaiting retries openPostgres while the server is not
// reachable, doubling the delay from 0.5 s up to 5 s, until opt.Wait has
// passed.
func openPostgresWaiting(ctx context.Context, opt Options) (*DB, error) {
	cfg, err := postgresConfig(opt)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(opt.Wait)
	delay := 500 * time.Millisecond
	for {
		db, err := openPostgres(ctx, opt.URL, cfg)
		if err == nil {
			return db, nil
		}
		left := time.Until(deadline)
		if !retryableConnect(err) || left <= 0 || ctx.Err() != nil {
			return nil, err
		}
		delay = min(delay, left)
		if opt.OnWait != nil {
			opt.OnWait(err, delay)
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// connectError is a failed PostgreSQL connection, worded without the URL's
// credentials; cause is kept to decide whether waiting can help.
type connectError struct {
	msg   string
	cause error
}

func (e *connectError) Error() string { return e.msg }
func (e *connectError) Unwrap() error { return e.cause }

// retryableConnect is false for what a server that finished starting would
// still refuse: authentication (SQLSTATE class 28) and an unknown database
// (3D000). Anything else (refused or timed-out connections, "the database
// system is starting up", 57P03) may pass once the server is up.
func retryableConnect(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return !strings.HasPrefix(pgErr.Code, "28") && pgErr.Code != "3D000"
	}
	return true
}

func openPostgres(ctx context.Context, rawURL string, cfg *pgxpool.Config) (*DB, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg.Copy())
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return nil, &connectError{
			msg:   fmt.Sprintf("cannot connect to PostgreSQL at %s (DATABASE_URL): %s", redactURL(rawURL), pgReason(err)),
			cause: err,
		}
	}
	return &DB{SQL: stdlib.OpenDBFromPool(pool), Pool: pool, Dialect: Postgres}, nil
}

// pgReason keeps the useful part of a connection error without anything
// that could echo credentials.
func pgReason(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		s = s[i+2:]
	}
	return s
}

// redactURL shows host, port and database but never user info.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// Close releases the database.
func (db *DB) Close() error {
	if db.stmts != nil {
		db.stmts.close()
	}
	err := db.SQL.Close()
	if db.Pool != nil {
		db.Pool.Close()
	}
	return err
}

// Tx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise (also on panic).
func (db *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.committed()
	return nil
}

// Querier is what both *sql.DB and *sql.Tx offer, so read helpers work
// inside and outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine.
func IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUniqueViolation
}

// pgUniqueViolation is PostgreSQL's SQLSTATE for unique_violation.
const pgUniqueViolation = "23505"

// ErrNotFound is returned by lookups that match no row.
var ErrNotFound = errors.New("not found")
