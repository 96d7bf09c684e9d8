package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/jobs"
	mailpkg "github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/devmail"
	"github.com/mocpcr/mocpcr/internal/store"
)

func emailFilter(r *http.Request) (jobs.EmailFilter, error) {
	q := r.URL.Query()
	f := jobs.EmailFilter{Status: q.Get("status"), Limit: 50}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, fmt.Errorf("before must be an email id, got %q", v)
		}
		f.BeforeID = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return f, fmt.Errorf("limit must be a whole number from 1 to 200, got %q", v)
		}
		f.Limit = n
	}
	return f, nil
}

func (s *Server) apiListEmails(w http.ResponseWriter, r *http.Request) {
	f, err := emailFilter(r)
	var list []jobs.EmailRecord
	if err == nil {
		list, err = jobs.ListEmails(r.Context(), s.DB.SQL, f)
		if err != nil && strings.HasPrefix(err.Error(), "status must") {
			writeJSONError(w, r, http.StatusBadRequest, err.Error())
			return
		}
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
	} else {
		writeJSONError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	resp := map[string]any{"emails": emptyIfNil(list), "next_before": ""}
	if len(list) == f.Limit {
		resp["next_before"] = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, resp)
}

func emptyIfNil(l []jobs.EmailRecord) []jobs.EmailRecord {
	if l == nil {
		return []jobs.EmailRecord{}
	}
	return l
}

func (s *Server) retryEmail(ctx context.Context, id int64) error {
	if s.notify.Jobs == nil {
		return errNoQueue
	}
	return s.notify.Jobs.RetryEmail(ctx, id)
}

func (s *Server) apiRetryEmail(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	if !ok {
		writeJSONError(w, r, http.StatusNotFound, "no such email")
		return
	}
	err := s.retryEmail(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, r, http.StatusNotFound, "no such email")
	case errors.Is(err, jobs.ErrNotRetryable):
		writeJSONError(w, r, http.StatusConflict, err.Error())
	case err != nil:
		s.apiInternal(w, r, err)
	default:
		e, _, err := jobs.GetEmail(r.Context(), s.DB.SQL, id)
		if err != nil {
			s.apiInternal(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, e)
	}
}

// statusLabels are the delivery statuses as people read them.
var statusLabels = map[string]string{
	jobs.StatusQueued: "Queued", jobs.StatusSending: "Sending", jobs.StatusSent: "Sent", jobs.StatusRetrying: "Retrying",
	jobs.StatusWaitingConfig: "Waiting for configuration", jobs.StatusFailed: "Failed", jobs.StatusGivenUp: "Given up",
}

// statusLabel names a delivery status; an unknown one shows as stored.
func statusLabel(status string) string {
	if l, ok := statusLabels[status]; ok {
		return l
	}
	return status
}

type emailLogData struct {
	Emails   []jobs.EmailRecord
	Status   string
	Statuses []option
	NextURL  string
	// NewestURL is the first page, set when this one is not it.
	NewestURL string
	// Attention counts the emails waiting for the configuration, failed
	// and given up, for the banner and the "Retry all" button.
	Attention jobs.Attention
	// CanRetry is whether the viewer may retry emails.
	CanRetry bool
	// ConfigRetry and ConfigLimit are how often an email waiting for the
	// configuration is tried again and how long after it was queued it is
	// given up.
	ConfigRetry, ConfigLimit time.Duration
}

// StatusLabel names a delivery status for the page.
func (emailLogData) StatusLabel(status string) string { return statusLabel(status) }

// MailboxID is the dev mailbox message an email went to, 0 if none.
func (emailLogData) MailboxID(e jobs.EmailRecord) int64 {
	id, _ := devmail.MessageID(e.RequestID)
	return id
}

// GiveUpAt is when an email waiting for the configuration is given up.
func (d emailLogData) GiveUpAt(e jobs.EmailRecord) time.Time { return e.QueuedAt.Add(d.ConfigLimit) }

// configWait is the queue's schedule for emails waiting for the email
// configuration: its own, or the defaults when no queue runs here.
func (s *Server) configWait() (interval, limit time.Duration) {
	if s.notify.Jobs != nil {
		return s.notify.Jobs.ConfigWait()
	}
	return jobs.DefaultConfigRetryInterval, jobs.DefaultConfigWaitLimit
}

// errNoQueue answers requests that need the email queue in a process
// that does not run one.
var errNoQueue = errors.New("the email queue is not running in this process")

func (s *Server) retryFailedEmails(ctx context.Context) (jobs.RetryResult, error) {
	if s.notify.Jobs == nil {
		return jobs.RetryResult{}, errNoQueue
	}
	return s.notify.Jobs.RetryFailed(ctx)
}

// apiAdminRetryFailedEmails is "Retry all": after fixing the email
// configuration, every failed and given-up email is queued again with a
// fresh set of attempts, and every email waiting for the configuration is
// tried now. Sent emails are never sent again.
func (s *Server) apiRetryFailedEmails(w http.ResponseWriter, r *http.Request) {
	res, err := s.retryFailedEmails(r.Context())
	switch {
	case errors.Is(err, errNoQueue):
		writeJSONError(w, r, http.StatusServiceUnavailable, err.Error())
	case err != nil:
		s.apiInternal(w, r, err)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func (s *Server) pageRetryFailedEmails(w http.ResponseWriter, r *http.Request) {
	res, err := s.retryFailedEmails(r.Context())
	switch {
	case errors.Is(err, errNoQueue):
		back(w, r, "/admin/email/log", "Nothing was retried: "+err.Error()+".")
	case err != nil:
		s.serverFault(w, r, "retry failed emails", err)
	default:
		back(w, r, "/admin/email/log", retryFailedMessage(res))
	}
}

// retryFailedMessage says what "Retry all" did.
func retryFailedMessage(res jobs.RetryResult) string {
	if res == (jobs.RetryResult{}) {
		return "Nothing to retry: no email is failed, given up or waiting for the email configuration."
	}
	var parts []string
	if res.Requeued > 0 {
		parts = append(parts, fmt.Sprintf("%d failed or given-up %s queued again with a fresh set of attempts", res.Requeued, plural(res.Requeued, "email", "emails")))
	}
	if res.WaitingRetried > 0 {
		parts = append(parts, fmt.Sprintf("%d %s waiting for the email configuration tried again now", res.WaitingRetried, plural(res.WaitingRetried, "email", "emails")))
	}
	return strings.Join(parts, "; ") + ". Sent emails are never sent again."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (s *Server) pageListEmailLog(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	f, err := emailFilter(r)
	if err == nil && f.Status != "" && !slices.Contains(jobs.Statuses, f.Status) {
		// The page names statuses as its filter does, not by their codes.
		labels := make([]string, len(jobs.Statuses))
		for i, st := range jobs.Statuses {
			labels[i] = statusLabel(st)
		}
		msg := fmt.Sprintf("Status must be one of %s; got %q.", strings.Join(labels, ", "), f.Status)
		s.render(w, r, http.StatusBadRequest, "notfound.html", &Page{Title: "Bad request", Data: msg})
		return
	}
	var list []jobs.EmailRecord
	if err == nil {
		list, err = jobs.ListEmails(r.Context(), s.DB.SQL, f)
	}
	if err != nil && (strings.HasPrefix(err.Error(), "status must") || strings.HasPrefix(err.Error(), "before") || strings.HasPrefix(err.Error(), "limit")) {
		s.render(w, r, http.StatusBadRequest, "notfound.html", &Page{Title: "Bad request", Data: err.Error()})
		return
	}
	if err != nil {
		s.serverFault(w, r, "email log", err)
		return
	}
	d := emailLogData{Emails: list, Status: f.Status, CanRetry: auth.Can(u, auth.ActionSendEmailAdmin)}
	for _, st := range jobs.Statuses {
		d.Statuses = append(d.Statuses, option{Value: st, Label: statusLabel(st), Selected: st == f.Status})
	}
	d.ConfigRetry, d.ConfigLimit = s.configWait()
	if d.Attention, err = jobs.ReadAttention(r.Context(), s.DB.SQL); err != nil {
		s.serverFault(w, r, "email log", err)
		return
	}
	if len(list) == f.Limit {
		v := url.Values{"before": {strconv.FormatInt(list[len(list)-1].ID, 10)}}
		if f.Status != "" {
			v.Set("status", f.Status)
		}
		d.NextURL = "/admin/email/log?" + v.Encode()
	}
	if f.BeforeID != 0 {
		// An older page (or a mailbox link into one) leads back to the top.
		d.NewestURL = "/admin/email/log"
		if f.Status != "" {
			d.NewestURL += "?" + url.Values{"status": {f.Status}}.Encode()
		}
	}
	s.render(w, r, http.StatusOK, "admin_email_log.html", &Page{Title: "Email delivery log", Data: d})
}

func (s *Server) pageRetryEmail(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	if !ok {
		s.render(w, r, http.StatusNotFound, "notfound.html", &Page{Title: "Not found", Data: "There is no such email."})
		return
	}
	err := s.retryEmail(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.render(w, r, http.StatusNotFound, "notfound.html", &Page{Title: "Not found", Data: "There is no such email."})
	case err != nil && !errors.Is(err, jobs.ErrNotRetryable):
		s.serverFault(w, r, "retry email", err)
	case err != nil:
		back(w, r, "/admin/email/log", err.Error())
	default:
		back(w, r, "/admin/email/log", fmt.Sprintf("Email %d is queued again.", id))
	}
}

// emailAdminData is the admin email page's content.
type emailAdminData struct {
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
// configuration to be fixed, with the guide's message of the newest one.
// Empty when none waits.
func WaitingWarning(a jobs.Attention, interval, limit time.Duration) string {
	if a.WaitingConfig == 0 {
		return ""
	}
	n := fmt.Sprintf("%d emails are", a.WaitingConfig)
	if a.WaitingConfig == 1 {
		n = "1 email is"
	}
	return fmt.Sprintf("%s waiting for the email configuration to be fixed: %s. Fix what the message names (see the troubleshooting table of the setup guide), then restart mocpcr or use Retry all in the delivery log: waiting emails are tried again at once. Until then they are tried every %s, and given up %s after they were queued.",
		n, a.WaitingError, durationText(interval), durationText(limit))
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

// adminEmailTest queues a test email like any other, so it shows in the
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

// devMessage is one row of the dev mailbox.
type devMessage struct {
	ID        int64
	Sender    string
	To        string
	Cc        string
	Subject   string
	HTMLBody  string
	CreatedAt time.Time
	// LogID is the delivery-log entry of the email, 0 when no entry
	// carries this message's request id.
	LogID int64
}

// RequestID is the id the delivery log keeps for this message.
func (m devMessage) RequestID() string { return devmail.RequestID(m.ID) }

// LogURL shows the delivery-log entry: its page starts at that entry.
func (m devMessage) LogURL() string {
	return "/admin/email/log?before=" + strconv.FormatInt(m.LogID+1, 10) + "#email-" + strconv.FormatInt(m.LogID, 10)
}

// logIDs finds the delivery-log entries of dev mailbox messages: the log
// keeps each message's request id (devmail.RequestID).
func (s *Server) logIDs(ctx context.Context, msgs []devMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	args := make([]any, len(msgs))
	marks := make([]string, len(msgs))
	at := map[string]int{}
	for i, m := range msgs {
		rid := devmail.RequestID(m.ID)
		args[i], marks[i], at[rid] = rid, "$"+strconv.Itoa(i+1), i
	}
	rows, err := s.DB.SQL.QueryContext(ctx, `SELECT id, request_id FROM email_messages WHERE request_id IN (`+strings.Join(marks, ", ")+`) ORDER BY id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var rid string
		if err := rows.Scan(&id, &rid); err != nil {
			return err
		}
		if i, ok := at[rid]; ok && msgs[i].LogID == 0 {
			msgs[i].LogID = id
		}
	}
	return rows.Err()
}

func (s *Server) pageListMailbox(w http.ResponseWriter, r *http.Request) {
	rows, err := s.DB.SQL.QueryContext(r.Context(), `SELECT id, sender, to_addrs, cc_addrs, subject, created_at FROM dev_mailbox ORDER BY id DESC LIMIT 200`)
	if err != nil {
		s.serverFault(w, r, "dev mailbox", err)
		return
	}
	defer rows.Close()
	var list []devMessage
	for rows.Next() {
		var m devMessage
		if err := rows.Scan(&m.ID, &m.Sender, &m.To, &m.Cc, &m.Subject, &m.CreatedAt); err != nil {
			s.serverFault(w, r, "dev mailbox", err)
			return
		}
		list = append(list, m)
	}
	if err := s.logIDs(r.Context(), list); err != nil {
		s.serverFault(w, r, "dev mailbox", err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_mailbox.html", &Page{Title: "Dev mailbox", Data: map[string]any{
		"Messages": list, "Dev": s.Config.EmailProvider == config.EmailDev}})
}

func (s *Server) pageShowMailboxMessage(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(r)
	var m devMessage
	var body string
	err := sql.ErrNoRows
	if ok {
		err = s.DB.SQL.QueryRowContext(r.Context(), `SELECT id, sender, to_addrs, cc_addrs, subject, html_body, created_at FROM dev_mailbox WHERE id = $1`, id).
			Scan(&m.ID, &m.Sender, &m.To, &m.Cc, &m.Subject, &body, &m.CreatedAt)
	}
	if errors.Is(err, sql.ErrNoRows) {
		s.render(w, r, http.StatusNotFound, "notfound.html", &Page{Title: "Not found", Data: "There is no such message in the dev mailbox."})
		return
	}
	if err != nil {
		s.serverFault(w, r, "dev mailbox message", err)
		return
	}
	// The body is shown in a sandboxed iframe (srcdoc, no scripts), so
	// HTML in a captured email cannot act on this page.
	m.HTMLBody = body
	one := []devMessage{m}
	if err := s.logIDs(r.Context(), one); err != nil {
		s.serverFault(w, r, "dev mailbox message", err)
		return
	}
	m = one[0]
	s.render(w, r, http.StatusOK, "admin_mailbox_message.html", &Page{Title: m.Subject, Data: m})
}
