package auth_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// cacheFixture is a user with an API token and a cache on a clock the
// test moves.
type cacheFixture struct {
	db    *store.DB
	u     *auth.User
	tok   string
	c     *auth.UserCache
	clock time.Time
}

func newCacheFixture(t *testing.T, db *store.DB) *cacheFixture {
	t.Helper()
	ctx := context.Background()
	u, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "cache@example.com", Name: "Cache User", Roles: []auth.Role{auth.RoleInitiator}, AllSites: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.CreateAPIToken(ctx, db.SQL, u.ID, "cache test")
	if err != nil {
		t.Fatal(err)
	}
	f := &cacheFixture{db: db, u: u, tok: tok, clock: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.c = auth.NewUserCache(auth.DefaultCacheTTL)
	f.c.Clock = func() time.Time { return f.clock }
	t.Cleanup(f.c.Watch(db))
	return f
}

// check returns the user the cache resolves the token to, or the error.
func (f *cacheFixture) check(t *testing.T) (*auth.User, error) {
	t.Helper()
	return f.c.UserByAPIToken(context.Background(), f.db.SQL, f.tok, f.clock)
}

func TestUserCacheRevokedTokenStopsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCacheFixture(t, db)
		if u, err := f.check(t); err != nil || u.ID != f.u.ID {
			t.Fatalf("live token: got %v, %v; want user %d", u, err, f.u.ID)
		}
		toks, err := auth.ListAPITokens(context.Background(), db.SQL, f.u.ID)
		if err != nil || len(toks) != 1 {
			t.Fatalf("tokens: %v, %v", toks, err)
		}
		if err := auth.RevokeAPIToken(context.Background(), db, f.u.ID, toks[0].ID, f.clock); err != nil {
			t.Fatal(err)
		}
		// Same instant: the cached entry must not outlive the revocation.
		if u, err := f.check(t); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked token: got user %v, err %v; want store.ErrNotFound", u, err)
		}
	})
}

func TestUserCacheDisabledUserStopsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCacheFixture(t, db)
		if _, err := f.check(t); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.UserByID(context.Background(), db.SQL, f.u.ID); err != nil {
			t.Fatal(err)
		}
		if err := auth.UpdateUser(context.Background(), db, f.u.ID, auth.UserUpdate{Name: "Cache User", Roles: f.u.Roles, AllSites: true, Disabled: true}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if u, err := f.check(t); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("disabled user's token: got user %v, err %v; want store.ErrNotFound", u, err)
		}
		u, err := f.c.UserByID(context.Background(), db.SQL, f.u.ID)
		if err != nil || !u.Disabled {
			t.Fatalf("UserByID after disabling: got %+v, %v; want Disabled", u, err)
		}
	})
}

func TestUserCacheSeesRoleAndSiteChangesAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCacheFixture(t, db)
		if _, err := f.check(t); err != nil {
			t.Fatal(err)
		}
		site, err := auth.CreateSite(ctx, db.SQL, "CCH", "Cache site")
		if err != nil {
			t.Fatal(err)
		}
		if err := auth.UpdateUser(ctx, db, f.u.ID, auth.UserUpdate{Name: "Renamed", Roles: []auth.Role{auth.RoleReviewer}, SiteIDs: []int64{site.ID}}, time.Now()); err != nil {
			t.Fatal(err)
		}
		u, err := f.check(t)
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != "Renamed" || !slices.Equal(u.Roles, []auth.Role{auth.RoleReviewer}) || !slices.Equal(u.SiteIDs, []int64{site.ID}) {
			t.Fatalf("after the edit the cache returned %+v", u)
		}
	})
}

// A change this process cannot see (another replica, the CLI) is picked
// up once the entry is older than the TTL, not before.
func TestUserCacheOtherProcessWithinTTL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCacheFixture(t, db)
		if _, err := f.check(t); err != nil {
			t.Fatal(err)
		}
		// Another replica revokes the token: plain SQL, no commit of this process.
		if _, err := db.SQL.Exec(`UPDATE api_tokens SET revoked_at = $1`, f.clock); err != nil {
			t.Fatal(err)
		}
		f.clock = f.clock.Add(auth.DefaultCacheTTL - time.Millisecond)
		if _, err := f.check(t); err != nil {
			t.Fatalf("within the TTL the cached token is still trusted, got %v", err)
		}
		f.clock = f.clock.Add(time.Millisecond)
		if u, err := f.check(t); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after the TTL: got user %v, err %v; want store.ErrNotFound", u, err)
		}
	})
}

// Callers get their own copy: changing it does not change what the next
// request sees.
func TestUserCacheReturnsCopies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCacheFixture(t, db)
		u, err := f.check(t)
		if err != nil {
			t.Fatal(err)
		}
		u.Roles[0] = auth.RoleAdmin
		u.Name = "changed"
		again, err := f.check(t)
		if err != nil {
			t.Fatal(err)
		}
		if again.Name != "Cache User" || again.Roles[0] != auth.RoleInitiator {
			t.Fatalf("cache shared its entry: %+v", again)
		}
	})
}

// The token's last use is still written at most once a minute.
func TestUserCacheRecordsLastUse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCacheFixture(t, db)
		lastUsed := func() time.Time {
			t.Helper()
			toks, err := auth.ListAPITokens(context.Background(), db.SQL, f.u.ID)
			if err != nil || len(toks) != 1 || toks[0].LastUsedAt == nil {
				t.Fatalf("tokens: %+v, %v", toks, err)
			}
			return toks[0].LastUsedAt.UTC()
		}
		start := f.clock
		// The cache's clock stands still, so every check after the first
		// is served from the cache: the once-a-minute write must still
		// happen on that path.
		f.c.Clock = func() time.Time { return start }
		if _, err := f.check(t); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(start) {
			t.Fatalf("last used %s, want %s", got, start)
		}
		f.clock = start.Add(30 * time.Second)
		if _, err := f.check(t); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(start) {
			t.Fatalf("after 30 s last used %s, want still %s", got, start)
		}
		f.clock = start.Add(61 * time.Second)
		if _, err := f.check(t); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(f.clock) {
			t.Fatalf("after 61 s last used %s, want %s", got, f.clock)
		}
	})
}

// The cached user list shows a user created in this process at once.
func TestUserCacheListUsersSeesNewUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCacheFixture(t, db)
		users, err := f.c.ListUsers(context.Background(), db.SQL)
		if err != nil || len(users) != 1 {
			t.Fatalf("users: %v, %v", users, err)
		}
		if _, err := auth.AddUser(context.Background(), db, auth.NewUser{Email: "new@example.com", Name: "New One", AllSites: true}); err != nil {
			t.Fatal(err)
		}
		users, err = f.c.ListUsers(context.Background(), db.SQL)
		if err != nil || len(users) != 2 {
			t.Fatalf("after AddUser the cached list has %d users (%v), want 2", len(users), err)
		}
	})
}

// The cached site list shows a site created in this process at once, and
// one created behind its back (another replica) after the TTL.
func TestUserCacheListSites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCacheFixture(t, db)
		codes := func() []string {
			t.Helper()
			sites, err := f.c.ListSites(ctx, db.SQL)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range sites {
				out = append(out, s.Code)
			}
			return out
		}
		before := len(codes())
		if _, err := auth.AddSite(ctx, db, "ZZA", "Site A"); err != nil {
			t.Fatal(err)
		}
		if got := codes(); len(got) != before+1 || got[len(got)-1] != "ZZA" {
			t.Fatalf("after AddSite: %v", got)
		}
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO sites (code, name) VALUES ('ZZB', 'Site B')`); err != nil {
			t.Fatal(err)
		}
		if got := codes(); len(got) != before+1 {
			t.Fatalf("within the TTL the cache should still serve %d sites, got %v", before+1, got)
		}
		f.clock = f.clock.Add(auth.DefaultCacheTTL)
		if got := codes(); len(got) != before+2 || got[len(got)-1] != "ZZB" {
			t.Fatalf("after the TTL: %v", got)
		}
	})
}
