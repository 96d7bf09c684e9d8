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
	"strings"
	"sync"
	"time"
)

// The OpenID Connect side of the fake: what Entra ID does when a user
// signs in to mocpcr. Discovery document, signing keys (JWKS), an
// authorize endpoint that approves the configured user at once, and the
// authorization_code grant on the shared token endpoint, which checks the
// PKCE verifier and returns an RS256-signed ID token. IDTokenKnobs spoil
// the next tokens in one chosen way.

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
}

// oidcState is the sign-in side's part of Server, guarded by Server.mu.
type oidcState struct {
	user             SignInUser
	knobs            IDTokenKnobs
	codes            map[string]authCode
	authorizeQueries []url.Values
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
	s.oidc.user = SignInUser{OID: "00000000-0000-0000-0000-0000000000a1", Name: "Test User", PreferredUsername: "test.user@contoso.com"}
	s.mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleDiscovery)
	s.mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.handleJWKS)
	s.mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.handleAuthorize)
	s.grants["authorization_code"] = s.authorizationCode
}

// Issuer is the tenant's v2.0 issuer, as Entra ID spells it.
func (s *Server) Issuer() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.URL + "/" + s.tenantID + "/v2.0"
}

// SetSignInUser sets who the authorize endpoint signs in.
func (s *Server) SetSignInUser(u SignInUser) { s.mu.Lock(); s.oidc.user = u; s.mu.Unlock() }

// SetIDTokenKnobs sets how the next ID tokens are spoiled.
func (s *Server) SetIDTokenKnobs(k IDTokenKnobs) { s.mu.Lock(); s.oidc.knobs = k; s.mu.Unlock() }

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
	s.mu.Unlock()
	writeJSON(w, map[string]any{
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
	})
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

// handleAuthorize approves the configured user at once and redirects back
// with a code and the state, as Entra ID does after a successful sign-in.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if !s.oidcTenantOK(w, r) {
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	s.oidc.authorizeQueries = append(s.oidc.authorizeQueries, q)
	user, clientID, now := s.oidc.user, s.clientID, s.now()
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
	if err != nil || back.Scheme == "" || back.Host == "" {
		http.Error(w, "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.", http.StatusBadRequest)
		return
	}
	code := "code." + newID()
	s.mu.Lock()
	s.oidc.codes[code] = authCode{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirectURI: q.Get("redirect_uri"),
		clientID: q.Get("client_id"), user: user, authTime: now}
	s.mu.Unlock()
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
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
	switch {
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
		claims["iss"] = strings.Replace(issuer, tenant, "11111111-1111-1111-1111-111111111111", 1)
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
