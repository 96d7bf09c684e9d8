// Package config reads mocpcr's settings from environment variables,
// validates them once at start and explains every problem at the same time.
//
// Variable names follow the Azure Email Setup Guide exactly, because
// administrators copy them from it.
package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Secret is a credential. It prints as "[redacted]" in every format so
// that it cannot leak through logs, errors or debug output.
type Secret string

// Value returns the secret for the one place that needs it.
func (s Secret) Value() string { return string(s) }

// String redacts the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the secret in %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText redacts the secret in JSON and other encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Email provider names.
const (
	EmailDev   = "dev"
	EmailGraph = "graph"
)

// Auth provider names.
const (
	AuthLocal = "local"
	AuthEntra = "entra"
)

// Config is every setting mocpcr reads. It is built by Load and passed
// explicitly; there is no global configuration.
type Config struct {
	Addr    string // MOCPCR_ADDR
	DataDir string // MOCPCR_DATA_DIR
	BaseURL string // MOCPCR_BASE_URL, or one made from Addr
	// BaseURLSet is true when MOCPCR_BASE_URL was given (links in emails
	// then point where users can open them).
	BaseURLSet  bool
	DatabaseURL Secret // DATABASE_URL; may contain a password
	// DatabasePassword is DATABASE_PASSWORD: the PostgreSQL password kept
	// out of the URL, so that any character works without URL-encoding.
	DatabasePassword Secret
	// DatabaseWait is how long start-up retries a PostgreSQL server that
	// is not reachable yet (MOCPCR_DB_WAIT, default 60s; 0 tries once).
	DatabaseWait time.Duration
	// DatabaseMaxConns is the most database connections the process
	// opens (MOCPCR_DB_MAX_CONNS); 0 leaves it to store's default, fitted
	// to the cores.
	DatabaseMaxConns int
	LogLevel         string // MOCPCR_LOG_LEVEL
	LogFormat        string // MOCPCR_LOG_FORMAT: auto, text or json
	MetricsAddr      string // MOCPCR_METRICS_ADDR

	EmailProvider string // EMAIL_PROVIDER
	TenantID      string // AZURE_TENANT_ID
	ClientID      string // AZURE_CLIENT_ID
	ClientSecret  Secret // AZURE_CLIENT_SECRET
	// ClientCertificatePath (AZURE_CLIENT_CERTIFICATE_PATH) is a PEM file
	// with the app's certificate and key; FederatedTokenFile
	// (AZURE_FEDERATED_TOKEN_FILE) a workload identity token. Either
	// replaces the client secret for email.
	ClientCertificatePath string
	FederatedTokenFile    string
	SecretExpiresOn       time.Time // AZURE_CLIENT_SECRET_EXPIRES_ON, zero if unset
	MailSender            string    // GRAPH_MAIL_SENDER
	AuthorityHost         string    // AZURE_AUTHORITY_HOST
	GraphEndpoint         string    // GRAPH_ENDPOINT
	SaveToSentItems       bool      // GRAPH_SAVE_TO_SENT_ITEMS
	MailboxConcurrent     int       // GRAPH_MAX_CONCURRENT_SENDS
	EmailMaxAttempts      int       // MOCPCR_EMAIL_MAX_ATTEMPTS
	// EmailDailyRecipients is the sender mailbox's budget of recipients
	// per rolling 24 hours (MOCPCR_EMAIL_DAILY_RECIPIENTS, default 9,000:
	// a tenth under Exchange Online's 10,000).
	EmailDailyRecipients int
	// JobRescueAfter is how long a background job may run before another
	// replica assumes its process died and runs it again
	// (MOCPCR_JOB_RESCUE_AFTER); 0 means the default (3 minutes).
	JobRescueAfter time.Duration

	AuthProvider string // AUTH_PROVIDER
}

// Embedded reports whether the database is the built-in SQLite file.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// AzureConfigured reports whether the app registration is fully given.
func (c *Config) AzureConfigured() bool {
	return c.TenantID != "" && c.ClientID != "" && c.ClientSecret != ""
}

// EmailVars are the setup guide's variables, in its checklist's order.
var EmailVars = []string{"EMAIL_PROVIDER", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "GRAPH_MAIL_SENDER"}

// GraphVarsWithoutProvider names the guide's Graph variables that are set
// although EMAIL_PROVIDER is not graph: the admin followed the guide but
// mail still stays in the dev mailbox.
func (c *Config) GraphVarsWithoutProvider() []string {
	if c.EmailProvider == EmailGraph {
		return nil
	}
	var set []string
	for name, v := range map[string]string{"AZURE_TENANT_ID": c.TenantID, "AZURE_CLIENT_ID": c.ClientID,
		"AZURE_CLIENT_SECRET": c.ClientSecret.Value(), "GRAPH_MAIL_SENDER": c.MailSender} {
		if v != "" {
			set = append(set, name)
		}
	}
	slices.Sort(set)
	return set
}

// Warnings are settings that work but are probably not what the
// administrator wants; they are logged at start and shown by email check.
func (c *Config) Warnings() []Problem {
	var w []Problem
	if set := c.GraphVarsWithoutProvider(); len(set) > 0 {
		w = append(w, Problem{Var: "EMAIL_PROVIDER", Message: fmt.Sprintf("EMAIL_PROVIDER is %q but %s %s set: emails stay in the dev mailbox (Admin → Dev mailbox); set EMAIL_PROVIDER=graph to send them through Microsoft 365",
			c.EmailProvider, strings.Join(set, ", "), map[bool]string{true: "is", false: "are"}[len(set) == 1])})
	}
	if c.EmailProvider == EmailGraph && !c.BaseURLSet {
		w = append(w, Problem{Var: "MOCPCR_BASE_URL", Message: "MOCPCR_BASE_URL is not set, so links in emails point at " + c.BaseURL +
			", which recipients cannot open; set it to the address users open, for example https://moc.example.com"})
	}
	return w
}

// Problem is one thing wrong with one variable.
type Problem struct {
	Var     string
	Message string
}

// Problems is every configuration problem found, reported together so an
// administrator can fix them in one pass.
type Problems []Problem

func (p Problems) Error() string {
	var b strings.Builder
	b.WriteString("configuration is not valid:")
	for _, pr := range p {
		b.WriteString("\n  - ")
		b.WriteString(pr.Message)
	}
	return b.String()
}

// Environment lookup, usually os.LookupEnv; tests pass a map.
type Environment func(name string) (string, bool)

// MapEnv turns a map into an Environment.
func MapEnv(m map[string]string) Environment {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s looks like a GUID as the Azure portal shows them.
func IsUUID(s string) bool { return uuidRE.MatchString(s) }

// Load reads and validates the configuration. The error, if any, is
// Problems listing everything that is wrong. No message ever contains the
// value of a secret.
func Load(env Environment) (*Config, error) {
	get := func(name string) string {
		v, _ := env(name)
		return strings.TrimSpace(v)
	}
	var probs Problems
	add := func(v, format string, args ...any) {
		probs = append(probs, Problem{Var: v, Message: fmt.Sprintf(format, args...)})
	}

	c := &Config{
		Addr:          orDefault(get("MOCPCR_ADDR"), "127.0.0.1:8080"),
		DataDir:       orDefault(get("MOCPCR_DATA_DIR"), "./data"),
		BaseURL:       get("MOCPCR_BASE_URL"),
		DatabaseURL:   Secret(get("DATABASE_URL")),
		LogLevel:      orDefault(strings.ToLower(get("MOCPCR_LOG_LEVEL")), "info"),
		LogFormat:     orDefault(strings.ToLower(get("MOCPCR_LOG_FORMAT")), "auto"),
		MetricsAddr:   get("MOCPCR_METRICS_ADDR"),
		EmailProvider: strings.ToLower(get("EMAIL_PROVIDER")),
		TenantID:      get("AZURE_TENANT_ID"),
		ClientID:      get("AZURE_CLIENT_ID"),
		// A secret is not trimmed: whatever the admin set is what Entra ID checks.
		MailSender:    get("GRAPH_MAIL_SENDER"),
		AuthorityHost: strings.TrimRight(orDefault(get("AZURE_AUTHORITY_HOST"), "https://login.microsoftonline.com"), "/"),
		GraphEndpoint: strings.TrimRight(orDefault(get("GRAPH_ENDPOINT"), "https://graph.microsoft.com"), "/"),
		AuthProvider:  strings.ToLower(get("AUTH_PROVIDER")),
	}
	if v, ok := env("AZURE_CLIENT_SECRET"); ok {
		c.ClientSecret = Secret(v)
	}
	c.ClientCertificatePath = get("AZURE_CLIENT_CERTIFICATE_PATH")
	c.FederatedTokenFile = get("AZURE_FEDERATED_TOKEN_FILE")
	if v, ok := env("DATABASE_PASSWORD"); ok {
		c.DatabasePassword = Secret(v)
	}
	c.DatabaseWait = 60 * time.Second
	if v := get("MOCPCR_DB_WAIT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Hour {
			add("MOCPCR_DB_WAIT", "MOCPCR_DB_WAIT must be a duration from 0s to 1h (how long start-up waits for PostgreSQL, for example 60s), got %q", v)
		}
		c.DatabaseWait = d
	}

	if v := get("MOCPCR_DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			add("MOCPCR_DB_MAX_CONNS", "MOCPCR_DB_MAX_CONNS must be a number of connections from 1 to 1000 (the database connection pool's size; unset fits it to the CPU cores), got %q", v)
		}
		c.DatabaseMaxConns = n
	}

	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		add("MOCPCR_ADDR", "MOCPCR_ADDR must be host:port to listen on (for example 127.0.0.1:8080 or :8080), got %q", c.Addr)
	}
	c.BaseURLSet = c.BaseURL != ""
	if c.BaseURL == "" {
		c.BaseURL = baseURLFromAddr(c.Addr)
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("MOCPCR_BASE_URL", "MOCPCR_BASE_URL must be the public http(s) URL users open, for example https://moc.example.com, got %q", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.DatabaseURL != "" {
		// Only the scheme is echoed: the URL may hold a password.
		if u, err := url.Parse(c.DatabaseURL.Value()); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			add("DATABASE_URL", "DATABASE_URL must be a PostgreSQL URL such as postgres://user:password@host:5432/dbname?sslmode=require (leave it unset for the embedded SQLite database)")
		} else if _, has := u.User.Password(); has && c.DatabasePassword != "" {
			add("DATABASE_PASSWORD", "DATABASE_PASSWORD is set but DATABASE_URL holds a password too: keep it in one of them (DATABASE_PASSWORD takes any character without URL-encoding)")
		}
	} else if c.DatabasePassword != "" {
		add("DATABASE_PASSWORD", "DATABASE_PASSWORD is only used with a PostgreSQL DATABASE_URL; set DATABASE_URL too, or unset DATABASE_PASSWORD for the embedded SQLite database")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("MOCPCR_LOG_LEVEL", "MOCPCR_LOG_LEVEL must be one of debug, info, warn, error, got %q", c.LogLevel)
	}
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		add("MOCPCR_LOG_FORMAT", "MOCPCR_LOG_FORMAT must be one of auto, text, json, got %q", c.LogFormat)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			add("MOCPCR_METRICS_ADDR", "MOCPCR_METRICS_ADDR must be host:port for the Prometheus endpoint (for example 127.0.0.1:9090), got %q", c.MetricsAddr)
		}
	}
	c.SaveToSentItems = parseBool(get, "GRAPH_SAVE_TO_SENT_ITEMS", false, add)
	c.MailboxConcurrent = parseInt(get, "GRAPH_MAX_CONCURRENT_SENDS", 4, 1, 4, add)
	c.EmailMaxAttempts = parseInt(get, "MOCPCR_EMAIL_MAX_ATTEMPTS", 10, 1, 100, add)
	c.EmailDailyRecipients = parseInt(get, "MOCPCR_EMAIL_DAILY_RECIPIENTS", 9000, 1, 10000, add)
	if v := get("MOCPCR_JOB_RESCUE_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 2*time.Second || d > 24*time.Hour {
			add("MOCPCR_JOB_RESCUE_AFTER", "MOCPCR_JOB_RESCUE_AFTER must be a duration from 2s to 24h (for example 3m), got %q", v)
		}
		c.JobRescueAfter = d
	}
	if v := get("AZURE_CLIENT_SECRET_EXPIRES_ON"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			add("AZURE_CLIENT_SECRET_EXPIRES_ON", "AZURE_CLIENT_SECRET_EXPIRES_ON must be a date as YYYY-MM-DD (Certificates & secrets → Expires column), got %q", v)
		}
		c.SecretExpiresOn = t
	}
	if !secureEndpoint(c.AuthorityHost) {
		add("AZURE_AUTHORITY_HOST", "AZURE_AUTHORITY_HOST must be an https URL such as https://login.microsoftonline.com (https://login.microsoftonline.us for US Government), got %s", glimpse(c.AuthorityHost))
	}
	if !secureEndpoint(c.GraphEndpoint) {
		add("GRAPH_ENDPOINT", "GRAPH_ENDPOINT must be an https URL such as https://graph.microsoft.com (https://graph.microsoft.us for US Government), got %s", glimpse(c.GraphEndpoint))
	}

	switch c.EmailProvider {
	case "":
		c.EmailProvider = EmailDev
	case EmailDev:
	case EmailGraph:
		for _, p := range azureProblems(c, true) {
			probs = append(probs, p)
		}
	default:
		add("EMAIL_PROVIDER", "EMAIL_PROVIDER must be %q (Microsoft Graph) or %q (built-in dev mailbox, the default), got %s", EmailGraph, EmailDev, glimpse(c.EmailProvider))
	}

	switch c.AuthProvider {
	case "":
		// Local accounts unless Entra ID sign-in is asked for: the setup
		// guide registers the app for email only (no redirect URI, no app
		// roles), so switching sign-in over because its variables are set
		// would lock everyone out of a site that followed it.
		c.AuthProvider = AuthLocal
	case AuthLocal:
	case AuthEntra:
		if c.EmailProvider != EmailGraph { // otherwise already reported above
			probs = append(probs, azureProblems(c, false)...)
		}
	default:
		add("AUTH_PROVIDER", "AUTH_PROVIDER must be %q (Microsoft Entra ID sign-in) or %q (local accounts), got %q", AuthEntra, AuthLocal, c.AuthProvider)
	}

	if len(probs) > 0 {
		return nil, probs
	}
	return c, nil
}

// azureProblems checks the app registration variables as the guide's
// verification checklist describes them.
func azureProblems(c *Config, needSender bool) Problems {
	var probs Problems
	add := func(v, format string, args ...any) {
		probs = append(probs, Problem{Var: v, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case c.TenantID == "":
		add("AZURE_TENANT_ID", "AZURE_TENANT_ID env variable is missing: expected a UUID (e.g. 10091248-3181-...) from App registration → Directory (tenant) ID")
	case !IsUUID(c.TenantID):
		add("AZURE_TENANT_ID", "AZURE_TENANT_ID must be a UUID (e.g. 10091248-3181-...) from App registration → Directory (tenant) ID, got %s", glimpse(c.TenantID))
	}
	switch {
	case c.ClientID == "":
		add("AZURE_CLIENT_ID", "AZURE_CLIENT_ID env variable is missing: expected a UUID (e.g. 3dd121a7-9c06-...) from App registration → Application (client) ID")
	case !IsUUID(c.ClientID):
		add("AZURE_CLIENT_ID", "AZURE_CLIENT_ID must be a UUID (e.g. 3dd121a7-9c06-...) from App registration → Application (client) ID, got %s", glimpse(c.ClientID))
	}
	switch {
	case c.ClientSecret == "" && (c.ClientCertificatePath != "" || c.FederatedTokenFile != ""):
		// Email and sign-in authenticate with the certificate or the
		// federated token.
	case c.ClientSecret == "":
		add("AZURE_CLIENT_SECRET", "AZURE_CLIENT_SECRET env variable is missing: expected the secret Value (e.g. mXK8Q~8vJ...) from Certificates & secrets → Value column")
	case IsUUID(c.ClientSecret.Value()):
		add("AZURE_CLIENT_SECRET", "AZURE_CLIENT_SECRET looks like a GUID: that is the Secret ID, not the secret. Copy the Value column (e.g. mXK8Q~8vJ...) from Certificates & secrets; if it is no longer shown, create a new client secret")
	case strings.HasSuffix(c.ClientSecret.Value(), "\r"):
		add("AZURE_CLIENT_SECRET", "AZURE_CLIENT_SECRET ends with a carriage return: the env file was saved with Windows line endings; save it with Unix (LF) line endings")
	case quoted(c.ClientSecret.Value()):
		add("AZURE_CLIENT_SECRET", "AZURE_CLIENT_SECRET is wrapped in quotes, which become part of the value (docker --env-file and compose env files keep them); remove the quotes")
	case strings.TrimSpace(c.ClientSecret.Value()) != c.ClientSecret.Value():
		add("AZURE_CLIENT_SECRET", "AZURE_CLIENT_SECRET has leading or trailing spaces; copy the Value column again without them")
	}
	if needSender {
		switch {
		case c.MailSender == "":
			add("GRAPH_MAIL_SENDER", "GRAPH_MAIL_SENDER env variable is missing")
		case !isEmail(c.MailSender):
			add("GRAPH_MAIL_SENDER", "GRAPH_MAIL_SENDER must be a full email address (e.g. no-reply@yourcompany.com) of a licensed or shared Exchange Online mailbox, got %s", glimpse(c.MailSender))
		}
	}
	return probs
}

// glimpse quotes a value for a message about a variable that may hold
// something secret by mistake (a client secret pasted into AZURE_CLIENT_ID):
// short values in full, since "contoso.onmicrosoft.com" in AZURE_TENANT_ID
// is its own explanation; long ones, and anything with the "~" every
// Entra ID client secret has, by their first characters and length.
func glimpse(v string) string {
	if r := []rune(v); len(r) >= 30 || strings.Contains(v, "~") {
		return fmt.Sprintf("%q… (%d characters)", string(r[:4]), len(r))
	}
	return strconv.Quote(v)
}

func quoted(v string) bool {
	return len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'')
}

// secureEndpoint accepts https URLs, and http only on a loopback host
// (a local fake of Entra ID and Graph): the client secret and tokens
// travel to these addresses.
func secureEndpoint(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		ip := net.ParseIP(u.Hostname())
		return u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()
	}
	return false
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func baseURLFromAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://127.0.0.1:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func parseBool(get func(string) string, name string, def bool, add func(string, string, ...any)) bool {
	v := get(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		add(name, "%s must be true or false, got %q", name, v)
	}
	return b
}

func parseInt(get func(string) string, name string, def, lo, hi int, add func(string, string, ...any)) int {
	v := get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		add(name, "%s must be a whole number from %d to %d, got %q", name, lo, hi, v)
		return def
	}
	return n
}
