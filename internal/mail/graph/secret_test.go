package graph_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

// assertNoSecret fails if text holds secret in any common encoding.
func assertNoSecret(t *testing.T, where, text, secret string) {
	t.Helper()
	for _, form := range []string{secret, url.QueryEscape(secret), hex.EncodeToString([]byte(secret)), fmt.Sprintf("%q", secret)} {
		if strings.Contains(text, form) {
			t.Errorf("%s contains the client secret: %s", where, text)
		}
	}
}

func TestSecretNeverShown(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const wrongSecret = "Wr0ng~Secret.Value_thatMustNotLeak"

	for _, secret := range []string{graphtest.ClientSecret, wrongSecret} {
		f := newFixture(t, func(c *graph.Config) { c.ClientSecret = secret; c.Logger = logger })
		var errs []error
		_, err := f.send(t) // works with the right secret, AADSTS7000215 with the wrong one
		errs = append(errs, err)
		for _, fault := range []func(){
			func() { f.srv.SetAccessDenied(true) },
			func() { f.srv.Recover(); f.srv.FailUnauthorized(2) },
			func() { f.srv.Recover(); f.srv.SetNotFound(true) },
		} {
			fault()
			_, err := f.send(t)
			errs = append(errs, err)
		}
		_, err = f.client.Check(context.Background())
		errs = append(errs, err)
		for _, err := range errs {
			if err != nil {
				assertNoSecret(t, "error", err.Error(), secret)
				assertNoSecret(t, "error %+v", fmt.Sprintf("%+v %#v", err, err), secret)
			}
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
			assertNoSecret(t, "client "+verb, fmt.Sprintf(verb, f.client), secret)
		}
	}

	cfg := graph.Config{TenantID: graphtest.TenantID, ClientID: graphtest.ClientID, ClientSecret: wrongSecret, Sender: graphtest.Sender}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10.3v"} {
		for _, v := range []any{cfg, &cfg, []graph.Config{cfg}, struct{ C graph.Config }{cfg}} {
			out := fmt.Sprintf(verb, v)
			assertNoSecret(t, "Config "+verb, out, wrongSecret)
		}
	}
	if s := fmt.Sprint(cfg); !strings.Contains(s, "ClientSecret:[REDACTED]") || !strings.Contains(s, graphtest.ClientID) {
		t.Errorf("Config prints as %s, want the client id and a redacted secret", s)
	}
	if s := fmt.Sprint(graph.Config{}); !strings.Contains(s, "ClientSecret:(missing)") {
		t.Errorf("empty Config prints as %s, want the secret marked missing", s)
	}
	logger.Info("email configured", "graph", cfg, "graph_ptr", &cfg)
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("email configured", "graph", cfg)

	for name, out := range map[string]string{"JSON log": logs.String(), "text log": text.String()} {
		assertNoSecret(t, name, out, wrongSecret)
		assertNoSecret(t, name, out, graphtest.ClientSecret)
		if !strings.Contains(out, `client_secret`) {
			t.Errorf("%s does not show that a secret is set:\n%s", name, out)
		}
	}
	if !strings.Contains(logs.String(), "AADSTS7000215") {
		t.Errorf("the token failure was not logged:\n%s", logs.String())
	}
}
