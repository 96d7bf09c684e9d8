package graph_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

// The troubleshooting table of the setup guide: administrators search for
// these texts, so the tests pin them.
func TestTroubleshootingMessages(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*graph.Config)
		fault     func(*graphtest.Server)
		prefix    string
		contains  []string
		status    int
		code      string
		// retryable is the classification; every failure here is
		// misconfigured except the ones that are retryable.
		retryable bool
	}{
		{
			name:      "secret ID pasted instead of the secret value",
			configure: func(c *graph.Config) { c.ClientSecret = graphtest.SecretID },
			prefix:    "Graph token request failed: invalid_client: AADSTS7000215: Invalid client secret provided.",
			contains:  []string{"Secret ID was pasted instead of the secret Value", "check AZURE_CLIENT_SECRET"},
			status:    401, code: "invalid_client",
		},
		{
			name:     "secret expired",
			fault:    func(s *graphtest.Server) { s.SetSecretExpired(true) },
			prefix:   "Graph token request failed: invalid_client: AADSTS7000222: The provided client secret keys for app",
			contains: []string{"client secret has expired", "AZURE_CLIENT_SECRET", "Part 4"},
			status:   401, code: "invalid_client",
		},
		{
			name:      "application not in tenant",
			configure: func(c *graph.Config) { c.ClientID = "00000000-1111-2222-3333-444444444444" },
			prefix:    "Graph token request failed: unauthorized_client: AADSTS700016: Application with identifier '00000000-1111-2222-3333-444444444444' was not found",
			contains:  []string{"check AZURE_CLIENT_ID and AZURE_TENANT_ID"},
			status:    400, code: "unauthorized_client",
		},
		{
			name:      "tenant not found",
			configure: func(c *graph.Config) { c.TenantID = "99999999-aaaa-bbbb-cccc-dddddddddddd" },
			prefix:    "Graph token request failed: invalid_request: AADSTS90002: Tenant '99999999-aaaa-bbbb-cccc-dddddddddddd' not found.",
			contains:  []string{"check AZURE_TENANT_ID"},
			status:    400, code: "invalid_request",
		},
		{
			// A US Government tenant: AZURE_AUTHORITY_HOST was changed,
			// GRAPH_ENDPOINT was left at the global Graph.
			name:      "GRAPH_ENDPOINT of another cloud than AZURE_AUTHORITY_HOST",
			configure: func(c *graph.Config) { c.GraphEndpoint = graphtest.GlobalGraph },
			fault:     func(s *graphtest.Server) { s.SetNationalCloud("https://graph.microsoft.us") },
			prefix:    "Graph token request failed: invalid_resource: AADSTS500011: The resource principal named https://graph.microsoft.com was not found in the tenant",
			contains:  []string{"check that GRAPH_ENDPOINT and AZURE_AUTHORITY_HOST match the same cloud", "GRAPH_ENDPOINT (https://graph.microsoft.com)"},
			status:    400, code: "invalid_resource",
		},
		{
			name:     "Mail.Send not granted",
			fault:    func(s *graphtest.Server) { s.SetAccessDenied(true) },
			prefix:   "Graph email failed: 403 ErrorAccessDenied: Access is denied. Check credentials and try again. (request-id: ",
			contains: []string{"Mail.Send permission not granted, or admin consent not given", "Grant admin consent"},
			status:   403, code: "ErrorAccessDenied",
		},
		{
			name:     "sender mailbox missing",
			fault:    func(s *graphtest.Server) { s.RemoveMailbox(graphtest.Sender) },
			prefix:   "Graph email failed: 404 ErrorInvalidUser: The requested user 'no-reply@contoso.com' is invalid. (request-id: ",
			contains: []string{"sender mailbox does not exist or has no Exchange licence", "GRAPH_MAIL_SENDER"},
			status:   404, code: "ErrorInvalidUser",
		},
		{
			name:     "sender without Exchange licence",
			fault:    func(s *graphtest.Server) { s.AddUnlicensedUser(graphtest.Sender) },
			prefix:   "Graph email failed: 404 MailboxNotEnabledForRESTAPI: The mailbox is either inactive, soft-deleted, or is hosted on-premise. (request-id: ",
			contains: []string{"Exchange Online licence", "guest account", "on-premises", "soft-deleted"},
			status:   404, code: "MailboxNotEnabledForRESTAPI",
		},
		{
			name:     "sender is a distribution group",
			fault:    func(s *graphtest.Server) { s.AddGroup(graphtest.Sender) },
			prefix:   "Graph email failed: 403 ErrorSendAsDenied: The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message. (request-id: ",
			contains: []string{"Exchange refused to send as GRAPH_MAIL_SENDER (no-reply@contoso.com)", "not a distribution group"},
			status:   403, code: "ErrorSendAsDenied",
		},
		{
			name:     "sender mailbox full",
			fault:    func(s *graphtest.Server) { s.SetMailboxFull(graphtest.Sender, true) },
			prefix:   "Graph email failed: 403 ErrorQuotaExceeded: ",
			contains: []string{"is full: sendMail saves every message as a draft first", "Sent Items"},
			status:   403, code: "ErrorQuotaExceeded",
		},
		{
			name:     "sender blocked by Exchange",
			fault:    func(s *graphtest.Server) { s.BlockSender(graphtest.Sender, time.Hour) },
			prefix:   "Graph email failed: 403 ErrorMessageSubmissionBlocked: Cannot submit message. WASCL UserAction verdict is not None.",
			contains: []string{"blocked GRAPH_MAIL_SENDER (no-reply@contoso.com) from sending", "10,000 recipients a day", "Restricted entities"},
			status:   403, code: "ErrorMessageSubmissionBlocked",
		},
		{
			name:     "application access policy excludes the sender",
			fault:    func(s *graphtest.Server) { s.SetOutOfScope(graphtest.Sender, true) },
			prefix:   "Graph email failed: 403 ErrorAccessDenied: Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings. (request-id: ",
			contains: []string{"application access policy or Exchange Online RBAC for Applications scope excludes GRAPH_MAIL_SENDER"},
			status:   403, code: "ErrorAccessDenied",
		},
		{
			name:     "mailbox throttled",
			fault:    func(s *graphtest.Server) { s.ThrottleMailbox(graphtest.Sender, time.Hour) },
			prefix:   "Graph email failed: 429 ApplicationThrottled: Application is over its RequestRate limit. (request-id: ",
			contains: []string{"throttling this mailbox (temporary)", "10,000 requests in 10 minutes", "until the Retry-After has passed"},
			status:   429, code: "ApplicationThrottled", retryable: true,
		},
		{
			name:     "401 even after a new token",
			fault:    func(s *graphtest.Server) { s.FailUnauthorized(2) },
			prefix:   "Graph email failed: 401 InvalidAuthenticationToken: Lifetime validation failed, the token is expired. (request-id: ",
			contains: []string{"usually recovers by itself", "system clock is accurate"},
			status:   401, code: "InvalidAuthenticationToken", retryable: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			configure := func(*graph.Config) {}
			if tt.configure != nil {
				configure = tt.configure
			}
			f := newFixture(t, configure)
			if tt.fault != nil {
				tt.fault(f.srv)
			}
			_, err := f.send(t)
			e := mustMailError(t, err)
			if !strings.HasPrefix(e.Error(), tt.prefix) {
				t.Errorf("error =\n%s\nwant prefix\n%s", e, tt.prefix)
			}
			for _, s := range tt.contains {
				if !strings.Contains(e.Error(), s) {
					t.Errorf("error %q\ndoes not contain %q", e, s)
				}
			}
			if strings.ContainsAny(e.Error(), "\r\n") {
				t.Errorf("error text spans lines: %q", e)
			}
			if e.Status != tt.status || e.Code != tt.code || e.Retryable != tt.retryable || e.Misconfigured == tt.retryable {
				t.Errorf("Status %d Code %q Retryable %t Misconfigured %t, want %d %q Retryable %t Misconfigured %t",
					e.Status, e.Code, e.Retryable, e.Misconfigured, tt.status, tt.code, tt.retryable, !tt.retryable)
			}
			if e.Status >= 403 && !strings.Contains(e.Error(), "(request-id: "+e.RequestID+")") {
				t.Errorf("request-id %q not in %q", e.RequestID, e)
			}
			// Check reports token failures the same way.
			_, checkErr := f.client.Check(context.Background())
			if strings.HasPrefix(tt.prefix, "Graph token") && (checkErr == nil || checkErr.Error() != e.Error()) {
				t.Errorf("Check = %v, want %v", checkErr, e)
			}
			if !strings.HasPrefix(tt.prefix, "Graph token") && checkErr != nil {
				t.Errorf("Check = %v, want success", checkErr)
			}
		})
	}
}

func TestRetryClassification(t *testing.T) {
	httpDate := start.Add(90 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name       string
		fault      func(*graphtest.Server)
		status     int
		retryable  bool
		retryAfter time.Duration
	}{
		{"429 Retry-After seconds", func(s *graphtest.Server) { s.Throttle(1, "7") }, 429, true, 7 * time.Second},
		{"429 Retry-After HTTP date", func(s *graphtest.Server) { s.Throttle(1, httpDate) }, 429, true, 90 * time.Second},
		{"429 without Retry-After", func(s *graphtest.Server) { s.Throttle(1, "") }, 429, true, 0},
		{"503 Retry-After", func(s *graphtest.Server) { s.FailUnavailable(1, "3") }, 503, true, 3 * time.Second},
		{"500", func(s *graphtest.Server) { s.FailStatus(1, 500, "generalException", "An unexpected error occurred.") }, 500, true, 0},
		{"502", func(s *graphtest.Server) { s.FailStatus(1, 502, "BadGateway", "Bad gateway.") }, 502, true, 0},
		{"504", func(s *graphtest.Server) { s.FailStatus(1, 504, "GatewayTimeout", "Gateway timeout.") }, 504, true, 0},
		{"400", func(s *graphtest.Server) {
			s.FailStatus(1, 400, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
		}, 400, false, 0},
		{"403", func(s *graphtest.Server) { s.SetAccessDenied(true) }, 403, false, 0},
		{"404", func(s *graphtest.Server) { s.SetNotFound(true) }, 404, false, 0},
		{"409", func(s *graphtest.Server) { s.FailStatus(1, 409, "Conflict", "Conflict.") }, 409, false, 0},
		{"413", func(s *graphtest.Server) { s.FailStatus(1, 413, "RequestEntityTooLarge", "Too large.") }, 413, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.fault(f.srv)
			_, err := f.send(t)
			e := mustMailError(t, err)
			if e.Status != tt.status || e.Retryable != tt.retryable || e.RetryAfter != tt.retryAfter {
				t.Errorf("Status %d Retryable %t RetryAfter %v, want %d %t %v (%v)",
					e.Status, e.Retryable, e.RetryAfter, tt.status, tt.retryable, tt.retryAfter, e)
			}
			want := "Graph email failed: " + strings.Fields(tt.name)[0] + " "
			if !strings.HasPrefix(e.Error(), want) {
				t.Errorf("error %q, want prefix %q", e, want)
			}
			if f.srv.SendRequests() != 1 {
				t.Errorf("sendMail requests = %d, want 1: the client must not retry by itself", f.srv.SendRequests())
			}
			// Whether the email is retried is the caller's to say (the
			// queue retries, `mocpcr email test` does not).
			if strings.Contains(e.Error(), "retried") {
				t.Errorf("error %q promises what the caller does", e)
			}
		})
	}
}

func TestNetworkFailuresAreRetryable(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		f := newFixture(t, func(c *graph.Config) { c.RequestTimeout = 100 * time.Millisecond })
		f.mustSend(t)
		f.srv.SetLatency(5 * time.Second)
		began := time.Now()
		_, err := f.send(t)
		e := mustMailError(t, err)
		if !e.Retryable || e.Status != 0 || e.Code != "timeout" {
			t.Errorf("Retryable %t Status %d Code %q, want retryable timeout: %v", e.Retryable, e.Status, e.Code, e)
		}
		if d := time.Since(began); d > 2*time.Second {
			t.Errorf("timed out after %v, want about 100ms", d)
		}
	})
	t.Run("Graph unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + ln.Addr().String()
		ln.Close()
		srv := graphtest.New()
		t.Cleanup(srv.Close)
		srv.AcceptResource(closed)
		c, err := graph.New(graph.Config{TenantID: graphtest.TenantID, ClientID: graphtest.ClientID, ClientSecret: graphtest.ClientSecret,
			Sender: graphtest.Sender, AuthorityHost: srv.URL, GraphEndpoint: closed})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Send(context.Background(), testMessage())
		e := mustMailError(t, err)
		if !e.Retryable || e.Status != 0 || !strings.HasPrefix(e.Error(), "Graph email failed: network_error: ") {
			t.Errorf("Retryable %t Status %d: %v", e.Retryable, e.Status, e)
		}
	})
	for _, tt := range []struct {
		name   string
		mode   graphtest.TokenMode
		prefix string
		status int
	}{
		{"token endpoint 500", graphtest.TokenDown, "Graph token request failed: temporarily_unavailable: AADSTS90033: A transient error", 500},
		{"token endpoint drops the connection", graphtest.TokenDrop, "Graph token request failed: network_error: ", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.SetTokenMode(tt.mode)
			_, err := f.send(t)
			e := mustMailError(t, err)
			if !e.Retryable || e.Misconfigured || e.Status != tt.status || !strings.HasPrefix(e.Error(), tt.prefix) {
				t.Errorf("Retryable %t Misconfigured %t Status %d: %v", e.Retryable, e.Misconfigured, e.Status, e)
			}
			if !strings.Contains(e.Error(), "check that this server can reach "+f.srv.URL) {
				t.Errorf("no reachability hint in %q", e)
			}
			if strings.Contains(e.Error(), "retried") {
				t.Errorf("error %q promises what the caller does", e)
			}
		})
	}
}

// A failure Graph never saw (a proxy's 502 page) carries no request-id:
// the error names the client-request-id this process sent instead of an
// empty "(request-id: )".
func TestNoEmptyRequestIDWhenGraphSentNone(t *testing.T) {
	f := newFixture(t)
	f.srv.FailGateway(1)
	e := mustMailError(t, func() error { _, err := f.send(t); return err }())
	if strings.Contains(e.Error(), "request-id: )") || strings.Contains(e.Error(), "(request-id") || e.RequestID != "" {
		t.Errorf("error %q names a request-id Graph never sent", e)
	}
	if !strings.HasPrefix(e.Error(), "Graph email failed: 502 BadGateway: ") || !strings.Contains(e.Error(), "(client-request-id: "+e.ClientRequestID+")") || e.ClientRequestID == "" {
		t.Errorf("error %q, want the guide's 502 text with the client-request-id", e)
	}
	if !e.Retryable {
		t.Errorf("a 502 is not retryable: %+v", e)
	}
}
