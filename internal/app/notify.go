package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/devmail"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/metrics"
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
	opt.ClientCertificatePath, opt.FederatedTokenFile = cfg.ClientCertificatePath, cfg.FederatedTokenFile
	opt.Sender, opt.AuthorityHost, opt.GraphEndpoint = cfg.MailSender, cfg.AuthorityHost, cfg.GraphEndpoint
	opt.SaveToSentItems, opt.MaxConcurrent = cfg.SaveToSentItems, cfg.MailboxConcurrent
	c, err := graph.New(opt)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// SenderCheck is the outcome of proving one sender mailbox.
type SenderCheck struct {
	Sender string
	// Where says where the sender is configured, for people.
	Where string
	Err   error
}

// CheckSenders proves, without sending, each sender mailbox: the default
// (GRAPH_MAIL_SENDER) and every site's own (sites), once each.
func CheckSenders(ctx context.Context, g *graph.Client, defaultSender string, sites []string) []SenderCheck {
	out := []SenderCheck{{Sender: defaultSender, Where: "GRAPH_MAIL_SENDER"}}
	for _, s := range sites {
		if !slices.ContainsFunc(out, func(c SenderCheck) bool { return strings.EqualFold(c.Sender, s) }) {
			out = append(out, SenderCheck{Sender: s, Where: "a site's sender mailbox"})
		}
	}
	for i := range out {
		out[i].Err = g.CheckSender(ctx, out[i].Sender)
	}
	return out
}

// CheckMail acquires a token through p when it is the Graph client, then
// proves every sender mailbox as `mocpcr email check` does, and says what
// it found, one line each; it fails when any of it failed. The dev
// mailbox has nothing to check (nil).
func CheckMail(p mail.Provider, db *store.DB, defaultSender string) func(ctx context.Context) (string, error) {
	g, ok := p.(*graph.Client)
	if !ok {
		return nil
	}
	return func(ctx context.Context) (string, error) {
		st, err := g.Check(ctx)
		if err != nil {
			return "", err
		}
		lines := []string{fmt.Sprintf("Token acquired from Microsoft Entra ID; it is valid until %s.", st.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))}
		sites, err := change.SiteSenders(ctx, db.SQL)
		if err != nil {
			lines = append(lines, "Could not read the sites' own sender mailboxes, so only GRAPH_MAIL_SENDER was checked: "+err.Error())
		}
		failed := false
		for _, c := range CheckSenders(ctx, g, defaultSender, sites) {
			if c.Err != nil {
				failed = true
				lines = append(lines, fmt.Sprintf("%s %s: %v", c.Where, c.Sender, c.Err))
				continue
			}
			lines = append(lines, fmt.Sprintf("%s %s: Mail.Send is granted and the mailbox can send (checked without sending).", c.Where, c.Sender))
		}
		lines = append(lines, "Delivery to a recipient is proven only by sending: use Send a test email below.")
		msg := strings.Join(lines, "\n")
		if failed {
			return "", errors.New(msg)
		}
		return msg, nil
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
	if a.Config.EmailProvider == config.EmailGraph {
		a.Logger.Info("email goes out through Microsoft Graph", "sender", a.Config.MailSender, "graph", a.Config.GraphEndpoint)
	} else {
		a.Logger.Warn("EMAIL_PROVIDER=dev: emails are NOT leaving this machine; they are kept in the dev mailbox (Admin → Dev mailbox, /admin/mailbox). Set EMAIL_PROVIDER=graph to send through Microsoft 365")
	}
	opt := jobs.Options{
		Provider: a.Mail, Sender: a.Config.MailSender,
		MaxConcurrentSends: a.Config.MailboxConcurrent, MaxAttempts: a.Config.EmailMaxAttempts,
		DailyRecipients: a.Config.EmailDailyRecipients, DeferToDigest: notify.DeferToDigest(time.Now),
		Logger: a.Logger, ObserveSend: a.registerJobMetrics(),
	}
	if d := a.Config.JobRescueAfter; d > 0 {
		// A short rescue time needs a send timeout that fits inside it.
		opt.RescueStuckAfter = d
		opt.SendTimeout = min(30*time.Second, d/2)
	}
	a.Jobs, err = jobs.New(ctx, a.DB, opt)
	if err != nil {
		return web.NotifyDeps{}, err
	}
	a.Notifier = &notify.Notifier{
		Emails:  notify.JobEmails{Jobs: a.Jobs, BaseURL: a.Config.BaseURL},
		BaseURL: a.Config.BaseURL, Dialect: a.DB.Dialect,
	}
	a.Hub = notify.NewHub(a.DB, a.Logger)
	check := notify.SecretExpiryCheck{DB: a.DB, Notifier: a.Notifier, ExpiresOn: a.Config.SecretExpiresOn}
	// A certificate says when it expires: admins are warned as for a
	// secret, without AZURE_CLIENT_SECRET_EXPIRES_ON.
	if g, ok := a.Mail.(*graph.Client); ok && g.Certificate() != nil {
		check.ExpiresOn, check.Certificate = g.Certificate().ExpiresOn(), true
	}
	if err := a.Jobs.AddPeriodic("email.secret-expiry", time.Hour, check.Run); err != nil {
		return web.NotifyDeps{}, err
	}
	budget := notify.BudgetCheck{DB: a.DB, Notifier: a.Notifier, Sender: a.Config.MailSender, Limit: a.Config.EmailDailyRecipients}
	if err := a.Jobs.AddPeriodic("email.budget", 5*time.Minute, budget.Run); err != nil {
		return web.NotifyDeps{}, err
	}
	return web.NotifyDeps{Hub: a.Hub, Jobs: a.Jobs, Mail: a.Mail, CheckMail: CheckMail(a.Mail, a.DB, a.Config.MailSender)}, nil
}

// registerJobMetrics exports email delivery on the metrics endpoint: one
// Stats read per scrape feeds every email series. It returns the send
// latency observer for the queue (nil without metrics).
func (a *App) registerJobMetrics() func(outcome string, d time.Duration) {
	if a.Metrics == nil {
		return nil
	}
	m := a.Metrics.NewEmail(func() (metrics.EmailSnapshot, error) {
		q := a.Jobs // built after the observer it needs; read at scrape time
		if q == nil {
			return metrics.EmailSnapshot{}, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := q.Stats(ctx)
		return metrics.EmailSnapshot{
			Sent: s.Sent, Failed: s.Failed, Retried: s.Retried, GivenUp: s.GivenUp, MaybeDuplicate: s.MaybeDuplicate,
			BudgetUsed: s.BudgetUsed, BudgetLimit: s.BudgetLimit,
			QueueDepth: s.QueueDepth, WaitingConfig: s.WaitingConfig, OldestQueued: s.OldestQueued,
			TokenRequests: s.TokenRequests, TokenFailures: s.TokenFailures,
		}, err
	})
	return m.ObserveSend
}
