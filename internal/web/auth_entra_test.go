package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// newEntraSite starts mocpcr with Entra ID sign-in against the fake.
func newEntraSite(t *testing.T, db *store.DB) (*testSite, *graphtest.Server) {
	t.Helper()
	fake := graphtest.New()
	t.Cleanup(fake.Close)
	site := newSite(t, db, map[string]string{
		"AUTH_PROVIDER":        "entra",
		"AZURE_TENANT_ID":      graphtest.TenantID,
		"AZURE_CLIENT_ID":      graphtest.ClientID,
		"AZURE_CLIENT_SECRET":  graphtest.ClientSecret,
		"AZURE_AUTHORITY_HOST": fake.URL,
	})
	fake.SetClock(site.clock.Now)
	// As the README's app registration steps register them.
	fake.SetRedirectURIs(site.URL+"/auth/callback", site.URL+"/auth/login")
	fake.SetSignInUser(graphtest.SignInUser{OID: "oid-ines", Name: "Ines Initiator", PreferredUsername: "ines@contoso.example", Roles: []string{"initiator"}})
	return site, fake
}

// entraLogin runs the whole browser flow, following redirects, and
// returns the final response.
func (b *browser) entraLogin(ret string) response {
	b.t.Helper()
	b.follow = true
	defer func() { b.follow = false }()
	return b.get("/auth/entra?return=" + url.QueryEscape(ret))
}

func TestEntraSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site, fake := newEntraSite(t, db)
		b := site.browser()

		if r := b.get("/auth/login"); !strings.Contains(r.Body, "Sign in with Microsoft") || strings.Contains(r.Body, `name="password"`) {
			t.Fatalf("Entra sign-in page:\n%s", r.Body)
		}
		r := b.entraLogin("/account")
		if r.StatusCode != 200 || r.Request.URL.Path != "/account" || !strings.Contains(r.Body, "Ines Initiator") {
			t.Fatalf("sign-in ended at %s with %d:\n%s", r.Request.URL, r.StatusCode, r.Body)
		}
		q := fake.AuthorizeQueries()[0]
		if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" ||
			q.Get("redirect_uri") != site.URL+"/auth/callback" || !strings.Contains(q.Get("scope"), "email") {
			t.Errorf("authorize request = %v", q)
		}
		u, err := auth.UserByEmail(t.Context(), db.SQL, "ines@contoso.example")
		if err != nil || u.EntraOID != "oid-ines" || !u.Has(auth.RoleInitiator) || len(u.EntraRoles) != 1 {
			t.Fatalf("user from token = %+v, %v", u, err)
		}

		// An administrator adds a role in mocpcr; the token's roles change.
		if err := auth.SetRoles(t.Context(), db.SQL, u.ID, []auth.Role{auth.RoleReviewer}); err != nil {
			t.Fatal(err)
		}
		// Later sign-in: name and email follow Entra ID, the token's roles
		// replace the old token roles, the admin's role stays.
		fake.SetSignInUser(graphtest.SignInUser{OID: "oid-ines", Name: "Ines Initiator-Meyer", PreferredUsername: "ines@contoso.example",
			Email: "ines.meyer@contoso.example", Roles: []string{"approver", "not-a-role"}})
		b2 := site.browser()
		if r := b2.entraLogin("/"); r.Request.URL.Path != "/" {
			t.Fatalf("second sign-in ended at %s", r.Request.URL)
		}
		u, err = auth.UserByID(t.Context(), db.SQL, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != "Ines Initiator-Meyer" || u.Email != "ines.meyer@contoso.example" {
			t.Errorf("profile not refreshed: %q %q", u.Name, u.Email)
		}
		if !u.Has(auth.RoleApprover) || !u.Has(auth.RoleReviewer) || u.Has(auth.RoleInitiator) {
			t.Errorf("roles = %v (want approver from token + reviewer from admin, initiator gone)", u.Roles)
		}
		var n int
		_ = db.SQL.QueryRow(`SELECT count(*) FROM users`).Scan(&n)
		if n != 1 {
			t.Errorf("%d users after two sign-ins of one person", n)
		}
		// Local passwords are not accepted in Entra mode.
		if r := site.browser().post("/auth/login", url.Values{"email": {"ines@contoso.example"}, "password": {"whatever12345"}}); r.StatusCode != http.StatusBadRequest {
			t.Errorf("password sign-in in Entra mode: %d", r.StatusCode)
		}
	})
}

func TestEntraSignInRefusesBadTokens(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site, fake := newEntraSite(t, db)
	for _, tc := range []struct {
		name  string
		knobs graphtest.IDTokenKnobs
	}{
		{"tampered", graphtest.IDTokenKnobs{Tamper: true}},
		{"expired", graphtest.IDTokenKnobs{Expired: true}},
		{"wrong audience", graphtest.IDTokenKnobs{WrongAudience: true}},
		{"wrong issuer", graphtest.IDTokenKnobs{WrongIssuer: true}},
		{"nonce mismatch", graphtest.IDTokenKnobs{WrongNonce: true}},
		{"unknown signing key", graphtest.IDTokenKnobs{WrongKey: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.SetIDTokenKnobs(tc.knobs)
			b := site.browser()
			r := b.entraLogin("/account")
			if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "could not be verified") {
				t.Fatalf("%s token: %d at %s\n%s", tc.name, r.StatusCode, r.Request.URL, r.Body)
			}
			if b.signedIn() {
				t.Fatalf("%s token gave a session", tc.name)
			}
		})
	}
	fake.SetIDTokenKnobs(graphtest.IDTokenKnobs{})
	var n int
	_ = db.SQL.QueryRow(`SELECT count(*) FROM users`).Scan(&n)
	if n != 0 {
		t.Errorf("refused tokens created %d users", n)
	}
	// The same fake with a good token works: the refusals were the knobs.
	if r := site.browser().entraLogin("/account"); r.StatusCode != 200 {
		t.Fatalf("good token after the bad ones: %d", r.StatusCode)
	}
}

// stepTo follows the flow by hand up to the callback URL.
func stepToCallback(t *testing.T, b *browser) *url.URL {
	t.Helper()
	r := b.get("/auth/entra?return=%2Faccount")
	if r.StatusCode != http.StatusFound {
		t.Fatalf("start: %d", r.StatusCode)
	}
	r = b.get(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %s", r.StatusCode, r.Body)
	}
	cb, err := url.Parse(r.Header.Get("Location"))
	if err != nil || cb.Path != "/auth/callback" {
		t.Fatalf("authorize redirected to %v", r.Header.Get("Location"))
	}
	return cb
}

func TestEntraStateAndBrowserBinding(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site, _ := newEntraSite(t, db)

	// State mismatch.
	b := site.browser()
	cb := stepToCallback(t, b)
	q := cb.Query()
	q.Set("state", "forged-state")
	cb.RawQuery = q.Encode()
	if r := b.get(cb.String()); r.StatusCode != http.StatusBadRequest || b.signedIn() {
		t.Fatalf("state mismatch: %d", r.StatusCode)
	}

	// A callback URL opened in another browser (login CSRF): no flow cookie.
	attacker := site.browser()
	cb = stepToCallback(t, attacker)
	victim := site.browser()
	if r := victim.get(cb.String()); r.StatusCode != http.StatusBadRequest || victim.signedIn() {
		t.Fatalf("callback without the flow cookie: %d", r.StatusCode)
	}

	// A flow is single use, and expires.
	b = site.browser()
	cb = stepToCallback(t, b)
	site.clock.Advance(11 * time.Minute)
	if r := b.get(cb.String()); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("expired flow: %d", r.StatusCode)
	}

	// Microsoft reports an error (user declined): said in our words.
	b = site.browser()
	r := b.get("/auth/callback?error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent")
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "you declined the permissions mocpcr asks for") {
		t.Fatalf("error callback: %d", r.StatusCode)
	}
}

func TestEntraDisabledUserRefused(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site, _ := newEntraSite(t, db)
	u, err := auth.CreateUser(t.Context(), db.SQL, auth.NewUser{Email: "ines@contoso.example", Name: "Ines", Roles: []auth.Role{auth.RoleAuditor}, AllSites: true})
	if err != nil {
		t.Fatal(err)
	}
	// Pre-provisioned by email: linked at first sign-in, keeping its roles.
	b := site.browser()
	if r := b.entraLogin("/"); !b.signedIn() {
		t.Fatalf("pre-provisioned user: %d", r.StatusCode)
	}
	got, _ := auth.UserByID(t.Context(), db.SQL, u.ID)
	if got.EntraOID != "oid-ines" || !got.Has(auth.RoleAuditor) || !got.Has(auth.RoleInitiator) {
		t.Fatalf("linked user = %+v", got)
	}
	if err := auth.UpdateUser(t.Context(), db, u.ID, auth.UserUpdate{Name: "Ines", AllSites: true, Disabled: true}, site.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if b.signedIn() {
		t.Fatal("disabled user's session survived")
	}
	if r := b.entraLogin("/"); r.StatusCode != http.StatusForbidden || b.signedIn() {
		t.Fatalf("disabled user signed in with Entra ID: %d", r.StatusCode)
	}
}
