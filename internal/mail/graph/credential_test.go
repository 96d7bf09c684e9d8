package graph_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// With AZURE_CLIENT_CERTIFICATE_PATH the client proves itself with a
// signed assertion (RFC 7523, x5t#S256) that the fake checks as Entra ID
// does; no secret is sent. A certificate the app registration does not
// list is refused with Entra's error and a hint naming its thumbprint, and
// an expired one is refused before any request.
func TestCertificateCredentialSignsAnAssertionEntraAccepts(t *testing.T) {
	pemFile, cert := graphtest.NewCertificate("mocpcr", start.Add(-time.Hour), start.Add(365*24*time.Hour))
	path := writeFile(t, "cert.pem", pemFile)
	f := newFixture(t, func(c *graph.Config) { c.ClientSecret = ""; c.ClientCertificatePath = path })
	f.srv.AddCertificate(cert)
	f.mustSend(t)
	form := f.srv.TokenForms()[0]
	if form.Get("client_secret") != "" || form.Get("client_assertion_type") != graph.ClientAssertionType || strings.Count(form.Get("client_assertion"), ".") != 2 {
		t.Errorf("token request form = %v, want a client assertion and no secret", form)
	}

	other, _ := graphtest.NewCertificate("not uploaded", start.Add(-time.Hour), start.Add(24*time.Hour))
	g := newFixture(t, func(c *graph.Config) { c.ClientSecret = ""; c.ClientCertificatePath = writeFile(t, "other.pem", other) })
	e := mustMailError(t, func() error { _, err := g.send(t); return err }())
	if !strings.HasPrefix(e.Error(), "Graph token request failed: invalid_client: AADSTS700027: Client assertion failed signature validation.") ||
		!strings.Contains(e.Error(), "upload this certificate (thumbprint "+g.client.Certificate().Thumbprint()+")") || !e.Misconfigured {
		t.Errorf("unlisted certificate: %v", e)
	}

	old, oldCert := graphtest.NewCertificate("expired", start.Add(-48*time.Hour), start.Add(-time.Hour))
	h := newFixture(t, func(c *graph.Config) { c.ClientSecret = ""; c.ClientCertificatePath = writeFile(t, "old.pem", old) })
	h.srv.AddCertificate(oldCert)
	e = mustMailError(t, func() error { _, err := h.send(t); return err }())
	if !strings.HasPrefix(e.Error(), "Graph token request failed: invalid_client: the certificate in ") || !strings.Contains(e.Error(), "expired on") {
		t.Errorf("expired certificate: %v", e)
	}
	if n := h.srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests with an expired certificate, want 0", n)
	}
}

// AZURE_FEDERATED_TOKEN_FILE is read for every token request: after the
// file rotates, the next request presents the new token. An expired one
// is refused with Entra's AADSTS700024 and a hint.
func TestFederatedTokenFileIsReadAgainWhenItRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	f := newFixture(t, func(c *graph.Config) { c.ClientSecret = ""; c.FederatedTokenFile = path })
	issue := f.srv.AddFederatedCredential("https://oidc.example/cluster", "system:serviceaccount:mocpcr:mocpcr")
	first := issue(time.Hour)
	if err := os.WriteFile(path, []byte(first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Minute)
	second := issue(time.Hour)
	if err := os.WriteFile(path, []byte(second), 0o600); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(31 * time.Minute) // the access token has expired: a new request
	if _, err := f.client.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	forms := f.srv.TokenForms()
	if len(forms) != 2 || forms[0].Get("client_assertion") != first || forms[1].Get("client_assertion") != second {
		t.Errorf("assertions presented = %d requests, want the first file, then the rotated one", len(forms))
	}

	stale := issue(time.Minute)
	if err := os.WriteFile(path, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	_, err := f.client.Check(context.Background())
	e := mustMailError(t, err)
	if !strings.HasPrefix(e.Error(), "Graph token request failed: invalid_client: AADSTS700024: Client assertion is not within its valid time range.") ||
		!strings.Contains(e.Error(), "AZURE_FEDERATED_TOKEN_FILE is being refreshed") {
		t.Errorf("expired federated token: %v", e)
	}
}

// A certificate file that cannot serve is refused with what is wrong,
// naming the variable, and never showing the key.
func TestLoadCertificateSaysWhatIsWrong(t *testing.T) {
	good, _ := graphtest.NewCertificate("a", start, start.Add(time.Hour))
	other, _ := graphtest.NewCertificate("b", start, start.Add(time.Hour))
	certOf := func(b []byte) []byte { return b[:strings.Index(string(b), "-----BEGIN PRIVATE KEY")] }
	keyOf := func(b []byte) []byte { return b[strings.Index(string(b), "-----BEGIN PRIVATE KEY"):] }
	tests := []struct {
		name, want string
		file       []byte
	}{
		{"not PEM", "is not a PEM file with a certificate and its private key", []byte("MIIC...")},
		{"no key", "holds a certificate but no private key", certOf(good)},
		{"no certificate", "holds a private key but no certificate", keyOf(good)},
		{"another certificate's key", "does not belong to its certificate", append(append([]byte(nil), certOf(good)...), keyOf(other)...)},
		{"encrypted key", "is encrypted with a password", []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := graph.LoadCertificate(writeFile(t, "c.pem", tt.file))
			if err == nil || !strings.HasPrefix(err.Error(), "AZURE_CLIENT_CERTIFICATE_PATH: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "PRIVATE KEY-----\nMII") {
				t.Errorf("the error shows the key")
			}
		})
	}
	if _, err := graph.LoadCertificate(filepath.Join(t.TempDir(), "missing.pem")); err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("missing file: %v", err)
	}
	if c, err := graph.LoadCertificate(writeFile(t, "ok.pem", good)); err != nil || len(c.Thumbprint()) != 40 {
		t.Errorf("good file: %v %v", c, err)
	}
}
