package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// errNoNotification answers for an id that names none of the user's
// notifications.
var errNoNotification = problem.New(problem.NotFound, "There is no such notification.")

// listOptions reads ?unread=&cursor=&limit=.
func listOptions(r *http.Request) (notify.ListOptions, error) {
	q := r.URL.Query()
	opt := notify.ListOptions{Cursor: q.Get("cursor")}
	if v := q.Get("unread"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return opt, problem.Invalidf("unread", "must be true or false, got %q", v)
		}
		opt.UnreadOnly = b
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return opt, problem.Invalidf("limit", "must be a whole number from 1 to 100, got %q", v)
		}
		opt.Limit = n
		if n == 0 {
			return opt, problem.Invalidf("limit", "must be a whole number from 1 to 100, got %q", v)
		}
	}
	return opt, nil
}

// publish tells the user's other open pages that their badge changed.
func (s *Server) publish(userID int64) {
	if s.notify.Hub != nil {
		s.notify.Hub.Publish(userID)
	}
}

// inboxData is the notifications page's content.
type inboxData struct {
	Items      []notify.Notification
	UnreadOnly bool
	NextURL    string
}

func (s *Server) pageListNotifications(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	opt, err := listOptions(r)
	var p notify.Page
	if err == nil {
		p, err = notify.List(r.Context(), s.DB.SQL, u.ID, opt)
	}
	if err != nil {
		s.serverFault(w, r, "notifications page", err)
		return
	}
	d := inboxData{Items: p.Items, UnreadOnly: opt.UnreadOnly}
	if p.NextCursor != "" {
		v := url.Values{"cursor": {p.NextCursor}}
		if opt.UnreadOnly {
			v.Set("unread", "true")
		}
		d.NextURL = "/notifications?" + v.Encode()
	}
	s.render(w, r, http.StatusOK, "notifications.html", &Page{Title: "Notifications", Data: d})
}

func (s *Server) pageMarkNotificationRead(w http.ResponseWriter, r *http.Request) {
	s.pageSetNotificationRead(w, r, true)
}

func (s *Server) pageMarkNotificationUnread(w http.ResponseWriter, r *http.Request) {
	s.pageSetNotificationRead(w, r, false)
}

func (s *Server) pageSetNotificationRead(w http.ResponseWriter, r *http.Request, read bool) {
	u := auth.UserFrom(r.Context())
	id, ok := idParam(r)
	if ok {
		_, err := notify.SetRead(r.Context(), s.DB, u.ID, id, read, s.Now())
		ok = err == nil
	}
	if !ok {
		s.fail(w, r, errNoNotification)
		return
	}
	s.publish(u.ID)
	// Opening a notification's link marks it read and goes there.
	if read && r.PostFormValue("open") != "" {
		if n, err := notify.Get(r.Context(), s.DB.SQL, u.ID, id); err == nil && strings.HasPrefix(n.Link, "/") && !strings.HasPrefix(n.Link, "//") {
			http.Redirect(w, r, n.Link, http.StatusSeeOther)
			return
		}
	}
	back(w, r, "/notifications", "")
}

func (s *Server) pageMarkAllNotificationsRead(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	n, err := notify.MarkAllRead(r.Context(), s.DB, u.ID, s.Now())
	if err != nil {
		s.serverFault(w, r, "mark all read", err)
		return
	}
	s.publish(u.ID)
	back(w, r, "/notifications", fmt.Sprintf("Marked %d notifications read.", n))
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
