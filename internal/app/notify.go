package app

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/devmail"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/web"
)

// NewMailProvider returns the provider EMAIL_PROVIDER names: the dev
// mailbox (default) or the Microsoft Graph client.
func NewMailProvider(cfg *config.Config, db *store.DB, opt graph.Config) (mail.Provider, error) {
	if cfg.EmailProvider != config.EmailGraph {
		return devmail.New(db, cfg.MailSender, nil), nil
	}
	opt.TenantID, opt.ClientID, opt.ClientSecret = cfg.TenantID, cfg.ClientID, cfg.ClientSecret.Value()
	opt.Sender, opt.AuthorityHost, opt.GraphEndpoint = cfg.MailSender, cfg.AuthorityHost, cfg.GraphEndpoint
	opt.SaveToSentItems, opt.MaxConcurrent = cfg.SaveToSentItems, cfg.MailboxConcurrent
	c, err := graph.New(opt)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CheckMail acquires a token through p when it is the Graph client, and
// says what it got; the dev mailbox has nothing to check.
func CheckMail(p mail.Provider) func(ctx context.Context) (string, error) {
	g, ok := p.(*graph.Client)
	if !ok {
		return nil
	}
	return func(ctx context.Context) (string, error) {
		st, err := g.Check(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Token acquired from Microsoft Entra ID; it is valid until %s. (Mail.Send consent and the sender mailbox are only proven by sending a test email.)",
			st.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")), nil
	}
}

// initNotify builds the mail provider, the job queue, the notifier and the
// live hub, and returns what the web server needs from them.
func (a *App) initNotify(ctx context.Context) (web.NotifyDeps, error) {
	var err error
	a.Mail, err = NewMailProvider(a.Config, a.DB, graph.Config{Logger: a.Logger})
	if err != nil {
		return web.NotifyDeps{}, err
	}
	a.Jobs, err = jobs.New(ctx, a.DB, jobs.Options{
		Provider: a.Mail, Sender: a.Config.MailSender,
		MaxConcurrentSends: a.Config.MailboxConcurrent, MaxAttempts: a.Config.EmailMaxAttempts,
		Logger: a.Logger,
	})
	if err != nil {
		return web.NotifyDeps{}, err
	}
	a.Notifier = &notify.Notifier{
		Emails:  notify.JobEmails{Jobs: a.Jobs, BaseURL: a.Config.BaseURL},
		BaseURL: a.Config.BaseURL, Dialect: a.DB.Dialect,
	}
	a.Hub = notify.NewHub(a.DB, a.Logger)
	check := notify.SecretExpiryCheck{DB: a.DB, Notifier: a.Notifier, ExpiresOn: a.Config.SecretExpiresOn}
	if err := a.Jobs.AddPeriodic("email.secret-expiry", time.Hour, check.Run); err != nil {
		return web.NotifyDeps{}, err
	}
	a.registerJobMetrics()
	return web.NotifyDeps{Hub: a.Hub, Jobs: a.Jobs, Mail: a.Mail, CheckMail: CheckMail(a.Mail)}, nil
}

// registerJobMetrics exports the email counters on the metrics endpoint.
func (a *App) registerJobMetrics() {
	if a.Metrics == nil {
		return
	}
	stat := func(f func(jobs.Stats) float64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			s, _ := a.Jobs.Stats(ctx)
			return f(s)
		}
	}
	a.Metrics.CounterFunc("mocpcr_email_sent_total", "Emails the provider accepted.", stat(func(s jobs.Stats) float64 { return float64(s.Sent) }))
	a.Metrics.CounterFunc("mocpcr_email_failed_total", "Emails that failed permanently.", stat(func(s jobs.Stats) float64 { return float64(s.Failed) }))
	a.Metrics.CounterFunc("mocpcr_email_retried_total", "Failed email attempts scheduled for retry.", stat(func(s jobs.Stats) float64 { return float64(s.Retried) }))
	a.Metrics.CounterFunc("mocpcr_email_given_up_total", "Emails given up after the maximum attempts.", stat(func(s jobs.Stats) float64 { return float64(s.GivenUp) }))
	a.Metrics.GaugeFunc("mocpcr_email_queue_depth", "Emails queued, sending or waiting to retry.", stat(func(s jobs.Stats) float64 { return float64(s.QueueDepth) }))
	a.Metrics.CounterFunc("mocpcr_email_send_seconds_total", "Total time spent in provider sends.", stat(func(s jobs.Stats) float64 { return s.SendSeconds }))
	a.Metrics.CounterFunc("mocpcr_email_sends_total", "Provider send calls.", stat(func(s jobs.Stats) float64 { return float64(s.Sends) }))
	a.Metrics.CounterFunc("mocpcr_graph_token_requests_total", "Token requests to Microsoft Entra ID.", stat(func(s jobs.Stats) float64 { return float64(s.TokenRequests) }))
}

// Notify is a convenience for callers outside a transaction (tests, CLI).
func (a *App) Notify(ctx context.Context, ev notify.Event) error {
	return a.DB.Tx(ctx, func(tx *sql.Tx) error { return a.Notifier.Notify(ctx, tx, ev) })
}
