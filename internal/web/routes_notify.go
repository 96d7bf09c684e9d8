package web

import (
	"context"
	"net/http"

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
