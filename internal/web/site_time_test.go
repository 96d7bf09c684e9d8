package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A change page shows its times in its site's zone with the zone and
// offset, and says which zone; changing the site's zone changes them.
func TestChangePageShowsTimesInTheSiteZone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newPageFixture(t, db)
		ctx := context.Background()
		admin := f.site.user("admin@example.com", auth.RoleAdmin)
		utc := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d UTC \(UTC(\+|&#43;)00:00\)`)
		berlin := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d CES?T \(UTC(\+|&#43;)0[12]:00\)`)

		// A draft: nothing signed on it yet (a signature keeps the zone it
		// was signed in).
		page := f.ini2.get("/changes/" + f.draft.Number)
		if !utc.MatchString(page.Body) || !strings.Contains(page.Body, "times in UTC") {
			t.Fatalf("a site without a zone set shows no UTC times with their offset:\n%s", page.Body)
		}
		zone := "Europe/Berlin"
		if _, err := f.site.web.Changes.UpdateSiteSettings(ctx, admin, f.draft.SiteID, change.SiteSettingsUpdate{TimeZone: &zone}); err != nil {
			t.Fatal(err)
		}
		page = f.ini2.get("/changes/" + f.draft.Number)
		if !berlin.MatchString(page.Body) || utc.MatchString(page.Body) {
			t.Errorf("after the site moved to Europe/Berlin the change page does not show Berlin times only")
		}
		if !strings.Contains(page.Body, "times in Europe/Berlin") {
			t.Error("the page does not say which zone its times are in")
		}
		// Pages that are not about one change use the user's (first)
		// site; a user of every site reads UTC, named as such.
		h, err := auth.HashPassword(testPassword)
		if err != nil {
			t.Fatal(err)
		}
		local, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "local@example.com", Name: "Lou", PasswordHash: h,
			Roles: []auth.Role{auth.RoleInitiator}, SiteIDs: []int64{f.draft.SiteID}})
		if err != nil {
			t.Fatal(err)
		}
		lb := f.site.browser()
		lb.login(local.Email)
		if n := lb.get("/account"); !strings.Contains(n.Body, "times in Europe/Berlin") {
			t.Error("the account page does not use the user's site zone")
		}
		if n := f.ini2.get("/account"); !strings.Contains(n.Body, "times in UTC") {
			t.Error("an all-sites user's account page is not in UTC")
		}
		// The print view too.
		if p := f.ini2.get("/changes/" + f.draft.Number + "/print"); !berlin.MatchString(p.Body) {
			t.Error("the print view does not show Berlin times")
		}
	})
}
