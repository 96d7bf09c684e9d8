package main

import (
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
)

// `mocpcr email test` sends once: for a temporary failure it says so and
// asks to run it again, and never claims that the email will be retried.
func TestEmailTestTemporaryFailureSaysItIsNotRetried(t *testing.T) {
	srv := graphtest.New()
	t.Cleanup(srv.Close)
	env := graphEnv(srv.URL)
	env["MOCPCR_DATA_DIR"] = t.TempDir()

	srv.FailUnavailable(1, "")
	code, out, _ := runCmd(t, env, "email", "test", "--to", "jane@example.com")
	if code == 0 || !strings.Contains(out, "FAIL  Graph email failed: 503 ") {
		t.Fatalf("503: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "will be retried") || !strings.Contains(out, "Not retried: this command sends once") ||
		!strings.Contains(out, "run it again in a minute") {
		t.Errorf("503 output promises a retry or does not say to run again:\n%s", out)
	}

	srv.Throttle(1, "7")
	code, out, _ = runCmd(t, env, "email", "test", "--to", "jane@example.com")
	if code == 0 || !strings.Contains(out, "FAIL  Graph email failed: 429 ") || strings.Contains(out, "will be retried") ||
		!strings.Contains(out, "run it again after 7s (Graph's Retry-After)") {
		t.Errorf("429: exit %d\n%s", code, out)
	}

	// A permanent failure is not presented as temporary.
	srv.SetAccessDenied(true)
	code, out, _ = runCmd(t, env, "email", "test", "--to", "jane@example.com")
	if code == 0 || strings.Contains(out, "Not retried") || strings.Contains(out, "temporary") {
		t.Errorf("403: exit %d\n%s", code, out)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("Graph accepted %d messages, want 0", n)
	}
}
