// Package web serves mocpcr over HTTP: the HTML pages, the JSON API under
// /api/v1 and the health endpoints. Handlers parse, ask auth what the
// user may do, call the domain packages and render; no domain rule lives
// here.
package web

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/metrics"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
)

// Server holds the handlers' dependencies.
type Server struct {
	Config *config.Config
	DB     *store.DB
	Logger *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Demo is true when demo accounts exist; the sign-in page says so.
	Demo bool
	// Entra signs users in with Entra ID; nil when AUTH_PROVIDER is local.
	Entra *auth.Entra
	// Sessions and Throttle are the session lifetimes and sign-in limits.
	Sessions auth.SessionConfig
	Throttle auth.ThrottleConfig
	// Metrics records HTTP metrics; nil disables them.
	Metrics *metrics.Registry
	// Changes is the MOC/PCR domain service, shared by the API and pages.
	Changes *change.Service

	// StreamHeartbeat is how often the live event stream sends a
	// keep-alive; zero means 25 seconds.
	StreamHeartbeat time.Duration

	mux *http.ServeMux
	// bodyClasses is each route pattern's body class (routes.go), read by
	// withBodyLimit.
	bodyClasses map[string]bodyClass
	// streamsClosed ends every server-sent event stream; see CloseStreams.
	streamsClosed chan struct{}
	closeStreams  sync.Once
	pages         *zonedPages
	patterns      []string
	pageFillers   []func(r *http.Request, p *Page)
	openapi       []byte
	static        http.Handler

	notify notifyDeps
	// users caches API token and user lookups for a few seconds (see
	// auth.DefaultCacheTTL for the trade-off).
	users *auth.UserCache
	// touches batches session last-seen and token last-use writes; see
	// RunTouches.
	touches *auth.Touches
	// unread serves the pages' unread badge (see notify.UnreadCache).
	unread *notify.UnreadCache
}

// Deps are the optional components the server is built with.
type Deps struct {
	Demo    bool
	Metrics *metrics.Registry
	// Changes is the change service; nil builds one on db that writes
	// in-app notifications only.
	Changes *change.Service
	// Notify is the notification inbox, live updates and email delivery;
	// its zero value serves the inbox without live updates or email.
	Notify NotifyDeps
}

// New builds the server and registers every route (routes.go).
func New(cfg *config.Config, db *store.DB, logger *slog.Logger, deps Deps) (*Server, error) {
	s := &Server{Config: cfg, DB: db, Logger: logger, Now: time.Now, Demo: deps.Demo, Metrics: deps.Metrics, mux: http.NewServeMux(), bodyClasses: map[string]bodyClass{}, streamsClosed: make(chan struct{}),
		Sessions: auth.DefaultSessionConfig, Throttle: auth.DefaultThrottle, Changes: deps.Changes,
		users: auth.NewUserCache(auth.DefaultCacheTTL), touches: auth.NewTouches(),
		unread: notify.NewUnreadCache(auth.DefaultCacheTTL)}
	s.users.Touches = s.touches
	// Users, roles, sites and tokens changed by this process show on the
	// next request (auth.UserCache.Watch).
	s.users.Watch(db)
	// The badge counts follow this process's commits and, through the
	// hub, other replicas' (notify.UnreadCache).
	s.unread.Watch(db)
	if deps.Notify.Hub != nil {
		deps.Notify.Hub.OnPublish(s.unread.Changed)
	}
	s.notify = notifyDeps(deps.Notify)
	if cfg.AuthProvider == config.AuthEntra {
		// Sign-in uses the credential email uses: a certificate or
		// federated token when one is configured, else the secret.
		assertion, err := graph.AssertionSource(graph.Config{ClientID: cfg.ClientID,
			ClientCertificatePath: cfg.ClientCertificatePath, FederatedTokenFile: cfg.FederatedTokenFile}, func() time.Time { return s.Now() })
		if err != nil {
			return nil, fmt.Errorf("Entra ID sign-in: %w", err)
		}
		s.Entra = auth.NewEntra(auth.EntraConfig{
			AuthorityHost:   cfg.AuthorityHost,
			TenantID:        cfg.TenantID,
			ClientID:        cfg.ClientID,
			ClientSecret:    cfg.ClientSecret.Value(),
			ClientAssertion: assertion,
			RedirectURL:     cfg.BaseURL + "/auth/callback",
			Now:             func() time.Time { return s.Now() },
		})
	}
	s.pageFillers = []func(*http.Request, *Page){s.fillAuthPage, s.fillUnreadCount}
	if s.Changes == nil {
		s.Changes = change.New(db, &notify.Notifier{BaseURL: cfg.BaseURL, Dialect: db.Dialect})
	}
	parsed, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	s.pages = newZonedPages(parsed)
	if s.openapi, err = buildOpenAPI(); err != nil {
		return nil, fmt.Errorf("build OpenAPI document: %w", err)
	}
	staticDir, _ := fs.Sub(staticFiles, "static")
	s.static = http.StripPrefix("/static/", http.FileServerFS(staticDir))
	s.routes()
	return s, nil
}

// CloseStreams ends the open server-sent event streams. http.Server's
// Shutdown waits for every request to finish, and a live stream never
// would; call this when shutdown begins (http.Server.RegisterOnShutdown).
func (s *Server) CloseStreams() { s.closeStreams.Do(func() { close(s.streamsClosed) }) }

// RunTouches writes the batched session last-seen and API token last-use
// times every interval until ctx ends, then once more (see auth.Touches).
// Until it runs they stay in memory, where this server reads them back.
func (s *Server) RunTouches(ctx context.Context, interval time.Duration) {
	s.touches.Run(ctx, s.DB, interval, func(err error) {
		s.Logger.WarnContext(ctx, "recording session and token use", "err", err)
	})
}

// Handler is the complete HTTP handler with middleware applied.
func (s *Server) Handler() http.Handler {
	return s.withRequestID(s.withLogging(s.withRecover(s.withReadGate(s.withBodyLimit(s.withUser(s.withMetrics(s.mux)))))))
}

// Patterns lists every registered route pattern.
func (s *Server) Patterns() []string { return s.patterns }

// NotifyDeps are what the notification and email pages need.
type NotifyDeps struct {
	// Hub feeds the live stream; nil serves the stream with no updates.
	Hub *notify.Hub
	// Jobs is the email queue (delivery log retry, test emails).
	Jobs *jobs.Queue
	// Mail is the configured provider.
	Mail mail.Provider
	// CheckMail acquires a token from the provider (graph Check); nil
	// when the provider has nothing to check (dev mailbox).
	CheckMail func(ctx context.Context) (string, error)
}

type notifyDeps NotifyDeps
