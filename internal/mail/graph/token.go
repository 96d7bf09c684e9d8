package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
)

// accessToken is one client-credentials token and the times that matter.
type accessToken struct {
	value     string
	expiry    time.Time // when Entra ID says it stops working
	refreshAt time.Time // when the cache starts fetching the next one
}

func (t accessToken) validAt(now time.Time) bool {
	return t.value != "" && now.Before(t.expiry)
}

// tokenCache holds the client-credentials token for one Client.
//
// It is written here rather than taken from golang.org/x/oauth2 because
// oauth2.ReuseTokenSource does not meet the token rules of the setup guide
// and the email issue:
//   - it holds its mutex for the whole refresh, so every caller blocks on a
//     slow Entra ID even while the current token is still valid for two
//     more minutes; here callers keep using the valid token and one
//     background fetch replaces it;
//   - it does not remember failures, so a wrong secret sends one token
//     request per email; here a failure is remembered for TokenFailureTTL
//     and returned without asking Entra ID again;
//   - clientcredentials' AuthStyleAutoDetect retries a failed request with
//     the other auth style, doubling every failed request (and the noise
//     in Entra's sign-in logs).
//
// Rules: a cold or expired cache causes exactly one token request however
// many callers arrive (single flight); a token is reused until
// expires_in - RefreshBefore, computed from the response, never assumed.
type tokenCache struct {
	fetch      func(ctx context.Context) (accessToken, error)
	now        func() time.Time
	timeout    time.Duration
	failureTTL time.Duration
	// refreshFailed, when set, is told about a failed fetch that no
	// caller waited for: a refresh while the current token, valid until
	// the time given, is still handed out.
	refreshFailed func(err error, validUntil time.Time)

	mu        sync.Mutex
	tok       accessToken
	fail      error     // last fetch failure, returned until failUntil
	failUntil time.Time // on the c.now clock
	flight    *tokenFlight
}

// tokenFlight is one token request in progress; done closes when it ends.
type tokenFlight struct {
	done chan struct{}
	tok  accessToken
	err  error
}

// get returns a usable token. It waits only when there is no valid token.
func (c *tokenCache) get(ctx context.Context) (accessToken, error) {
	c.mu.Lock()
	now := c.now()
	if c.tok.value != "" && now.Before(c.tok.refreshAt) {
		tok := c.tok
		c.mu.Unlock()
		return tok, nil
	}
	valid := c.tok.validAt(now)
	recentFailure := c.fail != nil && now.Before(c.failUntil)
	switch {
	case valid && (c.flight != nil || recentFailure):
		// Refresh window: someone is already refreshing, or the refresh
		// failed moments ago. The current token still works; use it.
		tok := c.tok
		c.mu.Unlock()
		return tok, nil
	case !valid && c.flight == nil && recentFailure:
		err := c.fail
		c.mu.Unlock()
		return accessToken{}, err
	}
	f := c.flight
	if f == nil {
		f = &tokenFlight{done: make(chan struct{})}
		c.flight = f
		// The fetch runs on its own goroutine with its own timeout, so that
		// one caller giving up (its context cancelled) does not fail the
		// others waiting on the same flight. It ends within c.timeout.
		go c.run(f)
	}
	if valid {
		tok := c.tok
		c.mu.Unlock()
		return tok, nil
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return accessToken{}, ctx.Err()
	}
}

func (c *tokenCache) run(f *tokenFlight) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	tok, err := c.fetch(ctx)

	c.mu.Lock()
	var background bool
	var validUntil time.Time
	if err != nil {
		c.fail, c.failUntil = err, c.now().Add(c.failureTTL)
		background, validUntil = c.tok.validAt(c.now()), c.tok.expiry
	} else {
		c.tok, c.fail = tok, nil
	}
	c.flight = nil
	f.tok, f.err = tok, err
	close(f.done)
	c.mu.Unlock()
	if background && c.refreshFailed != nil {
		c.refreshFailed(err, validUntil)
	}
}

// forgetFailure drops a remembered failure, so that the next get asks
// Entra ID again even within failureTTL: an administrator who has just
// fixed the secret and presses Retry all must not be answered with the
// failure of a minute ago.
func (c *tokenCache) forgetFailure() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail, c.failUntil = nil, time.Time{}
}

// recheck asks Entra ID for a token now, whatever failure it remembers,
// unless the cache holds a token not yet due for renewal (then asked is
// false and that token is returned: Entra ID would answer the same). A
// request already in flight began before the caller's fix, so recheck
// waits for it and then asks again if it failed.
func (c *tokenCache) recheck(ctx context.Context) (tok accessToken, asked bool, err error) {
	c.mu.Lock()
	if c.tok.value != "" && c.now().Before(c.tok.refreshAt) {
		tok = c.tok
		c.mu.Unlock()
		return tok, false, nil
	}
	old := c.flight
	c.mu.Unlock()
	if old != nil {
		select {
		case <-old.done:
		case <-ctx.Done():
			return accessToken{}, false, ctx.Err()
		}
		if old.err == nil {
			// Its request was sent before the fix but answered now:
			// what Entra ID says now.
			return old.tok, true, nil
		}
	}
	c.forgetFailure()
	tok, err = c.get(ctx)
	return tok, true, err
}

// invalidate drops value from the cache after Graph rejected it, so that
// the next get fetches a new token. A token another caller has already
// replaced is left alone, so many 401s for one token cause one new fetch.
func (c *tokenCache) invalidate(value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.value == value {
		c.tok = accessToken{}
		// A 401 is new evidence; do not answer it with an older failure.
		c.fail = nil
	}
}

// tokenResponse is the identity platform's answer, success or failure.
type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        json.RawMessage `json:"expires_in"` // a number in v2.0, a string in v1.0
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
	ErrorCodes       []int           `json:"error_codes"`
}

// requestToken performs one client-credentials request.
func (c *Client) requestToken(ctx context.Context) (accessToken, error) {
	c.stats.tokenRequests.Add(1)
	tok, err := c.doTokenRequest(ctx)
	if err != nil {
		c.stats.tokenFailures.Add(1)
		// Debug: the emails waiting for this token report the failure;
		// a background refresh failure is warned about by the cache.
		c.log.Debug("graph token request failed", "error", err.Error())
		return accessToken{}, err
	}
	c.log.Debug("graph token acquired", "expires_at", tok.expiry, "refresh_at", tok.refreshAt)
	return tok, nil
}

func (c *Client) doTokenRequest(ctx context.Context) (accessToken, error) {
	form := url.Values{
		"grant_type": {"client_credentials"},
		"client_id":  {c.cfg.ClientID},
		"scope":      {c.cfg.GraphEndpoint + "/.default"},
	}
	endpoint := c.cfg.AuthorityHost + "/" + url.PathEscape(c.cfg.TenantID) + "/oauth2/v2.0/token"
	// The credential, most trusted first: a certificate, a federated
	// token, a secret.
	switch {
	case c.cert != nil:
		if why := c.cert.Validity(c.cfg.Now()); why != "" {
			return accessToken{}, c.credentialError(why)
		}
		assertion, err := c.cert.Assertion(c.cfg.ClientID, endpoint, c.cfg.Now())
		if err != nil {
			return accessToken{}, c.credentialError(err.Error())
		}
		form.Set("client_assertion_type", ClientAssertionType)
		form.Set("client_assertion", assertion)
	case c.cfg.FederatedTokenFile != "":
		assertion, err := federatedAssertion(c.cfg.FederatedTokenFile)
		if err != nil {
			return accessToken{}, c.credentialError(err.Error())
		}
		form.Set("client_assertion_type", ClientAssertionType)
		form.Set("client_assertion", assertion)
	default:
		form.Set("client_secret", c.secret.value)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return accessToken{}, c.tokenError(0, "invalid_request", err.Error(), 0)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	start := c.cfg.Now()
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		e := c.tokenError(0, networkCode(err), err.Error(), 0)
		e.Err = err
		return accessToken{}, e
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))

	var tr tokenResponse
	jsonErr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		if jsonErr != nil || tr.Error == "" {
			return accessToken{}, c.tokenError(resp.StatusCode, "http_"+strconv.Itoa(resp.StatusCode), snippet(body), 0)
		}
		code := 0
		if len(tr.ErrorCodes) > 0 {
			code = tr.ErrorCodes[0]
		}
		return accessToken{}, c.tokenError(resp.StatusCode, tr.Error, tr.ErrorDescription, code)
	}
	seconds, err := strconv.Atoi(strings.Trim(string(tr.ExpiresIn), `"`))
	if err != nil || seconds <= 0 {
		return accessToken{}, c.tokenError(resp.StatusCode, "invalid_response", "the token response has no usable expires_in", 0)
	}
	life := time.Duration(seconds) * time.Second
	// Refresh RefreshBefore ahead of expiry; for unusually short-lived
	// tokens, at half their life so that a token is used at all.
	lead := min(RefreshBefore, life/2)
	expiry := start.Add(life)
	return accessToken{value: tr.AccessToken, expiry: expiry, refreshAt: expiry.Add(-lead)}, nil
}

// credentialError is a credential this process cannot use (an expired
// certificate, an unreadable token file): no request is made, and every
// email fails the same way until it is fixed.
func (c *Client) credentialError(why string) *mail.Error {
	return &mail.Error{Code: "invalid_client", Message: why, Misconfigured: true,
		Text: "Graph token request failed: invalid_client: " + why}
}

var aadstsPattern = regexp.MustCompile(`AADSTS(\d+)`)

// tokenError builds the admin-facing error for a failed token request:
// "Graph token request failed: <error>: <error_description>" and a hint.
func (c *Client) tokenError(status int, code, description string, aadsts int) *mail.Error {
	description = c.redact(strings.Join(strings.Fields(description), " "))
	if aadsts == 0 {
		if m := aadstsPattern.FindStringSubmatch(description); m != nil {
			aadsts, _ = strconv.Atoi(m[1])
		}
	}
	retryable := status == 0 || status == http.StatusTooManyRequests || status >= 500
	var hint string
	switch {
	case aadsts == 7000215:
		hint = "the client secret is wrong: most often the Secret ID was pasted instead of the secret Value; check AZURE_CLIENT_SECRET"
	case aadsts == 700027:
		hint = "Entra ID does not accept the certificate's signature: upload this certificate (thumbprint " + c.certThumbprint() + ") to the app registration under Certificates & secrets → Certificates, or renew it if it expired"
	case aadsts == 70021:
		hint = "no federated identity credential of the app registration matches this token's issuer and subject: add one under Certificates & secrets → Federated credentials (for Kubernetes: the cluster's OIDC issuer and system:serviceaccount:NAMESPACE:NAME)"
	case aadsts == 700024:
		hint = "the client assertion is outside its valid time: check that the system clock is accurate, and that AZURE_FEDERATED_TOKEN_FILE is being refreshed"
	case aadsts == 7000222:
		hint = "the client secret has expired: create a new one and put its Value in AZURE_CLIENT_SECRET (setup guide Part 4, Secret Rotation)"
	case aadsts == 700016:
		hint = "the application was not found in the tenant: check AZURE_CLIENT_ID and AZURE_TENANT_ID"
	case aadsts == 90002:
		hint = "the tenant was not found: check AZURE_TENANT_ID (and AZURE_AUTHORITY_HOST for a national cloud)"
	case aadsts == 500011 || code == "invalid_resource":
		// The scope is GRAPH_ENDPOINT + "/.default": the Entra ID at
		// AZURE_AUTHORITY_HOST does not know that Graph, which is what a
		// national cloud answers when only one of the two was changed.
		hint = "Microsoft Entra ID at AZURE_AUTHORITY_HOST (" + c.cfg.AuthorityHost + ") does not know the Microsoft Graph of GRAPH_ENDPOINT (" + c.cfg.GraphEndpoint +
			"): check that GRAPH_ENDPOINT and AZURE_AUTHORITY_HOST match the same cloud (both global, or both the same national cloud)"
	case aadsts == 70011 || aadsts == 1002012 || code == "invalid_scope":
		hint = "the scope was rejected: check GRAPH_ENDPOINT"
	case code == "canceled":
		hint = "the wait for a token was cancelled (shutdown or caller deadline)"
	case retryable:
		hint = "Microsoft Entra ID could not be reached or failed (temporary); check that this server can reach " + c.cfg.AuthorityHost
	default:
		hint = "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, and that the secret has not expired"
	}
	return &mail.Error{
		Status:        status,
		Code:          code,
		Message:       description,
		Retryable:     retryable,
		Misconfigured: !retryable,
		Text:          fmt.Sprintf("Graph token request failed: %s: %s — %s", code, description, hint),
	}
}

func (c *Client) certThumbprint() string {
	if c.cert == nil {
		return "unknown"
	}
	return c.cert.Thumbprint()
}
