// Package entratest is an HTTP fake of Microsoft Entra ID's OpenID Connect
// side, so sign-in can be tested end to end without Microsoft: discovery
// document, signing keys, an authorize endpoint that approves a configured
// test user at once, and a token endpoint that checks the PKCE verifier and
// returns an RS256-signed ID token. Knobs make it issue tampered, expired,
// wrong-audience or wrong-nonce tokens.
//
// It lives here until the Entra/Graph fake (internal/mail/graphtest) is on
// main; then it moves to graphtest/oidc.go.
package entratest

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
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// User is the person the fake signs in.
type User struct {
	OID               string
	Name              string
	PreferredUsername string
	Email             string // empty: no email claim
	Roles             []string
}

// Server is the fake. Change its exported fields between requests only
// through the setters, or before the first request.
type Server struct {
	URL          string
	TenantID     string
	ClientID     string
	ClientSecret string

	srv *httptest.Server
	key *rsa.PrivateKey
	kid string

	mu sync.Mutex
	// user is auto-approved at the authorize endpoint.
	user  User
	codes map[string]grant
	knobs Knobs
	now   func() time.Time
	// authorizeQueries records the authorize requests (for prompt=login).
	authorizeQueries []url.Values
}

// Knobs make the next ID tokens bad in one way.
type Knobs struct {
	Tamper        bool // signature no longer matches the payload
	Expired       bool // exp an hour in the past
	WrongAudience bool // aud is another application
	WrongIssuer   bool // iss is another tenant
	WrongNonce    bool // nonce differs from the one requested
	WrongKey      bool // signed with a key that is not in the JWKS
}

type grant struct {
	challenge   string
	nonce       string
	redirectURI string
	user        User
	authTime    time.Time
}

var keyOnce sync.Once
var sharedKey *rsa.PrivateKey

// New starts a fake for a tenant and app registration. It is closed when
// the test ends.
func New(t testing.TB, tenantID, clientID, clientSecret string) *Server {
	t.Helper()
	// RSA key generation is slow; one key serves every fake in the process.
	keyOnce.Do(func() {
		var err error
		sharedKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
	})
	s := &Server{TenantID: tenantID, ClientID: clientID, ClientSecret: clientSecret, key: sharedKey, kid: "entratest-key-1",
		codes: map[string]grant{}, now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.jwks)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.authorize)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Issuer is the tenant's v2.0 issuer, as Entra ID spells it.
func (s *Server) Issuer() string { return s.URL + "/" + s.TenantID + "/v2.0" }

// SetUser sets who the authorize endpoint signs in.
func (s *Server) SetUser(u User) { s.mu.Lock(); s.user = u; s.mu.Unlock() }

// SetKnobs sets how the next ID tokens are spoiled (zero value: good).
func (s *Server) SetKnobs(k Knobs) { s.mu.Lock(); s.knobs = k; s.mu.Unlock() }

// SetNow sets the fake's clock (iat, exp, auth_time).
func (s *Server) SetNow(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// AuthorizeQueries returns the query of every authorize request so far.
func (s *Server) AuthorizeQueries() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.authorizeQueries...)
}

func (s *Server) tenantOK(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("tenant") != s.TenantID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_tenant",
			fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", r.PathValue("tenant")))
		return false
	}
	return true
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	if !s.tenantOK(w, r) {
		return
	}
	base := s.URL + "/" + s.TenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.Issuer(),
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code", "id_token", "code id_token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"code_challenge_methods_supported":      []string{"plain", "S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
	})
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	if !s.tenantOK(w, r) {
		return
	}
	pub := s.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": s.kid,
		"n": b64(pub.N.Bytes()),
		"e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// authorize approves the configured user at once and redirects back with
// a code, as Entra ID does after a successful sign-in.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if !s.tenantOK(w, r) {
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	s.authorizeQueries = append(s.authorizeQueries, q)
	user, now := s.user, s.now()
	s.mu.Unlock()
	switch {
	case q.Get("client_id") != s.ClientID:
		http.Error(w, fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory.", q.Get("client_id")), http.StatusBadRequest)
		return
	case q.Get("redirect_uri") == "":
		http.Error(w, "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "AADSTS900144: response_type must be code", http.StatusBadRequest)
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		http.Error(w, "fake: PKCE with S256 is required", http.StatusBadRequest)
		return
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		http.Error(w, "fake: the openid scope is required", http.StatusBadRequest)
		return
	}
	code := randomString()
	s.mu.Lock()
	s.codes[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirectURI: q.Get("redirect_uri"), user: user, authTime: now}
	s.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if !s.tenantOK(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: bad form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.ClientID {
		writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory.", id))
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.ClientSecret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "fake: only authorization_code is served here")
		return
	}
	code := r.PostForm.Get("code")
	s.mu.Lock()
	g, ok := s.codes[code]
	delete(s.codes, code) // a code is redeemed once
	knobs, now := s.knobs, s.now()
	s.mu.Unlock()
	if !ok {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired or was already redeemed.")
		return
	}
	if r.PostForm.Get("redirect_uri") != g.redirectURI {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "AADSTS50011: The redirect URI does not match the one used for the authorization code.")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if b64(sum[:]) != g.challenge {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "AADSTS50148: The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.")
		return
	}
	claims := map[string]any{
		"iss":                s.Issuer(),
		"aud":                s.ClientID,
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(time.Hour).Unix(),
		"sub":                "sub-" + g.user.OID,
		"tid":                s.TenantID,
		"oid":                g.user.OID,
		"name":               g.user.Name,
		"preferred_username": g.user.PreferredUsername,
		"nonce":              g.nonce,
		"auth_time":          g.authTime.Unix(),
		"ver":                "2.0",
	}
	if g.user.Email != "" {
		claims["email"] = g.user.Email
	}
	if len(g.user.Roles) > 0 {
		claims["roles"] = g.user.Roles
	}
	if knobs.Expired {
		claims["iat"] = now.Add(-2 * time.Hour).Unix()
		claims["nbf"] = now.Add(-2 * time.Hour).Unix()
		claims["exp"] = now.Add(-time.Hour).Unix()
	}
	if knobs.WrongAudience {
		claims["aud"] = "00000000-0000-0000-0000-00000000beef"
	}
	if knobs.WrongIssuer {
		claims["iss"] = s.URL + "/11111111-1111-1111-1111-111111111111/v2.0"
	}
	if knobs.WrongNonce {
		claims["nonce"] = "not-the-nonce-you-sent"
	}
	idToken := s.sign(claims, knobs.WrongKey)
	if knobs.Tamper {
		// Change the payload after signing: an attacker granting themself admin.
		parts := strings.Split(idToken, ".")
		claims["roles"] = []string{"admin"}
		payload, _ := json.Marshal(claims)
		parts[1] = b64(payload)
		idToken = strings.Join(parts, ".")
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":   "Bearer",
		"scope":        "openid profile email",
		"expires_in":   3600,
		"access_token": "fake-access-token-" + randomString(),
		"id_token":     idToken,
	})
}

// sign makes an RS256 JWT.
func (s *Server) sign(claims map[string]any, otherKey bool) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": s.kid})
	payload, _ := json.Marshal(claims)
	input := b64(header) + "." + b64(payload)
	key := s.key
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

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return b64(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc, "error_codes": []int{}})
}
