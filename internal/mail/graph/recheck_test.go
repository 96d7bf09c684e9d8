package graph_test

import (
	"context"
	"strings"
	"testing"
)

// Recheck ("Retry all") asks Entra ID again within the remembered-failure
// window, says it asked, and returns what Entra ID answers now; with a
// token that is still valid it does not ask, and says so.
func TestRecheckAsksEntraAgainWithinTheFailureWindowAndSaysWhetherItAsked(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.srv.SetSecretExpired(true)
	if _, err := f.send(t); err == nil {
		t.Fatal("send with an expired secret succeeded")
	}
	// Within TokenFailureTTL an ordinary check answers from memory.
	if _, err := f.client.Check(ctx); err == nil || f.srv.TokenRequests() != 1 {
		t.Fatalf("check within the failure window: %v, %d token requests, want the remembered failure and 1", err, f.srv.TokenRequests())
	}
	asked, err := f.client.Recheck(ctx)
	if !asked || err == nil || !strings.HasPrefix(err.Error(), "Graph token request failed: invalid_client: AADSTS7000222") || f.srv.TokenRequests() != 2 {
		t.Errorf("recheck while still refused = %v, %v (%d requests), want asked, refused, 2 requests", asked, err, f.srv.TokenRequests())
	}
	f.srv.SetSecretExpired(false)
	asked, err = f.client.Recheck(ctx)
	if !asked || err != nil || f.srv.TokenRequests() != 3 {
		t.Errorf("recheck after the fix = %v, %v (%d requests), want asked and issued", asked, err, f.srv.TokenRequests())
	}
	asked, err = f.client.Recheck(ctx)
	if asked || err != nil || f.srv.TokenRequests() != 3 {
		t.Errorf("recheck with a valid token = %v, %v (%d requests), want not asked", asked, err, f.srv.TokenRequests())
	}
	f.mustSend(t)
}
