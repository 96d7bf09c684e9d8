package auth

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// EntraConfig is the app registration used for single sign-on (the same
// one that sends email).
type EntraConfig struct {
	AuthorityHost string // AZURE_AUTHORITY_HOST, e.g. https://login.microsoftonline.com
	TenantID      string
	ClientID      string
	ClientSecret  string
	// ClientAssertion, when set, authenticates the code redemption
	// instead of ClientSecret: a signed client assertion (RFC 7523) for
	// the token endpoint, from the same certificate or federated token
	// that sends email (AZURE_CLIENT_CERTIFICATE_PATH,
	// AZURE_FEDERATED_TOKEN_FILE).
	ClientAssertion func(tokenURL string) (string, error)
	// RedirectURL is {MOCPCR_BASE_URL}/auth/callback.
	RedirectURL string
	// HTTPClient talks to Entra ID; nil means a client with a timeout.
	HTTPClient *http.Client
	// Now checks token expiry and auth_time; nil means time.Now.
	Now func() time.Time
	// SignInMaxAge is the max_age sent with a sign-in (0: a long shift,
	// DefaultSignInMaxAge): a Microsoft session older than that asks for
	// the password again. Sending max_age makes auth_time mandatory in the
	// ID token (OpenID Connect Core 3.1.2.1).
	SignInMaxAge time.Duration
}

// ClientAssertionType is the client_assertion_type of a signed JWT that
// stands in for a client secret (RFC 7523).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// SignatureWindow is how long after the user last entered a credential
// (a password sign-in, or auth_time at Microsoft) they may sign an
// approval without proving who they are again.
const SignatureWindow = 5 * time.Minute

// DefaultSignInMaxAge is the max_age of an ordinary sign-in.
const DefaultSignInMaxAge = 12 * time.Hour

// authTimeSkew is how far apart mocpcr's clock and Microsoft's may be.
const authTimeSkew = time.Minute

// Why an ID token is refused, in words for the person signing in.
var (
	// ErrOtherTenant: the account is of another organisation than
	// AZURE_TENANT_ID, whatever the issuer check let through.
	ErrOtherTenant = errors.New("this Microsoft account belongs to another organisation; sign in with your account of this organisation")
	// ErrNoAuthTime: a re-authentication without auth_time cannot show
	// when the password was entered.
	ErrNoAuthTime = errors.New("Microsoft did not say when you entered your password, so this cannot count as a signature. " +
		"Tell your administrator: the app registration must send the auth_time claim (see the README)")
	// ErrNotFresh: Microsoft reused an earlier sign-in instead of asking
	// for the password.
	ErrNotFresh = errors.New("Microsoft signed you in again without asking for your password (it reused an earlier sign-in), " +
		"so this cannot count as a signature. Try again and enter your password at Microsoft; if it is not asked for, tell your administrator")
	// ErrOtherAccount: a re-authentication by somebody else.
	ErrOtherAccount = errors.New("you confirmed with a different Microsoft account than the one signed in here. Sign in again with your own account")
)

// Entra signs users in with Microsoft Entra ID (OpenID Connect
// authorization code flow with PKCE, state and nonce).
type Entra struct {
	cfg EntraConfig

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	// endSession is the discovery document's end_session_endpoint, ""
	// when the provider offers none.
	endSession string
}

// NewEntra returns an Entra sign-in client. It does not contact Entra ID:
// the discovery document is fetched on first use, so the server starts
// even while Entra ID is unreachable.
func NewEntra(cfg EntraConfig) *Entra {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SignInMaxAge <= 0 {
		cfg.SignInMaxAge = DefaultSignInMaxAge
	}
	return &Entra{cfg: cfg}
}

// Issuer is the tenant's v2.0 issuer: {authority}/{tenant}/v2.0.
func (e *Entra) Issuer() string {
	return strings.TrimRight(e.cfg.AuthorityHost, "/") + "/" + e.cfg.TenantID + "/v2.0"
}

func (e *Entra) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, e.cfg.HTTPClient)
}

// setup fetches the discovery document once; a failure is retried on the
// next sign-in.
func (e *Entra) setup(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.oauth != nil {
		return e.oauth, e.verifier, nil
	}
	p, err := oidc.NewProvider(e.ctx(ctx), e.Issuer())
	if err != nil {
		return nil, nil, fmt.Errorf("Entra ID discovery at %s failed (check AZURE_TENANT_ID and AZURE_AUTHORITY_HOST): %w", e.Issuer(), err)
	}
	e.oauth = &oauth2.Config{
		ClientID:     e.cfg.ClientID,
		ClientSecret: e.cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  e.cfg.RedirectURL,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
	if e.cfg.ClientAssertion != nil {
		// The assertion goes in the form; no secret, in the form or in
		// an Authorization header.
		e.oauth.ClientSecret = ""
		e.oauth.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	// Signature, issuer, audience (our client id) and expiry are checked
	// by the verifier; the nonce is compared in Exchange.
	e.verifier = p.VerifierContext(e.ctx(context.WithoutCancel(ctx)), &oidc.Config{ClientID: e.cfg.ClientID, Now: e.cfg.Now})
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err == nil {
		e.endSession = meta.EndSession
	}
	return e.oauth, e.verifier, nil
}

// EndSessionURL is where to send the browser after signing out of mocpcr
// so that Microsoft ends its own session too (RP-initiated logout) and
// sends the browser back to returnTo, which must be a registered redirect
// URI. ok is false when the provider offers no end_session_endpoint or
// cannot be reached: then only mocpcr's session ends.
func (e *Entra) EndSessionURL(ctx context.Context, returnTo string) (string, bool) {
	if _, _, err := e.setup(ctx); err != nil {
		return "", false
	}
	e.mu.Lock()
	end := e.endSession
	e.mu.Unlock()
	u, err := url.Parse(end)
	if end == "" || err != nil {
		return "", false
	}
	q := u.Query()
	q.Set("post_logout_redirect_uri", returnTo)
	q.Set("client_id", e.cfg.ClientID)
	u.RawQuery = q.Encode()
	return u.String(), true
}

// EntraFlow is a sign-in in progress, stored server-side and bound to the
// browser by a cookie.
type EntraFlow struct {
	State    string
	Nonce    string
	Verifier string // PKCE code verifier
	ReturnTo string
	// Reauth asks Entra ID for a fresh credential entry (prompt=login).
	Reauth    bool
	CreatedAt time.Time
}

// EntraFlowLifetime is how long a user has to finish signing in at
// Microsoft.
const EntraFlowLifetime = 10 * time.Minute

// ErrFlowInvalid means the callback does not belong to a sign-in this
// browser started (missing or expired cookie, state mismatch).
var ErrFlowInvalid = errors.New("the sign-in could not be matched to this browser or took too long; please sign in again")

// StartEntraFlow records a new sign-in and returns the value for the
// browser-binding cookie.
func StartEntraFlow(ctx context.Context, q store.Querier, returnTo string, reauth bool, now time.Time) (string, *EntraFlow, error) {
	cookie := randomToken()
	f := &EntraFlow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), ReturnTo: returnTo, Reauth: reauth, CreatedAt: now.UTC()}
	// Old unfinished flows are of no use to anyone.
	if _, err := q.ExecContext(ctx, `DELETE FROM oidc_flows WHERE created_at < $1`, now.Add(-EntraFlowLifetime).UTC()); err != nil {
		return "", nil, fmt.Errorf("start sign-in: %w", err)
	}
	_, err := q.ExecContext(ctx,
		`INSERT INTO oidc_flows (flow_hash, state, nonce, verifier, return_to, reauth, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		HashToken(cookie), f.State, f.Nonce, f.Verifier, f.ReturnTo, f.Reauth, f.CreatedAt)
	if err != nil {
		return "", nil, fmt.Errorf("start sign-in: %w", err)
	}
	return cookie, f, nil
}

// TakeEntraFlow consumes the flow bound to the cookie, checking that the
// callback's state matches. A flow can be taken once.
func TakeEntraFlow(ctx context.Context, q store.Querier, cookie, state string, now time.Time) (*EntraFlow, error) {
	if cookie == "" {
		return nil, ErrFlowInvalid
	}
	f := &EntraFlow{}
	err := q.QueryRowContext(ctx,
		`DELETE FROM oidc_flows WHERE flow_hash = $1 RETURNING state, nonce, verifier, return_to, reauth, created_at`, HashToken(cookie)).
		Scan(&f.State, &f.Nonce, &f.Verifier, &f.ReturnTo, &f.Reauth, &f.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrFlowInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("finish sign-in: %w", err)
	}
	if f.State == "" || state != f.State || now.Sub(f.CreatedAt) > EntraFlowLifetime {
		return nil, ErrFlowInvalid
	}
	return f, nil
}

// AuthCodeURL is where to send the browser: Entra ID's authorize endpoint
// with state, nonce, the PKCE challenge and max_age (so the ID token must
// carry auth_time). A re-authentication asks for the password now
// (prompt=login) within the signature window (max_age).
func (e *Entra) AuthCodeURL(ctx context.Context, f *EntraFlow) (string, error) {
	oc, _, err := e.setup(ctx)
	if err != nil {
		return "", err
	}
	maxAge := e.cfg.SignInMaxAge
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if f.Reauth {
		maxAge = SignatureWindow
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.Itoa(int(maxAge/time.Second))))
	return oc.AuthCodeURL(f.State, opts...), nil
}

// EntraClaims are the ID token claims mocpcr uses.
type EntraClaims struct {
	// TID and OID together are the account: an oid is unique only
	// within its tenant.
	TID               string   `json:"tid"`
	OID               string   `json:"oid"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	Roles             []string `json:"roles"`
	Nonce             string   `json:"nonce"`
	// AuthTime is when the user last entered a credential at Microsoft
	// (seconds since 1970); 0 when the token does not say.
	AuthTime int64 `json:"auth_time"`
}

// AuthenticatedAt is AuthTime as a time; the zero time when unknown.
func (c *EntraClaims) AuthenticatedAt() time.Time {
	if c.AuthTime <= 0 {
		return time.Time{}
	}
	return time.Unix(c.AuthTime, 0).UTC()
}

// emailClaim is the email claim when it is an address, else "".
func (c *EntraClaims) emailClaim() string {
	s := strings.TrimSpace(c.Email)
	if a, err := mail.ParseAddress(s); err == nil && a.Address == s {
		return s
	}
	return ""
}

// EmailAddress is the user's email: the email claim, else
// preferred_username when that is an address.
func (c *EntraClaims) EmailAddress() string {
	for _, s := range []string{c.Email, c.PreferredUsername} {
		if a, err := mail.ParseAddress(strings.TrimSpace(s)); err == nil && a.Address == strings.TrimSpace(s) {
			return a.Address
		}
	}
	return ""
}

// Exchange redeems the authorization code (with the PKCE verifier),
// verifies the ID token (signature, issuer, audience, expiry), its nonce,
// its tenant and its auth_time, and returns its claims. A
// re-authentication must carry an auth_time within SignatureWindow
// (ErrNoAuthTime, ErrNotFresh otherwise); a sign-in without auth_time is
// accepted, its session unable to sign until a re-authentication.
func (e *Entra) Exchange(ctx context.Context, f *EntraFlow, code string) (*EntraClaims, error) {
	oc, verifier, err := e.setup(ctx)
	if err != nil {
		return nil, err
	}
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(f.Verifier)}
	if e.cfg.ClientAssertion != nil {
		a, err := e.cfg.ClientAssertion(oc.Endpoint.TokenURL)
		if err != nil {
			return nil, fmt.Errorf("Entra ID token request failed: %w", err)
		}
		opts = append(opts, oauth2.SetAuthURLParam("client_assertion_type", ClientAssertionType),
			oauth2.SetAuthURLParam("client_assertion", a))
	}
	tok, err := oc.Exchange(e.ctx(ctx), code, opts...)
	if err != nil {
		return nil, fmt.Errorf("Entra ID token request failed: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("Entra ID returned no ID token: the app registration must allow ID tokens and the openid scope")
	}
	idt, err := verifier.Verify(e.ctx(ctx), raw)
	if err != nil {
		return nil, fmt.Errorf("ID token refused: %w", err)
	}
	var c EntraClaims
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("ID token claims: %w", err)
	}
	if c.Nonce == "" || c.Nonce != f.Nonce {
		return nil, errors.New("ID token refused: nonce does not match this sign-in")
	}
	if c.OID == "" {
		return nil, errors.New("ID token refused: no oid claim")
	}
	// The issuer check already pins the tenant; the tid is checked as
	// well so the binding holds even if that check were loosened (a
	// multi-tenant issuer, a proxy).
	if !strings.EqualFold(c.TID, e.cfg.TenantID) {
		return nil, fmt.Errorf("%w (tid %q)", ErrOtherTenant, c.TID)
	}
	now := e.cfg.Now()
	at := c.AuthenticatedAt()
	if !at.IsZero() && at.After(now.Add(authTimeSkew)) {
		return nil, fmt.Errorf("ID token refused: auth_time %s is in the future", at.Format(time.RFC3339))
	}
	if f.Reauth {
		if at.IsZero() {
			return nil, ErrNoAuthTime
		}
		// No skew allowance here: an auth_time the window has already
		// left would send the user straight back to Microsoft.
		if now.Sub(at) > SignatureWindow {
			return nil, fmt.Errorf("%w (auth_time %s)", ErrNotFresh, at.Format(time.RFC3339))
		}
	}
	return &c, nil
}

// ErrDisabled refuses sign-in for a disabled account.
var ErrDisabled = errors.New("this account is disabled; ask an administrator")

// entraRoles splits the token's roles into known roles and ignored values.
// Values of the form site:CODE are the site mapping (grantEntraSites),
// not roles.
func entraRoles(c *EntraClaims) (roles []Role, ignored []string) {
	for _, r := range c.Roles {
		if _, ok := siteRoleCode(r); ok {
			continue
		}
		if role, err := ParseRole(r); err == nil {
			roles = append(roles, role)
		} else {
			ignored = append(ignored, r)
		}
	}
	return roles, ignored
}

// UpsertEntraUser finds or creates the user for verified claims. The
// account is bound by tenant and object id (tid + oid). Only when no
// account has them is an account an administrator created beforehand
// linked, once, by the token's email or preferred_username; an account
// linked to another Entra ID identity is never found that way
// (preferred_username can be changed by users). The name, and the email
// from the email claim (never preferred_username), are refreshed, and
// the token's roles replace the user's Entra-sourced roles (roles
// assigned in mocpcr are kept). Unknown role values are returned in
// ignored.
func UpsertEntraUser(ctx context.Context, db *store.DB, c *EntraClaims, now time.Time) (u *User, ignored []string, err error) {
	roles, ignored := entraRoles(c)
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		var disabled bool
		err := tx.QueryRowContext(ctx, `SELECT id, disabled FROM users WHERE entra_oid = $1 AND (entra_tid = $2 OR entra_tid IS NULL)`,
			c.OID, c.TID).Scan(&id, &disabled)
		found := err == nil
		if errors.Is(err, sql.ErrNoRows) {
			id, disabled, err = linkPrecreated(ctx, tx, c)
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			email := c.EmailAddress()
			if email == "" {
				return errors.New("the ID token has no email address: add the email optional claim or the email scope (see the README)")
			}
			name := cmp.Or(strings.TrimSpace(c.Name), email)
			// No site: a tenant's every user can sign in, but only an
			// administrator decides where they work.
			nu, err := createUser(ctx, tx, NewUser{Email: email, Name: name, EntraOID: c.OID})
			// The address is the token's, checked already: an invalid
			// email can only be one another account holds.
			if pe := problem.As(err); pe != nil && pe.Kind == problem.Invalid && pe.Field == "email" {
				return fmt.Errorf("another mocpcr account already uses the email %s; ask an administrator to link it", email)
			}
			if err != nil {
				return err
			}
			id = nu.ID
		case err != nil:
			return fmt.Errorf("find user: %w", err)
		case disabled:
			return ErrDisabled
		}
		if err := refreshEntraProfile(ctx, tx, id, c, found, now); err != nil {
			return err
		}
		if err := setRoles(ctx, tx, id, roles, roleSourceEntra); err != nil {
			return err
		}
		unknown, err := grantEntraSites(ctx, tx, id, c)
		if err != nil {
			return err
		}
		ignored = append(ignored, unknown...)
		u, err = UserByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return u, ignored, nil
}

// siteRolePrefix marks an app role value that maps to a site: an
// administrator who creates app roles site:NRF, site:SCP in Entra ID and
// assigns them lets new users start on their sites without waiting.
const siteRolePrefix = "site:"

// siteRoleCode returns the site code of a site:CODE app role value.
func siteRoleCode(v string) (string, bool) {
	if len(v) > len(siteRolePrefix) && strings.EqualFold(v[:len(siteRolePrefix)], siteRolePrefix) {
		return strings.TrimSpace(v[len(siteRolePrefix):]), true
	}
	return "", false
}

// grantEntraSites gives a user who works on no site yet the sites their
// site:CODE app roles name (live sites only; other values are returned).
// It is the administrator's mapping for first access only: once a user
// has a site, their sites are managed in mocpcr, and "every site" is
// never granted this way.
func grantEntraSites(ctx context.Context, tx *sql.Tx, userID int64, c *EntraClaims) (unknown []string, err error) {
	var codes []string
	for _, r := range c.Roles {
		if code, ok := siteRoleCode(r); ok {
			codes = append(codes, code)
		}
	}
	if len(codes) == 0 {
		return nil, nil
	}
	u, err := UserByID(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	if !u.NoSite() {
		return nil, nil
	}
	var ids []int64
	for _, code := range codes {
		site, err := SiteByCode(ctx, tx, code)
		if errors.Is(err, store.ErrNotFound) || err == nil && site.Retired() {
			unknown = append(unknown, siteRolePrefix+code)
			continue
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ids, site.ID) {
			ids = append(ids, site.ID)
		}
	}
	if len(ids) == 0 {
		return unknown, nil
	}
	return unknown, SetSites(ctx, tx, userID, false, ids)
}

// linkPrecreated finds the account an administrator created for this
// person before their first sign-in: not linked to any Entra ID identity
// yet, with the token's email (or preferred_username) as its address.
// sql.ErrNoRows when there is none.
func linkPrecreated(ctx context.Context, tx *sql.Tx, c *EntraClaims) (id int64, disabled bool, err error) {
	email := c.EmailAddress()
	if email == "" {
		return 0, false, sql.ErrNoRows
	}
	err = tx.QueryRowContext(ctx, `SELECT id, disabled FROM users WHERE entra_oid IS NULL AND lower(email) = lower($1)`, email).Scan(&id, &disabled)
	return id, disabled, err
}

// refreshEntraProfile records the tenant and object id and refreshes the
// name, and the email from the email claim only. A just-linked or
// just-created account (known false) keeps the address it was found by.
func refreshEntraProfile(ctx context.Context, tx *sql.Tx, id int64, c *EntraClaims, known bool, now time.Time) error {
	var email any
	if e := c.emailClaim(); e != "" && known {
		email = e
	}
	name := strings.TrimSpace(c.Name)
	_, err := tx.ExecContext(ctx, `UPDATE users SET entra_oid = $1, entra_tid = $2, name = CASE WHEN $3 = '' THEN name ELSE $3 END,
		email = COALESCE($4, email), updated_at = $5 WHERE id = $6`, c.OID, c.TID, name, email, now.UTC(), id)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("another mocpcr user already has the email %s; ask an administrator", c.emailClaim())
	}
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return nil
}

// ConfirmEntraReauth applies a re-authentication's verified claims to the
// signed-in user: they must be the same account (tid + oid, else
// ErrOtherAccount) and not disabled, and the fresh token's roles replace
// the Entra-sourced ones before any signature is checked, so a role
// withdrawn in Entra ID cannot sign. Unknown role values are returned.
func ConfirmEntraReauth(ctx context.Context, db *store.DB, userID int64, c *EntraClaims, now time.Time) (ignored []string, err error) {
	roles, ignored := entraRoles(c)
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		var oid, tid sql.NullString
		var disabled bool
		if err := tx.QueryRowContext(ctx, `SELECT entra_oid, entra_tid, disabled FROM users WHERE id = $1`, userID).Scan(&oid, &tid, &disabled); err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		if oid.String != c.OID || tid.Valid && !strings.EqualFold(tid.String, c.TID) {
			return ErrOtherAccount
		}
		if disabled {
			return ErrDisabled
		}
		if err := refreshEntraProfile(ctx, tx, userID, c, true, now); err != nil {
			return err
		}
		return setRoles(ctx, tx, userID, roles, roleSourceEntra)
	})
	return ignored, err
}
