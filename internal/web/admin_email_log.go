package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail/devmail"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

func emailFilter(r *http.Request) (jobs.EmailFilter, error) {
	q := r.URL.Query()
	f := jobs.EmailFilter{Status: q.Get("status"), Limit: 50}
	if u := auth.UserFrom(r.Context()); !u.ManagesAllSites() {
		// A site admin sees the emails of the users they manage only.
		f.Scoped, f.SiteIDs = true, u.SiteIDs
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, problem.Invalidf("before", "must be an email id, got %q", v)
		}
		f.BeforeID = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return f, problem.Invalidf("limit", "must be a whole number from 1 to 200, got %q", v)
		}
		f.Limit = n
	}
	return f, nil
}

// retryEmail queues email id again, in problem's terms.
func (s *Server) retryEmail(ctx context.Context, id int64) error {
	if s.notify.Jobs == nil {
		return errNoQueue
	}
	if !s.emailInScope(ctx, id) {
		return problem.New(problem.NotFound, "There is no such email.")
	}
	err := s.notify.Jobs.RetryEmail(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return problem.New(problem.NotFound, "There is no such email.")
	case errors.Is(err, jobs.ErrNotRetryable):
		return &problem.Error{Kind: problem.Conflict, Message: err.Error(), Err: err}
	}
	return err
}

// emailInScope reports whether the signed-in admin manages email id's
// recipient (see jobs.EmailFilter.Scoped); an email out of scope is
// answered like one that does not exist.
func (s *Server) emailInScope(ctx context.Context, id int64) bool {
	admin := auth.UserFrom(ctx)
	if admin.ManagesAllSites() {
		return true
	}
	e, _, err := jobs.GetEmail(ctx, s.DB.SQL, id)
	if err != nil || e.UserID == 0 {
		return false
	}
	u, err := auth.UserByID(ctx, s.DB.SQL, e.UserID)
	return err == nil && admin.Covers(u)
}

// statusLabels are the delivery statuses as people read them.
var statusLabels = map[string]string{
	jobs.StatusQueued: "Queued", jobs.StatusSending: "Sending", jobs.StatusSent: "Sent", jobs.StatusRetrying: "Retrying",
	jobs.StatusWaitingConfig: "Waiting for configuration", jobs.StatusFailed: "Failed", jobs.StatusGivenUp: "Given up",
	jobs.StatusDigested: "Moved to the daily digest",
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
var errNoQueue = problem.New(problem.Unavailable, "the email queue is not running in this process")

func (s *Server) retryFailedEmails(ctx context.Context) (jobs.RetryResult, error) {
	if !auth.UserFrom(ctx).ManagesAllSites() {
		// Retry all reaches every site's emails.
		return jobs.RetryResult{}, problem.New(problem.Forbidden, "Only an administrator of all sites can retry every failed email; retry your sites' emails one by one.")
	}
	if s.notify.Jobs == nil {
		return jobs.RetryResult{}, errNoQueue
	}
	return s.notify.Jobs.RetryFailed(ctx)
}

func (s *Server) pageRetryFailedEmails(w http.ResponseWriter, r *http.Request) {
	res, err := s.retryFailedEmails(r.Context())
	switch {
	case problem.KindOf(err) == problem.Unavailable:
		back(w, r, "/admin/email/log", "Nothing was retried: "+err.Error()+".")
	case err != nil:
		s.serverFault(w, r, "retry failed emails", err)
	default:
		back(w, r, "/admin/email/log", retryFailedMessage(res))
	}
}

// retryFailedMessage says what "Retry all" did.
func retryFailedMessage(res jobs.RetryResult) string {
	if res.Requeued == 0 && res.WaitingRetried == 0 {
		return "Nothing to retry: no email is failed, given up or waiting for the email configuration."
	}
	var parts []string
	if res.Requeued > 0 {
		parts = append(parts, fmt.Sprintf("%d failed or given-up %s queued again with a fresh set of attempts", res.Requeued, plural(res.Requeued, "email", "emails")))
	}
	if res.WaitingRetried > 0 {
		parts = append(parts, fmt.Sprintf("%d %s waiting for the email configuration tried again now", res.WaitingRetried, plural(res.WaitingRetried, "email", "emails")))
	}
	msg := strings.Join(parts, "; ") + ". Sent emails are never sent again."
	// What Entra ID answered just now, not what it answered a minute ago,
	// and what it was not asked.
	switch {
	case res.TokenError != "":
		msg += " Microsoft Entra ID was asked again just now and still refuses the token, so the waiting emails will wait again: " + res.TokenError
	case res.TokenChecked:
		msg += " Microsoft Entra ID was asked again just now and issued a token."
	case res.TokenValid:
		msg += " Microsoft Entra ID was not asked: this server holds a token that is still valid, so the waiting emails did not wait on the token."
	}
	if res.WaitingOnGraph > 0 {
		msg += fmt.Sprintf(" %d of the waiting %s waited on Microsoft Graph's answer for the sender mailbox (permission, scope or mailbox), which only sending again shows: watch %s outcome below.",
			res.WaitingOnGraph, plural(int(res.WaitingOnGraph), "email", "emails"), plural(int(res.WaitingOnGraph), "its", "their"))
	}
	return msg
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
		s.fail(w, r, problem.New(problem.Invalid, fmt.Sprintf("Status must be one of %s; got %q.", strings.Join(labels, ", "), f.Status)))
		return
	}
	var list []jobs.EmailRecord
	if err == nil {
		list, err = jobs.ListEmails(r.Context(), s.DB.SQL, f)
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
		s.fail(w, r, problem.New(problem.NotFound, "There is no such email."))
		return
	}
	err := s.retryEmail(r.Context(), id)
	switch {
	case problem.KindOf(err) == problem.Conflict:
		back(w, r, "/admin/email/log", err.Error())
	case err != nil:
		s.serverFault(w, r, "retry email", err)
	default:
		back(w, r, "/admin/email/log", fmt.Sprintf("Email %d is queued again.", id))
	}
}
