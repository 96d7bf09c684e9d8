package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
	"github.com/mocpcr/mocpcr/internal/web"
)

// signOut posts the sign-out form and returns the answer (not followed).
func (b *browser) signOut() response {
	b.t.Helper()
	return b.post("/auth/logout", url.Values{"csrf_token": {b.csrf()}})
}

// signsIn runs a Microsoft sign-in and reports whether it gave a session.
func signsIn(b *browser) bool {
	b.t.Helper()
	b.entraLogin("/")
	return b.signedIn()
}

// followed fetches path following redirects.
func (b *browser) followed(path string) response {
	b.t.Helper()
	b.follow = true
	defer func() { b.follow = false }()
	return b.get(path)
}

// A signature needs a password entered at Microsoft within the window,
// not merely a new mocpcr session: signing back in through Microsoft's
// silent single sign-on, without typing anything, must not open it.
func TestEntraSilentSignInDoesNotOpenTheSignatureWindow(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site, fake := newEntraSite(t, db)
	addSignRoute(site)
	// A provider without end-session: signing out of mocpcr leaves the
	// Microsoft session, as it did before mocpcr ended it.
	fake.SetEndSession(false)
	b := site.browser()
	b.entraLogin("/")
	site.clock.Advance(30 * time.Minute)
	b.signOut()
	b.entraLogin("/")
	if !b.signedIn() {
		t.Fatal("silent sign-in did not sign in")
	}
	r := b.post("/test/sign", url.Values{"csrf_token": {b.csrf()}})
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/auth/login?prompt=login") {
		t.Fatalf("signature right after a silent sign-in with a 30-minute-old password entry: %d %q, want a re-authentication", r.StatusCode, r.Header.Get("Location"))
	}
	if end := b.followed(r.Header.Get("Location")); end.Request.URL.Path != "/test/page" {
		t.Fatalf("re-authentication ended at %s (%d)", end.Request.URL, end.StatusCode)
	}
	if r := b.post("/test/sign", url.Values{"csrf_token": {b.csrf()}}); r.StatusCode != http.StatusOK {
		t.Fatalf("signature after entering the password at Microsoft: %d %s", r.StatusCode, r.Body)
	}
	// max_age is asked every time, so that auth_time is mandatory; a
	// re-authentication asks for the password now, within the window.
	qs := fake.AuthorizeQueries()
	signIn, reauth := qs[0], qs[len(qs)-1]
	if signIn.Get("max_age") != "43200" || signIn.Get("prompt") != "" {
		t.Errorf("sign-in authorize request: max_age %q prompt %q, want 43200 and none", signIn.Get("max_age"), signIn.Get("prompt"))
	}
	if reauth.Get("max_age") != "300" || reauth.Get("prompt") != "login" {
		t.Errorf("re-authentication authorize request: max_age %q prompt %q, want 300 and login", reauth.Get("max_age"), reauth.Get("prompt"))
	}
}

// A re-authentication must say when the password was entered (auth_time)
// and that must be within the window; otherwise it is refused, saying
// why, and the signature stays closed.
func TestEntraReauthWithoutAFreshAuthTimeIsRefusedSayingWhy(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site, fake := newEntraSite(t, db)
	addSignRoute(site)
	b := site.browser()
	b.entraLogin("/")
	for _, tc := range []struct {
		name  string
		spoil func()
		words string
	}{
		{"no auth_time", func() { fake.SetIDTokenKnobs(graphtest.IDTokenKnobs{OmitAuthTime: true}) }, "Microsoft did not say when you entered your password"},
		{"old auth_time", func() { fake.SetIgnoreReauthentication(true) }, "without asking for your password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site.clock.Advance(2 * web.SignatureWindow)
			tc.spoil()
			defer func() { fake.SetIDTokenKnobs(graphtest.IDTokenKnobs{}); fake.SetIgnoreReauthentication(false) }()
			end := b.followed("/auth/login?prompt=login&return=%2Ftest%2Fpage")
			if end.StatusCode != http.StatusForbidden || !strings.Contains(end.Body, tc.words) || !strings.Contains(end.Body, "Confirm with Microsoft again") {
				t.Fatalf("re-authentication with %s: %d, want 403 saying %q with a way to try again\n%s", tc.name, end.StatusCode, tc.words, end.Body)
			}
			if r := b.post("/test/sign", url.Values{"csrf_token": {b.csrf()}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("signature accepted after a re-authentication with %s: %d", tc.name, r.StatusCode)
			}
		})
	}
}

// Re-authentication applies the fresh token: an approver role withdrawn
// in Entra ID since the sign-in cannot sign.
func TestEntraReauthAppliesRolesFromTheFreshToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site, fake := newEntraSite(t, db)
		fake.SetSignInUser(graphtest.SignInUser{OID: "oid-arno", Name: "Arno Approver", PreferredUsername: "arno@contoso.example", Roles: []string{"approver"}})
		st, err := auth.CreateSite(ctx, db.SQL, "NRF", "North Refinery")
		if err != nil {
			t.Fatal(err)
		}
		b := site.browser()
		b.entraLogin("/")
		arno, err := auth.UserByEmail(ctx, db.SQL, "arno@contoso.example")
		if err != nil {
			t.Fatal(err)
		}
		if err := auth.SetSites(ctx, db.SQL, arno.ID, false, []int64{st.ID}); err != nil {
			t.Fatal(err)
		}
		ini := site.user("ini@example.com", auth.RoleInitiator)
		coord := site.user("coord@example.com", auth.RoleCoordinator)
		svc := site.web.Changes
		svc.Now = site.clock.Now
		c, err := svc.Create(ctx, ini, completeFields(change.KindPCR, "Revise OP-114", st.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(ctx, ini, c.ID, change.Screening{}); err != nil {
			t.Fatal(err)
		}
		if err := svc.SetApprovers(ctx, coord, c.ID, [][]int64{{arno.ID}}); err != nil {
			t.Fatal(err)
		}
		confirmScreening(t, svc, coord, c.ID)
		if _, err := svc.Transition(ctx, coord, c.ID, change.TransitionRequest{Action: change.ActStartReview}); err != nil {
			t.Fatal(err)
		}
		csrf := csrfRE.FindStringSubmatch(b.get("/changes/" + c.Number).Body)[1]
		site.clock.Advance(web.SignatureWindow + time.Second)
		fake.SetUserRoles("oid-arno") // the approver role is withdrawn in Entra ID
		decide := url.Values{"csrf_token": {csrf}, "decision": {"approved"}}
		r := b.post("/changes/"+c.Number+"/decision", decide)
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/auth/login?prompt=login") {
			t.Fatalf("stale signature: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		b.followed(r.Header.Get("Location"))
		r = b.post("/changes/"+c.Number+"/decision", decide)
		if r.StatusCode == http.StatusSeeOther && strings.Contains(r.Header.Get("Location"), "done=approved") {
			t.Fatal("approval signed by a user whose approver role was withdrawn in Entra ID")
		}
		d, err := svc.Get(ctx, coord, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Approvals) != 1 || d.Approvals[0].DecidedAt != nil {
			t.Errorf("approval = %+v, want it undecided", d.Approvals)
		}
		if u, _ := auth.UserByID(ctx, db.SQL, arno.ID); u.Has(auth.RoleApprover) {
			t.Errorf("roles after re-authentication = %v, want the approver role gone", u.Roles)
		}
	})
}

// Signing out of mocpcr also ends the Microsoft session, so the next
// person at a shared control-room PC signs in with their own password
// instead of silently as the last one.
func TestEntraSignOutEndsTheMicrosoftSession(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site, fake := newEntraSite(t, db)
	pc := site.browser()
	pc.entraLogin("/")
	r := pc.signOut()
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), fake.URL+"/"+graphtest.TenantID+"/oauth2/v2.0/logout") ||
		loc.Query().Get("post_logout_redirect_uri") != site.URL+"/auth/login" || loc.Query().Get("client_id") != graphtest.ClientID {
		t.Fatalf("sign-out answered %d to %q, want Microsoft's end-session endpoint returning to the sign-in page", r.StatusCode, loc)
	}
	if end := pc.followed(loc.String()); end.Request.URL.String() != site.URL+"/auth/login" || end.StatusCode != http.StatusOK {
		t.Fatalf("after Microsoft's sign-out the browser is at %s (%d)", end.Request.URL, end.StatusCode)
	}
	if n := fake.MicrosoftSessions(); n != 0 {
		t.Fatalf("%d Microsoft sessions after signing out", n)
	}
	fake.SetSignInUser(graphtest.SignInUser{OID: "oid-rita", Name: "Rita Reviewer", PreferredUsername: "rita@contoso.example", Roles: []string{"reviewer"}})
	if me := pc.followed("/auth/entra?return=%2Fapi%2Fv1%2Fme"); !strings.Contains(me.Body, "rita@contoso.example") {
		t.Fatalf("next person at the PC signed in as %s", me.Body)
	}

	// Sign out everywhere ends this browser's Microsoft session too.
	r = pc.post("/auth/logout-everywhere", url.Values{"csrf_token": {pc.csrf()}})
	if !strings.HasPrefix(r.Header.Get("Location"), fake.URL) {
		t.Errorf("sign out everywhere went to %q, want Microsoft's end-session endpoint", r.Header.Get("Location"))
	}

	// A provider without end_session_endpoint (read at discovery, so on a
	// fresh site): mocpcr's session ends alone.
	site, fake = newEntraSite(t, db)
	fake.SetEndSession(false)
	other := site.browser()
	other.entraLogin("/")
	if r := other.signOut(); r.Header.Get("Location") != "/auth/login" {
		t.Errorf("sign-out without an end-session endpoint went to %q", r.Header.Get("Location"))
	}
}

// An account is bound by tenant and object id: a token of another tenant
// is refused even when everything else about it is right, and
// preferred_username, which users can change, never moves an account's
// address nor finds an account linked to someone else.
func TestEntraAccountsAreBoundByTenantAndObjectID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		site, fake := newEntraSite(t, db)
		site.browser().entraLogin("/")
		ines, err := auth.UserByEmail(ctx, db.SQL, "ines@contoso.example")
		if err != nil {
			t.Fatal(err)
		}

		fake.SetIDTokenKnobs(graphtest.IDTokenKnobs{ForeignTenant: true})
		b := site.browser()
		if r := b.entraLogin("/"); r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "belongs to another organisation") || b.signedIn() {
			t.Fatalf("token of another tenant with Ines's oid: %d signed in %v", r.StatusCode, b.signedIn())
		}
		fake.SetIDTokenKnobs(graphtest.IDTokenKnobs{})

		// Ines renames her preferred_username to the boss's address.
		fake.SetSignInUser(graphtest.SignInUser{OID: "oid-ines", Name: "Ines Initiator", PreferredUsername: "boss@contoso.example", Roles: []string{"initiator"}})
		if b := site.browser(); !signsIn(b) {
			t.Fatal("Ines could not sign in after renaming her preferred_username")
		}
		if u, _ := auth.UserByID(ctx, db.SQL, ines.ID); u.Email != "ines@contoso.example" {
			t.Errorf("Ines's address became %q from preferred_username", u.Email)
		}

		// A pre-created account is linked once; another identity with the
		// same preferred_username does not get it.
		rita, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "rita@contoso.example", Name: "Rita", Roles: []auth.Role{auth.RoleReviewer}, AllSites: true})
		if err != nil {
			t.Fatal(err)
		}
		fake.SetSignInUser(graphtest.SignInUser{OID: "oid-rita", Name: "Rita Reviewer", PreferredUsername: "rita@contoso.example"})
		if b := site.browser(); !signsIn(b) {
			t.Fatal("Rita's first sign-in did not link her pre-created account")
		}
		fake.SetSignInUser(graphtest.SignInUser{OID: "oid-mallory", Name: "Mallory", PreferredUsername: "rita@contoso.example"})
		if b := site.browser(); signsIn(b) {
			t.Error("another identity with Rita's preferred_username was signed in")
		}
		if u, _ := auth.UserByID(ctx, db.SQL, rita.ID); u.EntraOID != "oid-rita" {
			t.Errorf("Rita's account is linked to %q", u.EntraOID)
		}
	})
}

// The callback's error_description is Microsoft's text, or an attacker's
// in a crafted link: the page says what happened in its own words and the
// text goes only to the log.
func TestEntraCallbackErrorIsSaidInOurOwnWords(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	site, fake := newEntraSite(t, db)
	fake.SetAuthorizeError("access_denied", "AADSTS50105: Your administrator has configured the application to block users. Call +1 555 0100 now.")
	r := site.browser().entraLogin("/")
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "has not given you access to mocpcr") || strings.Contains(r.Body, "555 0100") {
		t.Fatalf("not assigned to the app: %d\n%s", r.StatusCode, r.Body)
	}
	r = site.browser().get("/auth/callback?error=invalid_request&error_description=" + url.QueryEscape("Your account is locked; reset it at https://evil.example"))
	if r.StatusCode != http.StatusUnauthorized || strings.Contains(r.Body, "evil.example") || !strings.Contains(r.Body, "request id") {
		t.Fatalf("crafted error link: %d\n%s", r.StatusCode, r.Body)
	}
}
