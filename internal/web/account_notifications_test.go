package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func TestDailyDigestPreference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newNotifyEnv(t, db)
		type prefs struct {
			Preferences []notify.Pref `json:"preferences"`
			DailyDigest *bool         `json:"daily_digest"`
		}
		var p prefs
		if s := call(t, e.srv.URL, "GET", "/api/v1/notifications/preferences", e.tokA, "", &p); s != 200 || p.DailyDigest == nil || *p.DailyDigest || len(p.Preferences) == 0 {
			t.Fatalf("GET prefs = %d %+v; want daily_digest false by default and the per-type list", s, p)
		}
		p = prefs{}
		if s := call(t, e.srv.URL, "PUT", "/api/v1/notifications/preferences", e.tokA, `{"daily_digest":true}`, &p); s != 200 || p.DailyDigest == nil || !*p.DailyDigest {
			t.Fatalf("PUT daily_digest = %d %+v", s, p)
		}
		// Setting only email keeps the digest.
		p = prefs{}
		if s := call(t, e.srv.URL, "PUT", "/api/v1/notifications/preferences", e.tokA, `{"email":{"change.closed":false}}`, &p); s != 200 || !*p.DailyDigest {
			t.Fatalf("PUT email only = %d %+v; the digest must stay on", s, p)
		}
		if on, _ := notify.DailyDigest(context.Background(), db.SQL, e.b.ID); on {
			t.Fatal("ann's setting changed bob's")
		}
		var apiErr struct{ Error string }
		if s := call(t, e.srv.URL, "PUT", "/api/v1/notifications/preferences", e.tokA, `{}`, &apiErr); s != 422 || !strings.Contains(apiErr.Error, "daily_digest") {
			t.Errorf("empty PUT = %d %+v; want 422 naming daily_digest", s, apiErr)
		}
		if s := call(t, e.srv.URL, "PUT", "/api/v1/notifications/preferences", e.tokA, `{"daily_digest":"yes"}`, &apiErr); s != 422 {
			t.Errorf("non-boolean daily_digest = %d", s)
		}

		page := func() string {
			req, _ := http.NewRequest("GET", e.srv.URL+"/account/notifications", nil)
			req.Header.Set("Authorization", "Bearer "+e.tokA)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		body := page()
		if !strings.Contains(body, "Daily digest of reminders") || !strings.Contains(body, `name="daily_digest" value="on" checked`) {
			t.Fatalf("page does not show the digest checked:\n%s", body)
		}
		// The form: an unchecked box turns it off.
		req, _ := http.NewRequest("POST", e.srv.URL+"/account/notifications", strings.NewReader(url.Values{"email.change.approved": {"on"}}.Encode()))
		req.Header.Set("Authorization", "Bearer "+e.tokA)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if on, _ := notify.DailyDigest(context.Background(), db.SQL, e.a.ID); on {
			t.Fatalf("form without daily_digest (status %d) left the digest on", resp.StatusCode)
		}
		if strings.Contains(page(), `name="daily_digest" value="on" checked`) {
			t.Error("page still shows the digest checked")
		}
	})
}
