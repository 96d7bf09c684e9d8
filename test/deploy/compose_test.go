package deploy_test

import (
	"bufio"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// composeEnv reads the environment block of one service in compose.yaml:
// enough YAML for that file (KEY: value lines, ${VAR:-default} expanded
// to the default, ${VAR:?message} to vars[VAR]).
func composeEnv(t *testing.T, path, service string, vars map[string]string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
	defaults := regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`)
	required := regexp.MustCompile(`\$\{([A-Z_]+):\?[^}]*\}`)
	env := map[string]string{}
	inService, inEnv, svcIndent, envIndent := false, false, 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		switch {
		case trimmed == service+":":
			inService, svcIndent = true, indent(line)
		case inService && indent(line) <= svcIndent:
			inService, inEnv = false, false
		case inService && trimmed == "environment:":
			inEnv, envIndent = true, indent(line)
		case inEnv && indent(line) <= envIndent:
			inEnv = false
		case inEnv:
			k, v, ok := strings.Cut(trimmed, ":")
			if !ok {
				t.Fatalf("%s: cannot read environment line %q (expected KEY: value)", path, line)
			}
			v = strings.Trim(strings.TrimSpace(v), `"'`)
			v = defaults.ReplaceAllString(v, "$1")
			// A required variable (${VAR:?message}) comes from the shell.
			v = required.ReplaceAllStringFunc(v, func(m string) string {
				name := required.FindStringSubmatch(m)[1]
				got, ok := vars[name]
				if !ok {
					t.Fatalf("%s: %s needs %s, which the test does not provide", path, strings.TrimSpace(k), name)
				}
				return got
			})
			env[strings.TrimSpace(k)] = v
		}
	}
	return env
}

// envFileKeys reads KEY=value lines of an env file; commented-out
// assignments (#KEY=value) are returned in commented.
func envFileKeys(t *testing.T, path string) (set, commented map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	assign := regexp.MustCompile(`^(#?)([A-Z][A-Z0-9_]*)=(.*)$`)
	set, commented = map[string]string{}, map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		m := assign.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if m[1] == "#" {
			commented[m[2]] = m[3]
		} else {
			set[m[2]] = m[3]
		}
	}
	return set, commented
}

// dockerfileEnv reads the ENV instruction(s) of the final image.
func dockerfileEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	env := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "ENV ")
		if !ok {
			continue
		}
		for _, kv := range strings.Fields(rest) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
	}
	return env
}

// The container's environment, as compose.yaml and example.env make it,
// with only the values that must point at this machine replaced: the
// binary gets ready and `mocpcr email check` passes.
func TestComposeEnvironmentStartsAndEmailCheckPasses(t *testing.T) {
	needPostgres(t)
	root := filepath.Join("..", "..")
	fake := graphtest.New()
	t.Cleanup(fake.Close)

	env := dockerfileEnv(t, filepath.Join(root, "Dockerfile"))
	compose := composeEnv(t, filepath.Join(root, "compose.yaml"), "mocpcr", map[string]string{"POSTGRES_PASSWORD": "unused"})
	for _, k := range []string{"DATABASE_URL", "DATABASE_PASSWORD", "MOCPCR_ADDR"} {
		if compose[k] == "" {
			t.Fatalf("compose.yaml's mocpcr service no longer sets %s (parsed: %v)", k, compose)
		}
	}
	for k, v := range compose {
		env[k] = v
	}
	set, commented := envFileKeys(t, filepath.Join(root, "example.env"))
	for k, v := range set {
		env[k] = v
	}
	fakeValues := map[string]string{
		"AZURE_TENANT_ID": graphtest.TenantID, "AZURE_CLIENT_ID": graphtest.ClientID,
		"AZURE_CLIENT_SECRET": graphtest.ClientSecret, "GRAPH_MAIL_SENDER": graphtest.Sender,
		"AZURE_AUTHORITY_HOST": fake.URL, "GRAPH_ENDPOINT": fake.URL,
	}
	for k, v := range fakeValues {
		_, isSet := set[k]
		_, isCommented := commented[k]
		if !isSet && !isCommented {
			t.Errorf("example.env no longer mentions %s", k)
		}
		env[k] = v
	}
	if env["EMAIL_PROVIDER"] != "graph" {
		t.Errorf("example.env sets EMAIL_PROVIDER=%q, want graph", env["EMAIL_PROVIDER"])
	}
	// What differs on a test machine: the database, a free port (the
	// compose form ":PORT" is kept) and a writable data directory.
	env["DATABASE_URL"] = storetest.Options(t, store.Postgres).URL
	delete(env, "DATABASE_PASSWORD") // the test server trusts loopback
	_, port, _ := strings.Cut(freeAddr(t), ":")
	env["MOCPCR_ADDR"] = ":" + port
	env["MOCPCR_DATA_DIR"] = t.TempDir()

	start(t, "compose replica", env) // returns once /readyz answers 200
	out, errOut, code := run(t, env, "", "email", "check")
	if code != 0 {
		t.Fatalf("mocpcr email check exit %d in the compose environment:\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, graphtest.ClientSecret) {
		t.Error("email check printed the client secret")
	}
}

// compose.yaml has no default database password, hands the password to
// mocpcr apart from the URL (so any character works), and probes the
// database over TCP.
func TestComposeRequiresAPasswordAndKeepsItOutOfTheURL(t *testing.T) {
	path := filepath.Join("..", "..", "compose.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "POSTGRES_PASSWORD:-") {
		t.Error("compose.yaml gives POSTGRES_PASSWORD a default; it must refuse to start without one (${POSTGRES_PASSWORD:?...})")
	}
	const password = `p@ss:w/rd#1?%&=`
	vars := map[string]string{"POSTGRES_PASSWORD": password}
	db := composeEnv(t, path, "db", vars)
	app := composeEnv(t, path, "mocpcr", vars)
	if db["POSTGRES_PASSWORD"] != password || app["DATABASE_PASSWORD"] != password {
		t.Errorf("the database gets %q and mocpcr gets %q, want both %q", db["POSTGRES_PASSWORD"], app["DATABASE_PASSWORD"], password)
	}
	u, err := url.Parse(app["DATABASE_URL"])
	if err != nil {
		t.Fatalf("DATABASE_URL %q: %v", app["DATABASE_URL"], err)
	}
	if _, has := u.User.Password(); has {
		t.Errorf("DATABASE_URL %q holds a password; it belongs in DATABASE_PASSWORD", app["DATABASE_URL"])
	}
	health := regexp.MustCompile(`pg_isready[^"\]]*`).FindString(string(raw))
	if !strings.Contains(health, "-h 127.0.0.1") {
		t.Errorf("health check %q probes the socket, which answers during first-run initialisation; use -h 127.0.0.1", health)
	}
}
