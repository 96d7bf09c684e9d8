package graph_test

import (
	"context"
	"testing"
	"time"
)

// The refresh rule for tokens that live less than four minutes (README:
// How the token is handled): a token is renewed RefreshBefore (two
// minutes) before it expires, or at half its life when that is shorter, so
// that a short-lived token is used at all before its renewal starts. A
// token is reused until its refresh point and renewed once after it.
func TestShortLivedTokensRefreshAtHalfTheirLife(t *testing.T) {
	for _, tc := range []struct {
		life, refreshAfter time.Duration
	}{
		{60 * time.Second, 30 * time.Second},
		{180 * time.Second, 90 * time.Second},
		{239 * time.Second, 119500 * time.Millisecond},
		{240 * time.Second, 120 * time.Second}, // four minutes: both rules agree
		{300 * time.Second, 180 * time.Second}, // above four minutes: two minutes before expiry
		{3599 * time.Second, 3479 * time.Second},
	} {
		t.Run(tc.life.String(), func(t *testing.T) {
			f := newFixture(t)
			f.srv.SetTokenLifetime(tc.life)
			f.mustSend(t)
			st, err := f.client.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := start.Add(tc.life); !st.ExpiresAt.Equal(want) {
				t.Errorf("ExpiresAt = %v, want %v", st.ExpiresAt, want)
			}
			// Entra ID counts expires_in in whole seconds: a half second
			// of the rule is kept, the fake's lifetime is not rounded.
			if want := start.Add(tc.refreshAfter); !st.RefreshAt.Equal(want) {
				t.Errorf("RefreshAt = %v after the token was issued, want %v", st.RefreshAt.Sub(start), tc.refreshAfter)
			}
			f.clock.Advance(tc.refreshAfter - time.Millisecond)
			f.mustSend(t)
			if n := f.srv.TokenRequests(); n != 1 {
				t.Fatalf("token requests just before the refresh point = %d, want 1", n)
			}
			f.clock.Advance(time.Millisecond)
			f.mustSend(t)
			waitFor(t, "the renewal", func() bool { return f.srv.TokenRequests() == 2 })
			f.mustSend(t)
			if n := f.srv.TokenRequests(); n != 2 {
				t.Errorf("token requests after the refresh point = %d, want 2 (one renewal)", n)
			}
		})
	}
}
