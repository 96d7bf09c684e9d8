package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mocpcr/mocpcr/internal/store"
)

// EntraConfig is the app registration used for single sign-on (the same
// one that sends email).
type EntraConfig struct {
	AuthorityHost string // AZURE_AUTHORITY_HOST, e.g. https://login.microsoftonline.com
	TenantID      string
	ClientID      string
	ClientSecret  string
	// RedirectURL is {MOCPCR_BASE_URL}/auth/callback.
	RedirectURL string
	// HTTPClient talks to Entra ID; nil means a client with a timeout.
	HTTPClient *http.Client
	// Now checks token expiry; nil means time.Now.
	Now func() time.Time
}

// Entra signs users in with Microsoft Entra ID (OpenID Connect
// authorization code flow with PKCE, state and nonce).
type Entra struct {
	cfg EntraConfig

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
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
	// Signature, issuer, audience (our client id) and expiry are checked
	// by the verifier; the nonce is compared in Exchange.
	e.verifier = p.VerifierContext(e.ctx(context.WithoutCancel(ctx)), &oidc.Config{ClientID: e.cfg.ClientID, Now: e.cfg.Now})
	return e.oauth, e.verifier, nil
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
// with state, nonce and the PKCE challenge.
func (e *Entra) AuthCodeURL(ctx context.Context, f *EntraFlow) (string, error) {
	oc, _, err := e.setup(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if f.Reauth {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	return oc.AuthCodeURL(f.State, opts...), nil
}

// EntraClaims are the ID token claims mocpcr uses.
type EntraClaims struct {
	OID               string   `json:"oid"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	Roles             []string `json:"roles"`
	Nonce             string   `json:"nonce"`
	AuthTime          int64    `json:"auth_time"`
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
// verifies the ID token (signature, issuer, audience, expiry) and its
// nonce, and returns its claims.
func (e *Entra) Exchange(ctx context.Context, f *EntraFlow, code string) (*EntraClaims, error) {
	oc, verifier, err := e.setup(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := oc.Exchange(e.ctx(ctx), code, oauth2.VerifierOption(f.Verifier))
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
	if f.Reauth && c.AuthTime != 0 && time.Unix(c.AuthTime, 0).Before(f.CreatedAt.Add(-time.Minute)) {
		return nil, errors.New("Entra ID did not ask for the password again; re-authentication needs a fresh sign-in")
	}
	return &c, nil
}

// ErrDisabled refuses sign-in for a disabled account.
var ErrDisabled = errors.New("this account is disabled; ask an administrator")

// UpsertEntraUser finds or creates the user for verified claims. The
// user is found by oid, or else by email (an administrator may create the
// account before the first sign-in); name and email are refreshed from
// the token, and the token's roles replace the user's Entra-sourced roles
// (roles assigned in mocpcr are kept). Unknown role values are returned
// in ignored.
func UpsertEntraUser(ctx context.Context, db *store.DB, c *EntraClaims, now time.Time) (u *User, ignored []string, err error) {
	email := c.EmailAddress()
	if email == "" {
		return nil, nil, errors.New("the ID token has no email address: add the email optional claim or the email scope (see the README)")
	}
	name := strings.TrimSpace(c.Name)
	if name == "" {
		name = email
	}
	var roles []Role
	for _, r := range c.Roles {
		if role, err := ParseRole(r); err == nil {
			roles = append(roles, role)
		} else {
			ignored = append(ignored, r)
		}
	}
	defer UsersChanged() // after commit: name, email and roles may have changed
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		var disabled bool
		err := tx.QueryRowContext(ctx, `SELECT id, disabled FROM users WHERE entra_oid = $1`, c.OID).Scan(&id, &disabled)
		if errors.Is(err, sql.ErrNoRows) {
			var oid sql.NullString
			err = tx.QueryRowContext(ctx, `SELECT id, disabled, entra_oid FROM users WHERE lower(email) = lower($1)`, email).Scan(&id, &disabled, &oid)
			if err == nil && oid.Valid && oid.String != c.OID {
				return fmt.Errorf("another Entra ID account already uses the email %s in mocpcr; ask an administrator", email)
			}
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// No site: a tenant's every user can sign in, but only an
			// administrator decides where they work.
			nu, err := createUser(ctx, tx, NewUser{Email: email, Name: name, EntraOID: c.OID})
			if err != nil {
				return err
			}
			id = nu.ID
		case err != nil:
			return fmt.Errorf("find user: %w", err)
		case disabled:
			return ErrDisabled
		default:
			_, err := tx.ExecContext(ctx, `UPDATE users SET entra_oid = $1, name = $2, email = $3, updated_at = $4 WHERE id = $5`,
				c.OID, name, email, now.UTC(), id)
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("another mocpcr user already has the email %s; ask an administrator", email)
			}
			if err != nil {
				return fmt.Errorf("update user: %w", err)
			}
		}
		if err := setRoles(ctx, tx, id, roles, roleSourceEntra); err != nil {
			return err
		}
		u, err = UserByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return u, ignored, nil
}
