package graph_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A failed send or token request is the caller's to log (the queue logs
// one line per attempt, with the email's ids): the client adds nothing at
// Info or above. What no caller sees, a background refresh failing while
// the current token still works, is a warning.
func TestClientLogsOnlyWhatNoCallerReports(t *testing.T) {
	var logs lockedBuffer
	f := newFixture(t, func(c *graph.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })

	sendFails := func() {
		t.Helper()
		_, err := f.send(t)
		mustMailError(t, err)
	}
	f.srv.FailUnavailable(1, "")
	sendFails()
	f.srv.FailUnauthorized(2)
	sendFails()
	f.srv.SetAccessDenied(true)
	sendFails()
	f.srv.Recover()
	f.srv.SetCredentials(graphtest.TenantID, graphtest.ClientID, "a-rotated-secret")
	f.srv.ExpireTokens() // 401, then the new token is refused
	sendFails()
	if out := logs.String(); out != "" {
		t.Errorf("failed sends logged by the client at Info or above:\n%s", out)
	}

	// A working token in its refresh window, and Entra ID failing: the
	// send still succeeds with the current token, and the failed refresh
	// is warned about once.
	f.srv.SetCredentials(graphtest.TenantID, graphtest.ClientID, graphtest.ClientSecret)
	f.clock.Advance(time.Minute) // past the remembered failure
	f.mustSend(t)
	f.srv.SetTokenMode(graphtest.TokenDown)
	f.clock.Advance(3600*time.Second - 90*time.Second)
	f.mustSend(t)
	waitFor(t, "the refresh warning", func() bool { return strings.Contains(logs.String(), "graph token refresh failed") })
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "AADSTS90033") {
		t.Errorf("want one warning about the failed refresh, got:\n%s", logs.String())
	}
}
