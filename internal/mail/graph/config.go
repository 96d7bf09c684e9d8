package graph

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for the public Microsoft cloud. National clouds set
// AuthorityHost and GraphEndpoint (AZURE_AUTHORITY_HOST, GRAPH_ENDPOINT).
const (
	DefaultAuthorityHost   = "https://login.microsoftonline.com"
	DefaultGraphEndpoint   = "https://graph.microsoft.com"
	DefaultMaxConcurrent   = 4
	DefaultRequestTimeout  = 30 * time.Second
	DefaultTokenFailureTTL = 30 * time.Second

	// RefreshBefore is how long before a token's real expiry the cache
	// fetches a new one (the guide's "two minutes before expiry").
	RefreshBefore = 2 * time.Minute
)

// Config is what the Graph client needs. Its String, GoString, Format and
// LogValue methods never show ClientSecret, so a Config can be logged or
// printed with any verb.
type Config struct {
	TenantID     string // AZURE_TENANT_ID
	ClientID     string // AZURE_CLIENT_ID
	ClientSecret string // AZURE_CLIENT_SECRET: the secret Value, never the Secret ID
	// ClientCertificatePath is a PEM file with the application's
	// certificate and private key (AZURE_CLIENT_CERTIFICATE_PATH): the
	// client signs an assertion with it instead of sending a secret. It is
	// used before a secret when both are set.
	ClientCertificatePath string
	// FederatedTokenFile holds a token of a federated identity
	// (AZURE_FEDERATED_TOKEN_FILE, Kubernetes workload identity), read
	// afresh for every token request; used before a secret.
	FederatedTokenFile string
	Sender             string // GRAPH_MAIL_SENDER
	// The environment is read by internal/config; the comments name the
	// variables so that messages here can point administrators at them.

	// AuthorityHost is the Entra ID host; default DefaultAuthorityHost.
	AuthorityHost string
	// GraphEndpoint is the Graph host; default DefaultGraphEndpoint.
	// The token scope is GraphEndpoint + "/.default".
	GraphEndpoint string

	// SaveToSentItems keeps a copy in the sender's Sent Items
	// (GRAPH_SAVE_TO_SENT_ITEMS).
	SaveToSentItems bool
	// MaxConcurrent caps in-flight sendMail requests from the sender
	// mailbox through this Client (GRAPH_MAX_CONCURRENT_SENDS); default 4,
	// Graph's own MailboxConcurrency limit. Create one Client per mailbox
	// and process: each Client has its own slots (SendSlots).
	MaxConcurrent int
	// RequestTimeout bounds each token and sendMail request; default 30 s.
	RequestTimeout time.Duration
	// TokenFailureTTL is how long a failed token request is remembered and
	// returned to callers without asking Entra ID again; default 30 s.
	TokenFailureTTL time.Duration

	// HTTPClient is reused for every request; default has timeouts.
	HTTPClient *http.Client
	// Now is the clock for token expiry and Retry-After dates; default time.Now.
	Now func() time.Time
	// Logger receives send and token events; default discards. A failed
	// send or token request is returned to the caller, which logs it once
	// with its context (the queue: email_id, request_id), so the client
	// logs those at Debug only. It warns about what no caller sees: a
	// background token refresh that failed while the current token still
	// works.
	Logger *slog.Logger
}

// withDefaults fills the zero fields and checks the rest. Messages name the
// environment variable an administrator has to set, in the guide's words.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	for _, f := range []struct{ value, env string }{
		{c.TenantID, "AZURE_TENANT_ID"},
		{c.ClientID, "AZURE_CLIENT_ID"},
		{c.ClientSecret + c.ClientCertificatePath + c.FederatedTokenFile, "AZURE_CLIENT_SECRET"},
		{c.Sender, "GRAPH_MAIL_SENDER"},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("%s env variable is missing", f.env))
		}
	}
	if c.Sender != "" && !strings.Contains(c.Sender, "@") {
		errs = append(errs, fmt.Errorf("GRAPH_MAIL_SENDER must be a full email address such as no-reply@yourcompany.com, got %q", c.Sender))
	}
	var err error
	if c.AuthorityHost, err = baseURL(c.AuthorityHost, DefaultAuthorityHost, "AZURE_AUTHORITY_HOST"); err != nil {
		errs = append(errs, err)
	}
	if c.GraphEndpoint, err = baseURL(c.GraphEndpoint, DefaultGraphEndpoint, "GRAPH_ENDPOINT"); err != nil {
		errs = append(errs, err)
	}
	if c.MaxConcurrent < 0 || c.RequestTimeout < 0 || c.TokenFailureTTL < 0 {
		errs = append(errs, errors.New("graph: MaxConcurrent, RequestTimeout and TokenFailureTTL must not be negative"))
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.TokenFailureTTL == 0 {
		c.TokenFailureTTL = DefaultTokenFailureTTL
	}
	if c.HTTPClient == nil {
		c.HTTPClient = defaultHTTPClient(c.RequestTimeout)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func baseURL(raw, def, env string) (string, error) {
	if raw == "" {
		return def, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%s must be an absolute https URL such as %s, got %q", env, def, raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

func defaultHTTPClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = timeout
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Timeout: timeout, Transport: t}
}

const redacted = "[REDACTED]"

func (c Config) secretLabel() string {
	if c.ClientSecret == "" {
		return "(missing)"
	}
	return redacted
}

// String shows the configuration without the client secret.
func (c Config) String() string {
	return fmt.Sprintf("graph.Config{TenantID:%q ClientID:%q ClientSecret:%s ClientCertificatePath:%q FederatedTokenFile:%q Sender:%q AuthorityHost:%q GraphEndpoint:%q SaveToSentItems:%t MaxConcurrent:%d}",
		c.TenantID, c.ClientID, c.secretLabel(), c.ClientCertificatePath, c.FederatedTokenFile, c.Sender, c.AuthorityHost, c.GraphEndpoint, c.SaveToSentItems, c.MaxConcurrent)
}

// GoString is used by %#v; it hides the client secret too.
func (c Config) GoString() string { return c.String() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %x ...) print String,
// so no verb can reach ClientSecret through reflection.
func (c Config) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", c.String())
	default:
		fmt.Fprint(f, c.String())
	}
}

// LogValue makes slog print the configuration without the client secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("tenant_id", c.TenantID),
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", c.secretLabel()),
		slog.String("client_certificate_path", c.ClientCertificatePath),
		slog.String("federated_token_file", c.FederatedTokenFile),
		slog.String("sender", c.Sender),
		slog.String("authority_host", c.AuthorityHost),
		slog.String("graph_endpoint", c.GraphEndpoint),
		slog.Bool("save_to_sent_items", c.SaveToSentItems),
		slog.Int("max_concurrent", c.MaxConcurrent),
	)
}
