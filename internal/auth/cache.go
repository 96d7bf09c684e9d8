package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

// DefaultCacheTTL is how long a UserCache trusts what it loaded.
//
// The trade-off: every request used to cost a token (or session) lookup
// plus three user queries (user, roles, sites). With the cache a busy
// user's requests cost none of them for a few seconds. A change made
// through this process (revoking a token, disabling a user, editing
// roles or sites, an Entra ID sign-in) empties the cache when it commits
// (Watch: after any transaction of this process, a simple and safe
// signal), so on this replica it takes effect on the next request. Another replica, or
// the mocpcr CLI, cannot reach this process's memory: there the change
// takes effect within DefaultCacheTTL.
const DefaultCacheTTL = 5 * time.Second

// UserCache keeps users and API token lookups in memory for a short time
// (see DefaultCacheTTL). Misses are not cached: a new token or user works
// at once. The zero value is not usable; use NewUserCache.
type UserCache struct {
	ttl time.Duration
	// Clock is the cache's own clock (real time; tests replace it). It
	// is separate from the request clock so a test that moves the request
	// clock does not keep stale entries alive.
	Clock func() time.Time

	// Touches, when set, batches the tokens' last-use writes (see
	// Touches); nil writes each at once.
	Touches *Touches

	// gen counts the commits that may have changed users, roles, sites or
	// API tokens (Changed); an entry loaded under another count may be
	// stale.
	gen atomic.Uint64

	mu     sync.Mutex
	users  map[int64]userEntry
	tokens map[string]tokenEntry
	all    userEntries
	sites  siteEntries
}

type siteEntries struct {
	sites   []Site
	gen     uint64
	expires time.Time
}

type userEntries struct {
	users   []*User
	gen     uint64
	expires time.Time
}

type userEntry struct {
	u       *User
	gen     uint64
	expires time.Time
}

type tokenEntry struct {
	tokenID, userID int64
	lastUsed        sql.NullTime
	// expiresAt is the token's own end (NULL: none), checked on every
	// use, so a cached entry never outlives it.
	expiresAt sql.NullTime
	gen       uint64
	expires   time.Time
}

// maxCacheEntries bounds memory: past it the cache starts over.
const maxCacheEntries = 50000

// Changed empties the cache: users, roles, sites or API tokens may have
// changed.
func (c *UserCache) Changed() { c.gen.Add(1) }

// Watch calls Changed after every transaction db commits in this process
// (store.DB.OnCommit), until the returned function is called. Writes to
// users, roles, sites and API tokens go through transactions (AddUser,
// UpdateUser, AddSite, RevokeAPIToken, ...), so this process sees its own
// changes on the next request; another process's within the TTL.
func (c *UserCache) Watch(db *store.DB) (stop func()) { return db.OnCommit(c.Changed) }

// NewUserCache returns a cache trusting entries for ttl.
func NewUserCache(ttl time.Duration) *UserCache {
	return &UserCache{ttl: ttl, Clock: time.Now, users: map[int64]userEntry{}, tokens: map[string]tokenEntry{}}
}

// UserByID is UserByID served from the cache when fresh. The returned
// user is the caller's own copy.
func (c *UserCache) UserByID(ctx context.Context, q store.Querier, id int64) (*User, error) {
	gen := c.gen.Load()
	now := c.Clock()
	c.mu.Lock()
	e, ok := c.users[id]
	c.mu.Unlock()
	if ok && e.gen == gen && now.Before(e.expires) {
		return e.u.clone(), nil
	}
	u, err := UserByID(ctx, q, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.users) >= maxCacheEntries {
		clear(c.users)
	}
	c.users[id] = userEntry{u: u.clone(), gen: gen, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return u, nil
}

// ListUsers is ListUsers served from the cache when fresh. The slice
// and users are shared between callers and must not be modified.
func (c *UserCache) ListUsers(ctx context.Context, q store.Querier) ([]*User, error) {
	gen := c.gen.Load()
	now := c.Clock()
	c.mu.Lock()
	e := c.all
	c.mu.Unlock()
	if e.users != nil && e.gen == gen && now.Before(e.expires) {
		return e.users, nil
	}
	users, err := ListUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.all = userEntries{users: users, gen: gen, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return users, nil
}

// ListSites is ListSites served from the cache when fresh. A site created
// through this process shows at once; one created elsewhere within the
// TTL. The slice is shared between callers and must not be modified.
func (c *UserCache) ListSites(ctx context.Context, q store.Querier) ([]Site, error) {
	gen := c.gen.Load()
	now := c.Clock()
	c.mu.Lock()
	e := c.sites
	c.mu.Unlock()
	if e.sites != nil && e.gen == gen && now.Before(e.expires) {
		return e.sites, nil
	}
	sites, err := ListSites(ctx, q)
	if err != nil {
		return nil, err
	}
	if sites == nil {
		sites = []Site{}
	}
	c.mu.Lock()
	c.sites = siteEntries{sites: sites, gen: gen, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return sites, nil
}

// UserByAPIToken is UserByAPIToken served from the cache when fresh: a
// revoked token or a disabled user is refused as soon as this process
// made the change (within the TTL when another process did). The token's
// last use is still recorded at most once a minute.
func (c *UserCache) UserByAPIToken(ctx context.Context, q store.Querier, tok string, now time.Time) (*User, error) {
	if !validTokenForm(tok) {
		return nil, store.ErrNotFound
	}
	gen := c.gen.Load()
	at := c.Clock()
	h := HashToken(tok)
	c.mu.Lock()
	e, ok := c.tokens[h]
	c.mu.Unlock()
	if !ok || e.gen != gen || !at.Before(e.expires) {
		var err error
		e, err = lookupAPIToken(ctx, q, h)
		if err != nil {
			return nil, err
		}
		e.gen, e.expires = gen, at.Add(c.ttl)
	}
	if e.expired(now) {
		return nil, store.ErrNotFound
	}
	if !e.lastUsed.Valid || now.Sub(e.lastUsed.Time) > touchEvery {
		if c.Touches != nil {
			c.Touches.touchToken(e.tokenID, now)
		} else {
			touchAPIToken(ctx, q, e.tokenID, now)
		}
		e.lastUsed = sql.NullTime{Time: now.UTC(), Valid: true}
	}
	c.mu.Lock()
	if len(c.tokens) >= maxCacheEntries {
		clear(c.tokens)
	}
	c.tokens[h] = e
	c.mu.Unlock()
	u, err := c.UserByID(ctx, q, e.userID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		// Disabled since the token was looked up (another replica).
		return nil, store.ErrNotFound
	}
	return u, nil
}

// lookupAPIToken finds a live token of an enabled user by its hash.
func lookupAPIToken(ctx context.Context, q store.Querier, hash string) (tokenEntry, error) {
	var e tokenEntry
	err := q.QueryRowContext(ctx,
		`SELECT t.id, t.user_id, t.last_used_at, t.expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id
		 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT u.disabled`, hash).Scan(&e.tokenID, &e.userID, &e.lastUsed, &e.expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return e, store.ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("check API token: %w", err)
	}
	return e, nil
}

// expired reports whether the token's own end has come.
func (e tokenEntry) expired(now time.Time) bool {
	return e.expiresAt.Valid && !now.Before(e.expiresAt.Time)
}

// touchAPIToken records a token's use. Best effort: a failure here must
// not refuse the request.
func touchAPIToken(ctx context.Context, q store.Querier, tokenID int64, now time.Time) {
	_, _ = q.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, now.UTC(), tokenID)
}

// clone copies u so no two requests share slices.
func (u *User) clone() *User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.EntraRoles = slices.Clone(u.EntraRoles)
	c.SiteIDs = slices.Clone(u.SiteIDs)
	return &c
}
