package store_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// pgURL is the test server's URL, or a skip when there is none.
func pgURL(t *testing.T) *url.URL {
	t.Helper()
	raw := os.Getenv(storetest.EnvVar)
	if raw == "" {
		t.Skipf("PostgreSQL tests need %s", storetest.EnvVar)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// A database container that is still starting: start-up retries until the
// server answers, telling about each wait, then connects.
func TestOpenWaitsForPostgreSQLToStart(t *testing.T) {
	u := pgURL(t)
	target := u.Host
	addr := freeAddr(t)
	u.Host = addr

	var waits atomic.Int32
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	started := make(chan net.Listener, 1)
	opt := store.Options{
		URL:  u.String(),
		Wait: 30 * time.Second,
		OnWait: func(err error, delay time.Duration) {
			if !strings.Contains(err.Error(), "cannot connect to PostgreSQL at") || delay <= 0 {
				t.Errorf("wait reported %v, %v", err, delay)
			}
			// The "server" comes up after the second failed attempt: a
			// proxy to the real one on the address the URL names.
			if waits.Add(1) == 2 {
				l, err := net.Listen("tcp", addr)
				if err != nil {
					t.Errorf("listen: %v", err)
					return
				}
				started <- l
				wg.Go(func() { proxy(l, target) })
			}
		},
	}
	db, err := store.Open(context.Background(), opt)
	if err != nil {
		t.Fatalf("open after the server came up: %v", err)
	}
	defer db.Close()
	defer func() { (<-started).Close() }()
	if n := waits.Load(); n < 2 {
		t.Errorf("waits reported = %d, want at least 2", n)
	}
	var one int
	if err := db.SQL.QueryRow(`SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Errorf("query through the late server: %d, %v", one, err)
	}
}

func proxy(l net.Listener, target string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			s, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer s.Close()
			go io.Copy(s, c)
			io.Copy(c, s)
		}()
	}
}

// A server that never comes up: Open gives the usual one-line message once
// the wait is over, without the password.
func TestOpenGivesUpAfterTheWait(t *testing.T) {
	u, _ := url.Parse("postgres://mocpcr:hunter2-secret@" + freeAddr(t) + "/mocpcr?sslmode=disable")
	var waits atomic.Int32
	_, err := store.Open(context.Background(), store.Options{
		URL:    u.String(),
		Wait:   1200 * time.Millisecond,
		OnWait: func(error, time.Duration) { waits.Add(1) },
	})
	if err == nil {
		t.Fatal("open succeeded with no server")
	}
	if !strings.HasPrefix(err.Error(), "cannot connect to PostgreSQL at postgres://") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error = %q", err)
	}
	if waits.Load() < 2 {
		t.Errorf("waits = %d, want retries within 1.2 s", waits.Load())
	}
}

// Waiting cannot create a database that does not exist: that fails at once.
func TestOpenDoesNotWaitForAnUnknownDatabase(t *testing.T) {
	u := pgURL(t)
	u.Path = "/no_such_database_mocpcr"
	var waits atomic.Int32
	_, err := store.Open(context.Background(), store.Options{
		URL:    u.String(),
		Wait:   time.Minute,
		OnWait: func(error, time.Duration) { waits.Add(1) },
	})
	if err == nil || waits.Load() != 0 {
		t.Errorf("unknown database: err %v after %d waits; want an error at once", err, waits.Load())
	}
}

// A password given apart from the URL may hold characters a URL would
// need encoded; it is what the server is asked with.
func TestOpenTakesPasswordApartFromURL(t *testing.T) {
	u := pgURL(t)
	ctx := context.Background()
	admin, err := store.Open(ctx, store.Options{URL: u.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	role := fmt.Sprintf("mocpcr_pw_%d", time.Now().UnixNano())
	const password = `p@ss:w/rd#1?%&= "quoted" 'x'`
	admin.SQL.ExecContext(ctx, `DROP ROLE IF EXISTS `+role)
	if _, err := admin.SQL.ExecContext(ctx, `CREATE ROLE `+role+` LOGIN PASSWORD 'p@ss:w/rd#1?%&= "quoted" ''x'''`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.SQL.ExecContext(ctx, `DROP ROLE IF EXISTS `+role) })

	// The test server trusts loopback connections, so a wrong password
	// would pass too; what is checked is that the password reaches the
	// server intact (SCRAM would refuse a wrong one on a real site) and
	// that the URL needs no encoding for it.
	u.User = url.User(role)
	db, err := store.Open(ctx, store.Options{URL: u.String(), Password: password})
	if err != nil {
		t.Fatalf("open with DATABASE_PASSWORD: %v", err)
	}
	defer db.Close()
	if got := db.Pool.Config().ConnConfig.Password; got != password {
		t.Errorf("password sent = %q, want %q", got, password)
	}
	var who string
	if err := db.SQL.QueryRow(`SELECT current_user`).Scan(&who); err != nil || who != role {
		t.Errorf("connected as %q, %v", who, err)
	}

	u.User = url.UserPassword(role, "inline")
	if _, err := store.Open(ctx, store.Options{URL: u.String(), Password: password}); err == nil || !strings.Contains(err.Error(), "DATABASE_PASSWORD") {
		t.Errorf("password in both places: %v, want an error naming DATABASE_PASSWORD", err)
	}
}
