package config_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/config"
)

const (
	tenant = "10091248-3181-4b6a-9c1d-2f3e4a5b6c7d"
	client = "3dd121a7-9c06-4e1f-8a2b-1c2d3e4f5a6b"
	secret = "mXK8Q~8vJsuperSecretValue.123"
)

func graphEnv(over map[string]string) config.Environment {
	m := map[string]string{
		"EMAIL_PROVIDER":      "graph",
		"AZURE_TENANT_ID":     tenant,
		"AZURE_CLIENT_ID":     client,
		"AZURE_CLIENT_SECRET": secret,
		"GRAPH_MAIL_SENDER":   "no-reply@example.com",
	}
	for k, v := range over {
		if v == "<unset>" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return config.MapEnv(m)
}

func TestDefaultsNeedNoVariables(t *testing.T) {
	c, err := config.Load(config.MapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.BaseURL != "http://127.0.0.1:8080" {
		t.Errorf("defaults = %q %q %q", c.Addr, c.DataDir, c.BaseURL)
	}
	if c.EmailProvider != config.EmailDev || c.AuthProvider != config.AuthLocal || !c.Embedded() {
		t.Errorf("provider defaults = %q %q embedded=%v", c.EmailProvider, c.AuthProvider, c.Embedded())
	}
	if c.MailboxConcurrent != 4 || c.AuthorityHost != "https://login.microsoftonline.com" || c.GraphEndpoint != "https://graph.microsoft.com" {
		t.Errorf("graph defaults = %d %q %q", c.MailboxConcurrent, c.AuthorityHost, c.GraphEndpoint)
	}
}

func TestBaseURLFollowsListenAddress(t *testing.T) {
	c, err := config.Load(config.MapEnv(map[string]string{"MOCPCR_ADDR": ":9000"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "http://localhost:9000" {
		t.Errorf("BaseURL = %q", c.BaseURL)
	}
}

func TestGraphConfigValid(t *testing.T) {
	c, err := config.Load(graphEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	// The guide registers the app for email only: its variables must not
	// switch sign-in to Entra ID (no redirect URI is registered).
	if c.ClientSecret.Value() != secret || c.AuthProvider != config.AuthLocal {
		t.Errorf("secret or auth default wrong: auth=%q", c.AuthProvider)
	}
	if w := c.Warnings(); len(w) != 1 || w[0].Var != "MOCPCR_BASE_URL" || !strings.Contains(w[0].Message, "links in emails point at http://127.0.0.1:8080") {
		t.Errorf("warnings = %v, want one about MOCPCR_BASE_URL", w)
	}
	env := graphEnv(map[string]string{"MOCPCR_BASE_URL": "https://moc.example.com"})
	if c, err := config.Load(env); err != nil || len(c.Warnings()) != 0 {
		t.Errorf("with a base URL: %v, warnings %v", err, c.Warnings())
	}
	env = graphEnv(map[string]string{"EMAIL_PROVIDER": ""})
	c, err = config.Load(env)
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 1 || w[0].Var != "EMAIL_PROVIDER" ||
		!strings.Contains(w[0].Message, "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID, GRAPH_MAIL_SENDER are set: emails stay in the dev mailbox") {
		t.Errorf("guide followed but EMAIL_PROVIDER unset: warnings %v", w)
	}
}

// A value in the wrong variable must not print a secret that was pasted
// there: long values are shown by their first characters only.
func TestMisplacedSecretIsNotEchoed(t *testing.T) {
	for _, v := range []string{"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "GRAPH_MAIL_SENDER", "EMAIL_PROVIDER", "GRAPH_ENDPOINT", "AZURE_AUTHORITY_HOST"} {
		_, err := config.Load(graphEnv(map[string]string{v: secret}))
		if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[6:]) {
			t.Errorf("%s holding the secret: %v", v, err)
		}
		if err != nil && !strings.Contains(err.Error(), v) {
			t.Errorf("%s holding the secret: the message does not name the variable: %v", v, err)
		}
	}
}

func TestValidationMessages(t *testing.T) {
	cases := []struct {
		name string
		env  config.Environment
		want []string
	}{
		{"sender missing", graphEnv(map[string]string{"GRAPH_MAIL_SENDER": "<unset>"}),
			[]string{"GRAPH_MAIL_SENDER env variable is missing"}},
		{"sender not an address", graphEnv(map[string]string{"GRAPH_MAIL_SENDER": "no-reply"}),
			[]string{"GRAPH_MAIL_SENDER must be a full email address (e.g. no-reply@yourcompany.com)"}},
		{"tenant not uuid", graphEnv(map[string]string{"AZURE_TENANT_ID": "contoso.onmicrosoft.com"}),
			[]string{`AZURE_TENANT_ID must be a UUID (e.g. 10091248-3181-...) from App registration → Directory (tenant) ID, got "contoso.onmicrosoft.com"`}},
		{"client missing", graphEnv(map[string]string{"AZURE_CLIENT_ID": "<unset>"}),
			[]string{"AZURE_CLIENT_ID env variable is missing: expected a UUID (e.g. 3dd121a7-9c06-...) from App registration → Application (client) ID"}},
		{"secret is the Secret ID", graphEnv(map[string]string{"AZURE_CLIENT_SECRET": "6f1d3c2b-1a2b-4c3d-9e8f-0a1b2c3d4e5f"}),
			[]string{"AZURE_CLIENT_SECRET looks like a GUID: that is the Secret ID, not the secret. Copy the Value column"}},
		{"secret with a Windows line ending", graphEnv(map[string]string{"AZURE_CLIENT_SECRET": secret + "\r"}),
			[]string{"AZURE_CLIENT_SECRET ends with a carriage return: the env file was saved with Windows line endings"}},
		{"secret in quotes", graphEnv(map[string]string{"AZURE_CLIENT_SECRET": `"` + secret + `"`}),
			[]string{"AZURE_CLIENT_SECRET is wrapped in quotes, which become part of the value"}},
		{"authority over plain http", graphEnv(map[string]string{"AZURE_AUTHORITY_HOST": "http://login.microsoftonline.com"}),
			[]string{`AZURE_AUTHORITY_HOST must be an https URL such as https://login.microsoftonline.com`}},
		{"graph over plain http", graphEnv(map[string]string{"GRAPH_ENDPOINT": "http://graph.microsoft.com"}),
			[]string{`GRAPH_ENDPOINT must be an https URL such as https://graph.microsoft.com`}},
		{"secret missing", graphEnv(map[string]string{"AZURE_CLIENT_SECRET": "<unset>"}),
			[]string{"AZURE_CLIENT_SECRET env variable is missing: expected the secret Value"}},
		{"unknown provider", config.MapEnv(map[string]string{"EMAIL_PROVIDER": "ses"}),
			[]string{`EMAIL_PROVIDER must be "graph" (Microsoft Graph) or "dev" (built-in dev mailbox, the default), got "ses"`}},
		{"unknown auth", config.MapEnv(map[string]string{"AUTH_PROVIDER": "saml"}),
			[]string{`AUTH_PROVIDER must be "entra" (Microsoft Entra ID sign-in) or "local" (local accounts), got "saml"`}},
		{"entra without registration", config.MapEnv(map[string]string{"AUTH_PROVIDER": "entra"}),
			[]string{"AZURE_TENANT_ID env variable is missing", "AZURE_CLIENT_ID env variable is missing", "AZURE_CLIENT_SECRET env variable is missing"}},
		{"bad addr", config.MapEnv(map[string]string{"MOCPCR_ADDR": "8080"}),
			[]string{`MOCPCR_ADDR must be host:port to listen on (for example 127.0.0.1:8080 or :8080), got "8080"`}},
		{"bad base url", config.MapEnv(map[string]string{"MOCPCR_BASE_URL": "moc.example.com"}),
			[]string{"MOCPCR_BASE_URL must be the public http(s) URL users open"}},
		{"bad database url", config.MapEnv(map[string]string{"DATABASE_URL": "mysql://u:pw@h/db"}),
			[]string{"DATABASE_URL must be a PostgreSQL URL such as postgres://"}},
		{"bad expiry date", config.MapEnv(map[string]string{"AZURE_CLIENT_SECRET_EXPIRES_ON": "12/31/2027"}),
			[]string{"AZURE_CLIENT_SECRET_EXPIRES_ON must be a date as YYYY-MM-DD"}},
		{"bad concurrency", config.MapEnv(map[string]string{"GRAPH_MAX_CONCURRENT_SENDS": "10"}),
			[]string{`GRAPH_MAX_CONCURRENT_SENDS must be a whole number from 1 to 4, got "10"`}},
		{"database password twice", config.MapEnv(map[string]string{"DATABASE_URL": "postgres://u:pw@h/db", "DATABASE_PASSWORD": "x"}),
			[]string{"DATABASE_PASSWORD is set but DATABASE_URL holds a password too"}},
		{"database password without postgres", config.MapEnv(map[string]string{"DATABASE_PASSWORD": "x"}),
			[]string{"DATABASE_PASSWORD is only used with a PostgreSQL DATABASE_URL"}},
		{"bad database wait", config.MapEnv(map[string]string{"MOCPCR_DB_WAIT": "forever"}),
			[]string{`MOCPCR_DB_WAIT must be a duration from 0s to 1h (how long start-up waits for PostgreSQL, for example 60s), got "forever"`}},
		{"bad pool size", config.MapEnv(map[string]string{"MOCPCR_DB_MAX_CONNS": "0"}),
			[]string{`MOCPCR_DB_MAX_CONNS must be a number of connections from 1 to 1000 (the database connection pool's size; unset fits it to the CPU cores), got "0"`}},
		{"bad log level", config.MapEnv(map[string]string{"MOCPCR_LOG_LEVEL": "loud"}),
			[]string{`MOCPCR_LOG_LEVEL must be one of debug, info, warn, error, got "loud"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(tc.env)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			probs, ok := err.(config.Problems)
			if !ok {
				t.Fatalf("error is %T, want config.Problems", err)
			}
			if len(probs) != len(tc.want) {
				t.Errorf("got %d problems, want %d: %v", len(probs), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestSenderMissingIsExactGuideMessage(t *testing.T) {
	_, err := config.Load(graphEnv(map[string]string{"GRAPH_MAIL_SENDER": ""}))
	probs := err.(config.Problems)
	if len(probs) != 1 || probs[0].Message != "GRAPH_MAIL_SENDER env variable is missing" || probs[0].Var != "GRAPH_MAIL_SENDER" {
		t.Fatalf("problems = %#v", probs)
	}
}

func TestAllProblemsReportedTogether(t *testing.T) {
	_, err := config.Load(config.MapEnv(map[string]string{
		"EMAIL_PROVIDER": "graph", "MOCPCR_ADDR": "nope", "AZURE_CLIENT_SECRET": "x",
	}))
	probs := err.(config.Problems)
	vars := map[string]bool{}
	for _, p := range probs {
		vars[p.Var] = true
	}
	for _, v := range []string{"MOCPCR_ADDR", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "GRAPH_MAIL_SENDER"} {
		if !vars[v] {
			t.Errorf("problem for %s not reported; got %v", v, err)
		}
	}
}

// No secret value may appear in any output: errors, formatting, JSON, logs.
func TestSecretsNeverPrinted(t *testing.T) {
	dbPass := "pg-pass-Zq9"
	uuidSecret := "6f1d3c2b-1a2b-4c3d-9e8f-0a1b2c3d4e5f"
	for _, env := range []config.Environment{
		graphEnv(map[string]string{"AZURE_CLIENT_SECRET": uuidSecret, "GRAPH_MAIL_SENDER": "bad"}),
		graphEnv(map[string]string{"AZURE_CLIENT_SECRET": " " + secret + " "}),
		graphEnv(map[string]string{"DATABASE_URL": "mysql://u:" + dbPass + "@h/db"}),
	} {
		_, err := config.Load(env)
		if err == nil {
			t.Fatal("want an error")
		}
		for _, s := range []string{secret, uuidSecret, dbPass} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error shows a secret: %v", err)
			}
		}
	}
	c, err := config.Load(graphEnv(map[string]string{"DATABASE_URL": "postgres://u:" + dbPass + "@h/db"}))
	if err != nil {
		t.Fatal(err)
	}
	separate, err := config.Load(graphEnv(map[string]string{"DATABASE_URL": "postgres://u@h/db", "DATABASE_PASSWORD": dbPass}))
	if err != nil {
		t.Fatal(err)
	}
	if separate.DatabasePassword.Value() != dbPass || separate.DatabaseWait != 60*time.Second {
		t.Errorf("DATABASE_PASSWORD = %q, wait %v", separate.DatabasePassword.Value(), separate.DatabaseWait)
	}
	if out := fmt.Sprintf("%+v", separate); strings.Contains(out, dbPass) {
		t.Errorf("DATABASE_PASSWORD printed: %s", out)
	}
	var logBuf strings.Builder
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("config", "cfg", c, "secret", c.ClientSecret)
	js, _ := json.Marshal(c)
	outputs := []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(c.ClientSecret), string(js), logBuf.String()}
	for i, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, dbPass) {
			t.Errorf("output %d shows a secret: %s", i, out)
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", c), "[redacted]") {
		t.Errorf("secret not shown as [redacted]: %+v", c)
	}
}
