package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func sessionLastSeen(t *testing.T, db *store.DB, id int64) time.Time {
	t.Helper()
	var at time.Time
	if err := db.SQL.QueryRowContext(context.Background(), `SELECT last_seen_at FROM sessions WHERE id = $1`, id).Scan(&at); err != nil {
		t.Fatal(err)
	}
	return at.UTC()
}

// Batched last-seen times are not written until Flush, yet they count for
// the idle timeout at once; an idle session still ends.
func TestBatchedSessionTouchesKeepIdleTimeoutExact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "touch@example.com", Name: "Touch", Roles: []auth.Role{auth.RoleInitiator}, AllSites: true})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		cfg := auth.SessionConfig{IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 24 * time.Hour}
		tok, sess, err := auth.CreateSession(ctx, db.SQL, u.ID, auth.MethodPassword, start)
		if err != nil {
			t.Fatal(err)
		}
		touches := auth.NewTouches()
		lookup := func(at time.Time) error {
			_, err := auth.SessionByTokenBatched(ctx, db.SQL, tok, at, cfg, touches)
			return err
		}
		if err := lookup(start.Add(5 * time.Minute)); err != nil {
			t.Fatalf("after 5 min: %v", err)
		}
		if got := sessionLastSeen(t, db, sess.ID); !got.Equal(start) {
			t.Fatalf("last seen written before the flush: %s", got)
		}
		if touches.Pending() != 1 {
			t.Fatalf("pending touches %d, want 1", touches.Pending())
		}
		// 14 min after sign-in the stored time is past the idle limit,
		// but the pending one (5 min) is not.
		if err := lookup(start.Add(14 * time.Minute)); err != nil {
			t.Fatalf("after 14 min with a pending touch: %v", err)
		}
		if err := touches.Flush(ctx, db); err != nil {
			t.Fatal(err)
		}
		if got := sessionLastSeen(t, db, sess.ID); !got.Equal(start.Add(14 * time.Minute)) {
			t.Fatalf("after flush last seen %s, want %s", got, start.Add(14*time.Minute))
		}
		if touches.Pending() != 0 {
			t.Fatalf("pending after flush %d", touches.Pending())
		}
		// Idle for the whole timeout: the session ends and is deleted.
		if err := lookup(start.Add(24 * time.Minute)); err != store.ErrNotFound {
			t.Fatalf("idle session: got %v, want ErrNotFound", err)
		}
		if n, _ := auth.CountUserSessions(ctx, db.SQL, u.ID); n != 0 {
			t.Fatalf("expired session kept: %d sessions", n)
		}
	})
}

// A flush never moves a stored time backwards.
func TestTouchesFlushNeverMovesBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "touch2@example.com", Name: "Touch", Roles: []auth.Role{auth.RoleInitiator}, AllSites: true})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		cfg := auth.SessionConfig{IdleTimeout: time.Hour, AbsoluteTimeout: 24 * time.Hour}
		tok, sess, err := auth.CreateSession(ctx, db.SQL, u.ID, auth.MethodPassword, start)
		if err != nil {
			t.Fatal(err)
		}
		touches := auth.NewTouches()
		if _, err := auth.SessionByTokenBatched(ctx, db.SQL, tok, start.Add(2*time.Minute), cfg, touches); err != nil {
			t.Fatal(err)
		}
		// Meanwhile another replica recorded a later visit.
		later := start.Add(10 * time.Minute)
		if _, err := db.SQL.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, later, sess.ID); err != nil {
			t.Fatal(err)
		}
		if err := touches.Flush(ctx, db); err != nil {
			t.Fatal(err)
		}
		if got := sessionLastSeen(t, db, sess.ID); !got.Equal(later) {
			t.Fatalf("last seen %s, want the later %s", got, later)
		}
	})
}

// With Touches set, the token's last use waits for the flush; until then
// TokenUsedAt reports it.
func TestUserCacheBatchesTokenLastUse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCacheFixture(t, db)
		f.c.Touches = auth.NewTouches()
		if _, err := f.check(t); err != nil {
			t.Fatal(err)
		}
		toks, err := auth.ListAPITokens(ctx, db.SQL, f.u.ID)
		if err != nil || len(toks) != 1 {
			t.Fatalf("tokens: %+v, %v", toks, err)
		}
		if toks[0].LastUsedAt != nil {
			t.Fatalf("last use written before the flush: %s", toks[0].LastUsedAt)
		}
		if at, ok := f.c.Touches.TokenUsedAt(toks[0].ID); !ok || !at.Equal(f.clock) {
			t.Fatalf("pending last use %s %v, want %s", at, ok, f.clock)
		}
		if err := f.c.Touches.Flush(ctx, db); err != nil {
			t.Fatal(err)
		}
		toks, err = auth.ListAPITokens(ctx, db.SQL, f.u.ID)
		if err != nil || len(toks) != 1 || toks[0].LastUsedAt == nil || !toks[0].LastUsedAt.UTC().Equal(f.clock) {
			t.Fatalf("after flush: %+v, %v", toks, err)
		}
	})
}

// Run writes what is pending when it stops (shutdown), not only on its
// ticks.
func TestTouchesRunFlushesOnStop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCacheFixture(t, db)
		f.c.Touches = auth.NewTouches()
		if _, err := f.check(t); err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { f.c.Touches.Run(runCtx, db, time.Hour, func(err error) { t.Error(err) }); close(done) }()
		stop()
		<-done
		toks, err := auth.ListAPITokens(ctx, db.SQL, f.u.ID)
		if err != nil || len(toks) != 1 || toks[0].LastUsedAt == nil || !toks[0].LastUsedAt.UTC().Equal(f.clock) {
			t.Fatalf("after stop: %+v, %v", toks, err)
		}
		if f.c.Touches.Pending() != 0 {
			t.Fatalf("pending after stop: %d", f.c.Touches.Pending())
		}
	})
}
