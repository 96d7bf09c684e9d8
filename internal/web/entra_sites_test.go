package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Anyone in the tenant can complete a Microsoft sign-in, so the first
// sign-in must not open every site: the new user sees nothing until an
// administrator grants a site, and then sees that site's changes.
func TestEntraFirstSignInSeesNoSiteUntilAnAdminGrantsOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		site, fake := newEntraSite(t, db)
		nrf, err := auth.CreateSite(ctx, db.SQL, "NRF", "North Refinery")
		if err != nil {
			t.Fatal(err)
		}
		ini := site.user("ini@example.com", auth.RoleInitiator)
		c, err := site.web.Changes.Create(ctx, ini, completeFields(change.KindPCR, "Revise OP-114", nrf.ID))
		if err != nil {
			t.Fatal(err)
		}

		ines := site.browser()
		ines.entraLogin("/")
		me := ines.get("/api/v1/me")
		if !strings.Contains(me.Body, `"all_sites":false`) || !strings.Contains(me.Body, `"site_ids":[]`) {
			t.Fatalf("new Entra ID user's access: %s", me.Body)
		}
		if r := ines.get("/changes/" + c.Number); r.StatusCode != http.StatusNotFound {
			t.Fatalf("change of NRF seen by a user with no site: %d", r.StatusCode)
		}
		if r := ines.get("/"); !strings.Contains(r.Body, "You have no site yet") {
			t.Fatalf("home page of a user with no site does not say so:\n%s", excerpt(r.Body))
		}

		// The administrator sees who waits, and the edit form does not
		// offer "All sites" as if it were already granted.
		u, err := auth.UserByEmail(ctx, db.SQL, "ines@contoso.example")
		if err != nil {
			t.Fatal(err)
		}
		// The administrator who grants sites holds every site: an admin
		// with no site of their own can give none (admins are scoped).
		if _, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "adam@contoso.example", Name: "Adam Admin", AllSites: true}); err != nil {
			t.Fatal(err)
		}
		fake.SetSignInUser(graphtest.SignInUser{OID: "oid-adam", Name: "Adam Admin", PreferredUsername: "adam@contoso.example", Roles: []string{"admin"}})
		admin := site.browser()
		admin.entraLogin("/")
		if r := admin.get("/admin/users"); !strings.Contains(r.Body, "no site yet") {
			t.Fatalf("users list does not show the user waiting for a site:\n%s", r.Body)
		}
		edit := admin.get("/admin/users/" + strconv.FormatInt(u.ID, 10))
		if strings.Contains(edit.Body, `name="all_sites" checked`) {
			t.Fatal("edit form of a user with no site has All sites ticked: saving it would grant every site")
		}
		csrf := csrfRE.FindStringSubmatch(edit.Body)[1]
		r := admin.post("/admin/users/"+strconv.FormatInt(u.ID, 10), url.Values{"csrf_token": {csrf}, "name": {u.Name},
			"sites": {strconv.FormatInt(nrf.ID, 10)}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("grant NRF: %d\n%s", r.StatusCode, r.Body)
		}
		if r := ines.get("/changes/" + c.Number); r.StatusCode != http.StatusOK {
			t.Fatalf("change of NRF after NRF was granted: %d", r.StatusCode)
		}
	})
}

// An administrator may map Entra ID app roles site:CODE to sites, so that
// a new user starts on their sites without waiting: the mapping gives a
// user with no site yet the live sites named, never every site, and once
// the user has a site their sites are managed in mocpcr.
func TestEntraSiteAppRolesGiveAWaitingUserTheirSites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		site, fake := newEntraSite(t, db)
		nrf, err := auth.CreateSite(ctx, db.SQL, "NRF", "North Refinery")
		if err != nil {
			t.Fatal(err)
		}
		scp, err := auth.CreateSite(ctx, db.SQL, "SCP", "South Chemical Plant")
		if err != nil {
			t.Fatal(err)
		}
		ini := site.user("ini@example.com", auth.RoleInitiator)
		atNRF, err := site.web.Changes.Create(ctx, ini, completeFields(change.KindPCR, "Revise OP-114", nrf.ID))
		if err != nil {
			t.Fatal(err)
		}
		atSCP, err := site.web.Changes.Create(ctx, ini, completeFields(change.KindPCR, "Revise OP-200", scp.ID))
		if err != nil {
			t.Fatal(err)
		}
		fake.SetSignInUser(graphtest.SignInUser{OID: "oid-ines", Name: "Ines Initiator", PreferredUsername: "ines@contoso.example",
			Roles: []string{"initiator", "site:nrf", "site:NOPE"}})
		b := site.browser()
		b.entraLogin("/")
		u, err := auth.UserByEmail(ctx, db.SQL, "ines@contoso.example")
		if err != nil {
			t.Fatal(err)
		}
		if u.AllSites || len(u.SiteIDs) != 1 || u.SiteIDs[0] != nrf.ID || !u.Has(auth.RoleInitiator) {
			t.Fatalf("user from site:nrf = all sites %v, sites %v, roles %v; want NRF only", u.AllSites, u.SiteIDs, u.Roles)
		}
		if r := b.get("/changes/" + atNRF.Number); r.StatusCode != http.StatusOK {
			t.Errorf("NRF change: %d", r.StatusCode)
		}
		if r := b.get("/changes/" + atSCP.Number); r.StatusCode != http.StatusNotFound {
			t.Errorf("SCP change seen without site:SCP: %d", r.StatusCode)
		}
		fake.SetUserRoles("oid-ines", "initiator", "site:NRF", "site:SCP")
		site.browser().entraLogin("/")
		if u, _ = auth.UserByID(ctx, db.SQL, u.ID); len(u.SiteIDs) != 1 {
			t.Errorf("sites after a later site:SCP = %v: the mapping is for a first site only", u.SiteIDs)
		}
	})
}
