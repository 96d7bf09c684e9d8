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
