package graphtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/testclock"
)

func postForm(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func goodForm(s *graphtest.Server) url.Values {
	return url.Values{
		"grant_type": {"client_credentials"}, "client_id": {graphtest.ClientID},
		"client_secret": {graphtest.ClientSecret}, "scope": {s.URL + "/.default"},
	}
}

func TestTokenEndpoint(t *testing.T) {
	s := graphtest.New()
	t.Cleanup(s.Close)
	tokenURL := s.URL + "/" + graphtest.TenantID + "/oauth2/v2.0/token"
	tests := []struct {
		name   string
		url    string
		change func(url.Values)
		status int
		err    string
		aadsts float64
	}{
		{"ok", tokenURL, func(url.Values) {}, 200, "", 0},
		{"public Graph scope", tokenURL, func(f url.Values) { f.Set("scope", "https://graph.microsoft.com/.default") }, 200, "", 0},
		{"wrong secret", tokenURL, func(f url.Values) { f.Set("client_secret", graphtest.SecretID) }, 401, "invalid_client", 7000215},
		{"no secret", tokenURL, func(f url.Values) { f.Del("client_secret") }, 401, "invalid_client", 7000216},
		{"unknown app", tokenURL, func(f url.Values) { f.Set("client_id", "nope") }, 400, "unauthorized_client", 700016},
		{"unknown tenant", s.URL + "/contoso.onmicrosoft.com/oauth2/v2.0/token", func(url.Values) {}, 400, "invalid_request", 90002},
		{"no grant_type", tokenURL, func(f url.Values) { f.Del("grant_type") }, 400, "invalid_request", 900144},
		{"unsupported grant", tokenURL, func(f url.Values) { f.Set("grant_type", "password") }, 400, "unsupported_grant_type", 70003},
		{"scope without /.default", tokenURL, func(f url.Values) { f.Set("scope", "Mail.Send") }, 400, "invalid_scope", 1002012},
		{"unknown resource", tokenURL, func(f url.Values) { f.Set("scope", "https://example.com/.default") }, 400, "invalid_resource", 500011},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := goodForm(s)
			tt.change(form)
			status, body := postForm(t, tt.url, form)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, body)
			}
			if tt.err == "" {
				if body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) || body["access_token"] == "" {
					t.Errorf("token response %v", body)
				}
				return
			}
			desc, _ := body["error_description"].(string)
			codes, _ := body["error_codes"].([]any)
			if body["error"] != tt.err || len(codes) != 1 || codes[0] != tt.aadsts ||
				!strings.HasPrefix(desc, "AADSTS") || !strings.Contains(desc, "Trace ID: ") ||
				body["trace_id"] == nil || body["correlation_id"] == nil || body["timestamp"] == nil {
				t.Errorf("error body %v", body)
			}
		})
	}
	t.Run("expired secret", func(t *testing.T) {
		s.SetSecretExpired(true)
		defer s.SetSecretExpired(false)
		status, body := postForm(t, tokenURL, goodForm(s))
		if status != 401 || !strings.HasPrefix(body["error_description"].(string), "AADSTS7000222: ") {
			t.Errorf("%d %v", status, body)
		}
	})
}

// A national cloud's Entra ID knows its own Graph and refuses the global
// one with Entra ID's invalid_resource body (AADSTS500011), the answer an
// installation gets when only one of AZURE_AUTHORITY_HOST and
// GRAPH_ENDPOINT was changed.
func TestNationalCloudRefusesTheGlobalGraph(t *testing.T) {
	s := graphtest.New()
	t.Cleanup(s.Close)
	s.SetNationalCloud("https://graph.microsoft.us")
	tokenURL := s.URL + "/" + graphtest.TenantID + "/oauth2/v2.0/token"

	form := goodForm(s)
	form.Set("scope", graphtest.GlobalGraph+"/.default")
	status, body := postForm(t, tokenURL, form)
	desc, _ := body["error_description"].(string)
	codes, _ := body["error_codes"].([]any)
	if status != 400 || body["error"] != "invalid_resource" || len(codes) != 1 || codes[0] != float64(500011) ||
		!strings.HasPrefix(desc, "AADSTS500011: The resource principal named https://graph.microsoft.com was not found in the tenant") ||
		!strings.Contains(desc, "Trace ID: ") || !strings.Contains(desc, "Correlation ID: ") {
		t.Errorf("global Graph in a national cloud: %d %v", status, body)
	}

	form.Set("scope", "https://graph.microsoft.us/.default")
	if status, body := postForm(t, tokenURL, form); status != 200 || body["access_token"] == "" {
		t.Errorf("the cloud's own Graph: %d %v", status, body)
	}
}

func sendMail(t *testing.T, s *graphtest.Server, sender, token, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/v1.0/users/"+url.PathEscape(sender)+"/sendMail", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

func TestSendMailEndpoint(t *testing.T) {
	clock := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := graphtest.New()
	t.Cleanup(s.Close)
	s.SetClock(clock.Now)
	_, tok := postForm(t, s.URL+"/"+graphtest.TenantID+"/oauth2/v2.0/token", goodForm(s))
	token := tok["access_token"].(string)
	const good = `{"message":{"subject":"s","body":{"contentType":"HTML","content":"<p>x</p>"},"toRecipients":[{"emailAddress":{"address":"a@contoso.com"}}]},"saveToSentItems":false}`

	tests := []struct {
		name, sender, token, body string
		status                    int
		code                      string
	}{
		{"ok", graphtest.Sender, token, good, 202, ""},
		{"no token", graphtest.Sender, "", good, 401, "InvalidAuthenticationToken"},
		{"unknown token", graphtest.Sender, "forged", good, 401, "InvalidAuthenticationToken"},
		{"unknown mailbox", "ghost@contoso.com", token, good, 404, "ErrorInvalidUser"},
		{"not JSON", graphtest.Sender, token, `{`, 400, "RequestBodyRead"},
		{"wrong property case", graphtest.Sender, token, strings.Replace(good, "toRecipients", "ToRecipients", 1), 400, "RequestBodyRead"},
		{"no recipients", graphtest.Sender, token, `{"message":{"subject":"s","body":{"contentType":"HTML","content":""}}}`, 400, "ErrorInvalidRecipients"},
		{"no message", graphtest.Sender, token, `{"saveToSentItems":true}`, 400, "ErrorInvalidRequest"},
		{"bad header", graphtest.Sender, token, strings.Replace(good, `"toRecipients"`, `"internetMessageHeaders":[{"name":"Foo","value":"1"}],"toRecipients"`, 1), 400, "InvalidInternetMessageHeader"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := sendMail(t, s, tt.sender, tt.token, tt.body)
			if status != tt.status || h.Get("request-id") == "" {
				t.Fatalf("status %d request-id %q, want %d: %v", status, h.Get("request-id"), tt.status, body)
			}
			if tt.code != "" {
				e, _ := body["error"].(map[string]any)
				inner, _ := e["innerError"].(map[string]any)
				if e["code"] != tt.code || e["message"] == "" || inner["request-id"] != h.Get("request-id") {
					t.Errorf("error body %v, want code %s", body, tt.code)
				}
			}
		})
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("recorded %d messages, want 1", n)
	}

	clock.Advance(3599 * time.Second)
	if status, _, body := sendMail(t, s, graphtest.Sender, token, good); status != 401 ||
		body["error"].(map[string]any)["message"] != "Lifetime validation failed, the token is expired." {
		t.Errorf("expired token: %d %v", status, body)
	}
}

func TestStartServesOnAnAddress(t *testing.T) {
	s := graphtest.NewUnstarted()
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	status, body := postForm(t, s.URL+"/"+graphtest.TenantID+"/oauth2/v2.0/token", goodForm(s))
	if status != 200 {
		t.Errorf("token from a started server: %d %v", status, body)
	}
	if s.Start("127.0.0.1:0") == nil {
		t.Error("second Start succeeded")
	}
}

// A throttled mailbox answers every request 429 with the seconds left in
// Retry-After until its window closes; going over the request rate opens
// such a window by itself. Other mailboxes are not affected.
func TestMailboxThrottleWindowAndRequestRate(t *testing.T) {
	clock := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := graphtest.New()
	t.Cleanup(s.Close)
	s.SetClock(clock.Now)
	s.AddMailbox("other@contoso.com")
	_, tok := postForm(t, s.URL+"/"+graphtest.TenantID+"/oauth2/v2.0/token", goodForm(s))
	token := tok["access_token"].(string)
	const good = `{"message":{"subject":"s","body":{"contentType":"HTML","content":"<p>x</p>"},"toRecipients":[{"emailAddress":{"address":"a@contoso.com"}}]}}`

	s.ThrottleMailbox(graphtest.Sender, 2500*time.Millisecond)
	status, h, body := sendMail(t, s, graphtest.Sender, token, good)
	e, _ := body["error"].(map[string]any)
	if status != 429 || h.Get("Retry-After") != "3" || e["code"] != "ApplicationThrottled" || h.Get("RateLimit-Scope") != "Mailbox" {
		t.Fatalf("inside the window: %d Retry-After %q %v", status, h.Get("Retry-After"), body)
	}
	if status, _, _ := sendMail(t, s, "other@contoso.com", token, good); status != 202 {
		t.Errorf("another mailbox answered %d inside the window", status)
	}
	clock.Advance(2 * time.Second)
	if _, h, _ := sendMail(t, s, graphtest.Sender, token, good); h.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q half a second before the end, want 1", h.Get("Retry-After"))
	}
	if n := s.RequestsInThrottleWindow(graphtest.Sender); n != 2 {
		t.Errorf("%d requests counted inside the window, want 2", n)
	}
	clock.Advance(time.Second)
	if status, _, _ := sendMail(t, s, graphtest.Sender, token, good); status != 202 {
		t.Errorf("after the window: %d, want 202", status)
	}

	s.AddMailbox("third@contoso.com")
	s.SetMailboxRequestLimit(2, time.Minute)
	sendMail(t, s, "third@contoso.com", token, good)
	clock.Advance(10 * time.Second)
	if status, _, _ := sendMail(t, s, "third@contoso.com", token, good); status != 202 {
		t.Fatalf("second request in the minute: %d", status)
	}
	if status, h, _ := sendMail(t, s, "third@contoso.com", token, good); status != 429 || h.Get("Retry-After") != "50" {
		t.Errorf("third request in the minute: %d Retry-After %q, want 429 and 50", status, h.Get("Retry-After"))
	}
}
