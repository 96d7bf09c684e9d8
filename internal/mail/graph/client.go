// Package graph sends mocpcr's email through Microsoft Graph sendMail,
// authenticating with the client-credentials grant against Microsoft
// Entra ID, as described in the Azure email setup guide.
//
// It uses only net/http: one token request cached in memory (see
// tokenCache), one POST per message.
package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
)

// MaxRequestBytes is Graph's limit on one sendMail request body.
const MaxRequestBytes = 4 << 20

// Client is a mail.Provider that sends through Microsoft Graph. It is safe
// for concurrent use; create one per process and reuse it.
type Client struct {
	cfg    Config // ClientSecret cleared; see secret
	secret *secretValue
	// cert, when set, signs client assertions instead of the secret.
	cert   *Certificate
	log    *slog.Logger
	tokens *tokenCache
	// slots caps the sends in flight from each sender mailbox; the job
	// queue shares them (SendSlots).
	slots *mail.MailboxSlots
	stats counters
}

var _ mail.Limited = (*Client)(nil)

// secretValue keeps the client secret behind a pointer, so that printing
// a Client or its fields with %+v shows an address, never the secret.
type secretValue struct{ value string }

func (*secretValue) String() string   { return redacted }
func (*secretValue) GoString() string { return redacted }

type counters struct {
	tokenRequests, tokenFailures, sent, failed atomic.Int64
}

// Stats are running totals since the Client was created.
type Stats struct {
	TokenRequests int64 // HTTP requests to the token endpoint
	TokenFailures int64 // token requests that failed
	Sent          int64 // messages Graph accepted
	Failed        int64 // Send calls that returned an error
}

// New checks cfg, fills its defaults and returns a Client. Missing values
// are reported with the guide's variable names, e.g.
// "GRAPH_MAIL_SENDER env variable is missing".
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{
		secret: &secretValue{value: cfg.ClientSecret},
		log:    cfg.Logger.With("provider", "graph", "sender", cfg.Sender),
		slots:  mail.NewMailboxSlots(cfg.MaxConcurrent),
	}
	cfg.ClientSecret = ""
	if cfg.ClientCertificatePath != "" {
		if c.cert, err = LoadCertificate(cfg.ClientCertificatePath); err != nil {
			return nil, err
		}
	}
	c.cfg = cfg
	c.tokens = &tokenCache{
		fetch:      c.requestToken,
		now:        cfg.Now,
		timeout:    cfg.RequestTimeout,
		failureTTL: cfg.TokenFailureTTL,
		refreshFailed: func(err error, validUntil time.Time) {
			c.log.Warn("graph token refresh failed; the current token is used until it expires", "error", err.Error(), "expires_at", validUntil)
		},
	}
	return c, nil
}

// SendSlots implements mail.Limited: sender's MaxConcurrent send slots,
// (GRAPH_MAIL_SENDER's when sender is empty), which every Send from that
// mailbox takes one of unless its context already holds one
// (mail.Slots.WithHeld).
func (c *Client) SendSlots(sender string) *mail.Slots {
	if sender == "" {
		sender = c.cfg.Sender
	}
	return c.slots.For(sender)
}

// Name implements mail.Provider.
func (c *Client) Name() string { return "graph" }

// String describes the Client without credentials.
func (c *Client) String() string { return "graph.Client{sender=" + c.cfg.Sender + "}" }

// GoString is used by %#v; it describes the Client without credentials.
func (c *Client) GoString() string { return c.String() }

// Stats returns the running totals.
func (c *Client) Stats() Stats {
	return Stats{
		TokenRequests: c.stats.tokenRequests.Load(),
		TokenFailures: c.stats.tokenFailures.Load(),
		Sent:          c.stats.sent.Load(),
		Failed:        c.stats.failed.Load(),
	}
}

// TokenStatus is what Check reports about the cached token.
type TokenStatus struct {
	ExpiresAt time.Time // when the token stops working
	RefreshAt time.Time // when the cache will fetch the next one
}

// Certificate is the client certificate the client signs its assertions
// with, nil when it uses a secret or a federated token.
func (c *Client) Certificate() *Certificate { return c.cert }

// Credential names what the client authenticates with, for messages.
func (c *Client) Credential() string {
	switch {
	case c.cert != nil:
		return "client certificate (AZURE_CLIENT_CERTIFICATE_PATH)"
	case c.cfg.FederatedTokenFile != "":
		return "federated token (AZURE_FEDERATED_TOKEN_FILE)"
	}
	return "client secret (AZURE_CLIENT_SECRET)"
}

// Check acquires a token (from the cache when it holds one) and reports
// it, or the failure as a *mail.Error whose text names the variable to fix.
// It backs `mocpcr email check`. It does not send mail, so it cannot tell
// whether Mail.Send is granted or the sender mailbox exists.
func (c *Client) Check(ctx context.Context) (TokenStatus, error) {
	tok, err := c.token(ctx)
	if err != nil {
		return TokenStatus{}, err
	}
	return TokenStatus{ExpiresAt: tok.expiry, RefreshAt: tok.refreshAt}, nil
}

// CheckSender proves, without sending anything, that this application may
// send as sender (GRAPH_MAIL_SENDER or a site's sender mailbox): Mail.Send
// is granted with consent, no application access policy or RBAC scope
// excludes the mailbox, and the mailbox exists with an Exchange Online
// licence. It posts a sendMail with no recipient: Graph checks the token,
// the permission and the mailbox before the message, so an answer of 400
// ErrorInvalidRecipients means all of those passed and nothing was sent,
// while any other failure is returned as a *mail.Error in the guide's
// words, naming where the sender is set. `mocpcr email check` calls it for
// every configured sender.
func (c *Client) CheckSender(ctx context.Context, sender string) error {
	probe := sendMailRequest{Message: graphMessage{
		Subject:      "mocpcr email check (no recipient: never sent)",
		Body:         itemBody{ContentType: "Text", Content: "mocpcr email check"},
		ToRecipients: []recipient{},
	}}
	body, err := json.Marshal(probe)
	if err != nil {
		return err
	}
	_, err = c.postWithToken(ctx, sender, body)
	if me, ok := mail.AsError(err); ok && me.Status == http.StatusBadRequest && me.Code == "ErrorInvalidRecipients" {
		return nil
	}
	if err == nil {
		// Graph accepted a message without recipients: nothing can
		// have been delivered, and the sender works.
		return nil
	}
	return err
}

// Recheck asks Entra ID for a token now, even within TokenFailureTTL of a
// refusal it remembers (and after a request in flight that began before
// the fix), unless it holds a token that is not yet due for renewal.
// "Retry all" calls it, so that a fix is seen at once and it can say what
// happened: asked is whether Entra ID was asked, err its refusal.
func (c *Client) Recheck(ctx context.Context) (asked bool, err error) {
	_, asked, err = c.tokens.recheck(ctx)
	if err != nil {
		if _, ok := mail.AsError(err); !ok {
			e := c.tokenError(0, networkCode(err), err.Error(), 0)
			e.Err = err
			err = e
		}
	}
	return asked, err
}

func (c *Client) token(ctx context.Context) (accessToken, error) {
	tok, err := c.tokens.get(ctx)
	if err == nil {
		return tok, nil
	}
	if _, ok := mail.AsError(err); ok {
		return tok, err
	}
	// The caller's context ended while waiting for the token.
	e := c.tokenError(0, networkCode(err), err.Error(), 0)
	e.Err = err
	return tok, e
}

// Send implements mail.Provider. Errors are *mail.Error with the guide's
// text ("Graph email failed: 403 ErrorAccessDenied: ... (request-id: ...)").
func (c *Client) Send(ctx context.Context, msg mail.Message) (mail.Result, error) {
	res, err := c.send(ctx, msg)
	if err != nil {
		c.stats.failed.Add(1)
		// Debug: the caller logs the failure once, with the email's ids.
		c.log.Debug("graph email failed", "error", err.Error(), "recipients", len(msg.To)+len(msg.Cc))
		return res, err
	}
	c.stats.sent.Add(1)
	c.log.Debug("graph email sent", "request_id", res.RequestID, "recipients", len(msg.To)+len(msg.Cc))
	return res, nil
}

func (c *Client) send(ctx context.Context, msg mail.Message) (mail.Result, error) {
	if err := msg.Validate(); err != nil {
		return mail.Result{}, err
	}
	body, err := json.Marshal(c.request(msg))
	if err != nil {
		return mail.Result{}, mail.InvalidMessage("the message cannot be encoded as JSON: " + err.Error())
	}
	if len(body) > MaxRequestBytes {
		return mail.Result{}, mail.InvalidMessage(fmt.Sprintf("the message is %d bytes as a Graph request; Microsoft Graph accepts at most %d (4 MB)", len(body), MaxRequestBytes))
	}
	return c.postWithToken(ctx, c.senderOf(msg), body)
}

// senderOf is the mailbox msg is sent from: its own From (a site's
// sender), or GRAPH_MAIL_SENDER.
func (c *Client) senderOf(msg mail.Message) string {
	if msg.From != "" {
		return msg.From
	}
	return c.cfg.Sender
}

// postWithToken posts body to sender's sendMail with the cached token,
// within the mailbox's concurrency limit, and retries once with a new
// token when Graph rejects the one it had.
func (c *Client) postWithToken(ctx context.Context, sender string, body []byte) (mail.Result, error) {
	// Wait for the token before taking a mailbox slot, so a slow Entra ID
	// does not hold slots that other senders with a token could use.
	tok, err := c.token(ctx)
	if err != nil {
		return mail.Result{}, err
	}
	if slots := c.slots.For(sender); !slots.Held(ctx) {
		if err := slots.Acquire(ctx); err != nil {
			return mail.Result{}, c.networkError(err, "")
		}
		defer slots.Release()
	}

	res, gerr := c.post(ctx, tok.value, sender, body)
	if gerr == nil || gerr.Status != http.StatusUnauthorized {
		return res, asError(gerr)
	}
	// The token was rejected (revoked, clock skew, expired mid-request):
	// drop it, fetch a new one and retry this email once.
	c.log.Debug("graph rejected the access token; fetching a new one and retrying once", "request_id", gerr.RequestID)
	c.tokens.invalidate(tok.value)
	if tok, err = c.token(ctx); err != nil {
		return mail.Result{}, err
	}
	res, gerr = c.post(ctx, tok.value, sender, body)
	return res, asError(gerr)
}

// asError keeps a nil *mail.Error from becoming a non-nil error.
func asError(e *mail.Error) error {
	if e == nil {
		return nil
	}
	return e
}

type (
	sendMailRequest struct {
		Message         graphMessage `json:"message"`
		SaveToSentItems bool         `json:"saveToSentItems"`
	}
	graphMessage struct {
		Subject                string           `json:"subject"`
		Body                   itemBody         `json:"body"`
		ToRecipients           []recipient      `json:"toRecipients"`
		CcRecipients           []recipient      `json:"ccRecipients,omitempty"`
		InternetMessageHeaders []internetHeader `json:"internetMessageHeaders,omitempty"`
	}
	itemBody struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	}
	recipient struct {
		EmailAddress emailAddress `json:"emailAddress"`
	}
	emailAddress struct {
		Address string `json:"address"`
		Name    string `json:"name,omitempty"`
	}
	internetHeader struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
)

func (c *Client) request(msg mail.Message) sendMailRequest {
	r := sendMailRequest{
		Message: graphMessage{
			Subject:      msg.Subject,
			Body:         itemBody{ContentType: "HTML", Content: msg.HTMLBody},
			ToRecipients: recipients(msg.To),
			CcRecipients: recipients(msg.Cc),
		},
		SaveToSentItems: c.cfg.SaveToSentItems,
	}
	for _, name := range msg.HeaderNames() {
		r.Message.InternetMessageHeaders = append(r.Message.InternetMessageHeaders, internetHeader{name, msg.Headers[name]})
	}
	return r
}

func recipients(list []mail.Address) []recipient {
	if len(list) == 0 {
		return nil
	}
	out := make([]recipient, len(list))
	for i, a := range list {
		out[i] = recipient{emailAddress{Address: a.Email, Name: a.Name}}
	}
	return out
}

// graphErrorBody is Graph's error envelope.
type graphErrorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// post makes one sendMail request.
func (c *Client) post(ctx context.Context, token, sender string, body []byte) (mail.Result, *mail.Error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	endpoint := c.cfg.GraphEndpoint + "/v1.0/users/" + url.PathEscape(sender) + "/sendMail"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return mail.Result{}, c.networkError(err, "")
	}
	clientRequestID := newUUID()
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", clientRequestID)
	req.Header.Set("return-client-request-id", "true")

	// Whether the request was written decides what a failure without an
	// answer means: not sent at all, or perhaps accepted by Graph.
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	}))
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		e := c.networkError(err, clientRequestID)
		e.MaybeDelivered = wrote.Load()
		return mail.Result{}, e
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	requestID := resp.Header.Get("request-id")
	if resp.StatusCode/100 == 2 {
		return mail.Result{RequestID: requestID, ClientRequestID: clientRequestID}, nil
	}

	var ge graphErrorBody
	_ = json.Unmarshal(raw, &ge)
	code, message := ge.Error.Code, strings.Join(strings.Fields(ge.Error.Message), " ")
	if code == "" {
		code = strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "")
	}
	if message == "" {
		message = snippet(raw)
	}
	if requestID == "" {
		requestID = ge.Error.InnerError.RequestID
	}
	e := &mail.Error{
		Status:          resp.StatusCode,
		Code:            code,
		Message:         c.redact(message),
		RequestID:       requestID,
		ClientRequestID: clientRequestID,
	}
	var hint string
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests || s == http.StatusInternalServerError || s == http.StatusBadGateway ||
		s == http.StatusServiceUnavailable || s == http.StatusGatewayTimeout:
		e.Retryable = true
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.cfg.Now())
		// The hints say what happened, not what happens next: the queue
		// retries, `mocpcr email test` does not, and each says so itself.
		if s == http.StatusTooManyRequests {
			hint = "Microsoft Graph is throttling this mailbox (temporary)"
		} else {
			hint = "Microsoft Graph is unavailable (temporary)"
		}
	case s == http.StatusUnauthorized:
		// Only the 401 after the retry with a new token gets here. It is
		// retryable: a token revoked or expired mid-request, or a replica
		// or service out of step, usually recovers on the next call (the
		// guide: "Should auto-recover on next call"). A lasting cause (a
		// wrong clock, the sender in another tenant) still ends in the
		// queue's give-up after MOCPCR_EMAIL_MAX_ATTEMPTS attempts.
		e.Retryable = true
		hint = "the access token was rejected even after fetching a new one; this usually recovers by itself: if it lasts, check that the system clock is accurate and that AZURE_TENANT_ID is the sender's tenant"
	case s == http.StatusForbidden:
		e.Misconfigured = true
		hint = "Mail.Send permission not granted, or admin consent not given: in the Azure Portal open the app registration → API permissions → add Microsoft Graph Mail.Send (Application) → Grant admin consent"
	case s == http.StatusNotFound:
		e.Misconfigured = true
		hint = "the sender mailbox does not exist or has no Exchange licence: confirm that " + c.senderLabel(sender) + " exists and has an active Microsoft 365 / Exchange Online licence, or is a shared mailbox"
	case s == http.StatusRequestEntityTooLarge:
		hint = "the message is too large for Microsoft Graph"
	default:
		hint = "Microsoft Graph rejected the message; sending it again will not help"
	}
	if h, misconfigured := c.codeHint(e, sender); h != "" {
		hint = h
		e.Misconfigured = e.Misconfigured || misconfigured
	}
	e.Text = fmt.Sprintf("Graph email failed: %d %s: %s%s — %s", e.Status, e.Code, e.Message, idSuffix(requestID, clientRequestID), hint)
	return mail.Result{}, e
}

// codeHint is the plain-words cause and fix for the Graph and Exchange
// error codes an administrator meets, more precise than the status alone;
// misconfigured says every email will fail the same way until someone
// acts. "" for codes the status's hint covers.
func (c *Client) codeHint(e *mail.Error, mailbox string) (hint string, misconfigured bool) {
	sender := c.senderLabel(mailbox)
	switch {
	case e.Code == "ErrorSendAsDenied":
		return "Exchange refused to send as " + sender + ": the address must be the mailbox itself (a user or shared mailbox, by its primary address), not a distribution group, an alias of another mailbox or a mailbox this application has no right to send as", true
	case e.Code == "MailboxNotEnabledForRESTAPI":
		return "the sender mailbox does not exist or has no Exchange licence: " + sender + " has no Exchange Online mailbox Graph can use: it has no Exchange Online licence, is a guest account, is hosted on-premises (hybrid), or was deleted and is soft-deleted; use a licensed or shared Exchange Online mailbox", true
	case e.Code == "ErrorInvalidUser":
		return "the sender mailbox does not exist or has no Exchange licence: no user or mailbox " + sender + " exists in tenant AZURE_TENANT_ID; check the address for typos and that it belongs to this tenant", true
	case e.Code == "ErrorQuotaExceeded":
		return "the sender mailbox " + sender + " is full: sendMail saves every message as a draft first (and in Sent Items), so a mailbox over its quota cannot send; empty its Sent Items and Deleted Items or raise its quota, and consider GRAPH_SAVE_TO_SENT_ITEMS=false", true
	case e.Code == "ErrorMessageSubmissionBlocked":
		return "Exchange Online has blocked " + sender + " from sending, most often for going over its limit of 10,000 recipients a day (or for suspected spam): an Exchange administrator can release it in the Microsoft Defender portal (Email & collaboration → Review → Restricted entities); otherwise the block lifts after 24 hours. Lower MOCPCR_EMAIL_DAILY_RECIPIENTS to keep a margin", true
	case e.Code == "ErrorAccessDenied" && strings.Contains(e.Message, "Access to OData is disabled"):
		return "an application access policy or Exchange Online RBAC for Applications scope excludes " + sender + ": add the sender mailbox to the application's scope (README: Restricting the app to the sender mailbox), or fix GRAPH_MAIL_SENDER", true
	case e.Code == "ApplicationThrottled":
		limit := "its limits for this mailbox"
		switch {
		case strings.Contains(e.Message, "MailboxConcurrency"):
			limit = "4 requests at once to this mailbox (another application or replica may be sending from it too: GRAPH_MAX_CONCURRENT_SENDS is per process)"
		case strings.Contains(e.Message, "RequestRate"):
			limit = "10,000 requests in 10 minutes to this mailbox"
		}
		return "Microsoft Graph is throttling this mailbox (temporary): the application went over " + limit + "; no email is sent from " + sender + " until the Retry-After has passed", false
	}
	return "", false
}

// senderLabel names a sender mailbox for the hints by where it is set:
// GRAPH_MAIL_SENDER, or a site's settings.
func (c *Client) senderLabel(sender string) string {
	if strings.EqualFold(sender, c.cfg.Sender) {
		return "GRAPH_MAIL_SENDER (" + c.cfg.Sender + ")"
	}
	return "the site sender mailbox " + sender + " (Sender mailbox in the site's change-control settings)"
}

// networkError is a failure with no HTTP response: retryable.
func (c *Client) networkError(err error, clientRequestID string) *mail.Error {
	code := networkCode(err)
	msg := c.redact(err.Error())
	hint := "check that this server can reach " + c.cfg.GraphEndpoint
	if code == "canceled" {
		hint = "the send was cancelled before Graph answered (shutdown or caller deadline)"
	}
	return &mail.Error{
		Code:            code,
		Message:         msg,
		ClientRequestID: clientRequestID,
		Retryable:       true,
		Err:             err,
		Text:            fmt.Sprintf("Graph email failed: %s: %s%s — %s", code, msg, idSuffix("", clientRequestID), hint),
	}
}

func networkCode(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timeout"
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return "network_error"
}

func idSuffix(requestID, clientRequestID string) string {
	switch {
	case requestID != "":
		return " (request-id: " + requestID + ")"
	case clientRequestID != "":
		return " (client-request-id: " + clientRequestID + ")"
	}
	return ""
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return max(0, time.Duration(secs)*time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

// redact removes the client secret from text that came from outside, in
// case a server or proxy ever echoes the request back.
func (c *Client) redact(s string) string {
	if c.secret.value == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.secret.value, redacted)
	return strings.ReplaceAll(s, url.QueryEscape(c.secret.value), redacted)
}

// snippet is a short, single-line excerpt of a response body.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		s = "(empty response body)"
	}
	return s
}

// newUUID returns a random (version 4) UUID for client-request-id.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
