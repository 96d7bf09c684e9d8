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
	Addr        string // MOCPCR_ADDR
	DataDir     string // MOCPCR_DATA_DIR
	BaseURL     string // MOCPCR_BASE_URL
	DatabaseURL Secret // DATABASE_URL; may contain a password
	LogLevel    string // MOCPCR_LOG_LEVEL
	LogFormat   string // MOCPCR_LOG_FORMAT: auto, text or json
	MetricsAddr string // MOCPCR_METRICS_ADDR

	EmailProvider     string    // EMAIL_PROVIDER
	TenantID          string    // AZURE_TENANT_ID
	ClientID          string    // AZURE_CLIENT_ID
	ClientSecret      Secret    // AZURE_CLIENT_SECRET
	SecretExpiresOn   time.Time // AZURE_CLIENT_SECRET_EXPIRES_ON, zero if unset
	MailSender        string    // GRAPH_MAIL_SENDER
	AuthorityHost     string    // AZURE_AUTHORITY_HOST
	GraphEndpoint     string    // GRAPH_ENDPOINT
	SaveToSentItems   bool      // GRAPH_SAVE_TO_SENT_ITEMS
	MailboxConcurrent int       // GRAPH_MAX_CONCURRENT_SENDS
	EmailMaxAttempts  int       // MOCPCR_EMAIL_MAX_ATTEMPTS
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

	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		add("MOCPCR_ADDR", "MOCPCR_ADDR must be host:port to listen on (for example 127.0.0.1:8080 or :8080), got %q", c.Addr)
	}
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
		}
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
	if c.AuthorityHost != "" {
		if u, err := url.Parse(c.AuthorityHost); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("AZURE_AUTHORITY_HOST", "AZURE_AUTHORITY_HOST must be an https URL such as https://login.microsoftonline.com (https://login.microsoftonline.us for US Government), got %q", c.AuthorityHost)
		}
	}
	if c.GraphEndpoint != "" {
		if u, err := url.Parse(c.GraphEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("GRAPH_ENDPOINT", "GRAPH_ENDPOINT must be an https URL such as https://graph.microsoft.com (https://graph.microsoft.us for US Government), got %q", c.GraphEndpoint)
		}
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
		add("EMAIL_PROVIDER", "EMAIL_PROVIDER must be %q (Microsoft Graph) or %q (built-in dev mailbox, the default), got %q", EmailGraph, EmailDev, c.EmailProvider)
	}

	switch c.AuthProvider {
	case "":
		// Entra ID sign-in is the default whenever the app registration is
		// complete: a site that set up Graph email expects SSO as well.
		if c.AzureConfigured() {
			c.AuthProvider = AuthEntra
		} else {
			c.AuthProvider = AuthLocal
		}
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
		add("AZURE_TENANT_ID", "AZURE_TENANT_ID must be a UUID (e.g. 10091248-3181-...) from App registration → Directory (tenant) ID, got %q", c.TenantID)
	}
	switch {
	case c.ClientID == "":
		add("AZURE_CLIENT_ID", "AZURE_CLIENT_ID env variable is missing: expected a UUID (e.g. 3dd121a7-9c06-...) from App registration → Application (client) ID")
	case !IsUUID(c.ClientID):
		add("AZURE_CLIENT_ID", "AZURE_CLIENT_ID must be a UUID (e.g. 3dd121a7-9c06-...) from App registration → Application (client) ID, got %q", c.ClientID)
	}
	switch {
	case c.ClientSecret == "":
		add("AZURE_CLIENT_SECRET", "AZURE_CLIENT_SECRET env variable is missing: expected the secret Value (e.g. mXK8Q~8vJ...) from Certificates & secrets → Value column")
	case IsUUID(c.ClientSecret.Value()):
		add("AZURE_CLIENT_SECRET", "AZURE_CLIENT_SECRET looks like a GUID: that is the Secret ID, not the secret. Copy the Value column (e.g. mXK8Q~8vJ...) from Certificates & secrets; if it is no longer shown, create a new client secret")
	case strings.TrimSpace(c.ClientSecret.Value()) != c.ClientSecret.Value():
		add("AZURE_CLIENT_SECRET", "AZURE_CLIENT_SECRET has leading or trailing spaces; copy the Value column again without them")
	}
	if needSender {
		switch {
		case c.MailSender == "":
			add("GRAPH_MAIL_SENDER", "GRAPH_MAIL_SENDER env variable is missing")
		case !isEmail(c.MailSender):
			add("GRAPH_MAIL_SENDER", "GRAPH_MAIL_SENDER must be a full email address (e.g. no-reply@yourcompany.com) of a licensed or shared Exchange Online mailbox, got %q", c.MailSender)
		}
	}
	return probs
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
