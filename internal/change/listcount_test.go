package change_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/change/changetest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A first page's total is counted once per filter and sites, served as
// cached within CountTTL, and counted afresh after a change is written
// here, when asked (Count), when it is older than CountTTL, and for
// another filter or another set of sites.
func TestListTotalIsCachedPerFilterUntilAChangeIsWrittenOrItExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := changetest.Seed(t, db, start)
		seedVariedChanges(t, f, 5)
		page := func(who *auth.User, flt change.Filter) change.Page {
			t.Helper()
			p, err := f.Service.ListPage(ctx, who, flt)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		check := func(step string, p change.Page, total int, cached bool) {
			t.Helper()
			if p.Total == nil || *p.Total != total || p.TotalCached != cached {
				got := "nil"
				if p.Total != nil {
					got = fmt.Sprint(*p.Total)
				}
				t.Errorf("%s: total %s, cached %t; want %d, cached %t", step, got, p.TotalCached, total, cached)
			}
		}
		all := change.Filter{Limit: 2}
		n := *page(f.Coordinator, all).Total
		check("first read", page(f.Coordinator, all), n, true)
		check("another sort, same filter", page(f.Coordinator, change.Filter{Limit: 2, Sort: "title"}), n, true)
		check("asked to count", page(f.Coordinator, change.Filter{Limit: 2, Count: true}), n, false)

		// A change written directly (another replica, the CLI) is not
		// seen until the cached total expires.
		if _, err := db.SQL.ExecContext(ctx, `UPDATE changes SET stage = 'closed' WHERE id = $1`, lastChangeID(t, db)); err != nil {
			t.Fatal(err)
		}
		open := change.Filter{Limit: 2, OpenOnly: true}
		m := *page(f.Coordinator, open).Total
		check("another filter is counted on its own", page(f.Coordinator, open), m, true)

		file(t, f, 50) // written by this process: every total is stale
		check("after a change is filed here", page(f.Coordinator, all), n+1, false)
		check("open, after a change is filed here", page(f.Coordinator, open), m+1, false)

		if _, err := db.SQL.ExecContext(ctx, `DELETE FROM change_audit WHERE change_id = $1`, lastChangeID(t, db)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL.ExecContext(ctx, `DELETE FROM changes WHERE id = $1`, lastChangeID(t, db)); err != nil {
			t.Fatal(err)
		}
		check("within CountTTL", page(f.Coordinator, all), n+1, true)
		f.Clock.Advance(change.CountTTL)
		check("after CountTTL", page(f.Coordinator, all), n, false)

		// Someone without the sites sees their own count, never the cache
		// of a wider scope.
		none := &auth.User{ID: f.Initiator.ID, Name: "No site", Roles: []auth.Role{auth.RoleAuditor}}
		check("a user of no site", page(none, all), 0, false)
	})
}
