package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The credential that sends email serves sign-in too: with a certificate
// (AZURE_CLIENT_CERTIFICATE_PATH) or a federated token
// (AZURE_FEDERATED_TOKEN_FILE) and no client secret, the authorization
// code is redeemed with a client assertion that the fake Entra ID checks
// as the real one does, and the user is signed in.
func TestEntraSignInUsesTheEmailCertificateOrFederatedToken(t *testing.T) {
	for _, kind := range []string{"certificate", "federated"} {
		t.Run(kind, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				fake := graphtest.New()
				t.Cleanup(fake.Close)
				dir := t.TempDir()
				env := map[string]string{
					"AUTH_PROVIDER":        "entra",
					"AZURE_TENANT_ID":      graphtest.TenantID,
					"AZURE_CLIENT_ID":      graphtest.ClientID,
					"AZURE_AUTHORITY_HOST": fake.URL,
				}
				var rotate func()
				switch kind {
				case "certificate":
					pemFile, cert := graphtest.NewCertificate("mocpcr", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
					fake.AddCertificate(cert)
					path := filepath.Join(dir, "cert.pem")
					if err := os.WriteFile(path, pemFile, 0o600); err != nil {
						t.Fatal(err)
					}
					env["AZURE_CLIENT_CERTIFICATE_PATH"] = path
				case "federated":
					issue := fake.AddFederatedCredential("https://oidc.cluster.example", "system:serviceaccount:moc:mocpcr")
					path := filepath.Join(dir, "token")
					rotate = func() {
						if err := os.WriteFile(path, []byte(issue(time.Hour)), 0o600); err != nil {
							t.Fatal(err)
						}
					}
					rotate()
					env["AZURE_FEDERATED_TOKEN_FILE"] = path
				}
				site := newSite(t, db, env)
				fake.SetClock(site.clock.Now)
				fake.SetRedirectURIs(site.URL+"/auth/callback", site.URL+"/auth/login")
				fake.SetSignInUser(graphtest.SignInUser{OID: "oid-ines", Name: "Ines Initiator", PreferredUsername: "ines@contoso.example", Roles: []string{"initiator"}})
				if rotate != nil {
					rotate() // issued on the fake's clock, now the site's
				}
				r := site.browser().entraLogin("/account")
				if r.StatusCode != 200 || r.Request.URL.Path != "/account" || !strings.Contains(r.Body, "Ines Initiator") {
					t.Fatalf("sign-in ended at %s with %d:\n%s", r.Request.URL, r.StatusCode, r.Body)
				}
				if n := fake.CodeAssertions(); n != 1 {
					t.Errorf("%d code redemptions with a client assertion, want 1", n)
				}
			})
		})
	}
}
