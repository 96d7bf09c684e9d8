package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

func graphEnv(srvURL string) map[string]string {
	return map[string]string{
		"EMAIL_PROVIDER": "graph", "AZURE_TENANT_ID": graphtest.TenantID, "AZURE_CLIENT_ID": graphtest.ClientID,
		"AZURE_CLIENT_SECRET": graphtest.ClientSecret, "GRAPH_MAIL_SENDER": graphtest.Sender,
		"AZURE_AUTHORITY_HOST": srvURL, "GRAPH_ENDPOINT": srvURL, "AUTH_PROVIDER": "local",
	}
}

func TestEmailCheck(t *testing.T) {
	srv := graphtest.New()
	t.Cleanup(srv.Close)

	code, out, _ := runCmd(t, graphEnv(srv.URL), "email", "check")
	if code != 0 || strings.Count(out, "OK    ") != 7 || !strings.Contains(out, "token acquired") || !strings.Contains(out, "OK    GRAPH_MAIL_SENDER "+graphtest.Sender+": Mail.Send is granted") {
		t.Errorf("good config: exit %d\n%s", code, out)
	}
	// Links in emails need the public address; a warning, not a failure.
	if !strings.Contains(out, "WARN  MOCPCR_BASE_URL is not set, so links in emails point at http://127.0.0.1:8080") {
		t.Errorf("no warning about email links without MOCPCR_BASE_URL:\n%s", out)
	}
	env := graphEnv(srv.URL)
	env["MOCPCR_BASE_URL"] = "https://moc.example.com"
	if code, out, _ = runCmd(t, env, "email", "check"); code != 0 || strings.Contains(out, "WARN") {
		t.Errorf("with MOCPCR_BASE_URL: exit %d\n%s", code, out)
	}

	// The guide followed, EMAIL_PROVIDER forgotten: mail would stay local.
	env = graphEnv(srv.URL)
	delete(env, "EMAIL_PROVIDER")
	env["MOCPCR_DATA_DIR"] = t.TempDir()
	code, out, _ = runCmd(t, env, "email", "check")
	if code == 0 || !strings.Contains(out, `FAIL  EMAIL_PROVIDER must be the literal string graph, got ""`) {
		t.Errorf("EMAIL_PROVIDER unset with the Graph variables: exit %d\n%s", code, out)
	}

	env = graphEnv(srv.URL)
	env["AZURE_CLIENT_SECRET"] = graphtest.SecretID
	delete(env, "GRAPH_MAIL_SENDER")
	code, out, _ = runCmd(t, env, "email", "check")
	if code == 0 || !strings.Contains(out, "FAIL  AZURE_CLIENT_SECRET looks like a GUID") ||
		!strings.Contains(out, "FAIL  GRAPH_MAIL_SENDER env variable is missing") || !strings.Contains(out, "OK    AZURE_TENANT_ID") {
		t.Errorf("bad config: exit %d\n%s", code, out)
	}
	if strings.Contains(out, graphtest.SecretID) {
		t.Error("the secret value was printed")
	}

	env = graphEnv(srv.URL)
	env["AZURE_CLIENT_SECRET"] = "wrong~secret-value"
	code, out, _ = runCmd(t, env, "email", "check")
	if code == 0 || !strings.Contains(out, "FAIL  Graph token request failed: ") || strings.Contains(out, "wrong~secret-value") {
		t.Errorf("wrong secret: exit %d\n%s", code, out)
	}

	code, out, _ = runCmd(t, map[string]string{"EMAIL_PROVIDER": "dev", "MOCPCR_DATA_DIR": t.TempDir()}, "email", "check")
	if code != 0 || !strings.Contains(out, "mail stays on this machine") {
		t.Errorf("dev: exit %d\n%s", code, out)
	}
}

// email check checks every sender mailbox: GRAPH_MAIL_SENDER and each
// site's own, one line each, without sending; one that cannot send fails
// the check and says why.
func TestEmailCheckChecksEverySiteSender(t *testing.T) {
	srv := graphtest.New()
	t.Cleanup(srv.Close)
	srv.AddMailbox("moc-nrf@contoso.com")
	srv.AddMailbox("moc-scp@contoso.com")
	srv.SetOutOfScope("moc-scp@contoso.com", true)
	dir := t.TempDir()
	db := openTestDB(t, dir)
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i, s := range []string{"moc-nrf@contoso.com", "moc-scp@contoso.com"} {
		var id int64
		if err := db.SQL.QueryRowContext(ctx, `INSERT INTO sites (code, name) VALUES ($1, $1) RETURNING id`, fmt.Sprint("S", i)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO change_site_settings (site_id, time_zone, max_extensions, max_temporary_days, emergency_review_days, action_due_days, mail_sender, updated_at)
			VALUES ($1, 'UTC', 2, 365, 1, 14, $2, $3)`, id, s, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
	}
	env := graphEnv(srv.URL)
	env["MOCPCR_DATA_DIR"] = dir
	code, out, _ := runCmd(t, env, "email", "check")
	if code != 1 || !strings.Contains(out, "OK    GRAPH_MAIL_SENDER "+graphtest.Sender+": ") ||
		!strings.Contains(out, "OK    a site's sender mailbox moc-nrf@contoso.com: Mail.Send is granted") ||
		!strings.Contains(out, "FAIL  a site's sender mailbox moc-scp@contoso.com: Graph email failed: 403 ErrorAccessDenied: Access to OData is disabled") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("the check sent %d messages", n)
	}
	srv.SetOutOfScope("moc-scp@contoso.com", false)
	if code, out, _ = runCmd(t, env, "email", "check"); code != 0 || strings.Count(out, ": Mail.Send is granted") != 3 {
		t.Errorf("all senders fine: exit %d\n%s", code, out)
	}
}

func TestEmailTest(t *testing.T) {
	srv := graphtest.New()
	t.Cleanup(srv.Close)
	env := graphEnv(srv.URL)
	env["MOCPCR_DATA_DIR"] = t.TempDir()
	code, out, _ := runCmd(t, env, "email", "test", "--to", "jane@example.com")
	if code != 0 || !strings.Contains(out, "Graph accepted") || len(srv.Messages()) != 1 {
		t.Errorf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "(request-id: ") {
		t.Errorf("no request-id in %q", out)
	}
	// A request-id Graph did not send is not printed empty.
	srv.OmitRequestIDs(true)
	code, out, _ = runCmd(t, env, "email", "test", "--to", "jane@example.com")
	if code != 0 || strings.Contains(out, "request-id: )") || strings.Contains(out, "(request-id") || !strings.Contains(out, "(client-request-id: ") {
		t.Errorf("without a request-id: exit %d\n%s", code, out)
	}
	srv.OmitRequestIDs(false)
	srv.SetAccessDenied(true)
	code, out, _ = runCmd(t, env, "email", "test", "--to", "jane@example.com")
	if code == 0 || !strings.Contains(out, "FAIL  Graph email failed: 403 ") {
		t.Errorf("403: exit %d\n%s", code, out)
	}
	if code, _, _ := runCmd(t, env, "email", "test", "--to", "not-an-address"); code != 2 {
		t.Errorf("bad --to: exit %d", code)
	}
	code, out, _ = runCmd(t, map[string]string{"MOCPCR_DATA_DIR": t.TempDir()}, "email", "test", "--to", "jane@example.com")
	if code != 0 || !strings.Contains(out, "dev mailbox") {
		t.Errorf("dev: exit %d\n%s", code, out)
	}
}

// email check with AZURE_CLIENT_CERTIFICATE_PATH instead of a secret:
// the file is read and checked (certificate, its own key, dates), its
// thumbprint printed, a token acquired with it; an expiry within 30 days
// is warned about, and a file with another certificate's key fails
// before any token request.
func TestEmailCheckValidatesTheCertificate(t *testing.T) {
	srv := graphtest.New()
	t.Cleanup(srv.Close)
	now := time.Now()
	pemFile, cert := graphtest.NewCertificate("mocpcr", now.Add(-time.Hour), now.Add(10*24*time.Hour))
	srv.AddCertificate(cert)
	path := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(path, pemFile, 0o600); err != nil {
		t.Fatal(err)
	}
	env := graphEnv(srv.URL)
	delete(env, "AZURE_CLIENT_SECRET")
	env["AZURE_CLIENT_CERTIFICATE_PATH"] = path
	code, out, _ := runCmd(t, env, "email", "check")
	if code != 0 || !strings.Contains(out, "OK    AZURE_CLIENT_CERTIFICATE_PATH: certificate CN=mocpcr with its private key, thumbprint ") ||
		!strings.Contains(out, "WARN  the client certificate expires in ") || !strings.Contains(out, "OK    token acquired") || strings.Contains(out, "AZURE_CLIENT_SECRET") {
		t.Errorf("exit %d\n%s", code, out)
	}
	other, _ := graphtest.NewCertificate("other", now.Add(-time.Hour), now.Add(time.Hour))
	mixed := append(append([]byte(nil), pemFile[:strings.Index(string(pemFile), "-----BEGIN PRIVATE KEY")]...), other[strings.Index(string(other), "-----BEGIN PRIVATE KEY"):]...)
	if err := os.WriteFile(path, mixed, 0o600); err != nil {
		t.Fatal(err)
	}
	before := srv.TokenRequests()
	code, out, _ = runCmd(t, env, "email", "check")
	if code == 0 || !strings.Contains(out, "FAIL  AZURE_CLIENT_CERTIFICATE_PATH: the private key in ") || srv.TokenRequests() != before {
		t.Errorf("mismatched key: exit %d, %d token requests\n%s", code, srv.TokenRequests()-before, out)
	}
}
