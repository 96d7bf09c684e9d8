package graph_test

import (
	"context"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

func TestSendRequestShape(t *testing.T) {
	const sender = "moc/pcr+alerts@contoso.com" // '/' must be escaped in the path
	f := newFixture(t, func(c *graph.Config) {
		c.Sender = sender
		c.SaveToSentItems = true
	})
	f.srv.AddMailbox(sender)
	msg := mail.Message{
		To:       []mail.Address{{Name: "Dana Operator", Email: "dana@contoso.com"}, {Email: "eng@contoso.com"}},
		Cc:       []mail.Address{{Name: "Lee", Email: "lee@contoso.com"}},
		Subject:  "MOC-0042 approved",
		HTMLBody: "<p>Approved &amp; closed</p>",
		Headers:  map[string]string{"X-MOCPCR-Change": "MOC-0042", "X-MOCPCR-Event": "approved"},
	}
	res, err := f.client.Send(context.Background(), msg)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}

	forms := f.srv.TokenForms()
	if len(forms) != 1 {
		t.Fatalf("token requests = %d, want 1", len(forms))
	}
	wantForm := map[string][]string{
		"grant_type":    {"client_credentials"},
		"client_id":     {graphtest.ClientID},
		"client_secret": {graphtest.ClientSecret},
		"scope":         {f.srv.URL + "/.default"},
	}
	if !reflect.DeepEqual(map[string][]string(forms[0]), wantForm) {
		t.Errorf("token form = %v\nwant %v", forms[0], wantForm)
	}

	got := f.srv.Messages()
	if len(got) != 1 {
		t.Fatalf("fake received %d messages, want 1", len(got))
	}
	rec := got[0]
	if rec.Sender != sender || rec.EscapedPath != "/v1.0/users/moc%2Fpcr+alerts@contoso.com/sendMail" {
		t.Errorf("sender %q via path %q", rec.Sender, rec.EscapedPath)
	}
	if !strings.HasPrefix(bearer(rec), "Bearer fake.") {
		t.Errorf("Authorization = %q, want the fake's bearer token", bearer(rec))
	}
	if ct := rec.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	crid := rec.Header.Get("client-request-id")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(crid) {
		t.Errorf("client-request-id = %q, want a v4 UUID", crid)
	}
	if res.ClientRequestID != crid || res.RequestID != rec.RequestID || res.RequestID == "" {
		t.Errorf("Result = %+v, want request-id %q and client-request-id %q", res, rec.RequestID, crid)
	}

	// The exact JSON, key by key: Graph property names are case-sensitive.
	var body any
	if err := json.Unmarshal(rec.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"saveToSentItems": true,
		"message": map[string]any{
			"subject": "MOC-0042 approved",
			"body":    map[string]any{"contentType": "HTML", "content": "<p>Approved &amp; closed</p>"},
			"toRecipients": []any{
				map[string]any{"emailAddress": map[string]any{"address": "dana@contoso.com", "name": "Dana Operator"}},
				map[string]any{"emailAddress": map[string]any{"address": "eng@contoso.com"}},
			},
			"ccRecipients": []any{
				map[string]any{"emailAddress": map[string]any{"address": "lee@contoso.com", "name": "Lee"}},
			},
			"internetMessageHeaders": []any{
				map[string]any{"name": "X-MOCPCR-Change", "value": "MOC-0042"},
				map[string]any{"name": "X-MOCPCR-Event", "value": "approved"},
			},
		},
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body =\n%s\nwant\n%v", rec.Body, want)
	}
}

func TestSendOmitsEmptyOptionalFields(t *testing.T) {
	f := newFixture(t)
	f.mustSend(t)
	var body map[string]any
	if err := json.Unmarshal(f.srv.Messages()[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if v, ok := body["saveToSentItems"]; !ok || v != false {
		t.Errorf("saveToSentItems = %v (present %t), want explicit false", v, ok)
	}
	m := body["message"].(map[string]any)
	for _, k := range []string{"ccRecipients", "internetMessageHeaders"} {
		if _, ok := m[k]; ok {
			t.Errorf("message has %q although the message had none", k)
		}
	}
}

func TestColdCacheMakesOneTokenRequest(t *testing.T) {
	f := newFixture(t)
	f.srv.SetMailboxConcurrencyLimit(0)
	// A slow token endpoint widens the window in which callers pile up.
	f.srv.SetTokenLatency(50 * time.Millisecond)

	const goroutines, perGoroutine = 50, 4
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for range goroutines {
		wg.Go(func() {
			for range perGoroutine {
				if _, err := f.client.Send(context.Background(), testMessage()); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Send: %v", err)
	}
	if n := f.srv.TokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want exactly 1", n)
	}
	if n := len(f.srv.Messages()); n != goroutines*perGoroutine {
		t.Errorf("fake received %d messages, want %d", n, goroutines*perGoroutine)
	}
	st := f.client.Stats()
	if st.TokenRequests != 1 || st.Sent != goroutines*perGoroutine || st.Failed != 0 || st.TokenFailures != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestTokenRefreshesAtExpiresInMinusTwoMinutes(t *testing.T) {
	f := newFixture(t)
	// Not 3600: the cache must use expires_in, never assume an hour.
	f.srv.SetTokenLifetime(1000 * time.Second)

	f.mustSend(t)
	st, err := f.client.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := start.Add(1000 * time.Second); !st.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", st.ExpiresAt, want)
	}
	if want := start.Add(880 * time.Second); !st.RefreshAt.Equal(want) {
		t.Errorf("RefreshAt = %v, want %v", st.RefreshAt, want)
	}

	f.clock.Advance(879 * time.Second)
	f.mustSend(t)
	if n := f.srv.TokenRequests(); n != 1 {
		t.Fatalf("token requests one second before the refresh point = %d, want 1", n)
	}

	f.clock.Advance(2 * time.Second) // 881 s: inside the refresh window
	f.mustSend(t)
	waitFor(t, "the background refresh", func() bool {
		st, err := f.client.Check(context.Background())
		return err == nil && st.ExpiresAt.After(start.Add(1000*time.Second))
	})
	if n := f.srv.TokenRequests(); n != 2 {
		t.Errorf("token requests after the refresh point = %d, want 2", n)
	}
	f.mustSend(t)
	msgs := f.srv.Messages()
	if bearer(msgs[0]) != bearer(msgs[2]) {
		t.Error("the send that started the refresh should still use the valid old token")
	}
	if bearer(msgs[3]) == bearer(msgs[0]) {
		t.Error("sends after the refresh still use the old token")
	}
}

func TestRefreshWindowCallersDoNotWaitForSlowTokenEndpoint(t *testing.T) {
	// The held token request must outlast the sends however slow the
	// machine is: only release ends it.
	f := newFixture(t, func(c *graph.Config) { c.RequestTimeout = time.Hour })
	f.mustSend(t)
	old := bearer(f.srv.Messages()[0])

	release := f.srv.HoldTokens() // the token endpoint now hangs until release
	t.Cleanup(release)
	f.clock.Advance(3600*time.Second - 60*time.Second) // valid for one more minute

	done := make(chan error, 20)
	for range 20 {
		go func() {
			_, err := f.client.Send(context.Background(), testMessage())
			done <- err
		}()
	}
	// The token endpoint answers nothing before release below, so a Send
	// that waited for it would never return: each must return on its own.
	for range 20 {
		if err := receive(t, done, "a Send in the refresh window (blocked on the token endpoint?)"); err != nil {
			t.Fatalf("Send in the refresh window: %v", err)
		}
	}
	// The refresh runs in the background; it may reach the endpoint after
	// the sends returned, but there is exactly one.
	waitFor(t, "the background refresh to reach the token endpoint", func() bool { return f.srv.TokenRequests() >= 2 })
	if n := f.srv.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2 (the first, and one refresh in flight)", n)
	}
	for _, m := range f.srv.Messages() {
		if bearer(m) != old {
			t.Fatal("a send in the refresh window did not use the still-valid token")
		}
	}

	release()
	waitFor(t, "the refreshed token", func() bool {
		st, err := f.client.Check(context.Background())
		return err == nil && st.ExpiresAt.After(start.Add(3600*time.Second))
	})
	f.clock.Advance(2 * time.Minute) // the old token has now expired
	f.mustSend(t)
	msgs := f.srv.Messages()
	if bearer(msgs[len(msgs)-1]) == old {
		t.Error("send after expiry used the old token")
	}
	if n := f.srv.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

func TestExpiredTokenCallersWaitForTheRefresh(t *testing.T) {
	f := newFixture(t)
	f.mustSend(t)
	release := f.srv.HoldTokens()
	t.Cleanup(release)
	f.clock.Advance(time.Hour) // expired: no valid token to fall back on

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := f.client.Send(ctx, testMessage())
	if e := mustMailError(t, err); !e.Retryable {
		t.Errorf("a send that timed out waiting for a token should be retryable: %v", e)
	}
	release()
	f.mustSend(t)
	if n := f.srv.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

func TestTokenFailureIsRemembered(t *testing.T) {
	f := newFixture(t, func(c *graph.Config) { c.TokenFailureTTL = 30 * time.Second })
	f.srv.SetCredentials(graphtest.TenantID, graphtest.ClientID, "a-rotated-secret")

	_, first := f.send(t)
	mustMailError(t, first)
	for range 10 {
		_, err := f.send(t)
		if err == nil || err.Error() != first.Error() {
			t.Fatalf("remembered failure = %v, want %v", err, first)
		}
	}
	f.clock.Advance(29 * time.Second)
	f.send(t)
	if n := f.srv.TokenRequests(); n != 1 {
		t.Fatalf("token requests within 30 s of the failure = %d, want 1", n)
	}
	if n := f.srv.SendRequests(); n != 0 {
		t.Errorf("sendMail requests without a token = %d, want 0", n)
	}

	f.srv.SetCredentials(graphtest.TenantID, graphtest.ClientID, graphtest.ClientSecret)
	f.clock.Advance(2 * time.Second)
	f.mustSend(t)
	if n := f.srv.TokenRequests(); n != 2 {
		t.Errorf("token requests after the failure window = %d, want 2", n)
	}
	if st := f.client.Stats(); st.TokenFailures != 1 || st.Failed != 12 || st.Sent != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestUnauthorizedFetchesANewTokenAndRetriesOnce(t *testing.T) {
	f := newFixture(t)
	f.mustSend(t)
	f.srv.FailUnauthorized(1)
	f.mustSend(t)

	if n := f.srv.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
	if n := f.srv.SendRequests(); n != 3 {
		t.Errorf("sendMail requests = %d, want 3 (one, then a 401 and its retry)", n)
	}
	msgs := f.srv.Messages()
	if len(msgs) != 2 || bearer(msgs[0]) == bearer(msgs[1]) {
		t.Error("the retry after 401 did not use a new token")
	}

	// Two 401s in a row: one retry only, then the guide's 401 message. It
	// is retryable (the guide: "Should auto-recover on next call"), and no
	// misconfiguration: the queue retries it with backoff, counting the
	// attempt, instead of failing the email.
	f.srv.FailUnauthorized(2)
	_, err := f.send(t)
	e := mustMailError(t, err)
	if e.Status != 401 || !e.Retryable || e.Misconfigured {
		t.Errorf("Status %d Retryable %t Misconfigured %t, want 401 retryable, not misconfigured", e.Status, e.Retryable, e.Misconfigured)
	}
	if n := f.srv.SendRequests(); n != 5 {
		t.Errorf("sendMail requests = %d, want 5 (exactly one retry)", n)
	}
	if n := f.srv.TokenRequests(); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}
}

func TestUnauthorizedFromManySendersFetchesOneToken(t *testing.T) {
	f := newFixture(t)
	f.srv.SetMailboxConcurrencyLimit(0)
	f.mustSend(t)
	f.srv.ExpireTokens() // revoked: every send gets a 401 until a new token
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := f.client.Send(context.Background(), testMessage()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Each 401 drops only the token it used, so the first drop starts one
	// fetch and the rest join it or use its result.
	if n := f.srv.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}
