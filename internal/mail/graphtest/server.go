// Package graphtest is an in-process fake of Microsoft Entra ID (the
// client-credentials token endpoint) and Microsoft Graph (sendMail), close
// enough to the real services that the graph client can be tested over
// real HTTP, including their error bodies and fault modes.
//
// New starts it on a loopback port like httptest.NewServer; NewUnstarted
// and Start(addr) let a local demo run it as a long-lived process.
package graphtest

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Credentials and mailbox the fake knows from the start. Tests configure a
// graph.Config with these and get working email.
const (
	TenantID     = "10091248-3181-4c2d-9e0f-5a6b7c8d9e0f"
	ClientID     = "3dd121a7-9c06-4b7e-8a55-1f0e2d3c4b5a"
	ClientSecret = "mXK8Q~fake8vJ.secret-Value_0123456789ab"
	// SecretID is what the Azure Portal shows beside the Value: pasting it
	// instead of the Value is the most common setup mistake.
	SecretID = "5c9f2a1e-7b3d-4e6f-8a9b-0c1d2e3f4a5b"
	Sender   = "no-reply@contoso.com"

	// GraphMailboxConcurrency is Graph's per-mailbox concurrent request limit.
	GraphMailboxConcurrency = 4

	// RecipientLimit recipients per RecipientLimitPeriod is Exchange
	// Online's sending limit per mailbox (rolling 24 hours); going over it
	// blocks the mailbox from sending for RecipientBlockDuration.
	RecipientLimit         = 10000
	RecipientLimitPeriod   = 24 * time.Hour
	RecipientBlockDuration = 24 * time.Hour

	// MailboxRequestLimit requests per MailboxRequestPeriod is the Outlook
	// service's rate limit per application and mailbox; beyond it the
	// mailbox is throttled until the oldest request leaves the period.
	MailboxRequestLimit  = 10000
	MailboxRequestPeriod = 10 * time.Minute

	// GlobalGraph is Microsoft Graph in the global cloud, the resource the
	// fake's token endpoint knows unless SetNationalCloud says otherwise.
	GlobalGraph = "https://graph.microsoft.com"
)

// TokenMode selects how the token endpoint behaves.
type TokenMode int

const (
	TokenOK   TokenMode = iota // issue tokens
	TokenDown                  // answer 500 with an Entra error body
	TokenDrop                  // close the connection without an answer
)

type mailboxKind int

const (
	licensed   mailboxKind = iota + 1
	unlicensed             // user exists, no Exchange Online mailbox
	group                  // a distribution group: an address, not a mailbox
)

// mailboxState is what Exchange knows of a licensed mailbox beyond that
// it exists.
type mailboxState struct {
	// full: over its storage quota, so sendMail cannot save the draft.
	full bool
	// outOfScope: an application access policy (or RBAC for
	// Applications scope) keeps this application out of the mailbox.
	outOfScope bool
	// blockedUntil: Exchange's outbound block (restricted entities),
	// e.g. after going over the daily recipient limit.
	blockedUntil time.Time
	// sent is the time and recipient count of each accepted message
	// within the last RecipientLimitPeriod.
	sent []sentBatch
}

type sentBatch struct {
	at         time.Time
	recipients int
}

type issuedToken struct {
	expiry   time.Time
	clientID string
}

// Server is the fake. All methods are safe to call while it serves.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234; use it as both
	// AuthorityHost and GraphEndpoint.
	URL string

	mux *http.ServeMux
	// grants dispatches the token endpoint by grant_type, so that another
	// file (a future oidc.go) can add "authorization_code".
	grants map[string]func(w http.ResponseWriter, r *http.Request, tenant string)

	ts        *httptest.Server
	hs        *http.Server
	closed    chan struct{}
	closeOnce sync.Once

	mu            sync.Mutex
	now           func() time.Time
	tenantID      string
	clientID      string
	clientSecret  string
	secretExpired bool
	tokenLifetime time.Duration
	tokenMode     TokenMode
	tokenLatency  time.Duration
	tokenHold     chan struct{} // non-nil: token requests wait until it closes
	sendLatency   time.Duration
	concLimit     int
	resources     []string // token audiences besides URL and graphResource
	graphResource string   // the Graph of this cloud: https://graph.microsoft.com unless SetNationalCloud
	tokens        map[string]issuedToken
	mailboxes     map[string]mailboxKind
	certs         map[string]*x509.Certificate // by SHA-256 thumbprint
	federations   []federation
	states        map[string]*mailboxState
	recipientCap  int
	faults        faults
	oidc          oidcState

	// throttledUntil is the end of each mailbox's throttle window:
	// Exchange answers every request to the mailbox with 429 until then.
	throttledUntil map[string]time.Time
	// requestLimit per requestPer is Exchange's per app and mailbox
	// request rate (10,000 per 10 minutes); recent holds each mailbox's
	// request times inside the current period.
	requestLimit int
	requestPer   time.Duration
	recent       map[string][]time.Time
	// inWindow counts sendMail requests that arrived inside an open
	// throttle window, per mailbox.
	inWindow map[string]int

	tokenRequests int
	tokenForms    []url.Values
	sendRequests  int
	messages      []Received
	inFlight      map[string]int
	highWater     int
}

type faults struct {
	unauthorized     int // next N sendMail calls answer 401
	forbidden        bool
	notFound         bool
	throttle         int // next N calls answer 429
	throttleAfter    string
	unavailable      int // next N calls answer 503; <0 until Recover
	unavailableAfter string
	status           int // next statusCount calls answer status
	statusCount      int
	statusCode       string
	statusMessage    string
	gateway          int  // next N calls answer 502 from a proxy: HTML, no request-id
	noRequestID      bool // accepted messages are answered without a request-id
}

// New starts a fake on a loopback port. Call Close when done.
func New() *Server {
	s := NewUnstarted()
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	return s
}

// NewUnstarted returns a fake that serves nothing until Start, or that can
// be mounted as an http.Handler elsewhere.
func NewUnstarted() *Server {
	s := &Server{
		mux:           http.NewServeMux(),
		grants:        make(map[string]func(http.ResponseWriter, *http.Request, string)),
		closed:        make(chan struct{}),
		now:           time.Now,
		tenantID:      TenantID,
		clientID:      ClientID,
		clientSecret:  ClientSecret,
		tokenLifetime: 3599 * time.Second,
		graphResource: GlobalGraph,
		concLimit:     GraphMailboxConcurrency,
		tokens:        make(map[string]issuedToken),
		mailboxes:     map[string]mailboxKind{strings.ToLower(Sender): licensed},
		states:        make(map[string]*mailboxState),
		certs:         make(map[string]*x509.Certificate),
		recipientCap:  RecipientLimit,
		inFlight:      make(map[string]int),

		throttledUntil: make(map[string]time.Time),
		requestLimit:   MailboxRequestLimit,
		requestPer:     MailboxRequestPeriod,
		recent:         make(map[string][]time.Time),
		inWindow:       make(map[string]int),
	}
	s.routes()
	return s
}

// routes registers every endpoint on s.mux.
func (s *Server) routes() {
	s.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.handleToken)
	s.grants["client_credentials"] = s.clientCredentials
	s.mux.HandleFunc("POST /v1.0/users/{sender}/sendMail", s.handleSendMail)
	// OIDC sign-in: discovery, JWKS, authorize, the authorization_code
	// grant and signed ID tokens (oidc.go).
	s.oidcRoutes()
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Start serves on addr (e.g. "127.0.0.1:8089") in the background and sets
// URL. It is for servers made with NewUnstarted.
func (s *Server) Start(addr string) error {
	if s.ts != nil || s.hs != nil {
		return errors.New("graphtest: server already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.hs = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.URL = "http://" + ln.Addr().String()
	go func() { _ = s.hs.Serve(ln) }()
	return nil
}

// Close stops the server; requests held by latency or HoldTokens end first.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	if s.ts != nil {
		s.ts.Close()
	}
	if s.hs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.hs.Shutdown(ctx)
	}
}

// --- configuration -------------------------------------------------------

// SetClock makes the fake judge token expiry by now (share it with the
// client's Config.Now to test expiry without sleeping).
func (s *Server) SetClock(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// SetCredentials replaces the known tenant, application and secret.
func (s *Server) SetCredentials(tenantID, clientID, clientSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenantID, s.clientID, s.clientSecret = tenantID, clientID, clientSecret
}

// SetSecretExpired makes the correct secret fail with AADSTS7000222.
func (s *Server) SetSecretExpired(expired bool) {
	s.mu.Lock()
	s.secretExpired = expired
	s.mu.Unlock()
}

// SetTokenLifetime sets expires_in for new tokens (default 3599 s).
func (s *Server) SetTokenLifetime(d time.Duration) { s.mu.Lock(); s.tokenLifetime = d; s.mu.Unlock() }

// AddMailbox makes addr a licensed mailbox that can send.
func (s *Server) AddMailbox(addr string) { s.setMailbox(addr, licensed) }

// AddUnlicensedUser makes addr a user without an Exchange Online mailbox:
// sendMail answers 404 MailboxNotEnabledForRESTAPI.
func (s *Server) AddUnlicensedUser(addr string) { s.setMailbox(addr, unlicensed) }

// AddGroup makes addr a distribution group: sending as it answers 403
// ErrorSendAsDenied.
func (s *Server) AddGroup(addr string) { s.setMailbox(addr, group) }

// SetMailboxFull puts mailbox addr over its storage quota (or back under
// it): sendMail, which saves a draft first, answers 403 ErrorQuotaExceeded.
func (s *Server) SetMailboxFull(addr string, full bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state(addr).full = full
}

// SetOutOfScope makes an application access policy (or an Exchange RBAC
// for Applications scope) exclude mailbox addr: sendMail answers 403
// ErrorAccessDenied "Access to OData is disabled".
func (s *Server) SetOutOfScope(addr string, out bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state(addr).outOfScope = out
}

// BlockSender puts mailbox addr on Exchange's restricted entities for d
// (0 releases it): sendMail answers 403 ErrorMessageSubmissionBlocked.
func (s *Server) BlockSender(addr string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(addr)
	st.blockedUntil = time.Time{}
	if d > 0 {
		st.blockedUntil = s.now().Add(d)
	}
}

// SetRecipientLimit changes the recipients a mailbox may send to per
// rolling RecipientLimitPeriod (default RecipientLimit; 0 disables it).
func (s *Server) SetRecipientLimit(n int) { s.mu.Lock(); s.recipientCap = n; s.mu.Unlock() }

// RecipientsSent counts the recipients of the messages mailbox addr sent
// in the last RecipientLimitPeriod, as Exchange counts them for its limit.
func (s *Server) RecipientsSent(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	cutoff := s.now().Add(-RecipientLimitPeriod)
	for _, b := range s.state(addr).sent {
		if b.at.After(cutoff) {
			n += b.recipients
		}
	}
	return n
}

// Blocked reports whether mailbox addr is blocked from sending now.
func (s *Server) Blocked(addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now().Before(s.state(addr).blockedUntil)
}

// state returns the mailbox's state, creating it; s.mu must be held.
func (s *Server) state(addr string) *mailboxState {
	key := strings.ToLower(addr)
	st := s.states[key]
	if st == nil {
		st = &mailboxState{}
		s.states[key] = st
	}
	return st
}

// RemoveMailbox forgets addr: sendMail answers 404 ErrorInvalidUser.
func (s *Server) RemoveMailbox(addr string) { s.setMailbox(addr, 0) }

func (s *Server) setMailbox(addr string, k mailboxKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k == 0 {
		delete(s.mailboxes, strings.ToLower(addr))
		return
	}
	s.mailboxes[strings.ToLower(addr)] = k
}

// ExpireTokens makes every issued token invalid, as if it had expired.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// AcceptResource lets the token endpoint issue tokens for scope
// resource + "/.default", besides the fake's own URL and the cloud's Graph
// (https://graph.microsoft.com unless SetNationalCloud).
func (s *Server) AcceptResource(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resources = append(s.resources, resource)
}

// SetNationalCloud makes the token endpoint behave as the Entra ID of a
// national cloud whose Microsoft Graph is graphResource, e.g.
// https://graph.microsoft.us for US Government: it issues tokens for that
// resource (and the fake's own URL), and refuses the global
// https://graph.microsoft.com with 400 invalid_resource AADSTS500011 ("The
// resource principal named ... was not found in the tenant"), as the real
// login.microsoftonline.us does when only AZURE_AUTHORITY_HOST was changed
// and GRAPH_ENDPOINT still names the global Graph.
func (s *Server) SetNationalCloud(graphResource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graphResource = graphResource
}

// SetMailboxConcurrencyLimit sets how many concurrent sendMail requests
// per mailbox are served before 429 MailboxConcurrency (default 4, as
// Graph; 0 disables the limit).
func (s *Server) SetMailboxConcurrencyLimit(n int) { s.mu.Lock(); s.concLimit = n; s.mu.Unlock() }

// --- fault injection -----------------------------------------------------

// ThrottleMailbox opens a throttle window of d on a mailbox, as Exchange
// does when an application goes over the mailbox's limits: every
// sendMail request to it until the window closes is answered 429
// ApplicationThrottled with a Retry-After of the seconds left, however
// the client spreads its requests. Requests that arrive inside the window
// are counted (RequestsInThrottleWindow).
func (s *Server) ThrottleMailbox(addr string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttledUntil[strings.ToLower(addr)] = s.now().Add(d)
}

// SetMailboxRequestLimit changes the per-mailbox request rate limit
// (default MailboxRequestLimit per MailboxRequestPeriod; n = 0 disables it).
func (s *Server) SetMailboxRequestLimit(n int, per time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requestLimit, s.requestPer = n, per
}

// SetLatency delays every sendMail answer by d (real time).
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.sendLatency = d; s.mu.Unlock() }

// SetTokenLatency delays every token answer by d (real time).
func (s *Server) SetTokenLatency(d time.Duration) { s.mu.Lock(); s.tokenLatency = d; s.mu.Unlock() }

// HoldTokens makes token requests wait until release is called: a token
// endpoint as slow as the test needs, without sleeping.
func (s *Server) HoldTokens() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.tokenHold = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.tokenHold == ch {
				s.tokenHold = nil
			}
			s.mu.Unlock()
			close(ch)
		})
	}
}

// SetTokenMode makes the token endpoint work, fail with 500, or drop the
// connection.
func (s *Server) SetTokenMode(m TokenMode) { s.mu.Lock(); s.tokenMode = m; s.mu.Unlock() }

// FailUnauthorized makes the next n sendMail calls answer 401
// InvalidAuthenticationToken, as for a token expired mid-request.
func (s *Server) FailUnauthorized(n int) { s.mu.Lock(); s.faults.unauthorized = n; s.mu.Unlock() }

// SetAccessDenied makes sendMail answer 403 ErrorAccessDenied, as when
// Mail.Send is not granted or admin consent is missing.
func (s *Server) SetAccessDenied(on bool) { s.mu.Lock(); s.faults.forbidden = on; s.mu.Unlock() }

// SetNotFound makes sendMail answer 404 ErrorInvalidUser for every sender.
func (s *Server) SetNotFound(on bool) { s.mu.Lock(); s.faults.notFound = on; s.mu.Unlock() }

// Throttle makes the next n sendMail calls answer 429 with the given
// Retry-After header value (seconds or an HTTP date; "" for none).
func (s *Server) Throttle(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.throttle, s.faults.throttleAfter = n, retryAfter
}

// FailUnavailable makes the next n sendMail calls answer 503 with the
// given Retry-After ("" for none); n < 0 means until Recover.
func (s *Server) FailUnavailable(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.unavailable, s.faults.unavailableAfter = n, retryAfter
}

// FailStatus makes the next n sendMail calls answer status with the Graph
// error code and message given, for statuses no other fault covers.
func (s *Server) FailStatus(n, status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.statusCount, s.faults.status, s.faults.statusCode, s.faults.statusMessage = n, status, code, message
}

// FailGateway makes the next n sendMail calls answer as a proxy or load
// balancer in front of Graph does when Graph is unreachable: 502 with an
// HTML page and no request-id, since Graph never saw the request.
func (s *Server) FailGateway(n int) { s.mu.Lock(); s.faults.gateway = n; s.mu.Unlock() }

// OmitRequestIDs makes accepted messages be answered without a request-id
// header, as when a proxy strips it.
func (s *Server) OmitRequestIDs(on bool) { s.mu.Lock(); s.faults.noRequestID = on; s.mu.Unlock() }

// Recover clears every fault, latency and token mode.
func (s *Server) Recover() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faults{}
	clear(s.throttledUntil)
	s.tokenMode = TokenOK
	s.sendLatency, s.tokenLatency = 0, 0
	s.secretExpired = false
}

// --- observations --------------------------------------------------------

// TokenRequests counts requests to the token endpoint.
func (s *Server) TokenRequests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.tokenRequests }

// TokenForms returns the form of every token request, in order.
func (s *Server) TokenForms() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.tokenForms...)
}

// SendRequests counts sendMail requests, successful or not.
func (s *Server) SendRequests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.sendRequests }

// Messages returns the accepted messages, in order.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.messages...)
}

// InFlight is the number of sendMail requests being served right now,
// across mailboxes: a test stops a process while it is above zero.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.inFlight {
		n += v
	}
	return n
}

// RequestsInThrottleWindow counts the sendMail requests to addr that
// arrived while its throttle window was open: the requests a client sent
// although Retry-After had told it to wait (plus those already on their
// way when the window opened).
func (s *Server) RequestsInThrottleWindow(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inWindow[strings.ToLower(addr)]
}

// MaxInFlight is the high-water mark of concurrent sendMail requests to
// any one mailbox.
func (s *Server) MaxInFlight() int { s.mu.Lock(); defer s.mu.Unlock(); return s.highWater }

// wait sleeps d (real time) unless the request or the server ends first.
func (s *Server) wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.closed:
	}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}
