package graphtest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

// authorize runs the authorize endpoint and returns the code.
func authorize(t *testing.T, s *graphtest.Server, verifier string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {graphtest.ClientID}, "response_type": {"code"}, "scope": {"openid profile email"},
		"redirect_uri": {"http://app.example/auth/callback"}, "state": {"st"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.URL + "/" + graphtest.TenantID + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

func TestAuthorizationCodeGrantChecksPKCEAndSingleUse(t *testing.T) {
	s := graphtest.New()
	defer s.Close()
	redeem := func(code, verifier string) (int, map[string]any) {
		return postForm(t, s.URL+"/"+graphtest.TenantID+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
			"redirect_uri": {"http://app.example/auth/callback"}, "client_id": {graphtest.ClientID}, "client_secret": {graphtest.ClientSecret}})
	}
	code := authorize(t, s, "the-right-verifier-0123456789-0123456789-abc")
	if st, body := redeem(code, "a-wrong-verifier-0123456789-0123456789-abcde"); st != 400 || !strings.Contains(body["error_description"].(string), "AADSTS501481") {
		t.Fatalf("wrong verifier: %d %v", st, body)
	}
	code = authorize(t, s, "the-right-verifier-0123456789-0123456789-abc")
	st, body := redeem(code, "the-right-verifier-0123456789-0123456789-abc")
	if idt, _ := body["id_token"].(string); st != 200 || strings.Count(idt, ".") != 2 {
		t.Fatalf("good redeem: %d %v", st, body)
	}
	if st, body := redeem(code, "the-right-verifier-0123456789-0123456789-abc"); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("code reused: %d %v", st, body)
	}
}
