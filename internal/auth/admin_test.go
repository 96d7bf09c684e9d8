package auth_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// ListUsers loads everyone in a few queries; each user must come out
// exactly as UserByID loads it, sorted by name.
func TestListUsersMatchesUserByID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, err := auth.CreateSite(ctx, db.SQL, "AAA", "Site A")
		if err != nil {
			t.Fatal(err)
		}
		b, err := auth.CreateSite(ctx, db.SQL, "BBB", "Site B")
		if err != nil {
			t.Fatal(err)
		}
		for _, nu := range []auth.NewUser{
			{Email: "zed@example.com", Name: "zed Last", Roles: []auth.Role{auth.RoleAuditor, auth.RoleInitiator}, SiteIDs: []int64{b.ID, a.ID}},
			{Email: "amy@example.com", Name: "Amy First", Roles: []auth.Role{auth.RoleCoordinator}, AllSites: true},
			{Email: "norole@example.com", Name: "Mid Norole", AllSites: true},
		} {
			if _, err := auth.CreateUser(ctx, db.SQL, nu); err != nil {
				t.Fatal(err)
			}
		}
		users, err := auth.ListUsers(ctx, db.SQL)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range users {
			names = append(names, u.Name)
			one, err := auth.UserByID(ctx, db.SQL, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(u, one) {
				t.Errorf("ListUsers gave %+v, UserByID %+v", u, one)
			}
		}
		if want := []string{"Amy First", "Mid Norole", "zed Last"}; !reflect.DeepEqual(names, want) {
			t.Errorf("order %v, want %v", names, want)
		}
	})
}

// SiteUsers are the enabled people of one site, those of every site
// included, with their roles and sites: what a change's forms offer.
func TestSiteUsersAreTheEnabledPeopleOfTheSite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, err := auth.CreateSite(ctx, db.SQL, "A", "Site A")
		if err != nil {
			t.Fatal(err)
		}
		b, err := auth.CreateSite(ctx, db.SQL, "B", "Site B")
		if err != nil {
			t.Fatal(err)
		}
		mk := func(email, name string, all bool, sites []int64, roles ...auth.Role) *auth.User {
			u, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: email, Name: name, Roles: roles, AllSites: all, SiteIDs: sites})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		ann := mk("ann@example.com", "Ann", false, []int64{a.ID, b.ID}, auth.RoleReviewer)
		mk("bob@example.com", "Bob", false, []int64{b.ID}, auth.RoleApprover)
		cy := mk("cy@example.com", "Cy", true, nil, auth.RoleApprover, auth.RoleCoordinator)
		dee := mk("dee@example.com", "Dee", false, []int64{a.ID}, auth.RoleInitiator)
		if _, err := db.SQL.ExecContext(ctx, `UPDATE users SET disabled = TRUE WHERE id = $1`, dee.ID); err != nil {
			t.Fatal(err)
		}
		got, err := auth.SiteUsers(ctx, db.SQL, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range got {
			names = append(names, u.Name)
		}
		if !reflect.DeepEqual(names, []string{"Ann", "Cy"}) {
			t.Fatalf("site A's people = %v, want Ann (on A and B) and Cy (every site), not Bob (B) nor Dee (disabled)", names)
		}
		if !got[0].Has(auth.RoleReviewer) || !reflect.DeepEqual(got[0].SiteIDs, []int64{a.ID, b.ID}) || got[0].ID != ann.ID {
			t.Errorf("Ann read as %+v", got[0])
		}
		if !got[1].Has(auth.RoleApprover) || !got[1].Has(auth.RoleCoordinator) || !got[1].AllSites || got[1].ID != cy.ID {
			t.Errorf("Cy read as %+v", got[1])
		}
	})
}
