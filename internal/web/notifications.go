package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
)

// listOptions reads ?unread=&cursor=&limit=.
func listOptions(r *http.Request) (notify.ListOptions, error) {
	q := r.URL.Query()
	opt := notify.ListOptions{Cursor: q.Get("cursor")}
	if v := q.Get("unread"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return opt, fmt.Errorf("unread must be true or false, got %q", v)
		}
		opt.UnreadOnly = b
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return opt, fmt.Errorf("limit must be a whole number from 1 to 100, got %q", v)
		}
		opt.Limit = n
		if n == 0 {
			return opt, fmt.Errorf("limit must be a whole number from 1 to 100, got %q", v)
		}
	}
	return opt, nil
}

func (s *Server) apiListNotifications(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	opt, err := listOptions(r)
	if err != nil {
		writeJSONError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	p, err := notify.List(r.Context(), s.DB.SQL, u.ID, opt)
	if errors.Is(err, notify.ErrInvalid) {
		writeJSONError(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "invalid: "))
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) apiInternal(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	writeJSONError(w, r, http.StatusInternalServerError, "internal error")
}

func (s *Server) apiGetUnreadCount(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	n, err := notify.UnreadCount(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"unread": n})
}

// idParam reads the {id} path value; ok is false when it is not a positive
// integer (answered as not found: there is no such notification).
func idParam(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (s *Server) apiMarkNotificationRead(w http.ResponseWriter, r *http.Request) {
	s.apiSetNotificationRead(w, r, true)
}

func (s *Server) apiMarkNotificationUnread(w http.ResponseWriter, r *http.Request) {
	s.apiSetNotificationRead(w, r, false)
}

func (s *Server) apiSetNotificationRead(w http.ResponseWriter, r *http.Request, read bool) {
	u := auth.UserFrom(r.Context())
	id, ok := idParam(r)
	if !ok {
		writeJSONError(w, r, http.StatusNotFound, "no such notification")
		return
	}
	n, err := notify.SetRead(r.Context(), s.DB.SQL, u.ID, id, read, s.Now())
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, r, http.StatusNotFound, "no such notification")
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	s.publish(u.ID)
	writeJSON(w, http.StatusOK, n)
}

// publish tells the user's other open pages that their badge changed.
func (s *Server) publish(userID int64) {
	if s.notify.Hub != nil {
		s.notify.Hub.Publish(userID)
	}
}

func (s *Server) apiMarkAllNotificationsRead(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	n, err := notify.MarkAllRead(r.Context(), s.DB.SQL, u.ID, s.Now())
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	s.publish(u.ID)
	writeJSON(w, http.StatusOK, map[string]int64{"marked": n})
}

func (s *Server) apiGetNotificationPrefs(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	prefs, err := notify.Prefs(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	digest, err := notify.DailyDigest(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"preferences": prefs, "daily_digest": digest})
}

func (s *Server) apiSetNotificationPrefs(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	var body struct {
		Email       map[notify.Type]bool `json:"email"`
		DailyDigest *bool                `json:"daily_digest"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || (body.Email == nil && body.DailyDigest == nil) {
		writeJSONError(w, r, http.StatusBadRequest, `body must be JSON like {"email": {"change.approved": false}, "daily_digest": true}: email maps a notification type to true or false, daily_digest is true or false; give at least one`)
		return
	}
	err := s.DB.Tx(r.Context(), func(tx *sqlTx) error {
		if body.DailyDigest != nil {
			if err := notify.SetDailyDigest(r.Context(), tx, u.ID, *body.DailyDigest, s.Now()); err != nil {
				return err
			}
		}
		return notify.SetPrefs(r.Context(), tx, u.ID, body.Email, s.Now())
	})
	if errors.Is(err, notify.ErrInvalid) {
		writeJSONError(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "invalid: "))
		return
	}
	if err != nil {
		s.apiInternal(w, r, err)
		return
	}
	s.apiGetNotificationPrefs(w, r)
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
	if errors.Is(err, notify.ErrInvalid) || (err != nil && !strings.Contains(err.Error(), "notifications")) {
		s.render(w, r, http.StatusBadRequest, "notfound.html", &Page{Title: "Bad request", Data: strings.TrimPrefix(err.Error(), "invalid: ")})
		return
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

// back redirects a form post to the page it came from, if that page is
// ours, else to fallback.
func back(w http.ResponseWriter, r *http.Request, fallback, flash string) {
	// One rule for every local redirect: "/\evil.example" is another
	// host to a browser, as "//evil.example" is.
	to := r.PostFormValue("next")
	if to == "" || safeReturn(to) != to {
		to = fallback
	}
	redirectWithFlash(w, r, to, flash)
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
		_, err := notify.SetRead(r.Context(), s.DB.SQL, u.ID, id, read, s.Now())
		ok = err == nil
	}
	if !ok {
		s.render(w, r, http.StatusNotFound, "notfound.html", &Page{Title: "Not found", Data: "There is no such notification."})
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
	n, err := notify.MarkAllRead(r.Context(), s.DB.SQL, u.ID, s.Now())
	if err != nil {
		s.serverFault(w, r, "mark all read", err)
		return
	}
	s.publish(u.ID)
	back(w, r, "/notifications", fmt.Sprintf("Marked %d notifications read.", n))
}

func (s *Server) pageShowNotificationPrefs(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	s.renderPrefs(w, r, u, http.StatusOK, nil, "")
}

func (s *Server) renderPrefs(w http.ResponseWriter, r *http.Request, u *auth.User, status int, errs map[string]string, flash string) {
	prefs, err := notify.Prefs(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.serverFault(w, r, "preferences page", err)
		return
	}
	digest, err := notify.DailyDigest(r.Context(), s.DB.SQL, u.ID)
	if err != nil {
		s.serverFault(w, r, "preferences page", err)
		return
	}
	s.render(w, r, status, "notification_prefs.html", &Page{Title: "Notification settings", Errors: errs, Flash: flash,
		Data: prefsData{Prefs: prefs, DailyDigest: digest}})
}

// prefsData is the notification settings page's content.
type prefsData struct {
	Prefs       []notify.Pref
	DailyDigest bool
}

// prefsForm saves the checkboxes: a checked box is email on. Every type
// is on the form, so an unchecked box means off.
func (s *Server) pageSaveNotificationPrefs(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		s.renderPrefs(w, r, u, http.StatusBadRequest, map[string]string{"email": "the form could not be read"}, "")
		return
	}
	email := map[notify.Type]bool{}
	for _, t := range notify.Types() {
		if notify.IsActionRequired(t) {
			continue
		}
		email[t] = r.PostForm.Get("email."+string(t)) != ""
	}
	digest := r.PostForm.Get("daily_digest") != ""
	err := s.DB.Tx(r.Context(), func(tx *sqlTx) error {
		if err := notify.SetDailyDigest(r.Context(), tx, u.ID, digest, s.Now()); err != nil {
			return err
		}
		return notify.SetPrefs(r.Context(), tx, u.ID, email, s.Now())
	})
	if errors.Is(err, notify.ErrInvalid) {
		s.renderPrefs(w, r, u, http.StatusBadRequest, map[string]string{"email": strings.TrimPrefix(err.Error(), "invalid: ")}, "")
		return
	}
	if err != nil {
		s.serverFault(w, r, "save preferences", err)
		return
	}
	redirectWithFlash(w, r, "/account/notifications", "Your email settings are saved.")
}

// sseHeartbeat keeps proxies from closing an idle stream.
const sseHeartbeat = 25 * time.Second
