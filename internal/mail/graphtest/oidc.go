package graphtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The OpenID Connect side of the fake: what Entra ID does when a user
// signs in to mocpcr. Discovery document, signing keys (JWKS), an
// authorize endpoint, the authorization_code grant on the shared token
// endpoint (PKCE checked, RS256-signed ID token) and the end-session
// (logout) endpoint.
//
// Like Entra ID, the fake keeps a Microsoft session per browser (a
// cookie on the fake's host). The first authorize request of a browser
// "asks for credentials": the configured SignInUser signs in and auth_time
// is now. Later requests are silent single sign-on: the same account and
// the auth_time of that first entry, unless prompt=login or an exceeded
// max_age asks for credentials again. The token's roles are the account's
// app role assignments when the token is issued (SetUserRoles changes
// them between sign-ins). IDTokenKnobs spoil the next tokens in one
// chosen way; SetIgnoreReauthentication and SetEndSession model tenants
// that sign in silently whatever is asked, or offer no logout.

// SignInUser is the person the authorize endpoint signs in.
type SignInUser struct {
	OID               string
	Name              string
	PreferredUsername string
	Email             string // empty: the token has no email claim
	Roles             []string
}

// IDTokenKnobs make the ID tokens bad in one way (zero value: good).
type IDTokenKnobs struct {
	Tamper        bool // payload changed after signing (grants "admin")
	Expired       bool // exp an hour in the past
	WrongAudience bool // aud is another application
	WrongIssuer   bool // iss is another tenant
	WrongNonce    bool // nonce differs from the one requested
	WrongKey      bool // signed with a key that is not in the JWKS
	// OmitAuthTime leaves auth_time out, as an app registration without
	// the auth_time optional claim may get.
	OmitAuthTime bool
	// ForeignTenant puts another tenant's tid in an otherwise good token
	// (our issuer, our key): what a loosened issuer check would pass.
	ForeignTenant bool
}

// ForeignTenantID is the tid ForeignTenant tokens carry.
const ForeignTenantID = "11111111-1111-1111-1111-111111111111"

// ssoCookie holds the browser's Microsoft session id on the fake's host.
const ssoCookie = "graphtest_sso"

// ssoSession is a browser's Microsoft session: who entered credentials
// and when.
type ssoSession struct {
	oid      string
	authTime time.Time
}

// oidcState is the sign-in side's part of Server, guarded by Server.mu.
type oidcState struct {
	// user is who enters credentials when asked; directory holds every
	// account by oid, with its current app role assignments.
	user      SignInUser
	directory map[string]SignInUser
	knobs     IDTokenKnobs
	codes     map[string]authCode
	// assertions counts codes redeemed with a client assertion instead
	// of the secret.
	assertions int
	sessions   map[string]ssoSession
	// ignoreReauth: prompt=login and max_age are not honoured.
	ignoreReauth bool
	// noEndSession: discovery offers no end_session_endpoint.
	noEndSession bool
	// redirectURIs are the registered redirect URIs; empty: any.
	redirectURIs []string
	// authorizeError, when set, is the error the authorize endpoint
	// redirects back with instead of signing anyone in.
	authorizeError   url.Values
	authorizeQueries []url.Values
	logoutQueries    []url.Values
}

type authCode struct {
	challenge   string
	nonce       string
	redirectURI string
	clientID    string
	user        SignInUser
	authTime    time.Time
}

const signingKeyID = "graphtest-oidc-key-1"

// RSA key generation is slow; one key serves every fake in the process.
var (
	signingKeyOnce sync.Once
	signingKey     *rsa.PrivateKey
)

func oidcKey() *rsa.PrivateKey {
	signingKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		signingKey = k
	})
	return signingKey
}

// oidcRoutes registers the sign-in endpoints; called from routes.
func (s *Server) oidcRoutes() {
	s.oidc.codes = map[string]authCode{}
	s.oidc.sessions = map[string]ssoSession{}
	s.oidc.user = SignInUser{OID: "00000000-0000-0000-0000-0000000000a1", Name: "Test User", PreferredUsername: "test.user@contoso.com"}
	s.oidc.directory = map[string]SignInUser{s.oidc.user.OID: s.oidc.user}
	s.mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleDiscovery)
	s.mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.handleJWKS)
	s.mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.handleAuthorize)
	s.mux.HandleFunc("GET /{tenant}/oauth2/v2.0/logout", s.handleLogout)
	s.grants["authorization_code"] = s.authorizationCode
}

// Issuer is the tenant's v2.0 issuer, as Entra ID spells it.
func (s *Server) Issuer() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.URL + "/" + s.tenantID + "/v2.0"
}

// SetSignInUser sets who enters credentials at the next sign-in that asks
// for them, and adds or updates that account in the directory. A browser
// with a Microsoft session keeps signing in as its session's account
// until it is asked for credentials again.
func (s *Server) SetSignInUser(u SignInUser) {
	s.mu.Lock()
	s.oidc.user = u
	s.oidc.directory[u.OID] = u
	s.mu.Unlock()
}

// SetUserRoles changes the app role assignments of an account: the next
// token issued for it carries them, silent sign-in or not.
func (s *Server) SetUserRoles(oid string, roles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.oidc.directory[oid]
	u.Roles = roles
	s.oidc.directory[oid] = u
	if s.oidc.user.OID == oid {
		s.oidc.user.Roles = roles
	}
}

// SetIgnoreReauthentication makes authorize sign in silently from the
// browser's Microsoft session even when prompt=login or max_age ask for
// credentials (a tenant or federated provider that does not honour them).
func (s *Server) SetIgnoreReauthentication(on bool) {
	s.mu.Lock()
	s.oidc.ignoreReauth = on
	s.mu.Unlock()
}

// SetEndSession sets whether discovery offers end_session_endpoint (it
// does unless turned off).
func (s *Server) SetEndSession(offered bool) {
	s.mu.Lock()
	s.oidc.noEndSession = !offered
	s.mu.Unlock()
}

// SetRedirectURIs registers the app's redirect URIs, as the app
// registration's Authentication page does: authorize refuses any other
// redirect_uri and logout any other post_logout_redirect_uri. None
// registered (the default): any absolute URI is accepted.
func (s *Server) SetRedirectURIs(uris ...string) {
	s.mu.Lock()
	s.oidc.redirectURIs = uris
	s.mu.Unlock()
}

// SetAuthorizeError makes the authorize endpoint redirect back with this
// error (e.g. access_denied) and error_description instead of signing in,
// as Entra ID does when a user cancels or is not assigned to the app;
// an empty code signs in again.
func (s *Server) SetAuthorizeError(code, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		s.oidc.authorizeError = nil
		return
	}
	s.oidc.authorizeError = url.Values{"error": {code}, "error_description": {description}}
}

// LogoutQueries returns the query of every end-session request so far.
func (s *Server) LogoutQueries() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.oidc.logoutQueries...)
}

// MicrosoftSessions counts the browsers signed in at the fake.
func (s *Server) MicrosoftSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.oidc.sessions)
}

// SetIDTokenKnobs sets how the next ID tokens are spoiled.
func (s *Server) SetIDTokenKnobs(k IDTokenKnobs) { s.mu.Lock(); s.oidc.knobs = k; s.mu.Unlock() }

// CodeAssertions is how many authorization-code requests authenticated
// with a client assertion (certificate or federated token) instead of a
// client secret.
func (s *Server) CodeAssertions() int { s.mu.Lock(); defer s.mu.Unlock(); return s.oidc.assertions }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AuthorizeQueries returns the query of every authorize request so far.
func (s *Server) AuthorizeQueries() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.oidc.authorizeQueries...)
}

func (s *Server) oidcTenantOK(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	ok := strings.EqualFold(r.PathValue("tenant"), s.tenantID)
	s.mu.Unlock()
	if !ok {
		s.writeEntraError(w, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found.", r.PathValue("tenant")))
	}
	return ok
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if !s.oidcTenantOK(w, r) {
		return
	}
	s.mu.Lock()
	base := s.URL + "/" + s.tenantID
	endSession := !s.oidc.noEndSession
	s.mu.Unlock()
	doc := map[string]any{
		"issuer":                                base + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "preferred_username", "email", "oid", "tid", "roles"},
	}
	if endSession {
		doc["end_session_endpoint"] = base + "/oauth2/v2.0/logout"
	}
	writeJSON(w, doc)
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if !s.oidcTenantOK(w, r) {
		return
	}
	pub := oidcKey().PublicKey
	writeJSON(w, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": signingKeyID,
		"n": b64(pub.N.Bytes()),
		"e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// handleAuthorize signs the browser in and redirects back with a code and
// the state, as Entra ID does after a successful sign-in: silently from
// the browser's Microsoft session, or, when there is none or prompt=login
// or max_age asks for it, as the configured user entering credentials now.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if !s.oidcTenantOK(w, r) {
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	s.oidc.authorizeQueries = append(s.oidc.authorizeQueries, q)
	clientID, registered, authErr := s.clientID, s.oidc.redirectURIs, s.oidc.authorizeError
	s.mu.Unlock()
	// Entra ID shows these problems on its own page; it does not redirect.
	switch {
	case !strings.EqualFold(q.Get("client_id"), clientID):
		http.Error(w, fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory.", q.Get("client_id")), http.StatusBadRequest)
		return
	case q.Get("redirect_uri") == "":
		http.Error(w, "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "AADSTS900144: The request body must contain the following parameter: 'response_type'.", http.StatusBadRequest)
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		http.Error(w, "graphtest: PKCE with code_challenge_method=S256 is required", http.StatusBadRequest)
		return
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		http.Error(w, "graphtest: the openid scope is required", http.StatusBadRequest)
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || back.Scheme == "" || back.Host == "" || len(registered) > 0 && !slices.Contains(registered, q.Get("redirect_uri")) {
		http.Error(w, "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.", http.StatusBadRequest)
		return
	}
	bq := back.Query()
	bq.Set("state", q.Get("state"))
	maxAge, err := optionalSeconds(q.Get("max_age"))
	if err != nil {
		http.Error(w, "AADSTS90014: The request has an invalid max_age: "+err.Error(), http.StatusBadRequest)
		return
	}
	if authErr != nil {
		for k, v := range authErr {
			bq[k] = v
		}
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
		return
	}
	user, authTime, ok := s.signIn(w, r, q.Get("prompt"), maxAge)
	if !ok {
		// prompt=none and credentials would be needed.
		bq.Set("error", "login_required")
		bq.Set("error_description", "AADSTS50058: A silent sign-in request was sent but no user is signed in.")
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
		return
	}
	code := "code." + newID()
	s.mu.Lock()
	s.oidc.codes[code] = authCode{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirectURI: q.Get("redirect_uri"),
		clientID: q.Get("client_id"), user: user, authTime: authTime}
	s.mu.Unlock()
	bq.Set("code", code)
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// signIn decides who signs in and when they last entered credentials:
// the browser's Microsoft session when it may be reused, else the
// configured user now (starting a new session). ok is false for
// prompt=none when credentials would be needed. maxAge < 0: none asked.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, prompt string, maxAge time.Duration) (u SignInUser, authTime time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var id string
	if c, err := r.Cookie(ssoCookie); err == nil {
		id = c.Value
	}
	sess, found := s.oidc.sessions[id]
	reuse := found && (s.oidc.ignoreReauth || prompt != "login" && (maxAge < 0 || now.Sub(sess.authTime) <= maxAge))
	if reuse {
		return s.oidc.directory[sess.oid], sess.authTime, true
	}
	if prompt == "none" {
		return SignInUser{}, time.Time{}, false
	}
	if !found {
		id = newID()
		http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: id, Path: "/", HttpOnly: true})
	}
	s.oidc.sessions[id] = ssoSession{oid: s.oidc.user.OID, authTime: now}
	s.oidc.directory[s.oidc.user.OID] = s.oidc.user
	return s.oidc.user, now, true
}

// optionalSeconds parses max_age: "" is -1 (none asked).
func optionalSeconds(v string) (time.Duration, error) {
	if v == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a number of seconds", v)
	}
	return time.Duration(n) * time.Second, nil
}

// handleLogout is the end-session endpoint (RP-initiated logout): the
// browser's Microsoft session ends, and the browser goes back to
// post_logout_redirect_uri when it is a registered redirect URI.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if !s.oidcTenantOK(w, r) {
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	s.oidc.logoutQueries = append(s.oidc.logoutQueries, q)
	if c, err := r.Cookie(ssoCookie); err == nil {
		delete(s.oidc.sessions, c.Value)
	}
	registered := s.oidc.redirectURIs
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	back := q.Get("post_logout_redirect_uri")
	if back == "" {
		_, _ = w.Write([]byte("You signed out of your account. It's a good idea to close all browser windows."))
		return
	}
	if u, err := url.Parse(back); err != nil || u.Scheme == "" || u.Host == "" || len(registered) > 0 && !slices.Contains(registered, back) {
		http.Error(w, "AADSTS50011: The post_logout_redirect_uri does not match the redirect URIs configured for the application.", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, back, http.StatusFound)
}

// authorizationCode serves grant_type=authorization_code on the token
// endpoint: client authentication (post or basic), single-use code,
// matching redirect URI, PKCE verifier, then the signed ID token.
func (s *Server) authorizationCode(w http.ResponseWriter, r *http.Request, tenant string) {
	f := r.PostForm
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749: client_secret_basic credentials are form-encoded.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	s.mu.Lock()
	clientID, clientSecret, expired, now, knobs := s.clientID, s.clientSecret, s.secretExpired, s.now(), s.oidc.knobs
	code := f.Get("code")
	g, found := s.oidc.codes[code]
	s.mu.Unlock()
	if !strings.EqualFold(id, clientID) {
		s.writeEntraError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", id, tenant))
		return
	}
	// A certificate or federated assertion stands in for the secret, as
	// on the client-credentials grant.
	assertion := !basic && secret == "" && f.Get("client_assertion") != ""
	if assertion {
		if status, code, aadsts, text := s.checkAssertion(r, tenant, id); status != 0 {
			s.writeEntraError(w, status, code, aadsts, text)
			return
		}
	}
	s.mu.Lock()
	s.oidc.assertions += btoi(assertion)
	s.mu.Unlock()
	switch {
	case assertion:
	case secret == "":
		s.writeEntraError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(clientSecret)) != 1:
		s.writeEntraError(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf(
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", id))
		return
	case expired:
		s.writeEntraError(w, http.StatusUnauthorized, "invalid_client", 7000222, fmt.Sprintf("The provided client secret keys for app '%s' are expired.", id))
		return
	}
	// A code is redeemed once, whatever happens next.
	s.mu.Lock()
	delete(s.oidc.codes, code)
	s.mu.Unlock()
	if !found {
		s.writeEntraError(w, http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity or was already redeemed.")
		return
	}
	if f.Get("redirect_uri") != g.redirectURI {
		s.writeEntraError(w, http.StatusBadRequest, "invalid_grant", 50011, "The redirect URI specified in the request does not match the one used to obtain the authorization code.")
		return
	}
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	if b64(sum[:]) != g.challenge {
		s.writeEntraError(w, http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		return
	}
	issuer := s.Issuer()
	claims := map[string]any{
		"iss": issuer, "aud": g.clientID, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"sub": "sub-" + g.user.OID, "tid": tenant, "oid": g.user.OID, "name": g.user.Name,
		"preferred_username": g.user.PreferredUsername, "nonce": g.nonce, "auth_time": g.authTime.Unix(), "ver": "2.0",
	}
	if knobs.OmitAuthTime {
		delete(claims, "auth_time")
	}
	if knobs.ForeignTenant {
		claims["tid"] = ForeignTenantID
	}
	if g.user.Email != "" {
		claims["email"] = g.user.Email
	}
	if len(g.user.Roles) > 0 {
		claims["roles"] = g.user.Roles
	}
	if knobs.Expired {
		claims["iat"], claims["nbf"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	}
	if knobs.WrongAudience {
		claims["aud"] = "00000000-0000-0000-0000-00000000beef"
	}
	if knobs.WrongIssuer {
		claims["iss"] = strings.Replace(issuer, tenant, ForeignTenantID, 1)
	}
	if knobs.WrongNonce {
		claims["nonce"] = "not-the-nonce-you-sent"
	}
	idToken := signJWT(claims, knobs.WrongKey)
	if knobs.Tamper {
		// Change the payload after signing: an attacker granting themself admin.
		parts := strings.Split(idToken, ".")
		claims["roles"] = []string{"admin"}
		payload, _ := json.Marshal(claims)
		parts[1] = b64(payload)
		idToken = strings.Join(parts, ".")
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, map[string]any{
		"token_type":   "Bearer",
		"scope":        "openid profile email",
		"expires_in":   3599,
		"access_token": newToken(),
		"id_token":     idToken,
	})
}

// signJWT makes an RS256 JWT with the fake's key (or a stranger's).
func signJWT(claims map[string]any, otherKey bool) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": signingKeyID})
	payload, _ := json.Marshal(claims)
	input := b64(header) + "." + b64(payload)
	key := oidcKey()
	if otherKey {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	}
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
