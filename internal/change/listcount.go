package change

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// The change list's total is a count over every change the filter
// matches (capped at CountCap). Capped, it no longer grows with the
// table, but at the cap it is still 10,000 index entries, 7 ms on
// SQLite: twelve times the page itself. So a total is counted once per
// filter and site scope and served from memory for CountTTL, marked as
// cached ("about N" on the page, total_cached in the API), and recounted
// at once after this process writes a change. The alternative, counting
// only when asked, would take the total off every page; a total up to
// 30 s old is what a list of thousands needs, and ?count=true (the
// page's "count now" link) counts afresh.

// CountTTL is how long a cached total is served. Writes by this process
// drop every cached total at once; writes by another replica or the CLI
// show within CountTTL.
const CountTTL = 30 * time.Second

// maxCachedCounts bounds the cache: one entry per filter and site scope
// seen within CountTTL. Past it, expired entries go, then everything.
const maxCachedCounts = 1000

// countCache holds the recent totals of the change list.
type countCache struct {
	// gen changes whenever this process writes a change; entries of
	// another generation are stale.
	gen atomic.Uint64
	// dirty is set when a change is being written, so that the next
	// commit moves gen once more: a count taken between the write and
	// its commit saw the old rows.
	dirty atomic.Bool

	mu      sync.Mutex
	entries map[string]countEntry
}

type countEntry struct {
	total int
	exact bool
	at    time.Time
	gen   uint64
}

func newCountCache() *countCache {
	return &countCache{entries: map[string]countEntry{}}
}

// changed marks that a change is written in a transaction now.
func (c *countCache) changed() {
	if c == nil {
		return
	}
	c.gen.Add(1)
	c.dirty.Store(true)
}

// committed is called after every commit of this process (store.DB.OnCommit).
func (c *countCache) committed() {
	if c.dirty.Swap(false) {
		c.gen.Add(1)
	}
}

// generation is the current generation, read before a count starts.
func (c *countCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// get returns the total cached under key, if fresh at now.
func (c *countCache) get(key string, now time.Time) (countEntry, bool) {
	if c == nil {
		return countEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.gen != c.gen.Load() || now.Sub(e.at) >= CountTTL || now.Before(e.at) {
		return countEntry{}, false
	}
	return e, true
}

// put caches a total counted at `at` in generation gen (read before the
// count started, so a write during the count makes it stale at once).
func (c *countCache) put(key string, e countEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedCounts {
		for k, old := range c.entries {
			if old.gen != c.gen.Load() || e.at.Sub(old.at) >= CountTTL {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedCounts {
			clear(c.entries)
		}
	}
	c.entries[key] = e
}

// countKey names what a total depends on: the actor's sites, every
// filter (not the sort, the page or the cursor) and the day, which the
// overdue and expiring filters are measured from.
func countKey(actor *auth.User, f Filter, today time.Time) string {
	scope := "all"
	if !actor.AllSites {
		ids := slices.Clone(actor.SiteIDs)
		slices.Sort(ids)
		scope = strings.Trim(fmt.Sprint(ids), "[]")
	}
	return fmt.Sprintf("%s|%s|%s|%s|%d|%d|%d|%q|%t|%t|%t|%d|%s", scope, f.Kind, f.Stage, f.Duration, f.SiteID, f.UnitID,
		f.InitiatorID, strings.ToLower(strings.TrimSpace(f.Q)), f.OpenOnly, f.ReplacementInKind, f.Overdue, f.ExpiringWithinDays,
		today.Format(time.DateOnly))
}
