package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/notify"
)

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

// notifyRoutes registers the routes for the notification inbox, live updates, email preferences, the delivery log and email administration.
func (s *Server) notifyRoutes() {
	// Inbox API.
	s.handle("GET /api/v1/notifications", s.apiNotifications)
	s.handle("GET /api/v1/notifications/unread-count", s.apiUnreadCount)
	s.handle("POST /api/v1/notifications/{id}/read", s.apiMarkRead(true))
	s.handle("POST /api/v1/notifications/{id}/unread", s.apiMarkRead(false))
	s.handle("POST /api/v1/notifications/read-all", s.apiMarkAllRead)
	s.handle("GET /api/v1/notifications/preferences", s.apiPrefs)
	s.handle("PUT /api/v1/notifications/preferences", s.apiSetPrefs)
	// Live updates (server-sent events).
	s.handle("GET /events", s.events)
	// Inbox pages.
	s.handle("GET /notifications", s.notificationsPage)
	s.handle("POST /notifications/{id}/read", s.notificationFormRead(true))
	s.handle("POST /notifications/{id}/unread", s.notificationFormRead(false))
	s.handle("POST /notifications/read-all", s.notificationFormReadAll)
	s.handle("GET /account/notifications", s.prefsPage)
	s.handle("POST /account/notifications", s.prefsForm)
	// Email administration.
	s.handle("GET /api/v1/admin/emails", s.apiAdminEmails)
	s.handle("POST /api/v1/admin/emails/{id}/retry", s.apiAdminRetryEmail)
	s.handle("POST /api/v1/admin/emails/retry-failed", s.apiAdminRetryFailedEmails)
	s.handle("GET /admin/email/log", s.adminEmailLogPage)
	s.handle("POST /admin/email/log/{id}/retry", s.adminEmailRetryForm)
	s.handle("POST /admin/email/log/retry-failed", s.adminEmailRetryFailedForm)
	s.handle("GET /admin/email", s.adminEmailPage)
	s.handle("POST /admin/email/check", s.adminEmailCheck)
	s.handle("POST /admin/email/test", s.adminEmailTest)
	s.handle("GET /admin/mailbox", s.adminMailboxPage)
	s.handle("GET /admin/mailbox/{id}", s.adminMailboxMessage)

	s.pageFillers = append(s.pageFillers, s.fillUnreadCount)
}

// fillUnreadCount puts the signed-in user's unread count in the header
// badge of every page.
func (s *Server) fillUnreadCount(r *http.Request, p *Page) {
	if p.User == nil {
		return
	}
	n, err := s.unread.Count(r.Context(), s.DB.Prepared(), p.User.ID)
	if err != nil {
		s.Logger.WarnContext(r.Context(), "unread badge", "err", err)
		return
	}
	p.UnreadCount = n
}

// apiUser returns the signed-in caller, or answers 401 (JSON).
func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) *auth.User {
	u, _ := s.require(w, r, auth.ActionUseAccount)
	return u
}

// pageUser returns the signed-in caller, or sends them to sign in.
func (s *Server) pageUser(w http.ResponseWriter, r *http.Request) *auth.User {
	u, _ := s.require(w, r, auth.ActionUseAccount)
	return u
}

// apiAdmin and pageAdmin return the caller if allowed action (the email
// actions are the admin's), or answer 401/403.
func (s *Server) apiAdmin(w http.ResponseWriter, r *http.Request, a auth.Action) *auth.User {
	u, _ := s.require(w, r, a)
	return u
}

func (s *Server) pageAdmin(w http.ResponseWriter, r *http.Request, a auth.Action) *auth.User {
	u, _ := s.require(w, r, a)
	return u
}
