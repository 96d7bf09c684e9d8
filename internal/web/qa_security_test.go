package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A user row without site rows works on every site, so creating a user
// with a site that does not exist must fail as a whole, with the field
// named, and leave no user behind: on the page, in the API and in between.
func TestCreateUserWithUnknownSiteLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		admin := site.user("adam@example.com", auth.RoleAdmin)
		b := site.browser()
		b.login("adam@example.com")
		r := b.post("/admin/users", url.Values{"csrf_token": {b.csrf()}, "email": {"new@example.com"}, "name": {"New Person"},
			"password": {"long enough password"}, "roles": {"approver"}, "sites": {"99999"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `class="field has-error" id="sites"`) || !strings.Contains(r.Body, "99999 does not exist") {
			t.Fatalf("page with an unknown site: %d\n%s", r.StatusCode, r.Body)
		}
		if _, err := auth.UserByEmail(t.Context(), db.SQL, "new@example.com"); err == nil {
			t.Fatal("the page left a user (with access to every site) behind")
		}
		tok, err := auth.CreateAPIToken(t.Context(), db.SQL, admin.ID, "t")
		if err != nil {
			t.Fatal(err)
		}
		api := bearer(t, site.URL, "POST", "/api/v1/users", tok, strings.NewReader(
			`{"email":"api@example.com","name":"Api","password":"long enough pw","roles":["approver"],"site_ids":[99999]}`))
		if api.StatusCode/100 != 4 || !strings.Contains(api.Body, `"field":"site_ids"`) {
			t.Fatalf("API with an unknown site: %d %s", api.StatusCode, api.Body)
		}
		if _, err := auth.UserByEmail(t.Context(), db.SQL, "api@example.com"); err == nil {
			t.Fatal("the API left a user behind")
		}
		if _, err := auth.CreateUser(t.Context(), db.SQL, auth.NewUser{Email: "direct@example.com", Name: "D", SiteIDs: []int64{99999}}); err == nil {
			t.Fatal("auth.CreateUser accepted an unknown site")
		}
		if _, err := auth.UserByEmail(t.Context(), db.SQL, "direct@example.com"); err == nil {
			t.Fatal("auth.CreateUser left a user behind")
		}
	})
}

// "next" after a form is a path on this site only; a browser reads
// "/\evil.example" as another host.
func TestFormRedirectStaysOnSite(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site := newSite(t, db, nil)
	site.user("ines@example.com", auth.RoleInitiator)
	b := site.browser()
	b.login("ines@example.com")
	for next, want := range map[string]string{"/\\evil.example": "/notifications", "//evil.example": "/notifications",
		"https://evil.example/": "/notifications", "/changes?x=1": "/changes?x=1"} {
		r := b.post("/notifications/read-all", url.Values{"csrf_token": {b.csrf()}, "next": {next}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("next=%q: %d to %q, want %q", next, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
}
