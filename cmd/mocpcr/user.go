package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/config"
)

// repeated collects a flag given several times (--role a --role b).
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func userCommand(ctx context.Context, env *environment, args []string) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(env.stderr, "Usage: mocpcr user create --email EMAIL --name NAME --role ROLE [--role ROLE ...] (--site CODE [--site CODE ...] | --all-sites)")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return 0
		}
		return 2
	}
	fs := newFlagSet(env, "user create", "user create --email EMAIL --name NAME --role ROLE [--role ROLE ...] (--site CODE [--site CODE ...] | --all-sites)\n\n"+
		"With local accounts the password is read from the terminal (asked twice, not shown) or, when piped, from the first line of stdin.\n"+
		"With Entra ID sign-in (AUTH_PROVIDER=entra) no password is needed: the account is linked at the user's first sign-in.")
	email := fs.String("email", "", "the user's email address (required)")
	name := fs.String("name", "", "the user's full name (required)")
	jobTitle := fs.String("job-title", "", "the user's job title, printed with the name on their signatures")
	var roles, sites repeated
	fs.Var(&roles, "role", "a role: initiator, reviewer, approver, coordinator, admin or auditor (repeatable)")
	fs.Var(&sites, "site", "limit the user to the site with this code (repeatable; or --all-sites)")
	allSites := fs.Bool("all-sites", false, "the user works on every site, including sites added later (instead of --site)")
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	var problems []string
	if *email == "" {
		problems = append(problems, "--email is required: the user's address, e.g. jane.doe@example.com")
	}
	if *name == "" {
		problems = append(problems, "--name is required: the user's full name")
	}
	nu := auth.NewUser{Email: *email, Name: *name, JobTitle: *jobTitle, AllSites: *allSites}
	for _, r := range roles {
		role, err := auth.ParseRole(r)
		if err != nil {
			problems = append(problems, "--role: "+err.Error())
			continue
		}
		nu.Roles = append(nu.Roles, role)
	}
	// The same rule as the users page and API: at least one role, and
	// every site only when asked for (auth.AccessProblems). Unknown site
	// codes are checked once the database is open; a placeholder id
	// stands for each here.
	placeholder := make([]int64, len(sites))
	access := auth.AccessProblems(nu.Roles, placeholder, *allSites, true)
	if msg := access["roles"]; msg != "" && len(roles) == 0 {
		problems = append(problems, "--role is required: "+strings.TrimPrefix(msg, "roles: ")+" (initiator, reviewer, approver, coordinator, admin or auditor)")
	}
	if access["sites"] != "" {
		if *allSites {
			problems = append(problems, "give either --all-sites or --site, not both")
		} else {
			problems = append(problems, "--site CODE (repeatable) or --all-sites is required: which sites the user works on")
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(env.stderr, "mocpcr user create:", p)
		}
		return 2
	}
	cfg, db, ok := openConfigured(ctx, env)
	if !ok {
		return 1
	}
	defer db.Close()
	if !migrateFirst(ctx, env, db) {
		return 1
	}
	for _, code := range sites {
		s, err := auth.SiteByCode(ctx, db.SQL, code)
		if err != nil {
			fmt.Fprintf(env.stderr, "mocpcr user create: --site: no site has the code %q\n", code)
			return 1
		}
		nu.SiteIDs = append(nu.SiteIDs, s.ID)
	}
	if cfg.AuthProvider != config.AuthEntra {
		pw, err := readPassword(env, *email)
		if err != nil {
			fmt.Fprintln(env.stderr, "mocpcr user create:", err)
			return 1
		}
		if nu.PasswordHash, err = auth.HashPassword(pw); err != nil {
			fmt.Fprintln(env.stderr, "mocpcr user create:", strings.TrimPrefix(err.Error(), "invalid: "))
			return 1
		}
	}
	var u *auth.User
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = auth.CreateUser(ctx, tx, nu)
		return err
	})
	if err != nil {
		fmt.Fprintln(env.stderr, "mocpcr user create:", strings.TrimPrefix(err.Error(), "invalid: "))
		return 1
	}
	how := "sign in with the password just set"
	if cfg.AuthProvider == config.AuthEntra {
		how = "sign in with Microsoft; the account is linked by email at the first sign-in"
	}
	fmt.Fprintf(env.stdout, "created user %d %s (%s) with roles %s: %s\n", u.ID, u.Email, u.Name, roleList(u.Roles), how)
	return 0
}

func roleList(roles []auth.Role) string {
	if len(roles) == 0 {
		return "(none)"
	}
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// readPassword asks on a terminal (twice, without echo) or reads the first
// line of piped stdin.
func readPassword(env *environment, email string) (string, error) {
	if f, ok := env.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(env.stderr, "Password for %s (at least %d characters): ", email, auth.MinPasswordLength)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(env.stderr, "Repeat the password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords do not match")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(env.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given: type it on a terminal, or pipe it on stdin (echo \"$PASSWORD\" | mocpcr user create ...)")
	}
	return line, nil
}

func tokenCommand(ctx context.Context, env *environment, args []string) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(env.stderr, "Usage: mocpcr token create --email USER_EMAIL [--name NAME] [--expires YYYY-MM-DD]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return 0
		}
		return 2
	}
	fs := newFlagSet(env, "token create", "token create --email USER_EMAIL [--name NAME] [--expires YYYY-MM-DD]\n\nPrints a new personal API token for the user on stdout; it is not stored and cannot be shown again.\n"+
		"The token also ends when the user signs out everywhere, is disabled, or has their password reset.")
	email := fs.String("email", "", "the email of the user the token acts as (required)")
	name := fs.String("name", "API token", "what the token is for, shown on the account page")
	expires := fs.String("expires", "", "the last day the token works (YYYY-MM-DD, UTC); default: until revoked")
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	if *email == "" {
		fmt.Fprintln(env.stderr, "mocpcr token create: --email is required: the user the token acts as")
		return 2
	}
	var expiresAt time.Time
	if *expires != "" {
		day, err := time.Parse(time.DateOnly, *expires)
		if err != nil {
			fmt.Fprintf(env.stderr, "mocpcr token create: --expires must be a date like 2026-12-31, got %q\n", *expires)
			return 2
		}
		// Works through that day (UTC), like the account page's tokens.
		if expiresAt = day.AddDate(0, 0, 1); !expiresAt.After(time.Now()) {
			fmt.Fprintln(env.stderr, "mocpcr token create: --expires must be today or later")
			return 2
		}
	}
	_, db, ok := openConfigured(ctx, env)
	if !ok {
		return 1
	}
	defer db.Close()
	if !migrateFirst(ctx, env, db) {
		return 1
	}
	u, err := auth.UserByEmail(ctx, db.SQL, *email)
	if err != nil {
		fmt.Fprintf(env.stderr, "mocpcr token create: --email: no user has the email %q\n", *email)
		return 1
	}
	if u.Disabled {
		fmt.Fprintf(env.stderr, "mocpcr token create: %s is disabled; enable the user first\n", u.Email)
		return 1
	}
	tok, err := auth.CreateAPITokenUntil(ctx, db.SQL, u.ID, *name, expiresAt)
	if err != nil {
		fmt.Fprintln(env.stderr, "mocpcr:", err)
		return 1
	}
	fmt.Fprintln(env.stdout, tok)
	fmt.Fprintf(env.stderr, "created API token %q for %s; it is shown only this once\n", *name, u.Email)
	return 0
}
