package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/store"
)

func runWithStdin(t *testing.T, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &environment{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: config.MapEnv(vars)}
	return run(context.Background(), env, args), out.String(), errb.String()
}

func openTestDB(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestUserCreateAndTokenCreate(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"MOCPCR_DATA_DIR": dir}
	// Missing flags and bad roles are named.
	code, _, stderr := runWithStdin(t, vars, "", "user", "create", "--role", "boss")
	if code != 2 || !strings.Contains(stderr, "--email is required") || !strings.Contains(stderr, `role "boss" is not known`) {
		t.Fatalf("bad flags: %d %q", code, stderr)
	}
	// No role and no site choice: both named, nothing is created. Every
	// site must be asked for, never the result of giving no --site.
	code, _, stderr = runWithStdin(t, vars, "a long secret pw\n", "user", "create", "--email", "nora@example.com", "--name", "Nora")
	if code != 2 || !strings.Contains(stderr, "--role is required: choose at least one role") || !strings.Contains(stderr, "--all-sites is required") {
		t.Fatalf("no role, no sites: %d %q", code, stderr)
	}
	code, _, stderr = runWithStdin(t, vars, "a long secret pw\n", "user", "create", "--email", "nora@example.com", "--name", "Nora", "--role", "auditor",
		"--all-sites", "--site", "NRF")
	if code != 2 || !strings.Contains(stderr, "not both") {
		t.Fatalf("--all-sites with --site: %d %q", code, stderr)
	}
	// Too short a password is refused, and nothing is created.
	code, _, stderr = runWithStdin(t, vars, "short\n", "user", "create", "--email", "adam@example.com", "--name", "Adam", "--role", "admin", "--all-sites")
	if code != 1 || !strings.Contains(stderr, "at least 10 characters") {
		t.Fatalf("short password: %d %q", code, stderr)
	}
	code, out, stderr := runWithStdin(t, vars, "a long secret pw\n", "user", "create", "--email", "adam@example.com", "--name", "Adam Admin",
		"--role", "admin", "--role", "Auditor", "--all-sites")
	if code != 0 || !strings.Contains(out, "adam@example.com") || strings.Contains(out+stderr, "a long secret pw") {
		t.Fatalf("create: %d %q %q", code, out, stderr)
	}
	db := openTestDB(t, dir)
	ctx := context.Background()
	u, err := auth.UserByEmail(ctx, db.SQL, "adam@example.com")
	if err != nil || !u.Has(auth.RoleAdmin) || !u.Has(auth.RoleAuditor) || len(u.SiteIDs) != 0 || !u.OnSite(12345) {
		t.Fatalf("user = %+v %v", u, err)
	}
	if _, err := auth.PasswordLogin(ctx, db, "adam@example.com", "a long secret pw", "127.0.0.1", time.Now(), auth.DefaultThrottle); err != nil {
		t.Fatalf("password from stdin does not work: %v", err)
	}
	// Duplicate.
	if code, _, stderr := runWithStdin(t, vars, "a long secret pw\n", "user", "create", "--email", "ADAM@example.com", "--name", "A", "--role", "admin", "--all-sites"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("duplicate: %d %q", code, stderr)
	}
	// Unknown site.
	if code, _, stderr := runWithStdin(t, vars, "a long secret pw\n", "user", "create", "--email", "x@example.com", "--name", "X", "--role", "reviewer", "--site", "NOPE"); code != 1 || !strings.Contains(stderr, `no site has the code "NOPE"`) {
		t.Fatalf("unknown site: %d %q", code, stderr)
	}
	if _, err := auth.CreateSite(ctx, db.SQL, "NRF", "North Refinery"); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runWithStdin(t, vars, "a long secret pw\n", "user", "create", "--email", "rita@example.com", "--name", "Rita", "--role", "reviewer", "--site", "nrf"); code != 0 {
		t.Fatalf("create with site: %d %q", code, stderr)
	}
	rita, _ := auth.UserByEmail(ctx, db.SQL, "rita@example.com")
	if len(rita.SiteIDs) != 1 {
		t.Fatalf("rita's sites = %v", rita.SiteIDs)
	}

	// token create prints a working token and only the token.
	code, out, stderr = runWithStdin(t, vars, "", "token", "create", "--email", "adam@example.com", "--name", "ci")
	tok := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(tok, "mocpcr_") || strings.Contains(tok, "\n") {
		t.Fatalf("token create: %d %q %q", code, out, stderr)
	}
	got, err := auth.UserByAPIToken(ctx, db.SQL, tok, time.Now())
	if err != nil || got.ID != u.ID {
		t.Fatalf("printed token does not authenticate adam: %v", err)
	}
	if code, _, stderr := runWithStdin(t, vars, "", "token", "create", "--email", "nobody@example.com"); code != 1 || !strings.Contains(stderr, "no user has the email") {
		t.Fatalf("unknown user: %d %q", code, stderr)
	}
	// --expires gives the token a last day; a bad one names the flag.
	if code, _, stderr := runWithStdin(t, vars, "", "token", "create", "--email", "adam@example.com", "--expires", "tomorrow"); code != 2 || !strings.Contains(stderr, "--expires must be a date") {
		t.Fatalf("bad --expires: %d %q", code, stderr)
	}
	lastDay := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	code, out, stderr = runWithStdin(t, vars, "", "token", "create", "--email", "adam@example.com", "--expires", lastDay)
	if code != 0 {
		t.Fatalf("token create --expires: %d %q", code, stderr)
	}
	if _, err := auth.UserByAPIToken(ctx, db.SQL, strings.TrimSpace(out), time.Now().AddDate(0, 0, 5)); err == nil {
		t.Fatal("token made with --expires works after its last day")
	}
}

func TestUserCreateEntraNeedsNoPassword(t *testing.T) {
	dir := t.TempDir()
	fake := httptest.NewServer(nil) // never contacted: creating a user does not talk to Entra ID
	defer fake.Close()
	vars := map[string]string{"MOCPCR_DATA_DIR": dir, "AUTH_PROVIDER": "entra", "AZURE_TENANT_ID": "10091248-3181-4c3e-9c5b-1f2e3d4c5b6a",
		"AZURE_CLIENT_ID": "3dd121a7-9c06-4e0f-8a6b-7c8d9e0f1a2b", "AZURE_CLIENT_SECRET": "mXK8Q~secret", "AZURE_AUTHORITY_HOST": fake.URL}
	code, out, stderr := runWithStdin(t, vars, "", "user", "create", "--email", "ines@contoso.example", "--name", "Ines", "--role", "initiator", "--all-sites")
	if code != 0 || !strings.Contains(out, "sign in with Microsoft") {
		t.Fatalf("entra user create: %d %q %q", code, out, stderr)
	}
	db := openTestDB(t, dir)
	ok, err := auth.HasPassword(context.Background(), db.SQL, 1)
	if err != nil || ok {
		t.Fatalf("entra user has a password: %v %v", ok, err)
	}
}
