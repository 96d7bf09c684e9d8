package web

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/jobs"
	mailpkg "github.com/mocpcr/mocpcr/internal/mail"
)

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// emailAdminData is the admin email page's content.
type emailAdminData struct {
	// Budgets is each sender mailbox's use of its own daily recipient
	// budget: GRAPH_MAIL_SENDER first, then the sites' senders.
	Budgets       []jobs.Budget
	Provider      string
	Dev           bool
	Sender        string
	MaxConcurrent int
	MaxAttempts   int
	SecretExpires time.Time
	// SecretDaysLeft is days until the client secret expires (negative
	// when it has); meaningful when SecretExpires is set.
	SecretDaysLeft int
	SecretWarning  string
	CheckResult    string
	CheckOK        bool
	TestTo         string
	Stats          jobs.Stats
	// Attention counts the emails waiting for the configuration, failed
	// and given up; WaitingWarning says what to do about the waiting ones.
	Attention      jobs.Attention
	WaitingWarning string
}

// WaitingWarning tells an admin that emails wait for the email
// configuration to be fixed: with one cause, the guide's message of the
// newest; with several, how many wait on each, with its message. Empty
// when none waits.
func WaitingWarning(a jobs.Attention, interval, limit time.Duration) string {
	if a.WaitingConfig == 0 {
		return ""
	}
	n := fmt.Sprintf("%d emails are", a.WaitingConfig)
	if a.WaitingConfig == 1 {
		n = "1 email is"
	}
	why := a.WaitingError
	if len(a.WaitingReasons) > 1 {
		parts := make([]string, 0, len(a.WaitingReasons)+1)
		for _, r := range a.WaitingReasons {
			parts = append(parts, fmt.Sprintf("%d %s: %s", r.Emails, plural(int(r.Emails), "email", "emails"), r.Error))
		}
		if a.WaitingOther > 0 {
			parts = append(parts, fmt.Sprintf("%d more for other causes", a.WaitingOther))
		}
		why = fmt.Sprintf("%d causes. %s", len(a.WaitingReasons), strings.Join(parts, "; "))
	}
	return fmt.Sprintf("%s waiting for the email configuration to be fixed: %s. Fix what the message names (see the troubleshooting table of the setup guide), then restart mocpcr or use Retry all in the delivery log: waiting emails are tried again at once. Until then they are tried every %s, and given up %s after they were queued.",
		n, why, durationText(interval), durationText(limit))
}

// durationText is a duration in words: "5 minutes", "3 days".
func durationText(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d %s", int(d/(24*time.Hour)), plural(int(d/(24*time.Hour)), "day", "days"))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d %s", int(d/time.Hour), plural(int(d/time.Hour), "hour", "hours"))
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d %s", int(d/time.Minute), plural(int(d/time.Minute), "minute", "minutes"))
	}
	return d.String()
}

// SecretWarning says what an admin must do about the client secret's
// expiry: from 30 days before it. Empty when nothing is due.
func SecretWarning(cfg *config.Config, now time.Time) string {
	if cfg.SecretExpiresOn.IsZero() {
		return ""
	}
	days := int(cfg.SecretExpiresOn.Sub(now.UTC().Truncate(24*time.Hour)).Hours() / 24)
	switch {
	case days < 0:
		return fmt.Sprintf("The Azure client secret expired on %s: Graph email fails until AZURE_CLIENT_SECRET holds a new secret Value (Certificates & secrets → New client secret), and the server is restarted.", cfg.SecretExpiresOn.Format(time.DateOnly))
	case days <= 30:
		return fmt.Sprintf("The Azure client secret expires on %s (in %d days). Create a new client secret, put its Value in AZURE_CLIENT_SECRET and AZURE_CLIENT_SECRET_EXPIRES_ON, restart, confirm email is sent, then delete the old secret.", cfg.SecretExpiresOn.Format(time.DateOnly), days)
	}
	return ""
}

func (s *Server) emailAdminData(r *http.Request) emailAdminData {
	d := emailAdminData{
		Provider: s.Config.EmailProvider, Dev: s.Config.EmailProvider == config.EmailDev, Sender: s.Config.MailSender,
		MaxConcurrent: s.Config.MailboxConcurrent, MaxAttempts: s.Config.EmailMaxAttempts,
		SecretExpires: s.Config.SecretExpiresOn, SecretWarning: SecretWarning(s.Config, s.Now()),
	}
	if s.notify.Mail != nil {
		d.Provider = s.notify.Mail.Name()
	}
	if !d.SecretExpires.IsZero() {
		d.SecretDaysLeft = int(d.SecretExpires.Sub(s.Now().UTC().Truncate(24*time.Hour)).Hours() / 24)
	}
	if s.notify.Jobs != nil {
		d.Stats, _ = s.notify.Jobs.Stats(r.Context())
	}
	// The budgets are read from the database, so they count every replica.
	sites, err := change.SiteSenders(r.Context(), s.DB.SQL)
	if err == nil {
		d.Budgets, err = jobs.SenderBudgets(r.Context(), s.DB.SQL, s.Config.MailSender, sites, s.Config.EmailDailyRecipients, s.Now())
	}
	if err != nil {
		s.Logger.WarnContext(r.Context(), "email admin page", "err", err)
	}
	// Read from the delivery log, so every replica's admin page shows it.
	if a, err := jobs.ReadAttention(r.Context(), s.DB.SQL); err == nil {
		d.Attention = a
		interval, limit := s.configWait()
		d.WaitingWarning = WaitingWarning(a, interval, limit)
	} else {
		s.Logger.WarnContext(r.Context(), "email admin page", "err", err)
	}
	return d
}

func (s *Server) pageShowEmail(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "admin_email.html", &Page{Title: "Email", Data: s.emailAdminData(r)})
}

func (s *Server) pageCheckEmail(w http.ResponseWriter, r *http.Request) {
	d := s.emailAdminData(r)
	switch {
	case s.notify.CheckMail == nil && d.Dev:
		d.CheckOK, d.CheckResult = true, "The dev mailbox is in use: mail is not leaving this machine. Nothing to check."
	case s.notify.CheckMail == nil:
		d.CheckResult = "This process has no email provider to check."
	default:
		ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
		msg, err := s.notify.CheckMail(ctx)
		cancel()
		if err != nil {
			d.CheckResult = err.Error()
		} else {
			d.CheckOK, d.CheckResult = true, msg
		}
	}
	s.render(w, r, http.StatusOK, "admin_email.html", &Page{Title: "Email", Data: d})
}

// pageSendTestEmail queues a test email like any other, so it shows in the
// delivery log with its attempts.
func (s *Server) pageSendTestEmail(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	d := s.emailAdminData(r)
	d.TestTo = strings.TrimSpace(r.PostFormValue("to"))
	if a, err := mail.ParseAddress(d.TestTo); err != nil || a.Address != d.TestTo {
		s.render(w, r, http.StatusBadRequest, "admin_email.html", &Page{Title: "Email", Data: d,
			Errors: map[string]string{"to": fmt.Sprintf("To must be an email address like jane.doe@example.com, got %q", d.TestTo)}})
		return
	}
	if s.notify.Jobs == nil {
		s.render(w, r, http.StatusServiceUnavailable, "admin_email.html", &Page{Title: "Email", Data: d, Errors: map[string]string{"to": "the email queue is not running in this process"}})
		return
	}
	html, err := mailpkg.RenderNotification(mailpkg.NotificationEmail{
		Title: "mocpcr test email",
		Body:  fmt.Sprintf("%s sent this test email from the Email admin page at %s. If you can read it, email delivery works.", u.Name, s.Now().UTC().Format("2006-01-02 15:04 UTC")),
	})
	if err != nil {
		s.serverFault(w, r, "render test email", err)
		return
	}
	id, err := s.notify.Jobs.EnqueueEmail(r.Context(), jobs.OutgoingEmail{Kind: jobs.KindTest, To: mailpkg.Address{Email: d.TestTo}, Subject: "mocpcr test email", HTMLBody: html})
	if err != nil {
		s.serverFault(w, r, "queue test email", err)
		return
	}
	redirectWithFlash(w, r, "/admin/email/log", fmt.Sprintf("Test email %d to %s is queued; its outcome shows here.", id, d.TestTo))
}
