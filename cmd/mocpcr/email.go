package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/app"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/config"
	mailpkg "github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/store"
)

func emailCommand(ctx context.Context, env *environment, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(env.stderr, "Usage: mocpcr email check | mocpcr email test --to ADDRESS")
		return 2
	}
	switch args[0] {
	case "check":
		return emailCheck(ctx, env, args[1:])
	case "test":
		return emailTest(ctx, env, args[1:])
	}
	fmt.Fprintf(env.stderr, "mocpcr email: unknown subcommand %q\nUsage: mocpcr email check | mocpcr email test --to ADDRESS\n", args[0])
	return 2
}

// emailCheck validates the variables like the guide's checklist, one line
// each, then acquires a token. Exit 0 only when everything is right.
func emailCheck(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "email check", "email check")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := config.Load(env.getenv)
	var probs config.Problems
	if err != nil && !errors.As(err, &probs) {
		fmt.Fprintln(env.stderr, "mocpcr:", err)
		return 1
	}
	provider, _ := env.getenv("EMAIL_PROVIDER")
	provider = strings.ToLower(strings.TrimSpace(provider))
	if err == nil && cfg.EmailProvider == config.EmailDev {
		// The guide's variables set but EMAIL_PROVIDER forgotten: the
		// admin means Graph, and mail would silently stay here.
		if set := cfg.GraphVarsWithoutProvider(); len(set) > 0 {
			fmt.Fprintf(env.stdout, "FAIL  EMAIL_PROVIDER must be the literal string graph, got %q (%s set for Graph, but mail stays in the dev mailbox)\n",
				provider, strings.Join(set, ", "))
			return 1
		}
		fmt.Fprintln(env.stdout, "OK    EMAIL_PROVIDER=dev: mail stays on this machine (the dev mailbox, /admin/mailbox); set EMAIL_PROVIDER=graph to send through Microsoft Graph")
		return 0
	}
	ok := true
	for _, v := range config.EmailVars {
		var msgs []string
		for _, p := range probs {
			if p.Var == v {
				msgs = append(msgs, p.Message)
			}
		}
		if len(msgs) > 0 {
			ok = false
			fmt.Fprintf(env.stdout, "FAIL  %s\n", strings.Join(msgs, "; "))
			continue
		}
		if v == "AZURE_CLIENT_SECRET" && cfg != nil && cfg.ClientSecret == "" && (cfg.ClientCertificatePath != "" || cfg.FederatedTokenFile != "") {
			continue // checked below, as the credential in use
		}
		if v == "EMAIL_PROVIDER" && provider != config.EmailGraph {
			ok = false
			fmt.Fprintf(env.stdout, "FAIL  EMAIL_PROVIDER must be the literal string graph, got %q\n", provider)
			continue
		}
		fmt.Fprintf(env.stdout, "OK    %s\n", v)
	}
	// Problems with other variables still stop the server; show them too.
	for _, p := range probs {
		known := false
		for _, v := range config.EmailVars {
			known = known || p.Var == v
		}
		if !known {
			ok = false
			fmt.Fprintf(env.stdout, "FAIL  %s\n", p.Message)
		}
	}
	if cfg != nil && !checkCredentialFiles(env, cfg, time.Now()) {
		ok = false
	}
	if !ok || cfg == nil {
		fmt.Fprintln(env.stdout, "Not checking the token until the variables above are fixed.")
		return 1
	}
	client, err := graph.New(graphConfig(cfg))
	if err != nil {
		fmt.Fprintf(env.stdout, "FAIL  %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := client.Check(ctx)
	if err != nil {
		fmt.Fprintf(env.stdout, "FAIL  %v\n", err)
		return 1
	}
	fmt.Fprintf(env.stdout, "OK    token acquired from %s, valid until %s\n", cfg.AuthorityHost, st.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
	// Every sender mailbox: GRAPH_MAIL_SENDER and each site's own.
	sites, err := siteSenders(ctx, env, cfg)
	if err != nil {
		fmt.Fprintf(env.stdout, "WARN  could not read the sites' own sender mailboxes, so only GRAPH_MAIL_SENDER is checked: %v\n", err)
	}
	for _, c := range app.CheckSenders(ctx, client, cfg.MailSender, sites) {
		if c.Err != nil {
			ok = false
			fmt.Fprintf(env.stdout, "FAIL  %s %s: %v\n", c.Where, c.Sender, c.Err)
			continue
		}
		fmt.Fprintf(env.stdout, "OK    %s %s: Mail.Send is granted and the mailbox can send (checked without sending)\n", c.Where, c.Sender)
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(env.stdout, "WARN  %s\n", w.Message)
	}
	if !ok {
		return 1
	}
	fmt.Fprintln(env.stdout, "Delivery to a recipient is proven only by sending: run 'mocpcr email test --to ADDRESS'.")
	return 0
}

// siteSenders reads the sender mailboxes sites have set. An embedded
// database that does not exist yet has none, and is not created by a
// check.
func siteSenders(ctx context.Context, env *environment, cfg *config.Config) ([]string, error) {
	if cfg.Embedded() {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, store.SQLiteFile)); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	db, err := openDB(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return change.SiteSenders(ctx, db.SQL)
}

func graphConfig(cfg *config.Config) graph.Config {
	return graph.Config{
		TenantID: cfg.TenantID, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret.Value(), Sender: cfg.MailSender,
		ClientCertificatePath: cfg.ClientCertificatePath, FederatedTokenFile: cfg.FederatedTokenFile,
		AuthorityHost: cfg.AuthorityHost, GraphEndpoint: cfg.GraphEndpoint, SaveToSentItems: cfg.SaveToSentItems,
		MaxConcurrent: cfg.MailboxConcurrent,
	}
}

// emailTest sends one test email through the configured provider, now,
// and prints the outcome.
func emailTest(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "email test", "email test --to ADDRESS")
	to := fs.String("to", "", "address to send the test email to (required)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if a, err := mail.ParseAddress(*to); err != nil || a.Address != *to {
		fmt.Fprintf(env.stderr, "mocpcr email test: --to must be an email address like jane.doe@example.com, got %q\n", *to)
		return 2
	}
	cfg, db, ok := openConfigured(ctx, env)
	if !ok {
		return 1
	}
	defer db.Close()
	if cfg.EmailProvider == config.EmailDev && !migrateFirst(ctx, env, db) {
		return 1
	}
	p, err := app.NewMailProvider(cfg, db, graph.Config{})
	if err != nil {
		fmt.Fprintln(env.stderr, "mocpcr:", err)
		return 1
	}
	html, err := mailpkg.RenderNotification(mailpkg.NotificationEmail{
		Title: "mocpcr test email",
		Body:  "This test email was sent with 'mocpcr email test' at " + time.Now().UTC().Format("2006-01-02 15:04 UTC") + ". If you can read it, email delivery works.",
	})
	if err != nil {
		fmt.Fprintln(env.stderr, "mocpcr:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	res, err := p.Send(ctx, mailpkg.Message{To: []mailpkg.Address{{Email: *to}}, Subject: "mocpcr test email", HTMLBody: html})
	if err != nil {
		fmt.Fprintf(env.stdout, "FAIL  %v\n", err)
		// The provider's text says what failed; whether anything retries
		// is the caller's to say, and this command sends once.
		if me, ok := mailpkg.AsError(err); ok && me.Retryable {
			again := "in a minute"
			if me.RetryAfter > 0 {
				again = "after " + me.RetryAfter.String() + " (Graph's Retry-After)"
			}
			fmt.Fprintf(env.stdout, "      Not retried: this command sends once. The failure is usually temporary: run it again %s. (Emails the server queues are retried by themselves.)\n", again)
		}
		return 1
	}
	if p.Name() == config.EmailDev {
		fmt.Fprintf(env.stdout, "OK    stored in the dev mailbox (%s): mail stays on this machine\n", res.RequestID)
		return 0
	}
	// An id Graph did not send is not printed as an empty one.
	ids := ""
	switch {
	case res.RequestID != "":
		ids = " (request-id: " + res.RequestID + ")"
	case res.ClientRequestID != "":
		ids = " (client-request-id: " + res.ClientRequestID + ")"
	}
	fmt.Fprintf(env.stdout, "OK    Graph accepted the email to %s%s\n", *to, ids)
	return 0
}

// checkCredentialFiles checks the certificate (readable, a certificate and
// its own RSA key, valid now; warned from 30 days before it expires) and
// the federated token file, one line each. It reports whether they can be
// used.
func checkCredentialFiles(env *environment, cfg *config.Config, now time.Time) bool {
	ok := true
	if p := cfg.ClientCertificatePath; p != "" {
		cert, err := graph.LoadCertificate(p)
		switch {
		case err != nil:
			ok = false
			fmt.Fprintf(env.stdout, "FAIL  %v\n", err)
		case cert.Validity(now) != "":
			ok = false
			fmt.Fprintf(env.stdout, "FAIL  AZURE_CLIENT_CERTIFICATE_PATH: %s\n", cert.Validity(now))
		default:
			fmt.Fprintf(env.stdout, "OK    AZURE_CLIENT_CERTIFICATE_PATH: certificate %s with its private key, thumbprint %s (as the app registration lists it under Certificates & secrets), valid until %s\n",
				cert.Cert.Subject, cert.Thumbprint(), cert.ExpiresOn().Format(time.DateOnly))
			if days := int(cert.ExpiresOn().Sub(now).Hours() / 24); days <= 30 {
				fmt.Fprintf(env.stdout, "WARN  the client certificate expires in %d days (%s): create a new one, upload it to the app registration and replace the file\n", days, cert.ExpiresOn().Format(time.DateOnly))
			}
		}
	}
	if p := cfg.FederatedTokenFile; p != "" {
		if b, err := os.ReadFile(p); err != nil || strings.TrimSpace(string(b)) == "" {
			ok = false
			fmt.Fprintf(env.stdout, "FAIL  AZURE_FEDERATED_TOKEN_FILE: cannot read a token from %q\n", p)
		} else {
			fmt.Fprintf(env.stdout, "OK    AZURE_FEDERATED_TOKEN_FILE: %s holds a token (read again for every token request)\n", p)
		}
	}
	return ok
}
