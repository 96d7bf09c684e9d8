package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
)

func TestInvalidMessagesAreRejectedBeforeAnyRequest(t *testing.T) {
	many := func(n int) []mail.Address {
		out := make([]mail.Address, n)
		for i := range out {
			out[i] = mail.Address{Email: fmt.Sprintf("user%d@contoso.com", i)}
		}
		return out
	}
	headers := func(n int) map[string]string {
		h := map[string]string{}
		for i := range n {
			h[fmt.Sprintf("X-Custom-%d", i)] = "v"
		}
		return h
	}
	tests := []struct {
		name   string
		change func(*mail.Message)
		want   string
	}{
		{"no recipients", func(m *mail.Message) { m.To = nil }, "no recipients"},
		{"501 recipients", func(m *mail.Message) { m.To = many(400); m.Cc = many(101) }, "501 recipients; Microsoft Graph accepts at most 500"},
		{"bad address", func(m *mail.Message) { m.To = []mail.Address{{Email: "not an address"}} }, `"not an address" is not a valid email address`},
		{"header without X-", func(m *mail.Message) { m.Headers = map[string]string{"Priority": "urgent"} }, `"Priority" must start with "X-"`},
		{"six headers", func(m *mail.Message) { m.Headers = headers(6) }, "6 custom headers; Microsoft Graph accepts at most 5"},
		{"header value with line break", func(m *mail.Message) { m.Headers = map[string]string{"X-A": "a\r\nBcc: x@y.z"} }, "line break"},
		{"over 4 MB", func(m *mail.Message) { m.HTMLBody = strings.Repeat("x", 4<<20) }, "Microsoft Graph accepts at most 4194304 (4 MB)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			msg := testMessage()
			tt.change(&msg)
			_, err := f.client.Send(context.Background(), msg)
			e := mustMailError(t, err)
			if e.Retryable || e.Code != "InvalidMessage" || !strings.Contains(e.Error(), tt.want) {
				t.Errorf("got %v (Retryable %t, Code %q), want permanent InvalidMessage containing %q", e, e.Retryable, e.Code, tt.want)
			}
			if f.srv.TokenRequests()+f.srv.SendRequests() != 0 {
				t.Error("an invalid message caused requests to Entra ID or Graph")
			}
		})
	}

	t.Run("limits themselves are accepted", func(t *testing.T) {
		f := newFixture(t)
		msg := testMessage()
		msg.To, msg.Cc, msg.Headers = many(250), many(250), headers(5)
		msg.HTMLBody = strings.Repeat("x", 4<<20-64<<10)
		if _, err := f.client.Send(context.Background(), msg); err != nil {
			t.Fatalf("Send at the limits: %v", err)
		}
	})
}

func TestNewReportsMissingVariables(t *testing.T) {
	_, err := newFromEnv(map[string]string{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"})
	if err == nil || err.Error() != "GRAPH_MAIL_SENDER env variable is missing" {
		t.Errorf("err = %v, want the guide's GRAPH_MAIL_SENDER message", err)
	}
	_, err = newFromEnv(map[string]string{})
	for _, v := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "GRAPH_MAIL_SENDER"} {
		if err == nil || !strings.Contains(err.Error(), v+" env variable is missing") {
			t.Errorf("err = %v, want it to name %s", err, v)
		}
	}
	_, err = newFromEnv(map[string]string{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s",
		"GRAPH_MAIL_SENDER": "a@b.c", "GRAPH_ENDPOINT": "graph.microsoft.us"})
	if err == nil || !strings.Contains(err.Error(), "GRAPH_ENDPOINT must be an absolute https URL") {
		t.Errorf("err = %v, want a GRAPH_ENDPOINT error", err)
	}
	c, err := newFromEnv(map[string]string{"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s",
		"GRAPH_MAIL_SENDER": "a@b.c", "GRAPH_ENDPOINT": "https://graph.microsoft.us/", "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.us"})
	if err != nil || c.Name() != "graph" {
		t.Errorf("national cloud config: %v", err)
	}
}

func newFromEnv(env map[string]string) (*graph.Client, error) {
	return graph.New(graph.Config{
		TenantID: env["AZURE_TENANT_ID"], ClientID: env["AZURE_CLIENT_ID"], ClientSecret: env["AZURE_CLIENT_SECRET"],
		Sender: env["GRAPH_MAIL_SENDER"], AuthorityHost: env["AZURE_AUTHORITY_HOST"], GraphEndpoint: env["GRAPH_ENDPOINT"],
	})
}
