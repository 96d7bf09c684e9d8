// Package app wires mocpcr together: configuration, database, mail,
// background jobs and the web server. cmd/mocpcr and the end-to-end tests
// boot the system through it, so tests run exactly what production runs.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/demo"
	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/metrics"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/web"
)

// Options are start-up choices that are not configuration.
type Options struct {
	// Demo seeds demo data into an empty PostgreSQL database too
	// (the embedded default always seeds an empty database).
	Demo bool
	// Version is reported by /metrics.
	Version string
}

// App is a running mocpcr.
type App struct {
	Config *config.Config
	Logger *slog.Logger
	DB     *store.DB
	Web    *web.Server
	// Handler is what Serve serves: Web's handler, replaceable in tests.
	Handler http.Handler
	// Demo is true when the database was seeded with demo accounts.
	Demo bool
	// Metrics is the process's Prometheus registry.
	Metrics *metrics.Registry
	// Mail, Jobs, Notifier and Hub are email delivery and notifications.
	Mail     mail.Provider
	Jobs     *jobs.Queue
	Notifier *notify.Notifier
	// Changes is the MOC/PCR workflow.
	Changes *change.Service
	Hub     *notify.Hub
}

// StoreOptions says how to open the configured database; every wait for a
// PostgreSQL server that is not up yet is one log line.
func StoreOptions(cfg *config.Config, logger *slog.Logger) store.Options {
	return store.Options{
		URL:      cfg.DatabaseURL.Value(),
		Password: cfg.DatabasePassword.Value(),
		DataDir:  cfg.DataDir,
		Wait:     cfg.DatabaseWait,
		MaxConns: cfg.DatabaseMaxConns,
		OnWait: func(err error, delay time.Duration) {
			logger.Warn("waiting for PostgreSQL (MOCPCR_DB_WAIT)", "retry_in", delay.Round(time.Millisecond).String(), "err", err.Error())
		},
	}
}

// New opens and migrates the database, seeds demo data when due, and
// builds every component. It starts nothing.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger, opt Options) (*App, error) {
	db, err := store.Open(ctx, StoreOptions(cfg, logger))
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, DB: db}
	if err := a.init(ctx, opt); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) init(ctx context.Context, opt Options) error {
	res, err := a.DB.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(res.Applied) > 0 {
		a.Logger.Info("database migrated", "applied", len(res.Applied), "dialect", a.DB.Dialect)
	}
	empty, err := demo.IsEmpty(ctx, a.DB)
	if err != nil {
		return err
	}
	// Demo people have made-up addresses (…@demo.mocpcr.local): seeding
	// them where email really leaves would send mail that bounces back
	// to the sender mailbox, and their passwords are public.
	realSite := a.Config.EmailProvider != config.EmailDev || a.Config.AuthProvider != config.AuthLocal
	if opt.Demo && realSite {
		return fmt.Errorf("--demo seeds sample people with made-up addresses and a public password: run it with EMAIL_PROVIDER=dev and local sign-in (AUTH_PROVIDER unset), not on a site that sends real email or signs in with Entra ID")
	}
	switch {
	case empty && (a.Config.Embedded() || opt.Demo) && !realSite:
		if err := demo.Seed(ctx, a.DB, change.SeedDemo); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
		a.Logger.Info("demo site seeded: sign in with a demo account", "password", demo.Password, "example", demo.Accounts[0].Email)
	case empty && a.Config.AuthProvider == config.AuthLocal:
		a.Logger.Warn("no users yet: create the first administrator with: mocpcr user create --email you@example.com --name \"Your Name\" --role admin --all-sites")
	case empty:
		a.Logger.Info("no users yet: people are added at their first Microsoft sign-in; give someone the Admin app role in Entra ID, or run: mocpcr user create --email you@example.com --name \"Your Name\" --role admin --all-sites")
	}
	a.Demo, err = a.isDemo(ctx)
	if err != nil {
		return err
	}
	if a.Demo && a.Config.EmailProvider != config.EmailDev {
		a.Logger.Warn("this database holds the demo site's sample people; emails to their made-up addresses (…@demo.mocpcr.local) will bounce")
	}
	for _, w := range a.Config.Warnings() {
		a.Logger.Warn(w.Message, "variable", w.Var)
	}
	if a.Config.AuthProvider == config.AuthEntra {
		a.Logger.Info("sign-in: Microsoft Entra ID; the app registration needs the redirect URI "+a.Config.BaseURL+"/auth/callback (README: Sign-in)", "provider", config.AuthEntra)
	} else {
		a.Logger.Info("sign-in: local accounts (email and password); set AUTH_PROVIDER=entra for Microsoft sign-in (README: Sign-in)", "provider", config.AuthLocal)
	}
	a.Metrics = metrics.New(opt.Version)
	notifyDeps, err := a.initNotify(ctx)
	if err != nil {
		return err
	}
	a.Changes = change.New(a.DB, a.Notifier)
	if err := a.addPeriodicJobs(); err != nil {
		return err
	}
	a.Web, err = web.New(a.Config, a.DB, a.Logger, web.Deps{Demo: a.Demo, Metrics: a.Metrics, Notify: notifyDeps, Changes: a.Changes})
	if err != nil {
		return err
	}
	a.Handler = a.Web.Handler()
	return nil
}

// isDemo reports whether the demo accounts exist, so the sign-in page can
// say which passwords work.
func (a *App) isDemo(ctx context.Context) (bool, error) {
	var n int
	err := a.DB.SQL.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE lower(email) = lower($1)`, demo.Accounts[0].Email).Scan(&n)
	return n > 0, err
}

// Serve runs the HTTP server on ln until ctx is cancelled, then stops
// taking new requests and lets in-flight ones finish (up to 25 seconds).
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler: a.Handler,
		// Every connection is bounded; the live event stream and large
		// downloads set their own deadlines (web: serveEvents,
		// serveAttachment). ReadTimeout bounds an upload's body: the
		// largest attachment at about 100 KB/s.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Background work runs while the server does: the job queue (email,
	// periodic jobs) and the live notification hub.
	if err := a.Jobs.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // asked to stop while starting: a clean stop, not a failure
		}
		return err
	}
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	hubDone := make(chan struct{})
	go func() { a.Hub.Run(hubCtx); close(hubDone) }()
	// Session and token use is written in batches; the last batch is
	// written when Serve returns.
	touchCtx, stopTouches := context.WithCancel(context.WithoutCancel(ctx))
	touchesDone := make(chan struct{})
	go func() { a.Web.RunTouches(touchCtx, auth.DefaultTouchFlushInterval); close(touchesDone) }()
	// The job queue stops as soon as the stop is asked for, beside the
	// HTTP shutdown rather than after it: no new send starts from then
	// on, and the sends in flight get the queue's whole stop timeout to
	// finish and be recorded (a send cut short after Graph received it
	// would go out again after the restart).
	var stopJobsOnce sync.Once
	jobsStopped := make(chan struct{})
	stopJobs := func() {
		stopJobsOnce.Do(func() {
			go func() {
				defer close(jobsStopped)
				jobCtx, cancel := context.WithTimeout(context.Background(), a.Jobs.StopTimeout())
				defer cancel()
				if err := a.Jobs.Stop(jobCtx); err != nil {
					a.Logger.Warn("stopping the job queue", "err", err)
				}
			}()
		})
	}
	defer func() {
		stopJobs()
		stopHub()
		<-hubDone
		stopTouches()
		<-touchesDone
		<-jobsStopped
	}()
	srv.RegisterOnShutdown(a.Web.CloseStreams)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if a.Config.MetricsAddr != "" {
		msrv := &http.Server{Addr: a.Config.MetricsAddr, Handler: a.Metrics.Handler(),
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
		go func() {
			if err := msrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.Logger.Error("metrics listener failed (MOCPCR_METRICS_ADDR)", "addr", a.Config.MetricsAddr, "err", err)
			}
		}()
		defer msrv.Close()
	}
	a.Logger.Info("mocpcr listening", "addr", ln.Addr().String(), "url", a.Config.BaseURL, "database", a.DB.Dialect)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down: finishing in-flight requests and email sends", "email_stop_timeout", a.Jobs.StopTimeout().String())
	stopJobs()
	shutCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}

// Close releases the database.
func (a *App) Close() error {
	if a.Jobs != nil {
		a.Jobs.Close()
	}
	return a.DB.Close()
}
