package graphtest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/testclock"
)

// msBrowser is one browser talking to the fake: its cookie jar holds the
// Microsoft session.
type msBrowser struct {
	t      *testing.T
	s      *graphtest.Server
	client *http.Client
}

func newMSBrowser(t *testing.T, s *graphtest.Server) *msBrowser {
	jar, _ := cookiejar.New(nil)
	return &msBrowser{t: t, s: s, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

const appCallback = "http://app.example/auth/callback"

// signIn runs authorize with extra parameters and redeems the code; it
// returns the ID token's claims.
func (b *msBrowser) signIn(extra url.Values) map[string]any {
	b.t.Helper()
	verifier := "a-verifier-that-is-long-enough-0123456789-abcdef"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {graphtest.ClientID}, "response_type": {"code"}, "scope": {"openid profile email"},
		"redirect_uri": {appCallback}, "state": {"st"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	resp, err := b.client.Get(b.s.URL + "/" + graphtest.TenantID + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if resp.StatusCode != http.StatusFound || code == "" {
		b.t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	st, body := postForm(b.t, b.s.URL+"/"+graphtest.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {appCallback}, "client_id": {graphtest.ClientID}, "client_secret": {graphtest.ClientSecret}})
	idt, _ := body["id_token"].(string)
	parts := strings.Split(idt, ".")
	if st != 200 || len(parts) != 3 {
		b.t.Fatalf("redeem: %d %v", st, body)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		b.t.Fatal(err)
	}
	return claims
}

func authTimeOf(t *testing.T, c map[string]any) time.Time {
	t.Helper()
	f, ok := c["auth_time"].(float64)
	if !ok {
		t.Fatalf("no auth_time in %v", c)
	}
	return time.Unix(int64(f), 0)
}

// Entra ID signs a browser in silently from its Microsoft session, with
// the auth_time of the last credential entry; prompt=login and an
// exceeded max_age ask for credentials again; roles are those assigned
// when the token is issued.
func TestFakeEntraSilentSingleSignOnKeepsTheOldAuthTime(t *testing.T) {
	s := graphtest.New()
	defer s.Close()
	clock := testclock.New(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	s.SetClock(clock.Now)
	s.SetSignInUser(graphtest.SignInUser{OID: "oid-arno", Name: "Arno", PreferredUsername: "arno@contoso.example", Roles: []string{"approver"}})
	b := newMSBrowser(t, s)
	first := authTimeOf(t, b.signIn(nil))
	if !first.Equal(clock.Now()) {
		t.Fatalf("first sign-in auth_time %v, want now %v", first, clock.Now())
	}
	clock.Advance(30 * time.Minute)
	s.SetUserRoles("oid-arno", "reviewer")
	c := b.signIn(nil)
	if got := authTimeOf(t, c); !got.Equal(first) {
		t.Errorf("silent sign-in auth_time %v, want the first entry %v", got, first)
	}
	if roles, _ := c["roles"].([]any); len(roles) != 1 || roles[0] != "reviewer" {
		t.Errorf("silent sign-in roles %v, want the current assignment [reviewer]", c["roles"])
	}
	if got := authTimeOf(t, b.signIn(url.Values{"max_age": {"3600"}})); !got.Equal(first) {
		t.Errorf("max_age not exceeded: auth_time %v, want %v", got, first)
	}
	if got := authTimeOf(t, b.signIn(url.Values{"max_age": {"300"}})); !got.Equal(clock.Now()) {
		t.Errorf("max_age exceeded: auth_time %v, want a fresh entry %v", got, clock.Now())
	}
	clock.Advance(time.Minute)
	if got := authTimeOf(t, b.signIn(url.Values{"prompt": {"login"}})); !got.Equal(clock.Now()) {
		t.Errorf("prompt=login: auth_time %v, want a fresh entry %v", got, clock.Now())
	}
	// A tenant that does not honour re-authentication.
	clock.Advance(time.Minute)
	s.SetIgnoreReauthentication(true)
	if got := authTimeOf(t, b.signIn(url.Values{"prompt": {"login"}})); clock.Now().Sub(got) != time.Minute {
		t.Errorf("ignored prompt=login: auth_time %v, want the previous entry", got)
	}
	s.SetIgnoreReauthentication(false)
	s.SetIDTokenKnobs(graphtest.IDTokenKnobs{OmitAuthTime: true})
	if c := b.signIn(nil); c["auth_time"] != nil {
		t.Errorf("OmitAuthTime: token has auth_time %v", c["auth_time"])
	}
	// Another browser has no Microsoft session: it enters credentials.
	s.SetIDTokenKnobs(graphtest.IDTokenKnobs{})
	if got := authTimeOf(t, newMSBrowser(t, s).signIn(nil)); !got.Equal(clock.Now()) {
		t.Errorf("new browser: auth_time %v, want now", got)
	}
}

// prompt=none without a Microsoft session answers login_required, as
// Entra ID does, instead of asking for credentials.
func TestFakeEntraPromptNoneWithoutSessionIsLoginRequired(t *testing.T) {
	s := graphtest.New()
	defer s.Close()
	b := newMSBrowser(t, s)
	sum := sha256.Sum256([]byte("v"))
	q := url.Values{"client_id": {graphtest.ClientID}, "response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {appCallback},
		"state": {"st"}, "prompt": {"none"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, err := b.client.Get(s.URL + "/" + graphtest.TenantID + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("error") != "login_required" || loc.Query().Get("state") != "st" || loc.Query().Get("code") != "" {
		t.Fatalf("prompt=none without a session redirected to %s", loc)
	}
}

// The end-session endpoint is in discovery, ends the browser's Microsoft
// session and returns only to a registered URI.
func TestFakeEntraEndSessionEndsTheMicrosoftSession(t *testing.T) {
	s := graphtest.New()
	defer s.Close()
	s.SetRedirectURIs(appCallback, "http://app.example/auth/login")
	discovery := func() map[string]any {
		resp, err := http.Get(s.Issuer() + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		return doc
	}
	end, _ := discovery()["end_session_endpoint"].(string)
	if end != s.URL+"/"+graphtest.TenantID+"/oauth2/v2.0/logout" {
		t.Fatalf("end_session_endpoint = %q", end)
	}
	b := newMSBrowser(t, s)
	b.signIn(nil)
	if n := s.MicrosoftSessions(); n != 1 {
		t.Fatalf("%d Microsoft sessions after a sign-in", n)
	}
	resp, err := b.client.Get(end + "?" + url.Values{"post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("logout to an unregistered URI: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	b.signIn(nil)
	resp, err = b.client.Get(end + "?" + url.Values{"post_logout_redirect_uri": {"http://app.example/auth/login"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://app.example/auth/login" {
		t.Errorf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := s.MicrosoftSessions(); n != 0 {
		t.Errorf("%d Microsoft sessions after logout", n)
	}
	s.SetEndSession(false)
	if _, ok := discovery()["end_session_endpoint"]; ok {
		t.Error("end_session_endpoint offered after SetEndSession(false)")
	}
}
