package auth_test

import (
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Before migration 00130 a user with no site rows worked on every site.
// The migration that makes "every site" an explicit grant must keep that
// access, and must not widen a user limited to some sites.
func TestSiteMigrationKeepsEveryExistingUsersAccess(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := t.Context()
			db := storetest.OpenEmpty(t, d)
			if _, err := db.MigrateTo(ctx, 100); err != nil {
				t.Fatal(err)
			}
			var siteID, everywhere, limited int64
			if err := db.SQL.QueryRowContext(ctx, `INSERT INTO sites (code, name) VALUES ('NRF', 'North') RETURNING id`).Scan(&siteID); err != nil {
				t.Fatal(err)
			}
			if err := db.SQL.QueryRowContext(ctx, `INSERT INTO users (email, name) VALUES ('all@example.com', 'All') RETURNING id`).Scan(&everywhere); err != nil {
				t.Fatal(err)
			}
			if err := db.SQL.QueryRowContext(ctx, `INSERT INTO users (email, name) VALUES ('nrf@example.com', 'Nrf') RETURNING id`).Scan(&limited); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL.ExecContext(ctx, `INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2)`, limited, siteID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			u, err := auth.UserByID(ctx, db.SQL, everywhere)
			if err != nil {
				t.Fatal(err)
			}
			if !u.AllSites || !u.OnSite(siteID) || !u.OnSite(siteID+1) {
				t.Errorf("user who worked on every site: AllSites=%v sites=%v", u.AllSites, u.SiteIDs)
			}
			u, err = auth.UserByID(ctx, db.SQL, limited)
			if err != nil {
				t.Fatal(err)
			}
			if u.AllSites || !u.OnSite(siteID) || u.OnSite(siteID+1) {
				t.Errorf("user limited to NRF: AllSites=%v sites=%v", u.AllSites, u.SiteIDs)
			}
		})
	}
}

// Every site is the broadest access: CreateUser grants it only when asked
// to, and refuses a user whose site access was not chosen at all.
func TestCreateUserNeedsAnExplicitSiteChoice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		_, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "x@example.com", Name: "X", Roles: []auth.Role{auth.RoleInitiator}})
		if problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), "sites:") {
			t.Fatalf("no site choice: err = %v, want an invalid-input error naming sites", err)
		}
		site, err := auth.CreateSite(ctx, db.SQL, "NRF", "North")
		if err != nil {
			t.Fatal(err)
		}
		_, err = auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "y@example.com", Name: "Y", AllSites: true, SiteIDs: []int64{site.ID}})
		if problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), "sites:") {
			t.Fatalf("all sites and a site: err = %v, want an invalid-input error naming sites", err)
		}
		u, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "z@example.com", Name: "Z", SiteIDs: []int64{site.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if u, err = auth.UserByID(ctx, db.SQL, u.ID); err != nil {
			t.Fatal(err)
		}
		if u.AllSites || !u.OnSite(site.ID) || u.OnSite(site.ID+1) {
			t.Errorf("user of NRF: AllSites=%v sites=%v", u.AllSites, u.SiteIDs)
		}
	})
}
